// Package scheme is the substrate every way of checkpointing memory is built on: the
// interface a scheme implements (Scheme), the runs of accesses it performs (Run), the machine
// it is built for (Machine), the channels every scheme reports on equal terms (Counters), and
// an open registry (Register, Lookup, All) through which the driver, the CLI and sweeps find
// schemes by name. A researcher adds a scheme by implementing Scheme and registering it from
// their own package; nothing in the core changes.
//
// Schemes come in two levels. A CPU-level scheme (LevelCPU: none, dualmap) sees every access
// of the program, as the MMU does. A memory-level scheme (LevelMemory: the strategies of a
// memory or cache controller) sees the traffic that reaches memory: with a cache
// (--cache-size > 0) the lines the cache fills and writes back, and a checkpoint is preceded
// by a cache flush; without one, every access.
//
// A scheme writes one access loop: Access performs a run of accesses in order, calling the
// run's Verify hook after each when the run verifies, and returns how many it performed
// (fewer when it asked for a checkpoint). The only optional interface is IOAware.
//
// Data: when the run verifies (--verify), the driver reads and writes each scheme's memory
// through one page-image accessor, Image: the stamps of a page, one per block of
// Machine.VerifyBlock bytes, in place. It writes every write's stamp there, and checks
// every read against its golden model. A scheme's recovery is right when, after Rollback
// or Crash, every block reads what it held at the domain's last checkpoint.
package scheme
