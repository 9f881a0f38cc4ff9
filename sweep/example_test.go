package sweep_test

import (
	"fmt"

	"github.com/vmsim/vmsim/sweep"
)

// An experiment over two corpus traces and two intervals: four points.
func ExampleSpec_Points() {
	spec := &sweep.Spec{
		Traces: []string{"corpus:sort", "corpus:awk"},
		Base:   map[string]any{"initial": "zero"},
		Vary:   map[string][]any{"interval": {1000, 100000}},
	}
	points, costs, _ := spec.Points()
	for _, p := range points {
		fmt.Println(p.Config.Trace, p.Config.Interval, p.Config.Initial)
	}
	fmt.Println(costs.AccessNs, "ns an access")
	// Output:
	// corpus:sort 1000 zero
	// corpus:sort 100000 zero
	// corpus:awk 1000 zero
	// corpus:awk 100000 zero
	// 0.5 ns an access
}

// Four shards of a sweep of ten points: each runs a share, and together they run every
// point once.
func ExampleShard_Points() {
	spec := &sweep.Spec{
		Traces:  []string{"corpus:sort"},
		Vary:    map[string][]any{"interval": {1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000}},
		Version: "example",
	}
	points, _, _ := spec.Points()
	for i := range 4 {
		shard, _ := sweep.ParseShard(fmt.Sprintf("%d/4", i))
		fmt.Println(shard, len(shard.Points(points)), "points")
	}
	// Output:
	// 0/4 3 points
	// 1/4 3 points
	// 2/4 2 points
	// 3/4 2 points
}
