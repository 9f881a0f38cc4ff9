package reproduce

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

// DefaultIntervals are the checkpoint intervals of the study: 10^2 to 10^8 accesses, two
// points a decade (1 and 3 times a power of ten).
var DefaultIntervals = []int64{100, 300, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000, 30_000_000, 100_000_000}

// LongTraceAccesses is the length from which a trace of the study is long: the
// comparative study runs it at the periods from LongPeriodFrom only (the shorter ones are
// measured on the other traces), and it is not in the failure runs.
const LongTraceAccesses = 100_000_000

// LongPeriodFrom is the shortest period (µs) the comparative study runs a long trace at.
var LongPeriodFrom int64 = 100_000

// PageSize is the page size of the study.
const PageSize = 4096

// Options says what to reproduce and where.
type Options struct {
	Dir string // the results directory, e.g. "results"
	// Corpus names the corpus traces to use (nil: every single-threaded one, the
	// corpus's traces before its multi-threaded programs came, so that the studies' traces
	// and numbers stay as they were; a multi-threaded one is used when named).
	Corpus []string
	// Traces are further trace files, named on the command line.
	Traces []string
	// Workloads runs the studies on the study's workloads (Workloads: ten programs,
	// recorded into Cache at first use with valgrind and reused after) instead of the
	// corpus: the paper's and the comparative study on each one's window (WorkloadWindow), the long study ("all" and "long") on the whole recordings. The
	// corpus's traces are used only when Corpus names them.
	Workloads bool
	// Cache is the recordings' folder of Workloads ("": DefaultLongCache()).
	Cache     string
	Intervals []int64 // nil: DefaultIntervals
	Jobs      int
	// Resume keeps the points of an interrupted reproduce (in Dir/data's partial files)
	// and those already in Dir/data; otherwise every point is run afresh.
	Resume bool
	Costs  cost.Set
	// Progress, when set, is called after each point of each study's sweep
	// (sweep.Options.Progress).
	Progress func(done, total int)
	// Report, when set, receives the progress of the whole run, step by step, with the
	// time left (Progress).
	Report *Progress
	// phase names the study whose points runPoints runs, for Report.
	phase string
	// pre are results of points run already (by point id), which runPoints writes to the
	// data files without running them again: the comparative study's first phase.
	pre map[string]*sweep.Result
	// Command and Version are written into the README.
	Command, Version string
	// Study selects what to run: "all" (or ""): the paper's study into Dir and the
	// comparative study into Dir/compare; "paper" or "compare" alone; "validation": the
	// model's predictions against real checkpointing measured here, into Dir/validation
	// (validation.go; not part of "all": it needs gcc and valgrind and runs for minutes).
	Study string
	// Calibration is a cost file of vmsim calibrate for the validation study; "" measures
	// the costs it needs at its start.
	Calibration string
	// Drmemtrace is a DynamoRIO drmemtrace directory the multi-core study runs beside the
	// corpus's multi-threaded programs ("": none).
	Drmemtrace string
	// Log receives the validation study's progress lines and the reason it is skipped
	// (nil: none).
	Log io.Writer
}

// Variants of the emulated machine that the study compares, all virtual checkpoints
// (scheme dualmap) with 4 KiB pages and zero-filled first touches.
type variant struct {
	key, label string
	memory     string
	cow        string
	limited    bool // frames: half the trace's footprint, else unlimited
}

var (
	nonvolatile = variant{"nonvolatile", "non-volatile, copy, unlimited frames", "nonvolatile", "copy", false}
	volatile    = variant{"volatile", "volatile, copy, unlimited frames", "volatile", "copy", false}
	remap       = variant{"remap", "non-volatile, remap, unlimited frames", "nonvolatile", "remap", false}
	limited     = variant{"limited", "non-volatile, copy, frames = footprint/2", "nonvolatile", "copy", true}
	limRemap    = variant{"limited-remap", "non-volatile, remap, frames = footprint/2", "nonvolatile", "remap", true}
	variants    = []variant{nonvolatile, volatile, remap, limited, limRemap}
)

// WorkloadWindow is the length of the window of a workload's recording that the paper's
// and the comparative study replay (sim.Config.Skip, MaxRefs): its middle WorkloadWindow
// accesses (workloadWindow), away from start-up (loading, reading the input, filling
// memory) and shutdown; the whole recordings are the long study's, and the comparative
// study's periods longer than a window run on the whole recording. A window keeps the
// study's cost bounded (twelve schemes at up to four periods, failure runs of ten seeds)
// while the workloads' footprints and access patterns stay real; it starts cold: a page
// the program touched before it is a first touch in it, under every scheme and under none
// alike.
var WorkloadWindow int64 = 50_000_000

// workloadWindow is the window of a recording of the given accesses: its skip and length
// (both 0: the whole recording, no longer than a window).
func workloadWindow(accesses int64) (skip, maxRefs int64) {
	if accesses <= WorkloadWindow {
		return 0, 0
	}
	return (accesses - WorkloadWindow) / 2, WorkloadWindow
}

// traceInfo is one trace of the study.
type traceInfo struct {
	name    string          // as in sweep.Spec.Traces
	label   string          // short, for tables and legends
	summary *traces.Summary // of the window the study replays
	long    bool            // summary.Accesses >= LongTraceAccesses
	// skip and maxRefs are the window (sim.Config.Skip, MaxRefs; 0: the whole trace).
	skip, maxRefs int64
	// rec is the workload's recording (nil: a corpus trace or a named file).
	rec *Recording
}

// windowed returns the first of traces that is replayed on a window (every workload has
// the same one).
func windowed(traces []traceInfo) (traceInfo, bool) {
	for _, t := range traces {
		if t.maxRefs > 0 {
			return t, true
		}
	}
	return traceInfo{}, false
}

// windowed adds t's window to the settings of a point on it.
func (t traceInfo) windowed(set map[string]any) map[string]any {
	if t.skip > 0 {
		set["skip"] = t.skip
	}
	if t.maxRefs > 0 {
		set["max_refs"] = t.maxRefs
	}
	return set
}

// study holds the points of the study and, once run, their results.
type study struct {
	opt       Options
	traces    []traceInfo
	intervals []int64
	points    []sweep.Point
	// at maps (trace, variant, interval) to a point's index.
	at      map[[3]string]int
	results map[string]*sweep.Result // by point id
	// recs are the workloads' recordings when Run has them already (nil: collectTraces
	// makes sure of them).
	recs []*Recording
	// writes are the other studies this Run writes (by folder: "compare", "long"), which
	// the paper's README links to although it is written first.
	writes map[string]bool
}

func (s *study) key(t traceInfo, v variant, n int64) [3]string {
	return [3]string{t.name, v.key, strconv.FormatInt(n, 10)}
}

func (s *study) result(t traceInfo, v variant, n int64) *sweep.Result {
	return s.results[s.points[s.at[s.key(t, v, n)]].ID]
}

// Run runs the study and writes Dir: tables, figures, their data and a README.
func Run(opt Options) error {
	s := &study{opt: opt, intervals: opt.Intervals, at: map[[3]string]int{}}
	if s.intervals == nil {
		s.intervals = DefaultIntervals
	}
	switch opt.Study {
	case "", "all", "paper", "compare", "long":
	case "validation":
		return runValidation(opt)
	case "multicore":
		return runMulticore(opt)
	default:
		return fmt.Errorf("study %q: want all, paper, compare, long, validation or multicore", opt.Study)
	}
	all := opt.Study == "" || opt.Study == "all"
	paper, cmp := all || opt.Study == "paper", all || opt.Study == "compare"
	long := (all && opt.Workloads) || opt.Study == "long"
	s.writes = map[string]bool{"compare": cmp, "long": long}
	// Refuse, before anything runs, data files that vmsim did not write.
	for _, sub := range []struct {
		on  bool
		dir string
	}{{paper, "data"}, {cmp, filepath.Join("compare", "data")}, {long, filepath.Join("long", "data")}} {
		if !sub.on {
			continue
		}
		if err := checkData(filepath.Join(opt.Dir, sub.dir)); err != nil {
			return err
		}
	}
	// The recordings, made or found once: the long study's (the workloads and gzip's
	// data-only one) serve the other studies too.
	var full, data []*Recording
	if long {
		var err error
		if full, data, err = RecordLong(context.Background(), opt.cache(), opt.Version, opt.log()); err != nil {
			return fmt.Errorf("the long study's recordings: %w", err)
		}
		s.recs = full
	}
	if paper || cmp {
		if err := s.collectTraces(); err != nil {
			return err
		}
	}
	if paper {
		if err := s.makePoints(); err != nil {
			return err
		}
	}
	var c *compare
	if cmp {
		copt := opt
		copt.Dir, copt.phase = filepath.Join(opt.Dir, "compare"), compareStudy
		var err error
		if c, err = newCompare(copt, s.traces); err != nil {
			return err
		}
	}
	var l *longStudy
	if long {
		var err error
		lopt := LongOptions{Dir: filepath.Join(opt.Dir, "long"), Jobs: opt.Jobs, Costs: opt.Costs, Progress: opt.Progress,
			Report: opt.Report, Command: opt.Command, Version: opt.Version}
		if l, err = newLongStudy(lopt, full, data); err != nil {
			return err
		}
	}
	// The progress report's phases, in the order they run: the comparative study's first
	// runs, the paper's study, the long study, and the comparative study, whose points
	// are known only once its first runs have finished.
	accesses, label := map[string]float64{}, map[string]string{}
	for _, t := range s.traces {
		accesses[t.name], label[t.name] = float64(t.summary.Accesses), "the points of "+t.label
	}
	weight := func(p sweep.Point) float64 { return accesses[p.Config.Trace] }
	lab := func(p sweep.Point) string { return label[p.Config.Trace] }
	if opt.Report != nil {
		if cmp {
			c.planFirst(weight, lab)
		}
		if paper {
			opt.Report.plan(paperStudy, uniqPoints(s.points), weight, lab)
		}
		if long {
			l.plan()
		}
		if cmp {
			c.expectRest()
		}
	}
	if cmp {
		if err := c.runFirst(); err != nil {
			return err
		}
		if opt.Report != nil {
			opt.Report.plan(compareStudy, uniqPoints(c.points), weight, lab)
		}
	}
	if paper {
		if err := s.run(); err != nil {
			return err
		}
		if err := s.write(); err != nil {
			return err
		}
		if opt.Report != nil {
			opt.Report.written()
		}
	}
	if long {
		if err := l.run(); err != nil {
			return err
		}
	}
	if !cmp {
		return nil
	}
	if err := c.run(); err != nil {
		return err
	}
	if opt.Report != nil {
		opt.Report.written()
	}
	return nil
}

// The studies' names in progress lines.
const (
	paperStudy   = "paper study"
	compareStudy = "comparative study"
)

func (s *study) collectTraces() error {
	es, err := corpus.Manifest()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range s.opt.Corpus {
		want[n] = true
	}
	names := []traceInfo{}
	for _, e := range es {
		if (s.opt.Corpus == nil && !s.opt.Workloads && e.Threads == 0) || want[e.Name] {
			names = append(names, traceInfo{name: "corpus:" + e.Name, label: e.Name})
			delete(want, e.Name)
		}
	}
	if len(want) > 0 {
		missing := slices.Sorted(maps.Keys(want))
		return fmt.Errorf("no trace %q in the corpus", missing[0])
	}
	for _, p := range s.opt.Traces {
		names = append(names, traceInfo{name: p, label: filepath.Base(p)})
	}
	if s.opt.Workloads {
		recs := s.recs
		if recs == nil {
			var err error
			if recs, err = EnsureWorkloads(context.Background(), s.opt.cache(), s.opt.Version, s.opt.log()); err != nil {
				return fmt.Errorf("the workloads: %w", err)
			}
		}
		for _, r := range recs {
			skip, n := workloadWindow(r.Manifest.Accesses)
			names = append(names, traceInfo{name: r.Path, label: r.Manifest.Name, skip: skip, maxRefs: n, rec: r})
		}
	}
	for i := range names {
		cfg := sim.DefaultConfig()
		open, err := sweep.Opener(names[i].name, cfg)
		if err != nil {
			return err
		}
		r, err := sim.Window(open, names[i].skip, names[i].maxRefs)()
		if err != nil {
			return err
		}
		names[i].summary, err = traces.Summarize(r, traces.SummaryOptions{PageSize: PageSize, Intervals: s.intervals})
		if c, ok := r.(interface{ Close() error }); ok {
			c.Close()
		}
		if err != nil {
			return err
		}
		names[i].long = names[i].summary.Accesses >= LongTraceAccesses
	}
	s.traces = names
	return nil
}

// footprintGroups are the panels of traces in a figure with more lines than one panel
// draws (pages: each trace's pages touched, by name): the smaller half of the footprints
// and the larger half, each panel named by the largest footprint of the first ("footprint
// up to 4.9 MB", in the units of the workloads' table; "larger footprints"), so that neither panel has more than half the
// lines (a fixed threshold would leave most of them in one).
func footprintGroups(names []string, pages map[string]int64) map[string]string {
	order := slices.Clone(names)
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(pages[a], pages[b]) })
	half := (len(order) + 1) / 2
	small := "footprint up to " + bytesLabel(pages[order[max(0, half-1)]]*PageSize)
	out := map[string]string{}
	for i, n := range order {
		out[n] = small
		if i >= half {
			out[n] = "larger footprints"
		}
	}
	return out
}

// cache is the recordings' folder.
func (o Options) cache() string {
	if o.Cache == "" {
		return DefaultLongCache()
	}
	return o.Cache
}

// log is where recording and validation progress goes.
func (o Options) log() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

// framesFor is the limited frame count of a trace: half its footprint, at least 4.
func framesFor(t traceInfo) int { return max(4, int((t.summary.PagesTouched+1)/2)) }

func (s *study) makePoints() error {
	intervals := make([]any, len(s.intervals))
	for i, n := range s.intervals {
		intervals[i] = n
	}
	for _, t := range s.traces {
		for _, v := range variants {
			frames := 0
			if v.limited {
				frames = framesFor(t)
			}
			spec := &sweep.Spec{
				Version: s.opt.Version,
				Traces:  []string{t.name},
				Base: t.windowed(map[string]any{"scheme": "dualmap", "initial": "zero", "page_size": PageSize,
					"memory": v.memory, "cow": v.cow, "frames": frames}),
				Vary:     map[string][]any{"interval": intervals},
				CostBase: &s.opt.Costs,
			}
			ps, _, err := spec.Points()
			if err != nil {
				return err
			}
			for i, p := range ps {
				s.at[s.key(t, v, s.intervals[i])] = len(s.points)
				s.points = append(s.points, p)
			}
		}
	}
	return nil
}

// costsMap turns a cost model into the map a Spec takes, by its JSON form, so that every
// field goes across.
func costsMap(c cost.Model) map[string]any {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // a struct of float64s always marshals
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

func (s *study) run() error {
	opt := s.opt
	opt.phase = paperStudy
	res, err := runPoints(filepath.Join(s.opt.Dir, "data"), s.points, opt)
	s.results = res
	return err
}

// partialSuffix names the file a data file's new version is written to while the points
// run (data/points.csv.partial): it replaces the data file only once every point has run,
// so that an interrupted or failed run leaves the data files as they were, and --resume
// carries on from it.
const partialSuffix = ".partial"
