package reproduce

import (
	"fmt"
	"math"
	"strconv"
)

// The output delay: every run of the comparative study holds each output until the
// checkpoint after it commits (--io hold), as a system must that never shows the world a
// state a rollback could take back. It matters only on the traces that carry output
// records (recorded with vmsim record --syscalls).

// ioTraces are the traces of the study that carry output records.
func (c *compare) ioTraces() []traceInfo {
	var ts []traceInfo
	for _, t := range c.traces {
		if t.summary.Outputs > 0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// delay is one scheme's mean output delay on one trace at one interval.
type delay struct {
	released, held int64   // outputs released by a checkpoint; still held at the end
	accesses       float64 // mean accesses from an output to the start of its checkpoint
	ns             float64 // mean modeled time from an output to its release
	ok             bool    // some output was released
}

// outputDelay is the mean delay of a released output: io_output_delay over the released
// outputs, in accesses; in time, those accesses at the program's own speed (the modeled
// time a access of none on the same trace and cache) plus the scheme's checkpoint cost
// delta (its extra modeled time over none per checkpoint), as if the scheme spent all of
// its overhead at the checkpoint the output waits for. That is exact for a scheme that
// works only at checkpoints, and an upper bound for one that spends part of its overhead
// during the interval (write traps, logging), since an output waits only for the part of
// the interval after it.
func (c *compare) outputDelay(t traceInfo, sc cmpScheme, n int64) delay {
	r := c.res(ckey("A", t.name, sc.key, n))
	d := delay{released: r.Stats.IOOutputs - r.Stats.IOHeldAtEnd, held: r.Stats.IOHeldAtEnd}
	if d.released == 0 || r.Stats.Checkpoints == 0 {
		return d
	}
	base := c.base(r)
	accessNs := c.tm(base) / float64(base.Stats.Refs)
	deltaNs := (c.tm(r) - c.tm(base)) / float64(r.Stats.Checkpoints)
	d.accesses = float64(r.Stats.IOOutputDelay) / float64(d.released)
	d.ns = d.accesses*accessNs + deltaNs
	d.ok = true
	return d
}

func usCell(d delay) string {
	if !d.ok {
		return "no ckpt"
	}
	return usLabel(d.ns / 1000)
}

// usLabel writes a time in µs: whole from 100 up, one decimal from 10, else 3 significant
// digits.
func usLabel(us float64) string {
	switch {
	case us >= 100:
		return strconv.FormatFloat(us, 'f', 0, 64)
	case us >= 10:
		return strconv.FormatFloat(us, 'f', 1, 64)
	}
	return strconv.FormatFloat(us, 'g', 3, 64)
}

// commonWait is the mean wait in accesses at interval n on trace t when every scheme has
// the same (each checkpoints only at the interval), else NaN.
func (c *compare) commonWait(t traceInfo, n int64) float64 {
	w := math.NaN()
	for i, sc := range cmpSchemes() {
		d := c.outputDelay(t, sc, n)
		if !d.ok {
			return math.NaN()
		}
		if i > 0 && d.accesses != w {
			return math.NaN()
		}
		w = d.accesses
	}
	return w
}

func (c *compare) tableDelay() *Table {
	t := &Table{Name: "cmp-table8", Title: "Table C8: output delay, outputs held until their checkpoint (µs, this machine's costs)",
		Caption: "Mean time from an output record to its release, when the checkpoint after it commits: the accesses between them at the program's own speed (none's modeled time per access) plus the scheme's checkpoint cost (its extra modeled time over none per checkpoint, all charged to the checkpoint the output waits for: exact for schemes that work only at checkpoints, an upper bound for the others). The first row of each trace is the mean wait in accesses (io_output_delay over the released outputs) when every scheme has the same; where they differ (a scheme that takes a checkpoint before the interval, when its log fills), each cell gives its own wait. Outputs after the last checkpoint are still held when the trace ends (io_held_at_end) and not counted; \"no ckpt\": no output was released.",
		Header:  []string{"trace", "scheme"}, Right: []bool{false, false},
		DataHeader: []string{"trace", "scheme", "period_us", "interval_accesses", "released", "held_at_end", "wait_accesses", "delay_us", "status"}}
	for _, n := range ComparePeriods {
		t.Header = append(t.Header, periodLabel(n))
		t.Right = append(t.Right, true)
	}
	for _, tr := range c.ioTraces() {
		row := []string{tr.label, "wait (accesses)"}
		for _, n := range ComparePeriods {
			if w := c.commonWait(tr, n); !math.IsNaN(w) {
				row = append(row, siLabel(math.Round(w)))
			} else {
				row = append(row, "by scheme")
			}
		}
		t.Rows = append(t.Rows, row)
		for _, sc := range cmpSchemes() {
			row := []string{tr.label, sc.label}
			for _, n := range ComparePeriods {
				d := c.outputDelay(tr, sc, n)
				data := []string{tr.label, sc.label, strconv.FormatInt(n, 10), strconv.FormatInt(c.interval(tr, n), 10), strconv.FormatInt(d.released, 10), strconv.FormatInt(d.held, 10)}
				if d.ok {
					t.Data = append(t.Data, append(data, num(d.accesses), num(d.ns/1000), ""))
				} else {
					t.Data = append(t.Data, append(data, "", "", "no output released"))
				}
				cell := usCell(d)
				if d.ok && math.IsNaN(c.commonWait(tr, n)) {
					cell += " (wait " + siLabel(math.Round(d.accesses)) + ")"
				}
				row = append(row, cell)
			}
			t.Rows = append(t.Rows, row)
		}
	}
	return t
}

func (c *compare) figDelay() *Figure {
	tr := c.ioTraces()[0]
	f := &Figure{Name: "cmp-fig11", Title: "Output delay, outputs held until their checkpoint (" + tr.label + ")",
		Caption: fmt.Sprintf("Mean time from an output to its release against the checkpoint period on %s (%d outputs), this machine's costs; Table C8 says how it is computed. Intervals at which no output was released are not drawn.", tr.label, tr.summary.Outputs),
		XLabel:  periodAxis, YLabel: "mean output delay (µs)", LogY: true, GroupTitle: familyTitle}
	for _, sc := range cmpSchemes() {
		ser := schemeSeries(sc)
		for _, n := range ComparePeriods {
			y := math.NaN()
			if d := c.outputDelay(tr, sc, n); d.ok {
				y = d.ns / 1000
			}
			ser.X, ser.Y = append(ser.X, float64(n)/1000), append(ser.Y, y)
		}
		f.Series = append(f.Series, ser)
	}
	return f
}
