package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// Result is one point's outcome.
type Result struct {
	ID string `json:"id"`
	// TraceHash and Version say which trace content and which vmsim gave the result.
	TraceHash string     `json:"trace_sha256"`
	Version   string     `json:"vmsim_version"`
	Config    sim.Config `json:"config"`
	Stats     sim.Stats  `json:"stats"`
	// CostSet is the cost set the times were computed with.
	CostSet cost.Set `json:"cost_set"`
	// Cost is the point's modeled time as the overhead rule charges it (cost.Compare):
	// every term at least the baseline's.
	Cost     cost.Breakdown `json:"cost"`
	Baseline cost.Breakdown `json:"baseline"` // scheme none on the same trace and settings
	Overhead float64        `json:"overhead"` // Cost.Total / Baseline.Total - 1, never negative
}

// Sink is an output file of results.
type Sink interface {
	Has(id string) bool
	Write(r *Result) error
}

// Options says how to run a sweep.
type Options struct {
	// Version, when set, is the points' version (Point.Version, part of their IDs),
	// which each result records. Precondition: "" or every point's Version.
	Version string
	Jobs    int // parallel runs; 0 means one a core. Precondition: Jobs >= 0 (the CLI refuses less)
	Costs   cost.Set
	// Progress, when set, is called after each point with the points done (skipped ones
	// included) and the total.
	Progress func(done, total int)
	// DecodeMemory is the memory, in bytes, that traces decoded into memory may take at
	// once: 0 means DefaultDecodeMemory, a negative value decodes none (every run
	// streams its trace from the file, as vmsim run does). See Run.
	DecodeMemory int64
	// TraceCache, when set, is a directory of local copies of the trace files, which
	// the runs read instead of the originals (see TraceCache).
	TraceCache TraceCache
}

// maxReported is how many failed points Run's error lists.
const maxReported = 5

// Run runs every point not already in all sinks, on opt.Jobs cores, and writes each
// result to the sinks that lack it, in point order. A point that fails does not stop
// the others: every point that can run does, every result is written (the failed
// points leave gaps, which a rerun fills), and the error lists the failures. A sink
// that cannot be written stops the sweep. A sink that is a File holding a result line
// for one of points that does not say that point's configuration (every configuration
// column: File.verify) is refused before anything runs.
//
// Each trace is decoded once, into memory, by the first of its points to run, and every
// point and baseline of that trace, on every core, replays those records in place; they
// are freed when the trace's last point is done. The points run trace by trace (in the
// order of each trace's first point), so that few decoded traces are alive at once.
// A trace that does not fit in what is left of opt.DecodeMemory is streamed from its
// file by each run instead, as is one a lenient reader skips lines of. Results are the
// same bytes either way.
//
// Every run reads the bytes its point was made for (those whose SHA-256 is its
// TraceHash, which its ID and row name). Each trace file is opened once, by the first of
// its points to run, and checked to hold those bytes (its copy in opt.TraceCache, if
// set, is); every run of its points reads that open file, whatever becomes of the name.
// A trace that no longer holds them, or that changes while its points run, fails them
// with an error naming the file.
//
// A point's baseline (BaselineConfig) is failure-free: it runs on the point's trace less
// the trace's fail records, which are for the scheme under study.
func Run(points []Point, opt Options, sinks ...Sink) ([]*Result, error) {
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	for _, p := range points {
		if opt.Version != "" && p.Version != opt.Version {
			panic(fmt.Sprintf("sweep: Run of a point of vmsim %q as vmsim %q", p.Version, opt.Version))
		}
	}
	registryOf(points) // every point has the same registry
	// A result line a sink holds for one of the points must be that point's.
	for _, s := range sinks {
		if v, ok := s.(interface{ verify([]Point) error }); ok {
			if err := v.verify(points); err != nil {
				return nil, err
			}
		}
	}
	var todo []int
	for i, p := range points {
		if slices.ContainsFunc(sinks, func(s Sink) bool { return !s.Has(p.ID) }) || len(sinks) == 0 {
			todo = append(todo, i)
		}
	}
	// The order to run them in (indices in todo): trace by trace.
	order := make([]int, len(todo))
	first := map[traceKey]int{}
	for k := range order {
		order[k] = k
		if _, ok := first[keyOf(points[todo[k]].Config)]; !ok {
			first[keyOf(points[todo[k]].Config)] = k
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return first[keyOf(points[todo[order[a]]].Config)] < first[keyOf(points[todo[order[b]]].Config)]
	})
	budget := opt.DecodeMemory
	if budget == 0 {
		budget = DefaultDecodeMemory()
	}
	todoPoints := make([]Point, len(todo))
	for k, i := range todo {
		todoPoints[k] = points[i]
	}
	if opt.TraceCache != "" && slices.ContainsFunc(todoPoints, isFile) {
		// A cache that cannot be used stops the sweep before it starts.
		if err := opt.TraceCache.Check(); err != nil {
			return nil, err
		}
	}
	store := newDecodeStore(budget, todoPoints, opt.TraceCache)
	done := len(points) - len(todo)
	if opt.Progress != nil {
		opt.Progress(done, len(points))
	}
	type out struct {
		k   int // index in todo
		res *Result
		err error
	}
	work := make(chan int)
	results := make(chan out)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	base := &baselines{m: map[string]*baseline{}}
	for range min(jobs, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				res, err := runPoint(points[todo[k]], opt, base, store)
				select {
				case results <- out{k, res, err}:
				case <-stop:
					return
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for _, k := range order {
			select {
			case work <- k:
			case <-stop:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	// Write in point order: hold results that finish early. A failed point is held as
	// nil, and skipped.
	held := map[int]*Result{}
	var all []*Result
	var failed []error
	nFailed := 0
	next := 0
	var sinkErr error
	for o := range results {
		if sinkErr != nil {
			continue
		}
		if o.err != nil {
			nFailed++
			if len(failed) < maxReported {
				p := points[todo[o.k]]
				failed = append(failed, fmt.Errorf("point %s (%s): %w", p.ID, p.Config.Trace, o.err))
			}
		}
		held[o.k] = o.res
		for {
			r, ok := held[next]
			if !ok {
				break
			}
			delete(held, next)
			next++
			if r == nil {
				continue
			}
			for _, s := range sinks {
				if !s.Has(r.ID) {
					if err := s.Write(r); err != nil && sinkErr == nil {
						sinkErr = err
						close(stop)
					}
				}
			}
			all = append(all, r)
			done++
			if opt.Progress != nil {
				opt.Progress(done, len(points))
			}
		}
	}
	if sinkErr != nil {
		return all, sinkErr
	}
	if nFailed > 0 {
		if nFailed > len(failed) {
			failed = append(failed, fmt.Errorf("and %d more", nFailed-len(failed)))
		}
		return all, fmt.Errorf("%d of %d points failed (the %d others are written; rerun to retry the failed ones):\n%w",
			nFailed, len(todo), len(all), errors.Join(failed...))
	}
	return all, nil
}

// baselines caches the runs of scheme none, which many points share.
type baselines struct {
	mu sync.Mutex
	m  map[string]*baseline
}

type baseline struct {
	once  sync.Once
	stats sim.Stats
	err   error
}

// BaselineConfig is the configuration of the baseline of a point of any scheme: scheme
// none on the same trace, with the same paging settings and cache, and neither
// checkpoints nor failures (D25). Every scheme of a trace and machine has the same
// baseline: one that models no paging has its paging settings at their defaults
// (anything else is refused), and the overhead rule (cost.Charge) charges it the
// baseline's faults and paging I/O.
func BaselineConfig(c sim.Config) sim.Config {
	d := sim.DefaultConfig()
	c.Scheme, c.Interval, c.FailAt, c.MTBF, c.Verify, c.Params = "none", 0, nil, 0, false, nil
	c.Memory, c.Cow, c.VBits, c.Scope, c.Failure = d.Memory, d.Cow, d.VBits, d.Scope, d.Failure
	c.Granule, c.TLBCheckpoint, c.PTEBytes = d.Granule, d.TLBCheckpoint, d.PTEBytes // none takes none of them
	return c
}

// OwnBaseline reports whether a run with configuration c is its own baseline: scheme none
// with the baseline's settings (no checkpoint interval, no failures, no --verify), which
// BaselineConfig leaves as it is. Such a run's counters are its baseline's: the baseline
// would read the same records (a run of none met no fail record, which none refuses)
// through the same configuration, and count the same.
func OwnBaseline(c sim.Config) bool {
	if len(c.FailAt) == 0 {
		c.FailAt = nil // as BaselineConfig leaves it
	}
	if len(c.Params) == 0 {
		c.Params = nil
	}
	return reflect.DeepEqual(BaselineConfig(c), c)
}

// seed records stats, those of a run that is its own baseline (OwnBaseline) with c's
// baseline configuration, as that baseline's, unless it has run already; it returns the
// baseline's counters.
func (b *baselines) seed(c sim.Config, stats sim.Stats) (sim.Stats, error) {
	e := b.entry(c)
	e.once.Do(func() { e.stats = stats })
	return e.stats, e.err
}

func (b *baselines) entry(c sim.Config) *baseline {
	key, _ := json.Marshal(BaselineConfig(c))
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[string(key)]
	if e == nil {
		e = &baseline{}
		b.m[string(key)] = e
	}
	return e
}

// get returns the counters of c's baseline, run on the trace that open yields (c's)
// less its fail records, with the schemes of reg (nil: the built-ins). Precondition:
// every call of a baselines has the same reg.
func (b *baselines) get(c sim.Config, reg *scheme.Registry, open sim.Opener) (sim.Stats, error) {
	e := b.entry(c)
	e.once.Do(func() {
		res, err := RunBaseline(c, reg, open)
		if err != nil {
			e.err = fmt.Errorf("its baseline (scheme none on the same trace, without failures; the trace's fail records ignored): %w", err)
			return
		}
		e.stats = res.Stats
	})
	return e.stats, e.err
}

func runPoint(p Point, opt Options, base *baselines, store *decodeStore) (*Result, error) {
	costs := opt.Costs
	defer store.release(p)
	open, check, err := store.acquire(p)
	if err != nil {
		return nil, err
	}
	// A trace file that changed under the runs fails the point, whatever the runs made
	// of what they read.
	changed := func(err error) error {
		if check != nil {
			if cerr := check(); cerr != nil {
				return cerr
			}
		}
		return err
	}
	res, err := sim.RunWith(p.Config, open, sim.Options{Registry: registryOr(p.Registry)})
	if err != nil {
		return nil, changed(err)
	}
	r := &Result{ID: p.ID, TraceHash: p.TraceHash, Version: p.Version, Config: res.Config, Stats: res.Stats, CostSet: costs}
	var bs sim.Stats
	if OwnBaseline(res.Config) {
		bs, err = base.seed(p.Config, res.Stats) // not run twice
	} else {
		bs, err = base.get(p.Config, p.Registry, open)
	}
	if err != nil {
		return nil, changed(err)
	}
	if err := changed(nil); err != nil {
		return nil, err
	}
	cmp := cost.Compare(costs.Model, res.Stats, bs, res.Config)
	r.Cost, r.Baseline, r.Overhead = cmp.Run, cmp.Baseline, cmp.Overhead
	return r, nil
}

// ETA estimates the time left from the time so far, for progress lines.
func ETA(elapsed time.Duration, done, startDone, total int) time.Duration {
	if done <= startDone {
		return 0
	}
	per := elapsed / time.Duration(done-startDone)
	return per * time.Duration(total-done)
}
