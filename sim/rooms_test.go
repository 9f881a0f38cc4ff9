package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// TestChecksHoldOnRandomRuns runs random configurations of every registered scheme with
// every room's Check (and the scheme's) after every event: no invariant is ever broken,
// and the counts are those of the same run without the checks.
func TestChecksHoldOnRandomRuns(t *testing.T) {
	seed := testSeed(t)
	names := scheme.Names()
	for trial := range 3 * len(names) {
		rng := rand.New(rand.NewPCG(seed, uint64(trial)))
		cfg := DefaultConfig()
		cfg.Scheme = names[trial%len(names)]
		info, _ := scheme.Lookup(cfg.Scheme)
		asids := 1 + rng.IntN(3)
		recs := ioTrace(rng, 1500, asids, info.RecoversTransient)
		cfg.IO = []IOMode{"none", "hold"}[rng.IntN(2)]
		cfg.Scope = []Scope{"system", "asid"}[rng.IntN(2)]
		cfg.Interval = int64([]int{0, 1, 37, 300}[rng.IntN(4)])
		cfg.Seed = rng.Uint64()
		if info.Takes("frames") && rng.IntN(2) == 0 {
			cfg.Frames = 4 + rng.IntN(8)
			cfg.Replace = []string{"clock", "lru", "opt"}[rng.IntN(3)]
		}
		if rng.IntN(2) == 0 {
			cfg.CacheSize, cfg.CacheWays = 1024, 2
		}
		if rng.IntN(2) == 0 {
			cfg.TLBEntries, cfg.TLBWays = 8, 2
			if info.WriteProtects && rng.IntN(2) == 0 {
				cfg.TLBCheckpoint = "tag"
			}
		}
		if rng.IntN(4) > 0 {
			cfg.Verify = true
		}
		if rng.IntN(3) == 0 {
			cfg.Warmup = int64(1 + rng.IntN(1000))
		}
		if info.RecoversTransient {
			cfg.MTBF = float64(100 + rng.IntN(300))
			if info.RecoversCrash && rng.IntN(3) == 0 {
				cfg.Failure, cfg.Memory = "crash", "volatile"
			}
		}
		buf := []int{0, 50}[rng.IntN(2)]
		name := fmt.Sprintf("seed %d trial %d %+v buffer %d", seed, trial, cfg, buf)
		checked, err := RunWith(cfg, sliceOpener(recs), Options{CheckEvery: true, ReplayBuffer: buf})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		plain := mustRun(t, cfg, recs, Options{ReplayBuffer: buf})
		if checked.Stats != plain.Stats || checked.FirstMismatch != plain.FirstMismatch {
			t.Fatalf("%s: the checks changed the counts:\nchecked %+v\nplain   %+v", name, checked.Stats, plain.Stats)
		}
		if checked.Stats.VerifyMismatches != 0 {
			t.Fatalf("%s: %s", name, checked.FirstMismatch)
		}
	}
}

// writable returns v, an addressable field that may be unexported, as a settable value:
// the tests below break the invariants of the cache and the TLB, whose fields are their
// packages' own.
func writable(v reflect.Value) reflect.Value {
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

// breakCache makes a valid way of the cache dirty and invalid.
func breakCache(r *runner) {
	c := reflect.ValueOf(r.mem.cache).Elem()
	keys, dirty := writable(c.FieldByName("keys")), writable(c.FieldByName("dirty"))
	for i := range keys.Len() {
		if k := keys.Index(i); k.Uint() != 0 { // a way is valid iff its key is not 0
			k.SetUint(0)
			dirty.Index(i).SetBool(true)
			return
		}
	}
	panic("no valid cache line")
}

// breakTLB copies a valid TLB entry into the other way of its set.
func breakTLB(r *runner) {
	e := writable(reflect.ValueOf(r.mem.tlb).Elem().FieldByName("e"))
	ways := r.cfg.TLBWays
	for i := range e.Len() {
		if writable(e.Index(i).FieldByName("valid")).Bool() {
			other := i/ways*ways + (i%ways+1)%ways
			e.Index(other).Set(e.Index(i))
			return
		}
	}
	panic("no valid TLB entry")
}

// breakGolden marks a block of a page saved in its domain's current epoch without an
// undo entry for it.
func breakGolden(r *runner) {
	g := r.ver.golden
	for i := range g.pages {
		p := &g.pages[i]
		for b := range p.saved {
			if !p.saved[b] {
				p.epoch = g.doms[p.dom].epoch
				p.saved[b] = true
				return
			}
		}
	}
	panic("no golden page")
}

// failingCheck is a scheme whose Check fails from access at on.
type failingCheck struct {
	scheme.Scheme
	n, at int64
}

func (f *failingCheck) Access(run scheme.Run) int {
	f.n = run.N + int64(len(run.Recs))
	return f.Scheme.Access(run)
}

func (f *failingCheck) Check() error {
	if f.n >= f.at {
		return errors.New("broken on purpose")
	}
	return f.Scheme.Check()
}

// TestRoomChecksCatchBrokenInvariants breaks one invariant of each room at access 40 and
// requires the checks after every event (Options.CheckEvery, `vmsim run --check`) to stop
// the run there with an error naming the event, the access and the room.
func TestRoomChecksCatchBrokenInvariants(t *testing.T) {
	const at = 40
	recs := ioTrace(rand.New(rand.NewPCG(7, 8)), 400, 1, false)
	for _, tt := range []struct {
		name    string
		edit    func(*Config)
		wrap    func(scheme.Scheme) scheme.Scheme
		corrupt func(*runner)
		want    string
	}{
		{"the scheme's own", nil, func(s scheme.Scheme) scheme.Scheme { return &failingCheck{Scheme: s, at: at} }, nil,
			"broken on purpose"},
		{"counts", nil, nil, func(r *runner) { r.n.writes++ }, "counts: "},
		{"domain numbering", nil, nil, func(r *runner) { r.doms.list[0].id = 3 }, "domains: domain 3 listed as domain 0"},
		{"domain held outputs", func(c *Config) { c.IO = "hold" }, nil,
			func(r *runner) { d := r.doms.list[0]; d.held = append(d.held, d.lastCkpt-1) }, "domains: domain 0 holds"},
		{"domains and counts", nil, nil, func(r *runner) { r.doms.list[0].since++ }, "domains: domain 0 has"},
		{"checkpoints over the domains", nil, nil, func(r *runner) { r.doms.list[0].ckpts++ }, "domains: 2 checkpoints over the domains, 1 counted"},
		{"replay buffer order", nil, nil, func(r *runner) { r.buf.recs[len(r.buf.recs)-1].idx++ }, "replay buffer: record"},
		{"replay buffer and counts", nil, nil, func(r *runner) { r.buf.recs = r.buf.recs[:len(r.buf.recs)-1] }, "replay buffer: "},
		{"I/O counts", func(c *Config) { c.IO = "hold" }, nil, func(r *runner) { r.io.repeatedInputs++ }, "I/O: --io hold with"},
		{"I/O held outputs", nil, nil, func(r *runner) { r.doms.list[0].held = []int64{r.n.refs} }, "I/O: domain 0 holds 1 outputs under --io none"},
		{"failures", nil, nil, func(r *runner) { r.fails.due++ }, "failures: the next failure due"},
		{"cache", func(c *Config) { c.CacheSize, c.CacheWays = 1024, 2 }, nil, breakCache, "cache and TLB: cache: set"},
		{"TLB", func(c *Config) { c.TLBEntries, c.TLBWays = 8, 2 }, nil, breakTLB, "cache and TLB: tlb: page"},
		{"cache geometry", func(c *Config) { c.CacheSize, c.CacheWays = 1024, 2 }, nil, func(r *runner) { r.mem.lineShift++ }, "cache and TLB: lines of"},
		{"verifier counts", func(c *Config) { c.Verify = true }, nil, func(r *runner) { r.ver.mismatches++ }, "verifier: 1 mismatches"},
		{"golden model", func(c *Config) { c.Verify = true }, nil, breakGolden, "verifier: golden model: page"},
		{"golden model's recent pages", func(c *Config) { c.Verify = true }, nil, func(r *runner) { r.ver.golden.recent[5].id = 1 << 20 }, "verifier: golden model: recent entry 5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Interval, cfg.FailAt = 30, []int64{300}
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			broken := false
			opt := Options{CheckEvery: true, wrap: tt.wrap}
			if tt.corrupt != nil {
				opt.corrupt = func(r *runner, _ string) {
					if !broken && r.n.refs >= at {
						broken = true
						tt.corrupt(r)
					}
				}
			}
			_, err := RunWith(cfg, sliceOpener(recs), opt)
			want := fmt.Sprintf("internal check failed after access at access %d: ", at)
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant %s...%s", err, want, tt.want)
			}
			t.Log(err)
		})
	}
}

// TestChecksAfterEveryEvent breaks the counts at the first event of each kind and requires
// the checks to stop the run right there, naming the event and its access.
func TestChecksAfterEveryEvent(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(9, 10)), 400, 1)
	out := traces.Record{Kind: traces.Output, Addr: 1, Size: 8}
	// An output after access 100, and one after access 290, which the failure after
	// access 300 replays.
	recs = slices.Insert(slices.Insert(recs, 290, out), 100, out)
	for _, tt := range []struct {
		event string
		at    int64
	}{
		{"access", 1},
		{"I/O record", 100},
		{"checkpoint", 30},
		{"failure", 300},
		{"recovery", 300},
		{"replayed access", 271},
		{"replayed I/O record", 290},
	} {
		t.Run(tt.event, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Interval, cfg.FailAt, cfg.Verify = 30, []int64{300}, true
			broken := false
			corrupt := func(r *runner, what string) {
				if !broken && what == tt.event {
					broken = true
					r.n.writes++
				}
			}
			_, err := RunWith(cfg, sliceOpener(recs), Options{CheckEvery: true, corrupt: corrupt})
			want := fmt.Sprintf("internal check failed after %s at access %d: counts: ", tt.event, tt.at)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("err = %v\nwant %s...", err, want)
			}
		})
	}
}
