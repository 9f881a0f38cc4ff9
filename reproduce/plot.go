package reproduce

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

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

// linTicks label a linear axis at about five round values (1, 2 or 5 times a power of
// ten apart), with SI suffixes, and an unlabelled tick halfway between.
type linTicks struct{}

func (linTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: siLabel(lo)}}
	}
	raw := (hi - lo) / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * p
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var ts []plot.Tick
	for k := math.Ceil(lo/step*2 - 1e-9); k/2*step <= hi*(1+1e-12)+1e-12; k++ {
		v := k / 2 * step
		if v == 0 {
			v = 0 // not -0
		}
		t := plot.Tick{Value: v}
		if math.Mod(k, 2) == 0 {
			t.Label = siLabel(math.Round(v/step*1e6) / 1e6 * step)
		}
		ts = append(ts, t)
	}
	return ts
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

// overheadTicks label an overhead axis in percent (log scale): 0.1%, 1%, 10%, 100%, and
// above 100% the slowdown factor: ×10 (900%), ×100, ×1k.
type overheadTicks struct{}

func (overheadTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	narrow := math.Log10(hi/lo) <= 1.5
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Min(2, math.Ceil(math.Log10(hi))); e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v > 100*(1+1e-9) {
				break
			}
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (narrow && (m == 2 || m == 5)) {
				t.Label = siLabel(v) + "%"
			}
			ts = append(ts, t)
		}
	}
	// Above 100%: slowdown factors s, at overhead (s-1)×100%; ×5 labelled too when ×10
	// is out of view.
	noTen := hi < 900*(1-1e-9)
	for e := 0.0; (math.Pow(10, e)-1)*100 <= hi*(1+1e-9) || e < 1; e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			sl := m * p
			v := (sl - 1) * 100
			if sl <= 2 || !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || ((narrow || noTen) && (m == 2 || m == 5)) {
				t.Label = "×" + siLabel(sl)
				if sl < 1e5 {
					t.Label = "×" + strconv.FormatFloat(sl, 'f', -1, 64)
				}
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// zeroTicks are another ticker's ticks above floor, and a tick labelled "0" at floor.
type zeroTicks struct {
	plot.Ticker
	floor float64
}

func (z zeroTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := []plot.Tick{{Value: z.floor, Label: "0"}}
	for _, t := range z.Ticker.Ticks(lo, hi) {
		if t.Value > z.floor*1.5 {
			ts = append(ts, t)
		}
	}
	return ts
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

// addSeries draws s (style number i) on p and adds it to leg; false when s has no point
// to draw.
func (f *Figure) addSeries(p *plot.Plot, leg legendAdder, s Series, i int, floor float64) (bool, error) {
	xys := f.xys(s, floor)
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
	for i, s := range f.Series {
		ok, err := f.addSeries(p, &leg, s, i, floor)
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
	xmin, xmax, ymin, ymax := f.bounds(floor)
	if err := f.refLines(p, &leg, xmin, xmax); err != nil {
		return nil, leg, nil, err
	}
	if f.LogY {
		// The reference lines and the floor stay in view.
		p.Y.Min, p.Y.Max = ymin, ymax
	} else if ymin >= 0 {
		p.Y.Min, p.Y.Max = 0, ymax*1.05 // a quantity that cannot be negative starts at 0
	}
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

// panel is one panel of small multiples: its plot and legend.
type panel struct {
	p   *plot.Plot
	leg legendItems
}

// legendAdder is what series add their legend entries to: a plot.Legend, or
// legendItems.
type legendAdder interface {
	Add(name string, thumbs ...plot.Thumbnailer)
}

// legendItems are legend entries kept for drawing in columns.
type legendItems []legendItem

type legendItem struct {
	name   string
	thumbs []plot.Thumbnailer
}

func (l *legendItems) Add(name string, thumbs ...plot.Thumbnailer) {
	*l = append(*l, legendItem{name, thumbs})
}

// legend is a legend of the items (font size pt).
func (l legendItems) legend(pt vg.Length) plot.Legend {
	leg := plot.NewLegend()
	leg.TextStyle.Font.Size = pt
	leg.ThumbnailWidth = vg.Points(24)
	leg.Top, leg.Left = true, true
	for _, it := range l {
		leg.Add(it.name, it.thumbs...)
	}
	return leg
}

// panels builds the small multiples, one a group, on the same axes; each panel draws the
// other groups' series thin and light grey behind its own, for comparison. It returns the
// names of the series drawn in colour.
func (f *Figure) panels() ([]panel, []string, error) {
	floor := f.floor()
	xmin, xmax, ymin, ymax := f.bounds(floor)
	if math.IsInf(xmin, 1) {
		return nil, nil, fmt.Errorf("%s: no points to plot", f.Name)
	}
	var out []panel
	var drawn []string
	for _, g := range f.groups() {
		p := f.newPlot(floor)
		p.Title.Text = g
		if f.GroupTitle != nil {
			p.Title.Text = f.GroupTitle(g)
		}
		p.Title.TextStyle.Font.Size = vg.Points(11)
		var leg legendItems
		for _, s := range f.Series {
			if s.Group == g {
				continue
			}
			if xys := f.xys(s, floor); len(xys) > 0 {
				l, err := plotter.NewLine(xys)
				if err != nil {
					return nil, nil, err
				}
				l.Color, l.Width = color.Gray{Y: 205}, vg.Points(0.75)
				p.Add(l)
			}
		}
		for i, s := range f.Series {
			if s.Group != g {
				continue
			}
			ok, err := f.addSeries(p, &leg, s, i, floor)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				drawn = append(drawn, s.Name)
			}
		}
		var none legendItems // the reference lines' one entry is the figure's (drawPanels)
		if err := f.refLines(p, &none, xmin, xmax); err != nil {
			return nil, nil, err
		}
		p.X.Min, p.X.Max = xmin, xmax
		if f.LogY {
			p.X.Min, p.X.Max = xmin/1.2, xmax*1.2
		}
		p.Y.Min, p.Y.Max = ymin, ymax
		if f.LogY {
			p.Y.Min, p.Y.Max = ymin/1.5, ymax*1.5
		} else if ymin >= 0 {
			p.Y.Min, p.Y.Max = 0, ymax*1.05
		}
		out = append(out, panel{p, leg})
	}
	return out, drawn, nil
}

// panelCols is the number of columns of small multiples.
const panelCols = 3

// panelPlotH is the height of a panel's plot, its legend below it.
const panelPlotH = 2.6 * vg.Inch

// panelFont is the size of a panel's legend's text.
const panelFont = 9

// titleH is the height of the band of a paneled figure's title.
const titleH = 0.45 * vg.Inch

// panelLayout is the layout of small multiples: the width of a column, the legend rows
// of each row of panels, and the figure's size.
func panelLayout(ps []panel) (cw vg.Length, legRows []int, w, h vg.Length) {
	w = 10.5 * vg.Inch
	cw = (w - vg.Points(24)) / panelCols
	h = titleH
	for i, pn := range ps {
		r := i / panelCols
		if r == len(legRows) {
			legRows = append(legRows, 0)
		}
		_, rows := legendGrid(pn.leg, cw, 2, panelFont)
		legRows[r] = max(legRows[r], rows)
	}
	for _, n := range legRows {
		h += panelPlotH + legendHeightFont(n, panelFont)
	}
	return cw, legRows, w, h
}

// drawPanels draws small multiples on c: the figure's title on top (and the reference
// lines' legend entry at its right), the y label once along the left edge, then the
// panels in rows of panelCols, each with its legend below its plot; the x label is on the
// panels with none below them.
func (f *Figure) drawPanels(c draw.Canvas, ps []panel) {
	cw, legRows, _, _ := panelLayout(ps)
	title := plot.New().Title.TextStyle
	title.Font.Size = vg.Points(14)
	title.XAlign, title.YAlign = draw.XCenter, draw.YTop
	c.FillText(title, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - vg.Points(4)}, f.Title)
	if f.RefName != "" && len(f.RefLines) > 0 {
		var ref legendItems
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}})
		if err == nil {
			l.Color, l.Dashes, l.Width = color.Gray{Y: 96}, []vg.Length{vg.Points(2), vg.Points(2)}, vg.Points(0.75)
			ref.Add(f.RefName, l)
			leg := ref.legend(vg.Points(panelFont))
			leg.Left = false
			leg.Draw(draw.Crop(c, 0, -vg.Points(8), 0, -vg.Points(24)))
		}
	}
	body := draw.Crop(c, 0, 0, 0, -titleH)
	ylab := plot.New().Y.Label.TextStyle
	ylab.Rotation = math.Pi / 2
	ylab.XAlign, ylab.YAlign = draw.XCenter, draw.YTop
	c.FillText(ylab, vg.Point{X: c.Min.X + vg.Points(2), Y: (body.Min.Y + body.Max.Y) / 2}, strings.ReplaceAll(f.YLabel, "\n", "; "))
	body = draw.Crop(body, vg.Points(24), 0, 0, 0)
	top := body.Max.Y
	for r, n := range legRows {
		lh := legendHeightFont(n, panelFont)
		for col := 0; col < panelCols && r*panelCols+col < len(ps); col++ {
			i := r*panelCols + col
			pn := ps[i]
			cell := draw.Canvas{Canvas: body.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: body.Min.X + vg.Length(col)*cw, Y: top - panelPlotH - lh},
				Max: vg.Point{X: body.Min.X + vg.Length(col+1)*cw, Y: top}}}
			pn.p.Y.Label.Text = ""
			if i+panelCols < len(ps) {
				pn.p.X.Label.Text = ""
			}
			pn.p.Draw(draw.Crop(cell, vg.Points(4), -vg.Points(8), lh, -vg.Points(4)))
			lc := draw.Crop(cell, vg.Points(40), -vg.Points(8), 0, -panelPlotH)
			cols, rows := legendGrid(pn.leg, cw, 2, panelFont)
			drawLegendColumns(lc, pn.leg, cols, rows, panelFont)
		}
		top -= panelPlotH + lh
	}
}

var pdfDate = regexp.MustCompile(`/(CreationDate|ModDate) \(D:[0-9]+`)

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

// legendFont is the size of the legends' text.
const legendFont = 10

// legendHeight is the height of a legend of rows rows under a plot.
func legendHeight(rows int) vg.Length { return legendHeightFont(rows, legendFont) }

// legendHeightFont is the height of a legend of rows rows in font size pt.
func legendHeightFont(rows int, pt float64) vg.Length {
	return vg.Length(rows)*vg.Points(pt+3) + vg.Points(8)
}

// legendGrid lays the legend's entries out in columns across width w (less the y
// axis's 50 points): as many as the longest entry fits, at most maxCols.
func legendGrid(items legendItems, w vg.Length, maxCols int, pt float64) (cols, rows int) {
	leg := items.legend(vg.Points(pt))
	wmax := vg.Length(0)
	for _, it := range items {
		wmax = max(wmax, leg.TextStyle.Width(it.name))
	}
	wmax += leg.ThumbnailWidth + vg.Points(12)
	avail := w - vg.Points(50)
	cols = 1
	for k := maxCols; k > 1; k-- {
		if wmax*vg.Length(k) <= avail {
			cols = k
			break
		}
	}
	return cols, (len(items) + cols - 1) / cols
}

// drawBelow draws the plot with its legend below it, outside the data, in cols columns
// of rows entries.
func (f *Figure) drawBelow(c draw.Canvas, p *plot.Plot, items legendItems, cols, rows int) {
	lh := legendHeight(rows)
	// The y label is drawn here, in one line along the left edge: gonum shortens the
	// axis to fit a long one.
	ylab := p.Y.Label.TextStyle
	ylab.Rotation = math.Pi / 2
	ylab.XAlign, ylab.YAlign = draw.XCenter, draw.YTop
	pc := draw.Crop(c, 0, 0, lh, 0)
	if f.YLabel != "" {
		c.FillText(ylab, vg.Point{X: c.Min.X + vg.Points(2), Y: (pc.Min.Y + pc.Max.Y) / 2}, strings.ReplaceAll(f.YLabel, "\n", "; "))
		pc = draw.Crop(pc, vg.Points(24), 0, 0, 0)
	}
	p.Y.Label.Text = ""
	p.Draw(pc)
	lc := draw.Crop(c, vg.Points(50), -vg.Points(8), 0, -(c.Max.Y - c.Min.Y - lh))
	drawLegendColumns(lc, items, cols, rows, legendFont)
}

// drawLegendColumns draws items on c in cols columns of rows entries, column by column.
func drawLegendColumns(c draw.Canvas, items legendItems, cols, rows int, pt float64) {
	w := (c.Max.X - c.Min.X) / vg.Length(cols)
	for k := 0; k < cols && k*rows < len(items); k++ {
		part := items[k*rows : min(len(items), (k+1)*rows)]
		l := part.legend(vg.Points(pt))
		l.Draw(draw.Crop(c, vg.Length(k)*w, -vg.Length(cols-1-k)*w, 0, -vg.Points(2)))
	}
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
	out := pdfDate.ReplaceAllFunc(db.Bytes(), func(m []byte) []byte {
		i := bytes.Index(m, []byte("(D:")) + 3
		for k := i; k < len(m); k++ {
			m[k] = '0'
		}
		return m
	})
	return sb.Bytes(), pb.Bytes(), out, nil
}
