package cost

import (
	"fmt"
	"reflect"
	"strings"
)

// Model turns a run's counters into modeled time. Every field is a time in nanoseconds
// for one event, except the bandwidths (…BytesPerSec). docs/counters.md gives each
// field's source; vmsim calibrate measures this machine's (package calibrate).
//
// The defaults were measured on the machine vmsim was developed on (AMD EPYC, 2 cores,
// Linux, an SSD-backed virtual disk; 2026-11-22) unless a field says otherwise.
type Model struct {
	// AccessNs is the time of one memory access of the program, computation included,
	// that the cache serves: the program's native run time divided by its traced
	// accesses. Measured: the corpus's stencil ran natively in 4.5 ms for 9.8 M traced
	// accesses (0.46 ns) and gzip in 1.24 ms for 1.94 M (0.64 ns), 50 runs each; 0.5 ns.
	AccessNs float64 `json:"access_ns" yaml:"access_ns"`
	// CacheMissNs is the fill latency of a cache miss (cache_misses), on top of its
	// access; 0 misses without a cache model. Default: a DRAM access, "< 100 ns"
	// (Intel, Architecture Day, Dec. 2018); vmsim calibrate measures it (cache_miss_ns).
	CacheMissNs float64 `json:"cache_miss_ns" yaml:"cache_miss_ns"`
	// PageWalkNs is the time of one page-table walk after a TLB miss (tlb_misses).
	// Measured: BenchmarkMachinePageWalk, a chain of dependent loads over 16,384 lines one
	// to a page (38 ns a load) less the same chain packed 64 lines to a page (6 ns):
	// 32 ns, on an Intel Xeon virtual machine (2026-11-23).
	PageWalkNs float64 `json:"page_walk_ns" yaml:"page_walk_ns"`
	// FaultNs is the time of a page fault not served from disk (page_faults): a trap, a
	// zero fill or a page still in memory mapped. Measured: BenchmarkMachinePageFault, a
	// minor fault on fresh anonymous memory, 2.1 µs.
	FaultNs float64 `json:"fault_ns" yaml:"fault_ns"`
	// TrapNs is the time of a trap taken for checkpointing (traps: a write-protection
	// fault, the first write of a page since its checkpoint) and of a remap, with a short
	// handler. Default: the minor fault's 2.1 µs (FaultNs); vmsim calibrate measures the
	// write-protection trap itself (wp_trap_ns).
	TrapNs float64 `json:"trap_ns" yaml:"trap_ns"`
	// MprotectNs is the time to write-protect one page again at a checkpoint: every page
	// a trap unprotected is protected again before the next interval (traps ×
	// MprotectNs). Default: trap_ns's 2.1 µs, since vmsim calibrate measured an mprotect
	// of one page within 5% of a write-protection trap (72 µs and 69 µs, on the 2-core
	// development machine under load, 2026-12-02).
	MprotectNs float64 `json:"mprotect_ns" yaml:"mprotect_ns"`
	// CopyBytesPerSec is the memory copy bandwidth: a copy of P bytes takes
	// P/CopyBytesPerSec; it is also the memory bandwidth a background copier shares with
	// the program. Measured: BenchmarkMachinePageCopy, 4 KiB copies over 64 MiB, 6.5 GB/s
	// (0.6 µs a page).
	CopyBytesPerSec float64 `json:"copy_bytes_per_sec" yaml:"copy_bytes_per_sec"`
	// DiskReadNs is the time to read one page from disk. Measured:
	// BenchmarkMachineDiskRead, 4 KiB random reads with O_DIRECT, 76 µs.
	DiskReadNs float64 `json:"disk_read_ns" yaml:"disk_read_ns"`
	// DiskWriteNs is the time to write one page to disk durably (a page written back, a
	// page a volatile checkpoint saves). Measured: BenchmarkMachineDiskWriteSync, a 4 KiB
	// random write and fdatasync, 165 µs.
	DiskWriteNs float64 `json:"disk_write_ns" yaml:"disk_write_ns"`
	// PTPageWriteNs is the time to write one page-table page to disk; by default a page
	// write (DiskWriteNs).
	PTPageWriteNs float64 `json:"pt_page_write_ns" yaml:"pt_page_write_ns"`
	// CommitNs is the time to write a checkpoint's commit record durably; by default a
	// page write (DiskWriteNs).
	CommitNs float64 `json:"commit_ns" yaml:"commit_ns"`
	// SweepPageNs is the time a wrap sweep spends on each page it visits (a PTE read and
	// rewritten: two accesses, 2 × AccessNs by default). A sweep visits every page
	// touched so far; the model charges pages_touched pages per sweep, an upper bound.
	SweepPageNs float64 `json:"sweep_page_ns" yaml:"sweep_page_ns"`
	// LogBytesPerSec is the bandwidth of writing a log in memory (bytes_logged). A log
	// append is a memory-to-memory copy; by default the measured copy bandwidth.
	LogBytesPerSec float64 `json:"log_bytes_per_sec" yaml:"log_bytes_per_sec"`
	// StorageBytesPerSec is the bandwidth of streaming checkpoint data to stable storage
	// (bytes_to_storage, less what is already charged as page writes). Measured: 256 MiB
	// written with O_DIRECT in 1 MiB requests and fdatasync, with dd on an Intel Xeon
	// virtual machine's disk (2026-11-23), 1.2 GB/s (median of 3).
	StorageBytesPerSec float64 `json:"storage_bytes_per_sec" yaml:"storage_bytes_per_sec"`
	// BackupBytesPerSec is the bandwidth of the link to a backup machine
	// (bytes_to_backup): 10 Gb/s Ethernet (IEEE 802.3ae), 1.25 GB/s.
	BackupBytesPerSec float64 `json:"backup_bytes_per_sec" yaml:"backup_bytes_per_sec"`
	// RecoveryBytesPerSec is the bandwidth at which recovery moves data (recovery_bytes):
	// memory to memory by default, the measured copy bandwidth.
	RecoveryBytesPerSec float64 `json:"recovery_bytes_per_sec" yaml:"recovery_bytes_per_sec"`
	// CacheFlushLineNs is the time a checkpoint's cache flush spends on each line it
	// writes back (cache_flush_lines): one 64-byte line at the copy bandwidth, 9.8 ns.
	CacheFlushLineNs float64 `json:"cache_flush_line_ns" yaml:"cache_flush_line_ns"`
	// RestartNs is the fixed time of restarting after a failure (each rollback, and each
	// crash with volatile memory), on top of the bytes restored and the accesses
	// replayed. Default: one trap (2.1 µs), the entry of the failure's handler: a lower
	// bound; a crash that reboots a machine takes seconds.
	RestartNs float64 `json:"restart_ns" yaml:"restart_ns"`
}

// Default returns the model of the documented defaults.
func Default() Model {
	return Model{
		AccessNs:            0.5,
		CacheMissNs:         100,
		PageWalkNs:          32,
		FaultNs:             2100,
		TrapNs:              2100,
		MprotectNs:          2100,
		CopyBytesPerSec:     6.5e9,
		DiskReadNs:          76_000,
		DiskWriteNs:         165_000,
		PTPageWriteNs:       165_000,
		CommitNs:            165_000,
		SweepPageNs:         1.0,
		LogBytesPerSec:      6.5e9,
		StorageBytesPerSec:  1.2e9,
		BackupBytesPerSec:   1.25e9,
		RecoveryBytesPerSec: 6.5e9,
		CacheFlushLineNs:    64 / 6.5e9 * 1e9,
		RestartNs:           2100,
	}
}

// Keys returns the JSON keys of Model's fields, in their order.
func Keys() []string {
	t := reflect.TypeFor[Model]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return keys
}

// Values returns the model's values by JSON key.
func (m Model) Values() map[string]float64 {
	v := reflect.ValueOf(m)
	out := map[string]float64{}
	for i, k := range Keys() {
		out[k] = v.Field(i).Float()
	}
	return out
}

// Set sets the field of JSON key k to v; an unknown key is an error.
func (m *Model) Set(k string, v float64) error {
	i := indexOf(k)
	if i < 0 {
		return fmt.Errorf("unknown cost key %q: want one of %s", k, strings.Join(Keys(), ", "))
	}
	reflect.ValueOf(m).Elem().Field(i).SetFloat(v)
	return nil
}

func indexOf(k string) int {
	for i, key := range Keys() {
		if key == k {
			return i
		}
	}
	return -1
}

// The bounds of a cost: beyond them the model's sums over counts of up to 2^63 could
// overflow to +Inf (a time of 1e308 ns, a bandwidth of 1e-300 B/s), and an overhead would
// read +Inf or NaN.
const (
	MaxTimeNs      = 1e15 // 11.6 days an event
	MinBytesPerSec = 1.0
	MaxBytesPerSec = 1e18
)

// Validate checks that every time is from 0 to MaxTimeNs, access_ns above 0, and every
// bandwidth from MinBytesPerSec to MaxBytesPerSec (NaN is neither).
func (m Model) Validate() error {
	vals := m.Values()
	for _, k := range Keys() {
		v := vals[k]
		if strings.HasSuffix(k, "_bytes_per_sec") {
			if !(v >= MinBytesPerSec && v <= MaxBytesPerSec) {
				return fmt.Errorf("cost %s = %v: want a bandwidth from %g to %g bytes a second", k, v, MinBytesPerSec, MaxBytesPerSec)
			}
		} else if !(v >= 0 && v <= MaxTimeNs) {
			return fmt.Errorf("cost %s = %v: want a time from 0 to %g ns (11.6 days)", k, v, MaxTimeNs)
		}
	}
	if !(m.AccessNs > 0) {
		// Else a baseline could take no time, and an overhead over it mean nothing.
		return fmt.Errorf("cost access_ns = %v: want a time above 0 (the baseline's modeled time, an overhead's denominator, is at least the accesses')", m.AccessNs)
	}
	return nil
}

// Set is a named model: the cost set a result was computed with, which every output
// records (name and values), so that results of different costs never look alike.
type Set struct {
	// Name says where the values come from: "default", a cost file's name, with
	// " (modified)" when values were set on top of it.
	Name  string `json:"name"`
	Model Model  `json:"values"`
}

// DefaultSet is the set of the defaults, named "default".
func DefaultSet() Set { return Set{Name: "default", Model: Default()} }
