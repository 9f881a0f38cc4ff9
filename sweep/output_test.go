package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// denseTrace returns a small trace that makes the schemes count: writes and reads over
// 40 pages, several to a page and a cache line.
func denseTrace() []traces.Record {
	var recs []traces.Record
	for i := range 3000 {
		kind := traces.Read
		if i%4 != 3 {
			kind = traces.Write
		}
		page := uint64(i*7%40) * 4096
		recs = append(recs, traces.Record{Addr: page + uint64(i%64)*64, Size: 8, Kind: kind})
	}
	return recs
}

// TestCSVColumns: every CSV header a sweep writes, for each registered scheme alone and
// for a sweep of them all, names each column once; read back with encoding/csv into a map
// from column to value, each row holds its configured scheme under "scheme" and each of
// that scheme's own counters under "scheme_KEY" (the others empty), as its JSON line does.
func TestCSVColumns(t *testing.T) {
	trace := writeVMT(t, t.TempDir(), "dense.vmt", denseTrace())
	type schemes struct {
		name  string
		names []string
	}
	var cases []schemes
	for _, n := range scheme.Names() {
		cases = append(cases, schemes{n, []string{n}})
	}
	cases = append(cases, schemes{"mixed", scheme.Names()})
	// Every registered scheme's own counters have a column (those of a key have one).
	var ownCols []string
	for _, i := range scheme.All() {
		for _, c := range i.OwnDefs() {
			ownCols = append(ownCols, "scheme_"+c.Key)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var vs []any
			for _, n := range c.names {
				vs = append(vs, n)
			}
			spec := &Spec{Traces: []string{trace}, Version: "test", Base: map[string]any{"interval": 100, "cache_size": "4K"}, Vary: map[string][]any{"scheme": vs}}
			points, costs, err := spec.Points()
			if err != nil {
				t.Fatal(err)
			}
			csvData, jsonData := runFiles(t, points, Options{Jobs: 2, Costs: costs, Version: "test"})
			recs, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			header := recs[0]
			at := map[string]int{}
			for i, col := range header {
				if j, dup := at[col]; dup {
					t.Fatalf("column %q at %d and %d", col, j, i)
				}
				at[col] = i
			}
			for _, col := range ownCols {
				if _, ok := at[col]; !ok {
					t.Fatalf("no column %q", col)
				}
			}
			var results []*Result
			for _, l := range bytes.Split(bytes.TrimSpace(jsonData), []byte("\n")) {
				r, err := readResult(l)
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, r)
			}
			if len(recs)-1 != len(results) || len(results) != len(c.names) {
				t.Fatalf("%d CSV rows, %d JSON lines, %d schemes", len(recs)-1, len(results), len(c.names))
			}
			nonzero := 0 // own counters above 0: the test compares numbers, not only blanks
			for i, r := range results {
				row := map[string]string{}
				for col, j := range at {
					row[col] = recs[i+1][j]
				}
				for col, want := range map[string]string{"id": r.ID, "trace_sha256": r.TraceHash, "vmsim_version": "test",
					"scheme": c.names[i], "overhead": formatFloat(r.Overhead), "cost_total_ns": formatFloat(r.Cost.Total)} {
					if row[col] != want {
						t.Errorf("row %d: %s = %q, want %q", i+1, col, row[col], want)
					}
				}
				info, _ := scheme.Lookup(c.names[i])
				if r.Stats.Scheme.Len() != len(info.OwnDefs()) {
					t.Errorf("%s: %d own counters in the JSON, %d registered", c.names[i], r.Stats.Scheme.Len(), len(info.OwnDefs()))
				}
				for _, col := range ownCols {
					want := ""
					if v, ok := r.Stats.Scheme.Get(strings.TrimPrefix(col, "scheme_")); ok {
						want = strconv.FormatInt(v, 10)
					}
					if row[col] != want {
						t.Errorf("%s: %s = %q, want %q", c.names[i], col, row[col], want)
					}
					if want != "" && want != "0" {
						nonzero++
					}
				}
			}
			var whole bytes.Buffer
			if err := WriteCSV(&whole, results); err != nil || !bytes.Equal(whole.Bytes(), csvData) {
				t.Errorf("WriteCSV wrote other bytes than the sweep (%v)", err)
			}
			if c.name == "mixed" && nonzero < 10 {
				t.Errorf("only %d own counters above 0: the trace does not exercise the schemes", nonzero)
			}
		})
	}
}

// readResult reads one JSON line of results.
func readResult(line []byte) (*Result, error) {
	var r Result
	err := json.Unmarshal(line, &r)
	return &r, err
}

// tamperCSV returns data, a CSV results file, with column col of its line-th line (the
// header is line 1) set to val.
func tamperCSV(t *testing.T, data []byte, line int, col, val string) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(recs[0], col)
	if i < 0 {
		t.Fatalf("no column %q", col)
	}
	recs[line-1][i] = val
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(recs)
	return b.Bytes()
}

// tamperJSONL returns data, a JSON-lines results file, with its line-th line edited by
// edit (on the line's object, numbers kept as written).
func tamperJSONL(t *testing.T, data []byte, line int, edit func(top, config map[string]any)) []byte {
	t.Helper()
	lines := bytes.SplitAfter(data, []byte("\n"))
	d := json.NewDecoder(bytes.NewReader(lines[line-1]))
	d.UseNumber()
	var top map[string]any
	if err := d.Decode(&top); err != nil {
		t.Fatal(err)
	}
	edit(top, top["config"].(map[string]any))
	b, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	lines[line-1] = append(b, '\n')
	return bytes.Join(lines, nil)
}

// TestResultLinesChecked: resuming (Run on an existing file) and merging trust a result
// line only if every configuration column (the trace's hash, the vmsim version, each
// setting) is its point's, as recomputed from the spec: a line edited, or claiming
// another version or trace under the point's ID, is refused with the file and line, and
// the file is left as it was.
func TestResultLinesChecked(t *testing.T) {
	trace := writeVMT(t, t.TempDir(), "dense.vmt", denseTrace())
	spec := &Spec{Traces: []string{trace}, Version: "v1", Vary: map[string][]any{"scheme": {"dualmap", "undo"}, "interval": {100, 1000}}}
	points, costs, err := spec.Points()
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Jobs: 2, Costs: costs, Version: "v1"}
	csvData, jsonData := runFiles(t, points, opt)
	id := points[1].ID // the second point (interval 100, undo): CSV line 3, JSON line 2
	for _, c := range []struct {
		name string
		f    Format
		data []byte
		want string // after "FILE:LINE: point ID: "; "" when the file must be taken
	}{
		{"csv as written", CSV, csvData, ""},
		{"jsonl as written", JSONL, jsonData, ""},
		{"jsonl keys reordered", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) {}), ""},
		{"csv version", CSV, tamperCSV(t, csvData, 3, "vmsim_version", "v0"), `vmsim_version is "v0", but the point's is "v1"`},
		{"csv trace hash", CSV, tamperCSV(t, csvData, 3, "trace_sha256", strings.Repeat("0", 64)), "trace_sha256 is"},
		{"csv scheme", CSV, tamperCSV(t, csvData, 3, "scheme", "dualmap"), `scheme is "dualmap", but the point's is "undo"`},
		{"csv setting", CSV, tamperCSV(t, csvData, 3, "interval", "999"), `interval is "999", but the point's is "100"`},
		{"csv trace", CSV, tamperCSV(t, csvData, 3, "trace", "other.vmt"), `trace is "other.vmt"`},
		{"jsonl version", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { top["vmsim_version"] = "v0" }), `vmsim_version is "v0", but the point's is "v1"`},
		{"jsonl trace hash", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { top["trace_sha256"] = "x" }), `trace_sha256 is "x"`},
		{"jsonl no version", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { delete(top, "vmsim_version") }), "no vmsim_version"},
		{"jsonl scheme", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { cfg["scheme"] = "dualmap" }), `scheme is "dualmap"`},
		{"jsonl setting", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { cfg["interval"] = json.Number("999") }), `interval is "999"`},
		{"jsonl key case", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { cfg["Interval"] = cfg["interval"]; delete(cfg, "interval") }), `config key "Interval" is not a setting`},
		{"jsonl unknown key", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { cfg["color"] = "red" }), `config key "color" is not a setting`},
		{"jsonl null setting", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { cfg["lenient"] = nil }), "config lenient is null"},
		{"jsonl setting missing", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { delete(cfg, "seed") }), "config has no seed"},
		{"jsonl params", JSONL, tamperJSONL(t, jsonData, 2, func(top, cfg map[string]any) { cfg["params"] = map[string]any{"log-entries": "5"} }), `params is "log-entries=5", but the point's is ""`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "r."+string(c.f))
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			line := 3
			if c.f == JSONL {
				line = 2
			}
			want := fmt.Sprintf("%s:%d: point %s: %s", path, line, id, c.want)
			// Merge, the file as the only shard.
			var b bytes.Buffer
			err := Merge(&b, c.f, points, []string{path})
			if c.want == "" && err != nil {
				t.Errorf("merge: %v", err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), want) || b.Len() > 0) {
				t.Errorf("merge: %v (%d bytes written); want an error with %q", err, b.Len(), want)
			}
			// Resume: every point is in the file, so nothing is to run.
			open := OpenCSV
			if c.f == JSONL {
				open = OpenJSONL
			}
			out, err := open(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(points, opt, out)
			out.Close()
			if c.want == "" && (err != nil || len(res) != 0) {
				t.Errorf("resume: %v, %d points run", err, len(res))
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
				t.Errorf("resume: %v; want an error with %q", err, want)
			}
			// Resume through OpenOutputs, given the points, with a new output beside it:
			// refused before the new one is created.
			other := filepath.Join(dir, "new.csv")
			files, err := OpenOutputs(points, Output{path, c.f}, Output{other, CSV})
			for _, f := range files {
				f.Close()
			}
			if c.want == "" && err != nil {
				t.Errorf("OpenOutputs: %v", err)
			}
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("OpenOutputs: %v; want an error with %q", err, want)
				}
				if _, err := os.Stat(other); err == nil {
					t.Error("OpenOutputs created an output despite refusing another")
				}
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, c.data) {
				t.Error("the file changed")
			}
		})
	}
}

// TestOpenOutputsAllOrNothing: outputs are opened together, and refused together before
// any is created or changed: two outputs naming one file (however spelled, or linked),
// one locked by another sweep, one that is not a results file, one that cannot be
// created.
func TestOpenOutputsAllOrNothing(t *testing.T) {
	header := csvLine(Columns())
	cutCSV := append(bytes.Clone(header), "0123456789ab"...) // a line cut short: cut off when opened
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, dir string) []Output
		want  string // "" when the outputs must open
	}{
		{"two new files", func(t *testing.T, dir string) []Output {
			return []Output{{filepath.Join(dir, "r.csv"), CSV}, {filepath.Join(dir, "r.jsonl"), JSONL}}
		}, ""},
		{"one path twice", func(t *testing.T, dir string) []Output {
			return []Output{{filepath.Join(dir, "r.out"), CSV}, {filepath.Join(dir, "r.out"), JSONL}}
		}, "r.out (csv) and " + "DIR/r.out (jsonl) are the same file"},
		{"one path spelled twice", func(t *testing.T, dir string) []Output {
			return []Output{{filepath.Join(dir, "r.csv"), CSV}, {dir + "/sub/../r.csv", CSV}}
		}, "are the same file"},
		{"a hard link", func(t *testing.T, dir string) []Output {
			os.WriteFile(filepath.Join(dir, "a.jsonl"), nil, 0o644)
			if err := os.Link(filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")); err != nil {
				t.Skip("no hard links here:", err)
			}
			return []Output{{filepath.Join(dir, "c.csv"), CSV}, {filepath.Join(dir, "a.jsonl"), JSONL}, {filepath.Join(dir, "b.jsonl"), JSONL}}
		}, "are the same file"},
		{"second locked", func(t *testing.T, dir string) []Output {
			locked := filepath.Join(dir, "r.jsonl")
			f, err := OpenJSONL(locked)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			os.WriteFile(filepath.Join(dir, "old.csv"), cutCSV, 0o644)
			return []Output{{filepath.Join(dir, "r.csv"), CSV}, {filepath.Join(dir, "old.csv"), CSV}, {locked, JSONL}}
		}, "r.jsonl: another vmsim sweep is writing this file"},
		{"second not results", func(t *testing.T, dir string) []Output {
			os.WriteFile(filepath.Join(dir, "r.jsonl"), []byte("hello\n"), 0o644)
			return []Output{{filepath.Join(dir, "r.csv"), CSV}, {filepath.Join(dir, "r.jsonl"), JSONL}}
		}, "r.jsonl:1: not a result line"},
		{"second cannot be created", func(t *testing.T, dir string) []Output {
			return []Output{{filepath.Join(dir, "r.csv"), CSV}, {filepath.Join(dir, "none", "r.jsonl"), JSONL}}
		}, "none/r.jsonl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			outs := c.setup(t, dir)
			before := map[string][]byte{}
			for _, o := range outs {
				if b, err := os.ReadFile(o.Path); err == nil {
					before[o.Path] = b
				}
			}
			files, err := OpenOutputs(nil, outs...)
			for _, f := range files {
				defer f.Close()
			}
			if c.want == "" {
				if err != nil || len(files) != len(outs) {
					t.Fatalf("%d files, %v", len(files), err)
				}
				return
			}
			want := strings.ReplaceAll(c.want, "DIR", dir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v; want one with %q", err, want)
			}
			for _, o := range outs {
				got, err := os.ReadFile(o.Path)
				if b, existed := before[o.Path]; !existed && err == nil {
					t.Errorf("%s created despite the refusal", o.Path)
				} else if existed && !bytes.Equal(got, b) {
					t.Errorf("%s changed despite the refusal", o.Path)
				}
			}
		})
	}
}

// TestOutputToFifo: an output that is not a regular file (here a fifo) is written only,
// the CSV header first, as a file is.
func TestOutputToFifo(t *testing.T) {
	dir := t.TempDir()
	trace := writeVMT(t, dir, "dense.vmt", denseTrace())
	points, costs, err := (&Spec{Traces: []string{trace}, Base: map[string]any{"interval": 100}}).Points()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := runFiles(t, points, Options{Costs: costs})
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no fifo:", err)
	}
	got := make(chan []byte)
	go func() { b, _ := os.ReadFile(fifo); got <- b }()
	f, err := OpenCSV(fifo)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(points, Options{Costs: costs}, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("the fifo carried:\n%s\nwant:\n%s", b, want)
	}
}

// TestOutputNotTrusted: an existing results file counts its lines as points done, so one
// that another user may have written is refused before it is read: another user's, one
// anyone can write to, or another user's link or fifo in a shared sticky folder.
func TestOutputNotTrusted(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.csv")
	if err := os.WriteFile(open, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCSV(open); err == nil || !strings.Contains(err.Error(), "anyone can write to it (mode 0666)") {
		t.Errorf("OpenCSV of a file anyone can write to: %v", err)
	}
	groupw := filepath.Join(dir, "group.csv")
	if err := os.WriteFile(groupw, nil, 0o664); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(groupw, 0o664); err != nil {
		t.Fatal(err)
	}
	f, err := OpenCSV(groupw)
	if err != nil {
		t.Fatalf("OpenCSV of a group-writable file of the user's: %v", err)
	}
	f.Close()
	if os.Geteuid() != 0 {
		t.Skip("needs root for files of another user")
	}
	theirs := filepath.Join(dir, "theirs.jsonl")
	if err := os.WriteFile(theirs, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenJSONL(theirs); err == nil || !strings.Contains(err.Error(), "owned by user 65534") {
		t.Errorf("OpenJSONL of another user's file: %v", err)
	}
	shared := filepath.Join(dir, "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(shared, "r.csv")
	if err := os.Symlink(groupw, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCSV(link); err == nil || !strings.Contains(err.Error(), "a symbolic link of user 65534's") {
		t.Errorf("OpenCSV through another user's link in a shared folder: %v", err)
	}
}
