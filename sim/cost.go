package sim

import (
	"fmt"
	"math"
)

// CostModel turns a run's counters into modeled time. Every field is a time in
// nanoseconds for one event, except CopyBytesPerSec.
//
// The defaults were measured on the machine vmsim was developed on (AMD EPYC, 2 cores,
// Linux, an SSD-backed virtual disk; 2026-11-22); rerun the Machine benchmarks
// (go test -run XXX -bench Machine ./sim/) to measure yours, and override any of them
// with flags or a file.
type CostModel struct {
	// AccessNs is the time of one memory access of the program, computation included:
	// the program's native run time divided by its traced accesses. Measured: the
	// corpus's stencil ran natively in 4.5 ms for 9.8 M traced accesses (0.46 ns) and
	// gzip in 1.24 ms for 1.94 M (0.64 ns), 50 runs each; 0.5 ns.
	AccessNs float64 `json:"access_ns" yaml:"access_ns"`
	// CopyBytesPerSec is the memory copy bandwidth a page copy runs at: a copy of a page
	// of P bytes takes P/CopyBytesPerSec. Measured: BenchmarkMachinePageCopy, 4 KiB
	// copies over 64 MiB, 6.5 GB/s (0.6 µs a page).
	CopyBytesPerSec float64 `json:"copy_bytes_per_sec" yaml:"copy_bytes_per_sec"`
	// TrapNs is the time of a trap into the kernel and back with a short handler: the
	// cost of a page fault not served from disk (zero fill, or a page still in memory),
	// of a protection event (the first write of a page since its checkpoint), and of a
	// remap. Measured: BenchmarkMachinePageFault, a minor fault on fresh anonymous
	// memory, 2.1 µs (this machine is a virtual machine; bare metal is nearer 0.5–1 µs).
	TrapNs float64 `json:"trap_ns" yaml:"trap_ns"`
	// DiskReadNs is the time to read one page from disk. Measured: BenchmarkMachineDiskRead,
	// 4 KiB random reads with O_DIRECT, 76 µs.
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
	// append is a memory-to-memory copy; by default the measured copy bandwidth (6.5 GB/s).
	LogBytesPerSec float64 `json:"log_bytes_per_sec" yaml:"log_bytes_per_sec"`
	// StorageBytesPerSec is the bandwidth of streaming checkpoint data to stable storage
	// (bytes_to_storage, less what is already charged as page writes of the paging disk).
	// Measured: 256 MiB written with O_DIRECT in 1 MiB requests and fdatasync, with dd on an Intel Xeon
	// virtual machine's disk (2026-11-23), 1.2 GB/s (median of 3).
	StorageBytesPerSec float64 `json:"storage_bytes_per_sec" yaml:"storage_bytes_per_sec"`
	// BackupBytesPerSec is the bandwidth of the link to a backup machine (bytes_to_backup):
	// 10 Gb/s Ethernet (IEEE 802.3ae), 1.25 GB/s, a link of the class replication systems
	// such as Remus are evaluated on today (the Remus paper, NSDI 2008, used 1 Gb/s).
	BackupBytesPerSec float64 `json:"backup_bytes_per_sec" yaml:"backup_bytes_per_sec"`
	// RecoveryBytesPerSec is the bandwidth at which recovery moves data (recovery_bytes):
	// memory to memory by default, the measured copy bandwidth (6.5 GB/s).
	RecoveryBytesPerSec float64 `json:"recovery_bytes_per_sec" yaml:"recovery_bytes_per_sec"`
	// CacheFlushLineNs is the time a checkpoint's cache flush spends on each line it writes
	// back (cache_flush_lines): one 64-byte line at the copy bandwidth, 9.8 ns. Write-backs
	// on eviction are part of the program's own time (AccessNs) and are not charged.
	CacheFlushLineNs float64 `json:"cache_flush_line_ns" yaml:"cache_flush_line_ns"`
	// PageWalkNs is the time of one page-table walk after a TLB miss (tlb_misses). Measured:
	// BenchmarkMachinePageWalk, a chain of dependent loads over 16,384 lines one to a page
	// (38 ns a load) less the same chain packed 64 lines to a page (6 ns): 32 ns, on an
	// Intel Xeon virtual machine (2026-11-23).
	PageWalkNs float64 `json:"page_walk_ns" yaml:"page_walk_ns"`
}

// DefaultCostModel returns the measured defaults documented on CostModel.
func DefaultCostModel() CostModel {
	return CostModel{
		AccessNs:        0.5,
		CopyBytesPerSec: 6.5e9,
		TrapNs:          2100,
		DiskReadNs:      76_000,
		DiskWriteNs:     165_000,
		PTPageWriteNs:   165_000,
		CommitNs:        165_000,
		SweepPageNs:     1.0,

		LogBytesPerSec:      6.5e9,
		StorageBytesPerSec:  1.2e9,
		BackupBytesPerSec:   1.25e9,
		RecoveryBytesPerSec: 6.5e9,
		CacheFlushLineNs:    64 / 6.5e9 * 1e9,
		PageWalkNs:          32,
	}
}

// Validate checks that every cost is finite and not negative, and the bandwidth positive.
func (c CostModel) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"access_ns", c.AccessNs}, {"trap_ns", c.TrapNs}, {"disk_read_ns", c.DiskReadNs},
		{"disk_write_ns", c.DiskWriteNs}, {"pt_page_write_ns", c.PTPageWriteNs},
		{"commit_ns", c.CommitNs}, {"sweep_page_ns", c.SweepPageNs}, {"cache_flush_line_ns", c.CacheFlushLineNs}, {"page_walk_ns", c.PageWalkNs},
	} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("cost %s = %v: want a finite time of 0 or more", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"copy_bytes_per_sec", c.CopyBytesPerSec}, {"log_bytes_per_sec", c.LogBytesPerSec},
		{"storage_bytes_per_sec", c.StorageBytesPerSec}, {"backup_bytes_per_sec", c.BackupBytesPerSec},
		{"recovery_bytes_per_sec", c.RecoveryBytesPerSec},
	} {
		if !(f.v > 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("cost %s = %v: want a finite bandwidth above 0", f.name, f.v)
		}
	}
	return nil
}

// Cost is a run's modeled time, split by what it was spent on (nanoseconds).
type Cost struct {
	Accesses   float64 `json:"accesses_ns"`    // (refs + replayed_refs) × access_ns
	Traps      float64 `json:"traps_ns"`       // (traps + remaps) × trap_ns
	Copies     float64 `json:"copies_ns"`      // bytes_copied / copy_bytes_per_sec
	Faults     float64 `json:"faults_ns"`      // page_faults × trap_ns
	DiskReads  float64 `json:"disk_reads_ns"`  // disk_reads × disk_read_ns
	DiskWrites float64 `json:"disk_writes_ns"` // disk_writes × disk_write_ns
	PTPages    float64 `json:"pt_pages_ns"`    // pt_pages_written × pt_page_write_ns
	Commits    float64 `json:"commits_ns"`     // commit_writes × commit_ns
	Sweeps     float64 `json:"sweeps_ns"`      // wrap_sweeps × pages_touched × sweep_page_ns
	Log        float64 `json:"log_ns"`         // bytes_logged / log_bytes_per_sec
	// Storage is (bytes_to_storage − (checkpoint_disk_writes + pt_pages_written +
	// commit_writes) × page_size) / storage_bytes_per_sec: checkpoint data streamed to
	// storage, less the page writes to the paging disk charged per write above.
	Storage  float64 `json:"storage_ns"`
	Backup   float64 `json:"backup_ns"`      // bytes_to_backup / backup_bytes_per_sec
	Recovery float64 `json:"recovery_ns"`    // recovery_bytes / recovery_bytes_per_sec
	Flushes  float64 `json:"cache_flush_ns"` // cache_flush_lines × cache_flush_line_ns
	Walks    float64 `json:"page_walks_ns"`  // tlb_misses × page_walk_ns
	Total    float64 `json:"total_ns"`       // the sum of the above
}

// Time returns the modeled time of a run with these counters and page size.
func (c CostModel) Time(s Stats, pageSize uint64) Cost {
	t := Cost{
		Accesses:   float64(s.Refs+s.ReplayedRefs) * c.AccessNs,
		Traps:      float64(s.Traps+s.Remaps) * c.TrapNs,
		Copies:     perSec(s.BytesCopied, c.CopyBytesPerSec),
		Faults:     float64(s.PageFaults) * c.TrapNs,
		DiskReads:  float64(s.DiskReads) * c.DiskReadNs,
		DiskWrites: float64(s.DiskWrites) * c.DiskWriteNs,
		PTPages:    float64(s.PTPagesWritten) * c.PTPageWriteNs,
		Commits:    float64(s.CommitWrites) * c.CommitNs,
		Sweeps:     float64(s.WrapSweeps) * float64(s.PagesTouched) * c.SweepPageNs,
		Log:        perSec(s.BytesLogged, c.LogBytesPerSec),
		Backup:     perSec(s.BytesToBackup, c.BackupBytesPerSec),
		Recovery:   perSec(s.RecoveryBytes, c.RecoveryBytesPerSec),
		Flushes:    float64(s.CacheFlushLines) * c.CacheFlushLineNs,
		Walks:      float64(s.TLBMisses) * c.PageWalkNs,
	}
	paged := (s.CheckpointDiskWrites + s.PTPagesWritten + s.CommitWrites) * int64(pageSize)
	t.Storage = perSec(max(0, s.BytesToStorage-paged), c.StorageBytesPerSec)
	t.Total = t.Accesses + t.Traps + t.Copies + t.Faults + t.DiskReads + t.DiskWrites + t.PTPages + t.Commits + t.Sweeps +
		t.Log + t.Storage + t.Backup + t.Recovery + t.Flushes + t.Walks
	return t
}

// perSec returns the nanoseconds that bytes take at bw bytes per second; no bytes take no
// time whatever the bandwidth.
func perSec(bytes int64, bw float64) float64 {
	if bytes == 0 {
		return 0
	}
	return float64(bytes) / bw * 1e9
}

// Overhead is the modeled time of a scheme over that of the baseline (scheme none, same
// trace and settings), minus one: 0.05 means 5% slower.
func Overhead(scheme, baseline Cost) float64 {
	if baseline.Total == 0 {
		return 0
	}
	return scheme.Total/baseline.Total - 1
}
