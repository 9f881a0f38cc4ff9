package reproduce

import (
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/vmsim/vmsim/interval"
)

// optPlan is the plan of the validation of one scheme on one trace: the MTBF of its
// failure runs and their grid of intervals, from the failure-free runs' checkpoint costs.
type optPlan struct {
	accessNs     float64    // none's modeled time per access
	runNs        float64    // none's modeled time of the whole trace
	deltaNs      float64    // the checkpoint cost at the planned interval
	choice       mtbfChoice // the MTBF and δ/M
	mtbfAccesses float64    // the MTBF in accesses (--mtbf)
	young        float64    // Young's interval, accesses: the grid's centre
	grid         []int64    // optimumGrid(young)
	ok           bool
	why          string // when not ok
}

// planOptimum plans the failure runs of scheme sc on trace t. The checkpoint cost δ
// depends on the interval (a longer one dirties more) and the MTBF M on δ (chooseMTBF),
// so both are iterated from 10^4 accesses: δ at the interval Young's formula last gave,
// M for that δ, until the interval moves by less than 1% (at most 20 rounds).
func (c *compare) planOptimum(t traceInfo, sc cmpScheme) *optPlan {
	pl := &optPlan{accessNs: c.nsPerAccess[t.name], runNs: c.tm(c.res(ckey("none", t.name)))}
	n := float64(10_000)
	for range 20 {
		pl.deltaNs = c.deltaAt(t, sc, n)
		pl.choice = chooseMTBF(pl.deltaNs, pl.runNs)
		if !(pl.choice.mtbfNs > 0) {
			pl.why = pl.choice.why
			return pl
		}
		y, err := interval.Young(interval.Seconds(pl.deltaNs/1e9), interval.Seconds(pl.choice.mtbfNs/1e9))
		if err != nil {
			pl.why = err.Error()
			return pl
		}
		next := float64(y) * 1e9 / pl.accessNs
		settled := math.Abs(next-n) < 0.01*n
		n = next
		if settled {
			break
		}
	}
	pl.young, pl.mtbfAccesses = n, math.Max(1, math.Round(pl.choice.mtbfNs/pl.accessNs))
	if !pl.choice.ok {
		pl.why = pl.choice.why
		return pl
	}
	pl.grid, pl.ok = optimumGrid(n), true
	return pl
}

// optimum is the validation of one scheme on one trace.
type optimum struct {
	plan                                 *optPlan
	deltaNs, restartNs, mtbfNs, accessNs float64
	young, daly, numeric                 float64 // predicted intervals, in accesses
	best, lo, hi                         int64   // the simulated optimum and its 95% interval (optimumCI)
	bestTime                             float64 // its mean modeled time (ns)
	failures                             float64 // rollbacks a failure run, mean over the runs
	youngLoss, dalyLoss                  float64 // time at the grid interval nearest the prediction over bestTime, minus one
	youngIn, dalyIn                      bool    // the grid interval nearest the prediction is in [lo, hi]
	fit, fitLo, fitHi                    float64 // the fitted optimum and its 95% interval (fitOptimum), accesses
	youngInFit, dalyInFit                bool    // the prediction is in [fitLo, fitHi]
	ok                                   bool
	note                                 string
}

// delta is the checkpoint cost at interval n: the failure-free run's extra time over none,
// per checkpoint; NaN when it took none.
func (c *compare) delta(t traceInfo, sc cmpScheme, n int64) float64 {
	r := c.res(ckey("V0", t.name, sc.key, n))
	if r.Stats.Checkpoints == 0 {
		return math.NaN()
	}
	return (c.tm(r) - c.tm(c.res(ckey("none", t.name)))) / float64(r.Stats.Checkpoints)
}

// deltaAt interpolates the checkpoint cost log-linearly between the grid's intervals.
func (c *compare) deltaAt(t traceInfo, sc cmpScheme, n float64) float64 {
	g := ValidationIntervals
	if n <= float64(g[0]) {
		return c.delta(t, sc, g[0])
	}
	for i := 1; i < len(g); i++ {
		if n <= float64(g[i]) {
			a, b := c.delta(t, sc, g[i-1]), c.delta(t, sc, g[i])
			if math.IsNaN(b) {
				return a
			}
			f := math.Log(n/float64(g[i-1])) / math.Log(float64(g[i])/float64(g[i-1]))
			return a + f*(b-a)
		}
	}
	return c.delta(t, sc, g[len(g)-1])
}

func nearest(g []int64, x float64) int64 {
	best := g[0]
	for _, n := range g {
		if math.Abs(math.Log(float64(n)/x)) < math.Abs(math.Log(float64(best)/x)) {
			best = n
		}
	}
	return best
}

// failTimes are the modeled times of the failure runs of a plan: [seed][grid index].
func (c *compare) failTimes(t traceInfo, sc cmpScheme, pl *optPlan) [][]float64 {
	out := make([][]float64, len(ValidationSeeds))
	for s, seed := range ValidationSeeds {
		for _, n := range pl.grid {
			out[s] = append(out[s], c.tm(c.res(ckey("VF", t.name, sc.key, n, seed))))
		}
	}
	return out
}

// optimumOf predicts the optimal interval from the measured checkpoint and recovery costs
// at the plan's MTBF and checks it against the failure runs: the simulated optimum and its
// bootstrap 95% interval over the seeds (optimumCI).
func (c *compare) optimumOf(t traceInfo, sc cmpScheme) optimum {
	pl := c.plans[ckey(t.name, sc.key)]
	o := optimum{plan: pl}
	if pl == nil || !pl.ok {
		if pl != nil {
			o.note = "not testable: " + pl.why
		}
		return o
	}
	o.accessNs, o.mtbfNs, o.deltaNs = pl.accessNs, pl.choice.mtbfNs, pl.deltaNs
	o.restartNs = c.recoveryAt(t, sc).timeNs
	d, s := interval.Seconds(o.deltaNs/1e9), interval.Seconds(o.mtbfNs/1e9)
	y, _ := interval.Young(d, s)
	dl, _ := interval.Daly(d, s)
	o.young, o.daly = float64(y)*1e9/o.accessNs, float64(dl)*1e9/o.accessNs
	if num, err := (interval.Model{Delta: d, MTBF: s, Restart: interval.Seconds(max(0, o.restartNs) / 1e9)}).Optimum(); err == nil {
		o.numeric = float64(num) * 1e9 / o.accessNs
	}
	times := c.failTimes(t, sc, pl)
	o.best, o.lo, o.hi = optimumCI(pl.grid, times)
	o.fit, o.fitLo, o.fitHi = fitOptimum(pl.grid, times)
	o.youngInFit, o.dalyInFit = o.fitLo <= o.young && o.young <= o.fitHi, o.fitLo <= o.daly && o.daly <= o.fitHi
	mean := map[int64]float64{}
	for i, n := range pl.grid {
		for s := range times {
			mean[n] += times[s][i] / float64(len(times))
		}
	}
	var rb int64
	for _, n := range pl.grid {
		for _, seed := range ValidationSeeds {
			rb += c.res(ckey("VF", t.name, sc.key, n, seed)).Stats.Rollbacks
		}
	}
	o.failures = float64(rb) / float64(len(pl.grid)*len(ValidationSeeds))
	o.bestTime = mean[o.best]
	ny, nd := nearest(pl.grid, o.young), nearest(pl.grid, o.daly)
	o.youngLoss, o.dalyLoss = mean[ny]/o.bestTime-1, mean[nd]/o.bestTime-1
	o.youngIn, o.dalyIn = o.lo <= ny && ny <= o.hi, o.lo <= nd && nd <= o.hi
	o.ok = true
	return o
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// oneZero writes a truth for a CSV: 1 or 0.
func oneZero(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (c *compare) tableOptimum() *Table {
	t := &Table{Name: "cmp-table4", Title: "Table C4: optimal checkpoint intervals, predicted and simulated",
		Caption: fmt.Sprintf("For each scheme of the failure runs on the %d longest traces: the checkpoint cost δ (extra modeled time per checkpoint of a failure-free run, at the predicted interval), the MTBF M (modeled time) chosen so that δ/M lies in [%g, %g] (aiming at %g) with at least %d failures a run, the failures a run had (mean), Young's (1974) and Daly's (2006) optimal intervals and the numeric optimum of Daly's model with restart R (the recovery time per rollback), in accesses; the simulated optimum (least mean modeled time over %d seeds on the grid Young × 1/8 … 8, factors of 2) and its 95%% bootstrap interval over the seeds; whether the grid interval nearest each formula's prediction lies in it (the CSV: 1 or 0); the fitted optimum (the minimum of T = α + β/N + γN fitted to the mean times over the grid, not tied to its points) and its 95%% bootstrap interval, and whether each prediction itself lies in that; and the time lost at the grid interval nearest each prediction against the simulated optimum. Schemes not in the failure runs, and traces too short for the regime, say why in the status column.", validationTraces, deltaRatioLow, deltaRatioHigh, deltaRatioTarget, minFailures, len(ValidationSeeds)),
		Header:  []string{"scheme", "trace", "δ (µs)", "M (ms)", "δ/M", "failures", "Young", "Daly", "numeric", "simulated", "95% interval", "Young in it", "Daly in it", "fitted", "95% interval (fitted)", "Young in it (fitted)", "Daly in it (fitted)", "loss at Young", "loss at Daly", "status"},
		Right:   []bool{false, false, true, true, true, true, true, true, true, true, true, false, false, true, true, false, false, true, true, false},
		DataHeader: []string{"scheme", "trace", "delta_us", "mtbf_ms", "delta_over_mtbf", "failures_per_run", "young_accesses", "daly_accesses", "numeric_accesses",
			"simulated_best_accesses", "ci_low_accesses", "ci_high_accesses", "young_in_ci", "daly_in_ci",
			"fitted_best_accesses", "fitted_ci_low_accesses", "fitted_ci_high_accesses", "young_in_fitted_ci", "daly_in_fitted_ci", "loss_at_young_percent", "loss_at_daly_percent", "status"}}
	empty := func(label, trace, status string) {
		r := make([]string, len(t.Header))
		r[0], r[1], r[len(r)-1] = label, trace, status
		t.Rows = append(t.Rows, r)
		d := make([]string, len(t.DataHeader))
		d[0], d[1], d[len(d)-1] = label, trace, status
		t.Data = append(t.Data, d)
	}
	for _, sc := range cmpSchemes() {
		if !sc.validate {
			empty(sc.label, "", notValidated)
			continue
		}
		for _, tr := range c.vtr {
			o := c.optimumOf(tr, sc)
			if !o.ok {
				empty(sc.label, tr.label, o.note)
				continue
			}
			ratio := o.deltaNs / o.mtbfNs
			t.Rows = append(t.Rows, []string{sc.label, tr.label, strconv.FormatFloat(o.deltaNs/1000, 'f', 1, 64),
				strconv.FormatFloat(o.mtbfNs/1e6, 'f', 2, 64), strconv.FormatFloat(ratio, 'g', 2, 64), strconv.FormatFloat(o.failures, 'f', 1, 64),
				siLabel(math.Round(o.young)), siLabel(math.Round(o.daly)), siLabel(math.Round(o.numeric)), siLabel(float64(o.best)),
				siLabel(float64(o.lo)) + " – " + siLabel(float64(o.hi)), yesNo(o.youngIn), yesNo(o.dalyIn),
				siLabel(math.Round(o.fit)), siLabel(math.Round(o.fitLo)) + " – " + siLabel(math.Round(o.fitHi)), yesNo(o.youngInFit), yesNo(o.dalyInFit),
				pct(o.youngLoss), pct(o.dalyLoss), ""})
			t.Data = append(t.Data, []string{sc.label, tr.label, num(o.deltaNs / 1000), num(o.mtbfNs / 1e6), num(ratio), num(o.failures),
				num(math.Round(o.young)), num(math.Round(o.daly)), num(math.Round(o.numeric)), strconv.FormatInt(o.best, 10),
				strconv.FormatInt(o.lo, 10), strconv.FormatInt(o.hi, 10), oneZero(o.youngIn), oneZero(o.dalyIn),
				num(math.Round(o.fit)), num(math.Round(o.fitLo)), num(math.Round(o.fitHi)), oneZero(o.youngInFit), oneZero(o.dalyInFit),
				num(100 * o.youngLoss), num(100 * o.dalyLoss), ""})
		}
	}
	return t
}

// tableRatios is the δ/M of every point of the failure runs: the checkpoint cost at the
// point's interval (interpolated between the failure-free runs) over the MTBF.
func (c *compare) tableRatios() *Table {
	t := &Table{Name: "cmp-table9", Title: "Table C9: δ/M at every point of the failure runs",
		Caption:    fmt.Sprintf("For each point of the failure runs (scheme, trace, interval of the grid): the interval in accesses and in modeled time, the checkpoint cost δ there (extra modeled time per checkpoint of the failure-free runs, interpolated log-linearly between the intervals %v), the MTBF M, δ/M, and the mean modeled run time over the %d seeds with its standard deviation.", ValidationIntervals, len(ValidationSeeds)),
		Header:     []string{"scheme", "trace", "interval", "period", "δ (µs)", "M (ms)", "δ/M", "time (ms)", "sd (ms)"},
		Right:      []bool{false, false, true, true, true, true, true, true, true},
		DataHeader: []string{"scheme", "trace", "interval_accesses", "period_us", "delta_us", "mtbf_ms", "delta_over_mtbf", "time_ms", "time_sd_ms"}}
	for _, sc := range cmpSchemes() {
		for _, tr := range c.vtr {
			pl := c.plans[ckey(tr.name, sc.key)]
			if pl == nil || !pl.ok {
				continue
			}
			times := c.failTimes(tr, sc, pl)
			for i, n := range pl.grid {
				var xs []float64
				for s := range times {
					xs = append(xs, times[s][i]/1e6)
				}
				mean, sd := stat.MeanStdDev(xs, nil)
				d := c.deltaAt(tr, sc, float64(n))
				per := periodOf(n, pl.accessNs)
				t.Rows = append(t.Rows, []string{sc.label, tr.label, siLabel(float64(n)), timeLabel(per), strconv.FormatFloat(d/1000, 'f', 1, 64),
					strconv.FormatFloat(pl.choice.mtbfNs/1e6, 'f', 2, 64), strconv.FormatFloat(d/pl.choice.mtbfNs, 'g', 2, 64),
					strconv.FormatFloat(mean, 'f', 3, 64), strconv.FormatFloat(sd, 'f', 3, 64)})
				t.Data = append(t.Data, []string{sc.label, tr.label, strconv.FormatInt(n, 10), num(per / 1000), num(d / 1000), num(pl.choice.mtbfNs / 1e6),
					num(d / pl.choice.mtbfNs), num(mean), num(sd)})
			}
		}
	}
	return t
}

// winner is the scheme of least overhead at interval n under m among those accepted.
func (c *compare) winner(m cost.Model, n int64, accept func(cmpScheme) bool) (cmpScheme, float64, bool) {
	var best cmpScheme
	bo := math.Inf(1)
	for _, sc := range cmpSchemes() {
		if !accept(sc) {
			continue
		}
		if o := c.schemeOverhead(m, sc, n); !math.IsNaN(o) && o < bo {
			best, bo = sc, o
		}
	}
	return best, bo, !math.IsInf(bo, 1)
}

func (c *compare) tableWinners() *Table {
	t := &Table{Name: "cmp-table5", Title: "Table C5: the cheapest scheme under each cost set",
		Caption: "The scheme of least overhead (geometric mean over the traces the period fits in) at each checkpoint period under each cost set, among all schemes (all survive transient failures) and among those that also survive a crash of volatile memory; the counters are the same, only the costs differ. The CSV has one row a period, cost set and choice.",
		Header:  []string{"period"}, Right: []bool{true},
		DataHeader: []string{"period_us", "cost_set", "among", "scheme", "overhead_percent", "status"}}
	for _, cs := range c.sets {
		t.Header = append(t.Header, cs.Name+": any", cs.Name+": crash-safe")
		t.Right = append(t.Right, false, false)
	}
	for _, n := range ComparePeriods {
		row := []string{periodLabel(n)}
		for _, cs := range c.sets {
			for _, a := range []struct {
				name string
				acc  func(cmpScheme) bool
			}{{"any", func(cmpScheme) bool { return true }}, {"crash-safe", func(s cmpScheme) bool { return s.crash }}} {
				if sc, o, ok := c.winner(cs.Model, n, a.acc); ok {
					row = append(row, sc.label+" ("+ovh(o)+")")
					t.Data = append(t.Data, []string{strconv.FormatInt(n, 10), cs.Name, a.name, sc.label, num(100 * o), ""})
				} else {
					row = append(row, "no ckpt")
					t.Data = append(t.Data, []string{strconv.FormatInt(n, 10), cs.Name, a.name, "", "", "no ckpt"})
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
