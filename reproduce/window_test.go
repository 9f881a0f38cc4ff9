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
// window's accesses, and the summary the study plans with is the window's; a period of the
// comparative study longer than the window runs on the whole recording, against none on
// the same accesses.
func TestWindowedPoints(t *testing.T) {
	smallGrids(t)
	ComparePeriods = []int64{2, 20, 1000, 10_000} // about 25, 250, 12,000 and 120,000 accesses here
	path := tinyTrace(t, 30_000, 24)
	tr := traceInfo{name: path, label: "w", skip: 5000, maxRefs: 4000, rec: &Recording{Path: path, Manifest: RecordingManifest{Accesses: 30_000}}}
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
	rs, err := sweep.Run(uniqPoints(s.points), sweep.Options{Costs: opt.Costs, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Config.Skip != tr.skip || r.Config.MaxRefs != tr.maxRefs || r.Stats.Refs != tr.maxRefs {
			t.Errorf("paper point %s: skip %d, max_refs %d, %d accesses; want the window %d, %d", r.ID, r.Config.Skip, r.Config.MaxRefs, r.Stats.Refs, tr.skip, tr.maxRefs)
		}
	}
	rs, err = sweep.Run(uniqPoints(c.points), sweep.Options{Costs: opt.Costs, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		c.results[r.ID] = r
	}
	whole := 0
	for _, p := range ComparePeriods {
		if !c.covers(tr, p) {
			continue
		}
		for _, sc := range cmpSchemes() {
			r := c.res(ckey("A", tr.name, sc.key, p))
			skip, want := tr.skip, tr.maxRefs
			if c.whole(tr, p) {
				skip, want = 0, 30_000
				whole++
			}
			if b := c.base(r); r.Config.Skip != skip || r.Stats.Refs != want || b.Config.Skip != skip || b.Stats.Refs != want || b.Config.Scheme != "none" {
				t.Errorf("%s at %d µs: skip %d, %d accesses, against none of %d; want %d, %d", sc.key, p, r.Config.Skip, r.Stats.Refs, b.Stats.Refs, skip, want)
			}
		}
	}
	if whole == 0 {
		for _, p := range ComparePeriods {
			t.Logf("period %d: interval %d", p, c.interval(tr, p))
		}
		t.Error("no period ran on the whole recording")
	}
}

// TestWorkloadWindow: a recording's window is its middle WorkloadWindow accesses, or the
// whole recording when it is no longer than that.
func TestWorkloadWindow(t *testing.T) {
	for _, tt := range []struct {
		name                string
		accesses            int64
		wantSkip, wantLimit int64
	}{
		{"long", WorkloadWindow + 1000, 500, WorkloadWindow},
		{"10^9", 1_000_000_000, (1_000_000_000 - WorkloadWindow) / 2, WorkloadWindow},
		{"as long as a window", WorkloadWindow, 0, 0},
		{"shorter", 1000, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if skip, n := workloadWindow(tt.accesses); skip != tt.wantSkip || n != tt.wantLimit {
				t.Errorf("workloadWindow(%d) = %d, %d; want %d, %d", tt.accesses, skip, n, tt.wantSkip, tt.wantLimit)
			}
		})
	}
}

// TestFootprintGroups: the traces of a figure with too many lines go to two panels of at
// most half of them each, the smaller footprints first, the first panel named by its
// largest footprint.
func TestFootprintGroups(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	pages := map[string]int64{"a": 100, "b": 65_000, "c": 24_000, "d": 300, "e": 1500, "f": 3500, "g": 500, "h": 400, "i": 1200, "j": 1300}
	g := footprintGroups(names, pages)
	small := "footprint up to 4.9 MB" // i: 1200 pages, the fifth smallest
	count := map[string]int{}
	for _, n := range names {
		count[g[n]]++
	}
	if count[small] != 5 || count["larger footprints"] != 5 {
		t.Fatalf("panels %v, want five in %q and five larger", count, small)
	}
	for _, n := range []string{"a", "d", "g", "h", "i"} {
		if g[n] != small {
			t.Errorf("%s (%d pages) in %q, want the smaller half", n, pages[n], g[n])
		}
	}
	if odd := footprintGroups(names[:3], pages); odd["a"] != odd["c"] || odd["b"] == odd["a"] {
		t.Errorf("three traces: %v, want the two smaller together", odd)
	}
}
