package reproduce

import (
	"bytes"
	"testing"
)

func TestFacetsRender(t *testing.T) {
	panel := func(title string, ys ...float64) *Figure {
		return &Figure{Title: title, XLabel: "interval", YLabel: "overhead", LogY: true,
			Series: []Series{{Name: "dualmap", X: []float64{10, 100}, Y: ys[:2]}, {Name: "undo", X: []float64{10, 100}, Y: ys[2:]}}}
	}
	g := &Facets{Title: "overhead against interval", Panels: []*Figure{panel("trace=a", 1, 0.1, 0.01, 0.001), panel("trace=b", 2, 0.2, 0.02, 0.002), panel("trace=c", 3, 0.3, 0.03, 0.003)}}
	svg, png, pdf, err := g.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Error("not a PNG and a PDF")
	}
	for _, w := range []string{">overhead against interval<", ">trace=a<", ">trace=b<", ">trace=c<"} {
		if !bytes.Contains(svg, []byte(w)) {
			t.Errorf("the SVG lacks %s", w)
		}
	}
	if n := bytes.Count(svg, []byte(">undo<")); n != 1 {
		t.Errorf("undo is in the legend %d times, want once", n)
	}
	svg2, png2, pdf2, err := g.Render()
	if err != nil || !bytes.Equal(svg, svg2) || !bytes.Equal(png, png2) || !bytes.Equal(pdf, pdf2) {
		t.Errorf("two renderings differ (%v)", err)
	}
	if _, _, _, err := (&Facets{Title: "none"}).Render(); err == nil {
		t.Error("no panels: no error")
	}
}
