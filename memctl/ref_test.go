package memctl_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// This file is a naive reference model of the volumes the six strategies move, written
// from their definitions in docs/memctl.md with none of the package's code: a list-based
// cache that yields the memory traffic, sets of granules per checkpoint interval, and
// lists of the granules waiting for bitmap2's background copier.

type refGran struct {
	asid traces.ASID
	g    uint64
}

// refLine is a line in a set, the set's lines kept most recently used first; way is the
// way it occupies (a flush visits a set's ways in order).
type refLine struct {
	asid  traces.ASID
	n     uint64
	dirty bool
	way   int
}

type refConfig struct {
	granule, page   uint64
	interval        int64
	perASID         bool
	cacheSize, line uint64
	ways            int
	invalidate      bool
	records         []traces.Record
	wantCheckpoints int64
	pagesT, pagesW  int64
	touchedGranules int64
	shadowBytes     int64 // shadow bytes_copied, shadow-remote bytes_to_backup
	intervalBytes   int64 // bitmap, bitmap2 bytes_copied: Σ distinct granules written per interval × G
	loggedBytes     int64 // undo bytes_logged, incl. the unfinished last interval
	logPeakEntries  int64
	flips           int64
	merges          int64
	refWritebacks   int64
	refFlushedLines int64
	refMisses       int64
	// bitmap2's copier, at copyRate bytes per program access (0: the default, 3).
	copyRate                                       int64
	b2Background, b2Forced, b2Stall, b2PendingGran int64
}

type refDomain struct {
	since   int64
	touched map[refGran]bool
	written map[refGran]bool
	// wpages lists the pages (address space, page) written in the interval, in the order
	// first written; waiting holds the granules handed to bitmap2's copier at the last
	// checkpoint and not copied since, in the copier's order.
	wpages  []refGran
	waiting []refGran
}

// refCopier is bitmap2's background copier as docs/memctl.md defines it: before each
// access the controller sees it gains rate × (accesses since the last one it saw) bytes
// of credit while something waits, copies one granule for every granule of credit,
// domains in the order their copies began; credit is not banked while nothing waits.
type refCopier struct {
	rate, granule int64
	credit, last  int64
	queue         []*refDomain
	background    int64 // bytes
	forced        int64 // granules
	stall         int64 // bytes
}

func (c *refCopier) waiting() bool {
	for _, d := range c.queue {
		if len(d.waiting) > 0 {
			return true
		}
	}
	return false
}

// idle drops the credit when nothing waits any more, and domains with nothing waiting.
func (c *refCopier) idle() {
	q := c.queue[:0]
	for _, d := range c.queue {
		if len(d.waiting) > 0 {
			q = append(q, d)
		}
	}
	c.queue = q
	if len(c.queue) == 0 {
		c.credit = 0
	}
}

// see is the controller seeing an access numbered n.
func (c *refCopier) see(n int64) {
	delta := n - c.last
	if n < c.last {
		delta = 1
	}
	c.last = n
	if !c.waiting() {
		return
	}
	c.credit += delta * c.rate
	for c.credit >= c.granule && len(c.queue) > 0 {
		d := c.queue[0]
		d.waiting = d.waiting[1:]
		c.background += c.granule
		c.credit -= c.granule
		c.idle()
	}
}

// write is a write to granule k of domain d: a forced copy if it is still waiting.
func (c *refCopier) write(d *refDomain, k refGran) {
	for i, w := range d.waiting {
		if w == k {
			d.waiting = append(d.waiting[:i:i], d.waiting[i+1:]...)
			c.forced++
			c.idle()
			return
		}
	}
}

// checkpoint finishes d's waiting copies with the program stopped, then hands it the
// granules written in the interval: pages in the order first written, granules in
// address order.
func (c *refCopier) checkpoint(d *refDomain, page uint64) {
	c.stall += int64(len(d.waiting)) * c.granule
	d.waiting = nil
	c.idle()
	for _, pg := range d.wpages {
		var gs []refGran
		for k := range d.written {
			if k.asid == pg.asid && k.g*uint64(c.granule)/page == pg.g {
				gs = append(gs, k)
			}
		}
		slices.SortFunc(gs, func(a, b refGran) int { return cmp.Compare(a.g, b.g) })
		d.waiting = append(d.waiting, gs...)
	}
	if len(d.waiting) > 0 {
		c.queue = append(c.queue, d)
	}
}

// run computes the reference volumes of cfg.records.
func (rc *refConfig) run() {
	doms := map[traces.ASID]*refDomain{}
	dom := func(a traces.ASID) *refDomain {
		if !rc.perASID {
			a = 0
		}
		d := doms[a]
		if d == nil {
			d = &refDomain{touched: map[refGran]bool{}, written: map[refGran]bool{}}
			doms[a] = d
		}
		return d
	}
	pages := map[refGran]bool{}
	live := int64(0)
	cp := &refCopier{rate: rc.copyRate, granule: int64(rc.granule)}
	if rc.copyRate == 0 {
		cp.rate = 3
	}
	var n int64 // the number of the program access under way
	// memory sees one access: a fill, a write-back, or a program access without a cache.
	memory := func(asid traces.ASID, addr, size uint64, kind traces.Kind) {
		write := kind == traces.Write || kind == traces.Modify
		d := dom(asid)
		cp.see(n)
		for b := addr / rc.page; b <= (addr+size-1)/rc.page; b++ {
			k := refGran{asid, b}
			if w, ok := pages[k]; !ok || write && !w {
				pages[k] = write
			}
		}
		for g := addr / rc.granule; g <= (addr+size-1)/rc.granule; g++ {
			k := refGran{asid, g}
			d.touched[k] = true
			if write {
				cp.write(d, k)
			}
			if write && !d.written[k] {
				if pg := (refGran{asid, g * rc.granule / rc.page}); !slices.Contains(d.wpages, pg) {
					d.wpages = append(d.wpages, pg)
				}
				d.written[k] = true
				rc.loggedBytes += int64(rc.granule)
				live++
				rc.logPeakEntries = max(rc.logPeakEntries, live)
				if !(kind == traces.Write && addr <= g*rc.granule && addr+size >= (g+1)*rc.granule) {
					rc.merges++
				}
			}
		}
	}
	var sets map[uint64][]refLine
	if rc.cacheSize > 0 {
		sets = map[uint64][]refLine{}
	}
	nsets := uint64(0)
	if rc.cacheSize > 0 {
		nsets = rc.cacheSize / rc.line / uint64(rc.ways)
	}
	touchLine := func(asid traces.ASID, n uint64, write bool) {
		s := n % nsets
		set := sets[s]
		for i, l := range set {
			if l.asid == asid && l.n == n {
				l.dirty = l.dirty || write
				rest := append(append([]refLine{}, set[:i]...), set[i+1:]...)
				sets[s] = append([]refLine{l}, rest...)
				return
			}
		}
		rc.refMisses++
		way := 0 // the first invalid way, else the least recently used line's
		for slices.ContainsFunc(set, func(l refLine) bool { return l.way == way }) {
			way++
		}
		if len(set) == rc.ways {
			v := set[len(set)-1]
			set = set[:len(set)-1]
			way = v.way
			if v.dirty {
				rc.refWritebacks++
				memory(v.asid, v.n*rc.line, rc.line, traces.Write)
			}
		}
		memory(asid, n*rc.line, rc.line, traces.Read)
		sets[s] = append([]refLine{{asid, n, write, way}}, set...)
	}
	checkpoint := func(d *refDomain) {
		if sets != nil {
			for s := uint64(0); s < nsets; s++ {
				for w := range rc.ways {
					i := slices.IndexFunc(sets[s], func(l refLine) bool { return l.way == w })
					if i >= 0 && sets[s][i].dirty {
						rc.refWritebacks++
						rc.refFlushedLines++
						sets[s][i].dirty = false
						memory(sets[s][i].asid, sets[s][i].n*rc.line, rc.line, traces.Write)
					}
				}
				if rc.invalidate {
					delete(sets, s)
				}
			}
		}
		rc.wantCheckpoints++
		rc.shadowBytes += int64(len(d.touched)) * int64(rc.granule)
		rc.intervalBytes += int64(len(d.written)) * int64(rc.granule)
		rc.flips += int64(len(d.written))
		live -= int64(len(d.written))
		cp.checkpoint(d, rc.page)
		d.written = map[refGran]bool{}
		d.wpages = nil
		d.since = 0
	}
	for _, r := range rc.records {
		n++
		size := uint64(max(r.Size, 1))
		write := r.Kind == traces.Write || r.Kind == traces.Modify
		if sets == nil {
			memory(r.ASID, r.Addr, size, r.Kind)
		} else {
			for n := r.Addr / rc.line; n <= (r.Addr+size-1)/rc.line; n++ {
				touchLine(r.ASID, n, write)
			}
		}
		d := dom(r.ASID)
		d.since++
		if rc.interval > 0 && d.since >= rc.interval {
			checkpoint(d)
		}
	}
	for _, w := range pages {
		rc.pagesT++
		if w {
			rc.pagesW++
		}
	}
	for _, d := range doms {
		rc.touchedGranules += int64(len(d.touched))
		rc.b2PendingGran += int64(len(d.waiting))
	}
	rc.b2Background, rc.b2Forced, rc.b2Stall = cp.background, cp.forced, cp.stall
}

// refTrace is a random trace over a few pages of a few address spaces: mostly small
// accesses, some crossing granules and pages.
func refTrace(seed uint64, n, asids int) []traces.Record {
	rng := rand.New(rand.NewPCG(seed, 99))
	kinds := []traces.Kind{traces.Read, traces.Write, traces.Modify, traces.Fetch}
	recs := make([]traces.Record, n)
	for i := range recs {
		size := uint32(1 + rng.IntN(8))
		if rng.IntN(20) == 0 {
			size = uint32(1 + rng.IntN(300))
		}
		recs[i] = traces.Record{
			Addr: uint64(rng.IntN(12))<<12 + uint64(rng.IntN(4096)),
			Size: size,
			ASID: traces.ASID(rng.IntN(asids)),
			Kind: kinds[rng.IntN(len(kinds))],
		}
	}
	return recs
}

func sliceOpener(recs []traces.Record) sim.Opener {
	return func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil }
}

// compareVolumes runs every strategy on rc.records and compares its counters with the
// reference.
func compareVolumes(t *testing.T, rc *refConfig, what string) {
	t.Helper()
	rc.run()
	G := int64(rc.granule)
	t.Logf("%s: reference: %d checkpoints, shadow %d B, per-interval %d B, logged %d B, log peak %d entries, merges %d, write-backs %d",
		what, rc.wantCheckpoints, rc.shadowBytes, rc.intervalBytes, rc.loggedBytes, rc.logPeakEntries, rc.merges, rc.refWritebacks)
	for _, name := range []string{"shadow", "shadow-remote", "bitmap", "bitmap2", "blockstate", "undo"} {
		cfg := sim.DefaultConfig()
		cfg.Scheme, cfg.Interval, cfg.Granule, cfg.PageSize = name, rc.interval, rc.granule, rc.page
		if rc.perASID {
			cfg.Scope = "asid"
		}
		if name == "bitmap2" && rc.copyRate != 0 {
			cfg.Params = map[string]string{"copy-rate": strconv.FormatInt(rc.copyRate, 10)}
		}
		if rc.cacheSize > 0 {
			cfg.CacheSize, cfg.CacheWays, cfg.CacheLine = rc.cacheSize, rc.ways, rc.line
			cfg.CacheFlush = map[bool]sim.CacheFlush{true: "invalidate", false: "clean"}[rc.invalidate]
		}
		res, err := sim.Run(cfg, sliceOpener(rc.records))
		if err != nil {
			t.Fatalf("%s, %s: %v", what, name, err)
		}
		s := res.Stats
		own := func(k string) int64 { v, _ := s.Scheme.Get(k); return v }
		type check struct {
			key       string
			got, want int64
		}
		checks := []check{
			{"checkpoints", s.Checkpoints, rc.wantCheckpoints},
			{"pages_touched", s.PagesTouched, rc.pagesT},
			{"pages_written", s.PagesWritten, rc.pagesW},
		}
		if rc.cacheSize > 0 {
			checks = append(checks, check{"cache_writebacks", s.CacheWritebacks, rc.refWritebacks},
				check{"cache_flush_lines", s.CacheFlushLines, rc.refFlushedLines}, check{"cache_misses", s.CacheMisses, rc.refMisses})
		}
		touchedBytes := rc.touchedGranules * G
		switch name {
		case "shadow":
			checks = append(checks, check{"bytes_copied", s.BytesCopied, rc.shadowBytes},
				check{"checkpoint_stall_bytes", s.CheckpointStallBytes, rc.shadowBytes},
				check{"mem_overhead_peak_bytes", s.MemOverheadPeakBytes, touchedBytes},
				check{"touched_granules", own("touched_granules"), rc.touchedGranules})
		case "shadow-remote":
			checks = append(checks, check{"bytes_to_backup", s.BytesToBackup, rc.shadowBytes},
				check{"bytes_copied", s.BytesCopied, 0},
				check{"checkpoint_stall_bytes", s.CheckpointStallBytes, rc.shadowBytes})
		case "bitmap":
			checks = append(checks, check{"bytes_copied", s.BytesCopied, rc.intervalBytes},
				check{"checkpoint_stall_bytes", s.CheckpointStallBytes, rc.intervalBytes},
				check{"mem_overhead_peak_bytes", s.MemOverheadPeakBytes, touchedBytes})
		case "bitmap2":
			parts := own("background_bytes") + own("forced_bytes") + s.CheckpointStallBytes + own("pending_bytes")
			checks = append(checks, check{"bytes_copied", s.BytesCopied, rc.intervalBytes},
				check{"background+forced+stall+pending", parts, rc.intervalBytes},
				check{"forced_bytes", own("forced_bytes"), own("forced_copies") * G},
				check{"background_bytes", own("background_bytes"), rc.b2Background},
				check{"forced_copies", own("forced_copies"), rc.b2Forced},
				check{"checkpoint_stall_bytes", s.CheckpointStallBytes, rc.b2Stall},
				check{"pending_bytes", own("pending_bytes"), rc.b2PendingGran * G})
		case "blockstate":
			checks = append(checks, check{"bytes_copied", s.BytesCopied, rc.merges * G},
				check{"merges", own("merges"), rc.merges},
				check{"checkpoint_flips", own("checkpoint_flips"), rc.flips},
				check{"checkpoint_stall_bytes", s.CheckpointStallBytes, 0},
				check{"mem_overhead_peak_bytes", s.MemOverheadPeakBytes, touchedBytes})
		case "undo":
			checks = append(checks, check{"bytes_logged", s.BytesLogged, rc.loggedBytes},
				check{"log_entries", own("log_entries"), rc.loggedBytes / G},
				check{"log_peak_bytes", own("log_peak_bytes"), rc.logPeakEntries * G},
				check{"mem_overhead_peak_bytes", s.MemOverheadPeakBytes, rc.logPeakEntries * (G + 8)})
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s, scheme %s: %s = %d, reference %d", what, name, c.key, c.got, c.want)
			}
		}
	}
}

func TestVolumesAgainstReference(t *testing.T) {
	type geom struct {
		name            string
		granule         uint64
		cacheSize, line uint64
		ways            int
		invalidate      bool
		perASID         bool
		interval        int64
		copyRate        int64 // bitmap2's; 0: the default
	}
	for _, g := range []geom{
		{"no cache, granule 64", 64, 0, 0, 0, false, false, 200, 0},
		{"no cache, granule 8, per asid", 8, 0, 0, 0, false, true, 150, 0},
		{"no cache, granule 4096", 4096, 0, 0, 0, false, false, 333, 0},
		{"no cache, granule 256, no checkpoints", 256, 0, 0, 0, false, false, 0, 0},
		{"cache 1K 2-way, invalidate", 64, 1024, 64, 2, true, false, 250, 0},
		{"cache 2K 4-way line 32, clean, per asid", 64, 2048, 32, 4, false, true, 120, 0},
		{"cache 512 1-way line 64, granule 16", 16, 512, 64, 1, true, false, 90, 0},
		{"cache 4K 8-way line 128, granule 512", 512, 4096, 128, 8, true, true, 400, 0},
		// A fast copier at short intervals: its waiting list often empties, by the copier,
		// by forced copies or by a checkpoint's stall, and its credit must then drop.
		{"no cache, fast copier", 64, 0, 0, 0, false, false, 12, 40},
		{"no cache, fast copier, per asid", 64, 0, 0, 0, false, true, 8, 100},
		{"cache 1K 2-way, fast copier", 64, 1024, 64, 2, true, false, 15, 50},
	} {
		t.Run(g.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				rc := &refConfig{granule: g.granule, page: 4096, interval: g.interval, perASID: g.perASID,
					cacheSize: g.cacheSize, line: g.line, ways: g.ways, invalidate: g.invalidate, copyRate: g.copyRate,
					records: refTrace(seed, 4000, 1+int(seed%3))}
				compareVolumes(t, rc, fmt.Sprintf("seed %d", seed))
			}
		})
	}
}

const realTrace = "../../shared/traces/gcc.trace.gz"

// realHead returns the first n records of the real gcc trace kept beside the repository,
// or skips the test without it.
func realHead(t testing.TB, n int) []traces.Record {
	if _, err := os.Stat(realTrace); err != nil {
		t.Skipf("no real trace: %v", err)
	}
	return schemetest.TraceHead(t, realTrace, n)
}

func TestVolumesOnRealTrace(t *testing.T) {
	recs := realHead(t, 200_000)
	for _, rc := range []*refConfig{
		{granule: 64, page: 4096, interval: 10000, records: recs},
		{granule: 64, page: 4096, interval: 10000, records: recs, cacheSize: 32 << 10, line: 64, ways: 8, invalidate: true},
	} {
		what := "gcc, no cache"
		if rc.cacheSize > 0 {
			what = "gcc, 32K cache"
		}
		compareVolumes(t, rc, what)
	}
}
