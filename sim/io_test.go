package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// ioTrace is a random trace over asids address spaces with I/O records among the accesses
// and, with controls, checkpoint and fail records, often right after an I/O record (where
// the order of the two matters).
func ioTrace(rng *rand.Rand, n, asids int, controls bool) []traces.Record {
	recs := randomTrace(rng, n, asids)
	var out []traces.Record
	control := func() {
		k := []traces.Kind{traces.Checkpoint, traces.Checkpoint, traces.Fail}[rng.IntN(3)]
		out = append(out, traces.Record{Kind: k, ASID: traces.ASID(rng.IntN(asids))})
	}
	for _, r := range recs {
		out = append(out, r)
		if rng.IntN(20) == 0 {
			k := []traces.Kind{traces.Input, traces.Output}[rng.IntN(2)]
			out = append(out, traces.Record{Kind: k, ASID: traces.ASID(rng.IntN(asids)), Addr: uint64(rng.IntN(3)), Size: uint32(rng.IntN(100))})
			if controls && rng.IntN(4) == 0 {
				control()
			}
		}
		if controls && rng.IntN(400) == 0 {
			control()
		}
	}
	return out
}

// ioModel computes the I/O counters straight from the trace, with none of the driver's
// code. It places checkpoints and failures by their position among the records: a
// checkpoint or fail record where it is, a checkpoint at the end of an interval or a
// failure from failAt just after its access (before the records that follow it). An I/O
// record belongs to the interval it appears in: at a failure, the replay repeats the
// domain's I/O records after its last checkpoint and before the failure; under hold, the
// held outputs are those same records, queued again, and nothing is repeated.
func ioModel(recs []traces.Record, interval int64, failAt []int64, perASID, hold bool) Stats {
	type dom struct {
		since  int64
		ckptAt int // the position of the domain's last checkpoint in recs (-1: the start)
		held   []int64
	}
	doms := map[traces.ASID]*dom{}
	get := func(a traces.ASID) *dom {
		if !perASID {
			a = 0
		}
		if doms[a] == nil {
			doms[a] = &dom{ckptAt: -1}
		}
		return doms[a]
	}
	var st Stats
	var refs int64
	fail := func(d *dom, at int) {
		if hold {
			return
		}
		for _, x := range recs[d.ckptAt+1 : at] {
			if x.Kind.IsIO() && get(x.ASID) == d {
				if x.Kind == traces.Output {
					st.IORepeatedOutputs++
				} else {
					st.IORepeatedInputs++
				}
			}
		}
	}
	checkpoint := func(d *dom, at int) {
		for _, h := range d.held {
			st.IOOutputDelay += refs - h
		}
		d.held, d.since, d.ckptAt = nil, 0, at
	}
	for i, r := range recs {
		switch {
		case r.Kind == traces.Checkpoint:
			checkpoint(get(r.ASID), i)
			continue
		case r.Kind == traces.Fail:
			fail(get(r.ASID), i)
			continue
		case r.Kind.IsIO():
			d := get(r.ASID)
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
		if slices.Contains(failAt, refs) {
			fail(d, i+1)
		}
		if interval > 0 && d.since >= interval {
			checkpoint(d, i)
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

// TestIOAgainstModel compares the I/O counters with ioModel's on random traces, half of
// them with checkpoint and fail records among the I/O records, on the fast path and off it,
// from a trace in memory and from a reader, with replays from the buffer and replays that
// re-read the trace.
func TestIOAgainstModel(t *testing.T) {
	for trial := range 48 {
		seed := uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 77))
		controls := trial >= 24
		recs := ioTrace(rng, 3000, 1+trial%3, controls)
		cfg := DefaultConfig()
		cfg.Interval = int64(50 + rng.IntN(300))
		cfg.FailAt = []int64{int64(100 + rng.IntN(900)), int64(1200 + rng.IntN(1700))}
		cfg.Scope = []Scope{"system", "asid"}[trial%2]
		cfg.IO = []IOMode{"none", "hold"}[trial/2%2]
		cfg.Verify = trial%4 == 3
		if trial%5 == 4 {
			cfg.Scheme = "shadow"
		}
		want := ioModel(recs, cfg.Interval, cfg.FailAt, cfg.Scope == "asid", cfg.IO == "hold")
		decoded := traces.NewDecoded(recs)
		openers := []struct {
			name string
			open Opener
		}{
			{"reader", sliceOpener(recs)},
			{"decoded", func() (traces.Reader, error) { return decoded.Open(), nil }},
		}
		for _, src := range openers {
			for _, slow := range []bool{false, true} {
				for _, buf := range []int{0, 7} { // buffered replays, and replays that re-read the trace
					res, err := RunWith(cfg, src.open, Options{ReplayBuffer: buf, slow: slow})
					if err != nil {
						t.Fatalf("seed %d: %v", seed, err)
					}
					got := res.Stats
					if ioCounters(got) != want {
						t.Fatalf("seed %d (controls %v, %s, %s, interval %d, fail at %v, %s, slow %v, buffer %d):\ngot  %+v\nwant %+v",
							seed, controls, cfg.Scope, cfg.IO, cfg.Interval, cfg.FailAt, src.name, slow, buf, ioCounters(got), want)
					}
					if cfg.IO == "hold" && (got.IORepeatedOutputs != 0 || got.IORepeatedInputs != 0) {
						t.Fatalf("seed %d: hold repeated I/O", seed)
					}
					if got.VerifyMismatches != 0 {
						t.Fatalf("seed %d: %d mismatches: %s", seed, got.VerifyMismatches, res.FirstMismatch)
					}
				}
			}
		}
	}
}

// TestIONextToControlRecords runs the traces of sim/testdata in which an I/O record sits
// right before a checkpoint or fail record (docs/substrate.md, "I/O continuity": a
// checkpoint record closes the interval, I/O before it included; a fail record strikes
// after the I/O before it, which was performed and, under hold, is held). Each runs on the
// fast path and off it, with and without --verify, with replays from the buffer and
// replays that re-read the file.
func TestIONextToControlRecords(t *testing.T) {
	for _, tt := range []struct {
		name, trace, scheme, io string
		failAt                  []int64
		counter                 string
		want                    int64
	}{
		// A A A A A O X A A A: the output is held again by the replay, never lost.
		{"output then fail: still held at the end", "T-OX.vmt", "remus", "hold", nil, "io_held_at_end", 1},
		// ... C at the end: the output, made after access 5, is released at access 8.
		{"output then fail: released by the next checkpoint", "T-OXC.vmt", "remus", "hold", nil, "io_output_delay", 3},
		// A A O C A A A A A C A: the output belongs to the interval the first checkpoint
		// closed; the failure after access 5 does not repeat it, nor release it again.
		{"output then checkpoint: not repeated", "T-OC.vmt", "remus", "none", []int64{5}, "io_repeated_outputs", 0},
		{"output then checkpoint: released once", "T-OC.vmt", "remus", "hold", []int64{5}, "io_output_delay", 0},
		// A A I C A A X A A C: the input was read before the checkpoint.
		{"input then checkpoint: not repeated", "T-IC.vmt", "snaplog", "none", nil, "io_repeated_inputs", 0},
	} {
		path := filepath.Join("testdata", tt.trace)
		open := func() (traces.Reader, error) { return traces.Open(path, traces.Options{}) }
		for _, verify := range []bool{false, true} {
			for _, slow := range []bool{false, true} {
				for _, buf := range []int{0, 1} {
					name := fmt.Sprintf("%s/verify=%v/slow=%v/buffer=%d", tt.name, verify, slow, buf)
					t.Run(name, func(t *testing.T) {
						cfg := DefaultConfig()
						cfg.Trace, cfg.Scheme, cfg.IO, cfg.Verify = path, tt.scheme, IOMode(tt.io), verify
						if tt.failAt != nil {
							cfg.FailAt = tt.failAt
						}
						res, err := RunWith(cfg, open, Options{slow: slow, ReplayBuffer: buf})
						if err != nil {
							t.Fatal(err)
						}
						got := int64(-1)
						for _, f := range res.Stats.Fields() {
							if f.Key == tt.counter {
								got = f.Value
							}
						}
						if got != tt.want {
							t.Errorf("%s = %d, want %d (stats %+v)", tt.counter, got, tt.want, ioCounters(res.Stats))
						}
						if res.Stats.VerifyMismatches != 0 {
							t.Errorf("%d mismatches: %s", res.Stats.VerifyMismatches, res.FirstMismatch)
						}
					})
				}
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

// ioFlat is flat seeing I/O records: a scheme that implements scheme.IOAware.
type ioFlat struct {
	*flat
	ios int
}

func (f *ioFlat) IO(traces.Record, int64) { f.ios++ }

// hider wraps a scheme and hides every method but Scheme's: IO among them.
type hider struct{ scheme.Scheme }

// TestIOAwareMustMatchInfo: the driver refuses, as a usage error at set-up, a scheme whose
// Info says it sees I/O records (Info.IO) but that does not implement scheme.IOAware (a
// wrapper hid it), and one that implements it unannounced; it runs one whose Info and
// methods agree.
func TestIOAwareMustMatchInfo(t *testing.T) {
	recs := []traces.Record{{Addr: 0x1000, Size: 8, Kind: traces.Write}, {Kind: traces.Input, Addr: 1, Size: 8}}
	for _, tt := range []struct {
		name   string
		infoIO bool
		aware  bool // the scheme built implements IOAware
		want   string
	}{
		{"aware and announced", true, true, ""},
		{"neither", false, false, ""},
		{"announced, hidden by a wrapper", true, false, "does not implement scheme.IOAware"},
		{"aware, unannounced", false, true, "its Info does not say so"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info := flatInfo(false)
			info.IO = tt.infoIO
			var built *ioFlat
			info.New = func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
				built = &ioFlat{flat: newFlat(m, false)}
				if !tt.aware {
					return hider{built}, nil
				}
				return built, nil
			}
			cfg := DefaultConfig()
			cfg.Scheme = "flat"
			res, err := RunWith(cfg, sliceOpener(recs), Options{Scheme: info})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 1}[tt.aware]; built.ios != want || res.Stats.Refs != 1 {
					t.Errorf("the scheme saw %d I/O records, want %d; %d accesses", built.ios, want, res.Stats.Refs)
				}
				return
			}
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "scheme flat") {
				t.Fatalf("got %v, want a usage error naming scheme flat and saying %q", err, tt.want)
			}
		})
	}
}
