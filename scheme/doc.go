// Package scheme is the substrate every way of checkpointing memory is built on: the
// interface a scheme implements (Scheme), what it sees of each access (Access), the machine
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
// Data: when the run verifies (--verify), the driver tells each scheme what every write
// stores, as a stamp per block of Machine.VerifyBlock bytes (Store), and asks it what blocks
// hold (Load). A scheme's recovery is right when, after Rollback or Crash, every block Loads
// what it held at the domain's last checkpoint.
package scheme
