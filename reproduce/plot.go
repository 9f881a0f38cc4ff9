package reproduce

import (
	"bytes"
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one line of a figure.
type Series struct {
	Name string
	X, Y []float64
}

// Figure is a line plot, written as SVG and PNG.
type Figure struct {
	Name           string // file name stem, e.g. "fig1"
	Title, Caption string
	XLabel, YLabel string
	LogY           bool // log scale on y as well as x; points with y <= 0 are left out
	Series         []Series
}

func (f *Figure) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text, p.Y.Label.Text = f.XLabel, f.YLabel
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	if f.LogY {
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	var args []any
	for _, s := range f.Series {
		var xys plotter.XYs
		for i := range s.X {
			if s.X[i] > 0 && (!f.LogY || s.Y[i] > 0) {
				xys = append(xys, plotter.XY{X: s.X[i], Y: s.Y[i]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		args = append(args, s.Name, xys)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: no points to plot", f.Name)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return nil, err
	}
	return p, nil
}

// Render returns the figure as SVG and as PNG (at 150 dpi).
func (f *Figure) Render() (svg, png []byte, err error) {
	p, err := f.plot()
	if err != nil {
		return nil, nil, err
	}
	const w, h = 6 * vg.Inch, 4 * vg.Inch
	sc := vgsvg.New(w, h)
	p.Draw(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	ic := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(150))
	p.Draw(draw.New(ic))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}
	return sb.Bytes(), pb.Bytes(), nil
}
