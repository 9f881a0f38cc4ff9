package reproduce

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/vmsim/vmsim/internal/textable"
)

// Table is a table of results, written as a terminal table, Markdown, CSV and LaTeX.
type Table struct {
	Name    string // file name stem, e.g. "table1"
	Title   string
	Caption string // what the table shows, for the README and the LaTeX caption
	Header  []string
	Rows    [][]string
	// Align: true for a right-aligned (numeric) column.
	Right []bool
	// DataHeader and Data, when set, are what CSV writes instead of Header and Rows: the
	// table's numbers for a program to read, one observation a row, every numeric column
	// a plain number (or empty), and a "status" column saying why a number is missing
	// ("no ckpt": the interval is longer than a trace, which took no checkpoint).
	DataHeader []string
	Data       [][]string
}

// Text renders the table for a terminal.
func (t *Table) Text() ([]byte, error) {
	var b bytes.Buffer
	al := make([]textable.Align, len(t.Header))
	for i := range al {
		al[i] = textable.Left
		if i < len(t.Right) && t.Right[i] {
			al[i] = textable.Right
		}
	}
	fmt.Fprintf(&b, "%s\n", t.Title)
	w := textable.New(&b, al...).PlainHeader()
	w.Header(t.Header...)
	for _, r := range t.Rows {
		w.Append(r...)
	}
	if err := w.Render(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Markdown renders the table as a GitHub Markdown table.
func (t *Table) Markdown() []byte {
	var b bytes.Buffer
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	line(t.Header)
	b.WriteString("|")
	for i := range t.Header {
		if i < len(t.Right) && t.Right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		line(r)
	}
	return b.Bytes()
}

// CSV renders the table as CSV, the header first: DataHeader and Data when set, else
// Header and Rows.
func (t *Table) CSV() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if t.DataHeader != nil {
		w.Write(t.DataHeader)
		w.WriteAll(t.Data)
		return b.Bytes(), w.Error()
	}
	w.Write(t.Header)
	w.WriteAll(t.Rows)
	return b.Bytes(), w.Error()
}

// LaTeX renders the table as a LaTeX table environment (booktabs).
func (t *Table) LaTeX() []byte {
	var b bytes.Buffer
	spec := ""
	for i := range t.Header {
		if i < len(t.Right) && t.Right[i] {
			spec += "r"
		} else {
			spec += "l"
		}
	}
	fmt.Fprintf(&b, "%% %s\n\\begin{table}\n\\centering\n\\caption{%s}\n\\label{tab:%s}\n\\begin{tabular}{%s}\n\\toprule\n",
		t.Title, texEscape(t.Caption), t.Name, spec)
	row := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteString(" & ")
			}
			b.WriteString(texEscape(c))
		}
		b.WriteString(" \\\\\n")
	}
	row(t.Header)
	b.WriteString("\\midrule\n")
	for _, r := range t.Rows {
		row(r)
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	return b.Bytes()
}

var texReplacer = strings.NewReplacer(`\`, `\textbackslash{}`, `&`, `\&`, `%`, `\%`, `$`, `\$`, `#`, `\#`,
	`_`, `\_`, `{`, `\{`, `}`, `\}`, `~`, `\textasciitilde{}`, `^`, `\textasciicircum{}`, `×`, `$\times$`, `≥`, `$\geq$`)

func texEscape(s string) string { return texReplacer.Replace(s) }
