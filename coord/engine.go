package coord

import (
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coherence"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/traces"
)

// Run replays src's accesses on cfg's machine under cfg's scheme (docs/coordinated.md):
// each access runs on the core the schedule gives it (cpu, when not nil, reports the cpu
// of the records src's last Read returned, for --schedule recorded), one reference per
// cache line it covers; checkpoints are taken per the scheme's schedule and failures
// injected, rolled back and replayed. Control and I/O records are skipped.
//
// A bad configuration, a trace error (as the reader reports it) or a schedule error is
// returned with zero Stats. With Verify, a run whose reads or recoveries disagree with
// the golden model returns its Stats and an error describing the first disagreements.
func Run(cfg Config, src traces.Reader, cpu func() int) (Stats, error) {
	e, err := newEngine(cfg)
	if err != nil {
		return Stats{}, err
	}
	if err := e.run(src, cpu); err != nil {
		return Stats{}, err
	}
	st := e.stats()
	if e.ver != nil {
		return st, e.ver.err()
	}
	return st, nil
}

// bufRec is a buffered access: the record, its number and its core.
type bufRec struct {
	rec  record.Record
	n    int64
	core int
}

// buffer holds the accesses a rollback may replay.
//
// Invariant: recs[head:] are numbered consecutively; every access whose core's
// checkpoint precedes it (n > ckptAt[core]) is in recs[head:].
type buffer struct {
	recs []bufRec
	head int
}

func (b *buffer) add(x bufRec) { b.recs = append(b.recs, x) }

// trim drops the accesses at the head that their cores' checkpoints cover.
func (b *buffer) trim(ckptAt []int64) {
	for b.head < len(b.recs) && b.recs[b.head].n <= ckptAt[b.recs[b.head].core] {
		b.head++
	}
	if b.head == len(b.recs) {
		b.recs, b.head = b.recs[:0], 0
	} else if b.head >= 4096 && 2*b.head >= len(b.recs) {
		b.recs = b.recs[:copy(b.recs, b.recs[b.head:])]
		b.head = 0
	}
}

// at returns access n, if the buffer holds it.
func (b *buffer) at(n int64) (bufRec, bool) {
	if b.head == len(b.recs) || n < b.recs[b.head].n {
		return bufRec{}, false
	}
	i := b.head + int(n-b.recs[b.head].n)
	if i >= len(b.recs) {
		return bufRec{}, false
	}
	return b.recs[i], true
}

// engine is one run.
//
// Invariant: for every core c, epoch[c] counts its checkpoints and rollbacks; ckptAt[c]
// is the access after which it took its last checkpoint (0: none); count[c] its
// accesses since then (rebound; < interval between steps) and first[c] the first of them
// (0: none); oldest is the least first[c] other than 0 (0: none); since is the accesses
// of all cores since the last checkpoint (global). prod[c] has bit p when c consumed
// data p wrote in p's current epoch during c's current epoch, cons[p] has bit c then
// (prod and cons are each other's transpose; 0 under global).
type engine struct {
	cfg   Config
	costs Costs
	m     *coherence.Machine
	mem   *memory
	sched *schedule.Scheduler
	shift uint // log2 of the line size
	// rebound: the scheme is rebound, else global; all: the set of every core.
	rebound bool
	all     uint64
	// interval and maxAge: Config's, maxAge with its default.
	interval, maxAge int64
	// n is the number of the access of the trace performed last.
	n             int64
	epoch         []uint64
	ckptAt        []int64
	count, first  []int64
	oldest, since int64
	prod, cons    []uint64
	fail          *failures
	buf           *buffer // nil: no failures
	ver           *verifier
	// logLive is the number of live log entries, logPeak its peak.
	logLive, logPeak int64
	// acc and stall are each core's accesses run (replays included) and its stalls in
	// ns, for the time model.
	acc   []int64
	stall []float64
	C     Counters
	// lineBytes is the line size; recoveryNsByte the time to undo a byte of log.
	lineBytes      int64
	recoveryNsByte float64
}

func newEngine(cfg Config) (*engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := cfg.Cores
	e := &engine{
		cfg:       cfg,
		costs:     cfg.costs(),
		rebound:   cfg.Scheme == Rebound,
		all:       1<<n - 1,
		interval:  cfg.Interval,
		maxAge:    cfg.maxAge(),
		epoch:     make([]uint64, n),
		ckptAt:    make([]int64, n),
		count:     make([]int64, n),
		first:     make([]int64, n),
		prod:      make([]uint64, n),
		cons:      make([]uint64, n),
		fail:      newFailures(cfg),
		acc:       make([]int64, n),
		stall:     make([]float64, n),
		lineBytes: int64(cfg.Cache.Line),
	}
	if n == 64 {
		e.all = ^uint64(0)
	}
	e.recoveryNsByte = 1e9 / e.costs.RecoveryBytesPerSec
	blocks := 0
	if cfg.Verify {
		blocks = int(cfg.Cache.Line / cfg.VerifyBlock)
	}
	e.mem = newMemory(e, e.rebound, blocks)
	e.mem.dropDowngrades = cfg.dropDowngradeEdges
	var err error
	if e.m, err = coherence.New(n, cfg.Cache, blocks, e.mem); err != nil {
		return nil, err
	}
	e.shift = e.m.LineShift()
	if e.sched, err = schedule.New(schedule.Options{Policy: cfg.Policy, Cores: n, Quantum: cfg.Quantum}); err != nil {
		return nil, err
	}
	if cfg.failures() {
		e.buf = &buffer{}
	}
	if cfg.Verify {
		e.ver = newVerifier(e, cfg.VerifyBlock)
	}
	return e, nil
}

// run reads src to its end.
func (e *engine) run(src traces.Reader, cpu func() int) error {
	recs := make([]record.Record, 4096)
	for {
		k, err := src.Read(recs)
		c := schedule.NoCPU
		if cpu != nil && k > 0 {
			c = cpu()
		}
		for _, r := range recs[:k] {
			if !r.Kind.IsAccess() {
				continue
			}
			core, err := e.sched.Core(schedule.Thread{ASID: r.ASID, TID: r.Thread}, c)
			if err != nil {
				return fmt.Errorf("access %d: %w", e.n+1, err)
			}
			e.step(clip(r), core)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// clip makes r an access the machine can reference: a size of 0 counts as 1, as in sim,
// and an access running past the top of the address space stops there.
func clip(r record.Record) record.Record {
	if r.Size == 0 {
		r.Size = 1
	}
	if end := r.Addr + uint64(r.Size); end != 0 && end < r.Addr {
		r.Size = uint32(-r.Addr)
	}
	return r
}

// step performs the next access of the trace on core, then the checkpoints and the
// failure due after it.
func (e *engine) step(r record.Record, core int) {
	e.n++
	n := e.n
	e.C.Accesses++
	if e.buf != nil {
		e.buf.add(bufRec{rec: r, n: n, core: core})
	}
	e.access(r, core, n)
	if e.interval > 0 {
		if e.rebound {
			if e.first[core] == 0 {
				e.first[core] = n
				if e.oldest == 0 {
					e.oldest = n
				}
			}
			if e.count[core]++; e.count[core] == e.interval {
				e.checkpoint(core, false)
			}
			for e.oldest != 0 && n-e.oldest+1 >= e.maxAge {
				e.checkpoint(e.oldestCore(), true)
			}
		} else if e.since++; e.since == e.interval {
			e.checkpoint(0, false)
		}
	}
	if n == e.fail.due {
		e.rollback(e.fail.fire(n))
	}
}

// access performs access r of core, numbered n: one reference per line it covers.
func (e *engine) access(r record.Record, core int, n int64) {
	write := r.Kind.Writes()
	last := (r.Addr + uint64(r.Size) - 1) >> e.shift
	for l := r.Addr >> e.shift; ; l++ {
		line := cache.Line{ASID: r.ASID, N: l}
		e.m.Access(core, line, write)
		if e.mem.pending {
			e.mem.transfer(core)
		}
		if e.ver != nil {
			e.ver.line(core, line, r, n)
		}
		if l == last {
			break
		}
	}
	e.acc[core]++
}

// depend records that consumer read or wrote data producer wrote in its current epoch.
func (e *engine) depend(producer, consumer int) {
	if e.prod[consumer]&(1<<producer) == 0 {
		e.prod[consumer] |= 1 << producer
		e.cons[producer] |= 1 << consumer
		e.C.DependenceEdges++
	}
}

// closure returns start and every core related to it by rel, transitively.
func closure(start uint64, rel []uint64) uint64 {
	set, frontier := start, start
	for frontier != 0 {
		var next uint64
		for f := frontier; f != 0; f &= f - 1 {
			next |= rel[bits.TrailingZeros64(f)]
		}
		frontier = next &^ set
		set |= next
	}
	return set
}

// oldestCore returns the lowest core whose first uncommitted access is oldest.
// Precondition: oldest != 0.
func (e *engine) oldestCore() int {
	for c, f := range e.first {
		if f == e.oldest {
			return c
		}
	}
	panic(fmt.Sprintf("coord: no core's first uncommitted access is %d", e.oldest))
}

// forget ends the current epoch of the cores of set: their dependences, both ways, are
// cleared.
func (e *engine) forget(set uint64) {
	for c := range e.prod {
		e.prod[c] &^= set
		e.cons[c] &^= set
		if set&(1<<c) != 0 {
			e.prod[c], e.cons[c] = 0, 0
			e.epoch[c]++
		}
	}
}

// checkpoint takes a checkpoint after the current access: of every core (global), or of
// core c and its producers, transitively (rebound). The cores taking part write back
// their dirty lines (logged as their interval's), then their log entries are committed.
func (e *engine) checkpoint(c int, timeout bool) {
	set := e.all
	if e.rebound {
		set = closure(1<<c, e.prod)
	}
	var lines int64
	for s := set; s != 0; s &= s - 1 {
		lines += e.m.FlushCore(bits.TrailingZeros64(s), false)
	}
	e.mem.commit(set)
	k := int64(bits.OnesCount64(set))
	stall := e.costs.BarrierNs + float64(k)*e.costs.BarrierPerCoreNs + float64(lines)*e.costs.FlushLineNs
	for s := set; s != 0; s &= s - 1 {
		x := bits.TrailingZeros64(s)
		e.stall[x] += stall
		e.ckptAt[x], e.count[x], e.first[x] = e.n, 0, 0
	}
	e.forget(set)
	e.since = 0
	e.oldest = 0
	for _, f := range e.first {
		if f != 0 && (e.oldest == 0 || f < e.oldest) {
			e.oldest = f
		}
	}
	e.C.Checkpoints++
	if timeout {
		e.C.TimeoutCheckpoints++
	}
	e.C.CoresPerCheckpoint += k
	e.C.FlushLines += lines
	e.C.FlushBytes += lines * e.lineBytes
	if e.ver != nil {
		e.ver.checkpoint(set)
	}
	if e.buf != nil {
		e.buf.trim(e.ckptAt)
	}
}

// rollback recovers from a failure of core f after the current access: every core
// (global), or f and the cores that consumed its data, transitively (rebound), have their
// log entries undone in reverse and their caches' lines dropped; then they replay their
// accesses since their checkpoints.
func (e *engine) rollback(f int) {
	set := e.all
	if e.rebound {
		set = closure(1<<f, e.cons)
	}
	undone := e.mem.undo(set)
	k := int64(bits.OnesCount64(set))
	stall := e.costs.RestartNs + float64(undone*e.lineBytes)*e.recoveryNsByte
	for s := set; s != 0; s &= s - 1 {
		x := bits.TrailingZeros64(s)
		e.m.Discard(x, nil)
		e.stall[x] += stall
	}
	e.forget(set)
	e.C.Rollbacks++
	e.C.CoresPerRollback += k
	e.C.RecoveryBytes += undone * e.lineBytes
	if e.ver != nil {
		e.ver.rollback(set)
	}
	// The replay: the rolled-back cores' accesses since their checkpoints, in trace
	// order. It takes no checkpoint: each core's count since its checkpoint comes back to
	// what it was, below the interval, and no failure strikes during it.
	b := e.buf
	for i := b.head; i < len(b.recs); i++ {
		x := &b.recs[i]
		if set&(1<<x.core) != 0 && x.n > e.ckptAt[x.core] {
			e.access(x.rec, x.core, x.n)
			e.C.LostAccesses++
		}
	}
}

// stats returns the run's counters and modeled time.
func (e *engine) stats() Stats {
	st := Stats{Counters: e.C, CoreTimeNs: make([]float64, e.cfg.Cores)}
	k := e.costs
	for c := range e.cfg.Cores {
		cc := e.m.CacheCounters(c)
		st.CacheRefs += cc.Refs
		st.CacheMisses += cc.Misses
		st.CacheWritebacks += cc.Writebacks
		st.CacheFlushLines += cc.FlushLines
		t := float64(e.acc[c])*k.AccessNs + float64(cc.Misses)*k.MissNs + e.stall[c]
		st.CoreTimeNs[c] = t
		st.TimeNs = max(st.TimeNs, t)
	}
	st.CohInvalidations, st.CohDowngrades, st.CohTransfers = e.m.C.Invalidations, e.m.C.Downgrades, e.m.C.Transfers
	st.BytesLogged = st.LogEntries * e.lineBytes
	st.LogPeakBytes = e.logPeak * e.lineBytes
	return st
}

// Check verifies the engine's invariants from scratch: the machine's, the dependences',
// the log's and the buffer's.
func (e *engine) Check() error {
	if err := e.m.Check(); err != nil {
		return err
	}
	for c := range e.prod {
		for p := range e.prod {
			if (e.prod[c]>>p)&1 != (e.cons[p]>>c)&1 {
				return fmt.Errorf("coord: core %d's producers %#x and core %d's consumers %#x disagree", c, e.prod[c], p, e.cons[p])
			}
		}
		if !e.rebound && (e.prod[c] != 0 || e.cons[c] != 0) {
			return fmt.Errorf("coord: global with dependences")
		}
		if e.rebound && e.interval > 0 && e.count[c] >= e.interval {
			return fmt.Errorf("coord: core %d made %d accesses since its checkpoint, interval %d", c, e.count[c], e.interval)
		}
	}
	m := e.mem
	if len(m.logData) != len(m.log)*m.blocks || e.logLive != int64(len(m.log)) || e.logLive > e.logPeak {
		return fmt.Errorf("coord: %d log entries, %d stamps, %d live (peak %d)", len(m.log), len(m.logData), e.logLive, e.logPeak)
	}
	logged := map[cache.Line]uint64{}
	for _, ent := range m.log {
		bit := uint64(1)
		if m.rebound {
			bit <<= ent.core
		}
		if logged[ent.line]&bit != 0 {
			return fmt.Errorf("coord: line %d:%#x logged twice by core %d", ent.line.ASID, ent.line.N, ent.core)
		}
		logged[ent.line] |= bit
	}
	if err := m.lines.check(); err != nil {
		return err
	}
	for l, meta := range m.lines.all() {
		if meta.logged != logged[l] {
			return fmt.Errorf("coord: line %d:%#x marked logged by %#x, logged by %#x", l.ASID, l.N, meta.logged, logged[l])
		}
		if meta.logged == 0 && meta.lw.core < 0 || !m.rebound && meta.lw.core >= 0 {
			return fmt.Errorf("coord: line %d:%#x kept for nothing (writer %+v)", l.ASID, l.N, meta.lw)
		}
	}
	if len(logged) > m.lines.len() {
		return fmt.Errorf("coord: %d lines logged, %d kept", len(logged), m.lines.len())
	}
	if b := e.buf; b != nil {
		for i := b.head; i < len(b.recs); i++ {
			if b.recs[i].n != b.recs[b.head].n+int64(i-b.head) {
				return fmt.Errorf("coord: buffered access %d at %d after access %d at %d", b.recs[i].n, i, b.recs[b.head].n, b.head)
			}
		}
		for c, at := range e.ckptAt {
			if e.first[c] != 0 && e.first[c] <= at {
				return fmt.Errorf("coord: core %d's first uncommitted access %d precedes its checkpoint at %d", c, e.first[c], at)
			}
			if e.first[c] != 0 {
				if _, ok := b.at(e.first[c]); !ok {
					return fmt.Errorf("coord: core %d's first uncommitted access %d is not buffered", c, e.first[c])
				}
			}
		}
	}
	return nil
}
