package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// ioTrace is a random trace over asids address spaces with I/O records among the accesses.
func ioTrace(rng *rand.Rand, n, asids int) []traces.Record {
	recs := randomTrace(rng, n, asids)
	var out []traces.Record
	for _, r := range recs {
		out = append(out, r)
		if rng.IntN(20) == 0 {
			k := []traces.Kind{traces.Input, traces.Output}[rng.IntN(2)]
			out = append(out, traces.Record{Kind: k, ASID: traces.ASID(rng.IntN(asids)), Addr: uint64(rng.IntN(3)), Size: uint32(rng.IntN(100))})
		}
	}
	return out
}

// ioModel computes the I/O counters straight from the trace, with none of the driver's
// code: per domain, the access count since its checkpoint, the held outputs, and at each
// failure the I/O records since the domain's checkpoint that a replay repeats.
func ioModel(recs []traces.Record, interval int64, failAt []int64, perASID, hold bool) Stats {
	type dom struct {
		since, lastCkpt int64
		held            []int64
	}
	doms := map[traces.ASID]*dom{}
	get := func(a traces.ASID) *dom {
		if !perASID {
			a = 0
		}
		if doms[a] == nil {
			doms[a] = &dom{}
		}
		return doms[a]
	}
	var st Stats
	var refs int64
	type ioRec struct {
		rec traces.Record
		idx int64
	}
	var ios []ioRec
	for _, r := range recs {
		if r.Kind.IsIO() {
			d := get(r.ASID)
			ios = append(ios, ioRec{r, refs})
			if r.Kind == traces.Output {
				st.IOOutputs++
				if hold {
					d.held = append(d.held, refs)
				}
			} else {
				st.IOInputs++
				if hold {
					st.IOInputsLoggedBytes += int64(r.Size)
				}
			}
			continue
		}
		refs++
		d := get(r.ASID)
		d.since++
		if slices.Contains(failAt, refs) && !hold {
			// The replay repeats the domain's I/O records since its checkpoint.
			for _, x := range ios {
				if get(x.rec.ASID) == d && x.idx >= d.lastCkpt && x.idx < refs {
					if x.rec.Kind == traces.Output {
						st.IORepeatedOutputs++
					} else {
						st.IORepeatedInputs++
					}
				}
			}
		}
		if interval > 0 && d.since >= interval {
			for _, at := range d.held {
				st.IOOutputDelay += refs - at
			}
			d.held, d.since, d.lastCkpt = nil, 0, refs
		}
	}
	for _, d := range doms {
		st.IOHeldAtEnd += int64(len(d.held))
	}
	return st
}

func ioCounters(s Stats) Stats {
	return Stats{IOInputs: s.IOInputs, IOOutputs: s.IOOutputs, IOOutputDelay: s.IOOutputDelay,
		IOInputsLoggedBytes: s.IOInputsLoggedBytes, IORepeatedOutputs: s.IORepeatedOutputs,
		IORepeatedInputs: s.IORepeatedInputs, IOHeldAtEnd: s.IOHeldAtEnd}
}

func TestIOAgainstModel(t *testing.T) {
	for trial := range 24 {
		seed := uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 77))
		recs := ioTrace(rng, 3000, 1+trial%3)
		cfg := DefaultConfig()
		cfg.Interval = int64(50 + rng.IntN(300))
		cfg.FailAt = []int64{int64(100 + rng.IntN(900)), int64(1200 + rng.IntN(1700))}
		cfg.Scope = []string{"system", "asid"}[trial%2]
		cfg.IO = []string{"none", "hold"}[trial/2%2]
		cfg.Verify = trial%4 == 3
		if trial%5 == 4 {
			cfg.Scheme = "shadow"
		}
		want := ioModel(recs, cfg.Interval, cfg.FailAt, cfg.Scope == "asid", cfg.IO == "hold")
		for _, buf := range []int{0, 7} { // buffered replays, and replays that re-read the trace
			got := mustRun(t, cfg, recs, Options{ReplayBuffer: buf}).Stats
			if ioCounters(got) != want {
				t.Fatalf("seed %d (%s, %s, interval %d, fail at %v, buffer %d):\ngot  %+v\nwant %+v",
					seed, cfg.Scope, cfg.IO, cfg.Interval, cfg.FailAt, buf, ioCounters(got), want)
			}
			if cfg.IO == "hold" && (got.IORepeatedOutputs != 0 || got.IORepeatedInputs != 0) {
				t.Fatalf("seed %d: hold repeated I/O", seed)
			}
		}
	}
}

// TestIOPerGuest: with --scope asid a failure in one address space repeats nothing of
// another's.
func TestIOPerGuest(t *testing.T) {
	var recs []traces.Record
	for i := range 400 {
		a := traces.ASID(i % 2)
		recs = append(recs, traces.Record{Addr: uint64(i%7) << 12, Size: 4, ASID: a, Kind: traces.Write},
			traces.Record{Kind: traces.Output, ASID: a, Addr: 1, Size: 8})
	}
	cfg := DefaultConfig()
	cfg.Scope, cfg.Interval, cfg.FailAt, cfg.IO = "asid", 100, []int64{351}, "none"
	s := mustRun(t, cfg, recs, Options{}).Stats
	// Access 351 is asid 0's 176th; its checkpoint was after its 100th (access 199): the
	// replay repeats asid 0's outputs after accesses 199..349 (76 of them) and none of
	// asid 1's.
	if s.IORepeatedOutputs != 76 || s.IOOutputs != 400 {
		t.Fatalf("repeated %d outputs of %d, want 76 of 400", s.IORepeatedOutputs, s.IOOutputs)
	}
}
