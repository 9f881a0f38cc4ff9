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
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/validate"
)

// validationColumns are validation.csv's columns.
var validationColumns = []string{"program", "mechanism", "scheme", "interval", "measured_overhead", "measured_spread", "modeled_overhead"}

// errorFloor is the measured overhead above which a point counts towards the target, and
// errorTarget the target: the median absolute relative error of the page-granular
// mechanisms over those points (issue 22).
const (
	errorFloor  = 0.05
	errorTarget = 0.25
)

// write writes Dir/validation: validation.csv, the figure, calibration.json and README.md.
func (v *validation) write() error {
	dir := filepath.Join(v.opt.Dir, "validation")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	csvData, err := validationCSV(v.rows)
	if err != nil {
		return err
	}
	fig := validationFigure(v.rows)
	svg, png, pdf, err := fig.renderScatter(v.rows)
	if err != nil {
		return err
	}
	var cal bytes.Buffer
	if err := v.costs.File.Write(&cal); err != nil {
		return err
	}
	var readme bytes.Buffer
	v.readme(&readme)
	for _, f := range []struct {
		name string
		data []byte
	}{{"validation.csv", csvData}, {fig.Name + ".svg", svg}, {fig.Name + ".png", png}, {fig.Name + ".pdf", pdf},
		{"calibration.json", cal.Bytes()}, {"README.md", readme.Bytes()}} {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// fmtFrac writes an overhead (a fraction) for the CSV.
func fmtFrac(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// validationCSV writes the rows with validationColumns.
func validationCSV(rows []valRow) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(validationColumns)
	for _, r := range rows {
		w.Write([]string{r.Program, string(r.Mechanism), r.Scheme, strconv.FormatInt(r.K, 10),
			fmtFrac(r.Measured), fmtFrac(r.Spread), fmtFrac(r.Modeled)})
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// errStats are the errors of a group of rows.
type errStats struct {
	N      int     // points in the group
	Median float64 // median absolute relative error (NaN without points)
}

// medianAbsRelErr returns the median absolute relative error of the rows that keep
// accepts.
func medianAbsRelErr(rows []valRow, keep func(valRow) bool) errStats {
	var errs []float64
	for _, r := range rows {
		if keep(r) && r.Measured != 0 && !math.IsNaN(r.Modeled) {
			errs = append(errs, math.Abs(r.RelErr()))
		}
	}
	if len(errs) == 0 {
		return errStats{Median: math.NaN()}
	}
	med, _ := validate.Summarize(errs)
	return errStats{N: len(errs), Median: med}
}

// seriesKey names a (mechanism, scheme) pair: a series of the figure.
func seriesKey(r valRow) string { return string(r.Mechanism) + " → " + r.Scheme }

// seriesKeys lists the rows' (mechanism, scheme) pairs in order of first appearance.
func seriesKeys(rows []valRow) []string {
	var keys []string
	for _, r := range rows {
		if k := seriesKey(r); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// validationFigure describes the predicted-against-measured figure; its series carry only
// the legend's names (renderScatter draws points, not lines).
func validationFigure(rows []valRow) *Figure {
	f := &Figure{Name: "validation", Title: "vmsim's predicted overhead against the measured one",
		XLabel: "measured overhead (%), native", YLabel: "modeled overhead (%), vmsim",
		LogY: true, RefName: "y = x"}
	for _, k := range seriesKeys(rows) {
		f.Series = append(f.Series, Series{Name: k})
	}
	return f
}

// drawnPoints reports whether a row can be drawn on the figure's log-log axes.
func drawnPoint(r valRow) bool { return r.Measured > 0 && r.Modeled > 0 && !math.IsInf(r.Modeled, 0) }

// renderScatter draws the rows as points, x the measured and y the modeled overhead in
// percent on log-log axes, one series per (mechanism, scheme), with the line y = x.
func (f *Figure) renderScatter(rows []valRow) (svg, png, pdf []byte, err error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text, p.Y.Label.Text = f.XLabel, f.YLabel
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range f.Series {
		var xys plotter.XYs
		for _, r := range rows {
			if seriesKey(r) == s.Name && drawnPoint(r) {
				x, y := 100*r.Measured, 100*r.Modeled
				xys = append(xys, plotter.XY{X: x, Y: y})
				lo, hi = min(lo, x, y), max(hi, x, y)
			}
		}
		if len(xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, nil, nil, err
		}
		sc.Color, sc.Shape = plotutil.Color(i), plotutil.Shape(i)
		sc.Radius = vg.Points(3)
		p.Add(sc)
		leg.Add(s.Name, sc)
	}
	if math.IsInf(lo, 0) {
		return nil, nil, nil, fmt.Errorf("%s: no point with both overheads above 0 to plot", f.Name)
	}
	lo, hi = lo/1.5, hi*1.5
	line, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	if err != nil {
		return nil, nil, nil, err
	}
	line.Color = color.Gray{Y: 96}
	line.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(line)
	leg.Add(f.RefName, line)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	return f.render(p, leg)
}

// vpct writes a fraction as a percentage.
func vpct(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
}

// readme writes README.md; every number in it is computed from the rows and the
// calibration.
func (v *validation) readme(b *bytes.Buffer) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	m := v.costs.File.Machine
	p("# Predictions checked against real checkpointing\n\n")
	p("Generated by `%s` with vmsim %s in %s. Do not edit by hand: the\n", v.opt.Command, v.opt.Version, v.elapsed.Round(time.Second))
	p("native numbers are measurements, so a new run gives new (close) numbers. How the study\n")
	p("is done is in `docs/study.md` (Calibration and validation).\n\n")
	p("Machine: %s, %d CPUs, %s, %s, load averages %s at the calibrations (the first on %s). Recorded with %s.\n\n",
		m.CPU, m.CPUs, m.Kernel, m.Arch, m.LoadAvg, m.Date, v.valgrind)
	p("## Method\n\n")
	p("The C library of `validate/` checkpoints a real program's memory: `wp` by write\n")
	p("protection (a trap at the first write of a page since the last checkpoint, the dirty\n")
	p("pages copied to a buffer at each checkpoint), `full` by copying every touched page.\n")
	p("Each program runs natively under `none` (the baseline) and each mechanism, a checkpoint\n")
	p("every K iterations, %d times in rounds; the measured overhead is the median run time\n", v.setup.Repeats)
	p("over the median under `none` minus one, its spread `(1 + overhead) × (IQR/median of\n")
	p("both)`. The same run under `none` is recorded with `vmsim record`'s valgrind tool, whose\n")
	p("checkpoint records fall exactly where the program called `ckpt_checkpoint` (the checksum\n")
	p("and the number of checkpoints are checked against the native run). vmsim runs the\n")
	p("matching schemes on the recording, checkpointing at its records only (`--interval 0`):\n")
	for _, mech := range v.mechs {
		p("`%s` → %s; ", mech, strings.Join(validationSchemes[mech], " and "))
	}
	p("shadow with 4 KiB granules.\n\n")
	for _, n := range v.notes {
		p("Note: %s.\n\n", n)
	}
	p("Programs (size arguments; K in iterations):\n\n")
	for _, pr := range v.setup.Programs {
		ks := make([]string, len(pr.Ks))
		for i, k := range pr.Ks {
			ks[i] = strconv.FormatInt(k, 10)
		}
		p("- `%s %s`: K = %s\n", pr.Name, strings.Join(pr.Args, " "), strings.Join(ks, ", "))
	}
	p("\nCosts, %s:\n\n", v.costs.Source)
	for _, name := range []string{"page_copy_bytes_per_sec", "wp_trap_ns"} {
		if val, ok := v.costs.File.Value(name); ok {
			p("- `%s` = %.4g %s (spread %.2f over %d runs)\n", name, val.Median, val.Unit, val.Spread, len(val.Samples))
		}
	}
	p("\nThe modeled overhead is `cost.Compare`, vmsim's one overhead rule, on this cost model: traps at\n")
	p("`wp_trap_ns`, bytes copied (remus, shadow) and bytes to storage (incremental: the\n")
	p("library's buffer is in memory) at the page copy bandwidth, remus's send to a backup at no\n")
	p("cost (the library sends nothing); `access_ns` is the program's native median run time\n")
	p("under `none` over the recording's accesses, so that the modeled baseline is the measured\n")
	p("one. vmsim sees the accesses to the library's region only (what the library\n")
	p("checkpoints; not the stack, the globals or the C library). Paging is priced at 0 on\n")
	p("both sides (the native time per access holds the first-touch faults), and so is the\n")
	p("library's one mprotect of its region a checkpoint (the calibrated trap holds the\n")
	p("handler's mprotect).\n")
	p("Nothing is fitted to the measured overheads.\n\n")
	v.summary(p)
	p("## Every point\n\n")
	p("Error = (modeled − measured) / measured. Traps and bytes: native (the library's\n")
	p("counts) / modeled (the scheme's). Residual: (measured − modeled) × baseline time per\n")
	p("checkpoint, the time a checkpoint costs natively beyond what the model prices.\n\n")
	p("| program | mechanism | scheme | K | checkpoints | measured | spread | modeled | error | traps native / modeled | MB copied native / modeled | residual per checkpoint |\n")
	p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range v.rows {
		p("| %s | %s | %s | %d | %d | %s | %s | %s | %s | %d / %d | %.1f / %.1f | %s |\n", r.Program, r.Mechanism, r.Scheme, r.K, r.Checkpoints,
			vpct(r.Measured), vpct(r.Spread), vpct(r.Modeled), vpct(r.RelErr()), r.NativeTraps, r.ModelTraps,
			float64(r.NativeBytes)/1e6, float64(r.ModelBytes)/1e6, residual(r))
	}
	p("\nFigure: `validation.svg` (also `.png`, `.pdf`), modeled against measured overhead on\n")
	p("log-log axes with the line y = x; ")
	left := 0
	for _, r := range v.rows {
		if !drawnPoint(r) {
			left++
		}
	}
	p("%d of %d points have an overhead of 0 or less and are not drawn.", left, len(v.rows))
	for _, c := range coincidingPoints(v.rows) {
		p(" %s's %d of %d points fall on %s's (the same native runs, the same modeled overhead): their hollow markers are drawn over each other.", c.later, c.n, c.of, c.earlier)
	}
	p(" The numbers are in\n")
	p("`validation.csv` (overheads as fractions: 0.05 is 5%%), the costs used in `calibration.json`.\n")
}

// coincidence counts the drawn points of the series later that fall exactly on a drawn
// point of the series earlier (out of later's of drawn points).
type coincidence struct {
	earlier, later string
	n, of          int
}

// coincidingPoints lists, for each pair of series in order of first appearance, how many
// of the later one's drawn points coincide with one of the earlier one's: hidden points
// a reader of the figure must be told about.
func coincidingPoints(rows []valRow) []coincidence {
	keys := seriesKeys(rows)
	var out []coincidence
	for j, later := range keys {
		for _, earlier := range keys[:j] {
			c := coincidence{earlier: earlier, later: later}
			for _, b := range rows {
				if seriesKey(b) != later || !drawnPoint(b) {
					continue
				}
				c.of++
				if slices.ContainsFunc(rows, func(a valRow) bool {
					return seriesKey(a) == earlier && drawnPoint(a) && a.Measured == b.Measured && a.Modeled == b.Modeled
				}) {
					c.n++
				}
			}
			if c.n > 0 {
				out = append(out, c)
			}
		}
	}
	return out
}

// residual is the native time per checkpoint that the model does not price.
func residual(r valRow) string {
	if r.Checkpoints == 0 {
		return "n/a"
	}
	d := (r.Measured - r.Modeled) * float64(r.Baseline) / float64(r.Checkpoints)
	return strconv.FormatFloat(d/1e3, 'f', 1, 64) + " µs"
}

// summary writes the errors per mechanism and scheme, and the target's verdict.
func (v *validation) summary(p func(string, ...any)) {
	p("## Errors\n\n")
	p("Median absolute relative error, over the points whose measured overhead is above %s\n", vpct(errorFloor))
	p("(the target's points) and over all points:\n\n")
	p("| mechanism | scheme | points > %s | median abs. error | all points | median abs. error |\n", vpct(errorFloor))
	p("|---|---|---:|---:|---:|---:|\n")
	groups := [][2]string{}
	for _, mech := range v.mechs {
		groups = append(groups, [2]string{string(mech), ""})
		for _, s := range validationSchemes[mech] {
			groups = append(groups, [2]string{string(mech), s})
		}
	}
	for _, g := range groups {
		in := func(r valRow) bool { return string(r.Mechanism) == g[0] && (g[1] == "" || r.Scheme == g[1]) }
		over := medianAbsRelErr(v.rows, func(r valRow) bool { return in(r) && r.Measured > errorFloor })
		all := medianAbsRelErr(v.rows, in)
		scheme := g[1]
		if scheme == "" {
			scheme = "(all)"
		}
		p("| %s | %s | %d | %s | %d | %s |\n", g[0], scheme, over.N, vpct(over.Median), all.N, vpct(all.Median))
	}
	p("\n")
	for _, mech := range v.mechs {
		if mech == validate.Full {
			continue
		}
		st := medianAbsRelErr(v.rows, func(r valRow) bool { return r.Mechanism == mech && r.Measured > errorFloor })
		switch {
		case st.N == 0:
			p("Target (median absolute relative error ≤ %s for %s where the measured overhead is above %s): no such point.\n\n", vpct(errorTarget), mech, vpct(errorFloor))
		case st.Median <= errorTarget:
			p("Target (median absolute relative error ≤ %s for %s where the measured overhead is above %s): **met**, %s over %d points.\n\n", vpct(errorTarget), mech, vpct(errorFloor), vpct(st.Median), st.N)
		default:
			p("Target (median absolute relative error ≤ %s for %s where the measured overhead is above %s): **missed**, %s over %d points.\n\n", vpct(errorTarget), mech, vpct(errorFloor), vpct(st.Median), st.N)
		}
	}
	var over, under int
	for _, r := range v.rows {
		if r.Measured > errorFloor && math.Abs(r.RelErr()) > errorTarget {
			if r.RelErr() < 0 {
				under++
			} else {
				over++
			}
		}
	}
	p("Of the points above %s, %d are predicted more than %s too low and %d more than %s too\n", vpct(errorFloor), under, vpct(errorTarget), over, vpct(errorTarget))
	p("high; the residual column below gives, for each, the native time per checkpoint that\n")
	p("the model does not price.\n\n")
	v.implied(p)
}

// implied writes what the native runs imply for the two calibrated costs: the time per
// trap of wp (its measured checkpoint time less its copies at the calibrated bandwidth,
// over its traps) and the copy bandwidth of full (its bytes over its measured checkpoint
// time), as medians over the points above errorFloor, beside the calibrated values.
func (v *validation) implied(p func(string, ...any)) {
	var traps, bws []float64
	for _, r := range v.rows {
		if r.Measured <= errorFloor || r.Scheme != validationSchemes[r.Mechanism][0] {
			continue
		}
		ckpt := r.Measured * float64(r.Baseline) // ns the mechanism added
		switch {
		case r.Mechanism == validate.Full && ckpt > 0:
			bws = append(bws, float64(r.NativeBytes)/ckpt*1e9)
		case r.Mechanism != validate.Full && r.NativeTraps > 0:
			traps = append(traps, (ckpt-float64(r.NativeBytes)/v.costs.CopyBytesPerSec*1e9)/float64(r.NativeTraps))
		}
	}
	p("What the native runs imply for the calibrated costs (medians over the points above %s):\n\n", vpct(errorFloor))
	if len(traps) > 0 {
		med, spread := validate.Summarize(traps)
		p("- wp, softdirty: the time the mechanism added, less its copies at the calibrated\n")
		p("  bandwidth, per trap: %.1f µs (spread %.2f, %d points); calibrated `wp_trap_ns`: %.1f µs.\n", med/1e3, spread, len(traps), v.costs.TrapNs/1e3)
	}
	if len(bws) > 0 {
		med, spread := validate.Summarize(bws)
		p("- full: the bytes copied over the time the mechanism added: %.2f GB/s (spread %.2f, %d\n", med/1e9, spread, len(bws))
		p("  points); calibrated `page_copy_bytes_per_sec`: %.2f GB/s.\n", v.costs.CopyBytesPerSec/1e9)
	}
	p("\n")
}
