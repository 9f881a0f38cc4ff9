package reproduce

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

// ComparePeriods are the checkpoint periods of the comparative study, in µs of modeled
// time (Periods: 1 ms to 10 s); on each trace a period is the interval in accesses
// accessesFor gives with the trace's time per access under none (compare.interval).
var ComparePeriods = []int64{1000, 10_000, 100_000, 1_000_000, 10_000_000}

// The cache every point of the comparative study runs behind (the baseline none too): a
// 32 KiB, 8-way, 64-byte-line write-back cache, the L1 data cache of current x86 cores
// (Intel since Sandy Bridge, AMD since Zen 2). Memory-level schemes see only what it
// writes back; without it they would see every store, which no memory controller does.
const (
	CompareCacheSize = 32 << 10
	CompareCacheWays = 8
	CompareCacheLine = 64
)

// GranuleInterval is the period (µs) of the granule study and of the volumes table (it
// must be one of ComparePeriods); Granules the granules.
var (
	GranuleInterval int64 = 1000
	Granules              = []int64{64, 256, 1024, 4096}
)

// paperScheme is the key of the paper's scheme (virtual checkpoints, non-volatile memory).
const paperScheme = "dualmap"

// ValidationIntervals are the intervals of the validation's failure-free runs, which
// measure the checkpoint cost δ(N) (accesses); ValidationSeeds the seeds of its failure
// runs, whose intervals are optimumGrid around Young's prediction and whose MTBF is
// chosen by chooseMTBF (optimum.go).
var (
	ValidationIntervals = []int64{300, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000}
	ValidationSeeds     = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
)

// compare is the comparative study: every scheme side by side.
type compare struct {
	opt    Options
	traces []traceInfo
	vtr    []traceInfo // the traces of the validation: the three longest
	// at maps a key to a point's index in points.
	at      map[string]int
	points  []sweep.Point
	results map[string]*sweep.Result
	sets    []CostSet
	// nsPerAccess is each trace's modeled time per access under none (by trace name),
	// from the first phase's runs: it turns periods into intervals.
	nsPerAccess map[string]float64
	// plans are the validation's failure runs, by ckey(trace, scheme key).
	plans map[string]*optPlan
	// skipped are the keys of the points not run: a period longer than the trace, which
	// would take no checkpoint (res returns an empty result for them).
	skipped map[string]bool
	// figTraces, while the figures are drawn, are the traces their means are over
	// (setFigTraces); nil otherwise.
	figTraces map[string]bool
}

// covers reports whether the study runs trace t at period p: when the trace is at least
// as long as p's interval (a run of it at p takes a checkpoint) and, for a long trace, p is
// at least LongPeriodFrom. A workload's period longer than its window runs on the whole
// recording (whole) when that is long enough.
func (c *compare) covers(t traceInfo, p int64) bool {
	n := c.interval(t, p)
	return (n <= t.summary.Accesses || (t.rec != nil && n <= c.wholeAccesses(t))) && (!t.long || p >= LongPeriodFrom)
}

// whole reports whether the study runs trace t at period p on its whole recording: a
// workload whose window is shorter than p's interval. Such a run replays the recording
// from its start to its end (neither skip nor max_refs), against none on the same
// accesses (ckey("none-whole", t.name)), so that the periods the windows cannot hold are
// measured on every workload long enough for them.
func (c *compare) whole(t traceInfo, p int64) bool {
	return t.rec != nil && c.interval(t, p) > t.summary.Accesses
}

// wholeAccesses are the accesses of a workload's whole recording.
func (c *compare) wholeAccesses(t traceInfo) int64 { return t.rec.Manifest.Accesses }

// base is the point of none that point r is priced against: on the same trace and
// accesses (its window, or its whole recording).
func (c *compare) base(r *sweep.Result) *sweep.Result {
	if _, ok := c.at[ckey("none-whole", r.Config.Trace)]; ok && r.Config.MaxRefs == 0 && r.Config.Skip == 0 {
		return c.res(ckey("none-whole", r.Config.Trace))
	}
	return c.res(ckey("none", r.Config.Trace))
}

// covering are the traces that period p's interval fits in (among figTraces while the
// figures are drawn).
func (c *compare) covering(p int64) []traceInfo {
	var out []traceInfo
	for _, t := range c.traces {
		if c.covers(t, p) && (c.figTraces == nil || c.figTraces[t.name]) {
			out = append(out, t)
		}
	}
	return out
}

// figPeriods are the periods the figures draw: those most traces fit in. A
// line joins means over one set of traces, figTraces, those every drawn period fits in;
// a period no more than half of them fit in (the longest, on the whole recordings) is in
// the tables only, with its count, so that no line jumps from one set of traces to another.
func (c *compare) figPeriods() []int64 {
	var out []int64
	for _, p := range ComparePeriods {
		n := 0
		for _, t := range c.traces {
			if c.covers(t, p) {
				n++
			}
		}
		if 2*n > len(c.traces) {
			out = append(out, p)
		}
	}
	return out
}

// setFigTraces restricts covering to the traces every drawn period fits in (figPeriods),
// for the figures; the returned function lifts the restriction.
func (c *compare) setFigTraces() (done func()) {
	ps := c.figPeriods()
	set := map[string]bool{}
	for _, t := range c.traces {
		set[t.name] = true
		for _, p := range ps {
			if !c.covers(t, p) {
				delete(set, t.name)
			}
		}
	}
	c.figTraces = set
	return func() { c.figTraces = nil }
}

// interval is the checkpoint interval, in accesses, of period p (µs of modeled time) on
// trace t.
func (c *compare) interval(t traceInfo, p int64) int64 {
	return accessesFor(float64(p)*1e3, c.nsPerAccess[t.name])
}

// periodLabel writes a period of ComparePeriods (µs) for a reader: "1 ms", "10 s".
func periodLabel(p int64) string { return timeLabel(float64(p) * 1e3) }

func ckey(parts ...any) string { return fmt.Sprint(parts...) }

func (c *compare) add(key string, t traceInfo, set map[string]any) error {
	base := map[string]any{"initial": "zero", "page_size": PageSize, "cache_size": CompareCacheSize,
		"cache_ways": CompareCacheWays, "cache_line": CompareCacheLine, "io": "hold"}
	for k, v := range set {
		base[k] = v
	}
	pagingOnly(base)
	spec := &sweep.Spec{Version: c.opt.Version, Traces: []string{t.name}, Base: t.windowed(base), CostBase: &c.opt.Costs}
	ps, _, err := spec.Points()
	if err != nil {
		return err
	}
	c.at[key] = len(c.points)
	c.points = append(c.points, ps[0])
	return nil
}

// addWhole is add for a point on t's whole recording.
func (c *compare) addWhole(key string, t traceInfo, set map[string]any) error {
	t.skip, t.maxRefs = 0, 0
	return c.add(key, t, set)
}

func (c *compare) res(key string) *sweep.Result {
	i, ok := c.at[key]
	if !ok && c.skipped[key] {
		return &sweep.Result{} // a period longer than the trace: no checkpoint, not run
	}
	if !ok {
		panic("compare: no point " + key) // every key looked up is one makePoints added
	}
	return c.results[c.points[i].ID]
}

// pagingOnly drops "initial" from the settings set of a study's run when its scheme models
// no paging, which a configuration refuses for it: such a scheme reads no page from disk.
// (Its sweep baseline, sweep.BaselineConfig, then reads first touches from the initial
// image, the default; the study's tables price every scheme against its own none point,
// zero-filled, by the overhead rule.)
func pagingOnly(set map[string]any) {
	name, ok := set["scheme"].(string)
	if !ok {
		name = sim.DefaultConfig().Scheme
	}
	if info, ok := scheme.Lookup(name); ok && !info.Takes("initial") {
		delete(set, "initial")
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// firstPoints are the points the study needs before it can make the others: none on
// every trace (its time per access turns periods into intervals) and, on the validation
// traces, the failure-free runs of the validated schemes at ValidationIntervals (their
// checkpoint costs set the MTBF and the grid of the failure runs).
func (c *compare) firstPoints() error {
	for _, t := range c.traces {
		if err := c.add(ckey("none", t.name), t, map[string]any{"scheme": "none"}); err != nil {
			return err
		}
		if !slices.ContainsFunc(c.vtr, func(v traceInfo) bool { return v.name == t.name }) {
			continue
		}
		for _, sc := range cmpSchemes() {
			if !sc.validate {
				continue
			}
			for _, n := range ValidationIntervals {
				if err := c.add(ckey("V0", t.name, sc.key, n), t, with(sc.set, "interval", n)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// makePoints makes the rest of the study's points, trace by trace (the order sweep.Run
// runs them in, so that the progress report's steps are the traces): each scheme at every
// period and granule, then, on the validation traces, the failure runs of each plan
// (optPlan) and the failure-free run at its centre. Precondition: the first points have
// run (c.nsPerAccess, c.plans).
func (c *compare) makePoints() error {
	for _, t := range c.traces {
		for _, sc := range cmpSchemes() {
			for _, p := range ComparePeriods {
				if !c.covers(t, p) {
					c.skipped[ckey("A", t.name, sc.key, p)] = true
					continue
				}
				set := with(sc.set, "interval", c.interval(t, p))
				if c.whole(t, p) {
					if _, ok := c.at[ckey("none-whole", t.name)]; !ok {
						if err := c.addWhole(ckey("none-whole", t.name), t, map[string]any{"scheme": "none"}); err != nil {
							return err
						}
					}
					if err := c.addWhole(ckey("A", t.name, sc.key, p), t, set); err != nil {
						return err
					}
					continue
				}
				if err := c.add(ckey("A", t.name, sc.key, p), t, set); err != nil {
					return err
				}
			}
			if sc.block && c.covers(t, GranuleInterval) {
				for _, g := range Granules {
					if err := c.add(ckey("G", t.name, sc.key, g), t, with(sc.set, "interval", c.interval(t, GranuleInterval), "granule", g)); err != nil {
						return err
					}
				}
			}
		}
		for _, sc := range cmpSchemes() {
			pl := c.plans[ckey(t.name, sc.key)]
			if pl == nil || !pl.ok {
				continue
			}
			if err := c.add(ckey("V0", t.name, sc.key, pl.grid[len(pl.grid)/2]), t, with(sc.set, "interval", pl.grid[len(pl.grid)/2])); err != nil {
				return err
			}
			for _, n := range pl.grid {
				for _, seed := range ValidationSeeds {
					if err := c.add(ckey("VF", t.name, sc.key, n, seed), t, with(sc.set, "interval", n, "mtbf", pl.mtbfAccesses, "seed", seed)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// newCompare makes the comparative study's points on traces, to run into opt.Dir.
func newCompare(opt Options, traces []traceInfo) (*compare, error) {
	c := &compare{opt: opt, traces: traces, at: map[string]int{}, sets: CostSets(), skipped: map[string]bool{}}
	for _, cs := range c.sets {
		if err := cs.Validate(); err != nil {
			return nil, err
		}
	}
	c.vtr = slices.DeleteFunc(slices.Clone(traces), func(t traceInfo) bool { return t.long })
	slices.SortStableFunc(c.vtr, func(a, b traceInfo) int { return int(b.summary.Accesses - a.summary.Accesses) })
	c.vtr = c.vtr[:min(validationTraces, len(c.vtr))]
	if err := c.firstPoints(); err != nil {
		return nil, err
	}
	return c, nil
}

// firstPhase names the comparative study's first runs in progress lines.
const firstPhase = compareStudy + ", first runs"

// planFirst declares the first runs to the progress report.
func (c *compare) planFirst(weight func(sweep.Point) float64, label func(sweep.Point) string) {
	if c.opt.Report != nil {
		c.opt.Report.planRuns(firstPhase, uniqPoints(c.points), weight, label)
	}
}

// expectRest declares the study's points after the first runs to the progress report,
// by their number of steps: one a trace of the first runs (the points are made from
// them and run trace by trace).
func (c *compare) expectRest() {
	if c.opt.Report == nil {
		return
	}
	traces := map[string]bool{}
	for _, p := range c.points {
		traces[p.Config.Trace] = true
	}
	c.opt.Report.expect(compareStudy, len(traces))
}

// runFirst runs the first points (firstPoints), into memory (runPoints writes them to the
// data files with the others, without running them again: Options.pre), and makes the
// other points from their results.
func (c *compare) runFirst() error {
	first := uniqPoints(c.points)
	if c.opt.Log != nil && c.opt.Report == nil {
		fmt.Fprintf(c.opt.Log, "%s: %d baseline and failure-free runs first, to turn periods into intervals and choose the failure runs' MTBF\n", compareStudy, len(first))
	}
	c.results = map[string]*sweep.Result{}
	kept := map[int]bool{}
	if c.opt.Resume {
		// Those in the data files (or an interrupted run's partial ones) are kept.
		for _, f := range dataFiles(filepath.Join(c.opt.Dir, "data")) {
			for _, path := range []string{f.path, f.path + partialSuffix} {
				if !strings.HasSuffix(f.path, ".jsonl") {
					continue
				}
				old, err := sweep.ReadJSONL(path)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
				for _, r := range old {
					c.results[r.ID] = r
				}
			}
		}
		for i, p := range first {
			if c.results[p.ID] != nil {
				kept[i] = true
			}
		}
		first = slices.DeleteFunc(first, func(p sweep.Point) bool { return c.results[p.ID] != nil })
	}
	var progress func(done, total int)
	if c.opt.Report != nil {
		c.opt.Report.begin(firstPhase, kept)
		progress = func(done, total int) { c.opt.Report.pointsDone(done) }
	}
	rs, err := sweep.Run(first, sweep.Options{Jobs: c.opt.Jobs, Costs: c.opt.Costs, Version: c.opt.Version, Progress: progress})
	if err != nil {
		return err
	}
	for _, r := range rs {
		c.results[r.ID] = r
	}
	c.opt.pre = c.results
	c.nsPerAccess = map[string]float64{}
	for _, t := range c.traces {
		base := c.res(ckey("none", t.name))
		c.nsPerAccess[t.name] = c.tm(base) / float64(max(1, base.Stats.Refs))
	}
	c.plans = map[string]*optPlan{}
	for _, t := range c.vtr {
		for _, sc := range cmpSchemes() {
			if sc.validate {
				c.plans[ckey(t.name, sc.key)] = c.planOptimum(t, sc)
			}
		}
	}
	if err := c.makePoints(); err != nil {
		return err
	}
	c.byTrace()
	return nil
}

// byTrace orders the points trace by trace, as the traces are listed (the first phase's
// with the others), so that the progress report's steps are the traces.
func (c *compare) byTrace() {
	order := map[string]int{}
	for i, t := range c.traces {
		order[t.name] = i
	}
	perm := make([]int, len(c.points))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return order[c.points[a].Config.Trace] - order[c.points[b].Config.Trace] })
	where := make([]int, len(perm)) // old index -> new
	points := make([]sweep.Point, len(perm))
	for i, old := range perm {
		points[i], where[old] = c.points[old], i
	}
	for k, i := range c.at {
		c.at[k] = where[i]
	}
	c.points = points
}

// validationTraces is the number of traces of the failure runs: the longest ones.
const validationTraces = 2

// run runs the comparative study's points into its data folder and writes its tables,
// figures and README.
func (c *compare) run() error {
	var err error
	if c.results, err = runPoints(filepath.Join(c.opt.Dir, "data"), c.points, c.opt); err != nil {
		return err
	}
	return c.write()
}

// overheadUnder is a point's overhead under model m, from its counters, by the overhead
// rule (cost.Overhead) against none on the same trace and cache.
func (c *compare) overheadUnder(m cost.Model, t traceInfo, r *sweep.Result) float64 {
	return cost.Overhead(m, r.Stats, c.base(r).Stats, r.Config)
}

// tm is a point's time under this machine's costs, as the overhead rule charges it
// against none on the same trace and cache (cost.Compare); none's own is its time.
func (c *compare) tm(r *sweep.Result) float64 {
	return cost.Compare(c.opt.Costs.Model, r.Stats, c.base(r).Stats, r.Config).Run.Total
}

// geo is the geometric mean over the traces of 1 + y, minus one; NaN when any is NaN.
func geo(ys []float64) float64 {
	xs := make([]float64, len(ys))
	for i, y := range ys {
		if math.IsNaN(y) {
			return math.NaN()
		}
		xs[i] = 1 + y
	}
	return stat.GeometricMean(xs, nil) - 1
}

// schemeOverhead is the geometric-mean overhead of a scheme at period p under m over the
// traces p fits in (covering), NaN when none does or one of them took no checkpoint.
func (c *compare) schemeOverhead(m cost.Model, sc cmpScheme, p int64) float64 {
	var ys []float64
	for _, t := range c.covering(p) {
		r := c.res(ckey("A", t.name, sc.key, p))
		if r.Stats.Checkpoints == 0 {
			return math.NaN()
		}
		ys = append(ys, c.overheadUnder(m, t, r))
	}
	if len(ys) == 0 {
		return math.NaN()
	}
	return geo(ys)
}

// writeAll writes tables (txt, md, csv, tex) and figures (svg, png, pdf, and their numbers
// as csv) into dir, each file whole or not at all.
func writeAll(dir string, tables []*Table, figs []*Figure) error {
	put := func(name string, data []byte) error { return atomicfile.WriteFile(filepath.Join(dir, name), data) }
	for _, t := range tables {
		txt, err := t.Text()
		if err != nil {
			return err
		}
		cv, err := t.CSV()
		if err != nil {
			return err
		}
		for _, f := range []struct {
			ext  string
			data []byte
		}{{".txt", txt}, {".md", t.Markdown()}, {".csv", cv}, {".tex", t.LaTeX()}} {
			if err := put(t.Name+f.ext, f.data); err != nil {
				return err
			}
		}
	}
	for _, f := range figs {
		svg, png, pdf, err := f.Render()
		if err != nil {
			return err
		}
		cv, err := figureData(f).CSV()
		if err != nil {
			return err
		}
		for _, x := range []struct {
			ext  string
			data []byte
		}{{".svg", svg}, {".png", png}, {".pdf", pdf}, {".csv", cv}} {
			if err := put(f.Name+x.ext, x.data); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *compare) write() error {
	tables := []*Table{c.tableRegimes(), c.tableSchemes(), c.tableVolumes(), c.tableRecovery(), c.tableOptimum(), c.tableWinners(), c.tableGranule(), c.tableCostSets()}
	if len(c.ioTraces()) > 0 {
		tables = append(tables, c.tableDelay())
	}
	tables = append(tables, c.tableRatios())
	figs := c.figures()
	if err := writeAll(c.opt.Dir, tables, figs); err != nil {
		return err
	}
	var b bytes.Buffer
	c.readme(&b, tables, figs)
	return atomicfile.WriteFile(filepath.Join(c.opt.Dir, "README.md"), b.Bytes())
}
