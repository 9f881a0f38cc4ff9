package reproduce

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

func smallOptions(dir string, jobs int) Options {
	return Options{Dir: dir, Corpus: []string{"sort", "awk"}, Intervals: []int64{1000, 100000, 10_000_000},
		Jobs: jobs, Costs: sim.DefaultCostModel(), Command: "vmsim reproduce (test)", Version: "test", Study: "paper"}
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
			if got := strings.TrimSuffix(rows[1+i][1+2*col], noCkpt); got != want {
				t.Errorf("%s interval %d: table 2 says %s events per 1000, independent count %s", name, iw.Interval, got, want)
			}
		}
	}
}
