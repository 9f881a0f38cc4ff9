package reproduce

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/interval"
	"github.com/vmsim/vmsim/traces"
)

func TestCostSetsValidate(t *testing.T) {
	sets := CostSets()
	names := map[string]bool{}
	for _, cs := range sets {
		t.Run(cs.Name, func(t *testing.T) {
			if err := cs.Validate(); err != nil {
				t.Fatal(err)
			}
			names[cs.Name] = true
		})
	}
	for _, want := range []string{"measured", "hw-assisted", "1992"} {
		if !names[want] {
			t.Errorf("no cost set %s", want)
		}
	}
	if sets[0].Model != cost.Default() {
		t.Error("the measured set is not cost.Default")
	}
	bad := sets[1]
	bad.Sources = map[string]string{}
	for k, v := range sets[1].Sources {
		bad.Sources[k] = v
	}
	delete(bad.Sources, "trap_ns")
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "trap_ns") {
		t.Errorf("a set without a source for trap_ns: %v", err)
	}
	bad.Sources["trap_ns"], bad.Sources["warp_ns"] = "x", "y"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "warp_ns") {
		t.Errorf("a source for a cost that does not exist: %v", err)
	}
	neg := sets[2]
	neg.Model.TrapNs = -1
	if err := neg.Validate(); err == nil {
		t.Error("a negative trap cost validates")
	}
	// The hardware-assisted set is cheaper than this machine in every trap and copy, and
	// 1992's dearer: the orders the study's conclusions rest on.
	if !(sets[1].Model.TrapNs < sets[0].Model.TrapNs && sets[0].Model.TrapNs < sets[2].Model.TrapNs) {
		t.Error("trap costs out of order")
	}
	if !(sets[1].Model.CopyBytesPerSec > sets[0].Model.CopyBytesPerSec && sets[0].Model.CopyBytesPerSec > sets[2].Model.CopyBytesPerSec) {
		t.Error("copy bandwidths out of order")
	}
}

func TestSILabel(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{100, "100"}, {1000, "1k"}, {3e6, "3M"}, {1e10, "10G"}, {0.01, "0.01"}, {1024, "1.02k"}, {0, "0"}} {
		t.Run(c.want, func(t *testing.T) {
			if got := siLabel(c.v); got != c.want {
				t.Errorf("siLabel(%g) = %q, want %q", c.v, got, c.want)
			}
		})
	}
}

func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		name     string
		lo, hi   float64
		labelled []string
	}{
		{"decades", 100, 1e7, []string{"100", "1k", "10k", "100k", "1M", "10M"}},
		{"narrow", 100, 2000, []string{"100", "200", "500", "1k", "2k"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, tk := range (logTicks{}).Ticks(c.lo, c.hi) {
				if tk.Label != "" {
					got = append(got, tk.Label)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.labelled, ",") {
				t.Errorf("labels %v, want %v", got, c.labelled)
			}
		})
	}
}

func TestFigureRender(t *testing.T) {
	f := &Figure{Name: "f", Title: "t", XLabel: "interval (accesses)", YLabel: "overhead (%)", LogY: true, RefLines: refLines, RefName: "1% and 5%",
		Series: []Series{{Name: "a", X: []float64{100, 1000, 1e4}, Y: []float64{50, 3, math.NaN()}}, {Name: "b", X: []float64{100, 1000, 1e4}, Y: []float64{0, 2, 0.5}}}}
	svg, png, pdf, err := f.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || !bytes.Contains(svg, []byte("<svg")) || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Error("not an SVG, PNG and PDF")
	}
	if bytes.Contains(pdf, []byte("(MISSING)")) || bytes.Contains(svg, []byte("MISSING")) {
		t.Error("a label was misformatted")
	}
	svg2, png2, pdf2, _ := f.Render()
	if !bytes.Equal(svg, svg2) || !bytes.Equal(png, png2) || !bytes.Equal(pdf, pdf2) {
		t.Error("the same figure gives different bytes")
	}
	// Its data: the unmeasured point is marked.
	c, err := figureData(f).CSV()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c), "a,10000,,no ckpt\n") || !strings.HasPrefix(string(c), "series,interval (accesses),overhead (%),status\n") {
		t.Errorf("figure data:\n%s", c)
	}
	empty := &Figure{Name: "e", Series: []Series{{Name: "a", X: []float64{1}, Y: []float64{math.NaN()}}}}
	if _, _, _, err := empty.Render(); err == nil {
		t.Error("a figure with nothing to draw renders")
	}
}

func TestTableWriters(t *testing.T) {
	tb := &Table{Name: "t", Title: "T", Caption: "50% of a_b", Header: []string{"x", "y|z"}, Right: []bool{false, true},
		Rows: [][]string{{"a&b", "1"}, {"c", "no ckpt"}}}
	txt, err := tb.Text()
	if err != nil {
		t.Fatal(err)
	}
	cv, err := tb.CSV()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"text", string(txt), "a&b"},
		{"markdown", string(tb.Markdown()), "| x | y\\|z |\n|---|---:|\n"},
		{"csv", string(cv), "x,y|z\na&b,1\nc,no ckpt\n"},
		{"latex", string(tb.LaTeX()), `\caption{50\% of a\_b}`},
		{"latex cell", string(tb.LaTeX()), `a\&b & 1 \\`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(c.got, c.want) {
				t.Errorf("%s lacks %q:\n%s", c.name, c.want, c.got)
			}
		})
	}
}

// tinyTrace writes an rw trace of n accesses over a few pages: a loop that reads a
// window and writes one page in four, deterministic.
func tinyTrace(t *testing.T, n int, pages uint64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny.rw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	x := uint64(1)
	for i := range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		page := x % pages
		addr := 0x10000 + page*4096 + (x>>20)%4096&^7
		kind := "R"
		if i%4 == 0 && page%4 == 0 {
			kind = "W"
		}
		fmt.Fprintf(w, "%x %s\n", addr, kind)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// smallGrids shrinks the comparative study's grids for a test and restores them after.
func smallGrids(t *testing.T) {
	ci, vi, g, vs, gi, si := ComparePeriods, ValidationIntervals, Granules, ValidationSeeds, GranuleInterval, SensitivityInterval
	// Periods in µs, for traces of tens of thousands of accesses, about 100 µs of modeled
	// time: the last is longer than them.
	ComparePeriods = []int64{2, 20, 10_000}
	GranuleInterval, SensitivityInterval = 20, 20
	ValidationIntervals = []int64{300, 1000, 3000, 10_000}
	Granules = []int64{64, 4096}
	ValidationSeeds = []uint64{1}
	t.Cleanup(func() {
		ComparePeriods, ValidationIntervals, Granules, ValidationSeeds, GranuleInterval, SensitivityInterval = ci, vi, g, vs, gi, si
	})
}

// TestCompareTiny runs the comparative study on two tiny traces, twice, and checks the
// files, their determinism, the no-checkpoint marks, and the optimal intervals against the
// interval package fed with the checkpoint cost the study measured.
func TestCompareTiny(t *testing.T) {
	smallGrids(t)
	tr1, tr2 := tinyTrace(t, 60_000, 40), tinyTrace(t, 40_000, 24)
	run := func(dir string, jobs int) {
		opt := Options{Dir: dir, Corpus: []string{}, Traces: []string{tr1, tr2}, Jobs: jobs, Costs: cost.DefaultSet(),
			Command: "vmsim reproduce (test)", Version: "test", Study: "compare", Intervals: []int64{1000, 10_000}}
		if err := Run(opt); err != nil {
			t.Fatal(err)
		}
	}
	a, b := t.TempDir(), t.TempDir()
	run(a, 1)
	run(b, 2)
	entries, err := os.ReadDir(filepath.Join(a, "compare"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		n++
		x, _ := os.ReadFile(filepath.Join(a, "compare", e.Name()))
		y, _ := os.ReadFile(filepath.Join(b, "compare", e.Name()))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs or is empty", e.Name())
		}
	}
	if n != 9*4+10*4+1 {
		t.Errorf("%d files, want %d", n, 9*4+10*4+1)
	}
	t1, _ := os.ReadFile(filepath.Join(a, "compare", "cmp-table1.csv"))
	if !strings.Contains(string(t1), "no ckpt") {
		t.Errorf("the 10^6 interval, longer than both traces, is not marked:\n%s", t1)
	}
	readme, _ := os.ReadFile(filepath.Join(a, "compare", "README.md"))
	for _, want := range []string{"## Conclusions", "cheapest", "Young", "hardware-assisted"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(a, "table1.md")); err == nil {
		t.Error("--study compare wrote the paper's study too")
	}
}

// TestOptimumTiny rebuilds the comparative study's state on a tiny trace and checks each
// prediction against the formulas applied by hand to the measured costs.
func TestOptimumTiny(t *testing.T) {
	smallGrids(t)
	tr := tinyTrace(t, 60_000, 40)
	dir := t.TempDir()
	s := &study{opt: Options{Dir: dir, Corpus: []string{}, Traces: []string{tr}, Costs: cost.DefaultSet(), Version: "test", Intervals: []int64{1000}}, at: map[[3]string]int{}}
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
	for _, sc := range cmpSchemes() {
		if !sc.validate {
			continue
		}
		t.Run(sc.key, func(t *testing.T) {
			o := c.optimumOf(s.traces[0], sc)
			if !o.ok {
				t.Skipf("no prediction: %s", o.note)
			}
			y, _ := interval.Young(interval.Seconds(o.deltaNs/1e9), interval.Seconds(o.mtbfNs/1e9))
			d, _ := interval.Daly(interval.Seconds(o.deltaNs/1e9), interval.Seconds(o.mtbfNs/1e9))
			if got, want := o.young, float64(y)*1e9/o.accessNs; math.Abs(got-want) > 1e-9*want {
				t.Errorf("Young %g accesses, want %g", got, want)
			}
			if got, want := o.daly, float64(d)*1e9/o.accessNs; math.Abs(got-want) > 1e-9*want {
				t.Errorf("Daly %g accesses, want %g", got, want)
			}
			// sqrt(2 delta M) by hand.
			if hand := math.Sqrt(2*o.deltaNs*o.mtbfNs) / o.accessNs; math.Abs(hand-o.young) > 1e-6*hand {
				t.Errorf("Young %g, by hand %g", o.young, hand)
			}
			if o.youngLoss < 0 || o.dalyLoss < 0 {
				t.Errorf("a loss below 0: the best interval is not the best (%g, %g)", o.youngLoss, o.dalyLoss)
			}
			if !slices.Contains(o.plan.grid, o.best) || o.lo > o.best || o.best > o.hi {
				t.Errorf("best interval %d not on the grid %v or outside its interval [%d, %d]", o.best, o.plan.grid, o.lo, o.hi)
			}
			if r := o.deltaNs / o.mtbfNs; r < deltaRatioLow || r > deltaRatioHigh || o.failures < minFailures/2 {
				t.Errorf("δ/M %g, %g failures a run: outside the regime", r, o.failures)
			}
		})
	}
}

// ioTrace writes a vmt trace: the accesses of tinyTrace(n, pages) with an output record
// after each access count in outputsAt.
func ioTrace(t *testing.T, n int, pages uint64, outputsAt []int64) string {
	t.Helper()
	f, err := traces.Open(tinyTrace(t, n, pages), traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []traces.Record
	buf := make([]traces.Record, 4096)
	for {
		k, err := f.Read(buf)
		recs = append(recs, buf[:k]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var out []traces.Record
	j := 0
	for i := int64(0); i <= int64(len(recs)); i++ {
		for j < len(outputsAt) && outputsAt[j] == i {
			out = append(out, traces.Record{Kind: traces.Output, Addr: 1, Size: 10})
			j++
		}
		if i < int64(len(recs)) {
			out = append(out, recs[i])
		}
	}
	p := filepath.Join(t.TempDir(), "io.vmt")
	var b bytes.Buffer
	w, err := traces.NewVMTWriter(&b, traces.VMTOptions{Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(out); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOutputDelayTiny runs the comparative study on a trace with output records at known
// places and checks Table C8's waits against the rule worked out by hand: an output after
// `at` accesses is released by the checkpoint at the next multiple of the interval above
// `at`, or is still held at the end when the trace ends first.
func TestOutputDelayTiny(t *testing.T) {
	smallGrids(t)
	const n = 60_000
	outs := []int64{0, 999, 1000, 1001, 25_000, 39_999, 59_999}
	tr := ioTrace(t, n, 40, outs)
	dir := t.TempDir()
	opt := Options{Dir: dir, Corpus: []string{}, Traces: []string{tr}, Costs: cost.DefaultSet(),
		Command: "vmsim reproduce (test)", Version: "test", Study: "compare", Intervals: []int64{1000}}
	s := &study{opt: opt, at: map[[3]string]int{}}
	if err := s.collectTraces(); err != nil {
		t.Fatal(err)
	}
	if got := s.traces[0].summary.Outputs; got != int64(len(outs)) {
		t.Fatalf("summary: %d outputs, want %d", got, len(outs))
	}
	c, err := newCompare(opt, s.traces)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.runFirst(); err != nil {
		t.Fatal(err)
	}
	if c.results, err = runPoints(filepath.Join(dir, "data"), c.points, c.opt); err != nil {
		t.Fatal(err)
	}
	for _, p := range ComparePeriods {
		iv := c.interval(s.traces[0], p)
		var sum, released int64
		for _, at := range outs {
			if next := (at/iv + 1) * iv; next <= n {
				sum += next - at
				released++
			}
		}
		for _, sc := range cmpSchemes() {
			t.Run(fmt.Sprintf("%s/%d", sc.key, iv), func(t *testing.T) {
				d := c.outputDelay(s.traces[0], sc, p)
				if released == 0 {
					if d.ok {
						t.Errorf("no output can be released, got %+v", d)
					}
					return
				}
				if !d.ok || d.released != released || d.held != int64(len(outs))-released {
					t.Fatalf("released %d held %d ok %v, want released %d of %d", d.released, d.held, d.ok, released, len(outs))
				}
				if want := float64(sum) / float64(released); d.accesses != want {
					t.Errorf("mean wait %g accesses, want %g", d.accesses, want)
				}
				// In time: the wait at none's speed plus the checkpoint cost, priced from the
				// runs' cost breakdowns.
				m := cost.Default()
				base, r := c.res(ckey("none", s.traces[0].name)), c.res(ckey("A", s.traces[0].name, sc.key, p))
				cmp := cost.Compare(m, r.Stats, base.Stats, r.Config)
				perAccess := cmp.Baseline.Total / float64(base.Stats.Refs)
				ckpt := (cmp.Run.Total - cmp.Baseline.Total) / float64(r.Stats.Checkpoints)
				if want := d.accesses*perAccess + ckpt; math.Abs(d.ns-want) > 1e-9*want {
					t.Errorf("delay %g ns, want %g", d.ns, want)
				}
				if d.ns < d.accesses*perAccess {
					t.Errorf("delay %g ns below the wait alone", d.ns)
				}
			})
		}
	}
	if err := c.write(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"cmp-table8.md", "cmp-fig11.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	if !bytes.Contains(readme, []byte("**Output delay (io.vmt).**")) {
		t.Errorf("README has no output delay conclusion:\n%s", readme)
	}
}

// TestFigureRenderOneX: a figure whose points all share one x (the corpus's comparative
// study, where one period fits every trace) renders, on a log x axis, with a log or a
// linear y, as one plot and as panels, where gonum widened the empty range by 1 on each
// side, to 0 on a log axis, and panicked (Values must be greater than 0 for a log scale).
func TestFigureRenderOneX(t *testing.T) {
	for _, tt := range []struct {
		name          string
		logY, paneled bool
		y1, y2        float64
	}{
		{"linear y, one plot", false, false, 0.5, 0.25},
		{"log y, one plot", true, false, 5, 2},
		{"log y, one y", true, false, 5, 5},
		{"linear y, panels", false, true, 0.5, 0.25},
		{"log y, panels", true, true, 5, 2},
		{"log y, panels, one y", true, true, 5, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &Figure{Name: "f", Title: "t", XLabel: periodAxis, YLabel: "y", LogY: tt.logY}
			if tt.logY {
				f.RefLines, f.RefName, f.Overhead = refLines, refName, true
			}
			n := 2
			if tt.paneled {
				n = MaxPerPanel + 2
			}
			for i := range n {
				s := Series{Name: fmt.Sprintf("s%d", i), X: []float64{1}, Y: []float64{tt.y1}}
				if i%2 == 1 {
					s.Y[0] = tt.y2
				}
				if tt.paneled {
					s.Group = fmt.Sprintf("g%d", i%3)
				}
				f.Series = append(f.Series, s)
			}
			if f.paneled() != tt.paneled {
				t.Fatalf("paneled %v, want %v", f.paneled(), tt.paneled)
			}
			svg, _, _, err := f.Render()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(svg, []byte("<svg")) {
				t.Error("not an SVG")
			}
		})
	}
}
