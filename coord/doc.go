// Package coord runs coordinated checkpoint schemes on vmsim's multi-core machine
// (package coherence: private write-back caches kept coherent by an MSI directory), with
// failures, rollbacks and replays, and verifies that every recovery is consistent
// (docs/coordinated.md).
//
// Both schemes sit behind the caches, at the memory controller, as memctl's undo does
// behind the one cache: the first write-back of a line to memory in a checkpoint interval
// logs the line's old content, a checkpoint commits the log, a rollback undoes it in
// reverse. They differ in who checkpoints and who rolls back together:
//
//   - global (ReVive, SafetyNet): every Interval accesses of all cores, every core writes
//     back its dirty lines at a barrier and the log is committed; a failure rolls every
//     core back to the last global checkpoint;
//   - rebound (Agarwal et al., ISCA'11): each core's interval counts its own accesses,
//     and each core keeps its producers: the cores whose data, written in their current
//     interval, it has read or overwritten, seen through the directory (a downgrade or an
//     invalidation of a modified copy) and through memory (the controller keeps each
//     line's last writer and its interval, as Rebound's directory keeps LW-ID). A core's
//     checkpoint takes its producers along, transitively; a failed core's rollback takes
//     its consumers along, transitively, and no other core. A dirty line that moves from
//     core to core on a write miss is written to memory as it moves, logged as its old
//     owner's, so that a rollback of the new owner alone restores the old owner's data.
//
// Run is the engine: it reads a trace, maps each access to a core (package schedule),
// makes one reference per cache line it covers, takes the scheme's checkpoints, injects
// failures (Config.FailAt, Config.MTBF), rolls back, and replays the rolled-back cores'
// accesses since their checkpoints from a buffer that holds the accesses since the
// oldest uncommitted one (bounded by the interval, or rebound's MaxAge), so memory does
// not grow with the trace's length. Config.Verify checks every read against a golden
// model written apart from the schemes, and after every rollback that no core left
// running holds or has read a value a rolled-back access wrote (an orphan).
//
// Stats hold the counters (Counters, declared with their keys and definitions as the
// project declares counters) and a modeled time, per core and for the run; Overhead
// compares a run with its Config.Baseline.
package coord
