package repl_test

import (
	"fmt"
	"github.com/vmsim/vmsim/internal/testseed"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/internal/refcache"
	"github.com/vmsim/vmsim/repl"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// recorder is a Backup that counts the units sent in each epoch, and holds nothing.
type recorder struct {
	cur int64
	per []int64
}

func (r *recorder) Send(scheme.Domain, repl.Unit, []uint64)          { r.cur++ }
func (r *recorder) Commit(scheme.Domain)                             { r.per = append(r.per, r.cur); r.cur = 0 }
func (r *recorder) Fetch(_ scheme.Domain, _ repl.Unit, dst []uint64) { clear(dst) }

// withBackup returns info building its scheme on backup b.
func withBackup(info scheme.Info, b repl.Backup) *scheme.Info {
	build := info.New
	info.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		switch info.Name {
		case "remus":
			return repl.NewRemus(m, b), nil
		case "cacheline":
			n := 0
			fmt.Sscan(p["log-entries"], &n)
			return repl.NewCacheline(m, n, b)
		}
		return build(m, p)
	}
	return &info
}

// refRemus computes remus's volumes from the trace alone: per checkpoint the distinct
// pages written in the domain's interval, and the traps (every (interval, page) written,
// the last partial intervals included).
func refRemus(recs []traces.Record, interval int64, perASID bool, page uint64) (perCkpt []int64, traps int64) {
	dirty := map[traces.ASID]map[[2]uint64]bool{}
	since := map[traces.ASID]int64{}
	for _, r := range recs {
		dom := traces.ASID(0)
		if perASID {
			dom = r.ASID
		}
		if dirty[dom] == nil {
			dirty[dom] = map[[2]uint64]bool{}
		}
		if r.Kind == traces.Write || r.Kind == traces.Modify {
			for p := r.Addr / page; p <= (r.Addr+uint64(r.Size)-1)/page; p++ {
				k := [2]uint64{uint64(r.ASID), p}
				if !dirty[dom][k] {
					dirty[dom][k] = true
					traps++
				}
			}
		}
		since[dom]++
		if interval > 0 && since[dom] >= interval {
			perCkpt = append(perCkpt, int64(len(dirty[dom])))
			dirty[dom] = nil
			since[dom] = 0
		}
	}
	return perCkpt, traps
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRemusVolumesAgainstReference(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	type trial struct {
		name string
		recs []traces.Record
		cfg  sim.Config
	}
	var trials []trial
	for i := range 25 {
		cfg := sim.DefaultConfig()
		cfg.Scheme = "remus"
		cfg.Interval = int64(1 + rng.IntN(400))
		cfg.Scope = []sim.Scope{"system", "asid"}[rng.IntN(2)]
		cfg.PageSize = []uint64{1024, 4096, 8192}[rng.IntN(3)]
		if rng.IntN(3) == 0 {
			cfg.CacheSize, cfg.CacheWays = 2048, 2
		}
		trials = append(trials, trial{fmt.Sprintf("random %d (seed %d)", i, seed), randomTrace(rng, 500+rng.IntN(3000), 1+rng.IntN(3), 4+rng.IntN(40)), cfg})
	}
	if testing.Short() {
		trials = trials[:5]
	}
	for _, tr := range trials {
		t.Run(tr.name, func(t *testing.T) {
			rec := &recorder{}
			s := mustRun(t, tr.cfg, tr.recs, sim.Options{Scheme: withBackup(repl.RemusInfo(), rec)})
			wantPer, wantTraps := refRemus(tr.recs, tr.cfg.Interval, tr.cfg.Scope == "asid", tr.cfg.PageSize)
			if !equal(rec.per, wantPer) {
				t.Fatalf("pages sent per checkpoint %v, reference %v", rec.per, wantPer)
			}
			var sum, peak int64
			for _, n := range wantPer {
				sum += n
				peak = max(peak, n)
			}
			P := int64(tr.cfg.PageSize)
			if s.BytesToBackup != sum*P || s.BytesCopied != sum*P || s.CheckpointStallBytes != sum*P ||
				s.MemOverheadPeakBytes != peak*P || s.Traps != wantTraps || own(t, s, "pages_sent") != sum ||
				own(t, s, "epochs") != int64(len(wantPer)) || s.Checkpoints != int64(len(wantPer)) {
				t.Fatalf("%+v; reference %d pages sent, peak %d, %d traps", s, sum, peak, wantTraps)
			}
		})
	}
}

func TestRemusOnRealTrace(t *testing.T) {
	recs := gccHead(t, 200000)
	for _, interval := range []int64{1000, 10000} {
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Interval = "remus", interval
		s := mustRun(t, cfg, recs, sim.Options{})
		per, traps := refRemus(recs, interval, false, 4096)
		var sum int64
		for _, n := range per {
			sum += n
		}
		if s.BytesToBackup != sum*4096 || s.Traps != traps {
			t.Errorf("interval %d: %d bytes to backup, %d traps; reference %d, %d", interval, s.BytesToBackup, s.Traps, sum*4096, traps)
		}
	}
}

// refLog is a naive cache-line log: what cacheline should do without a cache, from the trace.
type refLog struct {
	perCkpt                                                   []int64
	logged, dups, forced, overflow, dupSent, livePeak, sentTo int64
}

func refCacheline(recs []traces.Record, interval int64, perASID bool, line uint64, capacity int) refLog {
	var out refLog
	logs := map[traces.ASID][]uint64{}
	dupsIn := map[traces.ASID]int64{}
	since := map[traces.ASID]int64{}
	live := int64(0)
	ckpt := func(dom traces.ASID) {
		out.perCkpt = append(out.perCkpt, int64(len(logs[dom])))
		out.dupSent += dupsIn[dom]
		live -= int64(len(logs[dom]))
		logs[dom], dupsIn[dom], since[dom] = nil, 0, 0
	}
	for _, r := range recs {
		dom := traces.ASID(0)
		if perASID {
			dom = r.ASID
		}
		asked := false
		if r.Kind == traces.Write || r.Kind == traces.Modify {
			for l := r.Addr / line; l <= (r.Addr+uint64(r.Size)-1)/line; l++ {
				key := uint64(r.ASID)<<48 | l
				for _, x := range logs[dom] {
					if x == key {
						out.dups++
						dupsIn[dom]++
						break
					}
				}
				logs[dom] = append(logs[dom], key)
				out.logged++
				live++
				out.livePeak = max(out.livePeak, live)
				if len(logs[dom]) == capacity {
					out.forced++
					asked = true
				} else if len(logs[dom]) > capacity {
					out.overflow++
				}
			}
		}
		since[dom]++
		if interval > 0 && since[dom] >= interval {
			ckpt(dom)
		}
		if asked && since[dom] > 0 {
			ckpt(dom)
		}
	}
	return out
}

func TestCachelineVolumesAgainstReference(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	n := 25
	if testing.Short() {
		n = 5
	}
	for i := range n {
		cfg := sim.DefaultConfig()
		cfg.Scheme = "cacheline"
		cfg.Interval = int64(rng.IntN(300))
		cfg.Scope = []sim.Scope{"system", "asid"}[rng.IntN(2)]
		cfg.Granule = []uint64{8, 32, 64, 256}[rng.IntN(4)]
		capacity := []int{1, 7, 50, 400, 1 << 20}[rng.IntN(5)]
		cfg.Params = map[string]string{"log-entries": fmt.Sprint(capacity)}
		recs := randomTrace(rng, 300+rng.IntN(2000), 1+rng.IntN(3), 4+rng.IntN(20))
		t.Run(fmt.Sprintf("random %d (seed %d)", i, seed), func(t *testing.T) {
			rec := &recorder{}
			s := mustRun(t, cfg, recs, sim.Options{Scheme: withBackup(repl.CachelineInfo(), rec)})
			want := refCacheline(recs, cfg.Interval, cfg.Scope == "asid", cfg.Granule, capacity)
			if !equal(rec.per, want.perCkpt) {
				t.Fatalf("lines sent per checkpoint %v, reference %v", rec.per, want.perCkpt)
			}
			var sent int64
			for _, x := range want.perCkpt {
				sent += x
			}
			L := int64(cfg.Granule)
			got := []int64{s.BytesLogged, s.BytesToBackup, s.CheckpointStallBytes, s.MemOverheadPeakBytes, s.Checkpoints,
				own(t, s, "log_entries"), own(t, s, "duplicate_lines"), own(t, s, "forced_checkpoints"),
				own(t, s, "log_overflow_entries"), own(t, s, "lines_sent"), own(t, s, "duplicate_lines_sent"), own(t, s, "log_peak_entries")}
			exp := []int64{8 * want.logged, sent * L, sent * L, 8 * want.livePeak, int64(len(want.perCkpt)),
				want.logged, want.dups, want.forced, want.overflow, sent, want.dupSent, want.livePeak}
			if !equal(got, exp) {
				t.Fatalf("log-entries %d: got %v, reference %v", capacity, got, exp)
			}
		})
	}
}

// TestCachelineBehindCacheAgainstReference: with a cache, every write-back logs one entry
// and every entry is sent once at the next checkpoint, so the volumes follow the write-backs
// of an independent cache simulator (internal/refcache), per checkpoint.
func TestCachelineBehindCacheAgainstReference(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range 12 {
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Interval = "cacheline", int64(20+rng.IntN(300))
		cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = []uint64{512, 2048, 8192}[i%3], 1<<(i%4), []uint64{32, 64}[i%2]
		cfg.CacheFlush = []sim.CacheFlush{"invalidate", "clean"}[rng.IntN(2)]
		recs := randomTrace(rng, 1000+rng.IntN(3000), 1+rng.IntN(2), 4+rng.IntN(30))
		rec := &recorder{}
		s := mustRun(t, cfg, recs, sim.Options{Scheme: withBackup(repl.CachelineInfo(), rec)})
		ref := refcache.New(cfg.CacheSize, cfg.CacheWays, cfg.CacheLine)
		var per []int64
		last := int64(0)
		for n, r := range recs {
			for l := r.Addr / cfg.CacheLine; l <= (r.Addr+uint64(r.Size)-1)/cfg.CacheLine; l++ {
				ref.Access(refcache.Line{ASID: uint32(r.ASID), N: l}, r.Kind.Writes())
			}
			if (int64(n)+1)%cfg.Interval == 0 {
				ref.Flush(cfg.CacheFlush == "invalidate")
				per = append(per, ref.Writebacks-last)
				last = ref.Writebacks
			}
		}
		if !equal(rec.per, per) || s.BytesLogged != 8*ref.Writebacks || s.BytesToBackup != last*int64(cfg.CacheLine) ||
			s.CacheWritebacks != ref.Writebacks {
			t.Fatalf("seed %d trial %d: sent per checkpoint %v, logged %d bytes, %d to backup; reference %v, %d write-backs",
				seed, i, rec.per, s.BytesLogged, s.BytesToBackup, per, ref.Writebacks)
		}
	}
}

func TestCachelineOnRealTrace(t *testing.T) {
	recs := gccHead(t, 200000)
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Interval = "cacheline", 10000
	cfg.Params = map[string]string{"log-entries": "2000"}
	s := mustRun(t, cfg, recs, sim.Options{})
	want := refCacheline(recs, 10000, false, 64, 2000)
	var sent int64
	for _, x := range want.perCkpt {
		sent += x
	}
	if s.BytesLogged != 8*want.logged || s.BytesToBackup != 64*sent || own(t, s, "forced_checkpoints") != want.forced ||
		own(t, s, "duplicate_lines") != want.dups {
		t.Errorf("logged %d, sent %d, forced %d; reference %d, %d, %d", s.BytesLogged, s.BytesToBackup,
			own(t, s, "forced_checkpoints"), 8*want.logged, 64*sent, want.forced)
	}
	cfg.CacheSize, cfg.CacheWays = 32<<10, 8
	cfg.Params = map[string]string{"log-entries": "1000000"}
	s = mustRun(t, cfg, recs, sim.Options{})
	ref := refcache.New(32<<10, 8, 64)
	var atLast int64
	for n, r := range recs {
		for l := r.Addr / 64; l <= (r.Addr+uint64(r.Size)-1)/64; l++ {
			ref.Access(refcache.Line{ASID: uint32(r.ASID), N: l}, r.Kind.Writes())
		}
		if (n+1)%10000 == 0 {
			ref.Flush(true)
			atLast = ref.Writebacks
		}
	}
	if s.BytesLogged != 8*ref.Writebacks || s.BytesToBackup != 64*atLast {
		t.Errorf("behind the cache: logged %d bytes, sent %d; reference %d write-backs, %d by the last checkpoint",
			s.BytesLogged, s.BytesToBackup, ref.Writebacks, atLast)
	}
}

// testSeed returns the seed of a randomized test: $VMSIM_TEST_SEED when set, to rerun a
// failure, else a fresh random one. It logs the seed, which a failing test prints.
func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }
