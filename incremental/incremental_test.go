package incremental_test

import (
	"fmt"
	"github.com/vmsim/vmsim/internal/testseed"
	"math/rand/v2"
	"testing"

	"github.com/vmsim/vmsim/incremental"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// recorder is a Storage that counts the pages of each incremental checkpoint and holds
// nothing.
type recorder struct {
	cur int64
	per []int64
}

func (r *recorder) Send(scheme.Domain, incremental.Page, []uint64)        { r.cur++ }
func (r *recorder) Commit(scheme.Domain)                                  { r.per = append(r.per, r.cur); r.cur = 0 }
func (r *recorder) Merge(scheme.Domain)                                   {}
func (r *recorder) Fetch(_ scheme.Domain, _ incremental.Page, d []uint64) { clear(d) }
func (r *recorder) Tick(int64)                                            {}

// ref is what incremental should count, computed naively from the trace.
type ref struct {
	perCkpt                              []int64
	traps, merges, mergeRead, mergeWrite int64
	chainPeak, storagePeak, restoreEnd   int64 // in pages
	flushes, absorbed, disk, mirrorPeak  int64 // in pages
}

type pg struct {
	asid traces.ASID
	n    uint64
}

func reference(recs []traces.Record, interval int64, perASID bool, page uint64, set incremental.Settings) ref {
	var out ref
	type dom struct {
		dirty map[pg]bool
		full  map[pg]bool
		chain []map[pg]bool
		since int64
	}
	doms := map[traces.ASID]*dom{}
	var order []traces.ASID
	mirrorCap := int(set.MirrorCache / int64(page))
	cached := map[pg]bool{}
	flush := func() {
		if len(cached) > 0 {
			out.flushes++
			out.disk += int64(len(cached))
			cached = map[pg]bool{}
		}
	}
	totals := func() (chain, stored int64) {
		for _, k := range order {
			d := doms[k]
			stored += int64(len(d.full))
			for _, c := range d.chain {
				chain += int64(len(c))
			}
		}
		return chain, chain + stored
	}
	for i, r := range recs {
		if set.MirrorCache > 0 && set.MirrorFlushEvery > 0 && int64(i+1)%set.MirrorFlushEvery == 0 {
			flush()
		}
		key := traces.ASID(0)
		if perASID {
			key = r.ASID
		}
		d := doms[key]
		if d == nil {
			d = &dom{dirty: map[pg]bool{}, full: map[pg]bool{}}
			doms[key] = d
			order = append(order, key)
		}
		if r.Kind == traces.Write || r.Kind == traces.Modify {
			for p := r.Addr / page; p <= (r.Addr+uint64(r.Size)-1)/page; p++ {
				if !d.dirty[pg{r.ASID, p}] {
					d.dirty[pg{r.ASID, p}] = true
					out.traps++
				}
			}
		}
		d.since++
		if interval == 0 || d.since < interval {
			continue
		}
		// The checkpoint: pages go out in address order through the mirror.
		var list []pg
		for p := range d.dirty {
			list = append(list, p)
		}
		for a := 0; a < len(list); a++ {
			for b := a + 1; b < len(list); b++ {
				if list[b].asid < list[a].asid || list[b].asid == list[a].asid && list[b].n < list[a].n {
					list[a], list[b] = list[b], list[a]
				}
			}
		}
		if mirrorCap > 0 {
			for _, p := range list {
				if cached[p] {
					out.absorbed++
					continue
				}
				if len(cached) == mirrorCap {
					flush()
				}
				cached[p] = true
				out.mirrorPeak = max(out.mirrorPeak, int64(len(cached)))
			}
		}
		out.perCkpt = append(out.perCkpt, int64(len(list)))
		d.chain = append(d.chain, d.dirty)
		d.dirty, d.since = map[pg]bool{}, 0
		chain, stored := totals()
		out.chainPeak, out.storagePeak = max(out.chainPeak, chain), max(out.storagePeak, stored)
		var chainPages int64
		for _, c := range d.chain {
			chainPages += int64(len(c))
		}
		if set.MergeEvery > 0 && len(d.chain) >= set.MergeEvery || set.MergeChainBytes > 0 && chainPages*int64(page) >= set.MergeChainBytes {
			union := map[pg]bool{}
			for p := range d.full {
				union[p] = true
			}
			for _, c := range d.chain {
				for p := range c {
					union[p] = true
				}
			}
			out.merges++
			out.mergeRead += int64(len(d.full)) + chainPages
			out.mergeWrite += int64(len(union))
			out.storagePeak = max(out.storagePeak, stored+int64(len(union)))
			d.full, d.chain = union, nil
		}
	}
	for _, k := range order {
		union := map[pg]bool{}
		for p := range doms[k].full {
			union[p] = true
		}
		for _, c := range doms[k].chain {
			for p := range c {
				union[p] = true
			}
		}
		out.restoreEnd += int64(len(union))
	}
	return out
}

func withStorage(dev incremental.Storage) *scheme.Info {
	info := incremental.Info()
	info.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		set, err := incremental.ParseSettings(p)
		if err != nil {
			return nil, err
		}
		return incremental.New(m, set, dev)
	}
	return &info
}

func check(t *testing.T, cfg sim.Config, recs []traces.Record) {
	t.Helper()
	rec := &recorder{}
	s1 := mustRun(t, cfg, recs, sim.Options{Scheme: withStorage(rec)})
	s := mustRun(t, cfg, recs, sim.Options{CheckEvery: len(recs) < 5000})
	set, err := incremental.ParseSettings(mustResolve(t, cfg.Params))
	if err != nil {
		t.Fatal(err)
	}
	want := reference(recs, cfg.Interval, cfg.Scope == "asid", cfg.PageSize, set)
	if fmt.Sprint(rec.per) != fmt.Sprint(want.perCkpt) {
		t.Fatalf("pages stored per checkpoint %v, reference %v", rec.per, want.perCkpt)
	}
	var sum int64
	for _, n := range want.perCkpt {
		sum += n
	}
	P := int64(cfg.PageSize)
	got := []int64{s.BytesToStorage, s1.BytesToStorage, s.CheckpointStallBytes, s.Traps, own(t, s, "incrementals"), own(t, s, "merges"),
		own(t, s, "merge_read_bytes"), own(t, s, "merge_write_bytes"), own(t, s, "chain_peak_bytes"), own(t, s, "storage_peak_bytes"),
		own(t, s, "restore_read_bytes"), own(t, s, "mirror_flushes"), own(t, s, "mirror_absorbed_bytes"),
		own(t, s, "mirror_disk_bytes"), own(t, s, "mirror_peak_bytes")}
	exp := []int64{sum * P, sum * P, sum * P, want.traps, int64(len(want.perCkpt)), want.merges,
		want.mergeRead * P, want.mergeWrite * P, want.chainPeak * P, want.storagePeak * P,
		want.restoreEnd * P, want.flushes, want.absorbed * P, want.disk * P, want.mirrorPeak * P}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("%v:\ngot       %v\nreference %v", cfg.Params, got, exp)
	}
}

func mustResolve(t *testing.T, set map[string]string) scheme.Params {
	p, err := incremental.Info().Resolve(set)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVolumesAgainstReference(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 13))
	n := 30
	if testing.Short() {
		n = 6
	}
	for i := range n {
		cfg := sim.DefaultConfig()
		cfg.Scheme = "incremental"
		cfg.Interval = int64(1 + rng.IntN(300))
		cfg.Scope = []sim.Scope{"system", "asid"}[rng.IntN(2)]
		cfg.PageSize = []uint64{1024, 4096}[rng.IntN(2)]
		cfg.Params = map[string]string{
			"merge-every":        fmt.Sprint(rng.IntN(5)),
			"merge-chain-bytes":  []string{"0", "8K", "40000"}[rng.IntN(3)],
			"mirror-cache":       []string{"0", "4K", "16K", "1M"}[rng.IntN(4)],
			"mirror-flush-every": fmt.Sprint([]int{0, 97, 1000}[rng.IntN(3)]),
		}
		recs := randomTrace(rng, 500+rng.IntN(3000), 1+rng.IntN(3), 4+rng.IntN(40))
		t.Run(fmt.Sprintf("random %d (seed %d)", i, seed), func(t *testing.T) { check(t, cfg, recs) })
	}
}

func TestVolumesOnRealTrace(t *testing.T) {
	recs := gccHead(t, 200000)
	for _, params := range []map[string]string{
		{},
		{"merge-every": "0", "merge-chain-bytes": "256K", "mirror-cache": "64K", "mirror-flush-every": "25000"},
	} {
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Interval, cfg.Params = "incremental", 5000, params
		check(t, cfg, recs)
	}
}

// testSeed returns the seed of a randomized test: $VMSIM_TEST_SEED when set, to rerun a
// failure, else a fresh random one. It logs the seed, which a failing test prints.
func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }
