package reproduce

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
			return sig3(ns/u.scale) + " " + u.name
		}
	}
	return ""
}

// sig3 writes x >= 0 with three significant digits at most, without trailing zeros.
func sig3(x float64) string {
	x = round3(x)
	d := 0
	if x > 0 {
		d = max(0, 2-int(math.Floor(math.Log10(x))))
	}
	s := strconv.FormatFloat(x, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// round3 rounds x to three significant digits.
func round3(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	e := math.Pow(10, math.Floor(math.Log10(math.Abs(x)))-2)
	return math.Round(x/e) * e
}

// tableRegimes is Table C0: each trace's time per access under none and the interval, in
// accesses, of every checkpoint period of the study (or why there is none).
func (c *compare) tableRegimes() *Table {
	t := &Table{Name: "cmp-table0", Title: "Table C0: the regimes, checkpoint periods in modeled time and in accesses",
		Caption: "For each trace: its accesses, the modeled time per access of none (behind the same cache, this machine's costs), the modeled time of the whole run, and the checkpoint interval in accesses that makes each period of modeled time (two significant digits); a period longer than the trace is not run there (\"longer than the trace\"). Every per-period table averages over the traces run at the period, the figures over the traces every period they draw fits in.",
		Header:  []string{"trace", "accesses", "ns/access", "run time"}, Right: []bool{false, true, true, true},
		DataHeader: []string{"trace", "accesses", "ns_per_access", "run_ms", "period_us", "interval_accesses", "status"}}
	for _, p := range ComparePeriods {
		t.Header = append(t.Header, periodLabel(p))
		t.Right = append(t.Right, true)
	}
	var long, whole bool
	for _, tr := range c.traces {
		long = long || tr.long
		whole = whole || tr.rec != nil
	}
	if long {
		t.Caption += fmt.Sprintf(" A long trace (%s accesses or more) is not run at periods under %s (\"not run\": the other traces measure them).", siLabel(LongTraceAccesses), periodLabel(LongPeriodFrom))
	}
	if whole {
		t.Caption += " \"(whole)\": the period is longer than the workload's window (its accesses here), and runs on its whole recording, against none on the same accesses."
	}
	for _, tr := range c.traces {
		ns := c.nsPerAccess[tr.name]
		run := ns * float64(tr.summary.Accesses)
		row := []string{tr.label, strconv.FormatInt(tr.summary.Accesses, 10), strconv.FormatFloat(ns, 'f', 2, 64), timeLabel(run)}
		for _, p := range ComparePeriods {
			n := c.interval(tr, p)
			d := []string{tr.label, strconv.FormatInt(tr.summary.Accesses, 10), num(ns), num(run / 1e6), strconv.FormatInt(p, 10), strconv.FormatInt(n, 10), ""}
			switch {
			case c.covers(tr, p) && c.whole(tr, p):
				row = append(row, siLabel(float64(n))+" (whole)")
				d[len(d)-1] = "whole recording"
			case c.covers(tr, p):
				row = append(row, siLabel(float64(n)))
			case n > tr.summary.Accesses:
				row = append(row, "longer than the trace")
				d[len(d)-1] = "longer than the trace"
			default:
				row = append(row, siLabel(float64(n))+" (not run)")
				d[len(d)-1] = "not run: long trace"
			}
			t.Data = append(t.Data, d)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
