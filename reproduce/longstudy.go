package reproduce

import (
	"bytes"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
)

// LongIntervals are the intervals of the long study's virtual-checkpoint runs; the last is
// longer than every trace, to show how such a point is marked.
var LongIntervals = []int64{100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000}

// LongSchemeIntervals are the intervals at which the long study compares other schemes
// (memory-level replay is about 10 times slower than dualmap's, so fewer points).
var LongSchemeIntervals = []int64{10_000_000}

// LongSchemes are the schemes compared with dualmap on the long traces, behind the
// comparative study's cache.
var LongSchemes = []string{"dualmap", "bitmap", "incremental"}

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
	cache := map[string]any{"cache_size": CompareCacheSize, "cache_ways": CompareCacheWays, "cache_line": CompareCacheLine}
	for _, t := range l.full {
		for _, n := range LongIntervals {
			for _, mem := range []string{"nonvolatile", "volatile"} {
				if err := l.add(ckey("D", t.label, mem, n), t, map[string]any{"scheme": "dualmap", "memory": mem, "interval": n}); err != nil {
					return err
				}
			}
		}
		if err := l.add(ckey("none-cache", t.label), t, with(cache, "scheme", "none")); err != nil {
			return err
		}
		for _, sc := range LongSchemes {
			for _, n := range LongSchemeIntervals {
				if err := l.add(ckey("S", t.label, sc, n), t, with(cache, "scheme", sc, "interval", n)); err != nil {
					return err
				}
			}
		}
	}
	for _, t := range l.data {
		for _, n := range LongIntervals {
			if err := l.add(ckey("D", t.label, "nonvolatile", n), t, map[string]any{"scheme": "dualmap", "interval": n}); err != nil {
				return err
			}
		}
	}
	return nil
}

func summarizeRecording(r *Recording, label string) (longTrace, error) {
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

func runLongStudy(opt LongOptions, full, data []*Recording) error {
	if opt.Warmup == 0 {
		opt.Warmup = LongWarmup
	}
	l := &longStudy{opt: opt, at: map[string]int{}}
	for _, r := range full {
		t, err := summarizeRecording(r, r.Manifest.Name)
		if err != nil {
			return err
		}
		if t.summary.Accesses <= opt.Warmup {
			return fmt.Errorf("long study: %s has %d accesses, no more than the warm-up %d", r.Path, t.summary.Accesses, opt.Warmup)
		}
		l.full = append(l.full, t)
	}
	for _, r := range data {
		t, err := summarizeRecording(r, r.Manifest.Name)
		if err != nil {
			return err
		}
		l.data = append(l.data, t)
	}
	if err := l.makePoints(); err != nil {
		return err
	}
	var err error
	ropt := Options{Jobs: opt.Jobs, Costs: opt.Costs, Progress: opt.Progress, Version: opt.Version, Resume: true}
	if l.results, err = runPoints(filepath.Join(opt.Dir, "data"), l.points, ropt); err != nil {
		return err
	}
	return l.write()
}

// longOverhead is a point's overhead in percent, NaN when it took no checkpoint.
func longOverhead(r *sweep.Result) float64 {
	if r.Stats.Checkpoints == 0 {
		return math.NaN()
	}
	return 100 * r.Overhead
}

func (l *longStudy) tables() []*Table {
	t1 := &Table{Name: "long-table1", Title: "Table L1: the long traces",
		Caption: "The recordings: program and version, arguments, input, accesses (instruction fetches included unless data-only) and distinct 4 KiB pages touched and written.",
		Header:  []string{"trace", "program", "args", "accesses", "pages touched", "pages written", "data only"},
		Right:   []bool{false, false, false, true, true, true, false}}
	for _, t := range append(append([]longTrace{}, l.full...), l.data...) {
		m := t.rec.Manifest
		t1.Rows = append(t1.Rows, []string{t.label, m.ProgramVersion, strings.Join(m.Args, " "), strconv.FormatInt(t.summary.Accesses, 10),
			strconv.FormatInt(t.summary.PagesTouched, 10), strconv.FormatInt(t.summary.PagesWritten, 10), strconv.FormatBool(m.DataOnly)})
	}
	t2 := &Table{Name: "long-table2", Title: "Table L2: overhead of virtual checkpoints on the long traces",
		Caption: fmt.Sprintf("Overhead (modeled time of dualmap over that of none, minus one; unlimited frames, no cache) against the interval, after a warm-up of %d accesses; \"no ckpt\": the interval is longer than what is left of the trace, and no checkpoint was taken.", l.opt.Warmup),
		Header:  []string{"interval"}, Right: []bool{true}}
	type col struct {
		t   longTrace
		mem string
	}
	var cols []col
	for _, t := range l.full {
		cols = append(cols, col{t, "nonvolatile"}, col{t, "volatile"})
	}
	for _, t := range l.data {
		cols = append(cols, col{t, "nonvolatile"})
	}
	for _, c := range cols {
		t2.Header = append(t2.Header, c.t.label+" "+memLabel(c.mem))
		t2.Right = append(t2.Right, true)
	}
	for _, n := range LongIntervals {
		row := []string{siLabel(float64(n))}
		for _, c := range cols {
			row = append(row, pctCell(longOverhead(l.res(ckey("D", c.t.label, c.mem, n)))/100))
		}
		t2.Rows = append(t2.Rows, row)
	}
	t3 := &Table{Name: "long-table3", Title: "Table L3: schemes compared on the long traces",
		Caption: "Overhead behind the comparative study's 32 KiB 8-way cache (modeled time over that of none behind the same cache, minus one, by the overhead rule), this machine's costs.",
		Header:  []string{"trace", "scheme"}, Right: []bool{false, false}}
	for _, n := range LongSchemeIntervals {
		t3.Header = append(t3.Header, siLabel(float64(n)))
		t3.Right = append(t3.Right, true)
	}
	for _, t := range l.full {
		base := l.res(ckey("none-cache", t.label))
		for _, sc := range LongSchemes {
			row := []string{t.label, sc}
			for _, n := range LongSchemeIntervals {
				r := l.res(ckey("S", t.label, sc, n))
				o := math.NaN()
				if r.Stats.Checkpoints > 0 {
					o = cost.Overhead(l.opt.Costs.Model, r.Stats, base.Stats, r.Config)
				}
				row = append(row, pctCell(o))
			}
			t3.Rows = append(t3.Rows, row)
		}
	}
	return []*Table{t1, t2, t3}
}

// longFigTitle is the long study's figure's title.
const longFigTitle = "Overhead of virtual checkpoints on the long traces"

// memLabel spells a --memory value for a reader: "non-volatile" or "volatile".
func memLabel(mem string) string {
	if mem == "nonvolatile" {
		return "non-volatile"
	}
	return mem
}

func (l *longStudy) figures() []*Figure {
	f := &Figure{Name: "long-fig1", Title: longFigTitle,
		Caption: fmt.Sprintf("Overhead against the interval after a warm-up of %d accesses; non-volatile and volatile memory, and the data-only recording. Points with no checkpoint are not drawn.", l.opt.Warmup),
		XLabel:  ivLabel, YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName}
	add := func(t longTrace, mem string) {
		s := Series{Name: t.label + ", " + memLabel(mem), X: ivxs(LongIntervals)}
		for _, n := range LongIntervals {
			s.Y = append(s.Y, longOverhead(l.res(ckey("D", t.label, mem, n))))
		}
		f.Series = append(f.Series, s)
	}
	for _, t := range l.full {
		add(t, "nonvolatile")
		add(t, "volatile")
	}
	for _, t := range l.data {
		add(t, "nonvolatile")
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
	p("# Virtual checkpoints on long traces\n\n")
	p("Generated by `%s` with vmsim %s; every file here is regenerated by running it again\n", l.opt.Command, l.opt.Version)
	p("(the recordings are cached in the folder `--cache` names and reused while their manifest\n")
	p("matches). How each number is computed is in `docs/study.md`.\n\n")
	p("## Recordings\n\nEach program ran under `vmsim record` (the valgrind tool in the table: vmtrace,\n")
	p("vmsim's own, where it could be built, else lackey) on an input generated by\n")
	p("`reproduce.LongPrograms`, in a clean environment (`PATH=/usr/bin:/bin LC_ALL=C`, and\n")
	p("`VALGRIND_LIB` naming vmtrace's folder when it records):\n\n")
	p("| trace | program | version | args | input | input sha256 | valgrind | tool | accesses | trace sha256 |\n|---|---|---|---|---|---|---|---|---:|---|\n")
	for _, t := range append(append([]longTrace{}, l.full...), l.data...) {
		m := t.rec.Manifest
		in := ""
		for _, lp := range LongPrograms {
			if strings.HasPrefix(t.label, lp.Name) {
				in = lp.Input
			}
		}
		p("| %s | `%s` | %s | `%s` | %s | `%s` | %s | %s | %d | `%s` |\n", t.label, m.Program, m.ProgramVersion, strings.Join(m.Args, " "), in, m.InputSHA256[:16], m.Valgrind, m.Tracer, m.Accesses, m.SHA256[:16])
	}
	p("\n## Method\n\nEvery counter leaves out the first %d accesses (`--warmup`): start-up is not steady\n", l.opt.Warmup)
	p("state. Overhead = modeled time of the scheme / that of `none` on the same trace and\n")
	p("settings - 1 (this machine's costs, `cost.Default`, unless `--cost` was given).\n")
	p("dualmap runs as in the paper's study (unlimited frames, no cache); the schemes of Table L3\n")
	p("run behind the comparative study's 32 KiB cache. Intervals longer than what follows the\n")
	p("warm-up take no checkpoint: marked `no ckpt`, not drawn.\n\n")
	writeTables(&b, tables)
	p("## Figures\n\n")
	for _, f := range figs {
		p("### %s\n\n%s\n\n![%s](%s.png)\n\n", f.Title, f.Caption, f.Title, f.Name)
	}
	p("## The paper's claim about intervals above 10⁶\n\n")
	for _, t := range l.full {
		for _, mem := range []string{"nonvolatile", "volatile"} {
			o6 := l.res(ckey("D", t.label, mem, int64(1_000_000)))
			p("- %s, %s memory: %s at 10⁶; below 5%% from %s, below 1%% from %s.\n", t.label, memLabel(mem), pctCell(longOverhead(o6)/100),
				l.from(t, mem, 5), l.from(t, mem, 1))
		}
	}
	for _, t := range l.data {
		p("- %s (data accesses only), non-volatile memory: %s at 10⁶; below 5%% from %s, below 1%% from %s.\n", t.label,
			pctCell(longOverhead(l.res(ckey("D", t.label, "nonvolatile", int64(1_000_000))))/100), l.from(t, "nonvolatile", 5), l.from(t, "nonvolatile", 1))
	}
	if len(l.data) > 0 && len(l.full) > 0 {
		f, d := l.full[0], l.data[0]
		p("\nCounting only data accesses makes the same program's trace %.1f times shorter, so an\n", float64(f.summary.Accesses)/float64(d.summary.Accesses))
		p("interval of N data accesses spans as much of the run as one of about %.1f·N accesses with\n", float64(f.summary.Accesses)/float64(d.summary.Accesses))
		od := longOverhead(l.res(ckey("D", d.label, "nonvolatile", int64(1_000_000))))
		of := longOverhead(l.res(ckey("D", f.label, "nonvolatile", int64(1_000_000))))
		word := "higher"
		if od <= of {
			word = "not higher"
		}
		p("instruction fetches. At an interval of 10⁶ the overhead is %s on the data-only trace:\n", word)
		p("%s against %s.\n", pctCell(od/100), pctCell(of/100))
	}
	return atomicfile.WriteFile(filepath.Join(l.opt.Dir, "README.md"), b.Bytes())
}

// from is the smallest interval from which on the overhead (percent) stays below limit.
func (l *longStudy) from(t longTrace, mem string, limit float64) string {
	best := "no interval studied"
	for i := len(LongIntervals) - 1; i >= 0; i-- {
		o := longOverhead(l.res(ckey("D", t.label, mem, LongIntervals[i])))
		if math.IsNaN(o) {
			continue
		}
		if o >= limit {
			break
		}
		best = siLabel(float64(LongIntervals[i]))
	}
	return best
}
