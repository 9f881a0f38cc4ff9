package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/internal/textable"
	"github.com/vmsim/vmsim/interval"
)

// secondsValue is a pflag.Value holding a time in seconds, given as a plain number of
// seconds or as a Go duration (see interval.ParseSeconds).
type secondsValue struct {
	// v is the time. Invariant: finite, ≥ 0, and > 0 if positive.
	v interval.Seconds
	// positive says zero is refused.
	positive bool
}

func (s *secondsValue) String() string { return strconv.FormatFloat(float64(s.v), 'g', -1, 64) }
func (s *secondsValue) Type() string   { return "seconds" }
func (s *secondsValue) Set(text string) error {
	v, err := interval.ParseSeconds(text)
	if err != nil {
		return err
	}
	if s.positive && v == 0 {
		return fmt.Errorf("%w: time %q: must be positive", interval.ErrInvalid, text)
	}
	s.v = v
	return nil
}

// intervalResult is vmsim interval's --json output. Its fields, in this order, are the
// keys of the JSON object; every time is in seconds, in Go's shortest float64 form.
type intervalResult struct {
	Delta   float64 `json:"delta_s"`
	MTBF    float64 `json:"mtbf_s"`
	Restart float64 `json:"restart_s"`
	Young   float64 `json:"young_s"`
	Daly    float64 `json:"daly_s"`
}

func newIntervalCmd(stdout io.Writer) *cobra.Command {
	delta, mtbf, restart := secondsValue{positive: true}, secondsValue{positive: true}, secondsValue{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "interval --delta SECONDS --mtbf SECONDS [flags]",
		Short: "Optimum checkpoint interval: Young's (1974) and Daly's (2006) estimates",
		Long: `Print the optimum checkpoint interval, the compute time between two checkpoints, for a
checkpoint that takes --delta on a machine whose failures arrive as a Poisson process with
mean time between failures --mtbf:

  Young   sqrt(2·δ·M)
          J. W. Young, "A first order approximation to the optimum checkpoint interval",
          Communications of the ACM 17(9), 530-531, 1974.
  Daly    sqrt(2·δ·M)·[1 + (1/3)·sqrt(δ/(2M)) + (1/9)·(δ/(2M))] − δ   if δ < 2M, else M
          J. T. Daly, "A higher order estimate of the optimum checkpoint interval for
          restart dumps", Future Generation Computer Systems 22(3), 303-312, 2006, eq. (37).

The table also gives the interval that minimises Daly's expected wall-clock time for
exponential failures, T_w(τ) = M·e^(R/M)·(e^((τ+δ)/M) − 1)·Ts/τ, found numerically, and for
each interval the expected wall-clock time per second of work, T_w/Ts, which --restart (R)
scales by e^(R/M); the intervals themselves do not depend on R.

Times are seconds, as a plain number (300, 1.5e3) or as a Go duration (5m, 1h30m, 250ms);
--delta and --mtbf must be positive, --restart zero or positive. --json prints one object
with delta_s, mtbf_s, restart_s, young_s and daly_s, all in seconds.

Exit status: 0 on success, 2 for a usage error or bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m := interval.Model{Delta: delta.v, MTBF: mtbf.v, Restart: restart.v}
			if err := m.Validate(); err != nil {
				return err
			}
			young, err := interval.Young(m.Delta, m.MTBF)
			if err != nil {
				return err
			}
			daly, err := interval.Daly(m.Delta, m.MTBF)
			if err != nil {
				return err
			}
			if asJSON {
				out, err := json.Marshal(intervalResult{
					Delta: float64(m.Delta), MTBF: float64(m.MTBF), Restart: float64(m.Restart),
					Young: float64(young), Daly: float64(daly),
				})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(stdout, "%s\n", out)
				return err
			}
			best, err := m.Optimum()
			if err != nil {
				return err
			}
			var b bytes.Buffer // all or nothing: no partial table on an error
			if err := printIntervals(&b, m, []intervalRow{
				{"Young (1974)", young}, {"Daly (2006, eq. 37)", daly}, {"numeric optimum of T_w", best},
			}); err != nil {
				return err
			}
			_, err = stdout.Write(b.Bytes())
			return err
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.Var(&delta, "delta", "time one checkpoint takes, δ (seconds, or a duration such as 5m)")
	f.Var(&mtbf, "mtbf", "mean time between failures, M (seconds, or a duration such as 24h)")
	f.Var(&restart, "restart", "time to restart from a checkpoint after a failure, R (seconds, or a duration)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	cmd.MarkFlagRequired("delta")
	cmd.MarkFlagRequired("mtbf")
	return cmd
}

// intervalRow is one line of vmsim interval's table: a method and its interval.
type intervalRow struct {
	method string
	tau    interval.Seconds
}

// printIntervals writes the inputs and a table of the intervals with the model's
// slowdown at each. Times print with six significant digits.
func printIntervals(w io.Writer, m interval.Model, rows []intervalRow) error {
	fmt.Fprintf(w, "checkpoint δ %s s, MTBF M %s s, restart R %s s (δ/M = %s)\n",
		g6(float64(m.Delta)), g6(float64(m.MTBF)), g6(float64(m.Restart)), ratio6(float64(m.Delta), float64(m.MTBF)))
	if m.Delta >= 2*m.MTBF {
		fmt.Fprintf(w, "δ ≥ 2M: Daly's estimate is M, the second case of his eq. (37)\n")
	}
	t := textable.New(w, textable.Left, textable.Right, textable.Right).PlainHeader()
	t.Header("interval", "seconds", "T_w/Ts")
	for _, r := range rows {
		slow := "overflows"
		if s, err := m.Slowdown(r.tau); err == nil {
			slow = g6(s)
		}
		t.Append(r.method, g6(float64(r.tau)), slow)
	}
	return t.Render()
}

// g6 formats v with six significant digits.
func g6(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// ratio6 formats d/m (d, m positive and finite) as g6 does, also where the ratio under- or
// overflows a float64 (1e-200/1e200 is 1e-400): from the logarithms then.
func ratio6(d, m float64) string {
	if r := d / m; r >= 0x1p-1022 && !math.IsInf(r, 0) {
		return g6(r)
	}
	l := math.Log10(d) - math.Log10(m)
	e := math.Floor(l)
	mant, _ := strconv.ParseFloat(g6(math.Pow(10, l-e)), 64)
	if mant >= 10 { // 9.999999 rounded up
		mant, e = mant/10, e+1
	}
	return fmt.Sprintf("%se%+03d", g6(mant), int(e))
}
