// Package sim is the driver: it streams a trace through a checkpoint scheme, splitting
// accesses into pages, taking checkpoints on schedule, injecting failures and replaying
// the accesses each one undoes, checking every read and every recovery against an
// independent golden model (--verify), and counting everything in [Stats].
package sim
