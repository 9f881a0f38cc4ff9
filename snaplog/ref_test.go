package snaplog_test

import (
	"fmt"
	"github.com/vmsim/vmsim/internal/testseed"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/snaplog"
	"github.com/vmsim/vmsim/traces"
)

// recorder is the default backup, also recording the pages of each snapshot and the bytes
// of each log entry shipped.
type recorder struct {
	*snaplog.MemBackup
	cur     int64
	perSnap []int64
	shipped []int64
}

func (r *recorder) Send(d scheme.Domain, p snaplog.Page, data []uint64) {
	r.cur++
	r.MemBackup.Send(d, p, data)
}

func (r *recorder) Commit(d scheme.Domain) {
	r.perSnap = append(r.perSnap, r.cur)
	r.cur = 0
	r.MemBackup.Commit(d)
}

func (r *recorder) Ship(d scheme.Domain, e snaplog.Entry) {
	r.shipped = append(r.shipped, e.Bytes)
	r.MemBackup.Ship(d, e)
}

// model is what snaplog should count, computed naively from the trace: sets of pages per
// domain, the list of logged inputs since each domain's checkpoint, the failures of a
// --fail-at list.
type model struct {
	perSnap, shipped                                 []int64 // pages per snapshot; bytes per entry
	traps, logEntries, logBytes, logHeldPeak         int64
	recoveries, replay, replayPeak, window           int64
	recLogEntries, recLogBytes, recSnapPages, snapPk int64
}

func naive(recs []traces.Record, interval int64, failAt []int64, perASID, crash bool, page uint64, header int64) model {
	type pg struct {
		asid traces.ASID
		n    uint64
	}
	type dom struct {
		dirty map[pg]bool
		since int64
		log   []int64 // bytes of each input logged since the checkpoint
	}
	var out model
	doms := map[traces.ASID]*dom{}
	get := func(a traces.ASID) *dom {
		if !perASID {
			a = 0
		}
		if doms[a] == nil {
			doms[a] = &dom{dirty: map[pg]bool{}}
		}
		return doms[a]
	}
	sent := map[pg]bool{}
	logTotal := func() (n int64) {
		for _, d := range doms {
			for _, b := range d.log {
				n += b
			}
		}
		return n
	}
	var refs int64
	for _, r := range recs {
		if r.Kind == traces.Input {
			d := get(r.ASID)
			b := header + int64(r.Size)
			d.log = append(d.log, b)
			out.shipped = append(out.shipped, b)
			out.logEntries++
			out.logBytes += b
			out.logHeldPeak = max(out.logHeldPeak, logTotal())
			continue
		}
		if r.Kind == traces.Output {
			continue
		}
		refs++
		d := get(r.ASID)
		d.since++
		out.window = max(out.window, d.since)
		if r.Kind == traces.Write || r.Kind == traces.Modify {
			for p := r.Addr / page; p <= (r.Addr+uint64(r.Size)-1)/page; p++ {
				if !d.dirty[pg{r.ASID, p}] {
					d.dirty[pg{r.ASID, p}] = true
					out.traps++
				}
			}
		}
		if slices.Contains(failAt, refs) {
			// Recovery, then the replay: it re-executes the accesses since the checkpoint,
			// which write (and trap on) exactly the pages already dirty.
			recovered := []*dom{d}
			if crash {
				recovered = nil
				for _, x := range doms {
					recovered = append(recovered, x)
				}
				out.recSnapPages += int64(len(sent))
			} else {
				out.recSnapPages += int64(len(d.dirty))
			}
			var replay int64
			for _, x := range recovered {
				replay += x.since
				out.traps += int64(len(x.dirty))
				for _, b := range x.log {
					out.recLogEntries++
					out.recLogBytes += b
				}
			}
			out.recoveries++
			out.replay += replay
			out.replayPeak = max(out.replayPeak, replay)
		}
		if interval > 0 && d.since >= interval {
			for p := range d.dirty {
				sent[p] = true
			}
			out.perSnap = append(out.perSnap, int64(len(d.dirty)))
			out.snapPk = max(out.snapPk, int64(len(d.dirty)))
			d.dirty, d.since, d.log = map[pg]bool{}, 0, nil
		}
	}
	return out
}

func withLink(link snaplog.Link) *scheme.Info {
	info := snaplog.Info()
	info.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		set, err := snaplog.ParseSettings(p)
		if err != nil {
			return nil, err
		}
		return snaplog.New(m, set, link)
	}
	return &info
}

// compare runs cfg on recs twice (through a recording backup, and as registered) and
// compares every volume with the naive model.
func compare(t *testing.T, cfg sim.Config, recs []traces.Record) {
	t.Helper()
	set, err := snaplog.ParseSettings(mustResolve(t, cfg.Params))
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	if cfg.Verify {
		blocks = int(cfg.PageSize / cfg.VerifyBlock)
	}
	rec := &recorder{MemBackup: snaplog.NewMemBackup(cfg.PageSize, blocks)}
	s1 := mustRun(t, cfg, recs, sim.Options{Scheme: withLink(rec)})
	s := mustRun(t, cfg, recs, sim.Options{CheckEvery: len(recs) < 5000})
	crash := cfg.Failure == "crash" && cfg.Memory == "volatile"
	want := naive(recs, cfg.Interval, cfg.FailAt, cfg.Scope == "asid", crash, cfg.PageSize, set.Header)
	if fmt.Sprint(rec.perSnap) != fmt.Sprint(want.perSnap) {
		t.Fatalf("pages per snapshot %v, model %v", rec.perSnap, want.perSnap)
	}
	if fmt.Sprint(rec.shipped) != fmt.Sprint(want.shipped) {
		t.Fatalf("entry bytes shipped %v, model %v", rec.shipped, want.shipped)
	}
	var pages int64
	for _, n := range want.perSnap {
		pages += n
	}
	P := int64(cfg.PageSize)
	snap, rec0 := pages*P, want.recSnapPages*P
	got := []int64{s.BytesToBackup, s1.BytesToBackup, s.BytesLogged, s.CheckpointStallBytes, s.Traps, s.RecoveryBytes,
		s.BytesCopied, s.BytesToStorage, s.MemOverheadPeakBytes}
	exp := []int64{snap + want.logBytes, snap + want.logBytes, want.logBytes, snap, want.traps, rec0 + want.recLogBytes,
		0, 0, 0}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("%+v: common channels\ngot   %v\nmodel %v", cfg, got, exp)
	}
	got, exp = nil, []int64{int64(len(want.perSnap)), snap, want.snapPk * P, want.logEntries, want.logBytes, want.logBytes,
		want.logHeldPeak, want.recoveries, want.replay, want.replayPeak, want.recLogEntries, want.recLogBytes, rec0, want.window}
	for _, c := range snaplog.Info().OwnDefs() {
		got = append(got, own(t, s, c.Key))
	}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("%+v: own counters\ngot   %v\nmodel %v", cfg, got, exp)
	}
	// The driver's view of the same run.
	if own(t, s, "recovery_replay_accesses") != s.ReplayedRefs || s.IOInputs != want.logEntries {
		t.Fatalf("replayed %d accesses, the driver %d; logged %d inputs, the driver saw %d",
			own(t, s, "recovery_replay_accesses"), s.ReplayedRefs, want.logEntries, s.IOInputs)
	}
	if cfg.IO == "hold" && s.IOInputsLoggedBytes+set.Header*want.logEntries != want.logBytes {
		t.Fatalf("--io hold logged %d input bytes, snaplog %d with %d-byte headers", s.IOInputsLoggedBytes, want.logBytes, set.Header)
	}
}

func mustResolve(t *testing.T, set map[string]string) scheme.Params {
	p, err := snaplog.Info().Resolve(set)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVolumesAgainstModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 13))
	n := 40
	if testing.Short() {
		n = 8
	}
	for i := range n {
		cfg := sim.DefaultConfig()
		cfg.Scheme = "snaplog"
		cfg.Interval = int64(rng.IntN(300))
		cfg.Scope = []sim.Scope{"system", "asid"}[rng.IntN(2)]
		cfg.PageSize = []uint64{1024, 4096}[rng.IntN(2)]
		cfg.IO = []sim.IOMode{"none", "hold"}[rng.IntN(2)]
		cfg.Params = map[string]string{"log-header": []string{"16", "0", "24"}[rng.IntN(3)]}
		nrecs := 500 + rng.IntN(3000)
		for range rng.IntN(5) {
			cfg.FailAt = append(cfg.FailAt, int64(1+rng.IntN(nrecs)))
		}
		slices.Sort(cfg.FailAt)
		cfg.FailAt = slices.Compact(cfg.FailAt)
		if len(cfg.FailAt) > 0 && rng.IntN(2) == 0 {
			cfg.Failure, cfg.Memory = "crash", "volatile"
		}
		cfg.Verify = rng.IntN(3) == 0
		recs := randomTrace(rng, nrecs, 1+rng.IntN(3), 4+rng.IntN(40), []int{0, 3, 20}[rng.IntN(3)])
		t.Run(fmt.Sprintf("random %d (seed %d)", i, seed), func(t *testing.T) { compare(t, cfg, recs) })
	}
}

func TestVolumesOnRealTrace(t *testing.T) {
	recs := withInputs(rand.New(rand.NewPCG(5, 5)), gccHead(t, 200000), 400)
	for _, tt := range []struct {
		name  string
		crash bool
	}{{"transient", false}, {"crash", true}} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Interval, cfg.FailAt = "snaplog", 5000, []int64{1, 7777, 50000, 123456, 199999}
			if tt.crash {
				cfg.Failure, cfg.Memory = "crash", "volatile"
			}
			compare(t, cfg, recs)
		})
	}
}

// TestSettings: --log-header takes a whole number of bytes.
func TestSettings(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want int64
		ok   bool
	}{
		{"16", 16, true}, {"0", 0, true}, {"1048576", 1 << 20, true},
		{"-1", 0, false}, {"+4", 0, false}, {"", 0, false}, {"1K", 0, false}, {"1048577", 0, false},
	} {
		t.Run(fmt.Sprintf("%q", tt.v), func(t *testing.T) {
			s, err := snaplog.ParseSettings(scheme.Params{"log-header": tt.v})
			if (err == nil) != tt.ok || s.Header != tt.want {
				t.Fatalf("ParseSettings(%q) = %+v, %v", tt.v, s, err)
			}
		})
	}
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Params = "snaplog", map[string]string{"log-header": "x"}
	if _, err := sim.Run(cfg, opener(nil)); err == nil {
		t.Fatal("a bad --log-header ran")
	}
}

// testSeed returns the seed of a randomized test: $VMSIM_TEST_SEED when set, to rerun a
// failure, else a fresh random one. It logs the seed, which a failing test prints.
func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }

// TestRecoveryLogNextToControlRecords: a recovery reads back every input of the log made
// before the failure, an input between the failing access and a fail record included, and
// none made before a checkpoint record that ended the interval (docs/substrate.md, "I/O
// continuity"). Under --io none the driver's replay performs the same inputs again, so
// recovery_log_entries = io_repeated_inputs.
func TestRecoveryLogNextToControlRecords(t *testing.T) {
	w := func(page uint64) traces.Record { return traces.Record{Addr: page << 12, Size: 8, Kind: traces.Write} }
	in := traces.Record{Kind: traces.Input, Addr: 1, Size: 10}
	ckpt, fail := traces.Record{Kind: traces.Checkpoint}, traces.Record{Kind: traces.Fail}
	for _, tt := range []struct {
		name    string
		recs    []traces.Record
		failAt  []int64
		entries int64
	}{
		{"input then fail record", []traces.Record{w(1), w(2), in, fail, w(3)}, nil, 1},
		{"input, checkpoint record, fail record", []traces.Record{w(1), w(2), in, ckpt, w(3), fail, w(4)}, nil, 0},
		{"input, fail record, checkpoint record, fail record", []traces.Record{w(1), in, fail, ckpt, w(3), fail}, nil, 1},
		{"input after the failing access", []traces.Record{w(1), w(2), in, w(3)}, []int64{2}, 0},
		{"input before the failing access", []traces.Record{w(1), in, w(2), w(3)}, []int64{2}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sim.DefaultConfig()
			cfg.Scheme, cfg.Verify = "snaplog", true
			if tt.failAt != nil {
				cfg.FailAt = tt.failAt
			}
			s := mustRun(t, cfg, tt.recs, sim.Options{CheckEvery: true})
			if got := own(t, s, "recovery_log_entries"); got != tt.entries || s.IORepeatedInputs != tt.entries {
				t.Fatalf("recovery_log_entries %d, io_repeated_inputs %d; want %d", got, s.IORepeatedInputs, tt.entries)
			}
		})
	}
}
