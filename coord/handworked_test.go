package coord

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/traces"
)

// threeThreads: thread 1 (core 0) writes line 0, thread 2 (core 1) reads it (a downgrade:
// core 1 depends on core 0), thread 3 (core 2) writes line 64 of its own, thread 2 reads
// line 0 again (a hit).
var threeThreads = []record.Record{
	{Addr: 0, Size: 8, ASID: 1, Thread: 1, Kind: record.Write},
	{Addr: 0, Size: 8, ASID: 1, Thread: 2, Kind: record.Read},
	{Addr: 64 << 6, Size: 8, ASID: 1, Thread: 3, Kind: record.Write},
	{Addr: 8, Size: 8, ASID: 1, Thread: 2, Kind: record.Read},
}

func TestHandWorked(t *testing.T) {
	type want struct {
		checkpoints, coresPerCkpt, rollbacks, coresPerRb, edges, lost, logEntries, recoveryBytes, checks int64
	}
	for _, tt := range []struct {
		name     string
		scheme   Scheme
		interval int64
		failAt   int64
		failCore int
		want     want
	}{
		// Core 0's write-back on the downgrade is logged and undone; the replay downgrades
		// again (a second edge, a second entry in core 0's new interval).
		{"rebound: the producer fails, its consumer rolls back too", Rebound, 1000, 3, 0, want{0, 0, 1, 2, 2, 2, 2, 64, 3}},
		// Core 1's replayed read fills line 0 from memory, whose writer is core 0 in its
		// interval: the edge again, through memory.
		{"rebound: the consumer fails alone", Rebound, 1000, 3, 1, want{0, 0, 1, 1, 2, 1, 1, 0, 3}},
		{"rebound: an independent core fails alone", Rebound, 1000, 3, 2, want{0, 0, 1, 1, 1, 1, 1, 0, 2}},
		{"global: every core rolls back", Global, 1000, 3, 2, want{0, 0, 1, 3, 0, 3, 2, 64, 3}},
		// Core 1's second access ends its interval: a checkpoint of cores 1 and 0.
		{"rebound: the consumer's checkpoint takes its producer along", Rebound, 2, 4, 2, want{1, 2, 1, 1, 1, 1, 1, 0, 2}},
		// Barriers after accesses 2 and 4; the failure after access 3 loses it; the second
		// barrier writes back core 2's line 64, a log entry.
		{"global: a barrier of every core every 2 accesses", Global, 2, 3, 0, want{2, 6, 1, 3, 0, 1, 2, 0, 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Scheme: tt.scheme, Cores: 3, Cache: geom, Policy: schedule.RoundRobin, Quantum: 1000,
				Interval: tt.interval, FailAt: []int64{tt.failAt}, FailCore: tt.failCore, Verify: true, VerifyBlock: 8}
			st, err := runChecked(t, cfg, threeThreads)
			if err != nil {
				t.Fatal(err)
			}
			got := want{st.Checkpoints, st.CoresPerCheckpoint, st.Rollbacks, st.CoresPerRollback, st.DependenceEdges, st.LostAccesses, st.LogEntries, st.RecoveryBytes, st.VerifyChecks}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if st.Orphans != 0 || st.VerifyMismatches != 0 {
				t.Errorf("%d orphans, %d of %d checks failed", st.Orphans, st.VerifyMismatches, st.VerifyChecks)
			}
		})
	}
}

// A tracker that misses core 1's dependence on core 0 leaves core 1 holding, and having
// read, the data of core 0's rolled-back write: the orphan check must catch it.
func TestBrokenTrackerCaught(t *testing.T) {
	cfg := Config{Scheme: Rebound, Cores: 3, Cache: geom, Policy: schedule.RoundRobin, Quantum: 1000,
		Interval: 1000, FailAt: []int64{3}, FailCore: 0, Verify: true, VerifyBlock: 8}
	for _, tt := range []struct {
		name    string
		drop    int
		orphans int64
	}{
		{"the tracker works", 0, 0},
		{"the tracker drops the first downgrade's edge", 1, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg.dropDowngradeEdges = tt.drop
			st, err := Run(cfg, traces.NewSliceReader(threeThreads), nil)
			if st.Orphans != tt.orphans {
				t.Errorf("%d orphans, want %d (error %v)", st.Orphans, tt.orphans, err)
			}
			if tt.orphans == 0 && err != nil {
				t.Error(err)
			}
			if tt.orphans > 0 && (err == nil || !strings.Contains(err.Error(), "core 1 holds 1:0x0, written by rolled-back access 1 (core 0)") ||
				!strings.Contains(err.Error(), "core 1 has read the value of rolled-back access 1 (core 0)")) {
				t.Errorf("error %v, want the orphans described", err)
			}
		})
	}
}

// The time model on a hand-worked run: rebound, 3 cores, a checkpoint of cores 0 and 1,
// a failure of core 2.
func TestTimeModel(t *testing.T) {
	k := Costs{AccessNs: 1, MissNs: 10, FlushLineNs: 100, BarrierNs: 1000, BarrierPerCoreNs: 10_000, RestartNs: 100_000, RecoveryBytesPerSec: 64e9}
	cfg := Config{Scheme: Rebound, Cores: 3, Cache: geom, Policy: schedule.RoundRobin, Quantum: 1000,
		Interval: 2, FailAt: []int64{4}, FailCore: 2, Costs: k}
	st, err := Run(cfg, traces.NewSliceReader(threeThreads), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Core 0: 1 access, 1 miss; the checkpoint (cores 0 and 1) writes back nothing (line
	// 0 was downgraded, so clean): 1000 + 2 × 10,000.
	// Core 1: 2 accesses, 1 miss, the same checkpoint.
	// Core 2: 1 access and its replay, 2 misses (the rollback emptied its cache), a
	// restart of 100,000 and nothing undone (it wrote nothing back).
	want := []float64{1 + 10 + 21_000, 2 + 10 + 21_000, 2 + 20 + 100_000}
	for c, w := range want {
		if math.Abs(st.CoreTimeNs[c]-w) > 1e-9 {
			t.Errorf("core %d: %v ns, want %v", c, st.CoreTimeNs[c], w)
		}
	}
	if st.TimeNs != want[2] {
		t.Errorf("run: %v ns, want %v", st.TimeNs, want[2])
	}
	base, err := Run(cfg.Baseline(), traces.NewSliceReader(threeThreads), nil)
	if err != nil {
		t.Fatal(err)
	}
	if base.TimeNs != 2+10 || base.Checkpoints != 0 || base.Rollbacks != 0 {
		t.Errorf("baseline %v ns, %d checkpoints, %d rollbacks", base.TimeNs, base.Checkpoints, base.Rollbacks)
	}
	if o, w := Overhead(st, base), want[2]/12-1; math.Abs(o-w) > 1e-12 {
		t.Errorf("overhead %v, want %v", o, w)
	}
}

func TestConfigErrors(t *testing.T) {
	ok := Config{Scheme: Global, Cores: 4, Cache: geom, Policy: schedule.RoundRobin, Quantum: 10, Interval: 100, FailCore: AnyCore}
	for _, tt := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"unknown scheme", func(c *Config) { c.Scheme = "local" }, `--scheme "local": want one of [global rebound]`},
		{"no cores", func(c *Config) { c.Cores = 0 }, "--cores 0: want 1 to 64"},
		{"too many cores", func(c *Config) { c.Cores = 65 }, "--cores 65: want 1 to 64"},
		{"no quantum", func(c *Config) { c.Quantum = 0 }, "--quantum 0"},
		{"no cache", func(c *Config) { c.Cache = cache.Geometry{} }, "need a --cache-size"},
		{"bad cache", func(c *Config) { c.Cache.Ways = 3 }, "--cache-size 32768"},
		{"negative interval", func(c *Config) { c.Interval = -1 }, "--interval -1"},
		{"negative max age", func(c *Config) { c.MaxAge = -1 }, "--max-age -1"},
		{"failure at 0", func(c *Config) { c.FailAt = []int64{0} }, "--fail-at 0: accesses are numbered from 1"},
		{"mtbf below 1", func(c *Config) { c.MTBF = 0.5 }, "--mtbf 0.5"},
		{"mtbf NaN", func(c *Config) { c.MTBF = math.NaN() }, "--mtbf NaN"},
		{"failures without checkpoints", func(c *Config) { c.Interval, c.MTBF = 0, 10 }, "--interval 0 takes no checkpoint"},
		{"failing core beyond the cores", func(c *Config) { c.FailCore = 4 }, "--fail-core 4: want a core from 0 to 3, or -1"},
		{"failing core below -1", func(c *Config) { c.FailCore = -2 }, "--fail-core -2"},
		{"verify block 0", func(c *Config) { c.Verify = true }, "--verify-block 0"},
		{"verify block not a power of two", func(c *Config) { c.Verify, c.VerifyBlock = true, 12 }, "--verify-block 12"},
		{"verify block beyond the line", func(c *Config) { c.Verify, c.VerifyBlock = true, 128 }, "--verify-block 128: want a power of two of at most the line size, 64"},
		{"negative cost", func(c *Config) { c.Costs = DefaultCosts(); c.Costs.MissNs = -1 }, "cost -1"},
		{"no recovery bandwidth", func(c *Config) { c.Costs = DefaultCosts(); c.Costs.RecoveryBytesPerSec = 0 }, "recovery bandwidth of 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			_, err := Run(c, traces.NewSliceReader(threeThreads), nil)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

// errReader returns recs, then err.
type errReader struct {
	recs []record.Record
	err  error
}

func (r *errReader) Read(out []record.Record) (int, error) {
	n := copy(out, r.recs)
	r.recs = r.recs[n:]
	if len(r.recs) == 0 {
		return n, r.err
	}
	return n, nil
}

func TestRunErrors(t *testing.T) {
	cfg := Config{Scheme: Rebound, Cores: 2, Cache: geom, Policy: schedule.RoundRobin, Quantum: 10, Interval: 100, FailCore: AnyCore}
	bad := &traces.Error{File: "t.vmt", Offset: 96, Reason: "truncated record"}
	recorded := cfg
	recorded.Policy, recorded.Quantum = schedule.Recorded, 0
	for _, tt := range []struct {
		name string
		cfg  Config
		src  traces.Reader
		cpu  func() int
		want string
	}{
		{"a trace error is returned as is", cfg, &errReader{threeThreads, bad}, nil, bad.Error()},
		{"recorded schedule without cpus", recorded, traces.NewSliceReader(threeThreads), nil, "access 1: --schedule recorded: thread 1 of address space 1 has no recorded cpu"},
		{"recorded schedule with cpus", recorded, traces.NewSliceReader(threeThreads), func() int { return 7 }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := Run(tt.cfg, tt.src, tt.cpu)
			if tt.want == "" {
				if err != nil || st.Accesses != int64(len(threeThreads)) {
					t.Fatalf("%d accesses, error %v", st.Accesses, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
			if st.Accesses != 0 {
				t.Errorf("stats %+v with an error", st.Counters)
			}
			if _, ok := tt.src.(*errReader); ok && !errors.As(err, new(*traces.Error)) {
				t.Errorf("%v: not a *traces.Error", err)
			}
		})
	}
}

// Control and I/O records are skipped: they neither count nor move the failure points.
func TestControlRecordsSkipped(t *testing.T) {
	var recs []record.Record
	for _, r := range threeThreads {
		recs = append(recs, r, record.Record{ASID: 1, Kind: record.Checkpoint}, record.Record{ASID: 1, Kind: record.Fail},
			record.Record{ASID: 1, Addr: 1, Size: 10, Kind: record.Output})
	}
	cfg := Config{Scheme: Rebound, Cores: 3, Cache: geom, Policy: schedule.RoundRobin, Quantum: 1000,
		Interval: 1000, FailAt: []int64{3}, FailCore: 0, Verify: true, VerifyBlock: 8}
	a, err := Run(cfg, traces.NewSliceReader(recs), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(cfg, traces.NewSliceReader(threeThreads), nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("with control records %+v\nwithout %+v", a, b)
	}
}

// Accesses of size 0 reference one byte; an access past the top of the address space
// stops there.
func TestOddAccesses(t *testing.T) {
	top := ^uint64(0)
	for _, tt := range []struct {
		name string
		rec  record.Record
		refs int64
		// block: the verification's block: 1 byte makes the last block's number 2^64-1.
		block uint64
	}{
		{"size 0", record.Record{ASID: 1, Addr: 0x1000, Size: 0, Kind: record.Write}, 1, 8},
		{"the last byte", record.Record{ASID: 1, Addr: top, Size: 1, Kind: record.Write}, 1, 8},
		{"the last byte, blocks of a byte", record.Record{ASID: 1, Addr: top, Size: 1, Kind: record.Modify}, 1, 1},
		{"across the top", record.Record{ASID: 1, Addr: top - 3, Size: 8, Kind: record.Write}, 1, 8},
		{"across the top, blocks of a byte", record.Record{ASID: 1, Addr: top - 3, Size: 8, Kind: record.Write}, 1, 1},
		{"two lines to the top", record.Record{ASID: 1, Addr: top - 64, Size: 65, Kind: record.Modify}, 2, 8},
		{"two lines across the top", record.Record{ASID: 1, Addr: top - 64, Size: 100, Kind: record.Read}, 2, 64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Scheme: Rebound, Cores: 2, Cache: geom, Policy: schedule.RoundRobin, Quantum: 10,
				Interval: 1, FailAt: []int64{1}, FailCore: 0, Verify: true, VerifyBlock: tt.block}
			recs := []record.Record{tt.rec, tt.rec}
			st, err := Run(cfg, traces.NewSliceReader(recs), nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Accesses != 2 || st.CacheRefs != 2*tt.refs {
				t.Errorf("%d accesses, %d references, want 2 and %d", st.Accesses, st.CacheRefs, 2*tt.refs)
			}
		})
	}
}

func TestMaxAge(t *testing.T) {
	for _, tt := range []struct {
		name     string
		cores    int
		interval int64
		maxAge   int64
		want     int64
	}{
		{"given", 4, 100, 7, 7},
		{"default: twice the cores' intervals", 4, 100, 0, 800},
		{"default beyond int64: none", 64, math.MaxInt64 / 100, 0, math.MaxInt64},
		{"default at the edge", 1, math.MaxInt64 / 2, 0, math.MaxInt64 - 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Cores: tt.cores, Interval: tt.interval, MaxAge: tt.maxAge}
			if got := c.maxAge(); got != tt.want {
				t.Errorf("maxAge %d, want %d", got, tt.want)
			}
		})
	}
}
