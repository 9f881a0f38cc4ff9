package reproduce

import (
	"math"
	"strconv"
)

// Periods are the checkpoint periods of the study's realistic regimes, in modeled time
// (ns): 1 ms to 10 s, a decade apart. Remus runs 25 ms epochs; HPC systems checkpoint
// every minutes to hours; the upper end is bounded by the workloads' length. Each
// workload's interval in accesses for a period is accessesFor(period, its time per
// access under none).
var Periods = []float64{1e6, 1e7, 1e8, 1e9, 1e10}

// accessesFor is the checkpoint interval, in accesses, that makes a period of periodNs
// of modeled time on a workload whose run under none takes nsPerAccess an access: the
// quotient rounded to two significant digits (so that intervals read as 1.4M, not
// 1,437,291), at least 1. Precondition: periodNs > 0 and nsPerAccess > 0.
func accessesFor(periodNs, nsPerAccess float64) int64 {
	if !(periodNs > 0 && nsPerAccess > 0) {
		panic("reproduce: accessesFor of a non-positive period or time per access")
	}
	return max(1, int64(round2(periodNs/nsPerAccess)))
}

// periodOf is the modeled time, in ns, of an interval of n accesses on a workload whose
// run under none takes nsPerAccess an access: the inverse of accessesFor up to its
// rounding.
func periodOf(n int64, nsPerAccess float64) float64 { return float64(n) * nsPerAccess }

// round2 rounds x > 0 to two significant digits.
func round2(x float64) float64 {
	if x <= 0 {
		return 0
	}
	e := math.Pow(10, math.Floor(math.Log10(x))-1)
	return math.Round(x/e) * e
}

// timeLabel writes a duration in ns as a reader does: "250 ns", "1.5 µs", "25 ms", "10 s",
// three significant digits at most.
func timeLabel(ns float64) string {
	units := []struct {
		scale float64
		name  string
	}{{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}}
	for _, u := range units {
		if ns >= u.scale || u.scale == 1 {
			return strconv.FormatFloat(round3(ns/u.scale), 'f', -1, 64) + " " + u.name
		}
	}
	return ""
}

// round3 rounds x to three significant digits.
func round3(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	e := math.Pow(10, math.Floor(math.Log10(math.Abs(x)))-2)
	return math.Round(x/e) * e
}
