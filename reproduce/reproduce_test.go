package reproduce

import (
	"bytes"
	"encoding/csv"
	"errors"
	"github.com/vmsim/vmsim/cost"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

func smallOptions(dir string, jobs int) Options {
	return Options{Dir: dir, Corpus: []string{"sort", "awk"}, Intervals: []int64{1000, 100000, 10_000_000},
		Jobs: jobs, Costs: cost.DefaultSet(), Command: "vmsim reproduce (test)", Version: "test", Study: "paper"}
}

// TestReproduce runs a small study twice, with one job and with two, and expects the same
// bytes in every file; then checks Table 2 against an independent count of the distinct
// pages written per interval (traces.Summarize), which equals the protection events when
// nothing fails.
func TestReproduce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small study")
	}
	a, b := t.TempDir(), t.TempDir()
	if err := Run(smallOptions(a, 1)); err != nil {
		t.Fatal(err)
	}
	if err := Run(smallOptions(b, 2)); err != nil {
		t.Fatal(err)
	}
	want := []string{"README.md", "table1.txt", "table1.md", "table1.csv", "table1.tex", "table2.txt", "table2.md",
		"table2.csv", "table2.tex", "data/points.csv", "data/points.jsonl"}
	for _, f := range []string{"fig1", "fig2", "fig3", "fig4"} {
		want = append(want, f+".svg", f+".png", f+".pdf", f+".csv")
	}
	for _, f := range want {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s differs between runs (or is empty)", f)
		}
	}
	// A resumed run over complete data changes nothing.
	opt := smallOptions(b, 2)
	opt.Resume = true
	if err := Run(opt); err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs after a resumed run", f)
		}
	}

	f, _ := os.Open(filepath.Join(a, "table2.csv"))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	es, _ := corpus.Manifest()
	for col, name := range []string{"sort", "awk"} {
		var e corpus.Entry
		for _, x := range es {
			if x.Name == name {
				e = x
			}
		}
		tf, err := corpus.Open(e)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := traces.Summarize(tf, traces.SummaryOptions{PageSize: PageSize, Intervals: []int64{1000, 100000, 10_000_000}})
		if err != nil {
			t.Fatal(err)
		}
		for i, iw := range sum.Intervals {
			want := strconv.FormatFloat(float64(iw.PageWrites)*1000/float64(sum.Accesses), 'f', 3, 64)
			// One row a trace and interval, interval by interval: trace, interval,
			// checkpoints, events, copies, status.
			row := rows[1+2*i+col]
			if row[0] != name || row[1] != strconv.FormatInt(iw.Interval, 10) {
				t.Fatalf("table 2 row %v, want %s at %d", row, name, iw.Interval)
			}
			if got := row[3]; got != want {
				t.Errorf("%s interval %d: table 2 says %s events per 1000, independent count %s", name, iw.Interval, got, want)
			}
		}
	}
}

// tinyStudy returns the paper study's points on a tiny trace at the given intervals.
func tinyStudy(t *testing.T, tr string, intervals ...int64) []sweep.Point {
	t.Helper()
	s := &study{opt: Options{Corpus: []string{}, Traces: []string{tr}, Intervals: intervals, Costs: cost.DefaultSet(), Version: "test"},
		intervals: intervals, at: map[[3]string]int{}}
	if err := s.collectTraces(); err != nil {
		t.Fatal(err)
	}
	if err := s.makePoints(); err != nil {
		t.Fatal(err)
	}
	return s.points
}

// TestRunPointsReplacesDataOnlyWhenDone: a run that fails (or is interrupted) leaves the
// previous data files as they were, its finished points in the partial files beside them;
// --resume carries on from those without running them again, and only then are the data
// files replaced and the partial files removed.
func TestRunPointsReplacesDataOnlyWhenDone(t *testing.T) {
	tr := tinyTrace(t, 20_000, 16)
	first, second := tinyStudy(t, tr, 1000), tinyStudy(t, tr, 3000)
	data := filepath.Join(t.TempDir(), "data")
	opt := Options{Costs: cost.DefaultSet(), Version: "test", Jobs: 2}
	if _, err := runPoints(data, first, opt); err != nil {
		t.Fatal(err)
	}
	names := []string{"points.csv", "points.jsonl"}
	read := func() [][]byte {
		var out [][]byte
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(data, n))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	before := read()

	// A second study with a point that cannot run: its other points run, the run fails.
	bad := second[0]
	bad.ID, bad.Config.Scheme = "00000000000000ff", "no-such-scheme"
	if _, err := runPoints(data, append(slices.Clone(second), bad), opt); err == nil {
		t.Fatal("a run with a failing point succeeded")
	}
	for i, b := range read() {
		if !bytes.Equal(b, before[i]) {
			t.Errorf("%s changed by a failed run", names[i])
		}
	}
	done, err := sweep.ReadJSONL(filepath.Join(data, "points.jsonl"+partialSuffix))
	if err != nil || len(done) != len(second) {
		t.Fatalf("partial file: %d results (%v), want the %d points that ran", len(done), err, len(second))
	}

	// Resumed: nothing runs again; the data files then hold exactly the second study.
	ropt := opt
	ropt.Resume = true
	var progress [][2]int
	ropt.Progress = func(done, total int) { progress = append(progress, [2]int{done, total}) }
	res, err := runPoints(data, second, ropt)
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 || progress[0] != [2]int{len(second), len(second)} {
		t.Errorf("resumed run's progress %v: want every point done from the start", progress)
	}
	got, err := sweep.ReadJSONL(filepath.Join(data, "points.jsonl"))
	if err != nil || len(got) != len(second) || len(res) != len(second) {
		t.Fatalf("data: %d results (%v), %d returned, want %d", len(got), err, len(res), len(second))
	}
	for i, r := range got {
		if r.ID != second[i].ID {
			t.Errorf("data line %d is point %s, want %s", i+1, r.ID, second[i].ID)
		}
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(data, n+partialSuffix)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s%s left behind (%v)", n, partialSuffix, err)
		}
	}

	// Resumed again over complete data: the points come from the data files, unchanged.
	after := read()
	progress = nil
	if _, err := runPoints(data, second, ropt); err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 || progress[0] != [2]int{len(second), len(second)} {
		t.Errorf("resumed run over complete data: progress %v", progress)
	}
	for i, b := range read() {
		if !bytes.Equal(b, after[i]) {
			t.Errorf("%s changed by a resumed run over complete data", names[i])
		}
	}
}

// TestReproduceRefusesForeignData: a file of the name of a data file that vmsim did not
// write is refused, before anything runs, with its name in the error, and left as it was;
// nothing is written.
func TestReproduceRefusesForeignData(t *testing.T) {
	smallGrids(t)
	tr := tinyTrace(t, 20_000, 16)
	for _, tc := range []struct {
		name, study, file, content string
	}{
		{"a user's points.csv", "paper", "data/points.csv", "name,score\nann,3\nbob,4\n"},
		{"a user's points.jsonl", "paper", "data/points.jsonl", "{\"name\":\"ann\"}\n"},
		{"a user's points.csv without a newline", "paper", "data/points.csv", "name,score"},
		{"a user's points.csv.partial", "paper", "data/points.csv.partial", "my notes\n"},
		{"a user's compare/data/points.csv, both studies", "all", "compare/data/points.csv", "x,y\n1,2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.file)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			opt := Options{Dir: dir, Corpus: []string{}, Traces: []string{tr}, Intervals: []int64{1000}, Costs: cost.DefaultSet(),
				Command: "vmsim reproduce (test)", Version: "test", Study: tc.study}
			err := Run(opt)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("err = %v, want a refusal naming %s", err, path)
			}
			if b, _ := os.ReadFile(path); string(b) != tc.content {
				t.Errorf("%s now holds %q, want it untouched", tc.file, b)
			}
			var files []string
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files = append(files, p)
				}
				return nil
			})
			if len(files) != 1 {
				t.Errorf("files in --dir after the refusal: %v, want only %s", files, path)
			}
		})
	}
}
