package sweep

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/internal/minescheme"
	"github.com/vmsim/vmsim/scheme"
)

// mineRegistry returns a new registry of the built-in schemes and "mine", a scheme with
// settings and counters of its own (--mine-header; mine_snapshots, ...).
func mineRegistry() *scheme.Registry { return minescheme.Registry() }

// TestSweepOfAnotherRegistry: a spec whose Registry holds a scheme of its own takes that
// scheme's settings as keys (in a spec file too), runs its points and their baselines
// (scheme none) with that registry, and writes a CSV whose columns include its counters;
// sweep merge joins the shards of such a sweep. The built-in registry knows none of it.
func TestSweepOfAnotherRegistry(t *testing.T) {
	reg := mineRegistry()
	dir := t.TempDir()
	trace := writeVMT(t, dir, "dense.vmt", denseTrace())
	specPath := filepath.Join(dir, "spec.yaml")
	os.WriteFile(specPath, []byte("traces: ["+trace+"]\nbase: {scheme: mine, interval: 500}\nvary: {mine-header: [8, 16]}\n"), 0o644)
	if _, err := ReadSpec(specPath); err == nil || !strings.Contains(err.Error(), `no setting "mine-header"`) {
		t.Fatalf("ReadSpec with the built-ins: %v", err)
	}
	spec, err := ReadSpecIn(specPath, reg)
	if err != nil {
		t.Fatal(err)
	}
	points, costs, err := spec.Points()
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 2 || points[0].Registry != reg || points[1].Config.Params["mine-header"] != "16" {
		t.Fatalf("points %+v", points)
	}
	out := filepath.Join(dir, "out.csv")
	files, err := OpenOutputs(points, Output{out, CSV})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(points, Options{Jobs: 1, Costs: costs}, files[0])
	if cerr := files[0].Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Baseline.Total <= 0 {
		t.Fatalf("results %+v", res)
	}
	data, _ := os.ReadFile(out)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("%v: %q", err, data)
	}
	col := slices.Index(rows[0], "scheme_mine_snapshots")
	if col < 0 || slices.Contains(Columns(), "scheme_mine_snapshots") {
		t.Fatalf("columns %v", rows[0])
	}
	for _, r := range rows[1:] {
		if r[col] == "" || r[col] == "0" {
			t.Errorf("mine_snapshots %q, want the checkpoints' count", r[col])
		}
	}
	// A rerun finds both points done; merge rebuilds the file from it as one shard.
	if again, err := OpenOutputs(points, Output{out, CSV}); err != nil || !again[0].Has(points[1].ID) {
		t.Fatalf("resume: %v", err)
	} else {
		again[0].Close()
	}
	var merged bytes.Buffer
	if err := Merge(&merged, CSV, points, []string{out}); err != nil || !bytes.Equal(merged.Bytes(), data) {
		t.Fatalf("merge: %v\n%s", err, merged.Bytes())
	}
	// The built-in registry does not know the scheme.
	if _, _, err := (&Spec{Traces: spec.Traces, Base: map[string]any{"scheme": "mine"}}).Points(); err == nil {
		t.Error("a spec without the registry took scheme mine")
	}
}
