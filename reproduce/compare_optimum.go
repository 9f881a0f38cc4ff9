package reproduce

import (
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"math"
	"strconv"

	"github.com/vmsim/vmsim/interval"
)

// optimum is the validation of one scheme on one trace.
type optimum struct {
	deltaNs, restartNs, mtbfNs, accessNs float64
	young, daly, numeric                 float64 // predicted intervals, in accesses
	best                                 int64   // the empirically best interval
	bestTime                             float64 // its mean modeled time (ns)
	youngLoss, dalyLoss                  float64 // time at the grid interval nearest the prediction over bestTime, minus one
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

// optimumOf predicts the optimal interval from the measured checkpoint and recovery costs
// and checks it against the failure runs. The checkpoint cost depends on the interval (a
// longer one dirties more), so the prediction is iterated: delta is taken at the interval
// the last prediction gave, until it settles (at most 20 rounds).
func (c *compare) optimumOf(t traceInfo, sc cmpScheme) optimum {
	var o optimum
	base := c.res(ckey("none", t.name))
	o.accessNs = c.tm(base) / float64(base.Stats.Refs)
	o.mtbfNs = float64(t.summary.Accesses/validationFailures) * o.accessNs
	o.restartNs = c.recoveryAt(t, sc, 10_000).timeNs
	n := float64(10_000)
	for range 20 {
		o.deltaNs = c.deltaAt(t, sc, n)
		if !(o.deltaNs > 0) {
			o.note = "no positive checkpoint cost measured"
			return o
		}
		y, err := interval.Young(interval.Seconds(o.deltaNs/1e9), interval.Seconds(o.mtbfNs/1e9))
		if err != nil {
			o.note = err.Error()
			return o
		}
		next := float64(y) * 1e9 / o.accessNs
		if math.Abs(next-n) < 0.01*n {
			n = next
			break
		}
		n = next
	}
	d, s := interval.Seconds(o.deltaNs/1e9), interval.Seconds(o.mtbfNs/1e9)
	y, _ := interval.Young(d, s)
	dl, _ := interval.Daly(d, s)
	o.young, o.daly = float64(y)*1e9/o.accessNs, float64(dl)*1e9/o.accessNs
	if num, err := (interval.Model{Delta: d, MTBF: s, Restart: interval.Seconds(max(0, o.restartNs) / 1e9)}).Optimum(); err == nil {
		o.numeric = float64(num) * 1e9 / o.accessNs
	}
	times := map[int64]float64{}
	o.bestTime = math.Inf(1)
	for _, n := range ValidationIntervals {
		var sum float64
		for _, seed := range ValidationSeeds {
			sum += c.tm(c.res(ckey("VF", t.name, sc.key, n, seed)))
		}
		times[n] = sum / float64(len(ValidationSeeds))
		if times[n] < o.bestTime {
			o.best, o.bestTime = n, times[n]
		}
	}
	o.youngLoss = times[nearest(ValidationIntervals, o.young)]/o.bestTime - 1
	o.dalyLoss = times[nearest(ValidationIntervals, o.daly)]/o.bestTime - 1
	o.ok = true
	return o
}

func (c *compare) tableOptimum() *Table {
	t := &Table{Name: "cmp-table4", Title: "Table C4: optimal checkpoint intervals, predicted and simulated",
		Caption: fmt.Sprintf("Checkpoint cost delta (extra modeled time per checkpoint of a failure-free run, taken at the predicted interval), MTBF (accesses/%d, in modeled time), Young's (1974) and Daly's (2006) optimal intervals and the numeric optimum of Daly's model with restart R (the recovery time per rollback), in accesses; the best interval of the failure runs (mean over seeds %v, intervals %v); and the time lost by checkpointing at the grid interval nearest each formula's prediction instead of the best. Schemes not in the failure runs, and predictions that could not be made, say why in the status column.", validationFailures, ValidationSeeds, ValidationIntervals),
		Header:  []string{"scheme", "trace", "delta (µs)", "MTBF (ms)", "Young", "Daly", "numeric", "simulated best", "loss at Young", "loss at Daly", "status"},
		Right:   []bool{false, false, true, true, true, true, true, true, true, true, false},
		DataHeader: []string{"scheme", "trace", "delta_us", "mtbf_ms", "young_accesses", "daly_accesses", "numeric_accesses",
			"simulated_best_accesses", "loss_at_young_percent", "loss_at_daly_percent", "status"}}
	for _, sc := range cmpSchemes {
		if !sc.validate {
			t.Rows = append(t.Rows, []string{sc.label, "", "", "", "", "", "", "", "", "", notValidated})
			t.Data = append(t.Data, []string{sc.label, "", "", "", "", "", "", "", "", "", notValidated})
			continue
		}
		for _, tr := range c.vtr {
			o := c.optimumOf(tr, sc)
			if !o.ok {
				t.Rows = append(t.Rows, []string{sc.label, tr.label, "", "", "", "", "", "", "", "", o.note})
				t.Data = append(t.Data, []string{sc.label, tr.label, "", "", "", "", "", "", "", "", o.note})
				continue
			}
			t.Rows = append(t.Rows, []string{sc.label, tr.label, strconv.FormatFloat(o.deltaNs/1000, 'f', 1, 64),
				strconv.FormatFloat(o.mtbfNs/1e6, 'f', 2, 64), siLabel(math.Round(o.young)), siLabel(math.Round(o.daly)),
				siLabel(math.Round(o.numeric)), siLabel(float64(o.best)), pct(o.youngLoss), pct(o.dalyLoss), ""})
			t.Data = append(t.Data, []string{sc.label, tr.label, num(o.deltaNs / 1000), num(o.mtbfNs / 1e6), num(math.Round(o.young)),
				num(math.Round(o.daly)), num(math.Round(o.numeric)), strconv.FormatInt(o.best, 10), num(100 * o.youngLoss), num(100 * o.dalyLoss), ""})
		}
	}
	return t
}

// winner is the scheme of least overhead at interval n under m among those accepted.
func (c *compare) winner(m cost.Model, n int64, accept func(cmpScheme) bool) (cmpScheme, float64, bool) {
	var best cmpScheme
	bo := math.Inf(1)
	for _, sc := range cmpSchemes {
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
		Caption: "The scheme of least overhead (geometric mean over the traces) at each interval under each cost set, among all schemes (all survive transient failures) and among those that also survive a crash of volatile memory; the counters are the same, only the costs differ. The CSV has one row an interval, cost set and choice.",
		Header:  []string{"interval"}, Right: []bool{true},
		DataHeader: []string{"interval_accesses", "cost_set", "among", "scheme", "overhead_percent", "status"}}
	for _, cs := range c.sets {
		t.Header = append(t.Header, cs.Name+": any", cs.Name+": crash-safe")
		t.Right = append(t.Right, false, false)
	}
	for _, n := range CompareIntervals {
		row := []string{siLabel(float64(n))}
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
