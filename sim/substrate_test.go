package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/vmsim/vmsim/internal/refcache"
	"github.com/vmsim/vmsim/internal/reftlb"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// flat is a memory-level scheme for the driver's tests: memory is a map of page images,
// and a checkpoint copies every page of the domain into a shadow kept apart (it survives
// crashes). broken makes checkpoints forget to copy, which the verifier must catch.
type flat struct {
	m      scheme.Machine
	mem    map[fkey][]uint64
	shadow map[fkey][]uint64
	doms   map[traces.ASID]scheme.Domain
	pages  scheme.PageSet
	copied int64
	broken bool
}

type fkey struct {
	asid traces.ASID
	page uint64
}

func newFlat(m scheme.Machine, broken bool) *flat {
	return &flat{m: m, mem: map[fkey][]uint64{}, shadow: map[fkey][]uint64{}, doms: map[traces.ASID]scheme.Domain{}, broken: broken}
}

func flatInfo(broken bool) *scheme.Info {
	return &scheme.Info{
		Name: "flat", Doc: "test scheme", Level: scheme.LevelMemory,
		RecoversTransient: true, RecoversCrash: true,
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) { return newFlat(m, broken), nil },
	}
}

func (f *flat) Access(run scheme.Run) int {
	shift := uint(12)
	for i, a := range run.Recs {
		f.pages.Add(uint32(a.ASID), a.Addr>>shift, (a.Addr+uint64(a.Size)-1)>>shift, a.Kind.Writes(), run.N+int64(i)+1)
		if run.Verify != nil {
			run.Verify(i)
		}
	}
	return len(run.Recs)
}

func (f *flat) DomainOf(asid traces.ASID) scheme.Domain {
	if !f.m.PerASID {
		return 0
	}
	d, ok := f.doms[asid]
	if !ok {
		d = scheme.Domain(len(f.doms))
		f.doms[asid] = d
	}
	return d
}

func (f *flat) Checkpoint(d scheme.Domain) {
	if f.broken {
		return
	}
	for k, v := range f.mem {
		if f.DomainOf(k.asid) == d {
			f.shadow[k] = slices.Clone(v)
			f.copied += int64(f.m.VerifyBlock) * int64(len(v))
		}
	}
}

func (f *flat) Rollback(d scheme.Domain) {
	for k := range f.mem {
		if f.DomainOf(k.asid) == d {
			f.restore(k)
		}
	}
}

func (f *flat) Crash() {
	for k := range f.mem {
		f.restore(k)
	}
}

// restore returns page k to its shadow (zeros if it has none).
func (f *flat) restore(k fkey) {
	if sh := f.shadow[k]; sh != nil {
		copy(f.mem[k], sh)
	} else {
		clear(f.mem[k])
	}
}

func (f *flat) Image(asid traces.ASID, page uint64, create bool) []uint64 {
	k := fkey{asid, page}
	st := f.mem[k]
	if st == nil && create {
		st = make([]uint64, f.m.PageSize/f.m.VerifyBlock)
		f.mem[k] = st
	}
	return st
}

func (f *flat) Counters(c *scheme.Tally) {
	c.PagesTouched += f.pages.Touched()
	c.PagesWritten += f.pages.Written()
	c.BytesCopied += f.copied
}

func (f *flat) Check() error { return nil }
func (f *flat) Err() error   { return nil }

// TestMemoryLevelBehindCacheVerifies runs a memory-level scheme behind small caches, with
// failures of both kinds: the data that goes through the cache (fills, write-backs,
// flushes before checkpoints, discards at failures) must keep every read and every
// recovery right.
func TestMemoryLevelBehindCacheVerifies(t *testing.T) {
	for trial := range 12 {
		seed := uint64(trial)
		recs := randomTrace(rand.New(rand.NewPCG(seed, 17)), 4000, 1+trial%3)
		cfg := DefaultConfig()
		cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed = "flat", true, 150, 400, seed
		cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = 512, 1<<(trial%4), 64
		cfg.CacheFlush = []CacheFlush{"invalidate", "clean"}[trial%2]
		cfg.Scope = []Scope{"system", "asid"}[trial/2%2]
		if trial%3 == 2 {
			cfg.Failure, cfg.Memory = "crash", "volatile"
		}
		res, err := RunWith(cfg, sliceOpener(recs), Options{Scheme: flatInfo(false), CheckEvery: trial < 4})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		s := res.Stats
		if s.VerifyMismatches != 0 || s.VerifyChecks == 0 || s.Rollbacks+s.Crashes == 0 || s.CacheWritebacks == 0 {
			t.Fatalf("seed %d (%+v): %d mismatches of %d checks, %d rollbacks %d crashes, %d write-backs; first: %s",
				seed, cfg, s.VerifyMismatches, s.VerifyChecks, s.Rollbacks, s.Crashes, s.CacheWritebacks, res.FirstMismatch)
		}
	}
	// And without a cache: every store reaches memory.
	recs := randomTrace(rand.New(rand.NewPCG(1, 1)), 3000, 2)
	cfg := DefaultConfig()
	cfg.Scheme, cfg.Verify, cfg.Interval, cfg.MTBF, cfg.Seed = "flat", true, 100, 300, 1
	if s := mustRun(t, cfg, recs, Options{Scheme: flatInfo(false)}).Stats; s.VerifyMismatches != 0 || s.Rollbacks == 0 {
		t.Fatalf("no cache: %+v", s)
	}
}

func TestVerifierCatchesBrokenMemoryLevelScheme(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(2, 2)), 3000, 1)
	cfg := DefaultConfig()
	cfg.Scheme, cfg.Verify, cfg.Interval, cfg.FailAt = "flat", true, 100, []int64{1234, 2500}
	cfg.CacheSize, cfg.CacheWays = 1024, 2
	res := mustRun(t, cfg, recs, Options{Scheme: flatInfo(true)})
	if res.Stats.VerifyMismatches == 0 {
		t.Fatal("a scheme whose checkpoints copy nothing passed verification")
	}
}

// TestCacheCountsAgainstReference drives the cache model through the run (scheme none:
// the cache counts alongside) and a separately written naive cache straight from the
// records, with checkpoint flushes, over several geometries.
func TestCacheCountsAgainstReference(t *testing.T) {
	type geom struct {
		size  uint64
		ways  int
		line  uint64
		flush string
	}
	for i, g := range []geom{{1 << 10, 1, 16, "invalidate"}, {4 << 10, 4, 64, "invalidate"}, {2 << 10, 2, 32, "clean"}, {8 << 10, 8, 64, "none"}, {1 << 10, 16, 64, "invalidate"}} {
		for _, interval := range []int64{0, 97, 1000} {
			recs := randomTrace(rand.New(rand.NewPCG(uint64(i), uint64(interval))), 5000, 2)
			cfg := DefaultConfig()
			cfg.Scheme, cfg.Interval = "none", interval
			cfg.CacheSize, cfg.CacheWays, cfg.CacheLine, cfg.CacheFlush = g.size, g.ways, g.line, CacheFlush(g.flush)
			s := mustRun(t, cfg, recs, Options{}).Stats
			ref := refcache.New(g.size, g.ways, g.line)
			for n, r := range recs {
				for l := r.Addr / g.line; l <= (r.Addr+uint64(r.Size)-1)/g.line; l++ {
					ref.Access(refcache.Line{ASID: uint32(r.ASID), N: l}, r.Kind.Writes())
				}
				if interval > 0 && (n+1)%int(interval) == 0 && g.flush != "none" {
					ref.Flush(g.flush == "invalidate")
				}
			}
			if s.CacheRefs != ref.Refs || s.CacheMisses != ref.Misses || s.CacheWritebacks != ref.Writebacks ||
				s.CacheFlushLines != ref.Flushed || s.CacheDirtyAtEnd != ref.Dirty() {
				t.Errorf("geometry %+v interval %d: refs %d misses %d writebacks %d flushed %d dirty %d; reference %d %d %d %d %d",
					g, interval, s.CacheRefs, s.CacheMisses, s.CacheWritebacks, s.CacheFlushLines, s.CacheDirtyAtEnd,
					ref.Refs, ref.Misses, ref.Writebacks, ref.Flushed, ref.Dirty())
			}
		}
	}
}

// TestCheckpointFlushesBeforeTheScheme checks, against a generated mock of scheme.Scheme,
// what the driver asks of a memory-level scheme behind a cache: the fill of a write miss,
// then at the checkpoint the flush's write-back of the dirty line, and only then
// Checkpoint; a later read hits and asks nothing.
func TestCheckpointFlushesBeforeTheScheme(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := NewMockScheme(ctrl)
	m.EXPECT().DomainOf(gomock.Any()).Return(scheme.Domain(0)).AnyTimes()
	m.EXPECT().Err().Return(nil).AnyTimes()
	m.EXPECT().Counters(gomock.Any()).AnyTimes()
	line := func(kind traces.Kind, n int64) scheme.Run {
		return scheme.Run{Recs: []traces.Record{{Addr: 0x1000, Size: 64, Kind: kind}}, N: n - 1}
	}
	gomock.InOrder(
		m.EXPECT().Access(line(traces.Read, 1)).Return(1),
		m.EXPECT().Access(line(traces.Write, 2)).Return(1),
		m.EXPECT().Checkpoint(scheme.Domain(0)),
	)
	info := &scheme.Info{Name: "mock", Doc: "mock", Level: scheme.LevelMemory,
		New: func(scheme.Machine, scheme.Params) (scheme.Scheme, error) { return m, nil }}
	cfg := DefaultConfig()
	cfg.Scheme, cfg.Interval, cfg.CacheSize, cfg.CacheFlush = "mock", 2, 4096, "clean"
	recs := []traces.Record{
		{Addr: 0x1008, Size: 8, Kind: traces.Write},
		{Addr: 0x1010, Size: 4, Kind: traces.Read},
		{Addr: 0x1020, Size: 4, Kind: traces.Read},
	}
	if _, err := RunWith(cfg, sliceOpener(recs), Options{Scheme: info}); err != nil {
		t.Fatal(err)
	}
}

func TestSchemeSettings(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Params = map[string]string{"no-such-setting": "1"}
	if _, err := Run(cfg, sliceOpener(nil)); err == nil {
		t.Error("a setting dualmap does not have was accepted")
	}
	cfg = DefaultConfig()
	cfg.Scheme = "flat"
	if _, err := Run(cfg, sliceOpener(nil)); err == nil {
		t.Error("an unregistered scheme name was accepted")
	}
	for _, tt := range []struct {
		name string
		edit func(*Config)
	}{
		{"memory-level scheme with frames", func(c *Config) { c.Frames = 8 }},
		{"memory-level scheme without a flush", func(c *Config) { c.CacheSize, c.CacheFlush = 4096, "none" }},
		{"bad granule", func(c *Config) { c.Granule = 3 }},
		{"verify block larger than a line", func(c *Config) { c.CacheSize, c.Verify, c.VerifyBlock = 4096, true, 128 }},
		{"bad cache geometry", func(c *Config) { c.CacheSize, c.CacheWays = 3000, 2 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Scheme = "flat"
			tt.edit(&cfg)
			if _, err := RunWith(cfg, sliceOpener(nil), Options{Scheme: flatInfo(false)}); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"4096", 4096, true}, {"32K", 32 << 10, true}, {"8m", 8 << 20, true}, {"1G", 1 << 30, true},
		{"", 0, false}, {"K", 0, false}, {"-1", 0, false}, {"1.5K", 0, false}, {"+3", 0, false}, {"1T", 0, false},
		{"99999999999G", 0, false},
	} {
		got, err := ParseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok {
			if back, _ := ParseBytes(FormatBytes(got)); back != got {
				t.Errorf("FormatBytes(%d) = %q does not read back", got, FormatBytes(got))
			}
		}
	}
}

// asker is flat asking for a checkpoint at every 100th access it sees.
type asker struct {
	*flat
	n int
}

func (a *asker) Access(run scheme.Run) int {
	for i := range run.Recs {
		a.flat.Access(scheme.Run{Recs: run.Recs[i : i+1], N: run.N + int64(i)})
		if run.Verify != nil {
			run.Verify(i)
		}
		if a.n++; a.n%100 == 0 {
			a.m.RequestCheckpoint(0)
			a.m.RequestCheckpoint(0) // twice: one checkpoint
			return i + 1
		}
	}
	return len(run.Recs)
}

func TestRequestedCheckpoints(t *testing.T) {
	info := flatInfo(false)
	info.New = func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
		return &asker{flat: newFlat(m, false)}, nil
	}
	recs := randomTrace(rand.New(rand.NewPCG(4, 4)), 1000, 1)
	cfg := DefaultConfig()
	cfg.Scheme, cfg.Verify, cfg.FailAt = "flat", true, []int64{550, 901}
	s := mustRun(t, cfg, recs, Options{Scheme: info}).Stats
	// The scheme's count of accesses (replays included) reaches a multiple of 100 at
	// accesses 100, ..., 500; the failure at 550 replays 50 (count 600: a checkpoint after
	// 550); then at 650, 750 and 850; the failure at 901 replays 51 (count 1002: a
	// checkpoint after 901); then at 999 (count 1100). 11 checkpoints, 101 replayed.
	if s.Checkpoints != 11 || s.VerifyMismatches != 0 || s.ReplayedRefs != 50+51 {
		t.Fatalf("checkpoints %d, mismatches %d, replayed %d", s.Checkpoints, s.VerifyMismatches, s.ReplayedRefs)
	}
}

// TestTLBCountsAgainstReference runs dualmap (which write-protects through the
// translation) and none (which does not, so takes no --tlb-checkpoint tag) with a TLB
// model, flushing or tagging at checkpoints, with failures, and compares with the naive
// model driven from the records.
func TestTLBCountsAgainstReference(t *testing.T) {
	for i, mode := range []string{"flush", "tag", "flush"} {
		sch := []string{"dualmap", "dualmap", "none"}[i]
		recs := randomTrace(rand.New(rand.NewPCG(uint64(i), 3)), 6000, 2)
		cfg := DefaultConfig()
		cfg.Scheme, cfg.Interval, cfg.TLBEntries, cfg.TLBWays, cfg.TLBCheckpoint = sch, 250, 16, 4, TLBCheckpoint(mode)
		if sch == "dualmap" {
			cfg.FailAt = []int64{1300, 4100}
		}
		s := mustRun(t, cfg, recs, Options{}).Stats
		ref := reftlb.New(16, 4)
		var ckpts uint64
		look := func(r traces.Record) {
			tag := uint64(0)
			if mode == "tag" && sch == "dualmap" {
				tag = ckpts
			}
			for p := r.Addr >> 12; p <= (r.Addr+uint64(r.Size)-1)>>12; p++ {
				ref.Lookup(uint32(r.ASID), p, tag, r.Kind.Writes())
			}
		}
		flushes, last := int64(0), 0
		for n, r := range recs {
			look(r)
			if sch == "dualmap" && (n+1 == 1300 || n+1 == 4100) {
				ref.Flush()
				flushes++
				for _, rr := range recs[last : n+1] {
					look(rr)
				}
			}
			if (n+1)%250 == 0 {
				ckpts++
				last = n + 1
				if mode == "flush" && sch == "dualmap" {
					ref.Flush()
					flushes++
				}
			}
		}
		if s.TLBMisses != ref.Misses || s.TLBStale != ref.Stale || s.TLBFlushes != flushes {
			t.Errorf("%s %s: misses %d stale %d flushes %d; reference %d %d %d", sch, mode, s.TLBMisses, s.TLBStale, s.TLBFlushes, ref.Misses, ref.Stale, flushes)
		}
	}
}

// TestFastPathMatchesSlowPath runs random configurations of every registered scheme, on
// traces with checkpoint, fail and I/O records (some right next to each other), in runs
// of many accesses and in runs of one: every counter must agree, the scheme's own and the
// verifier's too (its checks run inside the runs, the scheme.Run hook), and so must the
// first mismatch. It also checks that each scheme implements the one optional interface,
// scheme.IOAware, exactly when its Info says so (Info.IO), and lists which do (the table
// of docs/substrate.md), so that losing one is noticed.
func TestFastPathMatchesSlowPath(t *testing.T) {
	ioAware := map[string]bool{"snaplog": true}
	names := scheme.Names()
	for _, name := range names {
		info, _ := scheme.Lookup(name)
		params := scheme.Params{}
		for _, p := range info.Params {
			params[p.Name] = p.Default
		}
		cfg := DefaultConfig()
		cfg.Verify = true
		s, err := info.New(cfg.machine(), params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, got := s.(scheme.IOAware)
		if got != ioAware[name] || info.IO != got {
			t.Errorf("scheme %s: IOAware %v, Info.IO %v, want %v (update docs/substrate.md and this test)", name, got, info.IO, ioAware[name])
		}
	}
	forced := 0 // trials in which cacheline's log filled and asked for checkpoints
	for trial := range 8 * len(names) {
		seed := uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 31))
		recs := randomTrace(rng, 4000, 1+rng.IntN(3))
		cfg := DefaultConfig()
		cfg.Scheme = names[trial%len(names)]
		info, _ := scheme.Lookup(cfg.Scheme)
		for k := 0; k < 5; k++ { // a few control records, some right after an I/O record
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
		for k := 0; k < 20; k++ { // I/O records
			at := rng.IntN(len(recs))
			io := traces.Record{Kind: []traces.Kind{traces.Input, traces.Output}[rng.IntN(2)], ASID: recs[at].ASID, Addr: 2, Size: 16}
			recs = append(recs[:at], append([]traces.Record{io}, recs[at:]...)...)
		}
		cfg.IO = []IOMode{"none", "hold"}[rng.IntN(2)]
		if cfg.Scheme == "none" || cfg.Scheme == "dualmap" { // the schemes that page
			cfg.Frames = []int{0, 3, 8, 20}[rng.IntN(4)]
			cfg.Replace = []string{"clock", "lru", "fifo", "random"}[rng.IntN(4)]
		}
		cfg.Interval = int64([]int{0, 1, 37, 500}[rng.IntN(4)])
		cfg.Seed = seed
		if rng.IntN(3) == 0 {
			cfg.Scope = "asid"
		}
		if rng.IntN(2) == 0 {
			cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = []uint64{512, 2048}[rng.IntN(2)], 2, 64
			cfg.CacheFlush = []CacheFlush{"invalidate", "clean"}[rng.IntN(2)]
		}
		if rng.IntN(4) == 0 {
			cfg.TLBEntries = 8
		}
		if cfg.Scheme == "cacheline" && rng.IntN(2) == 0 {
			cfg.Params = map[string]string{"log-entries": "40"} // logs fill: forced checkpoints
		}
		if rng.IntN(2) == 0 {
			cfg.Verify, cfg.VerifyBlock = true, []uint64{8, 64}[rng.IntN(2)]
			if info.Level == scheme.LevelCPU && cfg.CacheSize == 0 && rng.IntN(2) == 0 {
				cfg.VerifyBlock = 4096
			}
		}
		if info.RecoversTransient && rng.IntN(3) > 0 {
			cfg.MTBF = 300
			if info.RecoversCrash && rng.IntN(2) == 0 {
				cfg.Failure, cfg.Memory = "crash", "volatile"
			}
		}
		fast := mustRun(t, cfg, recs, Options{})
		slow := mustRun(t, cfg, recs, Options{slow: true})
		if fast.Stats != slow.Stats || fast.FirstMismatch != slow.FirstMismatch {
			t.Fatalf("seed %d %+v:\nfast %+v\nslow %+v", seed, cfg, fast.Stats, slow.Stats)
		}
		if cfg.Verify && fast.Stats.VerifyMismatches != 0 {
			t.Fatalf("seed %d %+v: %d mismatches: %s", seed, cfg, fast.Stats.VerifyMismatches, fast.FirstMismatch)
		}
		if n, _ := fast.Stats.Scheme.Get("forced_checkpoints"); n > 0 {
			forced++
		}
	}
	if forced == 0 {
		t.Error("no trial had a scheme ask for a checkpoint in the middle of a run")
	}
}

// TestMaxPages: every registered scheme stops a run that needs state for more distinct
// pages than --max-pages with the same usage error, naming the budget and the access
// that went past it: on the fast path and off it, with --verify, behind a cache, and
// through --replace opt's pre-pass.
func TestMaxPages(t *testing.T) {
	// 40 accesses, each to a new page: the 9th passes a budget of 8.
	var recs []traces.Record
	for p := range 40 {
		recs = append(recs, traces.Record{Addr: uint64(p) << 12, Size: 8, Kind: traces.Write})
	}
	want := fmt.Sprintf("%v: %v", ErrUsage, &scheme.TooManyPagesError{Max: 8, Access: 9})
	for _, name := range scheme.Names() {
		for _, v := range []struct {
			name string
			slow bool
			edit func(*Config)
		}{
			{"fast path", false, func(*Config) {}},
			{"general loop", true, func(*Config) {}},
			{"verified", false, func(c *Config) { c.Verify = true }},
			{"behind a cache", false, func(c *Config) { c.CacheSize, c.CacheWays = 512, 2 }},
		} {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Scheme, cfg.MaxPages = name, 8
				v.edit(&cfg)
				_, err := RunWith(cfg, sliceOpener(recs), Options{slow: v.slow})
				var tm *scheme.TooManyPagesError
				if !errors.Is(err, ErrUsage) || !errors.Is(err, scheme.ErrTooManyPages) || !errors.As(err, &tm) ||
					err.Error() != want {
					t.Fatalf("err = %v\nwant %s", err, want)
				}
			})
		}
	}
	t.Run("none with opt", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Scheme, cfg.Frames, cfg.Replace, cfg.MaxPages = "none", 4, "opt", 8
		_, err := Run(cfg, sliceOpener(recs))
		var tm *scheme.TooManyPagesError
		if !errors.Is(err, ErrUsage) || !errors.As(err, &tm) || *tm != (scheme.TooManyPagesError{Max: 8, Access: 9}) {
			t.Fatalf("err = %v, want the budget's error at access 9", err)
		}
	})
}

// TestMaxPagesHugeAccess: an access that alone covers more pages than the budget (a size
// field of 4 GiB over 16-byte pages: 2^28 pages, against the default budget of 2^25) is
// refused before any of its pages is touched, by every scheme, at once, allocating next
// to nothing (it took 44 s and 4.4 GB before).
func TestMaxPagesHugeAccess(t *testing.T) {
	recs := []traces.Record{
		{Addr: 0, Size: 1, Kind: traces.Read},
		{Addr: 4096, Size: 0xffffffff, Kind: traces.Write},
		{Addr: 0, Size: 1, Kind: traces.Read},
	}
	want := scheme.TooManyPagesError{Max: DefaultMaxPages, Access: 2, Pages: 1 << 28}
	for _, name := range scheme.Names() {
		for _, v := range []struct {
			name string
			slow bool
			edit func(*Config)
		}{
			{"fast path", false, func(*Config) {}},
			{"general loop", true, func(*Config) {}},
			{"behind a cache", false, func(c *Config) { c.CacheSize, c.CacheWays, c.CacheLine = 512, 2, 16 }},
			{"with opt", false, func(c *Config) { c.Frames, c.Replace = 4, "opt" }},
		} {
			if v.name == "with opt" && name != "none" && name != "dualmap" {
				continue
			}
			t.Run(name+"/"+v.name, func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Scheme, cfg.PageSize = name, 16
				v.edit(&cfg)
				// A granule no larger than the 16-byte page, for the schemes that take one.
				if info, _ := scheme.Lookup(name); info.Granule.UsesGranule(cfg.CacheSize > 0) {
					cfg.Granule = 8
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err := RunWith(cfg, sliceOpener(recs), Options{slow: v.slow})
				runtime.ReadMemStats(&after)
				var tm *scheme.TooManyPagesError
				if !errors.Is(err, ErrUsage) || !errors.As(err, &tm) || *tm != want {
					t.Fatalf("err = %v, want %v", err, &want)
				}
				if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
					t.Errorf("allocated %d MB before refusing the access", n>>20)
				}
			})
		}
	}
}

// TestWarmup: a run with --warmup W counts what the whole run counts less what the run of
// the first W accesses counts (the peaks excepted: they cover the whole run).
func TestWarmup(t *testing.T) {
	recs := randomTrace(rand.New(rand.NewPCG(8, 8)), 5000, 2)
	for _, tt := range []struct {
		name string
		edit func(*Config)
	}{
		{"dualmap fast path", func(c *Config) {}},
		{"dualmap verified", func(c *Config) { c.Verify = true }},
		{"none with a cache and a TLB", func(c *Config) {
			c.Scheme, c.Frames, c.CacheSize, c.CacheWays, c.TLBEntries = "none", 8, 1024, 2, 16
		}},
		{"undo, whose own counters include a peak", func(c *Config) { c.Scheme, c.Frames = "undo", 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Interval, cfg.Frames = 300, 12
			tt.edit(&cfg)
			full := mustRun(t, cfg, recs, Options{}).Stats
			prefix := mustRun(t, cfg, recs[:1800], Options{}).Stats
			cfg.Warmup = 1800
			warm := mustRun(t, cfg, recs, Options{}).Stats
			want := full.Sub(prefix)
			if warm != want {
				t.Fatalf("with --warmup:\n%+v\nwant\n%+v", warm, want)
			}
			if v, ok := warm.Scheme.Get("log_peak_bytes"); ok {
				if fv, _ := full.Scheme.Get("log_peak_bytes"); v != fv || v == 0 {
					t.Errorf("log_peak_bytes %d after the warm-up, want the whole run's %d", v, fv)
				}
			}
		})
	}
	cfg := DefaultConfig()
	cfg.Warmup = 6000
	if _, err := Run(cfg, sliceOpener(recs)); !errors.Is(err, ErrUsage) {
		t.Errorf("a warm-up past the end: %v", err)
	}
}

// amnesiac is a scheme with a bug for the verifier to find: a flat memory whose rollback
// forgets to restore anything. It calls the verifier's hook in its runs.
type amnesiac struct {
	m   scheme.Machine
	mem *scheme.PageData
}

func (f *amnesiac) DomainOf(traces.ASID) scheme.Domain { return 0 }
func (f *amnesiac) Checkpoint(scheme.Domain)           {}
func (f *amnesiac) Rollback(scheme.Domain)             {}
func (f *amnesiac) Crash()                             {}
func (f *amnesiac) Counters(*scheme.Tally)             {}
func (f *amnesiac) Check() error                       { return nil }
func (f *amnesiac) Err() error                         { return nil }
func (f *amnesiac) Image(asid traces.ASID, page uint64, create bool) []uint64 {
	return f.mem.Image(asid, page, create)
}

func (f *amnesiac) Access(run scheme.Run) int {
	for i := range run.Recs {
		if run.Verify != nil {
			run.Verify(i)
		}
	}
	return len(run.Recs)
}

// TestBatchVerifierFindsBug checks that the verifier inside a run (the scheme.Run hook)
// finds the bug that runs of one find, the same number of times.
func TestBatchVerifierFindsBug(t *testing.T) {
	info := &scheme.Info{Name: "amnesiac", Doc: "a rollback that restores nothing", Level: scheme.LevelCPU, RecoversTransient: true,
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
			return &amnesiac{m: m, mem: scheme.NewPageData(m.PageSize, m.VerifyBlock)}, nil
		}}
	recs := randomTrace(rand.New(rand.NewPCG(5, 5)), 20000, 1)
	cfg := DefaultConfig()
	cfg.Scheme, cfg.Interval, cfg.MTBF, cfg.Seed, cfg.Verify = "amnesiac", 500, 3000, 1, true
	fast := mustRun(t, cfg, recs, Options{Scheme: info})
	slow := mustRun(t, cfg, recs, Options{Scheme: info, slow: true})
	if fast.Stats.Rollbacks == 0 || fast.Stats.VerifyMismatches == 0 {
		t.Fatalf("the bug went unseen: %d rollbacks, %d mismatches", fast.Stats.Rollbacks, fast.Stats.VerifyMismatches)
	}
	if fast.Stats != slow.Stats || fast.FirstMismatch != slow.FirstMismatch {
		t.Errorf("fast path %d mismatches (%q), general loop %d (%q)", fast.Stats.VerifyMismatches, fast.FirstMismatch, slow.Stats.VerifyMismatches, slow.FirstMismatch)
	}
}
