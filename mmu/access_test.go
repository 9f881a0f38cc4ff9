package mmu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/pagetable"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// countingOracle is a scheme.Oracle whose next-use times count the calls.
type countingOracle struct{ calls int64 }

func (o *countingOracle) NextUse() (func() int64, error) {
	return func() int64 { o.calls++; return o.calls }, nil
}

// loopResult is what a run of the adapter's loops leaves: its counters, its error, the
// accesses after which it called the verifier's hook, and how many next-use times it
// asked for.
type loopResult struct {
	tally    scheme.Tally
	err      error
	hooks    []int
	nextUses int64
}

// TestAccessLoopsAgree: the generated loops of none and dualmap (access_gen.go: the plain
// loop, and the one with the verifier's hook and the next-use times) count alike, whatever
// the runs' lengths. A seeded random trace (accesses of one to three pages, in two address
// spaces, checkpoints between runs) gives the same counters, the same error naming the same
// access, and the same number of next-use times in runs of many and in runs of one, with
// and without the hook; the hook follows every access, in order, up to the one that took
// the page table past the page budget.
func TestAccessLoopsAgree(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	const pageSize = 4096
	recs := make([]record.Record, 4000)
	for i := range recs {
		size := uint32(1 + rng.IntN(8))
		if rng.IntN(8) == 0 {
			size = uint32(1 + rng.IntN(2*pageSize+1)) // up to three pages
		}
		recs[i] = record.Record{Addr: uint64(rng.IntN(96 * pageSize)), Size: size,
			ASID: record.ASID(rng.IntN(2)), Kind: record.Kind(rng.IntN(int(record.Checkpoint)))}
	}
	ckpt := make(map[int]bool) // a checkpoint after the first n accesses
	for range 40 {
		ckpt[1+rng.IntN(len(recs))] = true
	}

	run := func(t *testing.T, info scheme.Info, set map[string]string, maxPages int, hooked, ofOne bool) loopResult {
		t.Helper()
		o := &countingOracle{}
		m := scheme.Machine{PageSize: pageSize, MaxPages: maxPages, Oracle: o, RequestCheckpoint: func(scheme.Domain) {}}
		s, err := info.New(m, params(t, info, set))
		if err != nil {
			t.Fatal(err)
		}
		cut := rand.New(rand.NewPCG(seed, 2))
		var res loopResult
		for n := 0; n < len(recs); {
			end := n + 1
			if !ofOne {
				for end < len(recs) && !ckpt[end] && cut.IntN(40) != 0 {
					end++
				}
			}
			run := scheme.Run{Recs: recs[n:end], N: int64(n)}
			if hooked {
				base := n
				run.Verify = func(i int) { res.hooks = append(res.hooks, base+i) }
			}
			if got := s.Access(run); got != end-n {
				t.Fatalf("Access of accesses %d to %d performed %d", n+1, end, got)
			}
			n = end
			if ckpt[n] {
				s.Checkpoint(s.DomainOf(recs[n-1].ASID))
			}
		}
		s.Counters(&res.tally)
		res.err, res.nextUses = s.Err(), o.calls
		if res.err == nil {
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}

	for _, info := range []scheme.Info{NoneInfo(), DualMapInfo()} {
		for _, tt := range []struct {
			name     string
			set      map[string]string
			maxPages int
		}{
			{"unlimited frames", nil, 0},
			{"8 frames, lru", map[string]string{"frames": "8", "replace": "lru"}, 0},
			{"8 frames, opt", map[string]string{"frames": "8", "replace": "opt"}, 0},
			{"past the page budget", map[string]string{"frames": "8"}, 100},
		} {
			t.Run(info.Name+", "+tt.name, func(t *testing.T) {
				want := run(t, info, tt.set, tt.maxPages, false, false)
				if (tt.maxPages > 0) != (want.err != nil) {
					t.Fatalf("page budget %d: Err %v", tt.maxPages, want.err)
				}
				if (tt.set["replace"] == "opt") != (want.nextUses > 0) {
					t.Fatalf("%d next-use times asked", want.nextUses)
				}
				performed := len(recs) // accesses after which the hook is called
				var tooMany *scheme.TooManyPagesError
				if errors.As(want.err, &tooMany) {
					performed = int(tooMany.Access) - 1
				}
				for _, v := range []struct{ hooked, ofOne bool }{{false, true}, {true, false}, {true, true}} {
					name := fmt.Sprintf("hooked %t, runs of one %t", v.hooked, v.ofOne)
					got := run(t, info, tt.set, tt.maxPages, v.hooked, v.ofOne)
					if !reflect.DeepEqual(got.tally, want.tally) {
						t.Errorf("%s: counters\n%+v\nwant (plain loop, runs of many)\n%+v", name, got.tally, want.tally)
					}
					if fmt.Sprint(got.err) != fmt.Sprint(want.err) || !reflect.DeepEqual(got.err, want.err) {
						t.Errorf("%s: Err %v, want %v", name, got.err, want.err)
					}
					if got.nextUses != want.nextUses {
						t.Errorf("%s: %d next-use times, want %d", name, got.nextUses, want.nextUses)
					}
					var hooks []int
					if v.hooked {
						hooks = make([]int, performed)
						for i := range hooks {
							hooks[i] = i
						}
					}
					if !slices.Equal(got.hooks, hooks) {
						t.Errorf("%s: the hook after %d accesses (%v...), want %d", name, len(got.hooks), got.hooks[:min(5, len(got.hooks))], len(hooks))
					}
				}
			})
		}
	}
}

// TestCommonAccessInline: the common access that the generated loops perform inline
// ("hit" in access.go.tmpl: one page, found in the page table's lookup cache, resident,
// not a first write) leaves the machine exactly as the scheme's own Access does. A seeded
// random trace over a few pages of two address spaces, with checkpoints, rollbacks and
// crashes between runs, goes through the adapter (runs of many, runs of one, with the
// verifier's hook) and, page by page, through the page-level scheme (which never takes the
// inline path); after every run both have the same counters, page-table entries, frames
// (owner and change bit) and frame last referenced.
func TestCommonAccessInline(t *testing.T) {
	seed := testSeed(t)
	const pageSize = 4096
	state := func(a *adapter) string {
		m := a.m
		s := fmt.Sprintf("steals=%d lastF=%d used=%d written=%d\n", m.pg.Steals, m.lastF, m.ft.Used(), m.pt.Written())
		for p := range m.pt.Len() {
			s += fmt.Sprintf("pte %d: %+v\n", p, *m.pt.PTE(pagetable.PageID(p)))
		}
		nframes := m.ft.Limit()
		if nframes == 0 {
			nframes = m.ft.Peak() // unlimited: a frame is made only when none is free
		}
		for f := range frames.FrameID(nframes) {
			s += fmt.Sprintf("frame %d: owner %d dirty %t\n", f, m.ft.Owner(f), m.ft.Dirty(f))
		}
		return s
	}
	for _, info := range []scheme.Info{NoneInfo(), DualMapInfo()} {
		for _, tt := range []struct {
			name     string
			set      map[string]string
			volatile bool
		}{
			{"unlimited frames", nil, false},
			{"6 frames, clock", map[string]string{"frames": "6", "replace": "clock"}, false},
			{"6 frames, lru, policy", map[string]string{"frames": "6", "replace": "lru", "steal": "policy"}, false},
			{"volatile, 6 frames, fifo", map[string]string{"frames": "6", "replace": "fifo"}, true},
			{"remap, 6 frames", map[string]string{"frames": "6", "cow": "remap"}, false},
		} {
			if info.Name == string(KindNone) && (tt.volatile || tt.set["cow"] != "") {
				continue
			}
			for _, mode := range []string{"runs of many", "runs of one", "hooked"} {
				t.Run(info.Name+", "+tt.name+", "+mode, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(seed, 5))
					build := func() *adapter {
						m := scheme.Machine{PageSize: pageSize, Volatile: tt.volatile, RequestCheckpoint: func(scheme.Domain) {}}
						s, err := info.New(m, params(t, info, tt.set))
						if err != nil {
							t.Fatal(err)
						}
						switch s := s.(type) {
						case *noneAdapter:
							return s.adapter
						case *dualMapAdapter:
							return s.adapter
						}
						t.Fatalf("%T", s)
						return nil
					}
					got, want := build(), build()
					gotS := scheme.Scheme(nil)
					if info.Name == string(KindNone) {
						gotS = &noneAdapter{got, got.s.(*None)}
					} else {
						gotS = &dualMapAdapter{got, got.s.(*DualMap)}
					}
					n := 0
					for step := range 300 {
						recs := make([]record.Record, 1+rng.IntN(30))
						if mode == "runs of one" {
							recs = recs[:1]
						}
						for i := range recs {
							size := uint32(1 + rng.IntN(8))
							if rng.IntN(20) == 0 {
								size = pageSize // two pages but at a page's start
							}
							recs[i] = record.Record{Addr: uint64(rng.IntN(10*pageSize)) &^ 7, Size: size,
								ASID: record.ASID(rng.IntN(2)), Kind: record.Kind(rng.IntN(int(record.Checkpoint)))}
						}
						run := scheme.Run{Recs: recs, N: int64(n)}
						if mode == "hooked" {
							run.Verify = func(int) {}
						}
						gotS.Access(run)
						for _, r := range recs {
							first, last := r.PageSpan(got.shift, false)
							for vpn := first; vpn <= last; vpn++ {
								want.s.Access(r.ASID, pagetable.VPN(vpn), r.Kind.Writes(), -1)
							}
						}
						n += len(recs)
						if info.Name == string(KindDualMap) {
							d := scheme.Domain(0)
							switch op := rng.IntN(20); {
							case op < 3:
								got.Checkpoint(d)
								want.Checkpoint(d)
							case op == 3:
								got.Rollback(d)
								want.Rollback(d)
							case op == 4 && tt.volatile:
								got.Crash()
								want.Crash()
							}
						}
						var gt, wt scheme.Tally
						got.Counters(&gt)
						want.Counters(&wt)
						if !reflect.DeepEqual(gt, wt) {
							t.Fatalf("seed %d, after run %d: counters\n%+v\nwant (the scheme's Access)\n%+v", seed, step, gt, wt)
						}
						if g, w := state(got), state(want); g != w {
							t.Fatalf("seed %d, after run %d: state\n%s\nwant (the scheme's Access)\n%s", seed, step, g, w)
						}
						if err := gotS.Check(); err != nil {
							t.Fatalf("seed %d, after run %d: %v", seed, step, err)
						}
					}
				})
			}
		}
	}
}
