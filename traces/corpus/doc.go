// Package corpus is vmsim's bundled trace corpus: real programs recorded with
// `vmsim record` into vmt files, embedded in the binary so that `vmsim reproduce` runs
// the same experiment from any checkout. MANIFEST.json describes each trace; record.sh
// re-records them.
package corpus
