package pagetable

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/disk"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/traces"
)

func TestLookupFind(t *testing.T) {
	pt := New(8, true)
	seen := map[PageID]bool{}
	for _, k := range []struct {
		a traces.ASID
		v VPN
	}{{0, 1}, {0, 1 << 40}, {1, 1}, {0, 513}, {2, 0}} {
		p := pt.Lookup(k.a, k.v)
		if seen[p] {
			t.Fatalf("(%d, %#x) got a PageID already given", k.a, k.v)
		}
		seen[p] = true
		if q := pt.Lookup(k.a, k.v); q != p {
			t.Fatalf("second Lookup gave %d, want %d", q, p)
		}
		if q, ok := pt.Find(k.a, k.v); !ok || q != p {
			t.Fatalf("Find gave %d, %v", q, ok)
		}
		if e := pt.PTE(p); e.ASID != k.a || e.VPN != k.v || e.V != 0 || e.Current().Frame != frames.NoFrame {
			t.Fatalf("new PTE %+v", e)
		}
	}
	if _, ok := pt.Find(3, 1); ok {
		t.Error("Find of an untouched page succeeded")
	}
	if len(pt.Domains()) != 3 || pt.DomainOf(1) != 1 {
		t.Errorf("domains %d, DomainOf(1) = %d", len(pt.Domains()), pt.DomainOf(1))
	}
}

func TestAdvanceWraps(t *testing.T) {
	pt := New(2, false) // V cycles 1, 2, 3
	p := pt.Lookup(0, 7)
	pt.SetModified(p)
	for i, want := range []struct {
		V       uint32
		wrapped bool
	}{{2, false}, {3, false}, {1, true}} {
		if w := pt.Advance(0); w != want.wrapped || pt.Domain(0).V != want.V {
			t.Fatalf("Advance %d: V=%d wrapped=%v, want %+v", i, pt.Domain(0).V, w, want)
		}
	}
	if pt.PTE(p).V != 0 || pt.Modified(p) {
		t.Errorf("after the wrap v=%d, modified=%v", pt.PTE(p).V, pt.Modified(p))
	}
}

func TestCheckFindsCorruption(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(pt *Table, ft *frames.Table, dk *disk.Disk)
		want    string
	}{
		{"frame owner disagrees", func(pt *Table, ft *frames.Table, _ *disk.Disk) {
			ft.SetOwner(pt.PTE(0).M[0].Frame, Owner(1, 0))
		}, "whose owner is"},
		{"frame held by two mappings", func(pt *Table, _ *frames.Table, _ *disk.Disk) {
			pt.PTE(1).M[1].Frame = pt.PTE(0).M[0].Frame
		}, "whose owner is"},
		{"slot held by two mappings", func(pt *Table, _ *frames.Table, _ *disk.Disk) {
			pt.PTE(1).M[0].Slot = pt.PTE(0).M[1].Slot
		}, "belongs to pages"},
		{"free slot mapped", func(pt *Table, _ *frames.Table, dk *disk.Disk) {
			dk.Free(pt.PTE(0).M[1].Slot)
		}, "is free"},
		{"leaked frame", func(_ *Table, ft *frames.Table, _ *disk.Disk) {
			ft.Alloc(Owner(1, 1))
		}, "2 frames mapped, 3 in use"},
		{"v == V off the list", func(pt *Table, _ *frames.Table, _ *disk.Disk) {
			pt.PTE(1).V = pt.Domain(0).V
		}, "modified list"},
		{"bad switch bit", func(pt *Table, _ *frames.Table, _ *disk.Disk) { pt.PTE(0).L = 2 }, "l=2"},
		{"checkpoint frame count", func(pt *Table, _ *frames.Table, _ *disk.Disk) { pt.AddCheckpointFrames(0, 1) }, "checkpoint frames"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt := New(8, false)
			p, _ := frames.NewPolicy("lru", 4, 0)
			ft := frames.New(4, p, 0)
			dk := disk.New(0)
			a, b := pt.Lookup(0, 1), pt.Lookup(0, 2)
			f, _ := ft.Alloc(Owner(a, 0))
			pt.PTE(a).M[0].Frame = f
			pt.PTE(a).M[1].Slot = dk.Alloc()
			g, _ := ft.Alloc(Owner(b, 0))
			pt.PTE(b).M[0].Frame = g
			if err := pt.Check(ft, dk); err != nil {
				t.Fatalf("clean state: %v", err)
			}
			tt.corrupt(pt, ft, dk)
			if err := pt.Check(ft, dk); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func ExampleTable_Advance() {
	pt := New(8, false)
	p := pt.Lookup(0, 0x400)
	pt.SetModified(p) // the page's first write since the checkpoint
	fmt.Println(pt.Modified(p), pt.Domain(0).V)
	pt.Advance(0) // a checkpoint
	fmt.Println(pt.Modified(p), pt.Domain(0).V)
	// Output:
	// true 1
	// false 2
}
