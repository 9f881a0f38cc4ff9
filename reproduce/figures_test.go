package reproduce

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

// tinyCompare runs the comparative study's points on two tiny traces of different
// lengths (60 and 40 checkpoints at interval 1000) and returns its state.
func tinyCompare(t *testing.T) *compare { t.Helper(); return tinyComparePeriods(t, nil) }

// tinyComparePeriods is tinyCompare at the given periods (nil: smallGrids').
func tinyComparePeriods(t *testing.T, periods []int64) *compare {
	t.Helper()
	smallGrids(t)
	if periods != nil {
		ComparePeriods = periods
	}
	tr1, tr2 := tinyTrace(t, 60_000, 40), tinyTrace(t, 40_000, 24)
	dir := t.TempDir()
	s := &study{opt: Options{Dir: dir, Corpus: []string{}, Traces: []string{tr1, tr2}, Costs: cost.DefaultSet(), Version: "test", Intervals: []int64{1000}}, at: map[[3]string]int{}}
	if err := s.collectTraces(); err != nil {
		t.Fatal(err)
	}
	c, err := newCompare(s.opt, s.traces)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.runFirst(); err != nil {
		t.Fatal(err)
	}
	if c.results, err = runPoints(filepath.Join(dir, "data"), c.points, c.opt); err != nil {
		t.Fatal(err)
	}
	return c
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestEverySchemeStudied: every registered scheme that keeps checkpoints is in the
// comparative study, with a family, in every per-scheme table (with its numbers or a
// status saying why not) and in every figure that compares all schemes. It iterates the
// registry, so a scheme registered and left out of the study fails it.
func TestEverySchemeStudied(t *testing.T) {
	c := tinyCompare(t)
	tables := map[string]*Table{}
	for _, tb := range []*Table{c.tableSchemes(), c.tableVolumes(), c.tableRecovery(), c.tableOptimum(), c.tableGranule()} {
		tables[tb.Name] = tb
	}
	figs := map[string]*Figure{}
	for _, f := range c.figures() {
		figs[f.Name] = f
	}
	families := map[string]bool{}
	for _, info := range builtin.Infos() {
		if !info.RecoversTransient && !info.RecoversCrash {
			continue // none: the baseline, which keeps no checkpoints
		}
		t.Run(info.Name, func(t *testing.T) {
			var mine []cmpScheme
			for _, sc := range cmpSchemes() {
				if sc.set["scheme"] == info.Name {
					mine = append(mine, sc)
				}
			}
			if len(mine) == 0 {
				t.Fatalf("scheme %s is registered but not in the comparative study", info.Name)
			}
			if _, ok := familyOf[info.Name]; !ok {
				t.Errorf("scheme %s has no family (familyOf): its panel would be \"other\"", info.Name)
			}
			for _, sc := range mine {
				families[sc.family] = families[sc.family] || sc.validate
				for name, tb := range tables {
					rows := readCSV(t, mustCSV(t, tb))
					if !slices.ContainsFunc(rows[1:], func(r []string) bool { return r[0] == sc.label }) {
						t.Errorf("%s: no row for %s", name, sc.label)
					}
				}
				for _, name := range []string{"cmp-fig1", "cmp-fig2", "cmp-fig3", "cmp-fig4", "cmp-fig5", "cmp-fig7", "cmp-fig8", "cmp-fig9"} {
					if !slices.ContainsFunc(figs[name].Series, func(s Series) bool { return s.Name == sc.label }) {
						t.Errorf("%s: no series %s", name, sc.label)
					}
				}
			}
		})
	}
	for fam, v := range families {
		if !v {
			t.Errorf("family %s has no scheme in the failure runs", fam)
		}
	}
}

func mustCSV(t *testing.T, tb *Table) []byte {
	t.Helper()
	b, err := tb.CSV()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// textColumns are the CSV columns of the tables that hold words, not numbers.
var textColumns = map[string]bool{"scheme": true, "family": true, "survives": true, "trace": true, "status": true,
	"among": true, "cost_set": true, "cost": true, "series": true}

// TestTablesNumericCSV: every column of a table's CSV but the named words holds a plain
// number, or nothing with a status saying why.
func TestTablesNumericCSV(t *testing.T) {
	c := tinyCompare(t)
	tables := []*Table{c.tableSchemes(), c.tableVolumes(), c.tableRecovery(), c.tableOptimum(), c.tableWinners(), c.tableGranule(), c.tableCostSets()}
	for _, f := range c.figures() {
		tables = append(tables, figureData(f))
	}
	for _, tb := range tables {
		t.Run(tb.Name, func(t *testing.T) {
			rows := readCSV(t, mustCSV(t, tb))
			head := rows[0]
			st := slices.Index(head, "status")
			for _, r := range rows[1:] {
				for i, cell := range r {
					if textColumns[head[i]] || (i == 0 && strings.HasPrefix(tb.Name, "cmp-fig")) {
						continue
					}
					if cell == "" {
						if st < 0 || r[st] == "" {
							t.Errorf("row %v: column %s empty with no status", r, head[i])
						}
						continue
					}
					if _, err := strconv.ParseFloat(cell, 64); err != nil {
						t.Errorf("row %v: column %s holds %q, not a number", r, head[i], cell)
					}
				}
			}
		})
	}
}

// TestPerCheckpointMean: what a checkpoint moves is the mean over the traces of each
// trace's mean over its checkpoints, not the sum over the traces over the sum of their
// checkpoints, which weighs a trace by its number of checkpoints.
func TestPerCheckpointMean(t *testing.T) {
	c := tinyCompare(t)
	n := ComparePeriods[0]
	for _, sc := range cmpSchemes() {
		t.Run(sc.key, func(t *testing.T) {
			var means []float64
			var k int64
			for _, tr := range c.traces {
				r := c.res(ckey("A", tr.name, sc.key, n))
				k += r.Stats.Checkpoints
				means = append(means, float64(moved(r.Stats))/float64(r.Stats.Checkpoints))
			}
			got, gk := c.perCheckpoint(sc, n, moved)
			want := (means[0] + means[1]) / 2
			if math.Abs(got-want) > 1e-9*math.Max(1, want) || gk != k {
				t.Errorf("per checkpoint %g over %d checkpoints, want %g over %d", got, gk, want, k)
			}
		})
	}
}

// csvSeries are the series named in a figure's CSV, and how many of each one's points
// have a number.
func csvSeries(t *testing.T, f *Figure) map[string]int {
	rows := readCSV(t, mustCSV(t, figureData(f)))
	out := map[string]int{}
	for _, r := range rows[1:] {
		if _, ok := out[r[0]]; !ok {
			out[r[0]] = 0
		}
		if r[3] == "" {
			out[r[0]]++
		}
	}
	return out
}

// TestFiguresDrawEverySeries: every series a figure's CSV names is drawn (in the
// legend), with exactly the points the CSV gives a number and no status (no "no ckpt"
// point is drawn); no panel has more than MaxPerPanel series; every series of a panel has
// its own colour, and every scheme its own colour, marker and dash across figures.
func TestFiguresDrawEverySeries(t *testing.T) {
	c := tinyCompare(t)
	for _, f := range c.figures() {
		t.Run(f.Name, func(t *testing.T) {
			want := csvSeries(t, f)
			drawn, err := f.drawn()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for n := range want {
				names = append(names, n)
			}
			slices.Sort(names)
			got := slices.Sorted(slices.Values(drawn))
			if !slices.Equal(got, names) {
				t.Errorf("drawn %v, the CSV names %v", got, names)
			}
			floor := f.floor()
			groups := map[string][]color.Color{}
			for i, ser := range f.Series {
				if n := len(f.xys(ser, floor)); n != want[ser.Name] {
					t.Errorf("%s: %d points drawn, the CSV has %d with a number", ser.Name, n, want[ser.Name])
				}
				for k, sc := range cmpSchemes() {
					if sc.label == ser.Name && ser.style(i) != k {
						t.Errorf("%s: style %d, not its scheme's (%d): a scheme looks different from one figure to the next", ser.Name, ser.style(i), k)
					}
				}
				col, _, _ := style(ser.style(i))
				g := ser.Group
				if !f.paneled() {
					g = ""
				}
				if slices.ContainsFunc(groups[g], func(x color.Color) bool { return x == col }) {
					t.Errorf("%s: two series of one panel share a colour", ser.Name)
				}
				groups[g] = append(groups[g], col)
			}
			for g, cs := range groups {
				if len(cs) > MaxPerPanel {
					t.Errorf("panel %q draws %d series", g, len(cs))
				}
			}
			if _, _, _, err := f.Render(); err != nil {
				t.Fatal(err)
			}
		})
	}
	seen := map[string]string{}
	for i := range cmpSchemes() {
		col, shape, dash := style(styleOf(cmpSchemes()[i].key) - 1)
		k := fmt.Sprint(col, shape, dash)
		if seen[k] != "" {
			t.Errorf("%s and %s look the same", seen[k], cmpSchemes()[i].label)
		}
		seen[k] = cmpSchemes()[i].label
	}
	if len(cmpSchemes()) > len(palette) {
		t.Errorf("%d schemes, %d colours", len(cmpSchemes()), len(palette))
	}
}

// TestFigureTextPlain: no figure's title, labels or series name carries a command-line
// flag, a caret exponent or a superscript digit of U+2070..U+209F (the figures' font has
// no glyph for them, and the plot drops them: "10⁹" was drawn "10"), and "non-volatile"
// is spelled one way.
func TestFigureTextPlain(t *testing.T) {
	c := tinyCompare(t)
	// The long study's figure, on a recording with empty results.
	rec := &Recording{Path: tinyTrace(t, 1000, 4), Manifest: RecordingManifest{Name: "gzip", Accesses: 1000, PagesTouched: 4}}
	l, err := newLongStudy(LongOptions{Version: "test", Costs: cost.DefaultSet(), Warmup: 1}, []*Recording{rec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.results = map[string]*sweep.Result{}
	for _, p := range l.points {
		l.results[p.ID] = &sweep.Result{}
	}
	for _, f := range append(c.figures(), l.figures()...) {
		texts := []string{f.Title, f.XLabel, f.YLabel}
		for _, s := range f.Series {
			texts = append(texts, s.Name)
		}
		for _, x := range texts {
			super := strings.ContainsFunc(x, func(r rune) bool { return r >= 0x2070 && r <= 0x209F })
			if super || strings.Contains(x, "--") || strings.Contains(x, "^") || strings.Contains(x, "nonvolatile") {
				t.Errorf("%s: %q", f.Name, x)
			}
		}
	}
}

// TestOverheadTicks: an overhead axis is labelled in percent up to 100% and in slowdown
// factors above it.
func TestOverheadTicks(t *testing.T) {
	for _, c := range []struct {
		name   string
		lo, hi float64
		want   []string
	}{
		{"wide", 0.5, 2e6, []string{"1%", "10%", "100%", "×10", "×100", "×1000", "×10000"}},
		{"small", 0.3, 80, []string{"1%", "10%"}},
		{"narrow", 150, 1500, []string{"×5", "×10"}},
		{"below ×10", 1, 600, []string{"1%", "10%", "100%", "×5"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, tk := range (overheadTicks{}).Ticks(c.lo, c.hi) {
				if tk.Label != "" {
					got = append(got, tk.Label)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("labels %v, want %v", got, c.want)
			}
		})
	}
	for _, c := range []struct {
		x    float64
		want string
	}{{0.05, "5.00%"}, {1, "100.0%"}, {1.5, "×2.50"}, {13.9, "×14.9"}, {14850, "×14851"}} {
		if got := ovh(c.x); got != c.want {
			t.Errorf("ovh(%g) = %q, want %q", c.x, got, c.want)
		}
	}
}

// TestZeroOnLogAxis: a series of zeros on a log axis (blockstate's bytes moved) is drawn
// on the axis's floor, labelled 0, and in the legend.
func TestZeroOnLogAxis(t *testing.T) {
	f := &Figure{Name: "z", LogY: true, Series: []Series{{Name: "a", X: []float64{10, 100}, Y: []float64{3000, 50}}, {Name: "zero", X: []float64{10, 100}, Y: []float64{0, 0}}}}
	drawn, err := f.drawn()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(drawn, []string{"a", "zero"}) {
		t.Errorf("drawn %v", drawn)
	}
	if fl := f.floor(); fl != 1 {
		t.Errorf("floor %g, want 1 (a decade below 50, rounded down)", fl)
	}
	p, _, err := f.plot()
	if err != nil {
		t.Fatal(err)
	}
	ts := p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max)
	if ts[0].Value != 1 || ts[0].Label != "0" {
		t.Errorf("first tick %+v, want 0 at 1", ts[0])
	}
}

// TestMemFractionNoCkpt: the memory overhead of an interval at which some trace took no
// checkpoint is not measured (cmp-fig5 drew it).
func TestMemFractionNoCkpt(t *testing.T) {
	c := tinyCompare(t)
	last := ComparePeriods[len(ComparePeriods)-1] // longer than both traces
	for _, sc := range cmpSchemes() {
		if m := c.memFraction(sc, last); !math.IsNaN(m) {
			t.Errorf("%s: memory overhead %g at an interval with no checkpoint", sc.key, m)
		}
		if b, _ := c.perCheckpoint(sc, last, func(s sim.Stats) int64 { return s.BytesCopied }); !math.IsNaN(b) {
			t.Errorf("%s: bytes per checkpoint %g with no checkpoint", sc.key, b)
		}
	}
}

// TestReadmeLinksOnlyWhatIsThere: the paper study's README links to long/ only when the
// folder holds the long study, and to compare/ only when it is written too.
func TestReadmeLinksOnlyWhatIsThere(t *testing.T) {
	tr := tinyTrace(t, 20_000, 16)
	dir := t.TempDir()
	opt := Options{Dir: dir, Corpus: []string{}, Traces: []string{tr}, Intervals: []int64{1000}, Costs: cost.DefaultSet(),
		Command: "vmsim reproduce (test)", Version: "test", Study: "paper"}
	readme := func() string {
		if err := Run(opt); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	r := readme()
	if strings.Contains(r, "long/README.md") || strings.Contains(r, "compare/README.md") || strings.Contains(r, "multicore/") {
		t.Errorf("README links to folders it did not write:\n%s", r)
	}
	if !strings.Contains(r, "vmsim reproduce --study long") {
		t.Error("README does not say how to make the long study")
	}
	for _, sub := range []string{"long", "compare", "multicore"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sub, "README.md"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = readme()
	if !strings.Contains(r, "(long/README.md)") || !strings.Contains(r, "(compare/README.md)") || !strings.Contains(r, "(multicore/README.md)") {
		t.Errorf("README does not link to the studies beside it:\n%s", r)
	}
}

// TestLinTicks: a linear axis is labelled at round values.
func TestLinTicks(t *testing.T) {
	for _, c := range []struct {
		name   string
		lo, hi float64
		want   []string
	}{
		{"fraction", 0, 0.35, []string{"0", "0.1", "0.2", "0.3"}},
		{"thousands", 0, 1234, []string{"0", "500", "1k"}},
		{"offset", 3, 17, []string{"5", "10", "15"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, tk := range (linTicks{}).Ticks(c.lo, c.hi) {
				if tk.Label != "" {
					got = append(got, tk.Label)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("labels %v, want %v", got, c.want)
			}
		})
	}
}

// TestFigureMeansOverOneSet: the figures against the period draw only the periods most of
// the traces fit in, each point a mean over the same traces (those every drawn period
// fits in), and their captions say so; the tables keep the period fewer traces fit in.
func TestFigureMeansOverOneSet(t *testing.T) {
	// About 25, 250 and 48,000 accesses on these traces: the last fits the longer one only.
	c := tinyComparePeriods(t, []int64{2, 20, 4000})
	long, short := c.traces[0], c.traces[1]
	if !c.covers(long, 4000) || c.covers(short, 4000) {
		t.Fatalf("4 ms: fits %v and %v, want the first trace only (intervals %d and %d)", c.covers(long, 4000), c.covers(short, 4000), c.interval(long, 4000), c.interval(short, 4000))
	}
	if got := c.figPeriods(); !slices.Equal(got, []int64{2, 20}) {
		t.Fatalf("figure periods %v, want [2 20]", got)
	}
	figs := c.figures()
	for _, f := range figs[:5] { // the three overhead figures, bytes and memory per checkpoint
		for _, s := range f.Series {
			if len(s.X) != 2 {
				t.Errorf("%s, %s: %d periods drawn, want 2", f.Name, s.Name, len(s.X))
			}
		}
		if !strings.Contains(f.Caption, "the same 2 traces") || !strings.Contains(f.Caption, "4 ms, which no more than half the traces fit in, only in the tables") {
			t.Errorf("%s: caption does not say which traces and periods: %q", f.Name, f.Caption)
		}
	}
	if c.figTraces != nil {
		t.Error("the figures' restriction outlived them")
	}
	tb := c.tableSchemes()
	if !strings.Contains(strings.Join(tb.Header, ","), "4 ms (1)") {
		t.Errorf("Table C1 lost the period one trace fits in: %q", tb.Header)
	}
}

// TestDodge: markers of several series in one place are drawn side by side along x, in
// series order, centred on their x; the other markers stay where they are, as do a
// series' own markers among themselves.
func TestDodge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		linX  bool
		logY  bool
		ser   []Series
		moved map[[2]int]float64 // series, point -> x drawn (others: their x)
	}{{
		name: "two equal lines, log axes",
		logY: true,
		ser: []Series{
			{Name: "a", X: []float64{1, 10}, Y: []float64{5, 7}},
			{Name: "b", X: []float64{1, 10}, Y: []float64{5, 7}},
			{Name: "c", X: []float64{1, 10}, Y: []float64{50, 70}},
		},
		moved: map[[2]int]float64{
			{0, 0}: math.Pow(10, -1.0/80), {1, 0}: math.Pow(10, 1.0/80),
			{0, 1}: 10 * math.Pow(10, -1.0/80), {1, 1}: 10 * math.Pow(10, 1.0/80),
		},
	}, {
		name: "three in one place, each within a 200th of the axis of the next, linear",
		linX: true,
		ser: []Series{
			{Name: "a", X: []float64{0, 100}, Y: []float64{10, 1000}},
			{Name: "b", X: []float64{100}, Y: []float64{996}},
			{Name: "c", X: []float64{100}, Y: []float64{1004}},
			{Name: "d", X: []float64{100}, Y: []float64{900}},
		},
		moved: map[[2]int]float64{{0, 1}: 99, {2, 0}: 101},
	}, {
		name: "a series' own points in one place stay",
		linX: true,
		ser: []Series{
			{Name: "a", X: []float64{1, 1, 2}, Y: []float64{3, 3, 4}},
			{Name: "b", X: []float64{2}, Y: []float64{9}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Figure{Name: "dodge", LinX: tc.linX, LogY: tc.logY, Series: tc.ser}
			floor := f.floor()
			xmin, xmax, ymin, ymax := f.bounds(floor)
			pts := f.dodged(f.Series, floor, xmin, xmax, ymin, ymax)
			for i, s := range tc.ser {
				for k := range s.X {
					want, ok := tc.moved[[2]int{i, k}]
					if !ok {
						want = s.X[k]
					}
					if got := pts[i][k]; math.Abs(got.X-want) > 1e-9*math.Max(1, want) || got.Y != s.Y[k] {
						t.Errorf("series %s point %d drawn at (%g, %g), want (%g, %g)", s.Name, k, got.X, got.Y, want, s.Y[k])
					}
				}
			}
		})
	}
}
