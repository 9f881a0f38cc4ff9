package cli

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/internal/atomicfile"
)

// reportMaxRows is how many rows of a file a report's table shows; the rest are in the
// raw data, which the report links to.
const reportMaxRows = 1000

func newReportCmd(stderr io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report DIR|FILE... -o report.html",
		Short: "Build one self-contained HTML page from sweep outputs or a results folder",
		Long: `Build one HTML page from the results in the files and folders given: the --csv and
--jsonl outputs of 'vmsim sweep', outputs of 'vmsim run --json' one a line, the
per-interval statistics of 'vmsim run --stats-every' (JSON lines with "from", "to" and
"delta"), and the figures (.svg) of a results folder such as 'vmsim reproduce' writes. A
folder is read whole, its files in the order of their paths; other files in it are left
out.

For each results file the page shows its configuration (the settings that are the same in
every row, then those that vary), a table of its rows (at most 1000; click a column's head
to sort by it, numerically when every value is a number), a figure in the style of 'vmsim
plot' (for a sweep: overhead, or else the modeled time, against the first numeric setting
that varies, a line for each value of another, a panel for each trace; for per-interval
statistics: the counter that changes most over the intervals against the access at each
interval's end), and a link to the raw file (relative to the page). The figures (.svg) given or found in a
folder are shown as images, their bytes inside the page: as images they run no script
of theirs. The page needs no network (its script and style
are inline) and is the same bytes for the same inputs.

Opened with the fragment #selftest, the page sorts its first table by a numeric column,
checks the order and writes "selftest: ok" (or what failed) into the element
#selftest-result: the browser test (scripts/report-browser-test.sh) reads it.

Exit status: 0 on success, 2 for a usage error or bad input (the message names the file
and line); no page is left behind then.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o report.html is required")
			}
			if err := checkOutputs(args, output{"-o", out}); err != nil {
				return err
			}
			page, notes, err := buildReport(args, out)
			for _, n := range notes {
				fmt.Fprintf(stderr, "vmsim: note: %s\n", n)
			}
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(out, page); err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the page's file, .html (required)")
	return cmd
}

// reportInputs returns the files of args to report on, each once, in order: a file as
// given, a folder's results files (.csv, .jsonl, .ndjson, .svg) in the order of paths.
// found says which files were found in a folder rather than named.
func reportInputs(args []string) (files []string, found map[string]bool, err error) {
	found = map[string]bool{}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, err
		}
		if !st.IsDir() {
			if reportKind(a) == "" {
				return nil, nil, fmt.Errorf("%s: want a .csv, .jsonl, .ndjson or .svg file, or a folder", a)
			}
			files = append(files, a)
			continue
		}
		// A folder named through a symbolic link is walked (links inside it are not
		// followed): WalkDir does not descend into a root that is a link, unless named
		// with a trailing separator.
		root := a
		if lst, err := os.Lstat(a); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
			root = a + string(filepath.Separator)
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && reportKind(p) != "" {
				files = append(files, p)
				found[p] = true
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	var once []string
	for _, f := range files {
		if !slices.Contains(once, f) {
			once = append(once, f)
		}
	}
	if len(once) == 0 {
		return nil, nil, fmt.Errorf("%s: no results files (.csv, .jsonl, .ndjson, .svg)", strings.Join(args, ", "))
	}
	return once, found, nil
}

// reportKind is the kind of a results file by its extension: csv, jsonl, svg or "".
func reportKind(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv"
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".svg":
		return "svg"
	}
	return ""
}

// buildReport returns the page for the results in args, to be written to out (links to
// the raw files are relative to out's folder), and notes for standard error.
func buildReport(args []string, out string) (page []byte, notes []string, err error) {
	files, found, err := reportInputs(args)
	if err != nil {
		return nil, nil, err
	}
	outDir, err := filepath.Abs(filepath.Dir(out))
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	b.WriteString(reportHead)
	b.WriteString("<h1>vmsim report</h1>\n<p>vmsim " + html.EscapeString(version) + "; ")
	fmt.Fprintf(&b, "%d %s:</p>\n<ul class=\"toc\">\n", len(files), plural(len(files), "file", "files"))
	for i, f := range files {
		fmt.Fprintf(&b, "<li><a href=\"#f%d\">%s</a></li>\n", i+1, html.EscapeString(filepath.ToSlash(f)))
	}
	b.WriteString("</ul>\n")
	for i, f := range files {
		href := filepath.ToSlash(f)
		if abs, err := filepath.Abs(f); err == nil {
			if rel, err := filepath.Rel(outDir, abs); err == nil {
				href = filepath.ToSlash(rel)
			}
		}
		fmt.Fprintf(&b, "<section id=\"f%d\">\n<h2>%s</h2>\n<p class=\"raw\">raw data: <a href=\"%s\">%s</a></p>\n",
			i+1, html.EscapeString(filepath.ToSlash(f)), html.EscapeString(fileHref(href)), html.EscapeString(filepath.Base(f)))
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, notes, err
		}
		kind := reportKind(f)
		if kind == "svg" {
			img, err := svgImage(f, data)
			if err != nil {
				return nil, notes, err
			}
			b.WriteString("<figure>" + img + "</figure>\n</section>\n")
			continue
		}
		t, err := readTable(f, kind, data)
		if err != nil && found[f] {
			// A file of a folder that is not a table of results: linked, not shown.
			notes = append(notes, fmt.Sprintf("%v: linked, not shown", err))
			fmt.Fprintf(&b, "<p>Not shown: %s</p>\n</section>\n", html.EscapeString(err.Error()))
			continue
		}
		if err != nil {
			return nil, notes, err
		}
		n, err := reportTable(&b, t)
		notes = append(notes, n...)
		if err != nil {
			return nil, notes, err
		}
		b.WriteString("</section>\n")
	}
	b.WriteString(reportTail)
	return b.Bytes(), notes, nil
}

// inlineSVG returns an SVG that vmsim drew (its text escaped by the plotting library)
// from its <svg element on, to inline in HTML.
func inlineSVG(path string, data []byte) (string, error) {
	i := bytes.Index(data, []byte("<svg"))
	if i < 0 {
		return "", fmt.Errorf("%s: not an SVG file (no <svg element)", path)
	}
	return string(data[i:]), nil
}

// svgImage returns an <img> element showing an SVG file, its bytes in a data URL. An SVG
// shown as an image runs no script and loads nothing: a figure from someone else's results
// folder cannot act in the page (inlined, an onload attribute or a <script> in it would).
func svgImage(path string, data []byte) (string, error) {
	if !bytes.Contains(data, []byte("<svg")) {
		return "", fmt.Errorf("%s: not an SVG file (no <svg element)", path)
	}
	return fmt.Sprintf(`<img alt="%s" src="data:image/svg+xml;base64,%s">`,
		html.EscapeString(filepath.Base(path)), base64.StdEncoding.EncodeToString(data)), nil
}

// fileHref is the URL of the file at the relative or absolute slash-separated path p:
// its characters escaped, and a relative path that would read as a scheme
// ("javascript:…", a file's name in someone else's folder) made one with "./".
func fileHref(p string) string {
	u := &url.URL{Path: p}
	return u.String()
}

// reportTable writes t's configuration, figure and table to b; it returns notes.
func reportTable(b *bytes.Buffer, t *dataTable) ([]string, error) {
	cfg := configKeys()
	perInterval := slices.Contains(t.keys, "from") && slices.Contains(t.keys, "to") &&
		slices.ContainsFunc(t.keys, func(k string) bool { return strings.HasPrefix(k, "delta_") })
	var fixed, varying []string
	for _, k := range t.keys {
		if !perInterval && !slices.Contains(cfg, k) {
			continue
		}
		if len(t.groups(k)) == 1 {
			fixed = append(fixed, k)
		} else {
			varying = append(varying, k)
		}
	}
	if perInterval {
		b.WriteString("<p>Per-interval statistics: each row the change of the counters over one interval of accesses.</p>\n")
		fixed, varying = nil, nil
	}
	if len(fixed)+len(varying) > 0 {
		b.WriteString("<h3>Configuration</h3>\n<dl class=\"config\">\n")
		for _, k := range fixed {
			fmt.Fprintf(b, "<dt>%s</dt><dd>%s</dd>\n", html.EscapeString(k), html.EscapeString(t.rows[0].vals[k]))
		}
		for _, k := range varying {
			fmt.Fprintf(b, "<dt>%s</dt><dd>varies: %s</dd>\n", html.EscapeString(k), html.EscapeString(strings.Join(t.groups(k), ", ")))
		}
		b.WriteString("</dl>\n")
	}
	o := reportFigure(t, varying, perInterval)
	var notes []string
	if o != nil {
		svg, _, _, err := plotTable(t, o)
		for _, w := range o.warnings {
			notes = append(notes, t.path+": "+w)
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: no figure: %v", t.path, err))
		} else {
			s, err := inlineSVG(t.path, svg)
			if err != nil {
				return notes, err
			}
			b.WriteString("<figure>" + s + "</figure>\n")
		}
	}
	rows := t.rows
	if len(rows) > reportMaxRows {
		fmt.Fprintf(b, "<p>The first %d of %d rows; all of them are in the raw data.</p>\n", reportMaxRows, len(rows))
		rows = rows[:reportMaxRows]
	}
	b.WriteString("<table class=\"sortable\">\n<thead><tr>")
	for _, k := range t.keys {
		fmt.Fprintf(b, "<th>%s</th>", html.EscapeString(k))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, k := range t.keys {
			fmt.Fprintf(b, "<td>%s</td>", html.EscapeString(r.vals[k]))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	return notes, nil
}

// reportFigure chooses the figure of t: nil when there is none to draw.
func reportFigure(t *dataTable, varying []string, perInterval bool) *plotOptions {
	numeric := t.numericKeys()
	o := &plotOptions{format: "svg", out: "report.svg"}
	if perInterval {
		// The counter that changes most over the intervals.
		best, bestN := "", 1
		for _, k := range numeric {
			if strings.HasPrefix(k, "delta_") {
				if n := len(t.groups(k)); n > bestN {
					best, bestN = k, n
				}
			}
		}
		if best == "" {
			return nil
		}
		o.x, o.y = "to", best
		o.title = best + " per interval"
		return o
	}
	for _, y := range []string{"overhead", "cost_total_ns"} {
		if slices.Contains(numeric, y) {
			o.y = y
			break
		}
	}
	if o.y == "" {
		return nil
	}
	for _, k := range varying {
		if k == "trace" {
			o.facet = k
			continue
		}
		if o.x == "" && slices.Contains(numeric, k) {
			o.x = k
		} else if o.series == "" {
			o.series = k
		}
	}
	if o.x == "" {
		return nil
	}
	lo, hi := 0.0, 0.0
	for i, g := range t.groups(o.x) {
		v, _ := strconv.ParseFloat(g, 64)
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	if lo > 0 && hi/lo >= 100 {
		o.logX = true
	}
	return o
}

// reportHead and reportTail frame the page: its style, and its script (sorting the
// tables, and the self-test of #selftest).
const reportHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vmsim report</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; font-size: 85%; display: block; overflow-x: auto; max-height: 40em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #eee; cursor: pointer; position: sticky; top: 0; }
th.asc::after { content: " \25B2"; } th.desc::after { content: " \25BC"; }
dl.config { display: grid; grid-template-columns: max-content auto; gap: 0 1em; }
dt { font-weight: bold; } dd { margin: 0; }
figure svg { max-width: 100%; height: auto; }
section { border-top: 1px solid #999; margin-top: 2em; }
</style>
</head>
<body>
<p id="selftest-result"></p>
`

const reportTail = `<script>
"use strict";
function cellValue(row, i) { return row.cells[i].textContent; }
function sortTable(table, col, desc) {
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var numeric = rows.every(function (r) { var v = cellValue(r, col); return v === "" || !isNaN(Number(v)); });
  rows.sort(function (a, b) {
    var x = cellValue(a, col), y = cellValue(b, col), c;
    if (numeric) { c = (x === "" ? -Infinity : Number(x)) - (y === "" ? -Infinity : Number(y)); }
    else { c = x < y ? -1 : x > y ? 1 : 0; }
    return desc ? -c : c;
  });
  rows.forEach(function (r) { body.appendChild(r); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.className = i === col ? (desc ? "desc" : "asc") : "";
  });
}
document.querySelectorAll("table.sortable").forEach(function (table) {
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener("click", function () { sortTable(table, i, th.className === "asc"); });
  });
});
function selftest() {
  var out = document.getElementById("selftest-result");
  var table = document.querySelector("table.sortable");
  var figures = document.querySelectorAll("figure svg").length;
  if (!table) { out.textContent = "selftest: failed: no table"; return; }
  var rows = table.tBodies[0].rows, col = -1;
  for (var i = 0; i < table.tHead.rows[0].cells.length && col < 0; i++) {
    var all = Array.prototype.every.call(rows, function (r) { var v = cellValue(r, i); return v !== "" && !isNaN(Number(v)); });
    var distinct = new Set(Array.prototype.map.call(rows, function (r) { return cellValue(r, i); })).size;
    if (all && distinct > 1) { col = i; }
  }
  if (col < 0) { out.textContent = "selftest: failed: no numeric column to sort"; return; }
  sortTable(table, col, true);
  var vals = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return Number(cellValue(r, col)); });
  for (var j = 1; j < vals.length; j++) {
    if (vals[j - 1] < vals[j]) { out.textContent = "selftest: failed: column " + col + " not sorted"; return; }
  }
  out.textContent = "selftest: ok: sorted " + vals.length + " rows by " + table.tHead.rows[0].cells[col].textContent + "; figures " + figures;
}
if (location.hash === "#selftest") { selftest(); }
</script>
</body>
</html>
`
