package reproduce

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Facets is a figure of panels in a grid, each a Figure drawn in the style of Figure,
// the axes the same in every panel (their ranges those of all panels' points), one legend
// on the right for all and the title above them all. A series is drawn in the same colour
// and marks in every panel when it is at the same index of every panel's Series (give
// every panel every series, empty where it has no points). The panels' scales, labels and
// ticks are those of the first panel's fields.
type Facets struct {
	Title  string
	Panels []*Figure // Precondition: at least one, each with a series of points to draw
	Cols   int       // panels a row; 0: about the square root of their number
}

// The size of a panel of Facets.
const panelW, panelH = 3.6 * vg.Inch, 2.7 * vg.Inch

// Render returns the figure as SVG, PNG (at 150 dpi) and PDF, as Figure.Render does.
func (g *Facets) Render() (svg, png, pdf []byte, err error) {
	if len(g.Panels) == 0 {
		return nil, nil, nil, fmt.Errorf("no panels to plot")
	}
	cols := g.Cols
	if cols <= 0 {
		cols = int(math.Ceil(math.Sqrt(float64(len(g.Panels)))))
	}
	rows := (len(g.Panels) + cols - 1) / cols
	ps := make([]*plot.Plot, len(g.Panels))
	for i, f := range g.Panels {
		p, _, err := f.plot()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("panel %q: %w", f.Title, err)
		}
		ps[i] = p
	}
	// One range for every panel's axes.
	for _, axis := range []func(p *plot.Plot) *plot.Axis{
		func(p *plot.Plot) *plot.Axis { return &p.X },
		func(p *plot.Plot) *plot.Axis { return &p.Y },
	} {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range ps {
			lo, hi = min(lo, axis(p).Min), max(hi, axis(p).Max)
		}
		for _, p := range ps {
			axis(p).Min, axis(p).Max = lo, hi
		}
	}
	// The legend: that of every series of every panel, each once, in the order of the
	// series.
	all := &Figure{Name: g.Title, LinX: g.Panels[0].LinX, LogY: g.Panels[0].LogY}
	for _, f := range g.Panels {
		for k, s := range f.Series {
			if k == len(all.Series) {
				all.Series = append(all.Series, Series{Name: s.Name})
			}
			all.Series[k].X = append(all.Series[k].X, s.X...)
			all.Series[k].Y = append(all.Series[k].Y, s.Y...)
		}
	}
	_, leg, err := all.plot()
	if err != nil {
		return nil, nil, nil, err
	}
	wmax := vg.Length(0)
	for _, s := range all.Series {
		wmax = max(wmax, leg.TextStyle.Width(s.Name))
	}
	lw := wmax + leg.ThumbnailWidth + 3*leg.Padding + vg.Points(6)
	titleStyle := plot.New().Title.TextStyle
	titleStyle.XAlign, titleStyle.YAlign = draw.XCenter, draw.YTop
	th := titleStyle.Height(g.Title) + vg.Points(16)
	w, h := vg.Length(cols)*panelW+lw, vg.Length(rows)*panelH+th
	drawAll := func(c draw.Canvas) {
		c.FillText(titleStyle, vg.Point{X: (c.Min.X + c.Max.X - lw) / 2, Y: c.Max.Y - vg.Points(4)}, g.Title)
		grid := draw.Crop(c, 0, -lw, 0, -th)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(4), PadY: vg.Points(4)}
		table := make([][]*plot.Plot, rows)
		for r := range table {
			table[r] = make([]*plot.Plot, cols)
		}
		for i, p := range ps {
			table[i/cols][i%cols] = p
		}
		// The plotting areas of a row or a column line up.
		cs := plot.Align(table, tiles, grid)
		for i, p := range ps {
			p.Draw(cs[i/cols][i%cols])
		}
		lc := draw.Crop(c, c.Max.X-c.Min.X-lw, 0, 0, -th-vg.Points(20))
		leg.Top, leg.Left = true, true
		leg.Draw(lc)
	}
	return renderWith(w, h, drawAll)
}
