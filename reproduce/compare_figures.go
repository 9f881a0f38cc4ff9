package reproduce

import (
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"math"
	"slices"
	"strconv"
	"strings"
)

const ivLabel = "checkpoint interval (accesses)"

// periodAxis labels the axis of the checkpoint period, whose values are periodXs's.
const periodAxis = "checkpoint period (ms of modeled time)"

// periodXs are the x values of periods: ms.
func periodXs(periods []int64) []float64 {
	x := make([]float64, len(periods))
	for i, p := range periods {
		x[i] = float64(p) / 1000
	}
	return x
}

// figSetText says in a caption which traces and periods a figure's means are over.
func (c *compare) figSetText() string {
	var in []string
	for _, t := range c.traces {
		if c.figTraces[t.name] {
			in = append(in, t.label)
		}
	}
	var left []string
	ps := c.figPeriods()
	for _, p := range ComparePeriods {
		if !slices.Contains(ps, p) {
			left = append(left, periodLabel(p))
		}
	}
	s := fmt.Sprintf(" Every point is a mean over the same %d traces (%s), those every period drawn fits in", len(in), strings.Join(in, ", "))
	if len(left) > 0 {
		s += "; " + strings.Join(left, ", ") + ", which no more than half the traces fit in, only in the tables"
	}
	return s + "."
}

// ovhLabel is the y label of every overhead axis (Figure.Overhead).
const ovhLabel = "overhead (%)\nabove 100%: slowdown (×N)"

// schemeSeries is an empty series of a scheme: its name, family (its panel) and style.
func schemeSeries(sc cmpScheme) Series {
	return Series{Name: sc.label, Group: sc.family, Style: styleOf(sc.key)}
}

func (c *compare) figOverhead(i int, cs CostSet) *Figure {
	f := &Figure{Name: fmt.Sprintf("cmp-fig%d", i+1), Title: "Overhead of every scheme, " + cs.Label + " costs",
		Caption: fmt.Sprintf("Overhead against the checkpoint period (modeled time; each trace's interval in accesses for it is in Table C0) for every scheme under the %s cost set (geometric mean over the traces the period fits in, Table C0 says which), one panel a scheme family, the other families' lines in light grey behind. Up to 100%% the axis is in percent, above it in slowdown factors (×10: ten times the time of none). Dashed grey: 1%% and 5%%.", cs.Label),
		XLabel:  periodAxis, YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName, GroupTitle: familyTitle}
	for _, sc := range cmpSchemes() {
		ser := schemeSeries(sc)
		ps := c.figPeriods()
		ser.X = periodXs(ps)
		for _, n := range ps {
			ser.Y = append(ser.Y, 100*c.schemeOverhead(cs.Model, sc, n))
		}
		f.Series = append(f.Series, ser)
	}
	f.Caption += c.figSetText()
	return f
}

func (c *compare) figures() []*Figure {
	// The figures against the period: means over one set of traces (setFigTraces).
	done := c.setFigTraces()
	var figs []*Figure
	for i, cs := range c.sets {
		figs = append(figs, c.figOverhead(i, cs))
	}
	vol := &Figure{Name: "cmp-fig4", Title: "Bytes moved per checkpoint",
		Caption: "Bytes copied, logged, sent to storage and to a backup per checkpoint (the mean over the traces the period fits in of each trace's mean over its checkpoints), against the checkpoint period, one panel a scheme family. A scheme that moves no bytes at its checkpoints (blockstate flips state bits) is drawn on the axis's floor, labelled 0.",
		XLabel:  periodAxis, YLabel: "bytes moved per checkpoint (B)", LogY: true, GroupTitle: familyTitle}
	mem := &Figure{Name: "cmp-fig5", Title: "Memory overhead",
		Caption: "Memory held beyond the footprint at its peak (mem_overhead_peak_bytes) as a fraction of the footprint, mean over the traces the period fits in, against the checkpoint period, one panel a scheme family.",
		XLabel:  periodAxis, YLabel: "memory overhead (× footprint)", GroupTitle: familyTitle}
	vol.Caption += c.figSetText()
	mem.Caption += c.figSetText()
	for _, sc := range cmpSchemes() {
		v, m := schemeSeries(sc), schemeSeries(sc)
		ps := c.figPeriods()
		v.X, m.X = periodXs(ps), periodXs(ps)
		for _, n := range ps {
			b, _ := c.perCheckpoint(sc, n, moved)
			v.Y = append(v.Y, b)
			m.Y = append(m.Y, c.memFraction(sc, n))
		}
		vol.Series, mem.Series = append(vol.Series, v), append(mem.Series, m)
	}
	done()
	gr := &Figure{Name: "cmp-fig6", Title: "Granule of block-granular schemes",
		Caption: fmt.Sprintf("Overhead against the granule tracked by the memory controller, period %s (geometric mean over the traces it fits in); the schemes that track no granule behind a cache are not in it (Table C6 says which).", periodLabel(GranuleInterval)),
		XLabel:  "granule (bytes)", YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName,
		XTicks: ivxs(Granules), GroupTitle: familyTitle}
	for _, sc := range cmpSchemes() {
		if !sc.block {
			continue
		}
		ser := schemeSeries(sc)
		for _, g := range Granules {
			o, _, _ := c.granulePoint(sc, g)
			ser.X, ser.Y = append(ser.X, float64(g)), append(ser.Y, 100*o)
		}
		gr.Series = append(gr.Series, ser)
	}
	figs = append(figs, vol, mem, gr)
	figs = append(figs, c.sensitivity()...)
	figs = append(figs, c.figValidation())
	if len(c.ioTraces()) > 0 {
		figs = append(figs, c.figDelay())
	}
	for _, f := range figs {
		f.Caption += coinciding(f)
	}
	return figs
}

// coinciding names the series of a figure whose values are all equal (to 4 significant
// digits), which would hide one another: " Coinciding lines (...): a = b; c = d." or "".
func coinciding(f *Figure) string {
	key := func(s Series) string {
		var b strings.Builder
		for _, y := range s.Y {
			b.WriteString(strconv.FormatFloat(y, 'g', 4, 64) + ",")
		}
		return b.String()
	}
	groups := map[string][]string{}
	var order []string
	for _, s := range f.Series {
		k := key(s)
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s.Name)
	}
	var parts []string
	for _, k := range order {
		if len(groups[k]) > 1 {
			parts = append(parts, strings.Join(groups[k], " = "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " Coinciding lines (their markers drawn side by side): " + strings.Join(parts, "; ") + "."
}

// SensitivityInterval is the period (µs) of the sensitivity figures (one of ComparePeriods).
var SensitivityInterval int64 = 1000

// sensitivity varies one cost of this machine's set at a time and recomputes every
// scheme's overhead from the same counters.
func (c *compare) sensitivity() []*Figure {
	type axis struct {
		name, title, label string
		xs                 []float64
		set                func(m *cost.Model, x float64)
	}
	axes := []axis{
		{"cmp-fig7", "Sensitivity to the trap cost", "trap cost (ns)", []float64{10, 30, 100, 300, 1000, 3000, 10_000, 30_000},
			func(m *cost.Model, x float64) { m.TrapNs, m.MprotectNs = x, x }},
		{"cmp-fig8", "Sensitivity to the copy bandwidth", "copy bandwidth (bytes/s)", []float64{1e7, 1e8, 1e9, 3e9, 1e10, 3e10, 1e11},
			func(m *cost.Model, x float64) {
				m.CopyBytesPerSec, m.LogBytesPerSec, m.RecoveryBytesPerSec, m.CacheFlushLineNs = x, x, x, 64/x*1e9
			}},
		{"cmp-fig9", "Sensitivity to the storage write cost", "storage write of a 4 KiB page (ns)", []float64{300, 1000, 3000, 10_000, 100_000, 1e6, 1e7},
			func(m *cost.Model, x float64) {
				m.DiskWriteNs, m.PTPageWriteNs, m.CommitNs, m.StorageBytesPerSec = x, x, x, PageSize/x*1e9
			}},
	}
	var figs []*Figure
	for _, a := range axes {
		f := &Figure{Name: a.name, Title: a.title,
			Caption: fmt.Sprintf("Overhead at period %s against %s, the other costs this machine's (the storage write cost sets the page write, page-table write and commit times and the streaming bandwidth together; the copy bandwidth sets the copy, log and recovery bandwidths and the cache flush). Geometric mean over the traces, recomputed from the same counters; one panel a scheme family.", periodLabel(SensitivityInterval), a.label),
			XLabel:  a.label, YLabel: ovhLabel, LogY: true, Overhead: true, RefLines: refLines, RefName: refName, GroupTitle: familyTitle}
		for _, sc := range cmpSchemes() {
			ser := schemeSeries(sc)
			ser.X = a.xs
			for _, x := range a.xs {
				m := c.opt.Costs.Model
				a.set(&m, x)
				ser.Y = append(ser.Y, 100*c.schemeOverhead(m, sc, SensitivityInterval))
			}
			f.Series = append(f.Series, ser)
		}
		figs = append(figs, f)
	}
	return figs
}

func (c *compare) figValidation() *Figure {
	t := c.vtr[0]
	f := &Figure{Name: "cmp-fig10", Title: "Run time with failures around Young's interval (" + t.label + ")",
		Caption: fmt.Sprintf("Modeled run time with transient failures (mean over %d seeds, at each scheme's MTBF of Table C4) above the least of the grid (in percent), against the interval over Young's prediction (the grid's factor; the interval is Young's times it to two significant digits), on %s, for the schemes of the validation that %s is long enough for; Table C4 gives the optima and their 95%% intervals.", len(ValidationSeeds), t.label, t.label),
		XLabel:  "interval / Young's interval", YLabel: "run time above the best interval's (%)",
		XTicks: optimumFactors}
	for _, sc := range cmpSchemes() {
		pl := c.plans[ckey(t.name, sc.key)]
		if !sc.validate || pl == nil || !pl.ok {
			continue
		}
		ser := schemeSeries(sc)
		times := c.failTimes(t, sc, pl)
		best := math.Inf(1)
		for i := range pl.grid {
			var sum float64
			for s := range times {
				sum += times[s][i]
			}
			ser.X = append(ser.X, optimumFactors[i]) // the interval is young × the factor, to two digits
			ser.Y = append(ser.Y, sum/float64(len(times)))
			best = min(best, ser.Y[len(ser.Y)-1])
		}
		for i := range ser.Y {
			ser.Y[i] = 100 * (ser.Y[i]/best - 1)
		}
		f.Series = append(f.Series, ser)
	}
	return f
}
