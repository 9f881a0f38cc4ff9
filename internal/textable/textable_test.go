package textable

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// reference draws the table with tablewriter, as vmsim did before this package.
func reference(t *testing.T, align []Align, plain bool, header []string, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	var opts []tablewriter.Option
	if align != nil {
		al := tw.Alignment{}
		for _, a := range align {
			al = append(al, map[Align]tw.Align{Default: tw.AlignDefault, Left: tw.AlignLeft, Right: tw.AlignRight}[a])
		}
		opts = append(opts, tablewriter.WithAlignment(al))
	}
	if plain {
		opts = append(opts, tablewriter.WithHeaderAutoFormat(tw.Off))
	}
	w := tablewriter.NewTable(&b, opts...)
	if header != nil {
		w.Header(toAny(header)...)
	}
	for _, r := range rows {
		if err := w.Append(toAny(r)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Render(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func draw(align []Align, plain bool, header []string, rows [][]string) string {
	var b bytes.Buffer
	tb := New(&b, align...)
	if plain {
		tb.PlainHeader()
	}
	if header != nil {
		tb.Header(header...)
	}
	for _, r := range rows {
		tb.Append(r...)
	}
	if err := tb.Render(); err != nil {
		panic(err)
	}
	return b.String()
}

// TestSameAsTablewriter: every table of the shapes vmsim draws comes out byte for byte as
// tablewriter draws it.
func TestSameAsTablewriter(t *testing.T) {
	L, R := Left, Right
	for _, tt := range []struct {
		name   string
		align  []Align
		plain  bool
		header []string
		rows   [][]string
	}{
		{"run's counters", []Align{L, R}, false, []string{"counter", "value"}, [][]string{{"refs", "1700019"}, {"page_faults", "1438"}}},
		{"diff's settings, default alignment", nil, false, []string{"setting", "A", "B"}, [][]string{{"frames", "64", "128"}, {"trace", "/tmp/a long/path.rw", "-"}}},
		{"diff's counters", []Align{L, R, R, R, R}, false, []string{"counter", "A", "B", "change", "relative"}, [][]string{{"refs", "10", "12", "+2", "+20.00%"}}},
		{"interval's, header as given", []Align{L, R, R}, true, []string{"interval", "seconds", "T_w/Ts"}, [][]string{{"Young", "1234.5", "1.00012"}}},
		{"trace stats' intervals", []Align{R, R, R, R, R}, false, []string{"interval", "intervals", "page writes", "mean", "max"}, [][]string{{"1000", "3", "40", "13.33", "20"}}},
		{"header only", []Align{L, R}, false, []string{"counter", "value"}, nil},
		{"rows only", nil, false, nil, [][]string{{"a", "b"}}},
		{"ragged rows", nil, false, []string{"x", "y"}, [][]string{{"a"}, {"a", "b", "c"}}},
		{"fewer alignments than columns", []Align{L}, false, []string{"a", "b"}, [][]string{{"1", "22222"}}},
		{"header formatting", nil, false, []string{"value_x.y", "v1.5", "a.b", "._", " pad "}, [][]string{{"1", "2", "3", "4", "5"}}},
		{"cells trimmed, tabs, lines", []Align{L, R}, false, []string{"k", "v"}, [][]string{{" sp ", "tab\there"}, {"multi\nline", "x"}, {"", ""}}},
		{"wide and ambiguous characters", []Align{L, R}, false, []string{"k", "v"}, [][]string{{"wide 漢字", "δ ≥ 2M"}, {"é", "—"}}},
		{"centred header of odd gaps", nil, false, []string{"a", "bb"}, [][]string{{"xxxx", "yyyyyy"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := reference(t, tt.align, tt.plain, tt.header, tt.rows)
			if got := draw(tt.align, tt.plain, tt.header, tt.rows); got != want {
				t.Errorf("got\n%s\nwant (tablewriter)\n%s", got, want)
			}
		})
	}
}

// TestSameAsTablewriterRandom: random tables of short cells of one line (vmsim writes no
// others; tablewriter places some lines of cells broken by newlines and tabs otherwise).
func TestSameAsTablewriterRandom(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 1))
	const alphabet = "abcXYZ019 _.-%+/é漢≥" // one line a cell, as vmsim writes them
	cell := func() string {
		var s strings.Builder
		for range r.IntN(12) {
			s.WriteString(string([]rune(alphabet)[r.IntN(len([]rune(alphabet)))]))
		}
		return s.String()
	}
	for i := range 300 {
		cols := 1 + r.IntN(5)
		var align []Align
		if r.IntN(2) == 0 {
			for range cols {
				align = append(align, Align(1+r.IntN(2)))
			}
		}
		header := make([]string, cols)
		for j := range header {
			header[j] = cell()
		}
		rows := make([][]string, r.IntN(4))
		for j := range rows {
			rows[j] = make([]string, cols)
			for k := range rows[j] {
				rows[j][k] = cell()
			}
		}
		plain := r.IntN(2) == 0
		want := reference(t, align, plain, header, rows)
		if got := draw(align, plain, header, rows); got != want {
			t.Fatalf("seed %d, table %d (align %v, plain %v, header %q, rows %q): got\n%s\nwant (tablewriter)\n%s", seed, i, align, plain, header, rows, got, want)
		}
	}
}
