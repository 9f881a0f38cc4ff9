package sim

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coherence"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/tlb"
	"github.com/vmsim/vmsim/traces"
)

// hierarchy is the cache/TLB room: the cache model, the TLB model and the memory behind
// the cache (docs/substrate.md, the cache model). Runs of accesses go through the models
// in runner.performEach (the cache's AccessRecords and HitRecords); an access alone (a
// miss behind the cache, the general loop, a replay) in runner.apply, which writes out
// its walk over its cache lines, saving a call an access.
//
// Invariant: cache, mc or tlb is not nil, and not both cache and mc; behind implies cache
// != nil or mc != nil, and then lineShift is the caches' line size's log2 and lineShift >=
// blockShift; tagged and flushAtCheckpoint imply flushes, which implies tlb != nil.
// Invariant: mc != nil iff sched != nil, with as many cores; every thread that has had an
// access performed for the first time is last (when seen) or a key of threadCore.
type hierarchy struct {
	// cache is the cache model, nil without one or with more than one core. behind: the
	// scheme sits behind it (a memory-level scheme) and sees its fills and write-backs
	// (lineMemory); otherwise the cache is modeled for its counts only and the scheme
	// sees every access.
	cache     *cache.Cache
	behind    bool
	lineShift uint
	// mc is the multi-core machine of --cores above 1 (then cache is nil), whose private
	// caches take the cache's place, with the scheme behind them (coherence.Shared of
	// lineMemory) when behind; sched gives each access its core (multicore.go).
	mc    *coherence.Machine
	sched *schedule.Scheduler
	// core is the core of the access being performed (-1 before any), for --verify's
	// loads and stores; cpu is the cpu the trace recorded for the records being performed
	// (schedule.NoCPU when it records none, or under round-robin, which does not look).
	core, cpu int
	// seen, last and lastCore: the thread of the last access performed for the first
	// time, and its core; threadCore is the core each other thread's last such access ran
	// on. A replayed access runs on its thread's (coreOf).
	seen       bool
	last       schedule.Thread
	lastCore   int
	threadCore map[schedule.Thread]int
	// blockShift is log2 of --verify-block, for the stamps of the lines behind the cache.
	blockShift uint
	// flush and invalidate: what a checkpoint does to the cache first (--cache-flush).
	flush, invalidate bool
	scheme            scheme.Scheme
	// img is the scheme's memory under --verify, behind the cache.
	img image
	// cur is the number of the access being performed, for fills and write-backs; one is
	// the run of one fill or write-back handed to the scheme (scratch).
	cur int64
	one [1]traces.Record

	// tlb is the TLB model, nil without one. flushes: the scheme write-protects through
	// the translation, so a recovery flushes the domains' entries, and so does a
	// checkpoint with flushAtCheckpoint (--tlb-checkpoint flush); tagged: entries carry
	// the domain's checkpoint number instead (--tlb-checkpoint tag).
	tlb               *tlb.TLB
	pageShift         uint
	flushes           bool
	flushAtCheckpoint bool
	tagged            bool
}

// newHierarchy returns the cache and TLB models the configuration asks for, nil for
// neither; machine (in tests) models one core as the multi-core machine of one core.
func newHierarchy(cfg Config, info scheme.Info, s scheme.Scheme, machine bool) *hierarchy {
	if cfg.CacheSize == 0 && cfg.TLBEntries == 0 {
		return nil
	}
	h := &hierarchy{scheme: s, pageShift: cfg.pageShift()}
	if cfg.CacheSize > 0 {
		g := cfg.cacheGeometry()
		h.lineShift = uint(bits.TrailingZeros64(g.Line))
		h.flush, h.invalidate = cfg.CacheFlush != CacheNoFlush, cfg.CacheFlush == CacheInvalidate
		if info.Level == scheme.LevelMemory {
			h.behind = true
			blocks := 0
			if cfg.Verify {
				blocks = int(g.Line / cfg.VerifyBlock)
				h.blockShift = uint(bits.TrailingZeros64(cfg.VerifyBlock))
				h.img = image{s: s, perPage: h.pageShift - h.blockShift}
			}
			if cfg.Cores > 1 || machine {
				h.newCores(cfg, blocks, coherence.Shared((*lineMemory)(h)))
			} else {
				h.cache = cache.New(g, blocks, (*lineMemory)(h))
			}
		} else if cfg.Cores > 1 || machine {
			h.newCores(cfg, 0, nil)
		} else {
			h.cache = cache.New(g, 0, countOnly{})
		}
	}
	if cfg.TLBEntries > 0 {
		h.tlb = tlb.New(cfg.tlbGeometry())
		h.flushes = info.WriteProtects
		h.flushAtCheckpoint = h.flushes && cfg.TLBCheckpoint == TLBFlush
		h.tagged = h.flushes && cfg.TLBCheckpoint == TLBTag
	}
	return h
}

// translate looks up every page rec covers in the TLB, tagged with tag, the checkpoint
// number of rec's domain when tagged (else 0). Precondition: tlb != nil.
func (h *hierarchy) translate(rec traces.Record, tag uint64) {
	write := rec.Kind.Writes()
	last := (rec.Addr + uint64(rec.Size) - 1) >> h.pageShift
	for vpn := rec.Addr >> h.pageShift; ; vpn++ {
		h.tlb.Lookup(uint32(rec.ASID), vpn, tag, write)
		if vpn == last {
			return
		}
	}
}

// performEach is perform's part for runs whose accesses the cache or TLB models must see
// or --ignore-size clips (each): it performs run, accesses numbered from r.n.refs+1 with no
// event due between them, and returns how many it performed (as perform). With one cache
// or none, and neither --ignore-size nor a scheme behind the cache under --verify, it hands
// over runs: a scheme not behind the cache gets the whole run in one call (as without the
// models), then the cache and the TLB take the accesses it performed, in order; behind the
// cache, the cache performs the accesses that hit in one call, and each access that misses
// goes through apply alone, its fills and write-backs to the scheme. Otherwise every access
// goes through apply alone. The counts are the same either way: the cache and the TLB
// hear the same references in the same order, the scheme the same accesses or fills and
// write-backs, and the loop stops after the same access (a checkpoint asked for, an error).
func (r *runner) performEach(run []traces.Record) (n int) {
	h := r.mem
	if h == nil || r.cfg.IgnoreSize || h.mc != nil || h.behind && r.ver != nil {
		for n < len(run) {
			n++
			r.apply(run[n-1], r.n.refs+int64(n))
			if len(r.requested) > 0 || r.err != nil {
				break
			}
		}
		return n
	}
	if !h.behind {
		n = r.accessRun(run)
		// A scheme past its memory budget: stop before the models walk the run.
		if err := r.scheme.Err(); err != nil {
			r.usageErr(err)
			return n
		}
		if h.cache != nil {
			h.cache.AccessRecords(run[:n])
		}
		r.translateRun(run[:n])
		return n
	}
	for n < len(run) {
		k := h.cache.HitRecords(run[n:])
		r.translateRun(run[n : n+k])
		if n += k; n == len(run) {
			break
		}
		n++
		r.apply(run[n-1], r.n.refs+int64(n))
		if len(r.requested) > 0 || r.err != nil {
			break
		}
	}
	return n
}

// translateRun looks up in the TLB, if there is one, every page of each access of recs, as
// apply does. Precondition: the accesses are all of one domain.
func (r *runner) translateRun(recs []traces.Record) {
	h := r.mem
	if h.tlb == nil || len(recs) == 0 {
		return
	}
	var tag uint64
	if h.tagged {
		tag = r.doms.of(recs[0].ASID).ckpts
	}
	for _, rec := range recs {
		h.translate(r.clip(rec), tag)
	}
}

// checkpoint prepares a checkpoint after access refs: the cache is flushed first
// (--cache-flush), so that memory holds the state at the checkpoint.
func (h *hierarchy) checkpoint(refs int64) {
	if h.cache != nil && h.flush {
		h.cur = refs
		h.cache.Flush(h.invalidate)
	}
	if h.mc != nil && h.flush {
		h.cur = refs
		h.mc.Flush(h.invalidate)
	}
}

// discard drops, without writing them back, the cached lines of the address spaces keep
// rejects (nil: every line), from the cache or every core's: a recovery's.
func (h *hierarchy) discard(keep func(traces.ASID) bool) {
	switch {
	case h.cache != nil:
		h.cache.Discard(keep)
	case h.mc != nil:
		h.mc.DiscardAll(keep)
	}
}

// dropTLB drops the TLB entries of the address spaces in (when the scheme's checkpoints
// or recoveries change what translations allow).
func (h *hierarchy) dropTLB(in func(traces.ASID) bool) {
	h.tlb.Flush(func(a uint32) bool { return in(traces.ASID(a)) })
}

// load reads blocks as the program sees them, from the cache where it holds the line,
// else from the scheme behind it. Precondition: behind.
func (h *hierarchy) load(asid traces.ASID, first uint64, dst []uint64) {
	h.eachLine(asid, first, len(dst), func(data []uint64, i, off, n int) {
		if data != nil {
			copy(dst[i:i+n], data[off:off+n])
		} else {
			h.img.load(asid, first+uint64(i), dst[i:i+n])
		}
	})
}

// store writes blocks as the program does: into the cache where it holds the line (it
// does after the access, unless a later line of the same access evicted it), else into
// the scheme. Precondition: behind.
func (h *hierarchy) store(asid traces.ASID, first uint64, src []uint64) {
	h.eachLine(asid, first, len(src), func(data []uint64, i, off, n int) {
		if data != nil {
			copy(data[off:off+n], src[i:i+n])
		} else {
			h.img.store(asid, first+uint64(i), src[i:i+n])
		}
	})
}

// eachLine splits n blocks from block first into runs within one cache line: f gets the
// line's data (nil if not cached), the run's index in the n blocks, its offset in the line
// and its length.
func (h *hierarchy) eachLine(asid traces.ASID, first uint64, n int, f func(data []uint64, i, off, n int)) {
	per := h.lineShift - h.blockShift
	for i := 0; i < n; {
		b := first + uint64(i)
		off := int(b & (1<<per - 1))
		k := min(n-i, 1<<per-off)
		f(h.lineData(cache.Line{ASID: asid, N: b >> per}), i, off, k)
		i += k
	}
}

// lineData returns the stamps of line l as the program sees it, nil if no cache holds
// it: the cache's copy, or with more than one core the copy the access being performed
// sees (coreData).
func (h *hierarchy) lineData(l cache.Line) []uint64 {
	if h.mc != nil {
		return h.coreData(l)
	}
	return h.cache.Data(l)
}

// count sets the cache's (the cores', summed) and the TLB's counters of st, and the
// coherence counters.
func (h *hierarchy) count(st *Stats) {
	if h.cache != nil {
		cc := h.cache.C
		st.CacheRefs, st.CacheMisses, st.CacheWritebacks, st.CacheFlushLines = cc.Refs, cc.Misses, cc.Writebacks, cc.FlushLines
		st.CacheDirtyAtEnd = h.cache.Dirty()
	}
	if h.mc != nil {
		h.countCores(st)
	}
	if h.tlb != nil {
		st.TLBRefs, st.TLBMisses, st.TLBStale, st.TLBFlushes = h.tlb.C.Refs, h.tlb.C.Misses, h.tlb.C.Stale, h.tlb.C.Flushes
	}
}

// Check verifies the invariants from scratch, the cache's and the TLB's included.
func (h *hierarchy) Check() error {
	switch {
	case h.cache == nil && h.mc == nil && h.tlb == nil:
		return fmt.Errorf("neither a cache nor a TLB")
	case h.cache != nil && h.mc != nil:
		return fmt.Errorf("both one cache and %d cores' caches", h.mc.Cores())
	case h.behind && h.cache == nil && h.mc == nil:
		return fmt.Errorf("a scheme behind no cache")
	case h.cache != nil && h.cache.LineShift() != h.lineShift:
		return fmt.Errorf("lines of 2^%d bytes in a cache of 2^%d-byte lines", h.lineShift, h.cache.LineShift())
	case h.behind && h.lineShift < h.blockShift:
		return fmt.Errorf("lines of 2^%d bytes hold blocks of 2^%d", h.lineShift, h.blockShift)
	case (h.tagged || h.flushAtCheckpoint) && !h.flushes, h.flushes && h.tlb == nil:
		return fmt.Errorf("TLB flushes %v (at checkpoints %v, tagged %v) with a TLB %v", h.flushes, h.flushAtCheckpoint, h.tagged, h.tlb != nil)
	case h.cache != nil && (h.cache.C.Misses > h.cache.C.Refs || h.cache.C.FlushLines > h.cache.C.Writebacks):
		return fmt.Errorf("cache: %d misses of %d references, %d flushed of %d written back", h.cache.C.Misses, h.cache.C.Refs, h.cache.C.FlushLines, h.cache.C.Writebacks)
	case h.tlb != nil && (h.tlb.C.Misses > h.tlb.C.Refs || h.tlb.C.Stale > h.tlb.C.Misses):
		return fmt.Errorf("tlb: %d misses (%d stale) of %d lookups", h.tlb.C.Misses, h.tlb.C.Stale, h.tlb.C.Refs)
	}
	if h.cache != nil {
		if err := h.cache.Check(); err != nil {
			return err
		}
	}
	if err := h.checkCores(); err != nil {
		return err
	}
	if h.tlb != nil {
		return h.tlb.Check()
	}
	return nil
}

// lineMemory is the memory behind the cache: a memory-level scheme, to which every fill
// is a line read and every write-back a line write.
type lineMemory hierarchy

func (m *lineMemory) Fill(l cache.Line, data []uint64) {
	m.line(l, traces.Read)
	if data != nil {
		m.img.load(l.ASID, l.N<<(m.lineShift-m.blockShift), data)
	}
}

func (m *lineMemory) WriteBack(l cache.Line, data []uint64) {
	m.line(l, traces.Write)
	if data != nil {
		m.img.store(l.ASID, l.N<<(m.lineShift-m.blockShift), data)
	}
}

// line hands the scheme line l's fill (Read) or write-back (Write), a run of one numbered
// as the access being performed.
func (m *lineMemory) line(l cache.Line, kind traces.Kind) {
	m.one[0] = traces.Record{Addr: l.N << m.lineShift, Size: 1 << m.lineShift, ASID: l.ASID, Kind: kind}
	m.scheme.Access(scheme.Run{Recs: m.one[:], N: m.cur - 1})
}

// countOnly is the memory behind a cache modeled for its counts only.
type countOnly struct{}

func (countOnly) Fill(cache.Line, []uint64)      {}
func (countOnly) WriteBack(cache.Line, []uint64) {}
