package reproduce

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMulticoreStudy runs the multi-core study on the corpus's multi-threaded programs and
// checks its outputs: a row per trace, core count and scheme; global checkpoints and rolls
// back every core; rebound never more cores than global; the same bytes from a second
// run; a README whose verdicts are computed from the rows.
func TestMulticoreStudy(t *testing.T) {
	dir := t.TempDir()
	var progress bytes.Buffer
	opt := Options{Dir: dir, Study: "multicore", Command: "vmsim reproduce --study multicore", Version: "test",
		Report: NewProgress(&progress, false)}
	if err := Run(opt); err != nil {
		t.Fatal(err)
	}
	runs := len(mcCorpus) * len(mcCores) * 3
	if lines := strings.Split(strings.TrimSpace(progress.String()), "\n"); len(lines) != runs ||
		!strings.HasPrefix(lines[runs-1], fmt.Sprintf("reproduce: multicore: %d/%d runs done (reduce-mt on 16 cores, rebound), ", runs, runs)) {
		t.Errorf("progress: %d lines, want one a run (%d):\n%s", len(lines), runs, progress.String())
	}
	out := filepath.Join(dir, "multicore")
	data, err := os.ReadFile(filepath.Join(out, "multicore.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(mcCorpus)*len(mcCores)*2; len(rows) != want {
		t.Fatalf("%d lines in multicore.csv, want %d", len(rows), want)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(r []string, k string) float64 {
		v, err := strconv.ParseFloat(r[col[k]], 64)
		if err != nil {
			t.Fatalf("%s %q: %v", k, r[col[k]], err)
		}
		return v
	}
	global := map[string]float64{}
	for _, r := range rows[1:] {
		key := r[col["trace"]] + "/" + r[col["cores"]]
		cores := num(r, "cores")
		if num(r, "checkpoints") == 0 || num(r, "rollbacks") == 0 {
			t.Errorf("%s %s: no checkpoint or no rollback", key, r[col["scheme"]])
		}
		switch r[col["scheme"]] {
		case "global":
			if num(r, "cores_per_checkpoint_mean") != cores || num(r, "cores_per_rollback_mean") != cores {
				t.Errorf("%s global: %v cores per checkpoint, %v per rollback, want %v", key, r[col["cores_per_checkpoint_mean"]], r[col["cores_per_rollback_mean"]], cores)
			}
			global[key] = num(r, "cores_per_rollback_mean")
		case "rebound":
			if c := num(r, "cores_per_rollback_mean"); c < 1 || c > global[key] {
				t.Errorf("%s rebound: %v cores per rollback, want 1 to global's %v", key, c, global[key])
			}
		default:
			t.Errorf("scheme %q", r[col["scheme"]])
		}
	}
	readme, err := os.ReadFile(filepath.Join(out, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### stencil-mt", "### reduce-mt", "Rebound's advantage in overhead", "grows from 2 to 16 cores on", "not run"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README: no %q", want)
		}
	}
	for _, f := range mcFigures(nil, nil) {
		for _, ext := range []string{".svg", ".png", ".pdf", ".csv"} {
			if _, err := os.Stat(filepath.Join(out, f.Name+ext)); err != nil {
				t.Error(err)
			}
		}
	}
	// The same bytes again.
	dir2 := t.TempDir()
	opt.Dir, opt.Report = dir2, nil
	if err := Run(opt); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"multicore.csv", "README.md", "mc-overhead.svg", "mc-lost-work.png"} {
		a, _ := os.ReadFile(filepath.Join(out, name))
		b, _ := os.ReadFile(filepath.Join(dir2, "multicore", name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestMcVerdict: the verdict follows the advantages.
func TestMcVerdict(t *testing.T) {
	for _, tt := range []struct {
		name string
		adv  []float64
		want string
	}{
		{"grows at every step", []float64{0.01, 0.02, 0.05, 0.1}, "grows with every doubling"},
		{"larger at the end only", []float64{0.01, 0.03, 0.02, 0.05}, "does not grow at every step"},
		{"shrinks", []float64{0.05, 0.03, 0.02, 0.01}, "does not grow with the cores"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			mcVerdict(func(f string, a ...any) { b.WriteString(f) }, "x", tt.adv)
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("%q, want %q", b.String(), tt.want)
			}
		})
	}
}
