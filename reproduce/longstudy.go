package reproduce

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
)

// LongIntervals are the intervals of the long study's virtual-checkpoint runs on the whole
// recordings: from 10^6, where the paper says the overhead becomes very small, to 10^9,
// longer than what follows the warm-up of most recordings (such a point is marked).
var LongIntervals = []int64{1_000_000, 10_000_000, 100_000_000, 1_000_000_000}

// LongWarmup is the default warm-up of the long study: the first 10^8 accesses (start-up:
// loading, the first touches of the program's memory) are left out of every counter.
const LongWarmup = 100_000_000

type longTrace struct {
	rec     *Recording
	label   string
	summary *traces.Summary
}

type longStudy struct {
	opt     LongOptions
	full    []longTrace
	data    []longTrace
	at      map[string]int
	points  []sweep.Point
	results map[string]*sweep.Result
}

func (l *longStudy) add(key string, t longTrace, set map[string]any) error {
	base := map[string]any{"initial": "zero", "page_size": PageSize, "warmup": l.opt.Warmup}
	for k, v := range set {
		base[k] = v
	}
	pagingOnly(base)
	spec := &sweep.Spec{Version: l.opt.Version, Traces: []string{t.rec.Path}, Base: base, CostBase: &l.opt.Costs}
	ps, _, err := spec.Points()
	if err != nil {
		return err
	}
	l.at[key] = len(l.points)
	l.points = append(l.points, ps[0])
	return nil
}

func (l *longStudy) res(key string) *sweep.Result {
	i, ok := l.at[key]
	if !ok {
		panic("long study: no point " + key) // every key looked up is one makePoints added
	}
	return l.results[l.points[i].ID]
}

func (l *longStudy) makePoints() error {
	for _, t := range l.all() {
		for _, n := range LongIntervals {
			if err := l.add(ckey("D", t.label, n), t, map[string]any{"scheme": "dualmap", "interval": n}); err != nil {
				return err
			}
		}
	}
	return nil
}

// all are the recordings of the study: the workloads', then the data-only one(s).
func (l *longStudy) all() []longTrace { return append(append([]longTrace{}, l.full...), l.data...) }

// summarizeRecording describes a recording: from its manifest, which holds the counts
// measured when it was made (a pass over 10^9 accesses is not repeated), else by reading
// it.
func summarizeRecording(r *Recording, label string) (longTrace, error) {
	if m := r.Manifest; m.Accesses > 0 && m.PagesTouched > 0 {
		return longTrace{rec: r, label: label, summary: &traces.Summary{Accesses: m.Accesses, PagesTouched: m.PagesTouched, PagesWritten: m.PagesWritten}}, nil
	}
	f, err := traces.Open(r.Path, traces.Options{})
	if err != nil {
		return longTrace{}, err
	}
	defer f.Close()
	s, err := traces.Summarize(f, traces.SummaryOptions{PageSize: PageSize})
	if err != nil {
		return longTrace{}, fmt.Errorf("%s: %w", r.Path, err)
	}
	return longTrace{rec: r, label: label, summary: s}, nil
}

// newLongStudy makes the long study's points on the recordings.
func newLongStudy(opt LongOptions, full, data []*Recording) (*longStudy, error) {
	if opt.Warmup == 0 {
		opt.Warmup = LongWarmup
	}
	l := &longStudy{opt: opt, at: map[string]int{}}
	for _, r := range full {
		t, err := summarizeRecording(r, r.Manifest.Name)
		if err != nil {
			return nil, err
		}
		if t.summary.Accesses <= opt.Warmup {
			return nil, fmt.Errorf("long study: %s has %d accesses, no more than the warm-up %d", r.Path, t.summary.Accesses, opt.Warmup)
		}
		l.full = append(l.full, t)
	}
	for _, r := range data {
		t, err := summarizeRecording(r, r.Manifest.Name)
		if err != nil {
			return nil, err
		}
		l.data = append(l.data, t)
	}
	if err := l.makePoints(); err != nil {
		return nil, err
	}
	return l, nil
}

// plan declares the study's points to the progress report, weighed by their recordings'
// accesses.
func (l *longStudy) plan() {
	if l.opt.Report == nil {
		return
	}
	acc, label := map[string]float64{}, map[string]string{}
	for _, t := range l.all() {
		acc[t.rec.Path], label[t.rec.Path] = float64(t.summary.Accesses), "the points of "+t.label
	}
	l.opt.Report.plan(longStudyName, uniqPoints(l.points), func(p sweep.Point) float64 { return acc[p.Config.Trace] },
		func(p sweep.Point) string { return label[p.Config.Trace] })
}

// longStudyName names the long study in progress lines.
const longStudyName = "long study"

// run runs the points (keeping those already in the data files) and writes the study.
func (l *longStudy) run() error {
	ropt := Options{Jobs: l.opt.Jobs, Costs: l.opt.Costs, Progress: l.opt.Progress, Version: l.opt.Version, Resume: true,
		Report: l.opt.Report}
	if l.opt.Report != nil {
		ropt.phase = longStudyName
	}
	var err error
	if l.results, err = runPoints(filepath.Join(l.opt.Dir, "data"), l.points, ropt); err != nil {
		return err
	}
	if err := l.write(); err != nil {
		return err
	}
	if l.opt.Report != nil {
		l.opt.Report.written()
	}
	return nil
}

func runLongStudy(opt LongOptions, full, data []*Recording) error {
	l, err := newLongStudy(opt, full, data)
	if err != nil {
		return err
	}
	l.plan()
	return l.run()
}

// longOverhead is a point's overhead in percent, NaN when it took no checkpoint.
func longOverhead(r *sweep.Result) float64 {
	if r.Stats.Checkpoints == 0 {
		return math.NaN()
	}
	return 100 * r.Overhead
}

func (l *longStudy) tables() []*Table {
	t1 := &Table{Name: "long-table1", Title: "Table L1: the recordings",
		Caption: "The recordings replayed whole: program and version, arguments, accesses (instruction fetches included unless data-only) and distinct 4 KiB pages touched and written, as measured when recorded (the manifest).",
		Header:  []string{"trace", "program", "args", "accesses", "pages touched", "pages written", "data only"},
		Right:   []bool{false, false, false, true, true, true, false}}
	for _, t := range l.all() {
		m := t.rec.Manifest
		t1.Rows = append(t1.Rows, []string{t.label, m.ProgramVersion, strings.Join(m.Args, " "), strconv.FormatInt(t.summary.Accesses, 10),
			strconv.FormatInt(t.summary.PagesTouched, 10), strconv.FormatInt(t.summary.PagesWritten, 10), strconv.FormatBool(m.DataOnly)})
	}
	t2 := &Table{Name: "long-table2", Title: "Table L2: overhead of virtual checkpoints on the whole recordings",
		Caption:    fmt.Sprintf("Overhead (modeled time of dualmap over that of none, minus one; non-volatile memory, copy on first write, unlimited frames, no cache) at each interval, after a warm-up of %d accesses: in percent up to 100%% and above it as the slowdown factor; \"no ckpt\": the interval is longer than what is left of the trace, and no checkpoint was taken. The CSV has one row a trace and interval, with the checkpoints taken and a status.", l.opt.Warmup),
		Header:     []string{"trace", "accesses"},
		Right:      []bool{false, true},
		DataHeader: []string{"trace", "interval_accesses", "checkpoints", "overhead_percent", "status"}}
	for _, n := range LongIntervals {
		t2.Header = append(t2.Header, siLabel(float64(n)))
		t2.Right = append(t2.Right, true)
	}
	for _, t := range l.all() {
		row := []string{t.label, siLabel(float64(t.summary.Accesses))}
		for _, n := range LongIntervals {
			r := l.res(ckey("D", t.label, n))
			o := longOverhead(r)
			row = append(row, ovhCell(o/100))
			st := ""
			if math.IsNaN(o) {
				st = "no ckpt"
			}
			t2.Data = append(t2.Data, []string{t.label, strconv.FormatInt(n, 10), strconv.FormatInt(r.Stats.Checkpoints, 10), num(o), st})
		}
		t2.Rows = append(t2.Rows, row)
	}
	return []*Table{t1, t2}
}

// longFigTitle is the long study's figure's title.
const longFigTitle = "Overhead of virtual checkpoints on the whole recordings"

func (l *longStudy) figures() []*Figure {
	f := &Figure{Name: "long-fig1", Title: longFigTitle,
		Caption: fmt.Sprintf("Overhead against the interval after a warm-up of %d accesses; non-volatile memory, unlimited frames; one line a recording, in two panels by footprint (the smaller and the larger half) when there are more than %d. Points with no checkpoint are not drawn.", l.opt.Warmup, MaxPerPanel),
		XLabel:  ivLabel, YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName}
	var names []string
	pages := map[string]int64{}
	for _, t := range l.all() {
		names, pages[t.label] = append(names, t.label), t.summary.PagesTouched
	}
	group := footprintGroups(names, pages)
	for _, t := range l.all() {
		s := Series{Name: t.label, X: ivxs(LongIntervals), Group: group[t.label]}
		for _, n := range LongIntervals {
			s.Y = append(s.Y, longOverhead(l.res(ckey("D", t.label, n))))
		}
		f.Series = append(f.Series, s)
	}
	return []*Figure{f}
}

func (l *longStudy) write() error {
	tables, figs := l.tables(), l.figures()
	if err := writeAll(l.opt.Dir, tables, figs); err != nil {
		return err
	}
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Virtual checkpoints on the whole recordings\n\n")
	p("Generated by `%s` with vmsim %s; every file here is regenerated by running it again\n", l.opt.Command, l.opt.Version)
	p("(the recordings are cached in the folder `--cache` names and reused while their manifest\n")
	p("matches). How each number is computed is in `docs/study.md`.\n\n")
	p("The study's workloads, replayed whole here (the paper's and the comparative study replay\n")
	p("a window of each), and a data-only recording of gzip.\n\n")
	p("## Recordings\n\n")
	var recs []*Recording
	for _, t := range l.all() {
		recs = append(recs, t.rec)
	}
	recordingsTable(&b, recs)
	p("\n## Method\n\nEvery counter leaves out the first %d accesses (`--warmup`): start-up is not steady\n", l.opt.Warmup)
	p("state. Overhead = modeled time of dualmap / that of `none` on the same trace and\n")
	p("settings - 1 (this machine's costs, `cost.Default`, unless `--cost` was given); dualmap\n")
	p("runs as in the paper's study (non-volatile memory, copy on first write, unlimited frames,\n")
	p("no cache). Intervals longer than what follows the warm-up take no checkpoint: marked\n")
	p("`no ckpt`, not drawn.\n\n")
	writeTables(&b, tables)
	p("## Figures\n\n")
	for _, f := range figs {
		p("### %s\n\n%s\n\n![%s](%s.png)\n\n", f.Title, f.Caption, f.Title, f.Name)
	}
	p("## The paper's claim about intervals above 10⁶\n\n")
	var small []claimCase
	for _, t := range l.all() {
		var pts []ivPoint
		for _, n := range LongIntervals {
			r := l.res(ckey("D", t.label, n))
			pts = append(pts, ivPoint{n, r.Overhead, r.Stats.Checkpoints})
		}
		small = append(small, smallCase(t.label, t.summary.Accesses-l.opt.Warmup, pts))
	}
	p("**The overhead becomes very small for intervals above 10⁶ accesses** (below %s at every\n", pct(smallLimit))
	p("interval of 10⁶ or more that took at least two checkpoints), on the whole recordings.\n")
	p("Verdict: %s.\n\n", judge(small))
	for _, t := range l.all() {
		o6 := l.res(ckey("D", t.label, int64(1_000_000)))
		p("- %s: %s at 10⁶; below 5%% from %s, below 1%% from %s.\n", t.label, ovhCell(longOverhead(o6)/100), l.from(t, 5), l.from(t, 1))
	}
	if len(l.data) > 0 && len(l.full) > 0 {
		f, d := l.full[0], l.data[0]
		p("\nCounting only data accesses makes the same program's trace %.1f times shorter, so an\n", float64(f.summary.Accesses)/float64(d.summary.Accesses))
		p("interval of N data accesses spans as much of the run as one of about %.1f·N accesses with\n", float64(f.summary.Accesses)/float64(d.summary.Accesses))
		od := longOverhead(l.res(ckey("D", d.label, int64(1_000_000))))
		of := longOverhead(l.res(ckey("D", f.label, int64(1_000_000))))
		word := "higher"
		if od <= of {
			word = "not higher"
		}
		p("instruction fetches. At an interval of 10⁶ the overhead is %s on the data-only trace:\n", word)
		p("%s against %s.\n", ovhCell(od/100), ovhCell(of/100))
	}
	return atomicfile.WriteFile(filepath.Join(l.opt.Dir, "README.md"), b.Bytes())
}

// recordingsTable writes the Markdown table of recordings: how each was made, with its
// program's version, input and hashes.
func recordingsTable(b *bytes.Buffer, recs []*Recording) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("Each program ran under `vmsim record` (the valgrind tool in the table: vmtrace,\n")
	p("vmsim's own, where it could be built, else lackey) on an input generated by\n")
	p("`reproduce.Workloads` from fixed seeds, in the same clean environment on every machine\n")
	p("(`%s`) and with no signal ignored; a recording is\n", strings.Join(cleanEnv, " "))
	p("then the same each time it is made in one cache folder, but redis's (it seeds its hash\n")
	p("tables from /dev/urandom), and its bytes differ in a folder whose path has another\n")
	p("length (docs/study.md, \"Same bytes\"); footprint is the pages touched × 4 KiB:\n\n")
	p("| trace | program | version | args | input | input sha256 | valgrind | tool | accesses | footprint | trace sha256 |\n|---|---|---|---|---|---|---|---|---:|---:|---|\n")
	for _, r := range recs {
		m := r.Manifest
		in := ""
		if w, err := WorkloadByName(strings.TrimSuffix(m.Name, "-data")); err == nil {
			in = w.Input
		}
		p("| %s | `%s` | %s | `%s` | %s | `%s` | %s | %s | %d | %s | `%s` |\n", m.Name, m.Program, m.ProgramVersion, strings.Join(m.Args, " "), in,
			short(m.InputSHA256), m.Valgrind, m.Tracer, m.Accesses, bytesLabel(m.PagesTouched*PageSize), short(m.SHA256))
	}
}

// short is a hash's first 16 digits.
func short(h string) string { return h[:min(16, len(h))] }

// bytesLabel writes a size for a reader: "1.2 MB", "269 MB".
func bytesLabel(n int64) string {
	switch {
	case n >= 100e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.0f kB", float64(n)/1e3)
}

// from is the smallest interval from which on the overhead (percent) stays below limit.
func (l *longStudy) from(t longTrace, limit float64) string {
	n, ok := smallestBelow(LongIntervals, func(n int64) float64 { return longOverhead(l.res(ckey("D", t.label, n))) }, limit)
	if !ok {
		return "no interval studied"
	}
	return siLabel(float64(n))
}
