package pagetable

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
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

// TestCached: the lookup cache's probe finds a page once a Lookup has cached it, and
// nothing in an empty entry (whose zero key is page 0 of address space 0), in an entry of
// another page, or for a page past the limit (the spare page, which is never cached).
func TestCached(t *testing.T) {
	pt := New(8, false)
	pt.SetMaxPages(2)
	if p := pt.Cached(0, 0); p != -1 {
		t.Fatalf("Cached(0, 0) of an empty table = %d", p)
	}
	a, b := pt.Lookup(0, 0), pt.Lookup(1, 5)
	for _, tt := range []struct {
		name string
		asid traces.ASID
		vpn  VPN
		want PageID
	}{
		{"page 0 of space 0", 0, 0, a},
		{"page 5 of space 1", 1, 5, b},
		{"same page and slot, other space", 1 + 1<<(tlbBits-7), 5, -1},
		{"same slot, other page", 0, 1 << tlbBits, -1},
		{"never looked up", 1, 6, -1},
	} {
		if got := pt.Cached(tt.asid, tt.vpn); got != tt.want {
			t.Errorf("%s: Cached(%d, %#x) = %d, want %d", tt.name, tt.asid, tt.vpn, got, tt.want)
		}
	}
	spare := pt.Lookup(1, 7) // past the limit of 2 pages
	if pt.Err() == nil {
		t.Fatal("no error past the limit")
	}
	if got := pt.Cached(1, 7); got != -1 {
		t.Errorf("Cached of a page past the limit = %d (the spare page is %d)", got, spare)
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

// TestMemoryPerPage touches pages in patterns that defeat a radix tree (random VPNs over
// 2^52, one page in every 512) and checks the table stays at tens of bytes a page.
func TestMemoryPerPage(t *testing.T) {
	const n = 1 << 19
	tests := []struct {
		name string
		vpn  func(i int, r *rand.Rand) VPN
	}{
		{"dense", func(i int, _ *rand.Rand) VPN { return VPN(i) }},
		{"one in 512", func(i int, _ *rand.Rand) VPN { return VPN(i) << 9 }},
		{"random", func(_ int, r *rand.Rand) VPN { return VPN(r.Uint64() >> 12) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			pt := New(8, false)
			for i := range n {
				pt.Lookup(traces.ASID(i&3), tt.vpn(i, r))
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := float64(after.HeapAlloc-before.HeapAlloc) / float64(pt.Len())
			t.Logf("%d pages, %.1f bytes a page", pt.Len(), per)
			if pt.Len() < n*9/10 || per > BytesPerPage {
				t.Errorf("%d pages at %.1f bytes a page, want at most %d", pt.Len(), per, BytesPerPage)
			}
			runtime.KeepAlive(pt)
		})
	}
}

func TestMaxPages(t *testing.T) {
	tests := []struct {
		name    string
		limit   int
		touch   int
		wantErr bool
	}{
		{"under", 10, 10, false},
		{"over", 10, 1000, true},
		{"no limit", 0, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt := New(8, true)
			pt.SetMaxPages(tt.limit)
			var spare PageID = -1
			for i := range tt.touch {
				p := pt.Lookup(traces.ASID(i%3), VPN(i*7919))
				if e := pt.PTE(p); e == nil {
					t.Fatal("no PTE")
				}
				if i >= tt.limit && tt.limit > 0 {
					if spare < 0 {
						spare = p
					} else if p != spare {
						t.Fatalf("lookup %d past the limit gave page %d, then %d", i, spare, p)
					}
				}
			}
			err := pt.Err()
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrTooManyPages)) {
				t.Fatalf("Err = %v", err)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "--max-pages 10") {
					t.Errorf("message %q does not name the flag", err)
				}
				if pt.Len() != tt.limit+1 {
					t.Errorf("%d pages held, want the limit and one spare", pt.Len())
				}
			}
			p, _ := frames.NewPolicy("lru", 4, 0)
			if err := pt.Check(frames.New(4, p, 0), disk.New(0)); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

// BenchmarkLookup measures first touches and repeats over a sparse space, against a
// baseline loop that only computes the addresses.
func BenchmarkLookup(b *testing.B) {
	vpn := func(i int) VPN { return VPN(uint64(i%(1<<18)) * 0x9E3779B9 >> 3) }
	b.Run("baseline", func(b *testing.B) {
		var sink VPN
		for i := range b.N {
			sink += vpn(i)
		}
		_ = sink
	})
	b.Run("lookup", func(b *testing.B) {
		pt := New(8, false)
		for i := range b.N {
			pt.Lookup(0, vpn(i))
		}
	})
}
