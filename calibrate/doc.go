// Package calibrate measures this machine's costs, the primitives vmsim's cost model
// prices, and writes them to a cost file (`vmsim calibrate`).
//
// The measurements are made by a small C program, probe.c, compiled with gcc (or cc)
// into a private directory (ProbeRunner): traps and faults have to be taken by a plain
// process, where Go's runtime (its own SIGSEGV handling, its garbage collector, its
// threads) would get in the way. Each probe run prints what it counted and how long it
// took (CLOCK_MONOTONIC); Measure runs each probe Options.Repeats times through a Runner
// and does the arithmetic, so that a fake Runner tests the arithmetic and the file format
// without timing anything.
//
// # The values, and the sim.CostModel fields they are meant for
//
// Linking these values to sim.CostModel is another step's work; this is what each is
// measured to stand for (sim/cost.go names the fields):
//
//	page_copy_bytes_per_sec  B/s  4 KiB memcpy over 64 MiB, memory to memory.
//	                              → CopyBytesPerSec; also LogBytesPerSec and
//	                              RecoveryBytesPerSec (memory-to-memory by default) and
//	                              CacheFlushLineNs (64 bytes at this bandwidth).
//	minor_fault_ns           ns   the first write to a fresh anonymous page.
//	                              → TrapNs as the price of a page fault not served from
//	                              disk (page_faults), the part of TrapNs that prices
//	                              first touches.
//	wp_trap_ns               ns   a write to a write-protected page: SIGSEGV, a handler
//	                              mprotecting the page writable, the write retried.
//	                              → TrapNs as the price of a protection event (traps:
//	                              the first write of a page since its checkpoint, as
//	                              remus and incremental count them), the cost the C
//	                              library's wp mechanism pays per trap.
//	mprotect_ns              ns   one mprotect of one page. → no field yet: the
//	                              per-checkpoint cost of re-protecting (the planned
//	                              per-checkpoint fixed costs; the wp mechanism makes one
//	                              call per non-empty checkpoint).
//	durable_write_ns         ns   a 4 KiB write at a random offset and fdatasync.
//	                              → DiskWriteNs; also PTPageWriteNs and CommitNs (each a
//	                              page written durably by default).
//	disk_read_ns             ns   a 4 KiB O_DIRECT read at a random offset.
//	                              → DiskReadNs (left out, with a note, where the file
//	                              system refuses O_DIRECT).
//	cache_miss_ns            ns   a dependent load missing the caches less one hitting
//	                              L1. → no field yet: the planned fill latency of a
//	                              cache miss (AccessNs today includes the program's
//	                              own misses).
//	page_walk_ns             ns   a dependent load one line a page less the same packed
//	                              64 lines a page: a TLB miss's page walk.
//	                              → PageWalkNs.
//
// StorageBytesPerSec, BackupBytesPerSec, AccessNs and SweepPageNs are not measured here.
//
// # The cost file
//
// JSON (File): "format" ("vmsim-calibration/1"), "machine" (CPU model from /proc/cpuinfo,
// CPUs, kernel, architecture, page size, load averages at the start, date in UTC, the
// file system of the disk probe's directory), "repeats", "values" (each with "name",
// "unit", "median", "spread" = interquartile range over the median, every run's value in
// "samples", and a "description"), and "notes" on what limits a value on this machine.
// Read checks a file.
package calibrate
