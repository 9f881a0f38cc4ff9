package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/schedule"
)

// TestSweepCoresKeys: cores, schedule and quantum are keys of a sweep, columns of its
// outputs, and checked as vmsim run checks them.
func TestSweepCoresKeys(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "%08x %c\n", (i*72)%512, "RW"[i%3/2]) // 8 lines, one thread
	}
	path := filepath.Join(t.TempDir(), "t.rw")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Traces: []string{path}, Base: map[string]any{"scheme": "undo", "cache_size": "1K", "interval": 500},
		Vary: map[string][]any{"cores": {2, 4}, "quantum": {10, 300}}}
	points, costs, err := spec.Points()
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 4 || points[3].Config.Cores != 4 || points[3].Config.Quantum != 300 || points[3].Config.Schedule != schedule.RoundRobin {
		t.Fatalf("points %+v", points)
	}
	res, err := Run(points, Options{Jobs: 1, Costs: costs})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Stats.CohTransfers == 0 || r.Stats.CacheRefs == 0 {
			t.Errorf("%d cores, quantum %d: %d transfers of %d references", r.Config.Cores, r.Config.Quantum, r.Stats.CohTransfers, r.Stats.CacheRefs)
		}
	}
	for _, col := range []string{"cores", "schedule", "quantum", "coh_invalidations", "coh_downgrades", "coh_transfers"} {
		if !slices.Contains(Columns(), col) {
			t.Errorf("no CSV column %s", col)
		}
	}
	for _, tt := range []struct {
		name string
		set  map[string]any
		want string
	}{
		{"cores without a cache", map[string]any{"cores": 2}, "--cores 2: the cores' private caches need a cache model"},
		{"too many cores", map[string]any{"cores": 100, "cache_size": "1K"}, "--cores 100: want 1 to 64"},
		{"an unknown schedule", map[string]any{"cores": 2, "cache_size": "1K", "schedule": "fair"}, `--schedule "fair"`},
		{"a quantum of one core", map[string]any{"quantum": 7}, "--quantum 7: one core (--cores 1) has no schedule"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := (&Spec{Traces: []string{path}, Base: tt.set}).Points()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Points: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}
