package sim

import (
	"math"
	"testing"

	"github.com/vmsim/vmsim/scheme"
)

func TestCostModel(t *testing.T) {
	c := CostModel{AccessNs: 1, CopyBytesPerSec: 4096e9 / 10, TrapNs: 100, DiskReadNs: 1000,
		DiskWriteNs: 2000, PTPageWriteNs: 3000, CommitNs: 5000, SweepPageNs: 7}
	s := Stats{Refs: 1000, ReplayedRefs: 10, Pages: scheme.Pages{PagesTouched: 11},
		Paging: scheme.Paging{FirstWrites: 3, Remaps: 1, PageCopies: 2, PageFaults: 4,
			DiskReads: 5, DiskWrites: 6, PTPagesWritten: 7, CommitWrites: 8, WrapSweeps: 2},
		Channels: scheme.Channels{Traps: 3, BytesCopied: 2 * 4096}}
	got := c.Time(s, 4096)
	want := Cost{Accesses: 1010, Traps: 400, Copies: 20, Faults: 400, DiskReads: 5000, DiskWrites: 12000,
		PTPages: 21000, Commits: 40000, Sweeps: 154}
	want.Total = 1010 + 400 + 20 + 400 + 5000 + 12000 + 21000 + 40000 + 154
	if math.Abs(got.Copies-want.Copies) > 1e-9 {
		t.Errorf("copies %v, want %v", got.Copies, want.Copies)
	}
	got.Copies = want.Copies
	if math.Abs(got.Total-want.Total) > 1e-9 {
		t.Errorf("total %v, want %v", got.Total, want.Total)
	}
	got.Total = want.Total
	if got != want {
		t.Errorf("cost %+v, want %+v", got, want)
	}
	if o := Overhead(Cost{Total: 150}, Cost{Total: 100}); o != 0.5 {
		t.Errorf("overhead %v", o)
	}
	if err := DefaultCostModel().Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []CostModel{{CopyBytesPerSec: 0}, {AccessNs: -1, CopyBytesPerSec: 1}, {TrapNs: math.NaN(), CopyBytesPerSec: 1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
