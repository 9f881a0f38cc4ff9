package reproduce

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

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
		var own []Series
		for _, s := range f.Series {
			if s.Group == g {
				own = append(own, s)
			}
		}
		pts := f.dodged(own, floor, xmin, xmax, ymin, ymax)
		for i, s := range f.Series {
			if s.Group != g {
				continue
			}
			ok, err := f.addSeries(p, &leg, s, i, pts[0])
			pts = pts[1:]
			if err != nil {
				return nil, nil, err
			}
			if ok {
				drawn = append(drawn, s.Name)
			}
		}
		var none legendItems // the reference lines' one entry is the figure's (drawPanels)
		xlo, xhi := f.xRange(xmin, xmax)
		if err := f.refLines(p, &none, xlo, xhi); err != nil {
			return nil, nil, err
		}
		p.X.Min, p.X.Max = xlo, xhi
		p.Y.Min, p.Y.Max = ymin, ymax
		f.setYRange(p, ymin, ymax)
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
// of each row of panels, and the figure's size: as wide as its columns (two panels leave
// no empty third column).
func panelLayout(ps []panel) (cw vg.Length, legRows []int, w, h vg.Length) {
	cw = (10.5*vg.Inch - vg.Points(24)) / panelCols
	w = vg.Points(24) + vg.Length(min(max(len(ps), 1), panelCols))*cw
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
		// A panel with another below it shows no x label; in a row where one does (above
		// an empty place), the others keep the label's room, blank, so that the row's
		// plots are level.
		last := min(len(ps), (r+1)*panelCols) - 1
		rowLabelled := last+panelCols >= len(ps)
		for col := 0; col < panelCols && r*panelCols+col < len(ps); col++ {
			i := r*panelCols + col
			pn := ps[i]
			cell := draw.Canvas{Canvas: body.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: body.Min.X + vg.Length(col)*cw, Y: top - panelPlotH - lh},
				Max: vg.Point{X: body.Min.X + vg.Length(col+1)*cw, Y: top}}}
			pn.p.Y.Label.Text = ""
			// A label wider than the panel's plotting area makes gonum narrow the area to
			// centre it: the label is set at the legend's size, in two lines at its
			// bracket when it is long.
			pn.p.X.Label.TextStyle.Font.Size = vg.Points(panelFont + 1)
			if l := pn.p.X.Label.Text; len(l) > 24 {
				pn.p.X.Label.Text = strings.Replace(l, " (", "\n(", 1)
			}
			if i+panelCols < len(ps) {
				blank := ""
				if rowLabelled {
					blank = strings.Repeat(" \n", strings.Count(pn.p.X.Label.Text, "\n")) + " "
				}
				pn.p.X.Label.Text = blank
			}
			pn.p.Draw(draw.Crop(cell, vg.Points(4), -vg.Points(8), lh, -vg.Points(4)))
			lc := draw.Crop(cell, vg.Points(40), -vg.Points(8), 0, -panelPlotH)
			cols, rows := legendGrid(pn.leg, cw, 2, panelFont)
			drawLegendColumns(lc, pn.leg, cols, rows, panelFont)
		}
		top -= panelPlotH + lh
	}
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
	// A margin at the top and the right: gonum sets the title against the top edge and
	// the last x's marker and tick label against the right one, which cut them.
	pc := draw.Crop(c, 0, -vg.Points(8), lh, -vg.Points(6))
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
