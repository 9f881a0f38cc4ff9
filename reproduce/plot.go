package reproduce

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/vmsim/vmsim/internal/lazy"
)

// Series is one line of a figure. A Y of NaN is a point not measured (for example an
// interval longer than the trace, where no checkpoint was taken): it is not drawn.
type Series struct {
	Name string
	X, Y []float64
	// Group, when set, is the panel the series goes to when the figure has more series
	// than MaxPerPanel: the figure is then drawn as small multiples, one panel per group
	// (in order of first appearance) on the same axes.
	Group string
	// Style, when above 0, is the series' style (colour, marker and dash) plus one, so
	// that a scheme looks the same in every figure; 0: its position in the figure.
	Style int
}

// MaxPerPanel is the most series one panel of a figure draws: beyond it the figure's
// series are drawn as small multiples by their Group.
const MaxPerPanel = 7

// Figure is a line plot, written as SVG, PNG and PDF. Both axes use one tick style: log
// axes are labelled at powers of ten (and 2 and 5 times them when a decade or less is
// shown) with SI suffixes (1k, 10M), linear axes with %g. The legend sits beside or
// below the plotting area, never over data. Every series has its own colour, marker and
// dash pattern.
type Figure struct {
	Name           string // file name stem, e.g. "fig1"
	Title, Caption string
	XLabel, YLabel string // with units, e.g. "checkpoint interval (accesses)"
	LinX           bool   // linear x axis (default: log)
	// XTicks, when set, are the only labelled x ticks (e.g. the granules studied), written
	// as plain integers.
	XTicks []float64
	// LogY: log scale on y. Points with y < 0 are left out; a y of exactly 0 is drawn on
	// the axis's floor, a tick labelled "0" a decade below the smallest value above 0.
	LogY bool
	// Overhead: y is an overhead in percent (with LogY), labelled in % up to 100% and
	// above it as a slowdown factor (×N: N times the baseline's time).
	Overhead bool
	// RefLines are horizontal reference lines (y values), drawn dashed grey, e.g. 1 and 5
	// on an overhead axis in percent; RefName is their one legend entry.
	RefLines []float64
	RefName  string
	// GroupTitle, when set, titles a group's panel (default: the group's name).
	GroupTitle func(group string) string
	Series     []Series
}

// palette is the series' colours: twelve that stay apart on white paper and in print
// (Tableau 10 with its yellow and grey darkened and its pink a magenta, then black and
// navy).
var palette = []color.Color{
	color.RGBA{0x4e, 0x79, 0xa7, 0xff}, color.RGBA{0xf2, 0x8e, 0x2b, 0xff}, color.RGBA{0xe1, 0x57, 0x59, 0xff},
	color.RGBA{0x76, 0xb7, 0xb2, 0xff}, color.RGBA{0x59, 0xa1, 0x4f, 0xff}, color.RGBA{0xb8, 0x86, 0x0b, 0xff},
	color.RGBA{0xb0, 0x7a, 0xa1, 0xff}, color.RGBA{0xc0, 0x1c, 0xc0, 0xff}, color.RGBA{0x9c, 0x75, 0x5f, 0xff},
	color.RGBA{0x6e, 0x6e, 0x6e, 0xff}, color.RGBA{0x00, 0x00, 0x00, 0xff}, color.RGBA{0x1f, 0x2a, 0x6b, 0xff},
}

// style is the colour, marker and dash pattern of style number i: no two of the first
// len(palette) share a colour, and markers and dashes cycle on their own.
func style(i int) (color.Color, draw.GlyphDrawer, []vg.Length) {
	return palette[i%len(palette)], plotutil.Shape(i), plotutil.Dashes(i)
}

func (s Series) style(i int) int {
	if s.Style > 0 {
		return s.Style - 1
	}
	return i
}

// floor is the y at which a log axis draws values of exactly 0: a decade below the
// smallest value above 0 (rounded down to a power of ten); 0 when no series has a 0.
func (f *Figure) floor() float64 {
	if !f.LogY {
		return 0
	}
	zero, lo := false, math.Inf(1)
	for _, s := range f.Series {
		for k, y := range s.Y {
			if !f.drawableX(s.X[k]) || math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			if y == 0 {
				zero = true
			} else if y > 0 {
				lo = min(lo, y)
			}
		}
	}
	for _, r := range f.RefLines {
		lo = min(lo, r)
	}
	if !zero || math.IsInf(lo, 1) {
		return 0
	}
	return math.Pow(10, math.Floor(math.Log10(lo))-1)
}

func (f *Figure) drawableX(x float64) bool {
	return !math.IsNaN(x) && (f.LinX || x > 0)
}

// point is where (x, y) is drawn, and whether it is: on a log axis a 0 goes to floor.
func (f *Figure) point(x, y, floor float64) (plotter.XY, bool) {
	if !f.drawableX(x) || math.IsNaN(y) || math.IsInf(y, 0) {
		return plotter.XY{}, false
	}
	if f.LogY && y <= 0 {
		if y == 0 && floor > 0 {
			return plotter.XY{X: x, Y: floor}, true
		}
		return plotter.XY{}, false
	}
	return plotter.XY{X: x, Y: y}, true
}

// drawable reports whether a point of the figure is drawn.
func (f *Figure) drawable(x, y float64) bool {
	_, ok := f.point(x, y, f.floor())
	return ok
}

// newPlot is a plot with the figure's axes (scales, ticks, labels) and grid.
func (f *Figure) newPlot(floor float64) *plot.Plot {
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = f.XLabel, f.YLabel
	p.X.Tick.Marker, p.Y.Tick.Marker = linTicks{}, linTicks{}
	if !f.LinX {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if f.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
		if f.Overhead {
			p.Y.Tick.Marker = overheadTicks{}
		}
		if floor > 0 {
			p.Y.Tick.Marker = zeroTicks{p.Y.Tick.Marker, floor}
		}
	}
	if f.XTicks != nil {
		var ts plot.ConstantTicks
		for _, x := range f.XTicks {
			ts = append(ts, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'f', -1, 64)})
		}
		p.X.Tick.Marker = ts
	}
	p.Add(plotter.NewGrid())
	return p
}

// xys are the drawn points of s.
func (f *Figure) xys(s Series, floor float64) plotter.XYs {
	var xys plotter.XYs
	for k := range s.X {
		if pt, ok := f.point(s.X[k], s.Y[k], floor); ok {
			xys = append(xys, pt)
		}
	}
	return xys
}

// addSeries draws s (style number i) at its points xys on p and adds it to leg; false
// when s has no point to draw.
func (f *Figure) addSeries(p *plot.Plot, leg legendAdder, s Series, i int, xys plotter.XYs) (bool, error) {
	if len(xys) == 0 {
		return false, nil
	}
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return false, err
	}
	c, shape, dashes := style(s.style(i))
	l.Color, l.Dashes, l.Width = c, dashes, vg.Points(1.25)
	pts.Color, pts.Shape, pts.Radius = c, shape, vg.Points(3)
	p.Add(l, pts)
	leg.Add(s.Name, l, pts)
	return true, nil
}

// refLines draws the reference lines from xmin to xmax on p, and their one legend entry.
func (f *Figure) refLines(p *plot.Plot, leg legendAdder, xmin, xmax float64) error {
	for i, r := range f.RefLines {
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: r}, {X: xmax, Y: r}})
		if err != nil {
			return err
		}
		l.Color = color.Gray{Y: 96}
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		l.Width = vg.Points(0.75)
		p.Add(l)
		if i == 0 && f.RefName != "" {
			leg.Add(f.RefName, l)
		}
	}
	return nil
}

// dodged returns the points drawn of each of series, with the markers that fall in one
// place set side by side along x, so that none hides another. A place is an x and a run
// of y values, each within a 200th of the y axis's span (of its logarithms on a log axis)
// of the next, that holds the markers of two series or more; each series there moves by
// its rank among them (in series order) less the middle rank, times a 40th of a decade on
// a log x axis or a 100th of the x span on a linear one (less with many, so that they stay
// within xRange's margin). A series' own markers keep their places among themselves, its
// line follows them, and the values (the CSV's) are unchanged.
func (f *Figure) dodged(series []Series, floor, xmin, xmax, ymin, ymax float64) []plotter.XYs {
	pts := make([]plotter.XYs, len(series))
	for i, s := range series {
		pts[i] = f.xys(s, floor)
	}
	pos := func(y float64) float64 {
		if f.LogY {
			return math.Log10(y)
		}
		return y
	}
	tol := (pos(ymax) - pos(ymin)) / 200
	type mark struct {
		s, k int
		y    float64
	}
	at := map[float64][]mark{}
	var xs []float64
	for i, p := range pts {
		for k, pt := range p {
			if at[pt.X] == nil {
				xs = append(xs, pt.X)
			}
			at[pt.X] = append(at[pt.X], mark{i, k, pos(pt.Y)})
		}
	}
	// A step, and the room on each side of an x (the margin of xRange, less a fifth).
	step, room := 1.0/40, 0.8*math.Log10(1.2)
	if f.LinX {
		w := xmax - xmin
		if w == 0 {
			w = 25 // xRange's margin is then 1
		}
		step, room = w/100, 0.8*w/25
	}
	for _, x := range xs {
		ms := at[x]
		slices.SortStableFunc(ms, func(a, b mark) int { return cmp.Compare(a.y, b.y) })
		for i := 0; i < len(ms); {
			j := i + 1
			for j < len(ms) && ms[j].y-ms[j-1].y <= tol {
				j++
			}
			one := ms[i:j]
			slices.SortStableFunc(one, func(a, b mark) int { return cmp.Compare(a.s, b.s) })
			// n series in one place; a series' marks there share its rank.
			n, rank := 0, make([]int, len(one))
			for k := range one {
				if k == 0 || one[k].s != one[k-1].s {
					n++
				}
				rank[k] = n - 1
			}
			if n > 1 {
				d := min(step, 2*room/float64(n-1))
				for k, m := range one {
					off := (float64(rank[k]) - float64(n-1)/2) * d
					if f.LinX {
						pts[m.s][m.k].X = x + off
					} else {
						pts[m.s][m.k].X = x * math.Pow(10, off)
					}
				}
			}
			i = j
		}
	}
	return pts
}

// xRange is the x range of a plot whose points span xmin to xmax, with a margin so that no
// marker sits on an axis: on a log axis a fifth more on each side, on a linear axis a 25th
// of the span (1 with one x). (gonum's range is the points', and widens an empty one by 1
// on each side, to 0 or below on a log axis, which it cannot draw: it panicked.)
func (f *Figure) xRange(xmin, xmax float64) (lo, hi float64) {
	switch {
	case !f.LinX:
		return xmin / 1.2, xmax * 1.2
	case xmin == xmax:
		return xmin - 1, xmax + 1
	}
	m := (xmax - xmin) / 25
	return xmin - m, xmax + m
}

// setYRange sets p's y range for points (and reference lines) from ymin to ymax: on a log
// axis half as much again on each side (the reference lines and the floor stay in view);
// a linear axis of a quantity that cannot be negative starts at 0 and ends a 20th above
// the largest; gonum's own range otherwise.
func (f *Figure) setYRange(p *plot.Plot, ymin, ymax float64) {
	if f.LogY {
		p.Y.Min, p.Y.Max = ymin/1.5, ymax*1.5
	} else if ymin >= 0 {
		p.Y.Min, p.Y.Max = 0, ymax*1.05
	}
}

// bounds are the smallest and largest x and y drawn over every series, and the
// reference lines' y.
func (f *Figure) bounds(floor float64) (xmin, xmax, ymin, ymax float64) {
	xmin, ymin, xmax, ymax = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range f.Series {
		for _, pt := range f.xys(s, floor) {
			xmin, xmax, ymin, ymax = min(xmin, pt.X), max(xmax, pt.X), min(ymin, pt.Y), max(ymax, pt.Y)
		}
	}
	for _, r := range f.RefLines {
		ymin, ymax = min(ymin, r), max(ymax, r)
	}
	return
}

// plot builds the one-panel plot and its legend.
func (f *Figure) plot() (*plot.Plot, plot.Legend, error) {
	p, items, _, err := f.plotDrawn()
	return p, items.legend(vg.Points(12)), err
}

// plotDrawn builds the one-panel plot, its legend's entries and the names of the series
// drawn.
func (f *Figure) plotDrawn() (*plot.Plot, legendItems, []string, error) {
	floor := f.floor()
	p := f.newPlot(floor)
	p.Title.Text = f.Title
	var leg legendItems
	var drawn []string
	xmin, xmax, ymin, ymax := f.bounds(floor)
	pts := f.dodged(f.Series, floor, xmin, xmax, ymin, ymax)
	for i, s := range f.Series {
		ok, err := f.addSeries(p, &leg, s, i, pts[i])
		if err != nil {
			return nil, leg, nil, err
		}
		if ok {
			drawn = append(drawn, s.Name)
		}
	}
	if len(drawn) == 0 {
		return nil, leg, nil, fmt.Errorf("%s: no points to plot", f.Name)
	}
	xlo, xhi := f.xRange(xmin, xmax)
	if err := f.refLines(p, &leg, xlo, xhi); err != nil {
		return nil, leg, nil, err
	}
	p.X.Min, p.X.Max = xlo, xhi
	f.setYRange(p, ymin, ymax)
	return p, leg, drawn, nil
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

// paneled reports whether the figure is drawn as small multiples.
func (f *Figure) paneled() bool {
	if len(f.Series) <= MaxPerPanel {
		return false
	}
	for _, s := range f.Series {
		if s.Group == "" {
			return false
		}
	}
	return true
}

// groups are the series' groups in order of first appearance.
func (f *Figure) groups() []string {
	var gs []string
	for _, s := range f.Series {
		if !slices.Contains(gs, s.Group) {
			gs = append(gs, s.Group)
		}
	}
	return gs
}

var pdfDate = lazy.Regexp(`/(CreationDate|ModDate) \(D:[0-9]+`)

// Render returns the figure as SVG, PNG (at 150 dpi) and PDF (fonts embedded; the PDF's
// dates are zeroed so that the same figure gives the same bytes).
func (f *Figure) Render() (svg, png, pdf []byte, err error) {
	if f.paneled() {
		ps, _, err := f.panels()
		if err != nil {
			return nil, nil, nil, err
		}
		_, _, w, h := panelLayout(ps)
		return renderWith(w, h, func(c draw.Canvas) { f.drawPanels(c, ps) })
	}
	p, items, _, err := f.plotDrawn()
	if err != nil {
		return nil, nil, nil, err
	}
	cols, rows := legendGrid(items, figW, 3, legendFont)
	return renderWith(figW, figH+legendHeight(rows), func(c draw.Canvas) { f.drawBelow(c, p, items, cols, rows) })
}

// drawn names the series the figure draws (those with a point to draw).
func (f *Figure) drawn() ([]string, error) {
	if f.paneled() {
		_, names, err := f.panels()
		return names, err
	}
	_, _, names, err := f.plotDrawn()
	return names, err
}

// render draws p and its legend leg in the three formats (the legend as wide as f's
// series' names and RefName).
func (f *Figure) render(p *plot.Plot, leg plot.Legend) (svg, png, pdf []byte, err error) {
	return renderWith(figW, figH, func(c draw.Canvas) { f.draw(c, p, leg) })
}

// renderWith draws with d on a w × h canvas in the three formats.
func renderWith(w, h vg.Length, d func(draw.Canvas)) (svg, png, pdf []byte, err error) {
	sc := vgsvg.New(w, h)
	d(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, nil, err
	}
	ic := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))
	d(draw.New(ic))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
		return nil, nil, nil, err
	}
	dc := vgpdf.New(w, h)
	d(draw.New(dc))
	var db bytes.Buffer
	if _, err := dc.WriteTo(&db); err != nil {
		return nil, nil, nil, err
	}
	out := pdfDate().ReplaceAllFunc(db.Bytes(), func(m []byte) []byte {
		i := bytes.Index(m, []byte("(D:")) + 3
		for k := i; k < len(m); k++ {
			m[k] = '0'
		}
		return m
	})
	return sb.Bytes(), pb.Bytes(), out, nil
}
