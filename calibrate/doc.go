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
// # The values, and the cost.Model fields they set
//
// File.Model (and LoadCosts, which reads the file that `vmsim run`, `sweep` and
// `reproduce` take with --cost FILE) sets the fields of cost.Model from the medians, as
// follows; a value of a name it does not know is an error.
//
//	page_copy_bytes_per_sec  B/s  4 KiB memcpy over 64 MiB, memory to memory.
//	                              → CopyBytesPerSec; also LogBytesPerSec and
//	                              RecoveryBytesPerSec (memory-to-memory by default) and
//	                              CacheFlushLineNs (64 bytes at this bandwidth).
//	minor_fault_ns           ns   the first write to a fresh anonymous page.
//	                              → FaultNs, the price of a page fault not served from
//	                              disk (page_faults).
//	wp_trap_ns               ns   a write to a write-protected page: SIGSEGV, a handler
//	                              mprotecting the page writable, the write retried.
//	                              → TrapNs, the price of a protection event (traps:
//	                              the first write of a page since its checkpoint, as
//	                              remus and incremental count them), the cost the C
//	                              library's wp mechanism pays per trap; also RestartNs
//	                              (a failure's handler entered).
//	mprotect_ns              ns   one mprotect of one page. → MprotectNs: a
//	                              checkpoint write-protects again every page a trap
//	                              unprotected (traps × MprotectNs).
//	durable_write_ns         ns   a 4 KiB write at a random offset and fdatasync.
//	                              → DiskWriteNs; also PTPageWriteNs and CommitNs (each a
//	                              page written durably by default).
//	disk_read_ns             ns   a 4 KiB O_DIRECT read at a random offset.
//	                              → DiskReadNs (left out, with a note, where the file
//	                              system refuses O_DIRECT).
//	cache_miss_ns            ns   a dependent load missing the caches less one hitting
//	                              L1. → CacheMissNs, the fill latency of a cache miss
//	                              (cache_misses).
//	page_walk_ns             ns   a dependent load one line a page less the same packed
//	                              64 lines a page: a TLB miss's page walk.
//	                              → PageWalkNs.
//	                              (cache_miss_ns and page_walk_ns, differences of two
//	                              timings, are left out, with a note, when their median
//	                              is at or below 0.)
//
// StorageBytesPerSec, BackupBytesPerSec, AccessNs and SweepPageNs are not measured here:
// they keep their defaults (cost.Default).
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
