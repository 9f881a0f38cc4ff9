// Package textable draws the box-drawn tables of vmsim's terminal output (run's counters,
// trace stats, diff, interval, the study's tables), exactly as the tablewriter package
// (github.com/olekukonko/tablewriter, v1, default style) draws them for the cells vmsim
// writes. It exists for start-up time: tablewriter's package initialisation (a width
// cache of 8,192 entries, a regular expression, locale detection) ran in every vmsim
// process, `vmsim version` included, and was most of its start-up (issue 26).
package textable

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// Align is a column's alignment.
type Align int8

const (
	Default Align = iota // rows left, header centred
	Left
	Right
)

// Table collects a header and rows; Render draws them.
type Table struct {
	w      io.Writer
	align  []Align
	header []string
	rows   [][]string
	// plainHeader: the header as given (tablewriter's WithHeaderAutoFormat(tw.Off)),
	// not upper-cased with '_' and most '.' as spaces.
	plainHeader bool
}

// New returns a table that Render draws to w, column i aligned by align[i] (a column
// beyond align: Default).
func New(w io.Writer, align ...Align) *Table { return &Table{w: w, align: align} }

// PlainHeader keeps the header's cells as given.
func (t *Table) PlainHeader() *Table { t.plainHeader = true; return t }

// Header sets the header's cells.
func (t *Table) Header(cells ...string) { t.header = cells }

// Append adds a row.
func (t *Table) Append(cells ...string) { t.rows = append(t.rows, cells) }

// words splits a header cell where the class of its characters changes (lower case,
// upper case, digit, other), an upper-case letter going with the lower-case ones after
// it, and drops the pieces that are blank or "_": tablewriter's tw.SplitCamelCase.
func words(src string) []string {
	if !utf8.ValidString(src) {
		return []string{src}
	}
	class := func(r rune) int {
		switch {
		case unicode.IsLower(r):
			return 1
		case unicode.IsUpper(r):
			return 2
		case unicode.IsDigit(r):
			return 3
		}
		return 4
	}
	var groups [][]rune
	last := 0
	for _, r := range src {
		c := class(r)
		if c == last {
			groups[len(groups)-1] = append(groups[len(groups)-1], r)
		} else {
			groups = append(groups, []rune{r})
		}
		last = c
	}
	for i := 0; i < len(groups)-1; i++ {
		if unicode.IsUpper(groups[i][0]) && unicode.IsLower(groups[i+1][0]) {
			g := groups[i]
			groups[i+1] = append([]rune{g[len(g)-1]}, groups[i+1]...)
			groups[i] = g[:len(g)-1]
		}
	}
	out := []string{}
	for _, g := range groups {
		if s := string(g); len(g) > 0 && strings.TrimSpace(s) != "" && s != "_" {
			out = append(out, s)
		}
	}
	return out
}

// title formats a header cell's words as tablewriter's tw.Title does.
func title(name string) string {
	orig := len(name)
	rs := []rune(name)
	numOrSpace := func(r rune) bool { return (r >= '0' && r <= '9') || r == ' ' }
	for i, r := range rs {
		switch r {
		case '_':
			rs[i] = ' '
		case '.':
			if (i != 0 && !numOrSpace(rs[i-1])) || (i != len(rs)-1 && !numOrSpace(rs[i+1])) {
				rs[i] = ' '
			}
		}
	}
	name = strings.TrimSpace(string(rs))
	if name == "" && orig > 0 {
		name = " "
	}
	return strings.ToUpper(name)
}

var width = (&runewidth.Condition{EastAsianWidth: false}).StringWidth

// lines splits a cell into its lines, each trimmed as tablewriter trims them.
func lines(cell string) []string {
	ls := strings.Split(strings.TrimSpace(cell), "\n")
	for i, l := range ls {
		ls[i] = strings.ReplaceAll(strings.TrimSpace(l), "\t", "    ")
	}
	return ls
}

// Render writes the table.
func (t *Table) Render() error {
	cols := len(t.header)
	for _, r := range t.rows {
		cols = max(cols, len(r))
	}
	widths := make([]int, cols)
	split := func(cells []string, head bool) [][]string {
		out := make([][]string, cols)
		for i := range cols {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if head && !t.plainHeader {
				// Trimmed, then formatted: a cell of only '_' and '.' is one space wide.
				out[i] = []string{title(strings.Join(words(strings.TrimSpace(c)), " "))}
			} else {
				out[i] = lines(c)
			}
			for _, l := range out[i] {
				widths[i] = max(widths[i], width(l))
			}
		}
		return out
	}
	var head [][]string
	if t.header != nil {
		head = split(t.header, true)
	}
	body := make([][][]string, len(t.rows))
	for i, r := range t.rows {
		body[i] = split(r, false)
	}
	var b strings.Builder
	rule := func(l, m, r string) {
		b.WriteString(l)
		for i, w := range widths {
			if i > 0 {
				b.WriteString(m)
			}
			b.WriteString(strings.Repeat("─", w+2))
		}
		b.WriteString(r + "\n")
	}
	row := func(cells [][]string, head bool) {
		n := 0
		for _, c := range cells {
			n = max(n, len(c))
		}
		for k := range n {
			b.WriteString("│")
			for i, c := range cells {
				s := ""
				if k < len(c) {
					s = c[k]
				}
				a := Default
				if i < len(t.align) {
					a = t.align[i]
				}
				gap := widths[i] - width(s)
				switch {
				case a == Right:
					s = strings.Repeat(" ", gap) + s
				case a == Default && head:
					l := gap / 2
					s = strings.Repeat(" ", l) + s + strings.Repeat(" ", gap-l)
				default:
					s += strings.Repeat(" ", gap)
				}
				b.WriteString(" " + s + " │")
			}
			b.WriteString("\n")
		}
	}
	rule("┌", "┬", "┐")
	if head != nil {
		row(head, true)
		if len(body) > 0 {
			rule("├", "┼", "┤")
		}
	}
	for _, r := range body {
		row(r, false)
	}
	rule("└", "┴", "┘")
	_, err := io.WriteString(t.w, b.String())
	return err
}
