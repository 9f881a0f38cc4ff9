package reproduce

import (
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/vmsim/vmsim/interval"
	"github.com/vmsim/vmsim/sim"
)

func ivxs(ns []int64) []float64 {
	x := make([]float64, len(ns))
	for i, n := range ns {
		x[i] = float64(n)
	}
	return x
}

func pctCell(x float64) string {
	if math.IsNaN(x) {
		return "no ckpt"
	}
	return pct(x)
}

// perCheckpoint is the sum over the traces of a counter at interval n over the sum of the
// checkpoints: what a checkpoint moves on average. NaN when no checkpoint was taken.
func (c *compare) perCheckpoint(sc cmpScheme, n int64, y func(sim.Stats) int64) float64 {
	var sum, k int64
	for _, t := range c.traces {
		r := c.res(ckey("A", t.name, sc.key, n))
		sum += y(r.Stats)
		k += r.Stats.Checkpoints
	}
	if k == 0 {
		return math.NaN()
	}
	return float64(sum) / float64(k)
}

// memFraction is the mean over the traces of the memory overhead at its peak as a fraction
// of the footprint (pages touched × page size).
func (c *compare) memFraction(sc cmpScheme, n int64) float64 {
	var ys []float64
	for _, t := range c.traces {
		r := c.res(ckey("A", t.name, sc.key, n))
		ys = append(ys, float64(r.Stats.MemOverheadPeakBytes)/float64(t.summary.PagesTouched*PageSize))
	}
	return stat.Mean(ys, nil)
}

func bytesCell(x float64) string {
	if math.IsNaN(x) {
		return "no ckpt"
	}
	return siLabel(math.Round(x)) + "B"
}

func (c *compare) tableSchemes() *Table {
	t := &Table{Name: "cmp-table1", Title: "Table C1: overhead of every scheme (this machine's costs)",
		Caption: fmt.Sprintf("Overhead (geometric mean over the %d traces of the modeled time over that of none behind the same cache, minus one) against the interval; \"no ckpt\": the interval is longer than some trace, which then took no checkpoint. Every run: 4 KiB pages, a 32 KiB 8-way cache of 64-byte lines, granule 64 B.", len(c.traces)),
		Header:  []string{"scheme", "survives"}, Right: []bool{false, false}}
	for _, n := range CompareIntervals {
		t.Header = append(t.Header, siLabel(float64(n)))
		t.Right = append(t.Right, true)
	}
	for _, sc := range cmpSchemes {
		surv := "transient failures"
		if sc.crash {
			surv = "+ crash of volatile memory"
		}
		row := []string{sc.label, surv}
		for _, n := range CompareIntervals {
			row = append(row, pctCell(c.schemeOverhead(c.opt.Costs.Model, sc, n)))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (c *compare) tableVolumes() *Table {
	n := GranuleInterval
	t := &Table{Name: "cmp-table2", Title: fmt.Sprintf("Table C2: what a checkpoint moves, and memory held (interval %s)", siLabel(float64(n))),
		Caption: "Per checkpoint (sum over the traces over the checkpoints taken): bytes copied in memory (bytes_copied), logged (bytes_logged), sent to storage (bytes_to_storage) and to a backup (bytes_to_backup), and moved while the program is stopped (checkpoint_stall_bytes); memory overhead at its peak (mem_overhead_peak_bytes) as a fraction of the footprint, mean over the traces.",
		Header:  []string{"scheme", "copied", "logged", "to storage", "to backup", "stall", "memory overhead (× footprint)"},
		Right:   []bool{false, true, true, true, true, true, true}}
	for _, sc := range cmpSchemes {
		t.Rows = append(t.Rows, []string{sc.label,
			bytesCell(c.perCheckpoint(sc, n, func(s sim.Stats) int64 { return s.BytesCopied })),
			bytesCell(c.perCheckpoint(sc, n, func(s sim.Stats) int64 { return s.BytesLogged })),
			bytesCell(c.perCheckpoint(sc, n, func(s sim.Stats) int64 { return s.BytesToStorage })),
			bytesCell(c.perCheckpoint(sc, n, func(s sim.Stats) int64 { return s.BytesToBackup })),
			bytesCell(c.perCheckpoint(sc, n, func(s sim.Stats) int64 { return s.CheckpointStallBytes })),
			strconv.FormatFloat(c.memFraction(sc, n), 'f', 3, 64)})
	}
	return t
}

// recovery is one scheme's recovery cost on one trace at one interval, from the failure
// runs: per rollback, the bytes recovery moved, the accesses replayed, and the extra
// modeled time over the failure-free run.
type recovery struct {
	rollbacks               int64
	bytes, replayed, timeNs float64
}

func (c *compare) recoveryAt(t traceInfo, sc cmpScheme, n int64) recovery {
	free := c.res(ckey("V0", t.name, sc.key, n))
	var rc recovery
	var extra float64
	for _, seed := range ValidationSeeds {
		r := c.res(ckey("VF", t.name, sc.key, n, seed))
		rc.rollbacks += r.Stats.Rollbacks
		rc.bytes += float64(r.Stats.RecoveryBytes)
		rc.replayed += float64(r.Stats.ReplayedRefs)
		extra += c.tm(r) - c.tm(free)
	}
	if rc.rollbacks > 0 {
		k := float64(rc.rollbacks)
		rc.bytes, rc.replayed, rc.timeNs = rc.bytes/k, rc.replayed/k, extra/k
	}
	return rc
}

func (c *compare) tableRecovery() *Table {
	const n = 10_000
	t := &Table{Name: "cmp-table3", Title: fmt.Sprintf("Table C3: recovery cost (interval %s, transient failures)", siLabel(n)),
		Caption: fmt.Sprintf("Per rollback, from the failure runs (--mtbf = accesses/%d, seeds %v): bytes recovery moved (recovery_bytes), accesses replayed (replayed_refs), and the modeled time the failures added over the failure-free run (µs, this machine's costs), on each validation trace.", validationFailures, ValidationSeeds),
		Header:  []string{"scheme", "trace", "rollbacks", "recovery bytes", "accesses replayed", "time (µs)"},
		Right:   []bool{false, false, true, true, true, true}}
	for _, sc := range cmpSchemes {
		if !sc.validate {
			continue
		}
		for _, tr := range c.vtr {
			rc := c.recoveryAt(tr, sc, n)
			t.Rows = append(t.Rows, []string{sc.label, tr.label, strconv.FormatInt(rc.rollbacks, 10),
				siLabel(math.Round(rc.bytes)) + "B", siLabel(math.Round(rc.replayed)), strconv.FormatFloat(rc.timeNs/1000, 'f', 1, 64)})
		}
	}
	return t
}

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
		Caption: fmt.Sprintf("Checkpoint cost delta (extra modeled time per checkpoint of a failure-free run, taken at the predicted interval), MTBF (accesses/%d, in modeled time), Young's (1974) and Daly's (2006) optimal intervals and the numeric optimum of Daly's model with restart R (the recovery time per rollback), in accesses; the best interval of the failure runs (mean over seeds %v, intervals %v); and the time lost by checkpointing at the grid interval nearest each formula's prediction instead of the best.", validationFailures, ValidationSeeds, ValidationIntervals),
		Header:  []string{"scheme", "trace", "delta (µs)", "MTBF (ms)", "Young", "Daly", "numeric", "simulated best", "loss at Young", "loss at Daly"},
		Right:   []bool{false, false, true, true, true, true, true, true, true, true}}
	for _, sc := range cmpSchemes {
		if !sc.validate {
			continue
		}
		for _, tr := range c.vtr {
			o := c.optimumOf(tr, sc)
			if !o.ok {
				t.Rows = append(t.Rows, []string{sc.label, tr.label, "-", "-", "-", "-", "-", "-", "-", o.note})
				continue
			}
			t.Rows = append(t.Rows, []string{sc.label, tr.label, strconv.FormatFloat(o.deltaNs/1000, 'f', 1, 64),
				strconv.FormatFloat(o.mtbfNs/1e6, 'f', 2, 64), siLabel(math.Round(o.young)), siLabel(math.Round(o.daly)),
				siLabel(math.Round(o.numeric)), siLabel(float64(o.best)), pct(o.youngLoss), pct(o.dalyLoss)})
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
		Caption: "The scheme of least overhead (geometric mean over the traces) at each interval under each cost set, among all schemes (all survive transient failures) and among those that also survive a crash of volatile memory; the counters are the same, only the costs differ.",
		Header:  []string{"interval"}, Right: []bool{true}}
	for _, cs := range c.sets {
		t.Header = append(t.Header, cs.Name+": any", cs.Name+": crash-safe")
		t.Right = append(t.Right, false, false)
	}
	for _, n := range CompareIntervals {
		row := []string{siLabel(float64(n))}
		for _, cs := range c.sets {
			for _, acc := range []func(cmpScheme) bool{func(cmpScheme) bool { return true }, func(s cmpScheme) bool { return s.crash }} {
				if sc, o, ok := c.winner(cs.Model, n, acc); ok {
					row = append(row, sc.label+" ("+pct(o)+")")
				} else {
					row = append(row, "no ckpt")
				}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (c *compare) tableGranule() *Table {
	t := &Table{Name: "cmp-table6", Title: fmt.Sprintf("Table C6: the granule of block-granular schemes (interval %s)", siLabel(float64(GranuleInterval))),
		Caption: "Overhead (geometric mean over the traces) and bytes moved per checkpoint (copied + logged + to storage + to backup) against the granule the memory controller tracks.",
		Header:  []string{"scheme"}, Right: []bool{false}}
	for _, g := range Granules {
		t.Header = append(t.Header, sizeLabel(g)+" overhead", sizeLabel(g)+" bytes/ckpt")
		t.Right = append(t.Right, true, true)
	}
	for _, sc := range cmpSchemes {
		if !sc.block {
			continue
		}
		row := []string{sc.label}
		for _, g := range Granules {
			o, b := c.granulePoint(sc, g)
			row = append(row, pctCell(o), bytesCell(b))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// sizeLabel writes a power-of-two size in B or KiB.
func sizeLabel(g int64) string {
	if g >= 1024 && g%1024 == 0 {
		return strconv.FormatInt(g/1024, 10) + " KiB"
	}
	return strconv.FormatInt(g, 10) + " B"
}

func moved(s sim.Stats) int64 {
	return s.BytesCopied + s.BytesLogged + s.BytesToStorage + s.BytesToBackup
}

func (c *compare) granulePoint(sc cmpScheme, g int64) (overhead, perCkpt float64) {
	var ys []float64
	var sum, k int64
	for _, t := range c.traces {
		r := c.res(ckey("G", t.name, sc.key, g))
		if r.Stats.Checkpoints == 0 {
			return math.NaN(), math.NaN()
		}
		ys = append(ys, c.overheadUnder(c.opt.Costs.Model, t, r))
		sum += moved(r.Stats)
		k += r.Stats.Checkpoints
	}
	return geo(ys), float64(sum) / float64(k)
}

func (c *compare) tableCostSets() *Table {
	t := &Table{Name: "cmp-table7", Title: "Table C7: the cost sets",
		Caption: "Every value of each named cost set (reproduce/costsets.go); the sources are in docs/study.md and the README.",
		Header:  []string{"cost"}, Right: []bool{false}}
	for _, cs := range c.sets {
		t.Header = append(t.Header, cs.Name)
		t.Right = append(t.Right, true)
	}
	for _, k := range costKeys() {
		row := []string{k}
		for _, cs := range c.sets {
			row = append(row, strconv.FormatFloat(costsMap(cs.Model)[k].(float64), 'g', 4, 64))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
