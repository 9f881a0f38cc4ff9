package sim

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coherence"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/traces"
)

// The multi-core machine in the cache room (--cores above 1, docs/coherence.md section
// "The driver's cores"): the one cache's place is taken by a coherence.Machine, a private
// cache per core kept coherent by a directory, and each access goes to the core that the
// scheduler gives its thread. With one core none of this runs: the hierarchy's cache is
// the one cache, as it always was.

// newCores makes the machine of cfg.Cores cores, each cache of the cache's geometry with
// blocks stamps per line, in front of mem (nil: counts only), and its scheduler.
// Precondition: cfg is valid, with Cores > 1 (and so a cache).
func (h *hierarchy) newCores(cfg Config, blocks int, mem coherence.Memory) {
	mc, err := coherence.New(cfg.Cores, cfg.cacheGeometry(), blocks, mem)
	if err != nil {
		panic(fmt.Sprintf("sim: a valid configuration's cores: %v", err))
	}
	sched, err := schedule.New(cfg.scheduleOptions())
	if err != nil {
		panic(fmt.Sprintf("sim: a valid configuration's schedule: %v", err))
	}
	h.mc, h.sched = mc, sched
	h.core, h.cpu, h.lastCore = -1, schedule.NoCPU, -1
	h.threadCore = map[schedule.Thread]int{}
}

// coreOf returns the core access rec runs on. Performed for the first time (not replay),
// the scheduler's, for rec's thread on the cpu the trace recorded (h.cpu); replayed after a
// failure, the core its thread's last access performed for the first time ran on, so that
// the schedule (round-robin's quanta included) is a function of the trace alone, failures
// or none. The error is the scheduler's: recorded on an access without a cpu.
func (h *hierarchy) coreOf(rec *traces.Record, replay bool) (int, error) {
	t := schedule.Thread{ASID: rec.ASID, TID: rec.Thread}
	if replay {
		if h.seen && t == h.last {
			return h.lastCore, nil
		}
		c, ok := h.threadCore[t]
		if !ok {
			panic(fmt.Sprintf("sim: thread %d of address space %d replays an access it never performed", t.TID, t.ASID))
		}
		return c, nil
	}
	core, err := h.sched.Core(t, h.cpu)
	if err != nil {
		return 0, err
	}
	if !h.seen || t != h.last {
		if h.seen {
			h.threadCore[h.last] = h.lastCore
		}
		h.seen, h.last = true, t
	}
	h.lastCore = core
	return core, nil
}

// walkCores is apply's walk over the cache lines of rec, access idx, on the multi-core
// machine: every line, in order, referenced by the access's core. It reports false when
// the run ends (r.err): the access has no core, or a scheme behind the caches went past
// its memory budget. Precondition: r.mem.mc != nil.
func (r *runner) walkCores(rec traces.Record, idx int64) bool {
	h := r.mem
	core, err := h.coreOf(&rec, r.replaying)
	if err != nil {
		r.usageErr(fmt.Errorf("access %d: %w (only drmemtrace traces record cpus: use --schedule round-robin)", idx, err))
		return false
	}
	h.core = core
	write := rec.Kind.Writes()
	last := (rec.Addr + uint64(rec.Size) - 1) >> h.lineShift
	for n := rec.Addr >> h.lineShift; ; n++ {
		h.mc.Access(core, cache.Line{ASID: rec.ASID, N: n}, write)
		if n == last {
			return true
		}
		if n&4095 == 0 && h.behind {
			if err := r.scheme.Err(); err != nil {
				r.usageErr(err)
				return false
			}
		}
	}
}

// coreData returns the stamps of line l as the access being performed sees them: its
// core's copy, else the copy of the core holding l in M (l's current content), else nil
// (memory's is current: the scheme's). Precondition: mc != nil.
func (h *hierarchy) coreData(l cache.Line) []uint64 {
	if h.core >= 0 {
		if d := h.mc.Data(h.core, l); d != nil {
			return d
		}
	}
	if cores, modified := h.mc.Holders(l); modified {
		return h.mc.Data(bits.TrailingZeros64(cores), l)
	}
	return nil
}

// countCores sets st's cache counters to the sums over the cores' caches, and its
// coherence counters. Precondition: mc != nil.
func (h *hierarchy) countCores(st *Stats) {
	st.CacheRefs, st.CacheMisses, st.CacheWritebacks, st.CacheFlushLines, st.CacheDirtyAtEnd = 0, 0, 0, 0, 0
	for c := range h.mc.Cores() {
		cc := h.mc.CacheCounters(c)
		st.CacheRefs += cc.Refs
		st.CacheMisses += cc.Misses
		st.CacheWritebacks += cc.Writebacks
		st.CacheFlushLines += cc.FlushLines
		st.CacheDirtyAtEnd += h.mc.Dirty(c)
	}
	st.CohInvalidations, st.CohDowngrades, st.CohTransfers = h.mc.C.Invalidations, h.mc.C.Downgrades, h.mc.C.Transfers
}

// checkCores verifies the multi-core machine's invariants from scratch (the machine's own
// included), when there is one.
func (h *hierarchy) checkCores() error {
	switch {
	case (h.mc == nil) != (h.sched == nil):
		return fmt.Errorf("cores %v with a scheduler %v", h.mc != nil, h.sched != nil)
	case h.mc == nil:
		return nil
	case h.sched.Options().Cores != h.mc.Cores():
		return fmt.Errorf("a schedule of %d cores for %d cores", h.sched.Options().Cores, h.mc.Cores())
	case h.mc.LineShift() != h.lineShift:
		return fmt.Errorf("lines of 2^%d bytes in caches of 2^%d-byte lines", h.lineShift, h.mc.LineShift())
	case h.core < -1 || h.core >= h.mc.Cores() || h.lastCore < -1 || h.lastCore >= h.mc.Cores():
		return fmt.Errorf("access on core %d, the last thread's on core %d, of %d", h.core, h.lastCore, h.mc.Cores())
	case h.seen != (h.lastCore >= 0):
		return fmt.Errorf("a thread seen %v, its core %d", h.seen, h.lastCore)
	}
	var refs, misses int64
	for c := range h.mc.Cores() {
		cc := h.mc.CacheCounters(c)
		refs, misses = refs+cc.Refs, misses+cc.Misses
		if cc.FlushLines > cc.Writebacks {
			return fmt.Errorf("core %d's cache: %d flushed of %d written back", c, cc.FlushLines, cc.Writebacks)
		}
	}
	if misses > refs || h.mc.C.Transfers > misses {
		return fmt.Errorf("caches: %d misses (%d supplied by another core) of %d references", misses, h.mc.C.Transfers, refs)
	}
	for t, c := range h.threadCore {
		if c < 0 || c >= h.mc.Cores() {
			return fmt.Errorf("thread %d of address space %d last ran on core %d, of %d", t.TID, t.ASID, c, h.mc.Cores())
		}
	}
	// Every thread the scheduler numbered is known here, where a replay finds its core.
	n := len(h.threadCore)
	if _, ok := h.threadCore[h.last]; h.seen && !ok {
		n++
	}
	if h.sched.Options().Policy == schedule.RoundRobin && n != h.sched.Seen() {
		return fmt.Errorf("the cores of %d threads known, the scheduler has seen %d", n, h.sched.Seen())
	}
	return h.mc.Check()
}

// cpuBatcher hands out a trace's records as its reader returns them, a Read at a time,
// on the loop's goroutine, and sets *cpu to the cpu the reader reports for them
// (traces.File.CPU): --schedule recorded, which needs the cpu of every access, reads so
// instead of ahead (a traces.Prefetcher), since a drmemtrace Read returns records of one
// cpu only.
type cpuBatcher struct {
	src traces.Reader
	cpu interface{ CPU() int }
	out *int
	buf []traces.Record
}

func newCPUBatcher(src traces.Reader, cpu interface{ CPU() int }, out *int) *cpuBatcher {
	return &cpuBatcher{src: src, cpu: cpu, out: out, buf: make([]traces.Record, 4096)}
}

// NextAccesses returns the records of the next Read, which may hold control and I/O
// records.
func (b *cpuBatcher) NextAccesses() ([]traces.Record, bool, error) {
	n, err := b.src.Read(b.buf)
	*b.out = b.cpu.CPU()
	return b.buf[:n], false, err
}

// SkippedLines is the reader's (a lenient one's).
func (b *cpuBatcher) SkippedLines() int64 {
	if s, ok := b.src.(traces.LineSkipper); ok {
		return s.SkippedLines()
	}
	return 0
}
