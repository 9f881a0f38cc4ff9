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

// Optimum returns the interval tau that minimises [Model.WallClock], found by a
// golden-section search over ln tau. The minimiser depends on Delta and MTBF only (R and
// Ts scale T_w by a constant factor), and lies in (0, MTBF): T_w's derivative in tau
// vanishes where 1 − tau/M = e^(−(tau+Delta)/M), which has one root there. The search
// minimises the logarithm of the overhead T_w/Ts − 1 (for R = 0), computed without
// cancellation or overflow, so it answers for any valid model with a relative precision
// of about 1e-7 (the tests check it against that root, to 2e-7).
//
// Precondition (checked): m is valid.
func (m Model) Optimum() (Seconds, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	d, M := float64(m.Delta), float64(m.MTBF)
	// f is ln((M·(e^a − 1) − tau)/tau) − Delta/M with a = (tau+Delta)/M, as a function
	// of x = ln tau: the log of the overhead per second of work, which varies by order
	// one around the optimum however small Delta/M is, less a constant that keeps it
	// small however large Delta/M is (a golden-section search resolves a minimum to
	// about sqrt(ε·|f|)).
	f := func(x float64) float64 {
		return lnOverhead(d, M, math.Exp(x)) - x
	}
	// The root lies above min(Delta, M)/1000: for Delta ≪ M it is near sqrt(2·Delta·M),
	// far above Delta, and for Delta ≳ M it is a sizeable fraction of M.
	lo, hi := math.Log(min(d, M)/1000), math.Log(M)
	for _, x := range []float64{lo, hi, f(lo), f(hi)} {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return 0, fmt.Errorf("%w: delta %v s and MTBF %v s are too far apart for the search (delta/MTBF underflows)",
				ErrInvalid, d, M)
		}
	}
	return Seconds(math.Exp(goldenMin(f, lo, hi, 1e-9))), nil
}

// lnOverhead returns ln(M·(e^a − 1) − tau) − delta/M = ln(delta + M·(e^a − 1 − a)) −
// delta/M for a = (tau+delta)/M > 0, without overflow for large a or cancellation for
// small a.
func lnOverhead(delta, M, tau float64) float64 {
	if a := (tau + delta) / M; a > 1 {
		// delta + M·(e^a − 1 − a) = M·e^a·(1 − (1 + tau/M)·e^−a), where a − delta/M =
		// tau/M and 0 < (1 + tau/M)·e^−a < 1.
		return math.Log(M) + tau/M + math.Log1p(-(1+tau/M)*math.Exp(-a))
	}
	return math.Log(delta+M*expm1MinusX((tau+delta)/M)) - delta/M
}

// expm1MinusX returns e^a − 1 − a for 0 ≤ a ≤ 1 to full relative precision: by its
// Taylor series below 1/2, where expm1(a) − a would cancel, directly above.
func expm1MinusX(a float64) float64 {
	if a >= 0.5 {
		return math.Expm1(a) - a
	}
	term, sum := a*a/2, 0.0
	for k := 3; term > sum*1e-18; k++ {
		sum += term
		term *= a / float64(k)
	}
	return sum
}

// invPhi is 1/φ = (√5 − 1)/2, the golden-section ratio.
var invPhi = (math.Sqrt(5) - 1) / 2

// goldenMin returns the minimiser of f on [lo, hi], to within tol, by golden-section
// search. Precondition: f is unimodal on [lo, hi] and lo < hi.
func goldenMin(f func(float64) float64, lo, hi, tol float64) float64 {
	if !(lo < hi) {
		panic(fmt.Sprintf("interval: goldenMin on empty range [%v, %v]", lo, hi))
	}
	a, b := lo, hi
	c, e := b-invPhi*(b-a), a+invPhi*(b-a)
	fc, fe := f(c), f(e)
	// Each step shrinks the range by invPhi, so 200 steps reach any tol on a finite range.
	for i := 0; i < 200 && b-a > tol; i++ {
		if fc < fe {
			b, e, fe = e, c, fc
			c = b - invPhi*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, e, fe
			e = a + invPhi*(b-a)
			fe = f(e)
		}
	}
	return (a + b) / 2
}
