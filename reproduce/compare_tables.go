package reproduce

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"

	"github.com/vmsim/vmsim/scheme"
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

// ovh writes an overhead (a fraction) for a reader: in percent up to 100%, above it as
// the slowdown factor (×2.5: 2.5 times the baseline's time).
func ovh(x float64) string {
	if x <= 1 {
		return pct(x)
	}
	s := 1 + x
	switch {
	case s >= 100:
		return "×" + strconv.FormatFloat(s, 'f', 0, 64)
	case s >= 10:
		return "×" + strconv.FormatFloat(s, 'f', 1, 64)
	}
	return "×" + strconv.FormatFloat(s, 'f', 2, 64)
}

// ovhCell is ovh, or "no ckpt" for NaN (some trace took no checkpoint).
func ovhCell(x float64) string {
	if math.IsNaN(x) {
		return "no ckpt"
	}
	return ovh(x)
}

// num writes a number for a table's CSV: "" for NaN (its status says why).
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', 6, 64)
}

// statusOf is a CSV row's status: "no ckpt" when its number is NaN, else "".
func statusOf(x float64) string {
	if math.IsNaN(x) {
		return "no ckpt"
	}
	return ""
}

// perCheckpoint is what a checkpoint moves at period p, on average: the mean over the
// traces p fits in (covering) of each trace's counter over its checkpoints (every trace
// weighs the same, whatever its number of checkpoints), and the checkpoints taken on
// them. NaN when no trace fits p or one took no checkpoint.
func (c *compare) perCheckpoint(sc cmpScheme, p int64, y func(sim.Stats) int64) (mean float64, checkpoints int64) {
	var ys []float64
	for _, t := range c.covering(p) {
		r := c.res(ckey("A", t.name, sc.key, p))
		checkpoints += r.Stats.Checkpoints
		if r.Stats.Checkpoints == 0 {
			return math.NaN(), checkpoints
		}
		ys = append(ys, float64(y(r.Stats))/float64(r.Stats.Checkpoints))
	}
	if len(ys) == 0 {
		return math.NaN(), 0
	}
	return stat.Mean(ys, nil), checkpoints
}

// memFraction is the mean over the traces p fits in of the memory overhead at its peak as
// a fraction of the footprint (pages touched × page size); NaN as perCheckpoint.
func (c *compare) memFraction(sc cmpScheme, p int64) float64 {
	var ys []float64
	for _, t := range c.covering(p) {
		r := c.res(ckey("A", t.name, sc.key, p))
		if r.Stats.Checkpoints == 0 {
			return math.NaN()
		}
		ys = append(ys, float64(r.Stats.MemOverheadPeakBytes)/float64(t.summary.PagesTouched*PageSize))
	}
	if len(ys) == 0 {
		return math.NaN()
	}
	return stat.Mean(ys, nil)
}

func bytesCell(x float64) string {
	if math.IsNaN(x) {
		return "no ckpt"
	}
	return siLabel(math.Round(x)) + "B"
}

// survives says what failures a scheme survives.
func (sc cmpScheme) survives() string {
	if sc.crash {
		return "+ crash of volatile memory"
	}
	return "transient failures"
}

func (c *compare) tableSchemes() *Table {
	t := &Table{Name: "cmp-table1", Title: "Table C1: overhead of every scheme (this machine's costs)",
		Caption: fmt.Sprintf("Overhead (geometric mean, over the traces the period fits in, of the modeled time over that of none behind the same cache, minus one) against the checkpoint period in modeled time (each trace's interval in accesses for it: Table C0; in brackets the number of the %d traces the period fits in), in percent up to 100%% and above it as the slowdown factor (×N: N times none's time); \"no ckpt\": no trace is that long. Every run: 4 KiB pages, a 32 KiB 8-way cache of 64-byte lines, granule 64 B. The CSV has one row a scheme and period: the traces averaged, overhead_percent and a status.", len(c.traces)),
		Header:  []string{"scheme", "family", "survives"}, Right: []bool{false, false, false},
		DataHeader: []string{"scheme", "family", "survives", "period_us", "traces", "overhead_percent", "status"}}
	for _, n := range ComparePeriods {
		t.Header = append(t.Header, periodLabel(n)+fmt.Sprintf(" (%d)", len(c.covering(n))))
		t.Right = append(t.Right, true)
	}
	for _, sc := range cmpSchemes() {
		row := []string{sc.label, sc.family, sc.survives()}
		for _, n := range ComparePeriods {
			o := c.schemeOverhead(c.opt.Costs.Model, sc, n)
			row = append(row, ovhCell(o))
			t.Data = append(t.Data, []string{sc.label, sc.family, sc.survives(), strconv.FormatInt(n, 10), strconv.Itoa(len(c.covering(n))), num(100 * o), statusOf(o)})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// volumeCounters are the counters of Table C2, per checkpoint.
var volumeCounters = []struct {
	head, col string
	y         func(sim.Stats) int64
}{
	{"copied", "bytes_copied", func(s sim.Stats) int64 { return s.BytesCopied }},
	{"logged", "bytes_logged", func(s sim.Stats) int64 { return s.BytesLogged }},
	{"to storage", "bytes_to_storage", func(s sim.Stats) int64 { return s.BytesToStorage }},
	{"to backup", "bytes_to_backup", func(s sim.Stats) int64 { return s.BytesToBackup }},
	{"stall", "checkpoint_stall_bytes", func(s sim.Stats) int64 { return s.CheckpointStallBytes }},
}

func (c *compare) tableVolumes() *Table {
	n := GranuleInterval
	t := &Table{Name: "cmp-table2", Title: fmt.Sprintf("Table C2: what a checkpoint moves, and memory held (period %s)", periodLabel(n)),
		Caption:    "Per checkpoint, the mean over the traces of each trace's mean over its checkpoints (so that every trace weighs the same; checkpoints: how many were taken on all the traces): bytes copied in memory (bytes_copied), logged (bytes_logged), sent to storage (bytes_to_storage) and to a backup (bytes_to_backup), and moved while the program is stopped (checkpoint_stall_bytes); memory overhead at its peak (mem_overhead_peak_bytes) as a fraction of the footprint, mean over the traces. The CSV has the same in bytes, one row a scheme.",
		Header:     []string{"scheme", "checkpoints"},
		Right:      []bool{false, true},
		DataHeader: []string{"scheme", "checkpoints"}}
	for _, v := range volumeCounters {
		t.Header = append(t.Header, v.head)
		t.DataHeader = append(t.DataHeader, v.col+"_per_checkpoint")
		t.Right = append(t.Right, true)
	}
	t.Header = append(t.Header, "memory overhead (× footprint)")
	t.DataHeader = append(t.DataHeader, "mem_overhead_peak_fraction", "status")
	t.Right = append(t.Right, true)
	for _, sc := range cmpSchemes() {
		_, k := c.perCheckpoint(sc, n, moved)
		row := []string{sc.label, strconv.FormatInt(k, 10)}
		data := []string{sc.label, strconv.FormatInt(k, 10)}
		status := ""
		for _, v := range volumeCounters {
			m, _ := c.perCheckpoint(sc, n, v.y)
			row, data = append(row, bytesCell(m)), append(data, num(m))
			status = statusOf(m)
		}
		mf := c.memFraction(sc, n)
		if math.IsNaN(mf) {
			row = append(row, "no ckpt")
		} else {
			row = append(row, strconv.FormatFloat(mf, 'f', 3, 64))
		}
		t.Rows = append(t.Rows, row)
		t.Data = append(t.Data, append(data, num(mf), status))
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

// recoveryAt is the recovery cost of scheme sc on trace t at the centre of its failure
// runs' grid (Young's interval); no rollbacks when it has no failure runs there.
func (c *compare) recoveryAt(t traceInfo, sc cmpScheme) recovery {
	var rc recovery
	pl := c.plans[ckey(t.name, sc.key)]
	if pl == nil || !pl.ok {
		return rc
	}
	n := pl.grid[len(pl.grid)/2]
	free := c.res(ckey("V0", t.name, sc.key, n))
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

// notValidated is the status of a scheme left out of the failure runs.
const notValidated = "not in the failure runs"

func (c *compare) tableRecovery() *Table {
	t := &Table{Name: "cmp-table3", Title: "Table C3: recovery cost (transient failures, at Young's interval)",
		Caption:    fmt.Sprintf("Per rollback, from the failure runs at the centre of each scheme's grid (Young's interval for the MTBF of Table C4, seeds %d to %d): bytes recovery moved (recovery_bytes), accesses replayed (replayed_refs), and the modeled time the failures added over the failure-free run (µs, this machine's costs), on each validation trace. The failure runs take %s (at least one scheme of each family); the others say so in the status column, as do traces too short for the regime of Table C4.", ValidationSeeds[0], ValidationSeeds[len(ValidationSeeds)-1], strings.Join(validatedLabels(), ", ")),
		Header:     []string{"scheme", "trace", "interval", "rollbacks", "recovery bytes", "accesses replayed", "time (µs)", "status"},
		Right:      []bool{false, false, true, true, true, true, true, false},
		DataHeader: []string{"scheme", "trace", "interval_accesses", "rollbacks", "recovery_bytes_per_rollback", "replayed_accesses_per_rollback", "time_us_per_rollback", "status"}}
	for _, sc := range cmpSchemes() {
		if !sc.validate {
			t.Rows = append(t.Rows, []string{sc.label, "", "", "", "", "", "", notValidated})
			t.Data = append(t.Data, []string{sc.label, "", "", "", "", "", "", notValidated})
			continue
		}
		for _, tr := range c.vtr {
			pl := c.plans[ckey(tr.name, sc.key)]
			if pl == nil || !pl.ok {
				t.Rows = append(t.Rows, []string{sc.label, tr.label, "", "", "", "", "", "no failure runs (Table C4)"})
				t.Data = append(t.Data, []string{sc.label, tr.label, "", "", "", "", "", "no failure runs"})
				continue
			}
			n := pl.grid[len(pl.grid)/2]
			rc := c.recoveryAt(tr, sc)
			if rc.rollbacks == 0 {
				t.Rows = append(t.Rows, []string{sc.label, tr.label, siLabel(float64(n)), "0", "", "", "", "no rollback"})
				t.Data = append(t.Data, []string{sc.label, tr.label, strconv.FormatInt(n, 10), "0", "", "", "", "no rollback"})
				continue
			}
			t.Rows = append(t.Rows, []string{sc.label, tr.label, siLabel(float64(n)), strconv.FormatInt(rc.rollbacks, 10),
				siLabel(math.Round(rc.bytes)) + "B", siLabel(math.Round(rc.replayed)), strconv.FormatFloat(rc.timeNs/1000, 'f', 1, 64), ""})
			t.Data = append(t.Data, []string{sc.label, tr.label, strconv.FormatInt(n, 10), strconv.FormatInt(rc.rollbacks, 10),
				num(rc.bytes), num(rc.replayed), num(rc.timeNs / 1000), ""})
		}
	}
	return t
}

// validatedLabels are the labels of the schemes of the failure runs.
func validatedLabels() []string {
	var out []string
	for _, sc := range cmpSchemes() {
		if sc.validate {
			out = append(out, sc.label)
		}
	}
	return out
}

// granuleStatus says why a scheme is not in the granule study, or "" when it is.
func granuleStatus(sc cmpScheme) string {
	if sc.block {
		return ""
	}
	info, _ := scheme.Lookup(sc.set["scheme"].(string))
	if info.Granule == scheme.GranuleWithoutCache {
		return "tracks cache lines behind a cache, not granules"
	}
	return "not block-granular"
}

func (c *compare) tableGranule() *Table {
	t := &Table{Name: "cmp-table6", Title: fmt.Sprintf("Table C6: the granule of block-granular schemes (period %s)", periodLabel(GranuleInterval)),
		Caption: "Overhead (geometric mean over the traces) and bytes moved per checkpoint (copied + logged + to storage + to backup; the mean over the traces of each trace's mean over its checkpoints) against the granule the memory controller tracks. The schemes that track no granule here say so in the status column.",
		Header:  []string{"scheme"}, Right: []bool{false},
		DataHeader: []string{"scheme", "granule_bytes", "overhead_percent", "bytes_per_checkpoint", "checkpoints", "status"}}
	for _, g := range Granules {
		t.Header = append(t.Header, sizeLabel(g)+" overhead", sizeLabel(g)+" bytes/ckpt")
		t.Right = append(t.Right, true, true)
	}
	t.Header = append(t.Header, "status")
	t.Right = append(t.Right, false)
	for _, sc := range cmpSchemes() {
		row := []string{sc.label}
		if st := granuleStatus(sc); st != "" {
			for range Granules {
				row = append(row, "", "")
			}
			t.Rows = append(t.Rows, append(row, st))
			t.Data = append(t.Data, []string{sc.label, "", "", "", "", st})
			continue
		}
		for _, g := range Granules {
			o, b, k := c.granulePoint(sc, g)
			row = append(row, ovhCell(o), bytesCell(b))
			t.Data = append(t.Data, []string{sc.label, strconv.FormatInt(g, 10), num(100 * o), num(b), strconv.FormatInt(k, 10), statusOf(o)})
		}
		t.Rows = append(t.Rows, append(row, ""))
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

// granulePoint is a block-granular scheme's overhead at granule g (geometric mean over
// the traces), the bytes a checkpoint moves (mean over the traces of each trace's mean
// over its checkpoints) and the checkpoints taken on all the traces; NaN when some trace
// took no checkpoint.
func (c *compare) granulePoint(sc cmpScheme, g int64) (overhead, perCkpt float64, checkpoints int64) {
	var ys, bs []float64
	for _, t := range c.covering(GranuleInterval) {
		r := c.res(ckey("G", t.name, sc.key, g))
		checkpoints += r.Stats.Checkpoints
		if r.Stats.Checkpoints == 0 {
			return math.NaN(), math.NaN(), checkpoints
		}
		ys = append(ys, c.overheadUnder(c.opt.Costs.Model, t, r))
		bs = append(bs, float64(moved(r.Stats))/float64(r.Stats.Checkpoints))
	}
	if len(ys) == 0 {
		return math.NaN(), math.NaN(), 0
	}
	return geo(ys), stat.Mean(bs, nil), checkpoints
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
