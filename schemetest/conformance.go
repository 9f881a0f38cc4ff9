package schemetest

import (
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// Options tune Conformance. The zero value is the default suite.
type Options struct {
	// Trials is the number of random configurations the "fast path" part (runs of many
	// accesses against runs of one) runs (0: 16, or
	// 6 with go test -short).
	Trials int
	// Params are sets of the scheme's own settings (Info.Params, by name) that the random
	// configurations choose among, each set meaning the defaults for what it leaves out
	// (none given: the defaults only).
	Params []map[string]string
	// Seed varies every random choice of the suite (printed with each failure).
	Seed uint64
}

// Conformance runs the conformance suite on the scheme that reg holds under name (reg
// nil: the process-wide registry), each part a subtest of t:
//
//   - "fast path": random configurations (the settings the scheme's Info says it models,
//     a cache and a TLB or not, --scope system or asid, --io none or hold, --verify or not,
//     failures if it recovers them) on random traces with checkpoint, fail and I/O
//     records. Each runs twice, as the driver chooses (runs of many accesses a call of
//     Scheme.Access where the configuration allows it) and with sim.Options.CheckEvery
//     (runs of one, the scheme's Check and the driver's after every event): every
//     counter, the scheme's own included, the verifier's checks of memory and the first
//     mismatch must agree, no check may fail, and --verify must find nothing.
//   - "failures" (a scheme that recovers transient failures): --verify with a failure
//     every few hundred accesses, transient ones, and crashes of volatile memory if the
//     scheme recovers them (Info.RecoversCrash), with and without a cache: no mismatch.
//   - "broken rollback" (the same schemes): the scheme wrapped so that Rollback does
//     nothing must be caught by --verify (mismatches), as must "broken crash", Crash doing
//     nothing, for a scheme that recovers crashes. These check that the other parts would
//     see a scheme that does not recover.
//
// A scheme of another module runs it in its own tests:
//
//	func TestConformance(t *testing.T) {
//		reg := scheme.NewRegistry()
//		reg.Register(Info())
//		schemetest.Conformance(t, reg, "myscheme", schemetest.Options{})
//	}
//
// The runs are small (a few thousand accesses each): the suite takes a second or two.
func Conformance(t *testing.T, reg *scheme.Registry, name string, opt Options) {
	t.Helper()
	if reg == nil {
		reg = scheme.Default()
	}
	info, ok := reg.Lookup(name)
	if !ok {
		t.Fatalf("scheme %q is not registered (the registry holds %v)", name, reg.Names())
	}
	if opt.Trials <= 0 {
		opt.Trials = 16
		if testing.Short() {
			opt.Trials = 6
		}
	}
	t.Run("fast path", func(t *testing.T) { fastPath(t, reg, info, opt) })
	if !info.RecoversTransient {
		return // it keeps no checkpoints: nothing to recover
	}
	t.Run("failures", func(t *testing.T) { failures(t, reg, info, opt) })
	t.Run("broken rollback", func(t *testing.T) { brokenRecovery(t, info, opt, false) })
	if info.RecoversCrash {
		t.Run("broken crash", func(t *testing.T) { brokenRecovery(t, info, opt, true) })
	}
}

// fastPath is the "fast path" part of Conformance.
func fastPath(t *testing.T, reg *scheme.Registry, info scheme.Info, opt Options) {
	for trial := range opt.Trials {
		seed := opt.Seed*1000 + uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 31))
		cfg, recs := randomRun(rng, info, opt.Params)
		fast, err := sim.RunWith(cfg, Opener(recs), sim.Options{Registry: reg})
		if err != nil {
			t.Fatalf("seed %d %+v: %v", seed, cfg, err)
		}
		slow, err := sim.RunWith(cfg, Opener(recs), sim.Options{Registry: reg, CheckEvery: true})
		if err != nil {
			t.Fatalf("seed %d %+v, checked after every event: %v", seed, cfg, err)
		}
		if fast.Stats != slow.Stats || fast.FirstMismatch != slow.FirstMismatch {
			t.Fatalf("seed %d %+v: the run as the driver chooses and the run one access at a time differ:\n%+v\n%+v", seed, cfg, fast.Stats, slow.Stats)
		}
		if fast.Stats.VerifyMismatches != 0 {
			t.Fatalf("seed %d %+v: %d mismatches; first: %s", seed, cfg, fast.Stats.VerifyMismatches, fast.FirstMismatch)
		}
	}
}

// randomRun makes a random configuration of scheme info, within what its Info says it
// models, and a random trace with control and I/O records for it.
func randomRun(rng *rand.Rand, info scheme.Info, params []map[string]string) (sim.Config, []traces.Record) {
	recs := RandomTrace(rng, 2000, 1+rng.IntN(3), 48)
	// A few control records, some right after an I/O record, then I/O records.
	for range 5 {
		at := rng.IntN(len(recs))
		kind := traces.Checkpoint
		if info.RecoversTransient && rng.IntN(3) == 0 {
			kind = traces.Fail
		}
		ins := []traces.Record{{Kind: kind, ASID: recs[at].ASID}}
		if rng.IntN(2) == 0 {
			ins = append([]traces.Record{{Kind: traces.Output, ASID: recs[at].ASID, Addr: 1, Size: 8}}, ins...)
		}
		recs = append(recs[:at], append(ins, recs[at:]...)...)
	}
	for range 20 {
		at := rng.IntN(len(recs))
		io := traces.Record{Kind: []traces.Kind{traces.Input, traces.Output}[rng.IntN(2)], ASID: recs[at].ASID, Addr: 2, Size: 16}
		recs = append(recs[:at], append([]traces.Record{io}, recs[at:]...)...)
	}
	cfg := sim.DefaultConfig()
	cfg.Scheme = info.Name
	cfg.Seed = rng.Uint64()
	cfg.IO = []sim.IOMode{sim.IONone, sim.IOHold}[rng.IntN(2)]
	cfg.Interval = []int64{0, 1, 37, 500}[rng.IntN(4)]
	if rng.IntN(3) == 0 {
		cfg.Scope = "asid"
	}
	// Volatile memory where it changes anything (a crash of it is set below).
	if rng.IntN(2) == 0 && info.VolatileCheckpoints {
		cfg.Memory = sim.MemoryVolatile
	}
	// The paging settings, to a scheme that takes them.
	if info.Takes("frames") {
		cfg.Frames = []int{0, 3, 8, 20}[rng.IntN(4)]
	}
	if info.Takes("replace") {
		cfg.Replace = []string{"clock", "lru", "fifo", "random"}[rng.IntN(4)]
	}
	if info.Takes("initial") {
		cfg.Initial = []string{"image", "zero"}[rng.IntN(2)]
	}
	if info.Takes("vbits") && rng.IntN(2) == 0 {
		cfg.VBits = 2 // checkpoint numbers wrap around
	}
	if rng.IntN(2) == 0 {
		cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = []uint64{512, 2048}[rng.IntN(2)], 2, 64
		cfg.CacheFlush = []sim.CacheFlush{sim.CacheInvalidate, sim.CacheClean}[rng.IntN(2)]
	}
	if rng.IntN(4) == 0 {
		cfg.TLBEntries = 8
		if info.WriteProtects && rng.IntN(2) == 0 {
			cfg.TLBCheckpoint = "tag"
		}
	}
	granule := info.Granule.UsesGranule(cfg.CacheSize > 0)
	if granule {
		cfg.Granule = []uint64{64, 512}[rng.IntN(2)]
	}
	if rng.IntN(2) == 0 {
		cfg.Verify, cfg.VerifyBlock = true, []uint64{8, 64}[rng.IntN(2)]
		if info.Level == scheme.LevelCPU && cfg.CacheSize == 0 && !granule && rng.IntN(2) == 0 {
			cfg.VerifyBlock = 4096
		}
	}
	if info.RecoversTransient && rng.IntN(3) > 0 {
		cfg.MTBF = 300
		if info.RecoversCrash && rng.IntN(2) == 0 {
			cfg.Failure, cfg.Memory = "crash", "volatile"
		}
	}
	if len(params) > 0 {
		cfg.Params = params[rng.IntN(len(params))]
	}
	return cfg, recs
}

// failures is the "failures" part of Conformance.
func failures(t *testing.T, reg *scheme.Registry, info scheme.Info, opt Options) {
	kinds := []sim.Failure{sim.FailureTransient}
	if info.RecoversCrash {
		kinds = append(kinds, sim.FailureCrash)
	}
	for _, kind := range kinds {
		for _, cache := range []bool{false, true} {
			seed := opt.Seed*1000 + 500
			if cache {
				seed++
			}
			rng := rand.New(rand.NewPCG(seed, 7))
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed = info.Name, true, 400, 150, seed
			cfg.Failure = kind
			if kind == "crash" {
				cfg.Memory = "volatile"
			}
			if cache {
				cfg.CacheSize, cfg.CacheWays = 1024, 2
			}
			if len(opt.Params) > 0 {
				cfg.Params = opt.Params[rng.IntN(len(opt.Params))]
			}
			recs := RandomTrace(rng, 20000, 2, 32)
			res, err := sim.RunWith(cfg, Opener(recs), sim.Options{Registry: reg})
			if err != nil {
				t.Fatalf("seed %d %+v: %v", seed, cfg, err)
			}
			s := res.Stats
			if s.VerifyMismatches != 0 {
				t.Fatalf("seed %d %+v: %d mismatches after %d failures; first: %s", seed, cfg, s.VerifyMismatches, recoveries(s), res.FirstMismatch)
			}
			if recoveries(s) < 50 || s.VerifyChecks == 0 {
				t.Fatalf("seed %d %+v: %d failures, %d checks: the suite checked too little", seed, cfg, recoveries(s), s.VerifyChecks)
			}
		}
	}
}

// brokenRecovery is the "broken rollback" part of Conformance (crash: "broken crash"):
// the scheme recovers nothing, and --verify must say so.
func brokenRecovery(t *testing.T, info scheme.Info, opt Options, crash bool) {
	seed := opt.Seed*1000 + 900
	rng := rand.New(rand.NewPCG(seed, 9))
	wrapped := info
	wrapped.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		s, err := info.New(m, p)
		if err != nil {
			return nil, err
		}
		return forgetful(s, crash), nil
	}
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed = info.Name, true, 500, 300, seed
	if crash {
		cfg.Failure, cfg.Memory = "crash", "volatile"
	}
	if len(opt.Params) > 0 {
		cfg.Params = opt.Params[0]
	}
	res, err := sim.RunWith(cfg, Opener(RandomTrace(rng, 20000, 1, 32)), sim.Options{Scheme: &wrapped})
	if err != nil {
		t.Fatalf("seed %d %+v: %v", seed, cfg, err)
	}
	if s := res.Stats; recoveries(s) == 0 || s.VerifyMismatches == 0 {
		t.Fatalf("seed %d %+v: a scheme that recovers nothing went unseen (%d failures, %d checks, no mismatch)", seed, cfg, recoveries(s), s.VerifyChecks)
	}
}

// forgetful wraps s so that its Rollback (crash: its Crash) does nothing. The wrapper
// is an IOAware when s is one (the driver refuses a wrapper that hides it), so that the
// run differs from s's in the recovery only.
func forgetful(s scheme.Scheme, crash bool) scheme.Scheme {
	f := &forgetfulScheme{Scheme: s, crash: crash}
	if io, ok := s.(scheme.IOAware); ok {
		return &forgetfulIO{f, io}
	}
	return f
}

// forgetfulScheme is a scheme whose recovery (Rollback, or Crash when crash) does
// nothing.
type forgetfulScheme struct {
	scheme.Scheme
	crash bool
}

func (f *forgetfulScheme) Rollback(d scheme.Domain) {
	if f.crash {
		f.Scheme.Rollback(d)
	}
}

func (f *forgetfulScheme) Crash() {
	if !f.crash {
		f.Scheme.Crash()
	}
}

// forgetfulIO is a forgetfulScheme that sees I/O records as its scheme does.
type forgetfulIO struct {
	*forgetfulScheme
	io scheme.IOAware
}

func (f *forgetfulIO) IO(rec traces.Record, n int64) { f.io.IO(rec, n) }

// recoveries counts the failures a run recovered from: rollbacks and crashes.
func recoveries(s sim.Stats) int64 { return s.Rollbacks + s.Crashes }
