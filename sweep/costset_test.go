package sweep

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/cost"
)

// TestCostSetRecorded: points of different cost sets, even of the same values under
// another name, have different IDs, and every row records its set's name and values.
func TestCostSetRecorded(t *testing.T) {
	mine := cost.Set{Name: "mine.json", Model: cost.Default()}
	other := mine
	other.Model.TrapNs = 69_000
	renamed := cost.DefaultSet()
	renamed.Name = "copy.json"
	ids := map[string]string{}
	for _, set := range []cost.Set{cost.DefaultSet(), mine, other, renamed} {
		spec := &Spec{Traces: []string{"corpus:sort"}, Base: map[string]any{"interval": 1_000_000}, CostBase: &set}
		points, got, err := spec.Points()
		if err != nil {
			t.Fatal(err)
		}
		if got != set {
			t.Errorf("set %+v, want %+v", got, set)
		}
		if prev, ok := ids[points[0].ID]; ok {
			t.Errorf("set %s has the ID of set %s", set.Name, prev)
		}
		ids[points[0].ID] = set.Name
		b, err := runCSV(t, points, Options{Costs: got})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		cols := recs[0]
		name, trap := slices.Index(cols, "cost_set"), slices.Index(cols, "model_trap_ns")
		if recs[1][name] != set.Name || recs[1][trap] != formatFloat(set.Model.TrapNs) {
			t.Errorf("row says cost set %q, trap_ns %q; want %q, %v", recs[1][name], recs[1][trap], set.Name, set.Model.TrapNs)
		}
	}
}
