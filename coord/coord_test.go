package coord

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

var geom = cache.Geometry{Size: 32 << 10, Ways: 8, Line: 64}

// randomTrace returns n accesses of threads threads of one process: each thread mostly
// on its own 16 lines, else on 128 shared lines, 1 to 16 bytes (some crossing into the
// next line), reads, writes, modifies and fetches. Its footprint, 128 + 16 × threads
// consecutive lines, never makes a 32 KiB 8-way cache of 64-byte lines (64 sets) replace a
// line for up to 24 threads.
func randomTrace(rng *rand.Rand, threads, n int) []record.Record {
	recs := make([]record.Record, 0, n)
	th := 0
	for len(recs) < n {
		if rng.IntN(8) == 0 {
			th = rng.IntN(threads)
		}
		r := record.Record{ASID: 1, Thread: record.TID(10 + th), Size: uint32(1 + rng.IntN(16))}
		if rng.IntN(3) == 0 {
			r.Addr = uint64(rng.IntN(128)) * 64
		} else {
			r.Addr = uint64(128+16*th+rng.IntN(16)) * 64
		}
		r.Addr += uint64(rng.IntN(64))
		if r.Addr+uint64(r.Size) > uint64(128+16*threads)*64 {
			r.Addr -= 64
		}
		r.Kind = []record.Kind{record.Read, record.Read, record.Write, record.Write, record.Modify, record.Fetch}[rng.IntN(6)]
		recs = append(recs, r)
	}
	return recs
}

// coresOf returns the core of each record under cfg's schedule.
func coresOf(t testing.TB, cfg Config, recs []record.Record) []int {
	t.Helper()
	s, err := schedule.New(schedule.Options{Policy: cfg.Policy, Cores: cfg.Cores, Quantum: cfg.Quantum})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(recs))
	for i, r := range recs {
		if out[i], err = s.Core(schedule.Thread{ASID: r.ASID, TID: r.Thread}, schedule.NoCPU); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// runChecked runs cfg on recs with the engine's invariants checked every few accesses
// and at the end.
func runChecked(t testing.TB, cfg Config, recs []record.Record) (Stats, error) {
	t.Helper()
	e, err := newEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cores := coresOf(t, cfg, recs)
	for i, r := range recs {
		e.step(r, cores[i])
		if i%97 == 0 {
			if err := e.Check(); err != nil {
				t.Fatalf("after access %d: %v", i+1, err)
			}
		}
	}
	if err := e.Check(); err != nil {
		t.Fatalf("at the end: %v", err)
	}
	st := e.stats()
	if e.ver != nil {
		return st, e.ver.err()
	}
	return st, nil
}

func baseConfig(s Scheme, cores int) Config {
	return Config{Scheme: s, Cores: cores, Cache: geom, Policy: schedule.RoundRobin, Quantum: 40,
		Interval: 100, FailCore: AnyCore, Verify: true, VerifyBlock: 8}
}

// Both schemes against the naive model, on random traces, with failures, verified.
func TestAgainstNaive(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, s := range Schemes {
		for _, cores := range []int{2, 3, 4, 8} {
			for trial := range 4 {
				name := fmt.Sprintf("%s/cores=%d/%d", s, cores, trial)
				t.Run(name, func(t *testing.T) {
					cfg := baseConfig(s, cores)
					cfg.Quantum = int64(1 + rng.IntN(60))
					cfg.Interval = int64(10 + rng.IntN(150))
					cfg.MTBF = float64(50 + rng.IntN(1500))
					cfg.Seed = rng.Uint64()
					if trial == 3 {
						cfg.MaxAge = int64(20 + rng.IntN(100)) // timeouts often
					}
					recs := randomTrace(rng, cores+rng.IntN(3), 4000+rng.IntN(4000))
					cfg.FailAt = []int64{int64(len(recs) / 2)} // at least one failure
					st, err := runChecked(t, cfg, recs)
					if err != nil {
						t.Fatalf("seed %d: %v", seed, err)
					}
					nm := newNaiveModel(cfg)
					want := nm.run(recs, coresOf(t, cfg, recs), naiveFailures(cfg, int64(len(recs))))
					got := naiveOut{st.Checkpoints, st.TimeoutCheckpoints, st.CoresPerCheckpoint, st.Rollbacks, st.CoresPerRollback,
						st.DependenceEdges, st.LostAccesses, st.LogEntries, st.FlushLines, st.TransferWritebacks}
					if got != want {
						t.Errorf("seed %d, %+v:\n got %+v\nwant %+v", seed, cfg, got, want)
					}
					checkIdentities(t, cfg, st)
					if st.CacheWritebacks != st.CacheFlushLines {
						t.Errorf("seed %d: %d write-backs, %d of flushes: the trace made caches replace lines", seed, st.CacheWritebacks, st.CacheFlushLines)
					}
					if st.Rollbacks == 0 || st.Checkpoints == 0 || st.VerifyChecks == 0 {
						t.Errorf("seed %d: %d rollbacks, %d checkpoints, %d checks: nothing tested", seed, st.Rollbacks, st.Checkpoints, st.VerifyChecks)
					}
				})
			}
		}
	}
}

// Both schemes verified under many failures on random traces with small caches, which
// replace lines (the naive model cannot follow those): zero mismatches and orphans.
func TestVerifyUnderFailures(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, s := range Schemes {
		for _, cores := range []int{1, 2, 4, 16} {
			t.Run(fmt.Sprintf("%s/cores=%d", s, cores), func(t *testing.T) {
				cfg := baseConfig(s, cores)
				cfg.Cache = cache.Geometry{Size: 1 << 10, Ways: 2, Line: 64}
				cfg.Interval = int64(20 + rng.IntN(300))
				cfg.MTBF = float64(30 + rng.IntN(500))
				cfg.Seed = rng.Uint64()
				cfg.VerifyBlock = []uint64{1, 8, 64}[rng.IntN(3)]
				recs := randomTrace(rng, cores+1, 20000)
				st, err := runChecked(t, cfg, recs)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				checkIdentities(t, cfg, st)
				if st.Rollbacks < 10 || st.VerifyChecks == 0 || st.CacheWritebacks == st.CacheFlushLines {
					t.Errorf("seed %d: %d rollbacks, %d checks, %d write-backs of which %d by flushes: not the test meant", seed, st.Rollbacks, st.VerifyChecks, st.CacheWritebacks, st.CacheFlushLines)
				}
			})
		}
	}
}

// checkIdentities checks the identities between the counters (docs/coordinated.md,
// "Counters").
func checkIdentities(t *testing.T, cfg Config, st Stats) {
	t.Helper()
	c, n := st.Counters, int64(cfg.Cores)
	L := int64(cfg.Cache.Line)
	ok := c.FlushLines == c.CacheFlushLines && c.BytesLogged == c.LogEntries*L && c.FlushBytes == c.FlushLines*L &&
		c.TimeoutCheckpoints <= c.Checkpoints && c.CoresPerCheckpoint <= c.Checkpoints*n && c.CoresPerRollback <= c.Rollbacks*n &&
		c.Checkpoints <= c.CoresPerCheckpoint && c.Rollbacks <= c.CoresPerRollback
	if cfg.Scheme == Global {
		ok = ok && c.CoresPerCheckpoint == c.Checkpoints*n && c.CoresPerRollback == c.Rollbacks*n && c.DependenceEdges == 0 && c.TransferWritebacks == 0
	} else {
		ok = ok && c.TransferWritebacks == c.CohTransfers-c.CohDowngrades
	}
	if !ok {
		t.Errorf("%s on %d cores: the counters' identities do not hold: %+v", cfg.Scheme, n, c)
	}
}

// TestCountersDocumented fails when a counter has no row in docs/coordinated.md.
func TestCountersDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/coordinated.md")
	if err != nil {
		t.Fatal(err)
	}
	defs, err := scheme.CounterDefsOf(reflect.TypeFor[Counters]())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		if !strings.Contains(string(b), "| `"+d.Key+"` |") {
			t.Errorf("docs/coordinated.md has no row for the counter `%s`", d.Key)
		}
	}
}

// CounterDefs and Values agree with the fields of Counters, in order.
func TestCounterDefs(t *testing.T) {
	defs := CounterDefs()
	rt := reflect.TypeFor[Counters]()
	if len(defs) != rt.NumField() {
		t.Fatalf("%d definitions of %d fields", len(defs), rt.NumField())
	}
	var c Counters
	rv := reflect.ValueOf(&c).Elem()
	for i := range rv.NumField() {
		rv.Field(i).SetInt(int64(100 + i))
	}
	vals := c.Values()
	for i, d := range defs {
		if d.Key != rt.Field(i).Tag.Get("json") || vals[i] != int64(100+i) {
			t.Errorf("counter %d: key %q, field %s; value %d, want %d", i, d.Key, rt.Field(i).Name, vals[i], 100+i)
		}
	}
	if defs[len(defs)-1].Key != "orphans" || CounterDefs()[10].Kind.String() != "peak" || defs[10].Key != "log_peak_bytes" {
		t.Errorf("definitions %+v", defs)
	}
}

// The replay buffer holds the accesses since the oldest uncommitted one, at most max-age
// (rebound) or the interval (global), however long the trace, even with a core that
// runs rarely and one that never runs (so rebound's timeouts end their intervals); and
// the golden model's history stays within its sweep's bound.
func TestMemoryFlat(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	const n = 60_000
	recs := make([]record.Record, n)
	for i := range recs {
		th := 0 // thread 0 70%, thread 1 29.9%, thread 2 0.1%; core 3 never runs
		if x := rng.IntN(1000); x == 0 {
			th = 2
		} else if x < 300 {
			th = 1
		}
		kind := record.Read
		if rng.IntN(3) == 0 {
			kind = record.Write
		}
		recs[i] = record.Record{ASID: 1, Thread: record.TID(th), Kind: kind, Size: 8, Addr: uint64(rng.IntN(4096)) * 8}
	}
	for _, s := range Schemes {
		t.Run(string(s), func(t *testing.T) {
			cfg := baseConfig(s, 4)
			cfg.Quantum, cfg.Interval, cfg.MTBF, cfg.Seed = n, 100, 5000, seed
			bound := cfg.maxAge()
			if s == Global {
				bound = cfg.Interval
			}
			e, err := newEngine(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cores := coresOf(t, cfg, recs)
			most := 0
			for i, r := range recs {
				e.step(r, cores[i])
				most = max(most, len(e.buf.recs)-e.buf.head)
				if int64(len(e.buf.recs)-e.buf.head) > bound || cap(e.buf.recs) > int(2*bound)+8192 {
					t.Fatalf("seed %d: after access %d, %d accesses buffered (%d from the head, capacity %d), bound %d", seed, i+1, len(e.buf.recs), len(e.buf.recs)-e.buf.head, cap(e.buf.recs), bound)
				}
				if e.ver.entries > 2*len(e.ver.hist)+1<<16+int(bound)*2 {
					t.Fatalf("seed %d: after access %d, %d golden writes of %d blocks", seed, i+1, e.ver.entries, len(e.ver.hist))
				}
			}
			if err := e.ver.err(); err != nil {
				t.Fatal(err)
			}
			if s == Rebound && e.C.TimeoutCheckpoints == 0 {
				t.Errorf("seed %d: no timeouts", seed)
			}
			t.Logf("%s: at most %d buffered, bound %d; %+v", s, most, bound, e.C)
		})
	}
}

// drSample is DynamoRIO's public threadsig sample trace, in the shared data beside the
// repository; the test skips when it is absent.
const drSample = "../../shared/traces/drmemtrace/threadsig/drmemtrace.threadsig.2765542.9400.dir"

// sampleAccesses is the prefix of the sample the test runs: its first 600,000 accesses
// are almost all of one thread.
const sampleAccesses = 4_000_000

// prefix reads the first n accesses of a trace.
type prefix struct {
	r traces.Reader
	n int64
}

func (p *prefix) Read(out []record.Record) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	k, err := p.r.Read(out[:min(int64(len(out)), p.n)])
	for _, r := range out[:k] {
		if r.Kind.IsAccess() {
			p.n--
		}
	}
	return k, err
}

// Both schemes, verified under many failures, on a prefix of the drmemtrace sample,
// scheduled as recorded (its cpu markers) on 4 and 8 cores.
func TestDrmemtraceSample(t *testing.T) {
	if _, err := os.Stat(drSample); err != nil {
		t.Skipf("the drmemtrace sample is absent (%v)", err)
	}
	if testing.Short() {
		t.Skip("-short")
	}
	for _, s := range Schemes {
		for _, cores := range []int{4, 8} {
			t.Run(fmt.Sprintf("%s/cores=%d", s, cores), func(t *testing.T) {
				f, err := traces.Open(drSample, traces.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cfg := Config{Scheme: s, Cores: cores, Cache: geom, Policy: schedule.Recorded, Interval: 20_000,
					MTBF: 50_000, FailCore: AnyCore, Seed: 7, Verify: true, VerifyBlock: 8}
				st, err := Run(cfg, &prefix{f, sampleAccesses}, f.CPU)
				if err != nil {
					t.Fatal(err)
				}
				if st.Accesses != sampleAccesses || st.Rollbacks < 5 || st.VerifyChecks == 0 {
					t.Errorf("%d accesses, %d rollbacks, %d checks", st.Accesses, st.Rollbacks, st.VerifyChecks)
				}
				t.Logf("%+v", st.Counters)
			})
		}
	}
}
