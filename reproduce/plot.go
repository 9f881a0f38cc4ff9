package reproduce

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one line of a figure. A Y of NaN is a point not measured (for example an
// interval longer than the trace, where no checkpoint was taken): it is not drawn.
type Series struct {
	Name string
	X, Y []float64
}

// Figure is a line plot, written as SVG, PNG and PDF. Both axes use one tick style: log
// axes are labelled at powers of ten (and 2 and 5 times them when a decade or less is
// shown) with SI suffixes (1k, 10M), linear axes with %g. The legend sits to the right of
// the plotting area, never over data.
type Figure struct {
	Name           string // file name stem, e.g. "fig1"
	Title, Caption string
	XLabel, YLabel string // with units, e.g. "checkpoint interval (accesses)"
	LinX           bool   // linear x axis (default: log)
	// XTicks, when set, are the only labelled x ticks (e.g. the granules studied), written
	// as plain integers.
	XTicks []float64
	LogY   bool // log scale on y; points with y <= 0 are left out
	// RefLines are horizontal reference lines (y values), drawn dashed grey, e.g. 1 and 5
	// on an overhead axis in percent; RefName is their one legend entry.
	RefLines []float64
	RefName  string
	Series   []Series
}

// siLabel writes v with an SI suffix: 1000 → "1k", 3e6 → "3M", 0.01 → "0.01".
func siLabel(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		f float64
		s string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.f {
			return strconv.FormatFloat(v/u.f, 'g', 3, 64) + u.s
		}
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// logTicks labels powers of ten (and 2× and 5× them over a narrow range) in the SI style,
// with unlabelled minor ticks between.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	narrow := math.Log10(hi/lo) <= 1.5
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (narrow && (m == 2 || m == 5)) {
				t.Label = siLabel(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// linTicks are gonum's default ticks, relabelled with siLabel.
type linTicks struct{}

func (linTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = siLabel(ts[i].Value)
		}
	}
	return ts
}

func (f *Figure) drawable(x, y float64) bool {
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(y, 0) {
		return false
	}
	return (f.LinX || x > 0) && (!f.LogY || y > 0)
}

// plot builds the plot and its legend.
func (f *Figure) plot() (*plot.Plot, plot.Legend, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text, p.Y.Label.Text = f.XLabel, f.YLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = linTicks{}, linTicks{}
	if !f.LinX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if f.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if f.XTicks != nil {
		var ts plot.ConstantTicks
		for _, x := range f.XTicks {
			ts = append(ts, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', -1, 64)})
		}
		p.X.Tick.Marker = ts
	}
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	n := 0
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for i, s := range f.Series {
		var xys plotter.XYs
		for k := range s.X {
			if f.drawable(s.X[k], s.Y[k]) {
				xys = append(xys, plotter.XY{X: s.X[k], Y: s.Y[k]})
				xmin, xmax = min(xmin, s.X[k]), max(xmax, s.X[k])
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, leg, err
		}
		l.Color, l.Dashes = plotutil.Color(i), plotutil.Dashes(i)
		pts.Color, pts.Shape = plotutil.Color(i), plotutil.Shape(i)
		p.Add(l, pts)
		leg.Add(s.Name, l, pts)
		n++
	}
	if n == 0 {
		return nil, leg, fmt.Errorf("%s: no points to plot", f.Name)
	}
	for i, r := range f.RefLines {
		xs := plotter.XYs{{X: xmin, Y: r}, {X: xmax, Y: r}}
		l, err := plotter.NewLine(xs)
		if err != nil {
			return nil, leg, err
		}
		l.Color = color.Gray{Y: 96}
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		l.Width = vg.Points(0.75)
		p.Add(l)
		if i == 0 && f.RefName != "" {
			leg.Add(f.RefName, l)
		}
	}
	if f.LogY {
		// The reference lines stay in view.
		for _, r := range f.RefLines {
			p.Y.Min, p.Y.Max = min(p.Y.Min, r), max(p.Y.Max, r)
		}
	}
	return p, leg, nil
}

// FigureSize is the size of every figure: a column of a two-column paper at 2×.
const figW, figH = 7 * vg.Inch, 4 * vg.Inch

// draw draws the figure on a canvas: the plot on the left, the legend on the right.
func (f *Figure) draw(c draw.Canvas, p *plot.Plot, leg plot.Legend) {
	wmax := vg.Length(0)
	for _, s := range f.Series {
		wmax = max(wmax, leg.TextStyle.Width(s.Name))
	}
	wmax = max(wmax, leg.TextStyle.Width(f.RefName))
	lw := wmax + leg.ThumbnailWidth + 3*leg.Padding + vg.Points(6)
	pc := draw.Crop(c, 0, -lw, 0, 0)
	p.Draw(pc)
	lc := draw.Crop(c, c.Max.X-c.Min.X-lw, 0, 0, 0)
	leg.Top = true
	leg.Left = true
	lc = draw.Crop(lc, 0, 0, 0, -vg.Points(30)) // level with the plotting area, below the title
	leg.Draw(lc)
}

var pdfDate = regexp.MustCompile(`/(CreationDate|ModDate) \(D:[0-9]+`)

// Render returns the figure as SVG, PNG (at 150 dpi) and PDF (fonts embedded; the PDF's
// dates are zeroed so that the same figure gives the same bytes).
func (f *Figure) Render() (svg, png, pdf []byte, err error) {
	p, leg, err := f.plot()
	if err != nil {
		return nil, nil, nil, err
	}
	return f.render(p, leg)
}

// render draws p and its legend leg in the three formats (the legend as wide as f's
// series' names and RefName).
func (f *Figure) render(p *plot.Plot, leg plot.Legend) (svg, png, pdf []byte, err error) {
	sc := vgsvg.New(figW, figH)
	f.draw(draw.New(sc), p, leg)
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, nil, err
	}
	ic := vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(150))
	f.draw(draw.New(ic), p, leg)
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
		return nil, nil, nil, err
	}
	dc := vgpdf.New(figW, figH)
	f.draw(draw.New(dc), p, leg)
	var db bytes.Buffer
	if _, err := dc.WriteTo(&db); err != nil {
		return nil, nil, nil, err
	}
	out := pdfDate.ReplaceAllFunc(db.Bytes(), func(m []byte) []byte {
		i := bytes.Index(m, []byte("(D:")) + 3
		for k := i; k < len(m); k++ {
			m[k] = '0'
		}
		return m
	})
	return sb.Bytes(), pb.Bytes(), out, nil
}
