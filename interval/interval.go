package interval

import (
	"errors"
	"fmt"
	"math"
)

// Seconds is a length of time in seconds. Every Seconds this package accepts must be
// finite; the doc of each function says which must also be positive.
type Seconds float64

// ErrInvalid is wrapped by every error about a bad input: a time that is negative, zero
// where it must be positive, infinite or NaN, or a model whose wall-clock time does not
// fit in a float64.
var ErrInvalid = errors.New("invalid input")

// positive returns an error naming what unless v is positive and finite.
func positive(what string, v Seconds) error {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v <= 0 {
		return fmt.Errorf("%w: %s %v s: must be positive and finite", ErrInvalid, what, float64(v))
	}
	return nil
}

// nonNegative returns an error naming what unless v is zero or positive, and finite.
func nonNegative(what string, v Seconds) error {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 {
		return fmt.Errorf("%w: %s %v s: must be zero or positive, and finite", ErrInvalid, what, float64(v))
	}
	return nil
}

// checkDeltaMTBF validates the two inputs every interval formula takes.
func checkDeltaMTBF(delta, mtbf Seconds) error {
	if err := positive("checkpoint cost delta", delta); err != nil {
		return err
	}
	return positive("MTBF", mtbf)
}

// Young returns J. W. Young's first-order optimum checkpoint interval (CACM 17(9), 1974):
// sqrt(2·delta·mtbf), the compute time between the ends of two checkpoints.
//
// Preconditions (checked; a violation is an error wrapping ErrInvalid): delta, the time
// one checkpoint takes, and mtbf, the mean time between failures, are positive and finite.
func Young(delta, mtbf Seconds) (Seconds, error) {
	if err := checkDeltaMTBF(delta, mtbf); err != nil {
		return 0, err
	}
	return Seconds(sqrt2Product(float64(delta), float64(mtbf))), nil
}

// sqrt2Product returns sqrt(2·d·m), exactly rounded where 2·d·m is a normal float64
// and without overflow or underflow where it is not.
func sqrt2Product(d, m float64) float64 {
	if p := 2 * d * m; p >= 0x1p-1022 && !math.IsInf(p, 0) {
		return math.Sqrt(p)
	}
	return math.Sqrt2 * math.Sqrt(d) * math.Sqrt(m)
}

// Daly returns J. T. Daly's higher-order estimate of the optimum checkpoint interval,
// eq. (37) of FGCS 22(3), 2006: with x = delta/(2·mtbf),
//
//	sqrt(2·delta·mtbf)·[1 + sqrt(x)/3 + x/9] − delta   if delta < 2·mtbf,
//	mtbf                                              otherwise.
//
// It is the compute time tau between checkpoints (the checkpoint itself excluded), as in
// Daly's model ([Model]). The result never exceeds mtbf (see the package tests).
//
// Preconditions (checked; a violation is an error wrapping ErrInvalid): delta and mtbf
// are positive and finite.
func Daly(delta, mtbf Seconds) (Seconds, error) {
	if err := checkDeltaMTBF(delta, mtbf); err != nil {
		return 0, err
	}
	d, m := float64(delta), float64(mtbf)
	if d >= 2*m {
		return mtbf, nil
	}
	x := d / (2 * m)
	young := sqrt2Product(d, m)
	return Seconds(young*(1+math.Sqrt(x)/3+x/9) - d), nil
}

// Model is Daly's (2006) model of a job on a machine whose failures arrive as a Poisson
// process: the job checkpoints after every tau seconds of work, each checkpoint takes
// Delta, a failure loses the work since the last checkpoint and costs Restart to recover
// from, and failures may strike during work, checkpoints and restarts alike.
//
// A Model is a plain value; its methods check the invariants below and return an error
// wrapping ErrInvalid when one does not hold.
type Model struct {
	// Delta is the time one checkpoint takes. Invariant: positive and finite.
	Delta Seconds
	// MTBF is the mean time between failures, M. Invariant: positive and finite.
	MTBF Seconds
	// Restart is the time to restart from a checkpoint after a failure, R.
	// Invariant: zero or positive, and finite.
	Restart Seconds
}

// Validate returns an error wrapping ErrInvalid unless m's invariants hold.
func (m Model) Validate() error {
	if err := checkDeltaMTBF(m.Delta, m.MTBF); err != nil {
		return err
	}
	return nonNegative("restart time R", m.Restart)
}

// Slowdown returns T_w/Ts, the expected wall-clock time per second of work when the job
// checkpoints every tau seconds of work:
//
//	M·e^(R/M)·(e^((tau+Delta)/M) − 1) / tau
//
// It does not depend on Ts: Daly's T_w(tau) is Ts times it (see [Model.WallClock]).
//
// Preconditions (checked): m is valid and tau is positive and finite. An error wrapping
// ErrInvalid also reports a slowdown too large for a float64.
func (m Model) Slowdown(tau Seconds) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := positive("interval tau", tau); err != nil {
		return 0, err
	}
	M := float64(m.MTBF)
	s := M * math.Exp(float64(m.Restart)/M) * math.Expm1((float64(tau)+float64(m.Delta))/M) / float64(tau)
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return 0, fmt.Errorf("%w: slowdown at tau %v s with delta %v s, MTBF %v s, restart %v s overflows a float64",
			ErrInvalid, float64(tau), float64(m.Delta), M, float64(m.Restart))
	}
	return s, nil
}

// WallClock returns Daly's expected wall-clock time of a job that needs solve seconds of
// work and checkpoints every tau seconds of work, for the exponential failure model:
//
//	T_w(tau) = M·e^(R/M)·(e^((tau+Delta)/M) − 1)·Ts/tau
//
// Like Daly's, the model assumes Ts is a whole number of intervals (Ts/tau of them, each
// ending in a checkpoint); it is meant for tau + Delta much smaller than Ts.
//
// Preconditions (checked): m is valid, and solve and tau are positive and finite. An
// error wrapping ErrInvalid also reports a time too large for a float64.
func (m Model) WallClock(solve, tau Seconds) (Seconds, error) {
	if err := positive("solve time Ts", solve); err != nil {
		return 0, err
	}
	s, err := m.Slowdown(tau)
	if err != nil {
		return 0, err
	}
	w := s * float64(solve)
	if math.IsInf(w, 0) {
		return 0, fmt.Errorf("%w: wall-clock time for Ts %v s overflows a float64", ErrInvalid, float64(solve))
	}
	return Seconds(w), nil
}

// Optimum returns the interval tau that minimises [Model.WallClock]: the root of its
// derivative. The minimiser depends on Delta and MTBF only (R and Ts scale T_w by a
// constant factor), and lies in (0, MTBF): with u = tau/M and r = Delta/M, T_w's
// derivative in tau vanishes where
//
//	1 − u = e^(−(u+r)),   that is   φ(u + r) = r   with φ(s) = e^(−s) − 1 + s,
//
// which has exactly one root u in (0, 1). Optimum solves it by bisection in scaled
// variables, so that it answers for every valid model, whatever the ratio δ/M (even one
// that under- or overflows a float64), to a few units in the last place (the tests check
// the condition in 512-bit arithmetic, for δ and M each from the smallest float64 to the
// largest: it changes sign within 4 ulps of the answer):
//
//   - r ≤ 1/2: in z = ln(s/s_Y), where s = u + r and s_Y = sqrt(2r) is Young's value of s
//     (φ(s) ≈ s²/2 for small s). The root solves 2z + ln q(s_Y·e^z) = 0 with q(s) =
//     2φ(s)/s² = 1 − s/3 + s²/12 − … (no underflow however small s is), and lies in
//     [0, ln 2]; then tau = τ_Young·e^z·(1 − (s_Y/2)·e^(−z)), since M·s_Y = τ_Young.
//   - r > 1/2: in u itself, on [0, 1], where nothing cancels (a ratio r that overflows
//     gives u = 1: tau = M).
//
// Precondition (checked): m is valid.
func (m Model) Optimum() (Seconds, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	d, M := float64(m.Delta), float64(m.MTBF)
	r := d / M // may underflow to 0 or overflow to +Inf; neither case needs it exactly
	if r > 0.5 {
		// 1 − u − e^(−(u+r)) = −expm1(−(u+r)) − u: positive at u = 0, negative at u = 1,
		// decreasing with slope at least 1 − e^(−1/2) in between.
		u := bisect(func(u float64) bool { return -math.Expm1(-(u+r))-u > 0 }, 0, 1, 0x1p-60)
		return Seconds(M * u), nil
	}
	// sY = sqrt(2r), where r is normal; without underflow where it is not (then sY is so
	// small that it only shifts z and tau by far less than an ulp).
	sY := math.Sqrt(2 * r)
	if r < 0x1p-1022 {
		sY = math.Sqrt2 * math.Sqrt(d) / math.Sqrt(M)
	}
	// 2z + ln q(sY·e^z) increases with z (its slope is s·φ'(s)/φ(s) > 0); it is ≤ 0 at
	// z = 0 (q ≤ 1) and > 0 at z = ln 2 (q(s) ≥ 1 − s/3 and s ≤ 2 there).
	z := bisect(func(z float64) bool { return 2*z+math.Log(halfPhiRatio(sY*math.Exp(z))) < 0 }, 0, math.Ln2, 0x1p-60)
	young := sqrt2Product(d, M)
	return Seconds(young * math.Exp(z) * (1 - sY/2*math.Exp(-z))), nil
}

// halfPhiRatio returns q(s) = 2·(e^(−s) − 1 + s)/s² for 0 ≤ s ≤ 2 to full relative
// precision: by its alternating series 2·Σ (−s)^k/(k+2)! below 1/2, where e^(−s) − 1 + s
// would cancel, directly above.
func halfPhiRatio(s float64) float64 {
	if s >= 0.5 {
		return 2 * (math.Expm1(-s) + s) / (s * s)
	}
	sum, term := 0.0, 1.0
	for k := 0; math.Abs(term) > 1e-18; k++ {
		sum += term
		term *= -s / float64(k+3)
	}
	return sum
}

// bisect returns the point of [lo, hi] where below changes from true to false, to within
// tol (or the resolution of a float64). Precondition: below is true on [lo, x) and false
// on (x, hi] for some x in [lo, hi], and lo < hi.
func bisect(below func(float64) bool, lo, hi, tol float64) float64 {
	if !(lo < hi) {
		panic(fmt.Sprintf("interval: bisect on empty range [%v, %v]", lo, hi))
	}
	for {
		mid := lo + (hi-lo)/2
		if hi-lo <= tol || mid <= lo || mid >= hi {
			return mid
		}
		if below(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
}
