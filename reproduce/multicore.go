package reproduce

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coord"
	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

// The multi-core study's fixed settings (docs/coordinated.md; the README it writes says
// each).
var (
	// mcCores are the core counts compared.
	mcCores = []int{2, 4, 8, 16}
	// mcCache is each core's private cache.
	mcCache = cache.Geometry{Size: 32 << 10, Ways: 8, Line: 64}
	// mcCorpus are the corpus's multi-threaded programs the study runs.
	mcCorpus = []string{"stencil-mt", "reduce-mt"}
)

const (
	// mcPerCore is the checkpoint interval in accesses of each active core: rebound's
	// Interval, and global's Interval divided by the number of active cores, so that
	// both checkpoint a core about as often.
	mcPerCore = 50_000
	// mcFailures is the expected number of failures of a run: its MTBF is the trace's
	// accesses divided by it.
	mcFailures = 16
	// mcSeed seeds the failures and the failing cores.
	mcSeed = 1
	// mcPinned is the round-robin quantum of the corpus programs: longer than any trace,
	// so that each thread stays on the core it was dealt first (pinned threads).
	mcPinned = int64(1) << 62
)

// mcTrace is one trace of the multi-core study.
type mcTrace struct {
	name, source string
	open         func() (*traces.File, error)
	policy       schedule.Policy
	quantum      int64
}

// mcRow is one run of the study: a trace on a number of cores under a scheme.
type mcRow struct {
	trace    string
	cores    int
	active   int // cores that made accesses
	scheme   coord.Scheme
	interval int64
	mtbf     float64
	st, base coord.Stats
}

func (r mcRow) overhead() float64 { return coord.Overhead(r.st, r.base) }

func mcMean(sum, n int64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(sum) / float64(n)
}

// bytesMoved is what a run moves for its checkpoints and recoveries: checkpoint
// write-backs, the old contents logged, and the bytes rollbacks restored.
func (r mcRow) bytesMoved() int64 {
	return r.st.FlushBytes + r.st.BytesLogged + r.st.RecoveryBytes
}

// coherence is a run's coherence traffic: invalidations and downgrades.
func (r mcRow) coherence() int64 { return r.st.CohInvalidations + r.st.CohDowngrades }

// mcTraces returns the study's traces: the corpus programs, and the drmemtrace directory
// dr when it is not "".
func mcTraces(dr string) ([]mcTrace, error) {
	es, err := corpus.Manifest()
	if err != nil {
		return nil, err
	}
	var out []mcTrace
	for _, name := range mcCorpus {
		found := false
		for _, e := range es {
			if e.Name == name {
				e := e
				out = append(out, mcTrace{name: name, source: "corpus/" + e.File + ", " + strings.TrimPrefix(e.Input, "none: "),
					open: func() (*traces.File, error) { return corpus.Open(e) }, policy: schedule.RoundRobin, quantum: mcPinned})
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("multicore study: the corpus has no %s", name)
		}
	}
	if dr != "" {
		src, err := traces.NewSource(dr, traces.Options{Format: traces.FormatDrmemtrace})
		if err != nil {
			return nil, fmt.Errorf("multicore study: --drmemtrace: %w", err)
		}
		out = append(out, mcTrace{name: "drmemtrace", source: "the drmemtrace directory " + filepath.Base(dr) + ", threads on their recorded cpus",
			open: src.Open, policy: schedule.Recorded})
	}
	return out, nil
}

// runMulticore runs the multi-core study into Dir/multicore.
func runMulticore(opt Options) error {
	ts, err := mcTraces(opt.Drmemtrace)
	if err != nil {
		return err
	}
	dir := filepath.Join(opt.Dir, "multicore")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	total, done := len(ts)*len(mcCores)*(1+len(coord.Schemes)), 0
	var start time.Time
	if opt.Report != nil {
		start = opt.Report.now()
	}
	// step reports a finished run: a line each, with the time left estimated from the
	// runs of the same trace (their lengths differ a hundredfold between traces).
	step := func(trace string, cores int, what string) {
		done++
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
		if r := opt.Report; r != nil {
			el := r.now().Sub(start)
			left := time.Duration(float64(el) / float64(done) * float64(total-done))
			fmt.Fprintf(r.w, "reproduce: multicore: %d/%d runs done (%s on %d cores, %s), %s elapsed, about %s left at this pace\n",
				done, total, trace, cores, what, el.Round(time.Second), left.Round(time.Second))
		}
	}
	var rows []mcRow
	for _, t := range ts {
		for _, n := range mcCores {
			run := func(c coord.Config) (coord.Stats, error) {
				f, err := t.open()
				if err != nil {
					return coord.Stats{}, err
				}
				st, err := coord.Run(c, f, f.CPU)
				if err != nil {
					return st, fmt.Errorf("multicore study: %s on %d cores, %s: %w", t.name, n, c.Scheme, err)
				}
				return st, nil
			}
			c := coord.Config{Scheme: coord.Global, Cores: n, Cache: mcCache, Policy: t.policy, Quantum: t.quantum,
				FailCore: coord.AnyCore, Seed: mcSeed}
			base, err := run(c)
			if err != nil {
				return err
			}
			step(t.name, n, "baseline")
			active := 0
			for _, ns := range base.CoreTimeNs {
				if ns > 0 {
					active++
				}
			}
			mtbf := float64(base.Accesses) / mcFailures
			for _, s := range coord.Schemes {
				c := c
				c.Scheme, c.MTBF = s, mtbf
				c.Interval = mcPerCore
				if s == coord.Global {
					c.Interval = mcPerCore * int64(max(active, 1))
				}
				st, err := run(c)
				if err != nil {
					return err
				}
				step(t.name, n, string(s))
				rows = append(rows, mcRow{trace: t.name, cores: n, active: active, scheme: s, interval: c.Interval, mtbf: mtbf, st: st, base: base})
			}
		}
	}
	return writeMulticore(opt, dir, ts, rows)
}

func mcItoa(n int64) string { return strconv.FormatInt(n, 10) }

// fnum writes a float for a CSV: %g with 6 digits, "" for NaN (not measured).
func mcNum(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', 6, 64)
}

// mcTable is the study's table: one row per run, every column numeric but the names.
func mcTable(rows []mcRow) *Table {
	t := &Table{Name: "multicore", Title: "Global against rebound coordinated checkpoints",
		Caption: "One run per trace, core count and scheme: checkpoints every 50,000 accesses of each active core, failures at an MTBF of the trace's accesses / 16 (seed 1), of a core drawn uniformly, 32 KiB 8-way private caches. Means are over the run's checkpoints or rollbacks (their counts beside them); overhead is over the same run without checkpoints or failures.",
		Header: []string{"trace", "cores", "active_cores", "scheme", "interval", "checkpoints", "cores_per_checkpoint_mean", "rollbacks", "cores_per_rollback_mean",
			"lost_accesses", "lost_accesses_per_rollback", "dependence_edges", "bytes_moved", "coherence_events", "time_ns", "baseline_time_ns", "overhead"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.trace, strconv.Itoa(r.cores), strconv.Itoa(r.active), string(r.scheme), mcItoa(r.interval),
			mcItoa(r.st.Checkpoints), mcNum(mcMean(r.st.CoresPerCheckpoint, r.st.Checkpoints)), mcItoa(r.st.Rollbacks), mcNum(mcMean(r.st.CoresPerRollback, r.st.Rollbacks)),
			mcItoa(r.st.LostAccesses), mcNum(mcMean(r.st.LostAccesses, r.st.Rollbacks)), mcItoa(r.st.DependenceEdges), mcItoa(r.bytesMoved()), mcItoa(r.coherence()),
			mcNum(r.st.TimeNs), mcNum(r.base.TimeNs), mcNum(r.overhead())})
	}
	t.Right = make([]bool, len(t.Header))
	for i := range t.Right {
		t.Right[i] = i != 0 && i != 3
	}
	return t
}

// mcFigures draws each measure against the core count, a series per trace and scheme.
func mcFigures(ts []mcTrace, rows []mcRow) []*Figure {
	xs := make([]float64, len(mcCores))
	for i, n := range mcCores {
		xs[i] = float64(n)
	}
	fig := func(name, title, ylabel string, logY bool, y func(mcRow) float64) *Figure {
		f := &Figure{Name: name, Title: title, XLabel: "cores", YLabel: ylabel, XTicks: xs, LogY: logY}
		for _, t := range ts {
			for _, s := range coord.Schemes {
				ser := Series{Name: t.name + ", " + string(s), X: xs}
				for _, n := range mcCores {
					v := math.NaN()
					for _, r := range rows {
						if r.trace == t.name && r.cores == n && r.scheme == s {
							v = y(r)
						}
					}
					ser.Y = append(ser.Y, v)
				}
				f.Series = append(f.Series, ser)
			}
		}
		return f
	}
	return []*Figure{
		fig("mc-overhead", "Overhead against the core count", "overhead (%)", false, func(r mcRow) float64 { return 100 * r.overhead() }),
		fig("mc-cores-per-checkpoint", "Cores taking part in a checkpoint", "cores per checkpoint (mean)", false, func(r mcRow) float64 { return mcMean(r.st.CoresPerCheckpoint, r.st.Checkpoints) }),
		fig("mc-cores-per-rollback", "Cores rolled back by a failure", "cores per rollback (mean)", false, func(r mcRow) float64 { return mcMean(r.st.CoresPerRollback, r.st.Rollbacks) }),
		fig("mc-lost-work", "Work lost to rollbacks", "accesses lost per rollback (mean)", true, func(r mcRow) float64 { return mcMean(r.st.LostAccesses, r.st.Rollbacks) }),
		fig("mc-bytes-moved", "Bytes moved for checkpoints and recovery", "bytes (flushes + log + recovery)", true, func(r mcRow) float64 { return float64(r.bytesMoved()) }),
		fig("mc-coherence", "Coherence traffic", "invalidations + downgrades", true, func(r mcRow) float64 { return float64(r.coherence()) }),
	}
}

// writeMulticore writes the table, the figures and the README.
func writeMulticore(opt Options, dir string, ts []mcTrace, rows []mcRow) error {
	figs := mcFigures(ts, rows)
	t := mcTable(rows)
	if err := writeAll(dir, []*Table{t}, figs); err != nil {
		return err
	}
	var b bytes.Buffer
	mcReadme(&b, opt, ts, rows, t, figs)
	return atomicfile.WriteFile(filepath.Join(dir, "README.md"), b.Bytes())
}

// mcRun returns the row of trace t on n cores under s.
func mcRun(rows []mcRow, t string, n int, s coord.Scheme) (mcRow, bool) {
	for _, r := range rows {
		if r.trace == t && r.cores == n && r.scheme == s {
			return r, true
		}
	}
	return mcRow{}, false
}

// mcReadme writes the study's README: what was run, and what the numbers show, computed
// from them.
func mcReadme(b *bytes.Buffer, opt Options, ts []mcTrace, rows []mcRow, t *Table, figs []*Figure) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("# Multi-core: global against rebound coordinated checkpoints\n\n")
	cmd := opt.Command
	if opt.Drmemtrace != "" {
		// The directory's path is the generating machine's: name the directory instead.
		cmd = strings.ReplaceAll(cmd, opt.Drmemtrace, "DIR")
		p("Generated by `%s` (vmsim %s), DIR being the drmemtrace directory `%s`. Every number below is computed from `multicore.csv`.\n\n", cmd, opt.Version, filepath.Base(opt.Drmemtrace))
	} else {
		p("Generated by `%s` (vmsim %s). Every number below is computed from `multicore.csv`.\n\n", cmd, opt.Version)
	}
	p("The two coordinated schemes of docs/coordinated.md on the multi-core machine of docs/coherence.md: ")
	p("`global` checkpoints every core together at a barrier and rolls every core back at a failure (as ReVive and SafetyNet); ")
	p("`rebound` checkpoints a core with the cores it read from since its last checkpoint, and rolls back the failed core with the cores that read from it, transitively (Agarwal et al., ISCA'11).\n\n")
	p("## Setup\n\n")
	p("- Cores: %s, each with a private %s %d-way cache of %d-byte lines, kept coherent by an MSI directory.\n", mcList(mcCores), mcBytes(mcCache.Size), mcCache.Ways, mcCache.Line)
	p("- Checkpoints: every %s accesses of each active core (rebound's interval; global's is %s × the active cores, so that both checkpoint a core about as often). Rebound's timeout: the default, 2 × cores × interval.\n", mcComma(mcPerCore), mcComma(mcPerCore))
	p("- Failures: transient faults of one core, at exponential gaps of mean the trace's accesses / %d, seeded %d; the failing core drawn uniformly. The same failures (times and cores) strike both schemes.\n", mcFailures, mcSeed)
	p("- Time: docs/coordinated.md's model (the slowest core's time) at the default costs; overhead is over the same run without checkpoints or failures.\n")
	p("- Traces:\n")
	for _, tr := range ts {
		sched := "threads pinned: dealt to the cores in order of appearance (round-robin with a quantum longer than the trace)"
		if tr.policy == schedule.Recorded {
			sched = "each access on the core of its recorded cpu (cpu numbers modulo the cores)"
		}
		p("  - `%s`: %s; %s.\n", tr.name, tr.source, sched)
	}
	if opt.Drmemtrace == "" {
		p("  - the drmemtrace sample was not given (`--drmemtrace DIR`): not run.\n")
	}
	p("\nThe corpus programs have 4 worker threads and a main thread: above 5 cores the extra cores stay idle (`active_cores`). Global still stops them at every barrier and rolls them back; rebound leaves them alone. A failure strikes any core, busy or idle, as each core fails at the same rate: the run's %d failures are the same whatever the core count, so a machine of more cores, finishing sooner, fails more often per second. A failure of an idle core costs rebound nothing (no work since its checkpoint, no consumers); on many idle cores its lost work per rollback falls towards 0 by this alone.\n\n", mcFailures)
	p("## Results\n\n")
	for _, tr := range ts {
		p("### %s\n\n", tr.name)
		p("| cores | active | overhead global | overhead rebound | cores/checkpoint global | rebound | cores/rollback global | rebound | lost/rollback global | rebound | bytes moved global | rebound |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, n := range mcCores {
			g, ok1 := mcRun(rows, tr.name, n, coord.Global)
			r, ok2 := mcRun(rows, tr.name, n, coord.Rebound)
			if !ok1 || !ok2 {
				continue
			}
			p("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, g.active, mcPct(g.overhead()), mcPct(r.overhead()),
				mcF2(mcMean(g.st.CoresPerCheckpoint, g.st.Checkpoints)), mcF2(mcMean(r.st.CoresPerCheckpoint, r.st.Checkpoints)),
				mcF2(mcMean(g.st.CoresPerRollback, g.st.Rollbacks)), mcF2(mcMean(r.st.CoresPerRollback, r.st.Rollbacks)),
				siLabel(mcMean(g.st.LostAccesses, g.st.Rollbacks)), siLabel(mcMean(r.st.LostAccesses, r.st.Rollbacks)),
				siLabel(float64(g.bytesMoved())), siLabel(float64(r.bytesMoved())))
		}
		p("\n")
		mcVerdict(p, tr.name, mcAdvantages(rows, tr.name))
	}
	p("## Set beside Rebound's published trend\n\n")
	p("Rebound's paper reports that local coordination's advantage over global checkpointing grows with the number of processors. ")
	held, total := 0, 0
	for _, tr := range ts {
		adv := mcAdvantages(rows, tr.name)
		if len(adv) < 2 {
			continue
		}
		total++
		if mcGrows(adv) {
			held++
		}
	}
	p("Here the advantage (global's overhead minus rebound's) grows from %d to %d cores on %d of %d traces. ", mcCores[0], mcCores[len(mcCores)-1], held, total)
	p("Only the trend is compared: the machine, the time model, the workloads and the checkpoint and failure rates are vmsim's, not the paper's, and its absolute figures are not claimed.\n\n")
	p("## Files\n\n")
	p("- `%s.csv` (also `.md`, `.txt`, `.tex`): %s\n", t.Name, t.Caption)
	notes := map[string]string{
		"mc-cores-per-checkpoint": " Global's lines coincide: every core takes part in every checkpoint, on every trace.",
		"mc-cores-per-rollback":   " Global's lines coincide: every core rolls back at every failure, on every trace.",
	}
	for _, f := range figs {
		p("- `%s.svg` (`.png`, `.pdf`, numbers in `.csv`): %s.%s\n", f.Name, f.Title, notes[f.Name])
	}
}

// mcAdvantages returns global's overhead minus rebound's for each core count of trace.
func mcAdvantages(rows []mcRow, trace string) []float64 {
	var adv []float64
	for _, n := range mcCores {
		g, ok1 := mcRun(rows, trace, n, coord.Global)
		r, ok2 := mcRun(rows, trace, n, coord.Rebound)
		if ok1 && ok2 {
			adv = append(adv, g.overhead()-r.overhead())
		}
	}
	return adv
}

// grows reports whether every step of xs is an increase.
func mcGrows(xs []float64) bool {
	for i := 1; i < len(xs); i++ {
		if !(xs[i] > xs[i-1]) {
			return false
		}
	}
	return len(xs) > 1
}

// mcVerdict says what the advantages of one trace show.
func mcVerdict(p func(string, ...any), trace string, adv []float64) {
	if len(adv) < 2 {
		return
	}
	lo, hi := adv[0], adv[len(adv)-1]
	switch {
	case mcGrows(adv):
		p("Rebound's advantage in overhead grows with every doubling of the cores, from %s points at %d cores to %s at %d.\n\n", mcF2(100*lo), mcCores[0], mcF2(100*hi), mcCores[len(mcCores)-1])
	case hi > lo:
		p("Rebound's advantage in overhead is larger at %d cores (%s points) than at %d (%s), but does not grow at every step.\n\n", mcCores[len(mcCores)-1], mcF2(100*hi), mcCores[0], mcF2(100*lo))
	default:
		p("Rebound's advantage in overhead does not grow with the cores here: %s points at %d cores, %s at %d.\n\n", mcF2(100*lo), mcCores[0], mcF2(100*hi), mcCores[len(mcCores)-1])
	}
}

func mcPct(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }

func mcF2(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func mcBytes(n uint64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatUint(n>>20, 10) + " MiB"
	}
	return strconv.FormatUint(n>>10, 10) + " KiB"
}

// mcList writes 2, 4, 8 and 16.
func mcList(ns []int) string {
	var b strings.Builder
	for i, n := range ns {
		switch {
		case i == 0:
		case i == len(ns)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// mcComma writes n with thousands separators: 50,000.
func mcComma(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
