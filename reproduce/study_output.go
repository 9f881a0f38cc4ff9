package reproduce

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/sweep"
)

func f3(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }

func f4(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }

func (s *study) table1() *Table {
	t := &Table{Name: "table1", Title: "Table 1: the traces",
		Caption: "The traces of the study: accesses (instruction fetches included, but in a data-only recording), the fraction that write, the distinct 4 KiB pages touched and written, and the modeled time of an access under none (its run's time over its accesses, unlimited frames, this machine's costs), which converts the intervals in accesses of the other tables into modeled time: 10⁶ accesses last that many ms.",
		Header:  []string{"trace", "accesses", "write fraction", "pages touched", "pages written", "footprint (KiB)", "ns/access (none)"},
		Right:   []bool{false, true, true, true, true, true, true}}
	t.DataHeader = []string{"trace", "accesses", "write_fraction", "pages_touched", "pages_written", "footprint_kib", "ns_per_access_none"}
	w, windows := windowed(s.traces)
	if windows {
		t.Caption += fmt.Sprintf(" A workload's counts are those of the window the study replays, the middle %d accesses of its recording (the CSV gives where it starts); the whole recordings are the long study's.", w.maxRefs)
		t.DataHeader = append(t.DataHeader, "window_start")
	}
	for _, tr := range s.traces {
		sm := tr.summary
		b := s.result(tr, nonvolatile, s.intervals[0])
		row := []string{tr.label, strconv.FormatInt(sm.Accesses, 10), f4(sm.WriteFraction),
			strconv.FormatInt(sm.PagesTouched, 10), strconv.FormatInt(sm.PagesWritten, 10), strconv.FormatUint(sm.FootprintBytes/1024, 10),
			strconv.FormatFloat(b.Baseline.Total/float64(max(1, b.Stats.Refs)), 'f', 2, 64)}
		t.Rows = append(t.Rows, row)
		d := slices.Clone(row)
		if windows {
			d = append(d, strconv.FormatInt(tr.skip+1, 10))
		}
		t.Data = append(t.Data, d)
	}
	return t
}

func (s *study) table2() *Table {
	t := &Table{Name: "table2", Title: "Table 2: protection events and page copies per 1000 accesses (4 KiB pages)",
		Caption:    "Protection events (first writes to a page since its last checkpoint, first_writes) and page copies (page_copies) per 1000 accesses against the checkpoint interval; virtual checkpoints, non-volatile memory, copy on first write, unlimited frames. \"(no ckpt)\": the interval is longer than the trace, which took no checkpoint; what is counted is the first writes since the run's start. The CSV has one row a trace and interval, with the checkpoints taken and a status.",
		Header:     []string{"interval"},
		DataHeader: []string{"trace", "interval_accesses", "checkpoints", "protection_events_per_1000", "page_copies_per_1000", "status"}}
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
			mark, st := "", ""
			if r.Stats.Checkpoints == 0 {
				mark, st = noCkpt, "no ckpt"
			}
			ev, cp := f3(float64(r.Stats.FirstWrites)*k), f3(float64(r.Stats.PageCopies)*k)
			row = append(row, ev+mark, cp+mark)
			t.Data = append(t.Data, []string{tr.label, strconv.FormatInt(n, 10), strconv.FormatInt(r.Stats.Checkpoints, 10), ev, cp, st})
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
	var names []string
	pages := map[string]int64{}
	for _, tr := range s.traces {
		names, pages[tr.label] = append(names, tr.label), tr.summary.PagesTouched
	}
	group := footprintGroups(names, pages)
	for _, tr := range s.traces {
		ser := Series{Name: tr.label, X: s.xs(), Group: group[tr.label]}
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
		XLabel:  "checkpoint interval (accesses)", YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName}
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
			XLabel:  "checkpoint interval (accesses)", YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName, Series: s.perTrace(nonvolatile, overhead)},
		{Name: "fig2", Title: "Figure 2: overhead, volatile memory",
			Caption: "The same for volatile memory, where each checkpoint writes the pages modified since the last one, their page-table pages and a commit record to disk.",
			XLabel:  "checkpoint interval (accesses)", YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName, Series: s.perTrace(volatile, overhead)},
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

// figureData is a figure's points as a table (figN.csv), so its numbers can be checked:
// one row a point, with its series, x and y (empty when not measured) and a status
// ("no ckpt": not measured, as the interval is longer than some trace; "not drawn": a
// value the axis cannot show).
func figureData(f *Figure) *Table {
	t := &Table{Name: f.Name, Header: []string{"series", f.XLabel, f.YLabel, "status"}, Right: []bool{false, true, true, false}}
	floor := f.floor()
	for _, s := range f.Series {
		for i := range s.X {
			st := ""
			if math.IsNaN(s.Y[i]) {
				st = "no ckpt"
			} else if _, ok := f.point(s.X[i], s.Y[i], floor); !ok {
				st = "not drawn"
			}
			t.Rows = append(t.Rows, []string{s.Name, strconv.FormatFloat(s.X[i], 'f', -1, 64), num(s.Y[i]), st})
		}
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

// smallestBelow returns the smallest of xs (ascending) from which on (for it and every
// larger one that was measured) y stays below limit, and false when there is none. A y
// of NaN is an x not measured (no checkpoint taken): it is skipped.
func smallestBelow(xs []int64, y func(x int64) float64, limit float64) (int64, bool) {
	best, ok := int64(0), false
	for i := len(xs) - 1; i >= 0; i-- {
		v := y(xs[i])
		if math.IsNaN(v) {
			continue
		}
		if v >= limit {
			break
		}
		best, ok = xs[i], true
	}
	return best, ok
}

// smallestBelow is the package's smallestBelow over the study's intervals, 0 when there
// is none.
func (s *study) smallestBelow(y func(n int64) float64, limit float64) int64 {
	n, _ := smallestBelow(s.intervals, y, limit)
	return n
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
