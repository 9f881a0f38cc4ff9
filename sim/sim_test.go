package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vmsim/vmsim/internal/testseed"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/internal/refsim"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

func sliceOpener(recs []traces.Record) Opener {
	return func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil }
}

// randomTrace makes n accesses over a few address spaces, with sizes that sometimes cross
// page boundaries (4 KiB pages).
func randomTrace(rng *rand.Rand, n, asids int) []traces.Record {
	recs := make([]traces.Record, n)
	kinds := []traces.Kind{traces.Read, traces.Write, traces.Modify, traces.Fetch}
	for i := range recs {
		recs[i] = traces.Record{
			Addr: uint64(rng.IntN(24))<<12 + uint64(rng.IntN(4096)),
			Size: uint32(1 + rng.IntN(16)),
			ASID: traces.ASID(rng.IntN(asids)),
			Kind: kinds[rng.IntN(len(kinds))],
		}
	}
	return recs
}

func mustRun(t *testing.T, cfg Config, recs []traces.Record, opt Options) *Result {
	t.Helper()
	res, err := RunWith(cfg, sliceOpener(recs), opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestCountsAgainstDirectComputation computes refs, reads, writes, pages_touched,
// pages_written, checkpoints and first_writes straight from the trace, with none of the
// emulator's code, and compares.
func TestCountsAgainstDirectComputation(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 11))
	for trial := range 40 {
		asids := 1 + rng.IntN(3)
		recs := randomTrace(rng, 200+rng.IntN(2000), asids)
		cfg := DefaultConfig()
		cfg.Interval = int64(1 + rng.IntN(300))
		cfg.Scope = []Scope{"system", "asid"}[rng.IntN(2)]
		cfg.IgnoreSize = rng.IntN(3) == 0
		cfg.VBits = 1 + rng.IntN(8)
		if rng.IntN(2) == 0 {
			cfg.Frames = 2 + rng.IntN(10)
		}

		type page struct {
			asid traces.ASID
			vpn  uint64
		}
		var want Stats
		touched, written := map[page]bool{}, map[page]bool{}
		inInterval := map[traces.ASID]map[page]bool{} // per domain
		since := map[traces.ASID]int64{}
		dom := func(a traces.ASID) traces.ASID {
			if cfg.Scope == "system" {
				return 0
			}
			return a
		}
		for _, r := range recs {
			want.Refs++
			w := r.Kind == traces.Write || r.Kind == traces.Modify
			if w {
				want.Writes++
			} else {
				want.Reads++
			}
			last := (r.Addr + uint64(r.Size) - 1) >> 12
			if cfg.IgnoreSize {
				last = r.Addr >> 12
			}
			d := dom(r.ASID)
			if inInterval[d] == nil {
				inInterval[d] = map[page]bool{}
			}
			for v := r.Addr >> 12; v <= last; v++ {
				p := page{r.ASID, v}
				touched[p] = true
				if w {
					written[p] = true
					if !inInterval[d][p] {
						inInterval[d][p] = true
						want.FirstWrites++
					}
				}
			}
			if since[d]++; since[d] == cfg.Interval {
				since[d] = 0
				want.Checkpoints++
				inInterval[d] = map[page]bool{}
			}
		}
		want.PagesTouched, want.PagesWritten = int64(len(touched)), int64(len(written))

		got := mustRun(t, cfg, recs, Options{CheckEvery: trial < 5}).Stats
		for _, f := range []struct {
			name      string
			got, want int64
		}{
			{"refs", got.Refs, want.Refs}, {"reads", got.Reads, want.Reads}, {"writes", got.Writes, want.Writes},
			{"pages_touched", got.PagesTouched, want.PagesTouched}, {"pages_written", got.PagesWritten, want.PagesWritten},
			{"checkpoints", got.Checkpoints, want.Checkpoints}, {"first_writes", got.FirstWrites, want.FirstWrites},
		} {
			if f.got != f.want {
				t.Fatalf("seed %d trial %d (%+v): %s = %d, want %d", seed, trial, cfg, f.name, f.got, f.want)
			}
		}
	}
}

func TestFailuresAndReplay(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 12))
	for trial := range 60 {
		recs := randomTrace(rng, 500+rng.IntN(1500), 1+rng.IntN(3))
		cfg := DefaultConfig()
		cfg.Verify = true
		cfg.VerifyBlock = uint64(1) << (2 + rng.IntN(8))
		cfg.Interval = int64(rng.IntN(200))
		cfg.Memory = []Memory{"nonvolatile", "volatile"}[rng.IntN(2)]
		cfg.Failure = []Failure{"transient", "crash"}[rng.IntN(2)]
		cfg.Cow = []string{"copy", "remap"}[rng.IntN(2)]
		cfg.Scope = []Scope{"system", "asid"}[rng.IntN(2)]
		cfg.Replace = []string{"clock", "lru", "fifo", "opt", "random"}[rng.IntN(5)]
		cfg.Steal = []string{"obsolete-first", "policy"}[rng.IntN(2)]
		cfg.Initial = []string{"image", "zero"}[rng.IntN(2)]
		cfg.VBits = 1 + rng.IntN(8)
		cfg.Seed = rng.Uint64()
		if rng.IntN(3) > 0 {
			cfg.Frames = 2 + rng.IntN(12)
		}
		cfg.MTBF = float64(50 + rng.IntN(300))
		cfg.FailAt = []int64{int64(1 + rng.IntN(len(recs)))}
		name := fmt.Sprintf("seed %d trial %d %+v", seed, trial, cfg)

		buffered := mustRun(t, cfg, recs, Options{CheckEvery: trial < 10})
		reread := mustRun(t, cfg, recs, Options{ReplayBuffer: 7})
		s := buffered.Stats
		if s.VerifyMismatches != 0 {
			t.Fatalf("%s: %d mismatches, first: %s", name, s.VerifyMismatches, buffered.FirstMismatch)
		}
		if s != reread.Stats {
			t.Fatalf("%s: replay from the buffer and from the re-read trace differ:\n%+v\n%+v", name, s, reread.Stats)
		}
		if s.Rollbacks+s.Crashes == 0 || s.VerifyChecks == 0 {
			t.Fatalf("%s: no failure or no check: %+v", name, s)
		}
		if cfg.Interval == 0 && cfg.Failure == "transient" && s.ReplayedRefs == 0 {
			t.Fatalf("%s: failures without checkpoints replayed nothing", name)
		}
	}
}

func TestReplayCounts(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(1, 2)), 1000, 1)
	cfg := DefaultConfig()
	cfg.Interval = 100
	cfg.FailAt = []int64{150, 300, 999}
	s := mustRun(t, cfg, recs, Options{}).Stats
	// 150: 50 since the checkpoint at 100; 300: a checkpoint is due at 300, after the
	// failure, so 100 are replayed; 999: 99.
	if s.ReplayedRefs != 50+100+99 || s.Rollbacks != 3 || s.Checkpoints != 10 || s.Refs != 1000 {
		t.Errorf("replayed=%d rollbacks=%d checkpoints=%d refs=%d, want 249, 3, 10, 1000", s.ReplayedRefs, s.Rollbacks, s.Checkpoints, s.Refs)
	}
}

// corrupting is a scheme that loses one write, its 500th write access's data: the
// verifier must notice.
type corrupting struct {
	scheme.Scheme
	n    int
	lose bool // the verifier is storing the lost write: Image hands it a copy
}

func (c *corrupting) Access(run scheme.Run) int {
	if v := run.Verify; v != nil {
		run.Verify = func(i int) {
			if run.Recs[i].Kind.Writes() {
				c.n++
			}
			c.lose = c.n == 500 && run.Recs[i].Kind.Writes()
			v(i)
			c.lose = false
		}
	}
	return c.Scheme.Access(run)
}

func (c *corrupting) Image(asid traces.ASID, page uint64, create bool) []uint64 {
	st := c.Scheme.Image(asid, page, create)
	if c.lose && st != nil {
		return slices.Clone(st) // this write is lost
	}
	return st
}

// forgetful is a scheme whose rollbacks do nothing.
type forgetful struct{ scheme.Scheme }

func (forgetful) Rollback(scheme.Domain) {}

func TestVerifierCatchesBrokenSchemes(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(3, 4)), 3000, 1)
	for _, tt := range []struct {
		name string
		wrap func(scheme.Scheme) scheme.Scheme
	}{
		{"lost write", func(s scheme.Scheme) scheme.Scheme { return &corrupting{Scheme: s} }},
		{"rollback does nothing", func(s scheme.Scheme) scheme.Scheme { return forgetful{s} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Verify, cfg.Interval, cfg.FailAt = true, 100, []int64{1550}
			res := mustRun(t, cfg, recs, Options{wrap: tt.wrap})
			if res.Stats.VerifyMismatches == 0 || res.FirstMismatch == "" {
				t.Fatalf("the verifier missed it: %+v", res.Stats)
			}
		})
	}
	// Without a failure, only the reads that follow see a lost write: the per-access
	// checks, of one block of 64 bytes (the common case) or two, must catch it.
	for _, size := range []uint32{1, 8, 128} {
		t.Run(fmt.Sprintf("lost write read back, accesses of %d bytes", size), func(t *testing.T) {
			sized := slices.Clone(recs)
			for i := range sized {
				sized[i].Addr &^= 127
				sized[i].Size = size
			}
			// Then a read of every address written, so that the lost write is read.
			for _, r := range sized[:len(recs)] {
				if r.Kind.Writes() {
					r.Kind = traces.Read
					sized = append(sized, r)
				}
			}
			cfg := DefaultConfig()
			cfg.Verify, cfg.Interval = true, 100
			res := mustRun(t, cfg, sized, Options{wrap: func(s scheme.Scheme) scheme.Scheme { return &corrupting{Scheme: s} }})
			if res.Stats.VerifyMismatches == 0 || !strings.Contains(res.FirstMismatch, "holds the value of access") {
				t.Fatalf("the verifier missed it: %+v, %q", res.Stats, res.FirstMismatch)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(5, 6)), 5000, 2)
	cfg := DefaultConfig()
	cfg.Frames, cfg.Replace, cfg.Seed, cfg.MTBF, cfg.Interval, cfg.Verify = 6, "random", 42, 700, 250, true
	var outs []string
	for range 3 {
		b, err := json.Marshal(mustRun(t, cfg, recs, Options{}))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	if outs[0] != outs[1] || outs[1] != outs[2] {
		t.Fatalf("runs differ:\n%s\n%s", outs[0], outs[1])
	}
}

func TestBadConfig(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(7, 8)), 100, 1)
	for _, tt := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"page size not a power of two", func(c *Config) { c.PageSize = 3000 }, "--page-size 3000"},
		{"unknown policy", func(c *Config) { c.Replace = "lfu" }, `--replace "lfu"`},
		{"one frame for dualmap", func(c *Config) { c.Frames = 1 }, "at least 2 frames"},
		{"negative frames", func(c *Config) { c.Frames = -4 }, "--frames -4"},
		{"absurd frames", func(c *Config) { c.Frames = 1 << 40 }, "--frames 1099511627776"},
		{"absurd page size", func(c *Config) { c.PageSize = 1 << 40 }, "--page-size 1099511627776"},
		{"too many verify blocks", func(c *Config) { c.Verify, c.PageSize, c.VerifyBlock = true, 1<<30, 1 }, "--verify-block 1"},
		{"vbits 0", func(c *Config) { c.VBits = 0 }, "--vbits 0"},
		{"failures with none", func(c *Config) { c.Scheme, c.FailAt = "none", []int64{5} }, "scheme none"},
		{"failure beyond the trace", func(c *Config) { c.FailAt = []int64{101} }, "--fail-at 101 is beyond the end of the trace (100 accesses)"},
		{"failure at 0", func(c *Config) { c.FailAt = []int64{0} }, "--fail-at 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mod(&cfg)
			_, err := Run(cfg, sliceOpener(recs))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrUsage) {
				t.Fatalf("error %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestBadTraceIsAnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.trace")
	if err := os.WriteFile(path, []byte("10 R\n20 W\n30 Q\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func() (traces.Reader, error) { return traces.Open(path, traces.Options{}) }
	_, err := Run(DefaultConfig(), open)
	if err == nil || !strings.Contains(err.Error(), path+":3:") {
		t.Fatalf("error %v, want one naming %s:3", err, path)
	}
}

// TestStatsSub: Sub subtracts the totals, and keeps the later snapshot's peaks and end
// values, as their kind tags say, the scheme's own counters' too.
func TestStatsSub(t *testing.T) {
	a := Stats{Refs: 10, Writes: 4, Paging: scheme.Paging{FramesPeak: 7, PageFaults: 6},
		Channels: scheme.Channels{MemOverheadPeakBytes: 9, Traps: 8}, CacheDirtyAtEnd: 3, CacheRefs: 20}
	b := Stats{Refs: 3, Writes: 1, Paging: scheme.Paging{FramesPeak: 5, PageFaults: 2},
		Channels: scheme.Channels{MemOverheadPeakBytes: 4, Traps: 1}, CacheDirtyAtEnd: 2, CacheRefs: 5}
	for _, s := range []*Stats{&a, &b} {
		s.Scheme.Set("events", s.Refs*2)
		s.Scheme.Set("held_peak", s.Refs+1)
		s.Scheme.SetKept("held_peak")
	}
	d := a.Sub(b)
	got := []int64{d.Refs, d.Writes, d.FramesPeak, d.PageFaults, d.MemOverheadPeakBytes, d.Traps, d.CacheDirtyAtEnd, d.CacheRefs}
	if want := []int64{7, 3, 7, 4, 9, 7, 3, 15}; !slices.Equal(got, want) {
		t.Errorf("Sub: refs, writes, frames_peak, page_faults, mem_overhead_peak_bytes, traps, cache_dirty_at_end, cache_refs = %v, want %v", got, want)
	}
	if d.Scheme.String() != "events=14;held_peak=11" {
		t.Errorf("Sub: own counters %s, want events=14;held_peak=11", d.Scheme.String())
	}
}

// sharedTrace returns the path of a trace in ../shared/traces, skipping the test when the
// folder is absent (as in a user's clone).
func sharedTrace(t testing.TB, name string) string {
	t.Helper()
	path := sharedTracePath(name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not present: %v", path, err)
	}
	return path
}

// sharedTracePath is where the shared trace name is when the shared traces are present
// beside the repository (a test skips without it: sharedTrace; the replay benchmarks take
// a corpus trace instead: benchTrace).
func sharedTracePath(name string) string { return filepath.Join("..", "..", "shared", "traces", name) }

func fileOpener(path string) Opener {
	return func() (traces.Reader, error) { return traces.Open(path, traces.Options{}) }
}

// TestRealTracesNone compares scheme none with published results for gcc (8 frames) and
// with the naive reference simulator for every policy and several frame counts.
func TestRealTracesNone(t *testing.T) {
	for _, name := range []string{"gcc.trace.gz", "bzip.trace.gz"} {
		path := sharedTrace(t, name)
		all, err := traces.ReadAll(mustOpen(t, path))
		if err != nil {
			t.Fatal(err)
		}
		refs := make([]refsim.Ref, len(all))
		for i, r := range all {
			refs[i] = refsim.Ref{Page: r.Addr >> 12, Write: r.Kind.Writes()}
		}
		for _, frames := range []int{8, 64} {
			for _, policy := range []string{"lru", "fifo", "clock", "opt"} {
				if policy == "opt" && frames > 8 && testing.Short() {
					continue
				}
				cfg := DefaultConfig()
				cfg.Scheme, cfg.Frames, cfg.Replace = "none", frames, policy
				res, err := Run(cfg, fileOpener(path))
				if err != nil {
					t.Fatal(err)
				}
				f, w := refsim.Simulate(policy, frames, refs)
				if res.Stats.PageFaults != f || res.Stats.DiskWrites != w {
					t.Errorf("%s %s %d frames: faults=%d writes=%d, reference %d %d", name, policy, frames, res.Stats.PageFaults, res.Stats.DiskWrites, f, w)
				}
				// Published by several independent course simulators for these traces.
				if name == "gcc.trace.gz" && frames == 8 {
					pub := map[string][2]int64{"opt": {118480, 15031}, "clock": {181856, 29401}}
					if p, ok := pub[policy]; ok && (res.Stats.PageFaults != p[0] || res.Stats.DiskWrites != p[1]) {
						t.Errorf("gcc %s 8 frames: %d faults, %d writes; published %d, %d", policy, res.Stats.PageFaults, res.Stats.DiskWrites, p[0], p[1])
					}
				}
			}
		}
	}
}

func mustOpen(t *testing.T, path string) *traces.File {
	t.Helper()
	f, err := traces.Open(path, traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestRealTracesVerify injects many failures into the real traces, in both memory models,
// and requires the golden model to find nothing wrong.
func TestRealTracesVerify(t *testing.T) {
	for _, name := range []string{"gcc.trace.gz", "bzip.trace.gz"} {
		path := sharedTrace(t, name)
		for _, c := range []struct {
			memory, failure, cow string
			frames               int
		}{
			{"nonvolatile", "transient", "copy", 0},
			{"nonvolatile", "crash", "remap", 48},
			{"volatile", "crash", "copy", 0},
			{"volatile", "crash", "remap", 48},
			{"volatile", "transient", "copy", 16},
		} {
			cfg := DefaultConfig()
			cfg.Verify, cfg.Memory, cfg.Failure, cfg.Cow, cfg.Frames = true, Memory(c.memory), Failure(c.failure), c.cow, c.frames
			cfg.Interval, cfg.MTBF, cfg.Seed, cfg.VBits = 10000, 25000, 9, 3
			res, err := Run(cfg, fileOpener(path))
			if err != nil {
				t.Fatal(err)
			}
			s := res.Stats
			if s.VerifyMismatches != 0 || s.Rollbacks+s.Crashes < 20 || s.VerifyChecks < s.Reads {
				t.Errorf("%s %+v: %d mismatches (%s), %d failures, %d checks", name, c, s.VerifyMismatches, res.FirstMismatch, s.Rollbacks+s.Crashes, s.VerifyChecks)
			}
		}
	}
}

func ExampleRun() {
	trace := []traces.Record{
		{Addr: 0x1000, Size: 4, Kind: traces.Write},
		{Addr: 0x1004, Size: 4, Kind: traces.Read},
		{Addr: 0x2ffe, Size: 4, Kind: traces.Write}, // crosses into page 0x3
		{Addr: 0x1000, Size: 4, Kind: traces.Write},
	}
	cfg := DefaultConfig()
	cfg.Interval = 2
	res, err := Run(cfg, func() (traces.Reader, error) { return traces.NewSliceReader(trace), nil })
	if err != nil {
		panic(err)
	}
	s := res.Stats
	fmt.Println(s.Refs, s.Writes, s.PagesTouched, s.Checkpoints, s.FirstWrites)
	// Output: 4 3 3 2 4
}

// TestReplaySeeksInVMT replays from a seekable vmt file (the replay buffer too small, so
// every replay re-reads the trace, jumping to the last checkpoint) and expects the same
// counts as replaying from memory.
func TestReplaySeeksInVMT(t *testing.T) {
	recs := sampleRecords(t)
	path := filepath.Join(t.TempDir(), "s.vmt")
	out, _ := os.Create(path)
	w, _ := traces.NewVMTWriter(out, traces.VMTOptions{BlockRecords: 4096, Compress: true})
	w.Write(recs)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	seeks := 0
	open := func() (traces.Reader, error) {
		f, err := traces.Open(path, traces.Options{})
		return &countSeeks{f, &seeks}, err
	}
	cfg := DefaultConfig()
	cfg.Interval, cfg.MTBF, cfg.Seed, cfg.Verify = 20000, 60000, 3, true
	for _, fail := range []string{"transient", "crash"} {
		cfg.Failure = Failure(fail)
		fromFile, err := RunWith(cfg, open, Options{ReplayBuffer: 100})
		if err != nil {
			t.Fatal(err)
		}
		inMemory := mustRun(t, cfg, recs, Options{})
		if fromFile.Stats != inMemory.Stats || fromFile.Stats.VerifyMismatches != 0 || fromFile.Stats.ReplayedRefs == 0 {
			t.Errorf("%s: from the vmt file %+v\nin memory %+v", fail, fromFile.Stats, inMemory.Stats)
		}
	}
	if seeks == 0 {
		t.Error("the replays never seeked")
	}
}

type countSeeks struct {
	*traces.File
	n *int
}

func (c *countSeeks) SeekAccess(n uint64) error { *c.n++; return c.File.SeekAccess(n) }

// testSeed returns the seed of a randomized test: $VMSIM_TEST_SEED when set, to rerun a
// failure, else a fresh random one. It logs the seed, which a failing test prints.
func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }

// TestSeedFromEnv: VMSIM_TEST_SEED reruns a randomized test with the seed it printed.
func TestSeedFromEnv(t *testing.T) {
	t.Setenv("VMSIM_TEST_SEED", "12345")
	if s := testSeed(t); s != 12345 {
		t.Errorf("seed %d, want 12345", s)
	}
}
