package reproduce

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

func TestAccessesForPeriod(t *testing.T) {
	for _, tt := range []struct {
		name          string
		period, nsAcc float64
		want          int64
	}{
		{"1 ms at 1 ns an access", 1e6, 1, 1_000_000},
		{"1 ms at 3.1 ns rounds to two digits", 1e6, 3.1, 320_000},
		{"10 s at 32 ns", 1e10, 32, 310_000_000},
		{"25 ms at 0.5 ns", 25e6, 0.5, 50_000_000},
		{"a period shorter than an access is one access", 1, 10, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := accessesFor(tt.period, tt.nsAcc)
			if got != tt.want {
				t.Fatalf("accessesFor(%g, %g) = %d, want %d", tt.period, tt.nsAcc, got, tt.want)
			}
			// Back to time: within the two-digit rounding (5%) of the period.
			if p := periodOf(got, tt.nsAcc); tt.period >= tt.nsAcc && math.Abs(p/tt.period-1) > 0.05 {
				t.Errorf("periodOf(%d, %g) = %g, want about %g", got, tt.nsAcc, p, tt.period)
			}
		})
	}
}

func TestTimeLabel(t *testing.T) {
	for _, tt := range []struct {
		ns   float64
		want string
	}{{250, "250 ns"}, {1500, "1.5 µs"}, {25e6, "25 ms"}, {1e10, "10 s"}, {3.14159e6, "3.14 ms"}, {0, "0 ns"}, {17.4e6 * (1 + 1e-16), "17.4 ms"}, {999.6e3, "1000 µs"}} {
		if got := timeLabel(tt.ns); got != tt.want {
			t.Errorf("timeLabel(%g) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	ok := claimCase{name: "a", testable: true, agrees: true, detail: "1%"}
	bad := claimCase{name: "b", testable: true, agrees: false, detail: "12%"}
	no := claimCase{name: "c", testable: false, detail: "too short"}
	for _, tt := range []struct {
		name  string
		cases []claimCase
		want  verdictKind
		in    []string // substrings of the why
	}{
		{"all measured agree", []claimCase{ok, ok}, held, []string{"every case measured agrees (2"}},
		{"agree, one untestable", []claimCase{ok, no}, held, []string{"1 could not be measured", "too short"}},
		{"one against", []claimCase{ok, bad, no}, refuted, []string{"1 of 2 cases", "b: 12%"}},
		{"none measurable", []claimCase{no, no}, notTestable, []string{"no case can be measured", "too short"}},
		{"no cases", nil, notTestable, []string{"no case"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := judge(tt.cases)
			if v.kind != tt.want {
				t.Fatalf("judge = %v (%s), want %v", v.kind, v.why, tt.want)
			}
			for _, s := range tt.in {
				if !strings.Contains(v.why, s) {
					t.Errorf("why %q lacks %q", v.why, s)
				}
			}
		})
	}
}

func TestChooseMTBF(t *testing.T) {
	for _, tt := range []struct {
		name           string
		delta, run     float64
		wantOK         bool
		wantM, wantRat float64
	}{
		{"long run: δ/M at the target", 10e3, 1e9, true, 1e6, 1e-2},
		{"short run: M lowered for 20 failures", 10e3, 20e6, true, 1e6, 1e-2},
		{"shorter: δ/M above the target, still in range", 10e3, 2e6, true, 1e5, 0.1},
		{"too short: δ/M above 0.1", 10e3, 1e6, false, 5e4, 0.2},
		{"no cost", 0, 1e9, false, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := chooseMTBF(tt.delta, tt.run)
			if c.ok != tt.wantOK {
				t.Fatalf("ok = %v (%s), want %v", c.ok, c.why, tt.wantOK)
			}
			if tt.wantM > 0 && (math.Abs(c.mtbfNs/tt.wantM-1) > 1e-9 || math.Abs(c.ratio/tt.wantRat-1) > 1e-9) {
				t.Errorf("M %g, δ/M %g; want %g, %g", c.mtbfNs, c.ratio, tt.wantM, tt.wantRat)
			}
			if c.ok && c.failures < minFailures {
				t.Errorf("%g failures a run, want >= %d", c.failures, minFailures)
			}
			if !c.ok && c.why == "" {
				t.Error("not ok without a why")
			}
		})
	}
}

func TestOptimumCI(t *testing.T) {
	grid := []int64{100, 200, 400, 800, 1600}
	seed := uint64(7)
	r := rand.New(rand.NewPCG(seed, 1))
	// A U-shaped time with its minimum at 400, plus noise of size sd a seed.
	times := func(sd float64, seeds int) [][]float64 {
		out := make([][]float64, seeds)
		for s := range out {
			for _, n := range grid {
				x := math.Log2(float64(n) / 400)
				out[s] = append(out[s], 100+x*x+sd*r.NormFloat64())
			}
		}
		return out
	}
	for _, tt := range []struct {
		name          string
		sd            float64
		wantLo, wantH int64
	}{
		{"no noise: the interval is the optimum", 0, 400, 400},
		{"small noise: still the optimum", 0.05, 400, 400},
		{"noise above the curvature: wider", 5, 100, 1600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := times(tt.sd, 10)
			best, lo, hi := optimumCI(grid, ts)
			if lo > best || best > hi {
				t.Fatalf("seed %d: best %d outside [%d, %d]", seed, best, lo, hi)
			}
			if tt.sd < 1 && (best != 400 || lo != tt.wantLo || hi != tt.wantH) {
				t.Errorf("seed %d: best %d in [%d, %d], want 400 in [%d, %d]", seed, best, lo, hi, tt.wantLo, tt.wantH)
			}
			if tt.sd >= 1 && hi == lo {
				t.Errorf("seed %d: interval [%d, %d] a single point under noise %g", seed, lo, hi, tt.sd)
			}
			b2, lo2, hi2 := optimumCI(grid, ts)
			if b2 != best || lo2 != lo || hi2 != hi {
				t.Error("optimumCI not deterministic")
			}
		})
	}
}

func TestOptimumGrid(t *testing.T) {
	g := optimumGrid(123_456)
	want := []int64{15_000, 31_000, 62_000, 120_000, 250_000, 490_000, 990_000}
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("optimumGrid(123456) = %v, want %v", g, want)
		}
	}
}

func TestPaperClaimCases(t *testing.T) {
	pt := func(n int64, o float64, k int64) ivPoint { return ivPoint{n, o, k} }
	for _, tt := range []struct {
		name string
		c    claimCase
		want verdictKind
	}{
		{"falls: falling", fallsCase("a", []ivPoint{pt(100, 5, 100), pt(1000, 1, 10), pt(10_000, 0.2, 1)}), held},
		{"falls: flat within 0.01%", fallsCase("a", []ivPoint{pt(100, 1, 100), pt(1000, 1.00005, 10)}), held},
		{"falls: rising", fallsCase("a", []ivPoint{pt(100, 1, 100), pt(1000, 2, 10)}), refuted},
		{"falls: a no-ckpt point is not an interval", fallsCase("a", []ivPoint{pt(100, 1, 100), pt(1000, 0.5, 10), pt(1e7, 3, 0)}), held},
		{"falls: one interval measured", fallsCase("a", []ivPoint{pt(100, 1, 100), pt(1e7, 3, 0)}), notTestable},
		{"small: below 5% at 1M and 10M", smallCase("a", 1e9, []ivPoint{pt(1e5, 0.2, 1e4), pt(1e6, 0.04, 1000), pt(1e7, 0.01, 100)}), held},
		{"small: 6% at 1M", smallCase("a", 1e9, []ivPoint{pt(1e6, 0.06, 1000), pt(1e7, 0.01, 100)}), refuted},
		{"small: one checkpoint at 1M is not enough", smallCase("a", 1.9e6, []ivPoint{pt(1e5, 0.2, 19), pt(1e6, 0.5, 1)}), notTestable},
		{"small: short trace", smallCase("a", 9e5, []ivPoint{pt(1e5, 0.2, 9), pt(1e6, 0.5, 0)}), notTestable},
		{"feasible: one variant below 10%", feasibleCase(true, []string{"x", "y"}, []float64{3, 0.08}), held},
		{"feasible: none below 10%", feasibleCase(true, []string{"x", "y"}, []float64{3, 0.5}), refuted},
		{"feasible: no 1000 interval", feasibleCase(false, nil, nil), notTestable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if v := judge([]claimCase{tt.c}); v.kind != tt.want {
				t.Errorf("verdict %v (%s), want %v", v.kind, v.why, tt.want)
			}
		})
	}
}

// TestCovers: a period runs on a trace when its interval fits in the trace, and on a long
// trace only from LongPeriodFrom.
func TestCovers(t *testing.T) {
	short := traceInfo{name: "s", summary: &traces.Summary{Accesses: 10_000_000}}
	long := traceInfo{name: "l", summary: &traces.Summary{Accesses: 300_000_000}, long: true}
	c := &compare{nsPerAccess: map[string]float64{"s": 2, "l": 10}}
	for _, tt := range []struct {
		name string
		t    traceInfo
		p    int64 // µs
		want bool
		n    int64
	}{
		{"short, 1 ms", short, 1000, true, 500_000},
		{"short, 10 ms: 5M accesses fit", short, 10_000, true, 5_000_000},
		{"short, 100 ms: 50M do not", short, 100_000, false, 50_000_000},
		{"long, 1 ms: left to the short traces", long, 1000, false, 100_000},
		{"long, 100 ms", long, 100_000, true, 10_000_000},
		{"long, 1 s", long, 1_000_000, true, 100_000_000},
		{"long, 10 s: longer than the trace", long, 10_000_000, false, 1_000_000_000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if n := c.interval(tt.t, tt.p); n != tt.n {
				t.Errorf("interval %d, want %d", n, tt.n)
			}
			if got := c.covers(tt.t, tt.p); got != tt.want {
				t.Errorf("covers = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFitOptimum: the fitted optimum finds the minimum of T = α + β/N + γN between the
// grid's points (where optimumCI can only name a grid point), its interval holds it and
// narrows as the noise falls, and it falls back to the grid's least time when the times
// have no interior minimum.
func TestFitOptimum(t *testing.T) {
	grid := []int64{160, 320, 640, 1300, 2500, 5100, 10_000} // Young 1265 × 1/8 … 8, two digits
	const beta, gamma = 80_000.0, 0.05                       // N* = √(β/γ) = 1264.9
	want := math.Sqrt(beta / gamma)
	seed := uint64(11)
	r := rand.New(rand.NewPCG(seed, 3))
	times := func(f func(n float64) float64, sd float64) [][]float64 {
		out := make([][]float64, 10)
		for s := range out {
			for _, n := range grid {
				out[s] = append(out[s], f(float64(n))*(1+sd*r.NormFloat64()))
			}
		}
		return out
	}
	model := func(n float64) float64 { return 1000 + beta/n + gamma*n }
	var widths []float64
	for _, sd := range []float64{0, 0.001, 0.01} {
		t.Run(fmt.Sprintf("noise %g", sd), func(t *testing.T) {
			best, lo, hi := fitOptimum(grid, times(model, sd))
			if math.Abs(best/want-1) > 0.05+5*sd || lo > want*(1+1e-9) || hi < want*(1-1e-9) || lo > best || best > hi {
				t.Errorf("seed %d: fitted %.0f in [%.0f, %.0f], want about %.0f inside", seed, best, lo, hi, want)
			}
			if sd == 0 && (math.Abs(best/want-1) > 1e-9 || lo != best || hi != best) {
				t.Errorf("exact times: fitted %v in [%v, %v], want exactly %v", best, lo, hi, want)
			}
			widths = append(widths, hi/lo)
		})
	}
	if len(widths) == 3 && !(widths[0] <= widths[1] && widths[1] < widths[2]) {
		t.Errorf("seed %d: interval widths %v do not grow with the noise", seed, widths)
	}
	t.Run("no interior minimum", func(t *testing.T) {
		best, lo, hi := fitOptimum(grid, times(func(n float64) float64 { return 1000 + beta/n }, 0))
		if best != 10_000 || lo != 10_000 || hi != 10_000 {
			t.Errorf("falling times: fitted %v in [%v, %v], want the grid's end 10000", best, lo, hi)
		}
	})
}
