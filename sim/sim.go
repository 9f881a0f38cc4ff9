package sim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"

	"github.com/vmsim/vmsim/mmu"
	"github.com/vmsim/vmsim/pagetable"
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

	// wrap, in tests, wraps the scheme (to inject faults the verifier must catch).
	wrap func(mmu.Scheme) mmu.Scheme
}

const defaultReplayBuffer = 1 << 20

// ErrUsage wraps configuration errors.
var ErrUsage = errors.New("usage")

// Run replays the trace that open yields through the configured scheme.
func Run(cfg Config, open Opener) (*Result, error) { return RunWith(cfg, open, Options{}) }

// RunWith is Run with options.
func RunWith(cfg Config, open Opener, opt Options) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	scheme, err := mmu.New(cfg.mmuConfig())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if opt.wrap != nil {
		scheme = opt.wrap(scheme)
	}
	r := &runner{
		cfg:     cfg,
		shift:   cfg.pageShift(),
		scheme:  scheme,
		fails:   newFailureSchedule(cfg.FailAt, cfg.MTBF, cfg.Seed),
		open:    open,
		check:   opt.CheckEvery,
		bufBase: math.MaxInt64,
		doms:    map[traces.ASID]*domain{},
	}
	if cfg.failures() {
		r.bufBase = 0
		r.bufCap = opt.ReplayBuffer
		if r.bufCap <= 0 {
			r.bufCap = defaultReplayBuffer
		}
	}
	if cfg.Verify {
		r.blockShift = uint(bits.TrailingZeros64(cfg.VerifyBlock))
		r.golden = newGolden(func(a traces.ASID) int { return r.domain(a).id })
	}
	if cfg.Replace == "opt" && cfg.Frames > 0 {
		if r.nu, err = buildNextUse(open, r.pageRange); err != nil {
			return nil, err
		}
		defer r.nu.close()
	}
	src, err := open()
	if err != nil {
		return nil, err
	}
	// Decoding runs ahead on another goroutine, overlapping the simulation.
	pf := traces.NewPrefetcher(src)
	err = r.run(pf)
	pf.Close()
	r.st.SkippedLines = pf.SkippedLines()
	if err != nil {
		return nil, err
	}
	if r.nu != nil {
		if err := r.nu.finish(); err != nil {
			return nil, err
		}
	}
	if left := r.fails.unreached(); len(left) > 0 {
		return nil, fmt.Errorf("%w: --fail-at %d is beyond the end of the trace (%d accesses)", ErrUsage, left[0], r.st.Refs)
	}
	c := scheme.Counters()
	s := &r.st
	s.PagesTouched, s.PagesWritten = c.PagesTouched, c.PagesWritten
	s.FirstWrites, s.PageCopies, s.Remaps = c.FirstWrites, c.PageCopies, c.Remaps
	s.PageFaults, s.DiskReads, s.DiskWrites = c.PageFaults, c.DiskReads, c.DiskWrites
	s.PTPagesWritten, s.CommitWrites = c.PTPagesWritten, c.CommitWrites
	s.FramesPeak, s.CheckpointFramesPeak, s.WrapSweeps = c.FramesPeak, c.CheckpointFramesPeak, c.WrapSweeps
	return &Result{Config: cfg, Stats: r.st, FirstMismatch: r.firstMismatch}, nil
}

// domain is the driver's view of a checkpoint domain.
type domain struct {
	id       int
	schemeID pagetable.DomainID
	since    int64 // the domain's accesses since its last checkpoint
	lastCkpt int64 // the access number at the domain's last checkpoint (0: the start)
}

type bufRec struct {
	rec traces.Record
	idx int64
}

type runner struct {
	cfg        Config
	shift      uint
	blockShift uint
	scheme     mmu.Scheme
	st         Stats
	fails      *failureSchedule
	golden     *golden
	nu         *nextUse
	open       Opener
	check      bool

	doms     map[traces.ASID]*domain
	domList  []*domain
	lastASID traces.ASID
	lastDom  *domain

	// buf holds every access with number in (bufBase, Refs], for replays.
	// Invariant: buf's idx are increasing; bufBase == MaxInt64 when not buffering.
	buf     []bufRec
	bufBase int64
	bufCap  int

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

func (r *runner) run(src *traces.Prefetcher) error {
	nextFail := r.fails.next()
	for {
		batch, rerr := src.Next()
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
			r.apply(rec, idx, false)
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
			if r.err != nil {
				return r.err
			}
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
		if r.cfg.Scheme == "none" {
			return fmt.Errorf("%w: the trace has a fail record but scheme none cannot recover from failures", ErrUsage)
		}
		return r.fail(d)
	}
	return nil
}

// apply performs one access: every page it references, and the golden model's checks.
func (r *runner) apply(rec traces.Record, idx int64, replay bool) {
	write := rec.Kind.Writes()
	first, last := r.pageRange(rec)
	for vpn := first; ; vpn++ {
		nu := int64(-1)
		if r.nu != nil && !replay {
			nu = r.nu.next()
		}
		r.scheme.Access(rec.ASID, pagetable.VPN(vpn), write, nu)
		if r.golden != nil {
			r.verifyPage(rec, idx, vpn)
		}
		if r.check {
			r.checkNow("access", idx)
		}
		if vpn == last {
			return
		}
	}
}

// verifyPage checks the blocks of page vpn that rec reads against the golden model, then
// stores rec's stamp into the blocks it writes, in the scheme and in the golden model.
func (r *runner) verifyPage(rec traces.Record, idx int64, vpn uint64) {
	pageLo := vpn << r.shift
	pageHi := pageLo + (1 << r.shift) - 1
	lo, hi := max(rec.Addr, pageLo), min(rec.Addr+uint64(rec.Size)-1, pageHi)
	st := r.scheme.Stamps(rec.ASID, pagetable.VPN(vpn))
	base := pageLo >> r.blockShift
	for b := lo >> r.blockShift; b <= hi>>r.blockShift; b++ {
		if rec.Kind != traces.Write {
			want := r.golden.read(rec.ASID, b)
			r.st.VerifyChecks++
			if got := st[b-base]; got != want {
				r.mismatch(fmt.Sprintf("access %d (%s of %#x, asid %d): block %#x holds the value of access %d, want %d",
					idx, rec.Kind, rec.Addr, rec.ASID, b<<r.blockShift, got, want))
			}
		}
		if rec.Kind.Writes() {
			st[b-base] = uint64(idx)
			r.golden.write(rec.ASID, b, uint64(idx))
		}
	}
}

func (r *runner) mismatch(msg string) {
	r.st.VerifyMismatches++
	if r.firstMismatch == "" {
		r.firstMismatch = msg
	}
}

func (r *runner) checkNow(what string, idx int64) {
	if r.err == nil {
		if err := r.scheme.Check(); err != nil {
			r.err = fmt.Errorf("internal check failed after %s at access %d: %w", what, idx, err)
		}
	}
}

func (r *runner) checkpoint(d *domain) {
	r.scheme.Checkpoint(d.schemeID)
	r.st.Checkpoints++
	if r.golden != nil {
		r.golden.checkpoint(d.id)
	}
	d.lastCkpt, d.since = r.st.Refs, 0
	r.trimBuffer()
	if r.check {
		r.checkNow("checkpoint", r.st.Refs)
	}
}

// fail strikes domain d just after the current access: recovery, then the replay of the
// accesses it undid.
func (r *runner) fail(d *domain) error {
	crash := r.cfg.Failure == "crash"
	if crash {
		r.st.Crashes++
	}
	var affected []*domain
	if crash && r.cfg.Memory == "volatile" {
		r.scheme.Crash()
		affected = r.domList
	} else {
		r.scheme.Rollback(d.schemeID)
		r.st.Rollbacks++
		affected = []*domain{d}
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
	return r.replay(affected, r.st.Refs)
}

// compareAll compares every block the golden model knows with the scheme's memory.
func (r *runner) compareAll() {
	type bad struct {
		k         gkey
		got, want uint64
	}
	var bads []bad
	perPage := r.shift - r.blockShift
	for k, want := range r.golden.mem {
		var got uint64
		if st := r.scheme.PeekStamps(k.asid, pagetable.VPN(k.block>>perPage)); st != nil {
			got = st[k.block&(1<<perPage-1)]
		}
		r.st.VerifyChecks++
		if got != want {
			bads = append(bads, bad{k, got, want})
		}
	}
	if len(bads) == 0 {
		return
	}
	sort.Slice(bads, func(i, j int) bool {
		a, b := bads[i].k, bads[j].k
		return a.asid < b.asid || a.asid == b.asid && a.block < b.block
	})
	for _, b := range bads {
		r.mismatch(fmt.Sprintf("after the failure at access %d: block %#x (asid %d) holds the value of access %d, want %d",
			r.st.Refs, b.k.block<<r.blockShift, b.k.asid, b.got, b.want))
	}
}

func (r *runner) bufAppend(rec traces.Record, idx int64) {
	if len(r.buf) == r.bufCap {
		r.buf = r.buf[:0]
		r.bufBase = idx - 1
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
	k := sort.Search(len(r.buf), func(i int) bool { return r.buf[i].idx > base })
	r.buf = append(r.buf[:0], r.buf[k:]...)
	r.bufBase = base
}

// replay executes again, in trace order, every access numbered up to upTo of the
// affected domains made since each one's last checkpoint.
func (r *runner) replay(affected []*domain, upTo int64) error {
	from := int64(math.MaxInt64)
	in := map[*domain]bool{}
	for _, d := range affected {
		from = min(from, d.lastCkpt)
		in[d] = true
	}
	want := func(rec traces.Record, idx int64) bool {
		d := r.domain(rec.ASID)
		return in[d] && idx > d.lastCkpt
	}
	if from >= r.bufBase {
		for _, b := range r.buf {
			if b.idx > upTo {
				break
			}
			if want(b.rec, b.idx) {
				r.st.ReplayedRefs++
				r.apply(b.rec, b.idx, true)
			}
		}
		return r.err
	}
	n, err := eachAccessAfter(r.open, from, func(rec traces.Record, idx int64) bool {
		if idx > upTo {
			return false
		}
		if idx > from && want(rec, idx) {
			r.st.ReplayedRefs++
			r.apply(rec, idx, true)
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("replaying after the failure at access %d: %w", upTo, err)
	}
	if n < upTo {
		return fmt.Errorf("replaying after the failure at access %d: %w", upTo, errTraceChanged)
	}
	return r.err
}
