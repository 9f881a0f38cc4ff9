package reproduce

import (
	"bytes"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/interval"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

// CompareIntervals are the checkpoint intervals of the comparative study.
var CompareIntervals = []int64{100, 1000, 10_000, 100_000, 1_000_000, 10_000_000}

// The cache every point of the comparative study runs behind (the baseline none too): a
// 32 KiB, 8-way, 64-byte-line write-back cache, the L1 data cache of current x86 cores
// (Intel since Sandy Bridge, AMD since Zen 2). Memory-level schemes see only what it
// writes back; without it they would see every store, which no memory controller does.
const (
	CompareCacheSize = 32 << 10
	CompareCacheWays = 8
	CompareCacheLine = 64
)

// GranuleInterval is the interval of the granule study and of the volumes table (it must
// be one of CompareIntervals); Granules the granules.
var (
	GranuleInterval int64 = 100_000
	Granules              = []int64{64, 256, 1024, 4096}
)

// scheme is one checkpointing scheme of the comparative study, as configured.
type cmpScheme struct {
	key, label string
	set        map[string]any // configuration keys over the study's base
	block      bool           // block-granular: studied over --granule
	crash      bool           // survives a crash of volatile memory
	validate   bool           // in the optimal-interval validation
}

var cmpSchemes = []cmpScheme{
	{key: "dualmap", label: "dualmap (non-volatile)", set: map[string]any{"scheme": "dualmap"}, validate: true},
	{key: "dualmap-volatile", label: "dualmap (volatile)", set: map[string]any{"scheme": "dualmap", "memory": "volatile"}, crash: true},
	{key: "shadow", label: "shadow", set: map[string]any{"scheme": "shadow"}, block: true},
	{key: "shadow-remote", label: "shadow-remote", set: map[string]any{"scheme": "shadow-remote"}, block: true, crash: true},
	{key: "bitmap", label: "bitmap", set: map[string]any{"scheme": "bitmap"}, block: true, validate: true},
	{key: "bitmap2", label: "bitmap2", set: map[string]any{"scheme": "bitmap2"}, block: true},
	{key: "blockstate", label: "blockstate", set: map[string]any{"scheme": "blockstate"}, block: true},
	{key: "undo", label: "undo", set: map[string]any{"scheme": "undo"}, block: true, validate: true},
	{key: "remus", label: "remus", set: map[string]any{"scheme": "remus"}, crash: true, validate: true},
	{key: "cacheline", label: "cacheline", set: map[string]any{"scheme": "cacheline"}, crash: true},
	{key: "incremental", label: "incremental", set: map[string]any{"scheme": "incremental"}, crash: true, validate: true},
}

// ValidationIntervals are the intervals of the failure runs; ValidationSeeds their seeds.
var (
	ValidationIntervals = []int64{300, 1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000}
	ValidationSeeds     = []uint64{1, 2}
)

// validationFailures is the number of failures a validation run expects: the MTBF is the
// trace's accesses over it.
const validationFailures = 16

// compare is the comparative study: every scheme side by side.
type compare struct {
	opt    Options
	traces []traceInfo
	vtr    []traceInfo // the traces of the validation: the three longest
	// at maps a key to a point's index in points.
	at      map[string]int
	points  []sweep.Point
	results map[string]*sweep.Result
	sets    []CostSet
}

func ckey(parts ...any) string { return fmt.Sprint(parts...) }

func (c *compare) add(key string, t traceInfo, set map[string]any) error {
	base := map[string]any{"initial": "zero", "page_size": PageSize, "cache_size": CompareCacheSize,
		"cache_ways": CompareCacheWays, "cache_line": CompareCacheLine, "io": "hold"}
	for k, v := range set {
		base[k] = v
	}
	pagingOnly(base)
	spec := &sweep.Spec{Version: c.opt.Version, Traces: []string{t.name}, Base: base, CostBase: &c.opt.Costs}
	ps, _, err := spec.Points()
	if err != nil {
		return err
	}
	c.at[key] = len(c.points)
	c.points = append(c.points, ps[0])
	return nil
}

func (c *compare) res(key string) *sweep.Result {
	i, ok := c.at[key]
	if !ok {
		panic("compare: no point " + key) // every key looked up is one makePoints added
	}
	return c.results[c.points[i].ID]
}

// pagingOnly drops "initial" from the settings set of a study's run when its scheme models
// no paging, which a configuration refuses for it: such a scheme reads no page from disk.
// (Its sweep baseline, sweep.BaselineConfig, then reads first touches from the initial
// image, the default; the study's tables price every scheme against its own none point,
// zero-filled, by the overhead rule.)
func pagingOnly(set map[string]any) {
	name, ok := set["scheme"].(string)
	if !ok {
		name = sim.DefaultConfig().Scheme
	}
	if info, ok := scheme.Lookup(name); ok && !info.Takes("initial") {
		delete(set, "initial")
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func (c *compare) makePoints() error {
	for _, t := range c.traces {
		if err := c.add(ckey("none", t.name), t, map[string]any{"scheme": "none"}); err != nil {
			return err
		}
		for _, sc := range cmpSchemes {
			for _, n := range CompareIntervals {
				if err := c.add(ckey("A", t.name, sc.key, n), t, with(sc.set, "interval", n)); err != nil {
					return err
				}
			}
			if sc.block {
				for _, g := range Granules {
					if err := c.add(ckey("G", t.name, sc.key, g), t, with(sc.set, "interval", GranuleInterval, "granule", g)); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, t := range c.vtr {
		mtbf := float64(t.summary.Accesses / validationFailures)
		for _, sc := range cmpSchemes {
			if !sc.validate {
				continue
			}
			for _, n := range ValidationIntervals {
				if err := c.add(ckey("V0", t.name, sc.key, n), t, with(sc.set, "interval", n)); err != nil {
					return err
				}
				for _, seed := range ValidationSeeds {
					if err := c.add(ckey("VF", t.name, sc.key, n, seed), t, with(sc.set, "interval", n, "mtbf", mtbf, "seed", seed)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// runCompare runs the comparative study into dir.
func runCompare(opt Options, traces []traceInfo) error {
	c := &compare{opt: opt, traces: traces, at: map[string]int{}, sets: CostSets()}
	for _, cs := range c.sets {
		if err := cs.Validate(); err != nil {
			return err
		}
	}
	c.vtr = slices.Clone(traces)
	slices.SortStableFunc(c.vtr, func(a, b traceInfo) int { return int(b.summary.Accesses - a.summary.Accesses) })
	c.vtr = c.vtr[:min(3, len(c.vtr))]
	if err := c.makePoints(); err != nil {
		return err
	}
	var err error
	if c.results, err = runPoints(filepath.Join(opt.Dir, "data"), c.points, opt); err != nil {
		return err
	}
	return c.write()
}

// overheadUnder is a point's overhead under model m, from its counters, by the overhead
// rule (cost.Overhead) against none on the same trace and cache.
func (c *compare) overheadUnder(m cost.Model, t traceInfo, r *sweep.Result) float64 {
	base := c.res(ckey("none", t.name))
	return cost.Overhead(m, r.Stats, base.Stats, r.Config)
}

// tm is a point's time under this machine's costs, as the overhead rule charges it
// against none on the same trace and cache (cost.Compare); none's own is its time.
func (c *compare) tm(r *sweep.Result) float64 {
	base := c.res(ckey("none", r.Config.Trace))
	return cost.Compare(c.opt.Costs.Model, r.Stats, base.Stats, r.Config).Run.Total
}

// geo is the geometric mean over the traces of 1 + y, minus one; NaN when any is NaN.
func geo(ys []float64) float64 {
	xs := make([]float64, len(ys))
	for i, y := range ys {
		if math.IsNaN(y) {
			return math.NaN()
		}
		xs[i] = 1 + y
	}
	return stat.GeometricMean(xs, nil) - 1
}

// schemeOverhead is the geometric-mean overhead of a scheme at interval n under m, NaN when
// some trace took no checkpoint.
func (c *compare) schemeOverhead(m cost.Model, sc cmpScheme, n int64) float64 {
	var ys []float64
	for _, t := range c.traces {
		r := c.res(ckey("A", t.name, sc.key, n))
		if r.Stats.Checkpoints == 0 {
			return math.NaN()
		}
		ys = append(ys, c.overheadUnder(m, t, r))
	}
	return geo(ys)
}

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

const ivLabel = "checkpoint interval (accesses)"

func (c *compare) figOverhead(i int, cs CostSet) *Figure {
	f := &Figure{Name: fmt.Sprintf("cmp-fig%d", i+1), Title: "Overhead per scheme, " + cs.Label + " costs",
		Caption: fmt.Sprintf("Overhead against the interval for every scheme under the %s cost set (geometric mean over the traces; points where some trace took no checkpoint are not drawn). Dashed grey: 1%% and 5%%.", cs.Label),
		XLabel:  ivLabel, YLabel: "overhead (% of baseline time)", LogY: true, RefLines: refLines, RefName: refName}
	for _, sc := range cmpSchemes {
		ser := Series{Name: sc.label, X: ivxs(CompareIntervals)}
		for _, n := range CompareIntervals {
			ser.Y = append(ser.Y, 100*c.schemeOverhead(cs.Model, sc, n))
		}
		f.Series = append(f.Series, ser)
	}
	return f
}

func (c *compare) figures() []*Figure {
	var figs []*Figure
	for i, cs := range c.sets {
		figs = append(figs, c.figOverhead(i, cs))
	}
	vol := &Figure{Name: "cmp-fig4", Title: "Bytes moved per checkpoint",
		Caption: "Bytes copied, logged, sent to storage and to a backup per checkpoint (sum over the traces over the checkpoints), against the interval.",
		XLabel:  ivLabel, YLabel: "bytes moved per checkpoint (B)", LogY: true}
	mem := &Figure{Name: "cmp-fig5", Title: "Memory overhead",
		Caption: "Memory held beyond the footprint at its peak (mem_overhead_peak_bytes) as a fraction of the footprint, mean over the traces, against the interval.",
		XLabel:  ivLabel, YLabel: "memory overhead (fraction of footprint)"}
	for _, sc := range cmpSchemes {
		v := Series{Name: sc.label, X: ivxs(CompareIntervals)}
		m := Series{Name: sc.label, X: ivxs(CompareIntervals)}
		for _, n := range CompareIntervals {
			v.Y = append(v.Y, c.perCheckpoint(sc, n, moved))
			m.Y = append(m.Y, c.memFraction(sc, n))
		}
		vol.Series, mem.Series = append(vol.Series, v), append(mem.Series, m)
	}
	gr := &Figure{Name: "cmp-fig6", Title: "Granule of block-granular schemes",
		Caption: fmt.Sprintf("Overhead against the granule tracked by the memory controller, interval %s (geometric mean over the traces).", siLabel(float64(GranuleInterval))),
		XLabel:  "granule (bytes)", YLabel: "overhead (% of baseline time)", LogY: true, RefLines: refLines, RefName: refName,
		XTicks: ivxs(Granules)}
	for _, sc := range cmpSchemes {
		if !sc.block {
			continue
		}
		ser := Series{Name: sc.label}
		for _, g := range Granules {
			o, _ := c.granulePoint(sc, g)
			ser.X, ser.Y = append(ser.X, float64(g)), append(ser.Y, 100*o)
		}
		gr.Series = append(gr.Series, ser)
	}
	figs = append(figs, vol, mem, gr)
	figs = append(figs, c.sensitivity()...)
	figs = append(figs, c.figValidation())
	if len(c.ioTraces()) > 0 {
		figs = append(figs, c.figDelay())
	}
	for _, f := range figs {
		f.Caption += coinciding(f)
	}
	return figs
}

// coinciding names the series of a figure whose values are all equal (to 4 significant
// digits), which hide one another: " Coinciding lines: a = b; c = d." or "".
func coinciding(f *Figure) string {
	key := func(s Series) string {
		var b strings.Builder
		for _, y := range s.Y {
			b.WriteString(strconv.FormatFloat(y, 'g', 4, 64) + ",")
		}
		return b.String()
	}
	groups := map[string][]string{}
	var order []string
	for _, s := range f.Series {
		k := key(s)
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s.Name)
	}
	var parts []string
	for _, k := range order {
		if len(groups[k]) > 1 {
			parts = append(parts, strings.Join(groups[k], " = "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " Coinciding lines: " + strings.Join(parts, "; ") + "."
}

// SensitivityInterval is the interval of the sensitivity figures (one of CompareIntervals).
var SensitivityInterval int64 = 100_000

// sensitivity varies one cost of this machine's set at a time and recomputes every
// scheme's overhead from the same counters.
func (c *compare) sensitivity() []*Figure {
	type axis struct {
		name, title, label string
		xs                 []float64
		set                func(m *cost.Model, x float64)
	}
	axes := []axis{
		{"cmp-fig7", "Sensitivity to the trap cost", "trap cost (ns)", []float64{10, 30, 100, 300, 1000, 3000, 10_000, 30_000},
			func(m *cost.Model, x float64) { m.TrapNs, m.MprotectNs = x, x }},
		{"cmp-fig8", "Sensitivity to the copy bandwidth", "copy bandwidth (bytes/s)", []float64{1e7, 1e8, 1e9, 3e9, 1e10, 3e10, 1e11},
			func(m *cost.Model, x float64) {
				m.CopyBytesPerSec, m.LogBytesPerSec, m.RecoveryBytesPerSec, m.CacheFlushLineNs = x, x, x, 64/x*1e9
			}},
		{"cmp-fig9", "Sensitivity to the storage write cost", "storage write of a 4 KiB page (ns)", []float64{300, 1000, 3000, 10_000, 100_000, 1e6, 1e7},
			func(m *cost.Model, x float64) {
				m.DiskWriteNs, m.PTPageWriteNs, m.CommitNs, m.StorageBytesPerSec = x, x, x, PageSize/x*1e9
			}},
	}
	var figs []*Figure
	for _, a := range axes {
		f := &Figure{Name: a.name, Title: a.title,
			Caption: fmt.Sprintf("Overhead at interval %s against %s, the other costs this machine's (the storage write cost sets the page write, page-table write and commit times and the streaming bandwidth together; the copy bandwidth sets the copy, log and recovery bandwidths and the cache flush). Geometric mean over the traces, recomputed from the same counters.", siLabel(float64(SensitivityInterval)), a.label),
			XLabel:  a.label, YLabel: "overhead (% of baseline time)", LogY: true, RefLines: refLines, RefName: refName}
		for _, sc := range cmpSchemes {
			ser := Series{Name: sc.label, X: a.xs}
			for _, x := range a.xs {
				m := c.opt.Costs.Model
				a.set(&m, x)
				ser.Y = append(ser.Y, 100*c.schemeOverhead(m, sc, SensitivityInterval))
			}
			f.Series = append(f.Series, ser)
		}
		figs = append(figs, f)
	}
	return figs
}

func (c *compare) figValidation() *Figure {
	t := c.vtr[0]
	f := &Figure{Name: "cmp-fig10", Title: "Run time with failures against the interval (" + t.label + ")",
		Caption: fmt.Sprintf("Modeled run time with transient failures (--mtbf %d accesses, mean over seeds %v) relative to the best interval of the grid, on %s, for the schemes of the validation; Table C4 gives the predicted optima.", t.summary.Accesses/validationFailures, ValidationSeeds, t.label),
		XLabel:  ivLabel, YLabel: "run time / time at the best interval", LogY: true}
	for _, sc := range cmpSchemes {
		if !sc.validate {
			continue
		}
		ser := Series{Name: sc.label, X: ivxs(ValidationIntervals)}
		best := math.Inf(1)
		for _, n := range ValidationIntervals {
			var sum float64
			for _, seed := range ValidationSeeds {
				sum += c.tm(c.res(ckey("VF", t.name, sc.key, n, seed)))
			}
			ser.Y = append(ser.Y, sum/float64(len(ValidationSeeds)))
			best = min(best, ser.Y[len(ser.Y)-1])
		}
		for i := range ser.Y {
			ser.Y[i] /= best
		}
		f.Series = append(f.Series, ser)
	}
	return f
}

// writeAll writes tables (txt, md, csv, tex) and figures (svg, png, pdf, and their numbers
// as csv) into dir, each file whole or not at all.
func writeAll(dir string, tables []*Table, figs []*Figure) error {
	put := func(name string, data []byte) error { return atomicfile.WriteFile(filepath.Join(dir, name), data) }
	for _, t := range tables {
		txt, err := t.Text()
		if err != nil {
			return err
		}
		cv, err := t.CSV()
		if err != nil {
			return err
		}
		for _, f := range []struct {
			ext  string
			data []byte
		}{{".txt", txt}, {".md", t.Markdown()}, {".csv", cv}, {".tex", t.LaTeX()}} {
			if err := put(t.Name+f.ext, f.data); err != nil {
				return err
			}
		}
	}
	for _, f := range figs {
		svg, png, pdf, err := f.Render()
		if err != nil {
			return err
		}
		cv, err := figureData(f).CSV()
		if err != nil {
			return err
		}
		for _, x := range []struct {
			ext  string
			data []byte
		}{{".svg", svg}, {".png", png}, {".pdf", pdf}, {".csv", cv}} {
			if err := put(f.Name+x.ext, x.data); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *compare) write() error {
	tables := []*Table{c.tableSchemes(), c.tableVolumes(), c.tableRecovery(), c.tableOptimum(), c.tableWinners(), c.tableGranule(), c.tableCostSets()}
	if len(c.ioTraces()) > 0 {
		tables = append(tables, c.tableDelay())
	}
	figs := c.figures()
	if err := writeAll(c.opt.Dir, tables, figs); err != nil {
		return err
	}
	var b bytes.Buffer
	c.readme(&b, tables, figs)
	return atomicfile.WriteFile(filepath.Join(c.opt.Dir, "README.md"), b.Bytes())
}
