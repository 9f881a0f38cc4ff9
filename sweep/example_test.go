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
