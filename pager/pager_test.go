package pager

import (
	"testing"

	"github.com/vmsim/vmsim/disk"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/pagetable"
)

func newPager(t *testing.T, n int, opt Options) *Pager {
	t.Helper()
	p, err := frames.NewPolicy("fifo", n, 0)
	if err != nil {
		t.Fatal(err)
	}
	return New(pagetable.New(8, false), frames.New(n, p, 1), disk.New(1), opt)
}

func TestFaultInSources(t *testing.T) {
	for _, tt := range []struct {
		name      string
		zero      bool
		slot      bool
		wantReads int64
		wantStamp uint64
	}{
		{"initial image", false, false, 1, 0},
		{"zero fill", true, false, 0, 0},
		{"from the slot", false, true, 1, 42},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pg := newPager(t, 2, Options{ZeroFill: tt.zero})
			p := pg.PT.Lookup(0, 5)
			if tt.slot {
				s := pg.Disk.Alloc()
				pg.Disk.Write(s, []uint64{42})
				pg.Disk.IO.Writes = 0
				pg.PT.PTE(p).M[0].Slot = s
			}
			f := pg.FaultIn(p, 0, frames.NoFrame)
			if pg.Disk.IO.Reads != tt.wantReads || pg.Frames.Stamps(f)[0] != tt.wantStamp || pg.Frames.Dirty(f) {
				t.Errorf("reads %d stamp %d dirty %v", pg.Disk.IO.Reads, pg.Frames.Stamps(f)[0], pg.Frames.Dirty(f))
			}
			if err := pg.PT.Check(pg.Frames, pg.Disk); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStealWritesBackDirtyOnly(t *testing.T) {
	pg := newPager(t, 2, Options{})
	a, b, c := pg.PT.Lookup(0, 1), pg.PT.Lookup(0, 2), pg.PT.Lookup(0, 3)
	fa := pg.FaultIn(a, 0, frames.NoFrame)
	pg.Frames.SetDirty(fa, true)
	pg.Frames.Stamps(fa)[0] = 9
	pg.FaultIn(b, 0, frames.NoFrame)
	pg.FaultIn(c, 0, frames.NoFrame) // FIFO steals a's frame: dirty, so written
	ea := pg.PT.PTE(a)
	if ea.M[0].Frame != frames.NoFrame || ea.M[0].Slot == disk.NoSlot || pg.Disk.IO.Writes != 1 || pg.Disk.Stamps(ea.M[0].Slot)[0] != 9 {
		t.Fatalf("a after the steal: %+v, writes %d", ea.M[0], pg.Disk.IO.Writes)
	}
	pg.FaultIn(a, 0, frames.NoFrame) // steals b's clean frame: no write
	if pg.Disk.IO.Writes != 1 || pg.Steals != 2 {
		t.Fatalf("writes %d steals %d", pg.Disk.IO.Writes, pg.Steals)
	}
	if err := pg.PT.Check(pg.Frames, pg.Disk); err != nil {
		t.Fatal(err)
	}
}

func TestObsoleteFirst(t *testing.T) {
	pg := newPager(t, 2, Options{ObsoleteFirst: true})
	a, b := pg.PT.Lookup(0, 1), pg.PT.Lookup(0, 2)
	pg.FaultIn(a, 0, frames.NoFrame)    // frame 0: a's current version
	f := pg.Frame(a, 1, frames.NoFrame) // frame 1: a's other mapping
	pg.Frames.SetDirty(f, true)
	pg.NoteObsolete(f) // v != V: m[1] of a is obsolete
	pg.FaultIn(b, 0, frames.NoFrame)
	if pg.ObsoleteSteals != 1 || pg.Disk.IO.Writes != 0 || pg.PT.PTE(a).M[1].Frame != frames.NoFrame {
		t.Fatalf("obsolete steals %d, writes %d, a.m[1] %+v", pg.ObsoleteSteals, pg.Disk.IO.Writes, pg.PT.PTE(a).M[1])
	}
	if err := pg.PT.Check(pg.Frames, pg.Disk); err != nil {
		t.Fatal(err)
	}
}
