package sim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/tlb"
	"github.com/vmsim/vmsim/traces"
)

// Opener opens the trace from its start. Run calls it once for the run, once more for
// opt's pre-pass, and again for a replay that reaches back past the replay buffer.
type Opener func() (traces.Reader, error)

// Result is a run's outcome: `vmsim run --json` prints it.
type Result struct {
	Config Config `json:"config"`
	Stats  Stats  `json:"stats"`
	// FirstMismatch describes the first verification mismatch, if any.
	FirstMismatch string `json:"-"`
}

// Options tune a run without changing its results.
type Options struct {
	// CheckEvery runs the scheme's invariant check after every access, checkpoint and
	// recovery (slow; for tests).
	CheckEvery bool
	// ReplayBuffer is how many recent accesses are kept for replay after a failure
	// (0: the default, 1M). Replays reaching back further re-read the trace.
	ReplayBuffer int
	// Scheme, when not nil, is the scheme to run instead of the one registered under
	// Config.Scheme (which then only names it in the output): any implementation of
	// scheme.Scheme, registered or not.
	Scheme *scheme.Info

	// wrap, in tests, wraps the scheme (to inject faults the verifier must catch).
	wrap func(scheme.Scheme) scheme.Scheme
	// slow, in tests, keeps the run off the fast path.
	slow bool
}

const defaultReplayBuffer = 1 << 20

// ErrUsage wraps configuration errors.
var ErrUsage = errors.New("usage")

// Run replays the trace that open yields through the configured scheme.
func Run(cfg Config, open Opener) (*Result, error) { return RunWith(cfg, open, Options{}) }

// RunWith is Run with options.
func RunWith(cfg Config, open Opener, opt Options) (*Result, error) {
	info, err := cfg.info(opt.Scheme)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if err := cfg.validate(info); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	params, err := info.Resolve(cfg.Params)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	r := &runner{
		cfg:       cfg,
		info:      info,
		shift:     cfg.pageShift(),
		maxPages:  cfg.maxPages(),
		spanBytes: math.MaxUint64,
		fails:     newFailureSchedule(cfg.FailAt, cfg.MTBF, cfg.Seed),
		open:      open,
		check:     opt.CheckEvery,
		bufBase:   math.MaxInt64,
		doms:      map[traces.ASID]*domain{},
	}
	if r.maxPages > 0 && !cfg.IgnoreSize && uint64(r.maxPages-1) < 1<<32>>r.shift {
		// An access of at most (maxPages-1) pages' bytes covers at most maxPages pages.
		r.spanBytes = uint64(r.maxPages-1) << r.shift
	}
	m := cfg.machine()
	m.RequestCheckpoint = func(d scheme.Domain) { r.requested = append(r.requested, d) }
	if cfg.Replace == "opt" && cfg.Frames > 0 {
		if r.nu, err = buildNextUse(open, r.pageRange, r.maxPages); err != nil {
			if errors.Is(err, scheme.ErrTooManyPages) {
				return nil, fmt.Errorf("%w: %w", ErrUsage, err)
			}
			return nil, err
		}
		defer r.nu.close()
		m.NextUse = func() int64 {
			if r.replaying {
				return -1
			}
			return r.nu.next()
		}
	}
	s, err := info.New(m, params)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if opt.wrap != nil {
		s = opt.wrap(s)
	}
	r.scheme = s
	r.ioAware, _ = s.(scheme.IOAware)
	r.slow = opt.slow
	if cfg.failures() {
		r.bufBase = 0
		r.bufCap = opt.ReplayBuffer
		if r.bufCap <= 0 {
			r.bufCap = defaultReplayBuffer
		}
	}
	if cfg.Verify {
		r.blockShift = uint(bits.TrailingZeros64(cfg.VerifyBlock))
		r.perPage = r.shift - r.blockShift
		r.golden = newGolden(cfg.PageSize/cfg.VerifyBlock, func(a traces.ASID) int { return r.domain(a).id })
		r.view, _ = s.(scheme.StampView)
	}
	if cfg.CacheSize > 0 {
		g := cfg.cacheGeometry()
		r.lineShift = uint(bits.TrailingZeros64(g.Line))
		if info.Level == scheme.LevelMemory {
			r.behind = true
			blocks := 0
			if cfg.Verify {
				blocks = int(g.Line / cfg.VerifyBlock)
			}
			r.cache = cache.New(g, blocks, (*lineMemory)(r))
		} else {
			r.cache = cache.New(g, 0, countOnly{})
		}
	}
	if cfg.TLBEntries > 0 {
		r.tlb = tlb.New(cfg.tlbGeometry())
	}
	src, err := open()
	if err != nil {
		return nil, err
	}
	// A trace already in memory hands out its records in place; any other is decoded
	// ahead on another goroutine, overlapping the simulation.
	var b batcher
	pf, ok := src.(batcher)
	if ok {
		b = pf
	} else {
		p := traces.NewPrefetcher(src)
		b = p
		defer func() { p.Close(); r.st.SkippedLines = p.SkippedLines() }()
	}
	if err := r.run(b); err != nil {
		// A prefetcher closes src itself, once its goroutine no longer reads it (the
		// deferred Close): closed under a read, a zstd decoder panics or hangs.
		if _, ok := b.(*traces.Prefetcher); !ok {
			closeReader(src)
		}
		return nil, err
	}
	if p, ok := b.(*traces.Prefetcher); ok {
		p.Close()
		r.st.SkippedLines = p.SkippedLines()
	}
	if r.nu != nil {
		if err := r.nu.finish(); err != nil {
			return nil, err
		}
	}
	if left := r.fails.unreached(); len(left) > 0 {
		return nil, fmt.Errorf("%w: --fail-at %d is beyond the end of the trace (%d accesses)", ErrUsage, left[0], r.st.Refs)
	}
	for _, d := range r.domList {
		r.st.IOHeldAtEnd += int64(len(d.held))
	}
	if cfg.Warmup > 0 && r.warm == nil {
		return nil, fmt.Errorf("%w: --warmup %d is beyond the end of the trace (%d accesses)", ErrUsage, cfg.Warmup, r.st.Refs)
	}
	st := r.collect()
	if r.warm != nil {
		st = st.Sub(*r.warm)
	}
	return &Result{Config: cfg, Stats: st, FirstMismatch: r.firstMismatch}, nil
}

// collect returns the stats so far: the driver's, the scheme's, the cache's and the TLB's.
func (r *runner) collect() Stats {
	c := scheme.Counters{Own: make([]int64, len(r.info.Counters))}
	r.scheme.Counters(&c)
	st := r.st
	s := &st
	s.PagesTouched, s.PagesWritten = c.PagesTouched, c.PagesWritten
	s.FirstWrites, s.PageCopies, s.Remaps = c.FirstWrites, c.PageCopies, c.Remaps
	s.PageFaults, s.DiskReads, s.DiskWrites, s.CheckpointDiskWrites = c.PageFaults, c.DiskReads, c.DiskWrites, c.CheckpointDiskWrites
	s.PTPagesWritten, s.CommitWrites = c.PTPagesWritten, c.CommitWrites
	s.FramesPeak, s.CheckpointFramesPeak, s.WrapSweeps = c.FramesPeak, c.CheckpointFramesPeak, c.WrapSweeps
	s.BytesCopied, s.BytesLogged, s.BytesToStorage, s.BytesToBackup = c.BytesCopied, c.BytesLogged, c.BytesToStorage, c.BytesToBackup
	s.Traps, s.CheckpointStallBytes, s.MemOverheadPeakBytes, s.RecoveryBytes = c.Traps, c.CheckpointStallBytes, c.MemOverheadPeakBytes, c.RecoveryBytes
	if r.cache != nil {
		cc := r.cache.C
		s.CacheRefs, s.CacheMisses, s.CacheWritebacks, s.CacheFlushLines = cc.Refs, cc.Misses, cc.Writebacks, cc.FlushLines
		s.CacheDirtyAtEnd = r.cache.Dirty()
	}
	if r.tlb != nil {
		s.TLBRefs, s.TLBMisses, s.TLBStale, s.TLBFlushes = r.tlb.C.Refs, r.tlb.C.Misses, r.tlb.C.Stale, r.tlb.C.Flushes
	}
	for i, d := range r.info.Counters {
		s.Scheme.Set(d.Key, c.Own[i])
		if d.IsPeak() {
			s.Scheme.SetPeak(d.Key)
		}
	}
	return st
}

// endWarmup takes the snapshot that --warmup subtracts from the final counts, once the
// warm-up's last access and everything due at it are done.
func (r *runner) endWarmup() {
	if r.warm == nil && r.cfg.Warmup > 0 && r.st.Refs >= r.cfg.Warmup {
		w := r.collect()
		r.warm = &w
	}
}

// domain is the driver's view of a checkpoint domain.
type domain struct {
	id       int
	schemeID scheme.Domain
	ckpts    uint64 // checkpoints taken: the TLB's tag
	// held are the access numbers of the domain's outputs held until its next checkpoint
	// commits (--io hold), in order.
	held     []int64
	since    int64 // the domain's accesses since its last checkpoint
	lastCkpt int64 // the access number at the domain's last checkpoint (0: the start)
	// ckptIO is the number of I/O records (of any domain) that follow access lastCkpt and
	// come before the checkpoint (a checkpoint record after them): those belong to the
	// interval the checkpoint closed, the ones after them to the next.
	ckptIO int64
}

type bufRec struct {
	rec traces.Record
	idx int64
}

type runner struct {
	cfg        Config
	info       scheme.Info
	shift      uint
	blockShift uint
	lineShift  uint
	scheme     scheme.Scheme
	st         Stats
	// maxPages is the page budget in force (Config.maxPages; 0: none). An access of more
	// than spanBytes bytes may cover more pages than that on its own: the driver checks
	// its pages before any scheme sees it (refuseSpan). Invariant: spanBytes is
	// math.MaxUint64 when no access can (no budget, --ignore-size, or a budget above the
	// pages of an access of 4 GiB).
	maxPages  int
	spanBytes uint64
	// warm is the snapshot taken at the end of --warmup, nil before (or without one).
	warm      *Stats
	fails     *failureSchedule
	golden    *golden
	nu        *nextUse
	open      Opener
	check     bool
	slow      bool
	replaying bool

	// cache is the cache model, nil without one. behind: the scheme sits behind it (a
	// memory-level scheme) and sees its fills and write-backs; otherwise the cache is
	// modeled for its counts only and the scheme sees every access.
	cache  *cache.Cache
	behind bool
	// tlb is the TLB model, nil without one.
	tlb *tlb.TLB
	cur int64 // the number of the access being performed, for fills and write-backs

	// requested are the domains whose checkpoint the scheme asked for during the current
	// access or checkpoint (scheme.Machine.RequestCheckpoint), in order.
	requested []scheme.Domain

	doms     map[traces.ASID]*domain
	domList  []*domain
	lastASID traces.ASID
	lastDom  *domain

	// buf holds every access with number in (bufBase, Refs], for replays, and the I/O
	// records among them that follow access bufIOFrom or a later one (an I/O record's idx
	// is the number of the access it follows).
	// Invariant: buf's idx do not decrease; bufBase == MaxInt64 when not buffering;
	// bufIOFrom >= bufBase.
	buf       []bufRec
	bufBase   int64
	bufIOFrom int64
	bufCap    int
	// ioAware is the scheme as an IOAware, nil if it is not one.
	ioAware scheme.IOAware
	// sawIO: the trace has had an I/O record.
	sawIO bool
	// ioN is the number of I/O records made so far that follow access ioAt (the trace's
	// position among the records after an access; see ioAfter).
	ioAt, ioN int64

	stamps []uint64 // scratch for verification
	// view is the scheme as a scheme.StampView when verification may use it (no cache in
	// front of a memory-level scheme), else nil; perPage is log2 blocks a page.
	view    scheme.StampView
	perPage uint
	// vfast is the scheme as a scheme.VerifyingBatchAccessor when the fast path runs under
	// --verify, with vcheck its callback (r.checkBatched), vrun the run of records being
	// performed and vbase the number of the access before it.
	vfast  scheme.VerifyingBatchAccessor
	vcheck func(int, []uint64)
	vrun   []traces.Record
	vbase  int64

	firstMismatch string
	err           error // first internal-check failure
}

// domain returns the driver's domain for an address space.
func (r *runner) domain(asid traces.ASID) *domain {
	if r.lastDom != nil && asid == r.lastASID {
		return r.lastDom
	}
	var d *domain
	if r.cfg.Scope == "system" {
		if len(r.domList) == 0 {
			r.domList = append(r.domList, &domain{id: 0, schemeID: r.scheme.DomainOf(asid)})
		}
		d = r.domList[0]
	} else if d = r.doms[asid]; d == nil {
		d = &domain{id: len(r.domList), schemeID: r.scheme.DomainOf(asid)}
		r.doms[asid] = d
		r.domList = append(r.domList, d)
	}
	r.lastASID, r.lastDom = asid, d
	return d
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

// fastPath reports whether the run can take runFast, its loop of runs of accesses: not
// with --replace opt (whose next-use times follow the general loop), nor with a checkpoint
// domain per address space (whose schedules, failures and recoveries are the domain's of
// each access, where runFast takes a run's first). It also returns the scheme's batch
// method when the runs can go to it whole: nothing that looks at single accesses is on
// (see scheme.BatchAccessor); otherwise runFast performs a run's accesses one by one.
//
// Under --verify the scheme must also be a scheme.VerifyingBatchAccessor: its batch then
// hands each access's page stamps to checkBatched, which does what verify does.
func (r *runner) fastPath() (ok bool, batch scheme.BatchAccessor) {
	if r.slow || r.nu != nil || r.cfg.Scope != "system" {
		return false, nil
	}
	b, ok := r.scheme.(scheme.BatchAccessor)
	if !ok || r.cache != nil || r.tlb != nil || r.check || r.cfg.IgnoreSize {
		return true, nil
	}
	if r.golden != nil {
		v, ok := r.scheme.(scheme.VerifyingBatchAccessor)
		if !ok {
			return true, nil
		}
		r.vfast, r.vcheck = v, r.checkBatched
	}
	return true, b
}

// checkBatched verifies access k of the run being performed by AccessBatchVerify, given
// the stamps of its last page: in place when the access lies in that page, else through
// Load and Store.
func (r *runner) checkBatched(k int, stamps []uint64) {
	rec := &r.vrun[k]
	lo, hi := rec.Addr>>r.blockShift, (rec.Addr+uint64(rec.Size)-1)>>r.blockShift
	if lo == hi && !rec.Kind.Writes() {
		// The common case, a read of one block, checked here.
		var got, want uint64
		if stamps != nil {
			got = stamps[lo&(1<<r.perPage-1)]
		}
		if gm := r.golden.mem(rec.ASID, lo); gm != nil {
			want = gm[lo&(1<<r.perPage-1)]
		}
		if got == want {
			r.st.VerifyChecks++
			return
		}
		// A mismatch: verifyInPage counts and describes it.
	}
	idx := r.vbase + int64(k) + 1
	if lo>>r.perPage != hi>>r.perPage {
		r.verify(*rec, idx)
		return
	}
	r.verifyInPage(rec, idx, lo, hi, stamps)
}

// batcher hands out the trace's records in batches, in place: a traces.Prefetcher, or a
// traces.DecodedReader for a trace already in memory.
type batcher interface {
	NextAccesses() (recs []traces.Record, allAccesses bool, err error)
}

func (r *runner) run(src batcher) error {
	if ok, batch := r.fastPath(); ok {
		return r.runFast(src, batch)
	}
	nextFail := r.fails.next()
	for {
		batch, _, rerr := src.NextAccesses()
		for _, rec := range batch {
			if !rec.Kind.IsAccess() {
				if err := r.control(rec); err != nil {
					return err
				}
				continue
			}
			r.st.Refs++
			idx := r.st.Refs
			if rec.Kind.Writes() {
				r.st.Writes++
			} else {
				r.st.Reads++
			}
			r.apply(rec, idx)
			if r.bufBase != math.MaxInt64 {
				r.bufAppend(rec, idx)
			}
			d := r.domain(rec.ASID)
			d.since++
			if idx == nextFail {
				if err := r.fail(d); err != nil {
					return err
				}
				r.fails.fire(idx)
				nextFail = r.fails.next()
			}
			if r.cfg.Interval > 0 && d.since >= r.cfg.Interval {
				r.checkpoint(d)
			}
			if len(r.requested) > 0 {
				r.takeRequested()
			}
			if idx == r.cfg.Warmup {
				r.endWarmup()
			}
			if r.err != nil {
				return r.err
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

// runFast is run's loop for the common configuration: runs of accesses with no event
// between them, without a copy of the records, go to the scheme's batch method in one call
// (fast; nil: to apply, one by one, which ends the run early at an access after which a
// scheme asked for a checkpoint). A run ends before a control record, at the access a
// failure follows, and at the access after which the (single) domain's checkpoint is due.
func (r *runner) runFast(src batcher, fast scheme.BatchAccessor) error {
	nextFail := r.fails.next()
	buffering := r.bufBase != math.MaxInt64
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
			d := r.domain(batch[i].ASID)
			n := int64(len(batch) - i)
			if r.cfg.Interval > 0 {
				n = min(n, r.cfg.Interval-d.since)
			}
			if nextFail != math.MaxInt64 {
				n = min(n, nextFail-r.st.Refs)
			}
			if r.st.Refs < r.cfg.Warmup {
				n = min(n, r.cfg.Warmup-r.st.Refs)
			}
			j := i + int(n)
			if !allAccesses {
				for k := i; k < j; k++ {
					if !batch[k].Kind.IsAccess() {
						j = k
						break
					}
				}
			}
			if r.spanBytes != math.MaxUint64 {
				// The run ends before an access too large for the budget; one that starts
				// with it goes no further.
				k := r.firstTooLarge(batch[i:j])
				if k == 0 {
					r.refuseSpan(batch[i], r.st.Refs+1)
					return r.err
				}
				j = i + k
			}
			run := batch[i:j]
			var writes int64
			switch {
			case r.vfast != nil:
				r.vrun, r.vbase = run, r.st.Refs
				writes = r.vfast.AccessBatchVerify(run, r.vcheck)
			case fast != nil:
				writes = fast.AccessBatch(run)
			default:
				n := 0
				for n < len(run) {
					rec := run[n]
					n++
					if rec.Kind.Writes() {
						writes++
					}
					r.apply(rec, r.st.Refs+int64(n))
					if len(r.requested) > 0 || r.err != nil {
						break
					}
				}
				run, j = run[:n], i+n
			}
			if buffering {
				for k, rec := range run {
					r.bufAppend(rec, r.st.Refs+int64(k)+1)
				}
			}
			r.st.Refs += int64(len(run))
			r.st.Writes += writes
			r.st.Reads += int64(len(run)) - writes
			d.since += int64(len(run))
			i = j
			if r.st.Refs == nextFail {
				if err := r.fail(d); err != nil {
					return err
				}
				r.fails.fire(nextFail)
				nextFail = r.fails.next()
			}
			if r.cfg.Interval > 0 && d.since >= r.cfg.Interval {
				r.checkpoint(d)
			}
			if len(r.requested) > 0 {
				r.takeRequested()
			}
			if r.st.Refs == r.cfg.Warmup {
				r.endWarmup()
			}
			if r.err != nil {
				return r.err
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

// control handles a checkpoint or fail record of the trace.
func (r *runner) control(rec traces.Record) error {
	d := r.domain(rec.ASID)
	switch rec.Kind {
	case traces.Checkpoint:
		r.checkpoint(d)
	case traces.Fail:
		if err := r.cfg.recoverable(r.info); err != nil {
			return fmt.Errorf("%w: the trace has a fail record but %w", ErrUsage, err)
		}
		return r.fail(d)
	case traces.Input, traces.Output:
		r.sawIO = true
		if r.ioAt != r.st.Refs {
			r.ioAt, r.ioN = r.st.Refs, 0
		}
		r.ioN++
		r.io(rec, r.st.Refs, d, false)
		if r.ioAware != nil {
			r.ioAware.IO(scheme.Access{Addr: rec.Addr, Size: rec.Size, ASID: rec.ASID, Kind: rec.Kind, N: r.st.Refs})
		}
		if r.bufBase != math.MaxInt64 {
			r.buf = append(r.buf, bufRec{rec, r.st.Refs})
		}
	}
	return nil
}

// ioAfter returns the number of I/O records made so far that follow the access performed
// last: a checkpoint or failure now comes after them and before any later one.
func (r *runner) ioAfter() int64 {
	if r.ioAt != r.st.Refs {
		return 0
	}
	return r.ioN
}

// io performs an I/O record of domain d that follows access idx, the first time or again
// in a replay.
//
// --io none: an output goes out at once, and again in every replay (io_repeated_outputs);
// an input is read again by every replay (io_repeated_inputs).
// --io hold: an output is held until the domain's next checkpoint commits, and a replay
// queues it again (it was never released, since the failure came before the commit); an
// input is logged the first time, and a replay receives it from the log.
func (r *runner) io(rec traces.Record, idx int64, d *domain, replay bool) {
	hold := r.cfg.IO == "hold"
	switch {
	case rec.Kind == traces.Output && !replay:
		r.st.IOOutputs++
		if hold {
			d.held = append(d.held, idx)
		}
	case rec.Kind == traces.Output && hold:
		d.held = append(d.held, idx)
	case rec.Kind == traces.Output:
		r.st.IORepeatedOutputs++
	case !replay:
		r.st.IOInputs++
		if hold {
			r.st.IOInputsLoggedBytes += int64(rec.Size)
		}
	case !hold:
		r.st.IORepeatedInputs++
	}
}

// apply performs one access: through the cache to a memory-level scheme, or straight to
// the scheme (the cache, if any, counting alongside); then the golden model's checks.
func (r *runner) apply(rec traces.Record, idx int64) {
	if uint64(rec.Size) > r.spanBytes && r.refuseSpan(rec, idx) {
		return
	}
	rec = r.clip(rec)
	r.cur = idx
	a := scheme.Access{Addr: rec.Addr, Size: rec.Size, ASID: rec.ASID, Kind: rec.Kind, N: idx}
	if !r.behind {
		r.scheme.Access(a)
	}
	// An access over many pages may have taken the scheme past its memory budget: stop
	// before the models below walk all of it.
	if uint64(rec.Size) > 1<<r.shift {
		if err := r.scheme.Err(); err != nil {
			if r.err == nil {
				r.err = fmt.Errorf("%w: %w", ErrUsage, err)
			}
			return
		}
	}
	if r.cache != nil {
		write := rec.Kind.Writes()
		last := (rec.Addr + uint64(rec.Size) - 1) >> r.lineShift
		for n := rec.Addr >> r.lineShift; ; n++ {
			r.cache.Access(cache.Line{ASID: rec.ASID, N: n}, write)
			if n == last {
				break
			}
			if n&4095 == 0 && r.behind {
				if err := r.scheme.Err(); err != nil {
					if r.err == nil {
						r.err = fmt.Errorf("%w: %w", ErrUsage, err)
					}
					return
				}
			}
		}
	}
	if r.tlb != nil {
		r.translate(rec)
	}
	if r.golden != nil {
		r.verify(rec, idx)
	}
	if r.check {
		r.checkNow("access", idx)
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
	if r.err == nil {
		r.err = fmt.Errorf("%w: %w", ErrUsage, &scheme.TooManyPagesError{Max: r.maxPages, Access: idx, Pages: last - first + 1})
	}
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

// translate looks up every page rec covers in the TLB, tagged with the checkpoint number
// of rec's domain when --tlb-checkpoint tag applies to the scheme.
func (r *runner) translate(rec traces.Record) {
	var tag uint64
	if r.cfg.TLBCheckpoint == "tag" && r.info.WriteProtects {
		tag = r.domain(rec.ASID).ckpts
	}
	write := rec.Kind.Writes()
	last := (rec.Addr + uint64(rec.Size) - 1) >> r.shift
	for vpn := rec.Addr >> r.shift; ; vpn++ {
		r.tlb.Lookup(uint32(rec.ASID), vpn, tag, write)
		if vpn == last {
			return
		}
	}
}

// flushTLB drops the TLB entries of the domains in ds, for a scheme whose checkpoints or
// recoveries change what translations allow.
func (r *runner) flushTLB(ds []*domain) {
	in := map[*domain]bool{}
	for _, d := range ds {
		in[d] = true
	}
	r.tlb.Flush(func(a uint32) bool { return in[r.domain(traces.ASID(a))] })
}

// verify checks the blocks rec reads against the golden model, then stores rec's stamp
// into the blocks it writes, in the scheme (or the cache in front of it) and in the golden
// model.
func (r *runner) verify(rec traces.Record, idx int64) {
	lo, hi := rec.Addr>>r.blockShift, (rec.Addr+uint64(rec.Size)-1)>>r.blockShift
	if r.view != nil && !r.behind && lo>>r.perPage == hi>>r.perPage {
		r.verifyInPage(&rec, idx, lo, hi, r.view.PageStamps(rec.ASID, lo>>r.perPage))
		return
	}
	n := int(hi - lo + 1)
	if cap(r.stamps) < n {
		r.stamps = make([]uint64, n)
	}
	st := r.stamps[:n]
	if rec.Kind != traces.Write {
		r.load(rec.ASID, lo, st)
		for i, got := range st {
			b := lo + uint64(i)
			want := r.golden.read(rec.ASID, b)
			r.st.VerifyChecks++
			if got != want {
				r.mismatch(fmt.Sprintf("access %d (%s of %#x, asid %d): block %#x holds the value of access %d, want %d",
					idx, rec.Kind, rec.Addr, rec.ASID, b<<r.blockShift, got, want))
			}
		}
	}
	if rec.Kind.Writes() {
		for i := range st {
			st[i] = uint64(idx)
			r.golden.write(rec.ASID, lo+uint64(i), uint64(idx))
		}
		r.store(rec.ASID, lo, st)
	}
}

// verifyInPage is verify for an access within one page, given the stamps the scheme holds
// for that page (nil: no version): the same checks and writes, on the scheme's and the
// golden model's stamps in place.
func (r *runner) verifyInPage(rec *traces.Record, idx int64, lo, hi uint64, st []uint64) {
	mask := uint64(1)<<r.perPage - 1
	if rec.Kind != traces.Write {
		gm := r.golden.mem(rec.ASID, lo)
		for b := lo; b <= hi; b++ {
			var got, want uint64
			if st != nil {
				got = st[b&mask]
			}
			if gm != nil {
				want = gm[b&mask]
			}
			r.st.VerifyChecks++
			if got != want {
				r.mismatch(fmt.Sprintf("access %d (%s of %#x, asid %d): block %#x holds the value of access %d, want %d",
					idx, rec.Kind, rec.Addr, rec.ASID, b<<r.blockShift, got, want))
			}
		}
	}
	if rec.Kind.Writes() {
		gp, gid := r.golden.page(rec.ASID, lo, true)
		for b := lo; b <= hi; b++ {
			r.golden.writeAt(gp, gid, b&mask, uint64(idx))
		}
		if st == nil {
			// The scheme holds no version of the page yet: Store makes one.
			n := int(hi - lo + 1)
			if cap(r.stamps) < n {
				r.stamps = make([]uint64, n)
			}
			src := r.stamps[:n]
			for i := range src {
				src[i] = uint64(idx)
			}
			r.scheme.Store(rec.ASID, lo, src)
			return
		}
		for b := lo; b <= hi; b++ {
			st[b&mask] = uint64(idx)
		}
	}
}

// load reads blocks as the program sees them: from the cache where a memory-level scheme
// sits behind one and the line is cached, else from the scheme.
func (r *runner) load(asid traces.ASID, first uint64, dst []uint64) {
	if !r.behind {
		r.scheme.Load(asid, first, dst)
		return
	}
	r.eachLine(asid, first, len(dst), func(data []uint64, i, off, n int) {
		if data != nil {
			copy(dst[i:i+n], data[off:off+n])
		} else {
			r.scheme.Load(asid, first+uint64(i), dst[i:i+n])
		}
	})
}

// store writes blocks as the program does: into the cache where it holds the line (it
// does after the access, unless a later line of the same access evicted it), else into
// the scheme.
func (r *runner) store(asid traces.ASID, first uint64, src []uint64) {
	if !r.behind {
		r.scheme.Store(asid, first, src)
		return
	}
	r.eachLine(asid, first, len(src), func(data []uint64, i, off, n int) {
		if data != nil {
			copy(data[off:off+n], src[i:i+n])
		} else {
			r.scheme.Store(asid, first+uint64(i), src[i:i+n])
		}
	})
}

// eachLine splits n blocks from block first into runs within one cache line: f gets the
// line's data (nil if not cached), the run's index in the n blocks, its offset in the line
// and its length.
func (r *runner) eachLine(asid traces.ASID, first uint64, n int, f func(data []uint64, i, off, n int)) {
	per := r.lineShift - r.blockShift
	for i := 0; i < n; {
		b := first + uint64(i)
		off := int(b & (1<<per - 1))
		k := min(n-i, 1<<per-off)
		f(r.cache.Data(cache.Line{ASID: asid, N: b >> per}), i, off, k)
		i += k
	}
}

// lineMemory is the memory behind the cache: a memory-level scheme, to which every fill
// is a line read and every write-back a line write.
type lineMemory runner

func (m *lineMemory) Fill(l cache.Line, data []uint64) {
	r := (*runner)(m)
	r.scheme.Access(scheme.Access{Addr: l.N << r.lineShift, Size: 1 << r.lineShift, ASID: l.ASID, Kind: traces.Read, N: r.cur})
	if data != nil {
		r.scheme.Load(l.ASID, l.N<<(r.lineShift-r.blockShift), data)
	}
}

func (m *lineMemory) WriteBack(l cache.Line, data []uint64) {
	r := (*runner)(m)
	r.scheme.Access(scheme.Access{Addr: l.N << r.lineShift, Size: 1 << r.lineShift, ASID: l.ASID, Kind: traces.Write, N: r.cur})
	if data != nil {
		r.scheme.Store(l.ASID, l.N<<(r.lineShift-r.blockShift), data)
	}
}

// countOnly is the memory behind a cache modeled for its counts only.
type countOnly struct{}

func (countOnly) Fill(cache.Line, []uint64)      {}
func (countOnly) WriteBack(cache.Line, []uint64) {}

func (r *runner) mismatch(msg string) {
	r.st.VerifyMismatches++
	if r.firstMismatch == "" {
		r.firstMismatch = msg
	}
}

func (r *runner) checkNow(what string, idx int64) {
	if r.err != nil {
		return
	}
	if err := r.scheme.Check(); err != nil {
		r.err = fmt.Errorf("internal check failed after %s at access %d: %w", what, idx, err)
	} else if r.cache != nil {
		if err := r.cache.Check(); err != nil {
			r.err = fmt.Errorf("internal check failed after %s at access %d: %w", what, idx, err)
		}
	}
}

// checkpoint takes a checkpoint of domain d: first the cache is flushed (--cache-flush),
// so that memory holds the state at the checkpoint, then the scheme checkpoints.
func (r *runner) checkpoint(d *domain) {
	if r.cache != nil && r.cfg.CacheFlush != "none" {
		r.cur = r.st.Refs
		r.cache.Flush(r.cfg.CacheFlush == "invalidate")
	}
	r.scheme.Checkpoint(d.schemeID)
	r.st.Checkpoints++
	d.ckpts++
	for _, at := range d.held {
		r.st.IOOutputDelay += r.st.Refs - at
	}
	d.held = d.held[:0]
	if r.tlb != nil && r.info.WriteProtects && r.cfg.TLBCheckpoint == "flush" {
		r.flushTLB([]*domain{d})
	}
	if r.golden != nil {
		r.golden.checkpoint(d.id)
	}
	d.lastCkpt, d.ckptIO, d.since = r.st.Refs, r.ioAfter(), 0
	r.trimBuffer()
	if r.check {
		r.checkNow("checkpoint", r.st.Refs)
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
			for _, d := range r.domList {
				if d.schemeID == sd && d.since > 0 {
					r.checkpoint(d)
				}
			}
		}
	}
}

// fail strikes domain d just after the current access and the I/O records made since
// (a fail record after them): recovery, then the replay of the accesses it undid and of
// the I/O records among them. The cache loses the lines of every domain recovered: their data is
// newer than the checkpoint.
func (r *runner) fail(d *domain) error {
	crash := r.cfg.Failure == "crash"
	if crash {
		r.st.Crashes++
	}
	var affected []*domain
	if crash && r.cfg.Memory == "volatile" {
		if r.cache != nil {
			r.cache.Discard(nil)
		}
		r.scheme.Crash()
		affected = r.domList
	} else {
		if r.cache != nil {
			r.cache.Discard(func(a traces.ASID) bool { return r.domain(a) != d })
		}
		r.scheme.Rollback(d.schemeID)
		r.st.Rollbacks++
		affected = []*domain{d}
	}
	if r.tlb != nil && r.info.WriteProtects {
		r.flushTLB(affected)
	}
	for _, a := range affected {
		a.held = a.held[:0] // uncommitted: the replay queues them again
	}
	if r.golden != nil {
		for _, a := range affected {
			r.golden.rollback(a.id)
		}
		r.compareAll()
	}
	if r.check {
		r.checkNow("recovery", r.st.Refs)
	}
	return r.replay(affected, r.st.Refs, r.ioAfter())
}

// compareAll compares every block the golden model knows (written at least once) with the
// scheme's memory, loading a page at a time.
func (r *runner) compareAll() {
	type bad struct {
		asid      traces.ASID
		block     uint64
		got, want uint64
	}
	var bads []bad
	buf := make([]uint64, r.golden.blocks)
	for i := range r.golden.pages {
		p := &r.golden.pages[i]
		first := p.key.vpn << r.golden.pageShift
		got := buf
		if r.view != nil && !r.behind {
			// The scheme's stamps in place; a page with no version reads as zeros.
			if got = r.view.PageStamps(p.key.asid, p.key.vpn); got == nil {
				clear(buf)
				got = buf
			}
		} else {
			r.load(p.key.asid, first, got)
		}
		for b, want := range p.mem {
			if !p.known[b] {
				continue
			}
			r.st.VerifyChecks++
			if got[b] != want {
				bads = append(bads, bad{p.key.asid, first + uint64(b), got[b], want})
			}
		}
	}
	if len(bads) == 0 {
		return
	}
	sort.Slice(bads, func(i, j int) bool {
		a, b := bads[i], bads[j]
		return a.asid < b.asid || a.asid == b.asid && a.block < b.block
	})
	for _, b := range bads {
		r.mismatch(fmt.Sprintf("after the failure at access %d: block %#x (asid %d) holds the value of access %d, want %d",
			r.st.Refs, b.block<<r.blockShift, b.asid, b.got, b.want))
	}
}

func (r *runner) bufAppend(rec traces.Record, idx int64) {
	if len(r.buf) >= r.bufCap {
		r.buf = r.buf[:0]
		r.bufBase, r.bufIOFrom = idx-1, idx
	}
	r.buf = append(r.buf, bufRec{rec, idx})
}

// trimBuffer drops buffered accesses that no domain can need to replay any more.
func (r *runner) trimBuffer() {
	if r.bufBase == math.MaxInt64 {
		return
	}
	base := int64(math.MaxInt64)
	for _, d := range r.domList {
		base = min(base, d.lastCkpt)
	}
	if base <= r.bufBase {
		return
	}
	// Keep the accesses after base and the I/O records that follow access base or later.
	k := sort.Search(len(r.buf), func(i int) bool {
		b := &r.buf[i]
		return b.idx > base || b.idx == base && b.rec.Kind.IsIO()
	})
	r.buf = append(r.buf[:0], r.buf[k:]...)
	r.bufBase, r.bufIOFrom = base, max(r.bufIOFrom, base)
}

// replay executes again, in trace order, every access numbered up to upTo of the
// affected domains made since each one's last checkpoint, and the I/O records among them:
// those that come after the domain's last checkpoint (after access lastCkpt, less the
// first ckptIO of those, which came before it) and before the failure (after access upTo,
// only the first upToIO, which came before it).
func (r *runner) replay(affected []*domain, upTo, upToIO int64) error {
	r.replaying = true
	defer func() { r.replaying = false }()
	from := int64(math.MaxInt64)
	in := map[*domain]bool{}
	for _, d := range affected {
		from = min(from, d.lastCkpt)
		in[d] = true
	}
	// k is the number of the I/O record among those that follow access kAt (from 0).
	// Both sources below hand out every I/O record after an access they start from.
	kAt, k := int64(-1), int64(0)
	step := func(rec traces.Record, idx int64) bool {
		if rec.Kind.IsIO() {
			if idx != kAt {
				kAt, k = idx, 0
			}
			k++
			if idx > upTo || idx == upTo && k > upToIO {
				return false // it comes after the failure
			}
			if d := r.domain(rec.ASID); in[d] && (idx > d.lastCkpt || idx == d.lastCkpt && k > d.ckptIO) {
				r.io(rec, idx, d, true)
			}
			return true
		}
		if idx > upTo {
			return false
		}
		if d := r.domain(rec.ASID); in[d] && idx > d.lastCkpt {
			r.st.ReplayedRefs++
			r.apply(rec, idx)
		}
		return true
	}
	if from >= r.bufBase && (!r.sawIO || from >= r.bufIOFrom) {
		for _, b := range r.buf {
			if !step(b.rec, b.idx) {
				break
			}
		}
		return r.err
	}
	n, err := eachRecordAfter(r.open, from, r.sawIO, func(rec traces.Record, idx int64) bool {
		if !rec.Kind.IsIO() && idx <= from {
			return true
		}
		return step(rec, idx)
	})
	if err != nil {
		return fmt.Errorf("replaying after the failure at access %d: %w", upTo, err)
	}
	if n < upTo {
		return fmt.Errorf("replaying after the failure at access %d: %w", upTo, errTraceChanged)
	}
	return r.err
}
