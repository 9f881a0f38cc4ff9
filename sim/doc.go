// Package sim is the driver: it streams a trace through a checkpoint scheme, splitting
// accesses into pages, taking checkpoints on schedule, injecting failures and replaying
// the accesses each one undoes, checking every read and every recovery against an
// independent golden model (--verify), and counting everything in [Stats].
//
// The driver is a runner (runner.go) composed of rooms, each a type that owns its fields,
// writes its invariants on them and checks them from scratch in its Check:
//
//   - run set-up and options (run.go, config.go, config_derived.go): RunWith builds the
//     runner and its rooms from a Config and Options;
//   - the loop and its event tail (loop.go): one loop hands the trace's accesses to the
//     scheme's one access method in runs with no event between them (one access a run
//     when something looks at every access: a cache or TLB model, --ignore-size,
//     --replace opt, --scope asid, --check), then the events due after the run (tail): a
//     failure, the domain's
//     checkpoint, the checkpoints the scheme asked for, the end of the warm-up, the end of
//     an interval of Options.StatsEvery; and the trace's control records;
//   - the window of the trace (window.go): the reader of every pass over the trace
//     reads past --skip's accesses and ends after --max-refs';
//   - the statistics per interval (periodic.go, Options.StatsEvery);
//   - the checkpoint domains (domains.go);
//   - the replay buffer and replay (replay.go);
//   - failures and recovery (failures.go);
//   - I/O records and their counts (io.go);
//   - the cache and TLB hierarchy and the memory behind the cache (hierarchy.go), with
//     --cores above 1 the cores' private caches kept coherent and the scheduler that
//     gives each access its core (multicore.go, docs/coherence.md section 9);
//   - verification with the golden model (verify.go, golden.go);
//   - statistics: the driver's own counts, the warm-up snapshot, and the gathering of
//     every room's counts into Stats (tally.go, stats.go, own.go).
//
// With Options.CheckEvery (`vmsim run --check`) the runner calls the scheme's Check and
// every room's after every event (access, I/O record, checkpoint, failure, recovery,
// replayed record), then the invariants that join rooms (runner.checkJoins), and stops
// at the first one broken with an error naming the event and the access number.
package sim
