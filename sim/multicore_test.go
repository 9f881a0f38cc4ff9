package sim

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coherence"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// threadTrace makes n accesses of threads threads in each of asids address spaces, in
// runs of one thread (switching every few accesses): each thread reads and writes a few
// pages shared by its address space's threads and pages of its own, with sizes that cross
// lines and, now and then, pages (4 KiB).
func threadTrace(rng *rand.Rand, n, asids, threads int) []traces.Record {
	recs := make([]traces.Record, n)
	kinds := []traces.Kind{traces.Read, traces.Write, traces.Modify, traces.Fetch}
	th := 0
	for i := range recs {
		if rng.IntN(5) == 0 {
			th = rng.IntN(asids * threads)
		}
		tid := th/asids + 1
		page := uint64(rng.IntN(3)) // shared by the address space's threads
		if rng.IntN(2) == 0 {
			page = 8 + uint64(tid)*4 + uint64(rng.IntN(4))
		}
		recs[i] = traces.Record{
			Addr:   page<<12 + uint64(rng.IntN(4096)),
			Size:   uint32(1 + rng.IntN(80)),
			ASID:   traces.ASID(th % asids),
			Thread: traces.TID(tid),
			Kind:   kinds[rng.IntN(len(kinds))],
		}
	}
	return recs
}

// TestValidateCores: the multi-core settings' problems, each naming its flags.
func TestValidateCores(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *Config)
		want string // "" for a valid configuration
	}{
		{"four cores with a cache", func(c *Config) { c.Cores, c.CacheSize = 4, 4096 }, ""},
		{"64 cores", func(c *Config) { c.Cores, c.CacheSize = 64, 4096 }, ""},
		{"recorded", func(c *Config) { c.Cores, c.CacheSize, c.Schedule = 2, 4096, schedule.Recorded }, ""},
		{"recorded, the quantum at its default", func(c *Config) {
			c.Cores, c.CacheSize, c.Schedule, c.Quantum = 2, 4096, schedule.Recorded, DefaultQuantum
		}, ""},
		{"a quantum of one", func(c *Config) { c.Cores, c.CacheSize, c.Quantum = 2, 4096, 1 }, ""},
		{"no cores", func(c *Config) { c.Cores = 0 }, "--cores 0: want 1 to 64"},
		{"65 cores", func(c *Config) { c.Cores, c.CacheSize = 65, 4096 }, "--cores 65: want 1 to 64"},
		{"cores without a cache", func(c *Config) { c.Cores = 4 }, "--cores 4: the cores' private caches need a cache model: give --cache-size"},
		{"an unknown schedule", func(c *Config) { c.Cores, c.CacheSize, c.Schedule = 2, 4096, "fair" }, `--schedule "fair": want one of [recorded round-robin]`},
		{"a schedule of one core", func(c *Config) { c.Schedule = schedule.Recorded }, "--schedule recorded: one core (--cores 1) has no schedule"},
		{"a quantum of one core", func(c *Config) { c.Quantum = 5 }, "--quantum 5: one core (--cores 1) has no schedule"},
		{"a quantum of zero", func(c *Config) { c.Cores, c.CacheSize, c.Quantum = 2, 4096, 0 }, "--quantum 0: want a quantum of 1 access or more"},
		{"a quantum under recorded", func(c *Config) { c.Cores, c.CacheSize, c.Schedule, c.Quantum = 2, 4096, schedule.Recorded, 5 },
			"--quantum 5: only --schedule round-robin has a quantum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestOneCoreMachineIsTheOneCache: the multi-core machine of one core, through the
// driver's multi-core path (the scheduler, walkCores, the flushes, discards and
// --verify's reads of every core), counts exactly as the one cache does, for every
// scheme, with checkpoints, failures, both scopes and --verify.
func TestOneCoreMachineIsTheOneCache(t *testing.T) {
	seed := testSeed(t)
	names := scheme.Names()
	for trial := range 2 * len(names) {
		rng := rand.New(rand.NewPCG(seed, uint64(trial)))
		cfg := DefaultConfig()
		cfg.Scheme = names[trial%len(names)]
		info, _ := scheme.Lookup(cfg.Scheme)
		recs := threadTrace(rng, 3000, 1+rng.IntN(2), 1+rng.IntN(4))
		cfg.CacheSize, cfg.CacheWays = []uint64{1024, 4096}[rng.IntN(2)], 2
		cfg.CacheFlush = []CacheFlush{CacheInvalidate, CacheClean}[rng.IntN(2)]
		if info.Level != scheme.LevelMemory && rng.IntN(3) == 0 {
			cfg.CacheFlush = CacheNoFlush
		}
		cfg.Scope = []Scope{ScopeSystem, ScopeASID}[rng.IntN(2)]
		cfg.Interval = int64([]int{0, 37, 300}[rng.IntN(3)])
		cfg.Verify = rng.IntN(4) > 0
		cfg.Seed = rng.Uint64()
		if info.RecoversTransient {
			cfg.MTBF = float64(100 + rng.IntN(400))
		}
		name := fmt.Sprintf("seed %d trial %d %+v", seed, trial, cfg)
		one := mustRun(t, cfg, recs, Options{})
		machine, err := RunWith(cfg, sliceOpener(recs), Options{oneCoreMachine: true, CheckEvery: trial%3 == 0})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if machine.Stats != one.Stats || machine.FirstMismatch != one.FirstMismatch {
			t.Fatalf("%s: one core's machine differs from the one cache:\nmachine %+v\ncache   %+v", name, machine.Stats, one.Stats)
		}
		if one.Stats.VerifyMismatches != 0 {
			t.Fatalf("%s: %s", name, one.FirstMismatch)
		}
	}
}

// TestCoresAgainstTheMachineDriven: --cores N with round-robin gives the counts of a
// coherence.Machine driven directly, each access's lines on the core a schedule.Scheduler
// gives, flushed every --interval accesses, for a CPU-level and memory-level schemes.
func TestCoresAgainstTheMachineDriven(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 23))
	recs := threadTrace(rng, 20000, 2, 5)
	for _, tt := range []struct {
		scheme   string
		cores    int
		quantum  int64
		interval int64
		flush    CacheFlush
	}{
		{"dualmap", 2, 1, 0, CacheInvalidate},
		{"dualmap", 4, 7, 500, CacheClean},
		{"none", 4, 100, 0, CacheInvalidate},
		{"undo", 4, 100, 0, CacheInvalidate},
		{"undo", 3, 13, 700, CacheInvalidate},
		{"bitmap", 8, 1000, 300, CacheClean},
		{"blockstate", 16, 5, 1000, CacheInvalidate},
	} {
		name := fmt.Sprintf("%s %d cores quantum %d interval %d %s", tt.scheme, tt.cores, tt.quantum, tt.interval, tt.flush)
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Scheme, cfg.Cores, cfg.Quantum, cfg.Interval, cfg.CacheFlush = tt.scheme, tt.cores, tt.quantum, tt.interval, tt.flush
			cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = 2048, 4, 64
			got := mustRun(t, cfg, recs, Options{}).Stats

			mc, err := coherence.New(tt.cores, cache.Geometry{Size: 2048, Ways: 4, Line: 64}, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			sched, err := schedule.New(schedule.Options{Policy: schedule.RoundRobin, Cores: tt.cores, Quantum: tt.quantum})
			if err != nil {
				t.Fatal(err)
			}
			for i, rec := range recs {
				core, err := sched.Core(schedule.Thread{ASID: rec.ASID, TID: rec.Thread}, schedule.NoCPU)
				if err != nil {
					t.Fatal(err)
				}
				for l := rec.Addr >> 6; l <= (rec.Addr+uint64(rec.Size)-1)>>6; l++ {
					mc.Access(core, cache.Line{ASID: rec.ASID, N: l}, rec.Kind.Writes())
				}
				if tt.interval > 0 && int64(i+1)%tt.interval == 0 {
					mc.Flush(tt.flush == CacheInvalidate)
				}
			}
			var want Stats
			for c := range tt.cores {
				cc := mc.CacheCounters(c)
				want.CacheRefs += cc.Refs
				want.CacheMisses += cc.Misses
				want.CacheWritebacks += cc.Writebacks
				want.CacheFlushLines += cc.FlushLines
				want.CacheDirtyAtEnd += mc.Dirty(c)
			}
			want.CohInvalidations, want.CohDowngrades, want.CohTransfers = mc.C.Invalidations, mc.C.Downgrades, mc.C.Transfers
			type counts struct{ refs, misses, wbs, flushed, dirty, inv, down, xfer int64 }
			g := counts{got.CacheRefs, got.CacheMisses, got.CacheWritebacks, got.CacheFlushLines, got.CacheDirtyAtEnd, got.CohInvalidations, got.CohDowngrades, got.CohTransfers}
			w := counts{want.CacheRefs, want.CacheMisses, want.CacheWritebacks, want.CacheFlushLines, want.CacheDirtyAtEnd, want.CohInvalidations, want.CohDowngrades, want.CohTransfers}
			if g != w {
				t.Errorf("seed %d: the run counts %+v, the machine driven directly %+v", seed, g, w)
			}
			if w.inv == 0 || w.xfer == 0 {
				t.Errorf("seed %d: no coherence traffic (%+v): the trace tests nothing", seed, w)
			}
		})
	}
}

// writeThreadVMT writes recs to a vmt file with thread ids (version 2) in dir.
func writeThreadVMT(t *testing.T, dir string, recs []traces.Record) string {
	t.Helper()
	path := filepath.Join(dir, "threads.vmt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.NewVMTWriter(f, traces.VMTOptions{Threads: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCoresVerifyEveryScheme: every registered scheme runs on four cores with --verify,
// under failures when it recovers, with one domain for all and one per address space, on
// a multi-thread vmt file, with zero mismatches; checking every invariant after every
// event changes no count.
func TestCoresVerifyEveryScheme(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 4))
	path := writeThreadVMT(t, t.TempDir(), threadTrace(rng, 4000, 2, 4))
	for _, name := range scheme.Names() {
		info, _ := scheme.Lookup(name)
		for _, scope := range Scopes {
			t.Run(name+" "+string(scope), func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Scheme, cfg.Scope, cfg.Cores, cfg.Quantum = name, scope, 4, 50
				cfg.CacheSize, cfg.CacheWays = 2048, 2
				cfg.Interval, cfg.Verify, cfg.Seed = 400, true, seed
				if info.RecoversTransient {
					cfg.MTBF = 300
				}
				checked, err := RunWith(cfg, fileOpener(path), Options{CheckEvery: true})
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				plain, err := RunWith(cfg, fileOpener(path), Options{})
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				s := plain.Stats
				switch {
				case checked.Stats != s:
					t.Fatalf("seed %d: the checks changed the counts:\nchecked %+v\nplain   %+v", seed, checked.Stats, s)
				case s.VerifyMismatches != 0:
					t.Fatalf("seed %d: %d mismatches of %d checks: %s", seed, s.VerifyMismatches, s.VerifyChecks, plain.FirstMismatch)
				case s.VerifyChecks == 0 || s.Refs != 4000 || s.CohInvalidations == 0:
					t.Fatalf("seed %d: %d checks, %d accesses, %d invalidations: the run tested nothing", seed, s.VerifyChecks, s.Refs, s.CohInvalidations)
				case info.RecoversTransient && s.Rollbacks == 0:
					t.Fatalf("seed %d: no failure struck", seed)
				}
			})
		}
	}
}

// drmemtraceSample is the public drmemtrace sample's directory (21 threads with cpu
// markers); the test skips when it is absent.
func drmemtraceSample(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob("../../shared/traces/drmemtrace/threadsig/drmemtrace.threadsig.*.dir")
	if len(matches) == 0 {
		t.Skip("the drmemtrace sample is not in ../../shared/traces/drmemtrace")
	}
	return matches[0]
}

// prefix is a trace's first n records, with the cpus of its reader.
type prefix struct {
	f    *traces.File
	left int
}

func (p *prefix) Read(out []traces.Record) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n, err := p.f.Read(out[:min(len(out), p.left)])
	p.left -= n
	return n, err
}

func (p *prefix) CPU() int     { return p.f.CPU() }
func (p *prefix) Close() error { return p.f.Close() }

// TestCoresOnDrmemtrace: every scheme on four cores, scheduled as the drmemtrace sample
// recorded its cpus (and round-robin), with --verify and failures: zero mismatches.
func TestCoresOnDrmemtrace(t *testing.T) {
	dir := drmemtraceSample(t)
	const n = 150000
	open := func() (traces.Reader, error) {
		f, err := traces.Open(dir, traces.Options{})
		if err != nil {
			return nil, err
		}
		return &prefix{f: f, left: n}, nil
	}
	for _, name := range scheme.Names() {
		info, _ := scheme.Lookup(name)
		for _, policy := range schedule.Policies {
			t.Run(name+" "+string(policy), func(t *testing.T) {
				cfg := DefaultConfig()
				cfg.Scheme, cfg.Cores, cfg.Schedule = name, 4, policy
				if policy == schedule.RoundRobin {
					cfg.Quantum = 1000
				}
				cfg.CacheSize, cfg.Interval, cfg.Verify, cfg.Seed = 8192, 20000, true, 1
				if info.RecoversTransient {
					cfg.MTBF = 15000
				}
				res, err := RunWith(cfg, open, Options{})
				if err != nil {
					t.Fatal(err)
				}
				s := res.Stats
				if s.VerifyMismatches != 0 || s.Refs != n || s.CohTransfers == 0 {
					t.Fatalf("%d mismatches of %d checks (%s), %d accesses, %d transfers", s.VerifyMismatches, s.VerifyChecks, res.FirstMismatch, s.Refs, s.CohTransfers)
				}
			})
		}
	}
}

// TestRecordedNeedsCPUs: --schedule recorded on a trace that records no cpus is a usage
// error naming the access, the thread and the way out.
func TestRecordedNeedsCPUs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Scheme, cfg.Cores, cfg.Schedule, cfg.CacheSize = "undo", 2, schedule.Recorded, 4096
	recs := threadTrace(rand.New(rand.NewPCG(1, 2)), 100, 1, 2)
	path := writeThreadVMT(t, t.TempDir(), recs)
	for _, open := range []Opener{sliceOpener(recs), fileOpener(path)} {
		_, err := RunWith(cfg, open, Options{})
		want := fmt.Sprintf("access 1: --schedule recorded: thread %d of address space 0 has no recorded cpu (only drmemtrace traces record cpus: use --schedule round-robin)", recs[0].Thread)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want a usage error %q", err, want)
		}
	}
}

// TestCoresChecksCatch: the cache room's check of the multi-core machine catches each
// broken invariant, with --check, naming the room.
func TestCoresChecksCatch(t *testing.T) {
	recs := threadTrace(rand.New(rand.NewPCG(5, 6)), 500, 1, 3)
	for _, tt := range []struct {
		name    string
		corrupt func(h *hierarchy)
		want    string
	}{
		{"a core beyond the machine", func(h *hierarchy) { h.lastCore = 4 }, "the last thread's on core 4, of 4"},
		{"a thread's core forgotten", func(h *hierarchy) {
			for th := range h.threadCore {
				if th != h.last {
					delete(h.threadCore, th)
					return
				}
			}
			panic("no other thread")
		}, "the cores of"},
		{"a schedule of other cores", func(h *hierarchy) {
			h.sched, _ = schedule.New(schedule.Options{Policy: schedule.RoundRobin, Cores: 2, Quantum: 1})
		}, "a schedule of 2 cores for 4 cores"},
		{"no scheduler", func(h *hierarchy) { h.sched = nil }, "cores true with a scheduler false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Scheme, cfg.Cores, cfg.Quantum, cfg.CacheSize, cfg.CacheWays = "undo", 4, 20, 1024, 2
			done := false
			corrupt := func(r *runner, what string) {
				if !done && what == "access" && r.n.refs == 300 {
					done = true
					tt.corrupt(r.mem)
				}
			}
			_, err := RunWith(cfg, sliceOpener(recs), Options{CheckEvery: true, corrupt: corrupt})
			if err == nil || !strings.Contains(err.Error(), "cache and TLB: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want the cache room's naming %q", err, tt.want)
			}
		})
	}
}
