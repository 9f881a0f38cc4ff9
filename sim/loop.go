package sim

import (
	"fmt"
	"io"
	"math"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// chooseLoop sets how the loop performs accesses (slow: Options.slow).
//
// One at a time (single: the loop's runs are of one access), with --replace opt (whose
// next-use times follow every access), with a checkpoint domain per address space (whose
// schedules, failures and recoveries are the domain's of each access), with
// Options.CheckEvery (every access is an event to check after) and in tests asking for
// it. Otherwise in runs of accesses with no event due between them (perform): a run goes
// to the scheme in one call, with the verifier's hook under --verify, unless something
// must see each access (each: a cache or TLB model, behind which a memory-level scheme
// gets fills and write-backs one by one, and --ignore-size, which clips each access):
// perform then hands the run to performEach, which takes it through the models in runs
// where it can and applies the other accesses one by one, as runs of one, without the
// loop's bookkeeping between them.
func (r *runner) chooseLoop(slow bool) {
	r.single = slow || r.nu != nil || r.doms.perASID || r.check
	r.each = r.mem != nil || r.cfg.IgnoreSize
}

// run is the loop: it performs the trace's records in order, accesses in runs ended by
// the next event (the run's domain's checkpoint due, the next failure, the end of the
// warm-up, a control record; one access a run when single), then the events due after
// the run (tail).
func (r *runner) run(src batcher) error {
	for {
		batch, allAccesses, rerr := src.NextAccesses()
		for i := 0; i < len(batch); {
			if !allAccesses && !batch[i].Kind.IsAccess() {
				if err := r.control(batch[i]); err != nil {
					return err
				}
				i++
				continue
			}
			var d *domain
			var run []traces.Record
			var writes int64
			if r.single {
				// A run of one, looking at it.
				run = batch[i : i+1]
				if run[0].Kind.Writes() {
					writes = 1
				}
				r.apply(run[0], r.n.refs+1)
				d = r.doms.of(run[0].ASID)
			} else {
				d = r.doms.of(batch[i].ASID)
				j, ok := r.runEnd(batch, i, allAccesses, d)
				if !ok {
					return r.err
				}
				var n int
				n, writes = r.perform(batch[i:j])
				run = batch[i : i+n]
			}
			i += len(run)
			n := int64(len(run))
			if r.buf.on() {
				if len(run) == 1 {
					r.buf.add(run[0], r.n.refs+1)
				} else {
					r.buf.addRun(run, r.n.refs)
				}
			}
			r.n.refs += n
			r.n.writes += writes
			r.n.reads += n - writes
			d.since += n
			if r.check {
				r.checkNow("access", r.n.refs)
			}
			if r.due(d) {
				if err := r.tail(d); err != nil {
					return err
				}
			}
		}
		if err := r.scheme.Err(); err != nil {
			return fmt.Errorf("%w: %w", ErrUsage, err)
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// maxRun is the most accesses one run hands over: a run's records (24 bytes each) are read
// again after the scheme's pass (perform counts its writes; the replay buffer copies it),
// and a run of 1,024 (24 KiB) is still in the first-level data cache then, where a
// decoded batch of 10,000 (240 KB) is not. The runs a scheme sees are never longer for
// it (a scheme performs a run as the same accesses in shorter runs).
const maxRun = 1024

// runEnd returns the end of the run of accesses of domain d that starts at batch[i]: the
// run ends before the next event, at the access after which d's checkpoint is due, the
// next failure strikes or the warm-up ends, and before a control record (allAccesses: the
// batch has none). It ends before an access too large for the page budget; at one that
// starts it, runEnd refuses it (r.err) and returns false.
func (r *runner) runEnd(batch []traces.Record, i int, allAccesses bool, d *domain) (j int, ok bool) {
	n := int64(min(len(batch)-i, maxRun))
	if r.cfg.Interval > 0 {
		n = min(n, r.cfg.Interval-d.since)
	}
	if r.fails.due != math.MaxInt64 {
		n = min(n, r.fails.due-r.n.refs)
	}
	if r.n.refs < r.cfg.Warmup {
		n = min(n, r.cfg.Warmup-r.n.refs)
	}
	if r.per.on() {
		n = min(n, r.per.next-r.n.refs)
	}
	j = i + int(n)
	if !allAccesses {
		for k := i; k < j; k++ {
			if !batch[k].Kind.IsAccess() {
				j = k
				break
			}
		}
	}
	if r.spanBytes != math.MaxUint64 {
		k := r.firstTooLarge(batch[i:j])
		if k == 0 {
			r.refuseSpan(batch[i], r.n.refs+1)
			return i, false
		}
		j = i + k
	}
	return j, true
}

// perform performs run, accesses numbered on from r.n.refs+1 with no event due between
// them, and returns how many it performed and how many of those write: all of them, or
// those up to the access after which the scheme asked for a checkpoint or the run ended
// in error (the loop takes the checkpoint, then hands the rest over). The run goes to the
// scheme in one call, with the verifier's hook under --verify; with each, through the
// cache and TLB models (performEach).
// Precondition: !single.
func (r *runner) perform(run []traces.Record) (n int, writes int64) {
	if r.each {
		n = r.performEach(run)
	} else {
		n = r.accessRun(run)
	}
	return n, countWrites(run[:n])
}

// accessRun hands run to the scheme in one call, with the verifier's hook under --verify,
// and returns how many of its accesses the scheme performed: all of them, or fewer when it
// asked for a checkpoint in the run.
func (r *runner) accessRun(run []traces.Record) int {
	sr := scheme.Run{Recs: run, N: r.n.refs}
	if r.ver != nil {
		r.ver.run, r.ver.base = run, r.n.refs
		sr.Verify = r.ver.verifyFn
	}
	n := r.scheme.Access(sr)
	if n < 1 || n > len(run) || n < len(run) && len(r.requested) == 0 {
		panic(fmt.Sprintf("sim: scheme %s performed %d of a run of %d accesses, having asked for %d checkpoints", r.info.Name, n, len(run), len(r.requested)))
	}
	return n
}

// countWrites returns how many of recs write (Kind.Writes): a pass over records the
// scheme has just read, in the first-level cache (maxRun), eight at a time with no branch
// to mispredict (4 instructions a record where a loop of one at a time takes 11).
func countWrites(recs []traces.Record) int64 {
	var w0, w1, w2, w3 int64
	for len(recs) >= 8 {
		w0 += writeCount[recs[0].Kind] + writeCount[recs[4].Kind]
		w1 += writeCount[recs[1].Kind] + writeCount[recs[5].Kind]
		w2 += writeCount[recs[2].Kind] + writeCount[recs[6].Kind]
		w3 += writeCount[recs[3].Kind] + writeCount[recs[7].Kind]
		recs = recs[8:]
	}
	for k := range recs {
		w0 += writeCount[recs[k].Kind]
	}
	return w0 + w1 + w2 + w3
}

// writeCount is 1 for the kinds that write (Kind.Writes), 0 for the others.
var writeCount = func() (t [256]int64) {
	for k := range t {
		if traces.Kind(k).Writes() {
			t[k] = 1
		}
	}
	return t
}()

// due reports whether an event is due after access r.n.refs of domain d, or the run has
// ended in error: whether tail has anything to do.
func (r *runner) due(d *domain) bool {
	return r.n.refs == r.fails.due || r.cfg.Interval > 0 && d.since >= r.cfg.Interval ||
		len(r.requested) > 0 || r.n.refs == r.cfg.Warmup || r.n.refs == r.per.next || r.err != nil
}

// tail performs the events due after access r.n.refs of domain d, in order: a failure
// striking after it (before a checkpoint due at the same access, D7), d's checkpoint due,
// the checkpoints the scheme asked for, the end of the warm-up, and the end of an
// interval of Options.StatsEvery.
func (r *runner) tail(d *domain) error {
	if r.n.refs == r.fails.due {
		if err := r.fail(d); err != nil {
			return err
		}
		r.fails.fire(r.n.refs)
	}
	if r.cfg.Interval > 0 && d.since >= r.cfg.Interval {
		r.checkpoint(d)
	}
	if len(r.requested) > 0 {
		r.takeRequested()
	}
	if r.n.refs == r.cfg.Warmup {
		r.endWarmup()
	}
	if r.per.on() && r.n.refs == r.per.next && r.err == nil {
		if err := r.per.emit(r.n.refs, r.snapshot()); err != nil {
			r.err = err
		}
	}
	return r.err
}

// control handles a checkpoint, fail or I/O record of the trace.
func (r *runner) control(rec traces.Record) error {
	d := r.doms.of(rec.ASID)
	switch rec.Kind {
	case traces.Checkpoint:
		r.checkpoint(d)
	case traces.Fail:
		if err := r.cfg.recoverable(r.info); err != nil {
			return fmt.Errorf("%w: the trace has a fail record but %w", ErrUsage, err)
		}
		return r.fail(d)
	case traces.Input, traces.Output:
		r.io.record(rec, r.n.refs, d)
		if r.buf.on() {
			r.buf.addIO(rec, r.n.refs)
		}
		if r.check {
			r.checkNow("I/O record", r.n.refs)
			return r.err
		}
	}
	return nil
}

// apply performs one access: through the cache (with --cores above 1, its core's cache) to
// a memory-level scheme, or straight to the scheme (the caches, if any, counting
// alongside); then the TLB's lookups and the verifier's checks.
func (r *runner) apply(rec traces.Record, idx int64) {
	if uint64(rec.Size) > r.spanBytes && r.refuseSpan(rec, idx) {
		return
	}
	rec = r.clip(rec)
	if r.mem == nil || !r.mem.behind {
		// A run of one, verified inside (the scheme.Run hook) as runs of many are.
		r.one[0] = rec
		run := scheme.Run{Recs: r.one[:], N: idx - 1}
		if r.ver != nil {
			r.ver.run, r.ver.base = run.Recs, run.N
			run.Verify = r.ver.verifyFn
		}
		r.scheme.Access(run)
	}
	// An access over many pages may have taken the scheme past its memory budget: stop
	// before the models below walk all of it.
	if uint64(rec.Size) > 1<<r.shift {
		if err := r.scheme.Err(); err != nil {
			r.usageErr(err)
			return
		}
	}
	if h := r.mem; h != nil {
		// Every cache line of the access, in order (the hierarchy's work, written out
		// here: a call an access costs the configurations with a cache a few percent).
		h.cur = idx
		if c := h.cache; c != nil {
			write := rec.Kind.Writes()
			last := (rec.Addr + uint64(rec.Size) - 1) >> h.lineShift
			for n := rec.Addr >> h.lineShift; ; n++ {
				c.Access(cache.Line{ASID: rec.ASID, N: n}, write)
				if n == last {
					break
				}
				if n&4095 == 0 && h.behind {
					// A scheme past its memory budget stops the walk.
					if err := r.scheme.Err(); err != nil {
						r.usageErr(err)
						return
					}
				}
			}
		} else if h.mc != nil && !r.walkCores(rec, idx) {
			return
		}
		if h.tlb != nil {
			var tag uint64
			if h.tagged {
				tag = r.doms.of(rec.ASID).ckpts
			}
			h.translate(rec, tag)
		}
	}
	if r.ver != nil && r.mem != nil && r.mem.behind {
		// The program's access went to the cache: verified through it.
		r.ver.access(&rec, idx)
	}
}

// usageErr ends the run with err, a usage error, unless it has ended already.
func (r *runner) usageErr(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %w", ErrUsage, err)
	}
}

// refuseSpan reports whether access idx covers more pages on its own than the budget, and
// then ends the run (r.err) with the error every scheme gives past the budget, before any
// of the pages is touched.
func (r *runner) refuseSpan(rec traces.Record, idx int64) bool {
	first, last := r.pageRange(rec)
	if !scheme.SpanExceeds(r.maxPages, first, last) {
		return false
	}
	r.usageErr(&scheme.TooManyPagesError{Max: r.maxPages, Access: idx, Pages: last - first + 1})
	return true
}

// firstTooLarge returns the index of the first access of recs that refuseSpan refuses,
// len(recs) if none. Precondition: every record is an access.
func (r *runner) firstTooLarge(recs []traces.Record) int {
	for k := range recs {
		if uint64(recs[k].Size) > r.spanBytes {
			if first, last := r.pageRange(recs[k]); scheme.SpanExceeds(r.maxPages, first, last) {
				return k
			}
		}
	}
	return len(recs)
}

// pageRange returns the first and last page an access references: every page
// overlapping [Addr, Addr+Size), or only Addr's page with --ignore-size.
func (r *runner) pageRange(rec traces.Record) (first, last uint64) {
	return rec.PageSpan(r.shift, r.cfg.IgnoreSize)
}

// clip returns the bytes of rec that the run references: all of them, or with
// --ignore-size those in the page of its address.
func (r *runner) clip(rec traces.Record) traces.Record {
	if rec.Size == 0 {
		rec.Size = 1
	}
	if r.cfg.IgnoreSize {
		pageEnd := (rec.Addr>>r.shift + 1) << r.shift
		if pageEnd != 0 && rec.Addr+uint64(rec.Size) > pageEnd {
			rec.Size = uint32(pageEnd - rec.Addr)
		}
	}
	return rec
}

// checkpoint takes a checkpoint of domain d: first the cache is flushed (--cache-flush),
// so that memory holds the state at the checkpoint, then the scheme checkpoints; the
// domain's held outputs are released, and the replay buffer drops what no domain needs.
func (r *runner) checkpoint(d *domain) {
	refs := r.n.refs
	if r.mem != nil {
		r.mem.checkpoint(refs)
	}
	r.scheme.Checkpoint(d.schemeID)
	r.n.checkpoints++
	d.ckpts++
	r.io.release(d, refs)
	if r.mem != nil && r.mem.tlb != nil && r.mem.flushAtCheckpoint {
		r.mem.dropTLB(r.doms.set([]*domain{d}))
	}
	if r.ver != nil {
		r.ver.golden.checkpoint(d.id)
	}
	d.lastCkpt, d.ckptIO, d.since = refs, r.io.after(refs), 0
	base := int64(math.MaxInt64)
	for _, d := range r.doms.list {
		base = min(base, d.lastCkpt)
	}
	r.buf.trim(base)
	if r.check {
		r.checkNow("checkpoint", refs)
	}
}

// takeRequested takes the checkpoints the scheme asked for, each domain once, in the
// order asked; a checkpoint already taken since the request (by the schedule) counts.
func (r *runner) takeRequested() {
	for len(r.requested) > 0 {
		req := r.requested
		r.requested = nil
		done := map[scheme.Domain]bool{}
		for _, sd := range req {
			if done[sd] {
				continue
			}
			done[sd] = true
			for _, d := range r.doms.list {
				if d.schemeID == sd && d.since > 0 {
					r.checkpoint(d)
				}
			}
		}
	}
}
