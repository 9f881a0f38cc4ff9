package reproduce

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// The regime of the optimal-interval validation: Young's and Daly's formulas are for
// checkpoint costs small against the MTBF, so the failure runs take an MTBF M that puts
// δ/M (δ the checkpoint cost, both in modeled time) between deltaRatioLow and
// deltaRatioHigh, aiming at deltaRatioTarget, with at least minFailures failures a run
// expected (the run's modeled time over M) and optimumSeeds seeds.
const (
	deltaRatioLow    = 1e-4
	deltaRatioHigh   = 1e-1
	deltaRatioTarget = 1e-2
	minFailures      = 20
	optimumSeeds     = 10
)

// mtbfChoice is the MTBF chosen for a checkpoint cost on a workload.
type mtbfChoice struct {
	mtbfNs   float64 // the MTBF, modeled time
	ratio    float64 // δ/M
	failures float64 // failures expected in a run: the run's modeled time / M
	ok       bool    // δ/M in [deltaRatioLow, deltaRatioHigh] with >= minFailures failures
	why      string  // when not ok, why not
}

// chooseMTBF chooses the MTBF of the failure runs for a checkpoint cost deltaNs on a
// workload whose failure-free run takes runNs of modeled time: M = δ/deltaRatioTarget,
// lowered to runNs/minFailures when the run would otherwise expect fewer than minFailures
// failures; ok when δ/M then lies in [deltaRatioLow, deltaRatioHigh]. A workload too short
// for that (runNs < minFailures·δ/deltaRatioHigh) is not one the formulas can be checked on.
func chooseMTBF(deltaNs, runNs float64) mtbfChoice {
	if !(deltaNs > 0) || !(runNs > 0) {
		return mtbfChoice{why: "no positive checkpoint cost or run time measured"}
	}
	m := min(deltaNs/deltaRatioTarget, runNs/minFailures)
	c := mtbfChoice{mtbfNs: m, ratio: deltaNs / m, failures: runNs / m}
	switch {
	case c.ratio > deltaRatioHigh:
		c.why = fmt.Sprintf("δ/M = %.2g with %d failures a run: the workload's %s of modeled time is under %d·δ/%g = %s", c.ratio, minFailures,
			timeLabel(runNs), minFailures, deltaRatioHigh, timeLabel(minFailures*deltaNs/deltaRatioHigh))
	case c.ratio < deltaRatioLow:
		c.why = fmt.Sprintf("δ/M = %.2g, below %g", c.ratio, deltaRatioLow) // cannot happen with the target in the range
	default:
		c.ok = true
	}
	return c
}

// optimumCI is the simulated optimum over a grid of intervals and its confidence
// interval. times[s][i] is the modeled time of the failure run of seed s at grid[i]. The
// optimum is the grid interval of least mean time over the seeds; its 95% interval is
// the 2.5th to 97.5th percentile of the optimum of bootstrapSamples resamplings of the
// seeds with replacement (a fixed generator seed, so that the same times give the same
// interval). Precondition: len(times) > 0, every times[s] as long as grid, len(grid) > 0.
func optimumCI(grid []int64, times [][]float64) (best, lo, hi int64) {
	if len(times) == 0 || len(grid) == 0 {
		panic("reproduce: optimumCI without seeds or grid")
	}
	argmin := func(sample [][]float64) int {
		bi, bt := 0, math.Inf(1)
		for i := range grid {
			var sum float64
			for _, ts := range sample {
				sum += ts[i]
			}
			if sum < bt {
				bi, bt = i, sum
			}
		}
		return bi
	}
	best = grid[argmin(times)]
	l, h := bootstrap95(times, argmin)
	return best, grid[l], grid[h]
}

// bootstrap95 is the 2.5th and the 97.5th percentile of stat over bootstrapSamples
// resamplings of the seeds' times with replacement, drawn by a generator of a fixed seed,
// so that the same times give the same interval (optimumCI's and fitOptimum's).
func bootstrap95[T cmp.Ordered](times [][]float64, stat func(sample [][]float64) T) (lo, hi T) {
	r := rand.New(rand.NewPCG(1, 2))
	vs := make([]T, bootstrapSamples)
	sample := make([][]float64, len(times))
	for b := range vs {
		for s := range sample {
			sample[s] = times[r.IntN(len(times))]
		}
		vs[b] = stat(sample)
	}
	slices.Sort(vs)
	return vs[int(0.025*float64(bootstrapSamples))], vs[int(math.Ceil(0.975*float64(bootstrapSamples)))-1]
}

// bootstrapSamples is the number of resamplings of bootstrap95.
const bootstrapSamples = 2000

// optimumFactors are the intervals of the failure runs over Young's interval.
var optimumFactors = []float64{0.125, 0.25, 0.5, 1, 2, 4, 8}

// optimumGrid is the grid of the failure runs around a predicted interval n (accesses):
// n times optimumFactors, rounded to two significant digits, at least 1.
func optimumGrid(n float64) []int64 {
	var g []int64
	for _, f := range optimumFactors {
		g = append(g, max(1, int64(round2(n*f))))
	}
	return g
}

// fitOptimum is the simulated optimum between the grid's points: the mean modeled time over
// the seeds, T(N), is fitted by least squares with T = α + β/N + γN (the first-order model
// of checkpointing with failures: checkpoints cost in 1/N, work lost to failures in N), and
// its minimum N* = √(β/γ), kept within the grid, is the optimum; when the fit has no
// interior minimum (β or γ not positive) the grid's least mean time is. Its 95% interval
// is the 2.5th to 97.5th percentile of N* over bootstrapSamples resamplings of the seeds
// (a fixed generator seed, as optimumCI's). The grid's factors of 2 leave optimumCI's
// interval a single grid point when the seeds agree; this one is not tied to the grid.
// Precondition: as optimumCI's, and the grid's intervals distinct.
func fitOptimum(grid []int64, times [][]float64) (best, lo, hi float64) {
	if len(times) == 0 || len(grid) == 0 {
		panic("reproduce: fitOptimum without seeds or grid")
	}
	at := func(sample [][]float64) float64 {
		mean := make([]float64, len(grid))
		for _, ts := range sample {
			for i, t := range ts {
				mean[i] += t / float64(len(sample))
			}
		}
		return fittedMin(grid, mean)
	}
	best = at(times)
	lo, hi = bootstrap95(times, at)
	return best, lo, hi
}

// fittedMin is the minimum of T = α + β/N + γN fitted to the times ts at the grid's
// intervals (fitOptimum).
func fittedMin(grid []int64, ts []float64) float64 {
	argmin := 0
	for i := range ts {
		if ts[i] < ts[argmin] {
			argmin = i
		}
	}
	if len(grid) < 3 {
		return float64(grid[argmin])
	}
	// Least squares in (1, 1/N, N), N scaled by the grid's centre so that the columns are
	// of one magnitude (QR, by gonum's SolveVec).
	scale := float64(grid[len(grid)/2])
	x := mat.NewDense(len(grid), 3, nil)
	for i, n := range grid {
		x.SetRow(i, []float64{1, scale / float64(n), float64(n) / scale})
	}
	var c mat.VecDense
	if err := c.SolveVec(x, mat.NewVecDense(len(ts), slices.Clone(ts))); err != nil {
		return float64(grid[argmin])
	}
	coef := []float64{c.AtVec(0), c.AtVec(1), c.AtVec(2)}
	if !(coef[1] > 0) || !(coef[2] > 0) {
		return float64(grid[argmin])
	}
	n := scale * math.Sqrt(coef[1]/coef[2])
	return math.Min(math.Max(n, float64(grid[0])), float64(grid[len(grid)-1]))
}
