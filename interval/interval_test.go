package interval

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

const (
	minute = 60.0
	hour   = 3600.0
)

// TestPublishedVectors checks the formulas against worked values. The Daly rows are the
// paper's own: J. T. Daly, FGCS 22(3), 2006, captions of Figs. 3–5, "M=24 h (6 h, 15 min),
// Ts=500 h, R=10 min, and δ=5 min. The new model predicts τopt=117 min (57 min, 9.1 min)",
// given to the precision printed there. The other rows are computed by hand in exact
// arithmetic, as noted.
func TestPublishedVectors(t *testing.T) {
	tests := []struct {
		name        string
		f           func(delta, mtbf Seconds) (Seconds, error)
		delta, mtbf float64
		want, tol   float64 // seconds
	}{
		{"Daly Fig. 3: δ=5 min, M=24 h -> 117 min", Daly, 5 * minute, 24 * hour, 117 * minute, 0.5 * minute},
		{"Daly Fig. 4: δ=5 min, M=6 h -> 57 min", Daly, 5 * minute, 6 * hour, 57 * minute, 0.5 * minute},
		{"Daly Fig. 5: δ=5 min, M=15 min -> 9.1 min", Daly, 5 * minute, 15 * minute, 9.1 * minute, 0.05 * minute},
		// By hand: sqrt(2·300·86400) = sqrt(51 840 000) = 7200 exactly.
		{"Young by hand: δ=5 min, M=24 h -> 120 min", Young, 5 * minute, 24 * hour, 120 * minute, 0},
		// By hand: sqrt(2·300·21600) = sqrt(12 960 000) = 3600 exactly.
		{"Young by hand: δ=5 min, M=6 h -> 60 min", Young, 5 * minute, 6 * hour, 60 * minute, 0},
		// By hand: x = 1/16, sqrt(2·1·8) = 4, 4·(1 + 1/12 + 1/144) − 1 = 121/36.
		{"Daly by hand: δ=1, M=8 -> 121/36", Daly, 1, 8, 121.0 / 36, 1e-15},
		// By hand: δ = 2M is the first point of the second branch of eq. (37).
		{"Daly by hand: δ=2M -> M", Daly, 200, 100, 100, 0},
		{"Daly by hand: δ=10M -> M", Daly, 1000, 100, 100, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f(Seconds(tc.delta), Seconds(tc.mtbf))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(float64(got)-tc.want) > tc.tol {
				t.Errorf("got %v s (%v min), want %v s ± %v", float64(got), float64(got)/minute, tc.want, tc.tol)
			}
		})
	}
}

// TestDalyTendsToYoung: Daly/Young − 1 = −(2/3)·sqrt(x) + x/9 with x = δ/(2M), an identity
// of eq. (37), so Daly's estimate tends to Young's as δ/M -> 0.
func TestDalyTendsToYoung(t *testing.T) {
	prev := math.Inf(1)
	for _, xi := range []float64{1, 0.1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12} {
		d, err := Daly(Seconds(xi*3600), 3600)
		if err != nil {
			t.Fatal(err)
		}
		y, err := Young(Seconds(xi*3600), 3600)
		if err != nil {
			t.Fatal(err)
		}
		x := xi / 2
		got, want := float64(d/y)-1, -2.0/3*math.Sqrt(x)+x/9
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("δ/M=%g: Daly/Young − 1 = %g, want %g", xi, got, want)
		}
		if math.Abs(got) >= prev {
			t.Errorf("δ/M=%g: |Daly/Young − 1| = %g did not shrink from %g", xi, math.Abs(got), prev)
		}
		prev = math.Abs(got)
	}
	if prev > 1e-5 {
		t.Errorf("at δ/M = 1e-12, Daly and Young still differ by %g", prev)
	}
}

// TestDalyAtMostMTBF samples δ and M log-uniformly over 24 decades each.
func TestDalyAtMostMTBF(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		delta := Seconds(math.Pow(10, -6+24*r.Float64()))
		mtbf := Seconds(math.Pow(10, -6+24*r.Float64()))
		d, err := Daly(delta, mtbf)
		if err != nil {
			t.Fatal(err)
		}
		if !(d > 0 && d <= mtbf) {
			t.Fatalf("Daly(%v, %v) = %v, want in (0, M]", delta, mtbf, d)
		}
	}
}

// stationary returns the exact minimiser of T_w by bisection on the root of its
// derivative, 1 − tau/M − e^(−(tau+δ)/M), which is positive at 0 and negative at M,
// written as −expm1(−(tau+δ)/M) − tau/M to keep its precision when tau ≪ M.
func stationary(delta, mtbf float64) float64 {
	lo, hi := 0.0, mtbf
	for range 200 {
		mid := (lo + hi) / 2
		if -math.Expm1(-(mid+delta)/mtbf)-mid/mtbf > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

var ratios = []float64{1e-12, 1e-8, 1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.5, 1, 1.5, 1.9, 1.99, 2, 2.5, 5, 10, 100, 1e4}

func TestOptimumIsStationaryPoint(t *testing.T) {
	for _, xi := range ratios {
		for _, mtbf := range []float64{1, 3600, 1e9} {
			m := Model{Delta: Seconds(xi * mtbf), MTBF: Seconds(mtbf)}
			got, err := m.Optimum()
			if err != nil {
				t.Fatalf("δ/M=%g: %v", xi, err)
			}
			want := stationary(xi*mtbf, mtbf)
			if rel := math.Abs(float64(got)-want) / want; rel > 2e-7 {
				t.Errorf("δ/M=%g M=%g: Optimum %v, stationary point %v (relative error %.1e)", xi, mtbf, float64(got), want, rel)
			}
		}
	}
}

func TestOptimumIgnoresRestart(t *testing.T) {
	base, err := Model{Delta: 300, MTBF: 3600}.Optimum()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Seconds{0, 1, 600, 36000} {
		got, err := Model{Delta: 300, MTBF: 3600, Restart: r}.Optimum()
		if err != nil || got != base {
			t.Errorf("R=%v: Optimum %v, %v; want %v", r, got, err, base)
		}
	}
}

// TestDalyNearOptimum measures how far eq. (37) is from the model's optimum. Daly derives
// eq. (37) as a perturbation series in δ/M valid for δ < 2M; the bounds below are the
// errors measured here (a little rounded up), not figures from the paper.
func TestDalyNearOptimum(t *testing.T) {
	tests := []struct {
		name   string
		maxXi  float64 // rows with δ/M up to this
		maxTau float64 // relative error of tau
	}{
		{"δ/M ≤ 0.01", 0.01, 1e-4},
		{"δ/M ≤ 0.1", 0.1, 5e-4},
		{"δ/M ≤ 0.5", 0.5, 6e-3},
		{"δ/M ≤ 1", 1, 2e-2},
		{"δ/M < 2", 1.999, 6.5e-2},
		{"all", math.Inf(1), 6.5e-2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, xi := range ratios {
				if xi > tc.maxXi {
					continue
				}
				m := Model{Delta: Seconds(xi), MTBF: 1, Restart: 0.1}
				opt, err := m.Optimum()
				if err != nil {
					t.Fatal(err)
				}
				d, _ := Daly(m.Delta, m.MTBF)
				if rel := math.Abs(float64(d-opt)) / float64(opt); rel > tc.maxTau {
					t.Errorf("δ/M=%g: Daly %v, optimum %v: relative error %.2e > %.0e", xi, d, opt, rel, tc.maxTau)
				}
				// What matters is the run time: at Daly's interval it is within 0.2% of
				// the best (0.19% measured, at δ/M just below 2).
				so, err1 := m.Slowdown(opt)
				sd, err2 := m.Slowdown(d)
				if err1 != nil || err2 != nil {
					if xi > 100 { // the slowdown itself overflows a float64
						continue
					}
					t.Fatal(err1, err2)
				}
				if sd < so*(1-1e-12) || sd > so*1.002 {
					t.Errorf("δ/M=%g: slowdown %v at Daly's interval, %v at the optimum", xi, sd, so)
				}
			}
		})
	}
}

func TestWallClock(t *testing.T) {
	tests := []struct {
		name     string
		m        Model
		solve    float64
		tau      float64
		want     float64
		relError float64
	}{
		// τ+δ = M·ln 2, so e^((τ+δ)/M) − 1 = 1 and T_w = M·Ts/τ.
		{"e^a−1 = 1, R=0", Model{Delta: Seconds(math.Ln2 / 2), MTBF: 1}, 10, math.Ln2 / 2, 10 / (math.Ln2 / 2), 1e-15},
		// As above with R = M·ln 3: e^(R/M) = 3 triples it.
		{"e^a−1 = 1, e^(R/M) = 3", Model{Delta: Seconds(math.Ln2 / 2), MTBF: 1, Restart: Seconds(math.Log(3))}, 10, math.Ln2 / 2, 30 / (math.Ln2 / 2), 1e-15},
		// Scaling every time by 3600 scales T_w by 3600.
		{"same in hours", Model{Delta: Seconds(3600 * math.Ln2 / 2), MTBF: 3600}, 36000, 3600 * math.Ln2 / 2, 36000 / (math.Ln2 / 2), 1e-15},
		// M -> ∞: no failures, T_w = Ts·(τ+δ)/τ.
		{"no failures", Model{Delta: 1, MTBF: 1e15}, 1000, 9, 1000 * 10.0 / 9, 1e-12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.m.WallClock(Seconds(tc.solve), Seconds(tc.tau))
			if err != nil {
				t.Fatal(err)
			}
			if rel := math.Abs(float64(got)-tc.want) / tc.want; rel > tc.relError {
				t.Errorf("got %v, want %v (relative error %.1e)", float64(got), tc.want, rel)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	nan, inf := Seconds(math.NaN()), Seconds(math.Inf(1))
	good := Model{Delta: 1, MTBF: 10}
	tests := []struct {
		name string
		f    func() error
	}{
		{"Young zero delta", func() error { _, err := Young(0, 10); return err }},
		{"Young negative MTBF", func() error { _, err := Young(1, -10); return err }},
		{"Young NaN", func() error { _, err := Young(nan, 10); return err }},
		{"Daly infinite MTBF", func() error { _, err := Daly(1, inf); return err }},
		{"Daly negative delta", func() error { _, err := Daly(-1, 10); return err }},
		{"Model negative restart", func() error { _, err := Model{Delta: 1, MTBF: 10, Restart: -1}.Optimum(); return err }},
		{"Model NaN restart", func() error { return Model{Delta: 1, MTBF: 10, Restart: nan}.Validate() }},
		{"Model zero MTBF", func() error { return Model{Delta: 1}.Validate() }},
		{"Slowdown zero tau", func() error { _, err := good.Slowdown(0); return err }},
		{"Slowdown overflows", func() error { _, err := good.Slowdown(1e4); return err }},
		{"WallClock zero solve", func() error { _, err := good.WallClock(0, 5); return err }},
		{"WallClock overflows", func() error { _, err := Model{Delta: 1, MTBF: 1e300}.WallClock(1e308, 1e-300); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.f(); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want an ErrInvalid", err)
			}
		})
	}
}

// optimalityPrec is the precision, in bits, of the check of the optimality condition.
const optimalityPrec = 512

// optimalitySign returns the sign of 1 − u − e^(−(u+r)) = r − φ(u + r), with φ(s) =
// e^(−s) − 1 + s, for u = tau/M and r = delta/M, computed in optimalityPrec bits: the
// derivative of T_w in tau has this sign, positive below the optimum and negative above.
// ok is false when the sign cannot be told (within e^-40 of zero with u + r > 40).
func optimalitySign(tau, delta, mtbf float64) (sign int, ok bool) {
	nf := func(x float64) *big.Float { return new(big.Float).SetPrec(optimalityPrec).SetFloat64(x) }
	M := nf(mtbf)
	u := nf(0).Quo(nf(tau), M)
	r := nf(0).Quo(nf(delta), M)
	s := nf(0).Add(u, r)
	if s.Cmp(nf(40)) > 0 {
		// φ(s) = s − 1 + e^(−s), so the sign is that of 1 − u − e^(−s), 0 < e^(−s) < e^-40.
		a := nf(0).Sub(nf(1), u)
		switch {
		case a.Sign() <= 0:
			return -1, true
		case a.Cmp(nf(math.Exp(-40))) > 0:
			return 1, true
		}
		return 0, false
	}
	// φ(s) = Σ_{k≥2} (−s)^k/k!, summed until the terms no longer matter.
	phi, term := nf(0), nf(0).Mul(s, s)
	term.Quo(term, nf(2))
	negS := nf(0).Neg(s)
	for k := 3; ; k++ {
		phi.Add(phi, term)
		if term.Sign() == 0 || term.MantExp(nil)-phi.MantExp(nil) < -optimalityPrec-8 {
			break
		}
		term.Mul(term, negS)
		term.Quo(term, nf(float64(k)))
	}
	return nf(0).Sub(r, phi).Sign(), true
}

// TestOptimumExtremeRatios checks Optimum over δ and M each from the smallest float64 to
// the largest, δ > M included: the optimality condition, computed in 512-bit arithmetic,
// must change sign within 4 ulps of the answer; and where δ/M < 1e-40 (or > 1e40) the
// answer must be Young's value (or M) to 2 ulps, the closed form the condition tends to
// (Daly/Young − 1 ≈ −(2/3)·sqrt(δ/(2M)), and 1 − τ/M = e^(−(τ+δ)/M) ≈ 0).
func TestOptimumExtremeRatios(t *testing.T) {
	times := []float64{5e-324, 1e-310, 1e-300, 1e-200, 1e-100, 1e-10, 0.5, 1, 3, 1e10, 1e100, 1e200, 1e300, math.MaxFloat64}
	ulp := func(x float64) float64 { return math.Nextafter(x, math.Inf(1)) - x }
	for _, delta := range times {
		for _, mtbf := range times {
			t.Run(fmt.Sprintf("δ=%g M=%g", delta, mtbf), func(t *testing.T) {
				got, err := Model{Delta: Seconds(delta), MTBF: Seconds(mtbf)}.Optimum()
				tau := float64(got)
				if err != nil || !(tau > 0 && tau <= mtbf) {
					t.Fatalf("Optimum = %v, %v: want in (0, M]", tau, err)
				}
				// (Below 0 the condition is no longer monotone; at 0 it is positive.)
				below, ok1 := optimalitySign(max(tau-4*ulp(tau), 0), delta, mtbf)
				above, ok2 := optimalitySign(tau+4*ulp(tau), delta, mtbf)
				if !ok1 || !ok2 || below <= 0 || above >= 0 {
					t.Errorf("Optimum = %v: the optimality condition is %d (told %v) 4 ulps below and %d (told %v) 4 ulps above, want + and −",
						tau, below, ok1, above, ok2)
				}
				switch ratio := math.Log10(delta) - math.Log10(mtbf); {
				case ratio < -40:
					y, _ := Young(Seconds(delta), Seconds(mtbf))
					if math.Abs(tau-float64(y)) > 2*ulp(float64(y)) {
						t.Errorf("Optimum = %v, Young %v: want equal to 2 ulps at δ/M = 1e%.0f", tau, float64(y), ratio)
					}
				case ratio > 40:
					if math.Abs(tau-mtbf) > 2*ulp(mtbf) {
						t.Errorf("Optimum = %v, want M = %v to 2 ulps at δ/M = 1e%.0f", tau, mtbf, ratio)
					}
				}
			})
		}
	}
}
