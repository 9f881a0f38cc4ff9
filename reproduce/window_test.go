package reproduce

import (
	"testing"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
	"github.com/vmsim/vmsim/traces"
)

// TestWindowedPoints: a workload's points, in the paper's and in the comparative study,
// replay its window (skip, max_refs) and nothing else: every run counts exactly the
// window's accesses, and the summary the study plans with is the window's.
func TestWindowedPoints(t *testing.T) {
	smallGrids(t)
	path := tinyTrace(t, 30_000, 24)
	tr := traceInfo{name: path, label: "w", skip: 5000, maxRefs: 12_000}
	open, err := sweep.Opener(path, sim.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	r, err := sim.Window(open, tr.skip, tr.maxRefs)()
	if err != nil {
		t.Fatal(err)
	}
	if tr.summary, err = traces.Summarize(r, traces.SummaryOptions{PageSize: PageSize}); err != nil {
		t.Fatal(err)
	}
	if tr.summary.Accesses != tr.maxRefs {
		t.Fatalf("the window's summary has %d accesses, want %d", tr.summary.Accesses, tr.maxRefs)
	}
	opt := Options{Dir: t.TempDir(), Intervals: []int64{1000, 100_000}, Costs: cost.DefaultSet(), Version: "test"}
	s := &study{opt: opt, intervals: opt.Intervals, at: map[[3]string]int{}, traces: []traceInfo{tr}}
	if err := s.makePoints(); err != nil {
		t.Fatal(err)
	}
	c, err := newCompare(opt, s.traces)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.runFirst(); err != nil {
		t.Fatal(err)
	}
	for _, ps := range [][]sweep.Point{s.points, c.points} {
		rs, err := sweep.Run(uniqPoints(ps), sweep.Options{Costs: opt.Costs, Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Config.Skip != tr.skip || r.Config.MaxRefs != tr.maxRefs || r.Stats.Refs != tr.maxRefs {
				t.Errorf("point %s: skip %d, max_refs %d, %d accesses; want the window %d, %d", r.ID, r.Config.Skip, r.Config.MaxRefs, r.Stats.Refs, tr.skip, tr.maxRefs)
			}
		}
	}
}
