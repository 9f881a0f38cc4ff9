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
		{"commit_ns", c.CommitNs}, {"sweep_page_ns", c.SweepPageNs},
	} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("cost %s = %v: want a finite time of 0 or more", f.name, f.v)
		}
	}
	if !(c.CopyBytesPerSec > 0) || math.IsInf(c.CopyBytesPerSec, 0) {
		return fmt.Errorf("cost copy_bytes_per_sec = %v: want a finite bandwidth above 0", c.CopyBytesPerSec)
	}
	return nil
}

// Cost is a run's modeled time, split by what it was spent on (nanoseconds).
type Cost struct {
	Accesses   float64 `json:"accesses_ns"`    // (refs + replayed_refs) × access_ns
	Traps      float64 `json:"traps_ns"`       // (first_writes + remaps) × trap_ns
	Copies     float64 `json:"copies_ns"`      // page_copies × page_size / copy_bytes_per_sec
	Faults     float64 `json:"faults_ns"`      // page_faults × trap_ns
	DiskReads  float64 `json:"disk_reads_ns"`  // disk_reads × disk_read_ns
	DiskWrites float64 `json:"disk_writes_ns"` // disk_writes × disk_write_ns
	PTPages    float64 `json:"pt_pages_ns"`    // pt_pages_written × pt_page_write_ns
	Commits    float64 `json:"commits_ns"`     // commit_writes × commit_ns
	Sweeps     float64 `json:"sweeps_ns"`      // wrap_sweeps × pages_touched × sweep_page_ns
	Total      float64 `json:"total_ns"`       // the sum of the above
}

// Time returns the modeled time of a run with these counters and page size.
func (c CostModel) Time(s Stats, pageSize uint64) Cost {
	t := Cost{
		Accesses:   float64(s.Refs+s.ReplayedRefs) * c.AccessNs,
		Traps:      float64(s.FirstWrites+s.Remaps) * c.TrapNs,
		Copies:     float64(s.PageCopies) * float64(pageSize) / c.CopyBytesPerSec * 1e9,
		Faults:     float64(s.PageFaults) * c.TrapNs,
		DiskReads:  float64(s.DiskReads) * c.DiskReadNs,
		DiskWrites: float64(s.DiskWrites) * c.DiskWriteNs,
		PTPages:    float64(s.PTPagesWritten) * c.PTPageWriteNs,
		Commits:    float64(s.CommitWrites) * c.CommitNs,
		Sweeps:     float64(s.WrapSweeps) * float64(s.PagesTouched) * c.SweepPageNs,
	}
	t.Total = t.Accesses + t.Traps + t.Copies + t.Faults + t.DiskReads + t.DiskWrites + t.PTPages + t.Commits + t.Sweeps
	return t
}

// Overhead is the modeled time of a scheme over that of the baseline (scheme none, same
// trace and settings), minus one: 0.05 means 5% slower.
func Overhead(scheme, baseline Cost) float64 {
	if baseline.Total == 0 {
		return 0
	}
	return scheme.Total/baseline.Total - 1
}
