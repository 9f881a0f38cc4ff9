// Package schemetest is for the tests of schemes, vmsim's own and those of other modules.
// Conformance is the suite every scheme should pass: runs of many accesses count as runs
// of one do, its Check holds after every event, --verify finds nothing under transient
// failures and crashes, and a scheme that recovers nothing would be caught. The helpers
// make random traces, read the head of a real trace (when the developers' traces folder
// is beside the repository) and run a configuration through the driver.
package schemetest
