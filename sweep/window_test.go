package sweep

import (
	"fmt"
	"testing"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/traces"
)

// TestSweepSkipMaxRefs: a sweep's keys skip and max_refs give, point by point and
// baseline by baseline, exactly the counts of the same sweep on the trace cut to that
// window (written out here), decoded into memory (which jumps with SeekAccess) or
// streamed from the vmt file.
func TestSweepSkipMaxRefs(t *testing.T) {
	var recs, cut []traces.Record
	const skip, max = 300, 500
	accesses := 0
	for i := range 1200 {
		kind := traces.Read
		if i%4 == 0 {
			kind = traces.Write
		}
		rec := traces.Record{Addr: uint64(i*7%37) * 4096, Size: 8, Kind: kind}
		recs = append(recs, rec)
		accesses++
		if accesses > skip && accesses <= skip+max {
			cut = append(cut, rec)
		}
		if i%50 == 0 {
			ck := traces.Record{Kind: traces.Checkpoint}
			recs = append(recs, ck)
			if accesses >= skip && accesses < skip+max {
				cut = append(cut, ck)
			}
		}
	}
	dir := t.TempDir()
	full, part := writeVMT(t, dir, "full.vmt", recs), writeVMT(t, dir, "cut.vmt", cut)
	vary := map[string][]any{"scheme": {"dualmap", "undo"}, "interval": {40}, "fail_at": {[]int64{100, 450}}}
	for _, memory := range []int64{0, -1} {
		t.Run(fmt.Sprintf("memory=%d", memory), func(t *testing.T) {
			run := func(trace string, base map[string]any) []*Result {
				points, _, err := (&Spec{Traces: []string{trace}, Base: base, Vary: vary}).Points()
				if err != nil {
					t.Fatal(err)
				}
				res, err := Run(points, Options{Jobs: 1, Costs: cost.DefaultSet(), DecodeMemory: memory})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			got := run(full, map[string]any{"skip": skip, "max_refs": max})
			want := run(part, nil)
			if len(got) != len(want) || len(got) != 2 {
				t.Fatalf("%d points, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Stats != want[i].Stats || got[i].Baseline != want[i].Baseline || got[i].Stats.Refs != max || got[i].Config.Skip != skip {
					t.Errorf("%s:\n got %+v %+v\nwant %+v %+v", got[i].Config.Scheme, got[i].Stats, got[i].Baseline, want[i].Stats, want[i].Baseline)
				}
			}
		})
	}
}
