package reproduce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

// DefaultIntervals are the checkpoint intervals of the study: 10^2 to 10^7 accesses, two
// points a decade (1 and 3 times a power of ten).
var DefaultIntervals = []int64{100, 300, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000}

// PageSize is the page size of the study.
const PageSize = 4096

// Options says what to reproduce and where.
type Options struct {
	Dir string // the results directory, e.g. "results"
	// Corpus names the corpus traces to use (nil: all of them).
	Corpus []string
	// Traces are further trace files, named on the command line.
	Traces    []string
	Intervals []int64 // nil: DefaultIntervals
	Jobs      int
	// Resume keeps the points of an interrupted reproduce (in Dir/data's partial files)
	// and those already in Dir/data; otherwise every point is run afresh.
	Resume   bool
	Costs    cost.Set
	Progress func(done, total int)
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

// traceInfo is one trace of the study.
type traceInfo struct {
	name    string // as in sweep.Spec.Traces
	label   string // short, for tables and legends
	summary *traces.Summary
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
	case "", "all", "paper", "compare":
	case "validation":
		return runValidation(opt)
	default:
		return fmt.Errorf("study %q: want all, paper, compare or validation", opt.Study)
	}
	// Refuse, before anything runs, data files that vmsim did not write.
	if opt.Study != "compare" {
		if err := checkData(filepath.Join(opt.Dir, "data")); err != nil {
			return err
		}
	}
	if opt.Study != "paper" {
		if err := checkData(filepath.Join(opt.Dir, "compare", "data")); err != nil {
			return err
		}
	}
	if err := s.collectTraces(); err != nil {
		return err
	}
	if opt.Study != "compare" {
		if err := s.makePoints(); err != nil {
			return err
		}
		if err := s.run(); err != nil {
			return err
		}
		if err := s.write(); err != nil {
			return err
		}
	}
	if opt.Study == "paper" {
		return nil
	}
	copt := opt
	copt.Dir = filepath.Join(opt.Dir, "compare")
	return runCompare(copt, s.traces)
}

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
		if s.opt.Corpus == nil || want[e.Name] {
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
	for i := range names {
		cfg := sim.DefaultConfig()
		open, err := sweep.Opener(names[i].name, cfg)
		if err != nil {
			return err
		}
		r, err := open()
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
	}
	s.traces = names
	return nil
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
				Base: map[string]any{"scheme": "dualmap", "initial": "zero", "page_size": PageSize,
					"memory": v.memory, "cow": v.cow, "frames": frames},
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
	res, err := runPoints(filepath.Join(s.opt.Dir, "data"), s.points, s.opt)
	s.results = res
	return err
}

// partialSuffix names the file a data file's new version is written to while the points
// run (data/points.csv.partial): it replaces the data file only once every point has run,
// so that an interrupted or failed run leaves the data files as they were, and --resume
// carries on from it.
const partialSuffix = ".partial"

// dataFile is a results file of a study's data folder, with the function of package
// sweep that opens it: the one sweep writes its own results with, whose check refuses,
// untouched, a file holding anything but vmsim's results.
type dataFile struct {
	path string
	open func(string) (*sweep.File, error)
}

// dataFiles are the results files of the data folder data: points.csv, points.jsonl.
func dataFiles(data string) []dataFile {
	return []dataFile{{filepath.Join(data, "points.csv"), sweep.OpenCSV}, {filepath.Join(data, "points.jsonl"), sweep.OpenJSONL}}
}

// openOwn opens the existing results file path with open (sweep.OpenCSV or
// sweep.OpenJSONL), which locks it and refuses it, untouched, unless vmsim wrote it; a
// missing file is not created (nil, nil).
func openOwn(path string, open func(string) (*sweep.File, error)) (*sweep.File, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	f, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (vmsim reproduce replaces only the results files vmsim wrote: move this one away, or give another --dir)", err)
	}
	return f, nil
}

// checkData refuses the data folder data if a data file or a partial one there was not
// written by vmsim (or is being written by another vmsim); it changes nothing.
func checkData(data string) error {
	for _, f := range dataFiles(data) {
		for _, p := range []string{f.path, f.path + partialSuffix} {
			h, err := openOwn(p, f.open)
			if err != nil {
				return err
			}
			if h != nil {
				if err := h.Close(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// runPoints runs points and returns every result by point id; data/points.csv and
// data/points.jsonl then hold exactly these points, in order. The results go first to
// the partial files beside them (points.csv.partial, points.jsonl.partial), which replace
// them only when every point has run: until then the data files stay as they were, held
// open (locked). A data or partial file that vmsim did not write is refused, untouched,
// before anything runs. With opt.Resume the points already in the partial files (an
// interrupted run) and in the data files are not run again; otherwise the partial files
// start empty.
func runPoints(data string, points []sweep.Point, opt Options) (map[string]*sweep.Result, error) {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	files := dataFiles(data)
	csvPath, jsonPath := files[0].path, files[1].path
	for _, f := range files {
		old, err := openOwn(f.path, f.open)
		if err != nil {
			return nil, err
		}
		if old != nil {
			defer old.Close() // after the replacement below, if the run gets there
		}
		part, err := openOwn(f.path+partialSuffix, f.open)
		if err != nil {
			return nil, err
		}
		if part == nil {
			continue
		}
		if !opt.Resume {
			err = os.Remove(f.path + partialSuffix)
		}
		if cerr := part.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	c, err := sweep.OpenCSV(csvPath + partialSuffix)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	j, err := sweep.OpenJSONL(jsonPath + partialSuffix)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	// A point listed twice (the same configuration in two parts of a study) runs once.
	var uniq []sweep.Point
	seen := map[string]bool{}
	for _, p := range points {
		if !seen[p.ID] {
			seen[p.ID] = true
			uniq = append(uniq, p)
		}
	}
	if opt.Resume {
		// The study's points already in the data files go into the partial ones.
		old, err := sweep.ReadJSONL(jsonPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, r := range old {
			if !seen[r.ID] {
				continue
			}
			for _, s := range []*sweep.File{c, j} {
				if !s.Has(r.ID) {
					if err := s.Write(r); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if _, err := sweep.Run(uniq, sweep.Options{Jobs: opt.Jobs, Costs: opt.Costs, Progress: opt.Progress, Version: opt.Version}, c, j); err != nil {
		return nil, err
	}
	all, err := sweep.ReadJSONL(jsonPath + partialSuffix)
	if err != nil {
		return nil, err
	}
	results := map[string]*sweep.Result{}
	for _, r := range all {
		results[r.ID] = r
	}
	for _, p := range uniq {
		if results[p.ID] == nil {
			return nil, fmt.Errorf("%s: point %s missing", jsonPath+partialSuffix, p.ID)
		}
	}
	// Every point has run: the data files are replaced (each whole or not at all) by
	// exactly the study's points, in order (a resumed run may have left points of another
	// study in the partial files), and the partial files go.
	ordered := make([]*sweep.Result, len(uniq))
	for i, p := range uniq {
		ordered[i] = results[p.ID]
	}
	if err := atomicfile.Write(csvPath, func(w io.Writer) error { return sweep.WriteCSV(w, ordered) }); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(jsonPath, func(w io.Writer) error { return sweep.WriteJSONL(w, ordered) }); err != nil {
		return nil, err
	}
	if err := c.Close(); err != nil {
		return nil, err
	}
	if err := j.Close(); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := os.Remove(f.path + partialSuffix); err != nil {
			return nil, err
		}
	}
	return results, nil
}

func f3(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
func f4(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }

func (s *study) table1() *Table {
	t := &Table{Name: "table1", Title: "Table 1: the traces",
		Caption: "The traces of the study: accesses (instruction fetches included), the fraction that write, and the distinct 4 KiB pages touched and written.",
		Header:  []string{"trace", "accesses", "write fraction", "pages touched", "pages written", "footprint (KiB)"},
		Right:   []bool{false, true, true, true, true, true}}
	for _, tr := range s.traces {
		sm := tr.summary
		t.Rows = append(t.Rows, []string{tr.label, strconv.FormatInt(sm.Accesses, 10), f4(sm.WriteFraction),
			strconv.FormatInt(sm.PagesTouched, 10), strconv.FormatInt(sm.PagesWritten, 10), strconv.FormatUint(sm.FootprintBytes/1024, 10)})
	}
	return t
}

func (s *study) table2() *Table {
	t := &Table{Name: "table2", Title: "Table 2: protection events and page copies per 1000 accesses (4 KiB pages)",
		Caption: "Protection events (first writes to a page since its last checkpoint, first_writes) and page copies (page_copies) per 1000 accesses against the checkpoint interval; virtual checkpoints, non-volatile memory, copy on first write, unlimited frames.",
		Header:  []string{"interval"}}
	t.Right = []bool{true}
	for _, tr := range s.traces {
		t.Header = append(t.Header, tr.label+" events", tr.label+" copies")
		t.Right = append(t.Right, true, true)
	}
	for _, n := range s.intervals {
		row := []string{strconv.FormatInt(n, 10)}
		for _, tr := range s.traces {
			r := s.result(tr, nonvolatile, n)
			k := 1000 / float64(r.Stats.Refs)
			mark := ""
			if r.Stats.Checkpoints == 0 {
				mark = noCkpt
			}
			row = append(row, f3(float64(r.Stats.FirstWrites)*k)+mark, f3(float64(r.Stats.PageCopies)*k)+mark)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// noCkpt marks a table cell of a point that took no checkpoint: its interval is longer
// than the trace, so what it shows is the run's start (checkpoint 0), not an interval.
const noCkpt = " (no ckpt)"

func (s *study) xs() []float64 {
	x := make([]float64, len(s.intervals))
	for i, n := range s.intervals {
		x[i] = float64(n)
	}
	return x
}

func (s *study) perTrace(v variant, y func(*sweep.Result) float64) []Series {
	var out []Series
	for _, tr := range s.traces {
		ser := Series{Name: tr.label, X: s.xs()}
		for _, n := range s.intervals {
			ser.Y = append(ser.Y, y(s.result(tr, v, n)))
		}
		out = append(out, ser)
	}
	return out
}

// overhead is a point's overhead in percent, or NaN when the point took no checkpoint (its
// interval is longer than the trace): such points are marked in tables and not drawn.
func overhead(r *sweep.Result) float64 {
	if r.Stats.Checkpoints == 0 {
		return math.NaN()
	}
	return 100 * r.Overhead
}

// figCell is a figure's value in its CSV: "no ckpt" for a point not measured.
func figCell(y float64) string {
	if math.IsNaN(y) {
		return "no ckpt"
	}
	return strconv.FormatFloat(y, 'g', 6, 64)
}

// refLines are the reference lines of every overhead figure: 1% and 5%.
var refLines = []float64{1, 5}

// refName is the reference lines' legend entry.
const refName = "1% and 5% overhead"

// allCheckpointed reports whether every trace took a checkpoint at interval n.
func (s *study) allCheckpointed(v variant, n int64) bool {
	for _, tr := range s.traces {
		if s.result(tr, v, n).Stats.Checkpoints == 0 {
			return false
		}
	}
	return true
}

// geoOverhead is the geometric mean over the traces of 1 + overhead, minus one: the
// typical slowdown, which one trace's extreme does not dominate.
func (s *study) geoOverhead(v variant, n int64) float64 {
	var xs []float64
	for _, tr := range s.traces {
		xs = append(xs, 1+s.result(tr, v, n).Overhead)
	}
	return stat.GeometricMean(xs, nil) - 1
}

func (s *study) figures() []*Figure {
	fig4 := &Figure{Name: "fig4", Title: "Figure 4: limited frames and remapping",
		Caption: "Overhead against the interval, as the geometric mean over the traces of 1 + overhead, minus one, for non-volatile memory: copy or remap on first write, with unlimited frames or with half of each trace's footprint in frames (the baseline none gets the same frames).",
		XLabel:  "checkpoint interval (accesses)", YLabel: "overhead (%, geometric mean)", LogY: true, RefLines: refLines, RefName: refName}
	for _, v := range []variant{nonvolatile, remap, limited, limRemap} {
		ser := Series{Name: v.label, X: s.xs()}
		for _, n := range s.intervals {
			y := 100 * s.geoOverhead(v, n)
			if !s.allCheckpointed(v, n) {
				y = math.NaN()
			}
			ser.Y = append(ser.Y, y)
		}
		fig4.Series = append(fig4.Series, ser)
	}
	return []*Figure{
		{Name: "fig1", Title: "Figure 1: overhead, non-volatile memory",
			Caption: "Overhead (modeled time of virtual checkpoints over that of plain demand paging, minus one) against the checkpoint interval, one line per trace; non-volatile memory, copy on first write, unlimited frames.",
			XLabel:  "checkpoint interval (accesses)", YLabel: "overhead (% of baseline time)", LogY: true, RefLines: refLines, RefName: refName, Series: s.perTrace(nonvolatile, overhead)},
		{Name: "fig2", Title: "Figure 2: overhead, volatile memory",
			Caption: "The same for volatile memory, where each checkpoint writes the pages modified since the last one, their page-table pages and a commit record to disk.",
			XLabel:  "checkpoint interval (accesses)", YLabel: "overhead (% of baseline time)", LogY: true, RefLines: refLines, RefName: refName, Series: s.perTrace(volatile, overhead)},
		{Name: "fig3", Title: "Figure 3: memory overhead",
			Caption: "Memory overhead: the peak number of frames holding checkpoint versions (checkpoint_frames_peak) as a fraction of the footprint (pages touched), against the interval; non-volatile memory, copy, unlimited frames.",
			XLabel:  "checkpoint interval (accesses)", YLabel: "checkpoint frames (fraction of footprint pages)",
			Series: s.perTrace(nonvolatile, func(r *sweep.Result) float64 {
				if r.Stats.Checkpoints == 0 {
					return math.NaN()
				}
				return float64(r.Stats.CheckpointFramesPeak) / float64(r.Stats.PagesTouched)
			})},
		fig4,
	}
}

// figureData is a figure's points as a table (figN.csv), so its numbers can be checked.
func figureData(f *Figure) *Table {
	t := &Table{Name: f.Name, Header: []string{f.XLabel}, Right: []bool{true}}
	for _, s := range f.Series {
		t.Header = append(t.Header, s.Name)
		t.Right = append(t.Right, true)
	}
	for i := range f.Series[0].X {
		row := []string{strconv.FormatFloat(f.Series[0].X[i], 'f', -1, 64)}
		for _, s := range f.Series {
			row = append(row, figCell(s.Y[i]))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// write writes every table, figure and the README.
func (s *study) write() error {
	dir := s.opt.Dir
	// Each file appears whole or not at all (a full disk leaves the old one, or none).
	put := func(name string, data []byte) error { return atomicfile.WriteFile(filepath.Join(dir, name), data) }
	tables := []*Table{s.table1(), s.table2()}
	for _, t := range tables {
		txt, err := t.Text()
		if err != nil {
			return err
		}
		c, err := t.CSV()
		if err != nil {
			return err
		}
		for _, f := range []struct {
			ext  string
			data []byte
		}{{".txt", txt}, {".md", t.Markdown()}, {".csv", c}, {".tex", t.LaTeX()}} {
			if err := put(t.Name+f.ext, f.data); err != nil {
				return err
			}
		}
	}
	figs := s.figures()
	for _, f := range figs {
		svg, png, pdf, err := f.Render()
		if err != nil {
			return err
		}
		c, err := figureData(f).CSV()
		if err != nil {
			return err
		}
		for _, x := range []struct {
			ext  string
			data []byte
		}{{".svg", svg}, {".png", png}, {".pdf", pdf}, {".csv", c}} {
			if err := put(f.Name+x.ext, x.data); err != nil {
				return err
			}
		}
	}
	var b bytes.Buffer
	s.readme(&b, tables, figs)
	return put("README.md", b.Bytes())
}

// smallestBelow returns the smallest interval from which on (for it and every larger
// one that was measured) y stays below limit, or 0 when there is none. A y of NaN is an
// interval not measured (no checkpoint taken): it is skipped.
func (s *study) smallestBelow(y func(n int64) float64, limit float64) int64 {
	best := int64(0)
	for i := len(s.intervals) - 1; i >= 0; i-- {
		v := y(s.intervals[i])
		if math.IsNaN(v) {
			continue
		}
		if v >= limit {
			break
		}
		best = s.intervals[i]
	}
	return best
}

func pct(x float64) string {
	switch {
	case math.Abs(x) >= 10:
		return strconv.FormatFloat(x*100, 'f', 0, 64) + "%"
	case math.Abs(x) >= 0.1:
		return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
}
