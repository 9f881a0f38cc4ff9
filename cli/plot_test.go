package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// plotCSV is a small sweep-like CSV: two schemes, three intervals, two traces; the y of
// one row is missing and one overhead is 0.
const plotCSV = `id,trace,scheme,interval,overhead,scheme_log_entries
1,a,dualmap,1000,0.5,
2,a,dualmap,10000,0.05,
3,a,dualmap,100000,0.01,
4,a,undo,1000,0.02,30
5,a,undo,10000,0.004,3
6,a,undo,100000,0,1
7,b,dualmap,1000,0.7,
8,b,dualmap,10000,,
9,b,dualmap,100000,0.02,
10,b,undo,1000,0.03,31
11,b,undo,10000,0.005,4
12,b,undo,100000,0.001,2
`

func TestPlot(t *testing.T) {
	in := writeFile(t, "s.csv", []byte(plotCSV))
	for _, tt := range []struct {
		name  string
		args  []string
		notes []string // on standard error
	}{
		{"svg", []string{"--x", "interval", "--y", "overhead", "--series", "scheme", "--facet", "trace", "--log", "x,y", "-o", "f.svg"},
			[]string{"1 row without a value of overhead (--y) left out", "1 row with overhead <= 0 left out of the log y axis"}},
		{"png", []string{"--x", "interval", "--y", "overhead", "--series", "scheme", "--log", "x", "-o", "f.png"},
			[]string{"several points at one interval on every line (their rows differ in trace: give one to --series or --facet)"}},
		{"some lines", []string{"--x", "interval", "--y", "scheme_log_entries", "--series", "scheme", "-o", "f.svg"},
			[]string{"several points at one interval on scheme=undo (their rows differ in trace: give one to --series or --facet)"}},
		{"pdf", []string{"--x", "interval", "--y", "scheme_log_entries", "--facet", "trace", "--title", "log entries", "-o", "f.pdf"},
			[]string{"6 rows without a value of scheme_log_entries (--y) left out"}},
		{"one line", []string{"--x", "id", "--y", "interval", "-o", "one.svg"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"plot", in}, tt.args...)
			args[len(args)-1] = filepath.Join(dir, args[len(args)-1])
			code, out, errOut := runCLI(args...)
			if code != 0 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
			}
			for _, n := range tt.notes {
				if !strings.Contains(errOut, "vmsim: note: "+n+"\n") {
					t.Errorf("stderr lacks the note %q:\n%s", n, errOut)
				}
			}
			if len(tt.notes) == 0 && errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
			first, err := os.ReadFile(args[len(args)-1])
			if err != nil {
				t.Fatal(err)
			}
			magic := map[string]string{".svg": "<?xml", ".png": "\x89PNG", ".pdf": "%PDF"}[filepath.Ext(args[len(args)-1])]
			if !bytes.HasPrefix(first, []byte(magic)) {
				t.Errorf("the figure starts with %q, want %q", first[:min(len(first), 8)], magic)
			}
			// The same input gives the same bytes.
			if code, _, errOut := runCLI(args...); code != 0 {
				t.Fatalf("again: exit %d: %s", code, errOut)
			}
			if again, _ := os.ReadFile(args[len(args)-1]); !bytes.Equal(first, again) {
				t.Error("two plots of the same input differ")
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("%d files in the output folder, want the figure alone", len(ents))
			}
		})
	}
}

// The SVG says what a reader needs: the axes' keys, the series' and panels' names, the
// title, and labels of log ticks in the SI style.
func TestPlotSVGText(t *testing.T) {
	in := writeFile(t, "s.csv", []byte(plotCSV))
	out := filepath.Join(t.TempDir(), "f.svg")
	if code, _, errOut := runCLI("plot", in, "--x", "interval", "--y", "overhead", "--series", "scheme", "--facet", "trace", "--log", "x,y", "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, _ := os.ReadFile(out)
	for _, w := range []string{">interval<", ">overhead<", ">scheme=dualmap<", ">scheme=undo<", ">trace=a<", ">trace=b<", ">overhead against interval<", ">10k<", ">0.01<"} {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("the SVG lacks %s", w)
		}
	}
	if n := bytes.Count(b, []byte(">scheme=undo<")); n != 1 {
		t.Errorf("the legend names scheme=undo %d times, want once for both panels", n)
	}
}

// A sweep's JSON lines give the keys and values of its CSV.
func TestPlotJSONLKeysAreCSVColumns(t *testing.T) {
	tr := writeFile(t, "t.trace", []byte(strings.Repeat("1000 R\n1004 W\n2000 W\n3000 W\n", 20)))
	dir := t.TempDir()
	csvPath, jsonlPath := filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.jsonl")
	code, _, errOut := runCLI("sweep", "--trace", tr, "--set", "interval=4,8", "--set", "scheme=dualmap,undo", "--base", "fail_at=[5]", "--csv", csvPath, "--jsonl", jsonlPath)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, errOut)
	}
	run := runJSONFile(t, "run.jsonl", "--interval", "4", "--scheme", "undo", tr)
	read := func(path, format string) *dataTable {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tab, err := readTable(path, format, data)
		if err != nil {
			t.Fatal(err)
		}
		return tab
	}
	c, j, r := read(csvPath, "csv"), read(jsonlPath, "jsonl"), read(run, "jsonl")
	if len(c.rows) != 4 || len(j.rows) != 4 {
		t.Fatalf("%d CSV rows, %d JSON lines, want 4", len(c.rows), len(j.rows))
	}
	for _, k := range j.keys {
		if !slices.Contains(c.keys, k) && k != "params" {
			t.Errorf("JSON lines' key %s is not a CSV column", k)
		}
	}
	for _, k := range r.keys {
		if !slices.Contains(c.keys, k) && k != "trace_format" {
			t.Errorf("run --json's key %s is not a CSV column", k)
		}
	}
	for i := range c.rows {
		for k, cv := range c.rows[i].vals {
			jv := j.rows[i].vals[k]
			cf, cerr := strconv.ParseFloat(cv, 64)
			jf, jerr := strconv.ParseFloat(jv, 64)
			if cv != jv && (cerr != nil || jerr != nil || cf != jf) {
				t.Errorf("row %d, %s: CSV %q, JSON lines %q", i+1, k, cv, jv)
			}
		}
	}
	for _, k := range []string{"overhead", "cost_total_ns", "baseline_total_ns", "model_access_ns", "cost_set", "scheme_log_entries", "refs", "interval"} {
		if r.rows[0].vals[k] == "" {
			t.Errorf("run --json's line lacks %s", k)
		}
	}
}

func TestPlotBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.csv", plotCSV)
	jsonl := file("good.jsonl", `{"config": {"interval": 10}, "stats": {"refs": 5}}`+"\n"+`{"config": {"interval": 20}, "stats": {"refs": 7}}`+"\n")
	xy := []string{"--x", "interval", "--y", "overhead"}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no x", []string{good, "--y", "overhead"}, "--x KEY is required"},
		{"no y", []string{good, "--x", "interval"}, "--y KEY is required"},
		{"no output", append([]string{good}, xy...), "-o OUT.svg|png|pdf is required"},
		{"output format", append([]string{good, "-o", "f.gif"}, xy...), "-o f.gif: the figure's format is its extension, one of .svg, .png, .pdf"},
		{"input format", append([]string{file("s.txt", plotCSV)}, xy...), "s.txt: want a .csv file or a .jsonl"},
		{"log", append([]string{good, "--log", "z"}, xy...), `--log "z": want x, y or x,y`},
		{"missing file", append([]string{filepath.Join(dir, "none.csv")}, xy...), "none.csv: no such file"},
		{"unknown x", []string{good, "--x", "intervall", "--y", "overhead"}, `--x "intervall": no such key in ` + good + ` (did you mean interval?); the keys with numbers are: id, interval, overhead, scheme_log_entries`},
		{"text y", []string{good, "--x", "interval", "--y", "scheme"}, "--y scheme: no row of " + good + " has a number under it; the keys with numbers are: id, interval"},
		{"unknown series", append([]string{good, "--series", "schema"}, xy...), `--series "schema": no such key in ` + good + " (did you mean scheme?); the keys are: id, trace, scheme, interval, overhead, scheme_log_entries"},
		{"hyphen for underscore", []string{good, "--x", "interval", "--y", "scheme-log-entries"}, `--y "scheme-log-entries": no such key in ` + good + ` (did you mean scheme_log_entries?)`},
		{"far from any", []string{good, "--x", "interval", "--y", "bandwidth"}, `--y "bandwidth": no such key in ` + good + `; the keys`},
		{"unknown facet", []string{jsonl, "--facet", "trace", "--x", "interval", "--y", "refs"}, `--facet "trace": no such key in ` + jsonl + "; the keys are: interval, refs"},
		{"not a number", append([]string{file("nan.csv", "interval,overhead\n1,0.5\n2,lots\n")}, xy...), `nan.csv:3: --y overhead: "lots" is not a number`},
		{"infinite", append([]string{file("inf.csv", "interval,overhead\n1,0.5\n2,Inf\n")}, xy...), `inf.csv:3: --y overhead: "Inf" is not a number`},
		{"empty csv", append([]string{file("empty.csv", "")}, xy...), "empty.csv: empty: want a CSV header line"},
		{"header alone", append([]string{file("header.csv", "interval,overhead\n")}, xy...), "header.csv: no rows of results"},
		{"ragged csv", append([]string{file("ragged.csv", "interval,overhead\n1,2\n3\n")}, xy...), "ragged.csv:3: wrong number of fields"},
		{"quote csv", append([]string{file("quote.csv", "interval,overhead\n1,\"2\n")}, xy...), "quote.csv:2: extraneous or missing \" in quoted-field"},
		{"column twice", append([]string{file("twice.csv", "interval,interval\n1,2\n")}, xy...), `twice.csv:1: column "interval" twice`},
		{"nameless column", append([]string{file("nameless.csv", "interval,\n1,2\n")}, xy...), `nameless.csv:1: column 2 has no name`},
		{"no points", []string{file("nopoints.csv", "interval,overhead\n1,\n2,\n"), "--x", "interval", "--y", "overhead", "-o", "f.svg"}, "no row of " + filepath.Join(dir, "nopoints.csv") + " has a number under it"},
		{"log leaves none", []string{file("zero.csv", "interval,overhead\n1,0\n2,0\n"), "--x", "interval", "--y", "overhead", "--log", "y", "-o", "f.svg"}, "zero.csv: no points to plot"},
		{"bad json line", append([]string{file("bad.jsonl", "{\"a\": 1}\n\n{\"a\": }\n")}, xy...), "bad.jsonl:3: not a JSON line"},
		{"json not an object", append([]string{file("arr.jsonl", "{\"a\": 1}\n[1]\n")}, xy...), "arr.jsonl:2: the line is not a JSON object"},
		{"json two values", append([]string{file("two.jsonl", "{\"a\": 1} {\"a\": 2}\n")}, xy...), "two.jsonl:1: more than one JSON value"},
		{"json key twice", append([]string{file("dup.jsonl", `{"config": {"interval": 1}, "interval": 2}`+"\n")}, xy...), "dup.jsonl:1: the key interval twice (as interval)"},
		{"too many arguments", append([]string{good, good}, xy...), "accepts 1 arg(s)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "f.svg")
			args := append([]string{"plot"}, tt.args...)
			if !slices.Contains(args, "-o") && tt.name != "no output" {
				args = append(args, "-o", out)
			}
			t.Chdir(t.TempDir()) // a relative -o would land here
			code, stdout, errOut := runCLI(args...)
			if code != exitBad || stdout != "" || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "goroutine") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 with %q", code, stdout, errOut, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a figure was written")
			}
			if ents, _ := os.ReadDir("."); len(ents) != 0 {
				t.Errorf("%d files left in the working folder", len(ents))
			}
		})
	}
}

func FuzzPlotInput(f *testing.F) {
	f.Add([]byte(plotCSV), true)
	f.Add([]byte("a,b\n1,2\n\"x\"\"y\",3\n"), true)
	f.Add([]byte(`{"config": {"interval": 10, "fail_at": [1, 2]}, "stats": {"refs": 5, "scheme": {"log_entries": 3}}, "cost": {"set": {"name": "default", "values": {"access_ns": 0.5}}, "time": {"total_ns": 12.5}, "baseline": null, "overhead": null}}`+"\n"), false)
	f.Add([]byte("{\"a\": {\"b\": [{\"c\": 1}, null, true]}}\n\n{\"a_b\": 1}\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, isCSV bool) {
		format := "jsonl"
		if isCSV {
			format = "csv"
		}
		tab, err := readTable("in", format, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "in:") {
				t.Errorf("the error %q does not name the file", err)
			}
			return
		}
		if len(tab.rows) == 0 {
			t.Fatal("a table without rows")
		}
		for _, r := range tab.rows {
			if r.line < 1 {
				t.Errorf("line %d", r.line)
			}
			for k, v := range r.vals {
				if !slices.Contains(tab.keys, k) || v == "" {
					t.Errorf("row key %q (value %q) not among the keys %v, or empty", k, v, tab.keys)
				}
			}
		}
		for i, k := range tab.keys {
			if slices.Contains(tab.keys[:i], k) {
				t.Errorf("key %q twice", k)
			}
		}
		// Whatever the keys, plotting them makes figures or an error, never a panic (the
		// figures are not rendered: too slow for a fuzz target).
		if num := tab.numericKeys(); len(num) > 0 {
			o := &plotOptions{x: num[0], y: num[len(num)-1], series: tab.keys[0], facet: tab.keys[len(tab.keys)-1], logY: true}
			figs, err := figures(tab, o)
			if err == nil && len(figs) == 0 {
				t.Error("no figures and no error")
			}
		}
	})
}
