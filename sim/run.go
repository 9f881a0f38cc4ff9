package sim

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/scheme"
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
	// CheckEvery checks every invariant from scratch after every event (each access, I/O
	// record, checkpoint, failure, recovery and replayed record): the scheme's (its Check)
	// and the driver's own (every room's Check). The run stops at the first one broken,
	// with an error naming the event and the access number (slow; for tests and
	// `vmsim run --check`).
	CheckEvery bool
	// ReplayBuffer is how many recent accesses are kept for replay after a failure
	// (0: the default, 1M). Replays reaching back further re-read the trace.
	ReplayBuffer int
	// Scheme, when not nil, is the scheme to run instead of the one registered under
	// Config.Scheme (which then only names it in the output): any implementation of
	// scheme.Scheme, registered or not.
	Scheme *scheme.Info
	// Registry is where Config.Scheme is looked up (unless Scheme is set); nil means the
	// process-wide registry, scheme.Default (which holds the built-in schemes once package
	// builtin is imported).
	Registry *scheme.Registry
	// StatsEvery, above 0, ends an interval after every StatsEvery accesses (numbered as
	// the run numbers them, the first interval starting after --warmup's) and hands its
	// counts to OnStats, in order; the last interval, shorter, ends with the run. An
	// error from OnStats ends the run with it. The intervals' Delta totals add up to the
	// run's Stats.
	StatsEvery int64
	OnStats    func(IntervalStats) error

	// wrap, in tests, wraps the scheme (to inject faults the verifier must catch).
	wrap func(scheme.Scheme) scheme.Scheme
	// slow, in tests, keeps the run off the fast path: it hands the scheme runs of one.
	slow bool
	// oneCoreMachine, in tests, models one core (Config.Cores 1) as the multi-core machine
	// of one core instead of the one cache, which must count the same.
	oneCoreMachine bool
	// corrupt, in tests, is called after every event (what) before the checks, to break
	// an invariant that a room's Check must catch.
	corrupt func(r *runner, what string)
}

const defaultReplayBuffer = 1 << 20

// ErrUsage wraps configuration errors.
var ErrUsage = errors.New("usage")

// Run replays the trace that open yields through the configured scheme.
func Run(cfg Config, open Opener) (*Result, error) { return RunWith(cfg, open, Options{}) }

// RunWith is Run with options.
func RunWith(cfg Config, open Opener, opt Options) (*Result, error) {
	// Every pass over the trace sees only its window (--skip, --max-refs).
	open = window(open, cfg.Skip, cfg.MaxRefs)
	r, err := newRunner(cfg, open, opt)
	if err != nil {
		return nil, err
	}
	defer r.nu.close()
	src, err := open()
	if err != nil {
		return nil, err
	}
	// A trace already in memory hands out its records in place; any other is decoded
	// ahead on another goroutine, overlapping the simulation, unless the run needs the
	// cpus its reader records (--schedule recorded).
	var b batcher
	closed := false // src is closed by a deferred call
	pf, ok := src.(batcher)
	cpu, hasCPU := src.(interface{ CPU() int })
	if r.mem != nil && r.mem.sched != nil && cfg.Schedule == schedule.Recorded && hasCPU {
		// The cpus of the records: read on this goroutine, each batch with its cpu.
		cb := newCPUBatcher(src, cpu, &r.mem.cpu)
		b, closed = cb, true
		defer closeReader(src)
	} else if ok {
		b = pf
	} else {
		p := traces.NewPrefetcher(src)
		b = p
		defer func() { p.Close(); r.n.skipped = p.SkippedLines() }()
	}
	if err := r.run(b); err != nil {
		// A prefetcher closes src itself, once its goroutine no longer reads it (the
		// deferred Close): closed under a read, a zstd decoder panics or hangs.
		if _, ok := b.(*traces.Prefetcher); !ok && !closed {
			closeReader(src)
		}
		return nil, err
	}
	if p, ok := b.(*traces.Prefetcher); ok {
		p.Close()
		r.n.skipped = p.SkippedLines()
	}
	if cb, ok := b.(*cpuBatcher); ok {
		r.n.skipped = cb.SkippedLines()
	}
	if r.nu != nil {
		if err := r.nu.finish(); err != nil {
			return nil, err
		}
	}
	if left := r.fails.unreached(); len(left) > 0 {
		return nil, fmt.Errorf("%w: --fail-at %d is beyond the end of the trace (%d accesses)", ErrUsage, left[0], r.n.refs)
	}
	for _, d := range r.doms.list {
		r.io.heldAtEnd += int64(len(d.held))
	}
	if cfg.Warmup > 0 && r.n.warm == nil {
		return nil, fmt.Errorf("%w: --warmup %d is beyond the end of the trace (%d accesses)", ErrUsage, cfg.Warmup, r.n.refs)
	}
	st := r.snapshot()
	if err := r.per.finish(r.n.refs, st); err != nil {
		return nil, err
	}
	var first string
	if r.ver != nil {
		first = r.ver.first
	}
	return &Result{Config: cfg, Stats: st, FirstMismatch: first}, nil
}

// newRunner checks the configuration and sets a run up: the scheme, opt's pre-pass, and
// every room the configuration asks for.
func newRunner(cfg Config, open Opener, opt Options) (*runner, error) {
	info, err := cfg.info(opt.Scheme, opt.Registry)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if err := cfg.validate(info, opt.Registry); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	params, err := cfg.params(info)
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
		corrupt:   opt.corrupt,
		buf:       replayBuffer{base: math.MaxInt64},
		io:        ioState{hold: cfg.IO == IOHold},
		per:       newPeriodic(opt.StatsEvery, cfg.Warmup, opt.OnStats),
	}
	if r.maxPages > 0 && !cfg.IgnoreSize && uint64(r.maxPages-1) < 1<<32>>r.shift {
		// An access of at most (maxPages-1) pages' bytes covers at most maxPages pages.
		r.spanBytes = uint64(r.maxPages-1) << r.shift
	}
	m := cfg.machine()
	m.RequestCheckpoint = func(d scheme.Domain) { r.requested = append(r.requested, d) }
	or := &oracle{r: r}
	m.Oracle = or
	s, err := info.New(m, params)
	if err != nil {
		r.nu.close()
		// The pre-pass's own error, if the scheme asked for one that failed: a trace too
		// large for the page budget is the user's, one that cannot be read again is not.
		if or.err != nil {
			err = or.err
			if !errors.Is(err, scheme.ErrTooManyPages) {
				return nil, err
			}
		}
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if opt.wrap != nil {
		s = opt.wrap(s)
	}
	r.scheme = s
	r.doms = domains{perASID: cfg.Scope != ScopeSystem, scheme: s}
	aware, isIO := s.(scheme.IOAware)
	switch {
	case info.IO && !isIO:
		r.nu.close()
		return nil, fmt.Errorf("%w: scheme %s: its Info says it sees I/O records (IO), but the scheme built does not implement scheme.IOAware (a wrapper that hides its IO method?)", ErrUsage, info.Name)
	case isIO && !info.IO:
		r.nu.close()
		return nil, fmt.Errorf("%w: scheme %s implements scheme.IOAware, but its Info does not say so (IO): set Info.IO, or drop the IO method", ErrUsage, info.Name)
	}
	r.io.aware = aware
	if cfg.failures() {
		r.buf = newReplayBuffer(opt.ReplayBuffer)
	}
	r.mem = newHierarchy(cfg, info, s, opt.oneCoreMachine)
	if cfg.Verify {
		blockShift := uint(bits.TrailingZeros64(cfg.VerifyBlock))
		r.ver = newVerifier(s, r.mem, r.shift, blockShift, func(a traces.ASID) int { return r.doms.of(a).id })
	}
	r.chooseLoop(opt.slow)
	return r, nil
}

// batcher hands out the trace's records in batches, in place: a traces.Prefetcher, or a
// traces.DecodedReader for a trace already in memory.
type batcher interface {
	NextAccesses() (recs []traces.Record, allAccesses bool, err error)
}
