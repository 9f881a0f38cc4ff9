// Package cost turns a run's counters into modeled time, and holds the one rule by which
// a run's overhead over its baseline is computed.
//
// A Model prices events: every field is the time of one event in nanoseconds or a
// bandwidth in bytes per second, each with its source (docs/counters.md, "Cost model").
// Model.Time splits a run's time into terms (Breakdown): the program's own time
// (accesses, cache misses, page walks, page faults, paging I/O), the checkpoints' (traps
// and re-protection, bytes moved on each channel at its bandwidth, background copies
// beyond the bandwidth the program leaves free, checkpoint writes, page-table pages,
// commit records, wrap sweeps, cache flushes) and recovery's (replayed accesses, bytes
// restored, restarts); the output-commit wait is reported beside the total, not in it.
// No scheme computes its own time: schemes report events on the common channels
// (sim.Stats), and this package prices them.
//
// # The overhead rule
//
// Overhead (and Compare, which also returns the two breakdowns) is the one overhead
// rule, used by vmsim run, sweep and reproduce:
//
//	overhead = Charge(run, baseline).Total / baseline.Total − 1
//
// where the baseline is scheme none on the same trace, machine, paging settings and cache
// (sweep.BaselineConfig), and Charge charges every term of the run at least the
// baseline's. The baseline takes no checkpoint and has no failure, so its checkpoint and
// recovery terms are 0, and the rule only affects the program's own terms: costs that
// checkpointing does not remove (first-touch faults, paging I/O, the program's own cache
// misses and page walks) are the same on both sides, whether or not the scheme models
// them. A scheme that models no paging (the memory-level schemes, remus, incremental,
// snaplog, cacheline, a scheme of another module) is charged the baseline's faults and
// paging I/O; one that pages (dualmap) is charged its own when they are more. So an
// overhead is never negative, and a run whose counters are the baseline's (none, with or
// without checkpoints) has an overhead of exactly 0.
package cost
