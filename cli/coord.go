package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coord"
	"github.com/vmsim/vmsim/internal/textable"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// coordFlags are run's flags that only the coordinated schemes (package coord) take.
type coordFlags struct {
	failCore int
	maxAge   int64
}

func (c *coordFlags) add(f *pflag.FlagSet) {
	f.IntVar(&c.failCore, "fail-core", coord.AnyCore, fmt.Sprintf("coordinated schemes (global, rebound): the core that each failure strikes, from 0; %d draws it uniformly with --seed", coord.AnyCore))
	countVar(f, &c.maxAge, "max-age", "", 0, "rebound: a core whose oldest access since its checkpoint is N accesses (of the whole trace) old takes a checkpoint; 0 for 2 × cores × --interval")
}

// isCoord reports whether name is a coordinated scheme rather than a registered one.
func isCoord(name string) bool { return slices.Contains(coord.Schemes, coord.Scheme(name)) }

// coordNames are the coordinated schemes' names, which run takes besides reg's.
func coordNames() []string {
	var names []string
	for _, s := range coord.Schemes {
		names = append(names, string(s))
	}
	return names
}

// coordApplies are the flags of run that a coordinated run uses; giving any other of
// the machine's settings is a usage error (they model what coord does not).
var coordApplies = map[string]bool{
	"json": true, "no-baseline": true, "scheme": true, "seed": true, "format": true,
	"lenient": true, "interval": true, "fail-at": true, "mtbf": true, "verify": true,
	"verify-block": true, "cache-size": true, "cache-ways": true, "cache-line": true,
	"cores": true, "schedule": true, "quantum": true, "fail-core": true, "max-age": true,
}

// coordConfig turns run's settings into a coordinated run's, refusing the settings that
// do not apply to it: those given with a value other than their default, as run counts a
// setting given. flags is run's flag set.
func coordConfig(cfg sim.Config, cf coordFlags, flags *pflag.FlagSet) (coord.Config, error) {
	var bad []string
	flags.Visit(func(f *pflag.Flag) {
		if !coordApplies[f.Name] && f.Value.String() != f.DefValue {
			bad = append(bad, "--"+f.Name)
		}
	})
	if len(bad) > 0 {
		verb := "does"
		if len(bad) > 1 {
			verb = "do"
		}
		return coord.Config{}, fmt.Errorf("--scheme %s is a coordinated multi-core scheme (docs/coordinated.md): %s %s not apply to it", cfg.Scheme, strings.Join(bad, ", "), verb)
	}
	c := coord.Config{
		Scheme:      coord.Scheme(cfg.Scheme),
		Cores:       cfg.Cores,
		Cache:       cache.Geometry{Size: cfg.CacheSize, Ways: cfg.CacheWays, Line: cfg.CacheLine},
		Policy:      cfg.Schedule,
		Quantum:     cfg.Quantum,
		Interval:    cfg.Interval,
		MaxAge:      cf.maxAge,
		FailAt:      cfg.FailAt,
		MTBF:        cfg.MTBF,
		FailCore:    cf.failCore,
		Seed:        cfg.Seed,
		Verify:      cfg.Verify,
		VerifyBlock: cfg.VerifyBlock,
	}
	if c.Policy == schedule.Recorded && !flags.Changed("quantum") {
		c.Quantum = 0 // the default quantum is round-robin's
	}
	if err := c.Validate(); err != nil {
		return coord.Config{}, err
	}
	return c, nil
}

// coordOutput is a coordinated run's --json output.
type coordOutput struct {
	Config       coord.Config    `json:"-"`
	JSONConfig   coordConfigJSON `json:"config"`
	Trace        string          `json:"trace"`
	TraceFormat  string          `json:"trace_format"`
	TraceSHA256  string          `json:"trace_sha256"`
	VMSimVersion string          `json:"vmsim_version"`
	Stats        coord.Stats     `json:"stats"`
	// BaselineTimeNs and Overhead: the same run without checkpoints or failures
	// (coord.Config.Baseline) and the overhead over it; null without a baseline.
	BaselineTimeNs *float64 `json:"baseline_time_ns"`
	Overhead       *float64 `json:"overhead"`
}

// coordConfigJSON is a coordinated run's configuration in --json's object, under the
// keys vmsim run and sweep name the same settings by (the costs under cost.Model's).
type coordConfigJSON struct {
	Scheme      string         `json:"scheme"`
	Cores       int            `json:"cores"`
	CacheSize   uint64         `json:"cache_size"`
	CacheWays   int            `json:"cache_ways"`
	CacheLine   uint64         `json:"cache_line"`
	Schedule    string         `json:"schedule"`
	Quantum     int64          `json:"quantum"`
	Interval    int64          `json:"interval"`
	MaxAge      int64          `json:"max_age"`
	FailAt      []int64        `json:"fail_at"`
	MTBF        float64        `json:"mtbf"`
	FailCore    int            `json:"fail_core"`
	Seed        uint64         `json:"seed"`
	Verify      bool           `json:"verify"`
	VerifyBlock uint64         `json:"verify_block"`
	Costs       coordCostsJSON `json:"costs"`
}

// coordCostsJSON are the costs a coordinated run used (the defaults when none were set).
type coordCostsJSON struct {
	AccessNs            float64 `json:"access_ns"`
	CacheMissNs         float64 `json:"cache_miss_ns"`
	CacheFlushLineNs    float64 `json:"cache_flush_line_ns"`
	BarrierNs           float64 `json:"barrier_ns"`
	BarrierPerCoreNs    float64 `json:"barrier_per_core_ns"`
	RestartNs           float64 `json:"restart_ns"`
	RecoveryBytesPerSec float64 `json:"recovery_bytes_per_sec"`
}

func newCoordConfigJSON(c coord.Config) coordConfigJSON {
	k := c.Costs
	if k == (coord.Costs{}) {
		k = coord.DefaultCosts()
	}
	fail := c.FailAt
	if fail == nil {
		fail = []int64{}
	}
	return coordConfigJSON{Scheme: string(c.Scheme), Cores: c.Cores, CacheSize: c.Cache.Size, CacheWays: c.Cache.Ways,
		CacheLine: c.Cache.Line, Schedule: string(c.Policy), Quantum: c.Quantum, Interval: c.Interval, MaxAge: c.MaxAge,
		FailAt: fail, MTBF: c.MTBF, FailCore: c.FailCore, Seed: c.Seed, Verify: c.Verify, VerifyBlock: c.VerifyBlock,
		Costs: coordCostsJSON{AccessNs: k.AccessNs, CacheMissNs: k.MissNs, CacheFlushLineNs: k.FlushLineNs, BarrierNs: k.BarrierNs,
			BarrierPerCoreNs: k.BarrierPerCoreNs, RestartNs: k.RestartNs, RecoveryBytesPerSec: k.RecoveryBytesPerSec}}
}

// runCoord runs a coordinated scheme: open opens the trace (again for the baseline;
// nil when it can be read once only), and the output goes to stdout as run's does.
func runCoord(c coord.Config, trace string, open func() (*traces.File, error), reopen bool, hash *traceHash, finishHash func(), asJSON bool, stdout io.Writer) error {
	one := func(c coord.Config) (coord.Stats, traces.Format, error) {
		f, err := open()
		if err != nil {
			return coord.Stats{}, "", err
		}
		st, err := coord.Run(c, f, f.CPU)
		return st, f.Format, err
	}
	st, format, runErr := one(c)
	if runErr != nil && st.VerifyChecks == 0 && st.Orphans == 0 && st.VerifyMismatches == 0 {
		return fmt.Errorf("%s: %w", trace, runErr)
	}
	out := coordOutput{Config: c, JSONConfig: newCoordConfigJSON(c), Trace: trace, TraceFormat: string(format), VMSimVersion: version, Stats: st}
	if reopen {
		base, _, err := one(c.Baseline())
		if err != nil {
			return fmt.Errorf("the baseline (the same run without checkpoints or failures): %w", err)
		}
		o := coord.Overhead(st, base)
		out.BaselineTimeNs, out.Overhead = &base.TimeNs, &o
	}
	if asJSON {
		finishHash()
		sum, err := hash.wait()
		if err != nil {
			return err
		}
		out.TraceSHA256 = sum
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else if err := printCoord(stdout, out); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("%w: %v", errMismatch, runErr)
	}
	return nil
}

// printCoord writes a coordinated run as text: the machine, the counters, the time.
func printCoord(w io.Writer, o coordOutput) error {
	c := o.Config
	sched := string(c.Policy)
	if c.Policy == schedule.RoundRobin {
		sched += fmt.Sprintf(", quantum %d", c.Quantum)
	}
	fmt.Fprintf(w, "trace %s\nscheme %s (coordinated), interval %d\ncores %d, schedule %s, each with a private cache of %s, %d-way, %d B lines\n",
		o.Trace, c.Scheme, c.Interval, c.Cores, sched, sim.FormatBytes(c.Cache.Size), c.Cache.Ways, c.Cache.Line)
	t := textable.New(w, textable.Left, textable.Right)
	t.Header("counter", "value")
	vals := o.Stats.Values()
	for i, d := range coord.CounterDefs() {
		t.Append(d.Key, fmt.Sprint(vals[i]))
	}
	if err := t.Render(); err != nil {
		return err
	}
	if n := o.Stats.Checkpoints; n > 0 {
		fmt.Fprintf(w, "cores per checkpoint %.4g (mean of %d)\n", float64(o.Stats.CoresPerCheckpoint)/float64(n), n)
	}
	if n := o.Stats.Rollbacks; n > 0 {
		fmt.Fprintf(w, "cores per rollback %.4g, lost accesses per rollback %.4g (means of %d)\n",
			float64(o.Stats.CoresPerRollback)/float64(n), float64(o.Stats.LostAccesses)/float64(n), n)
	}
	fmt.Fprintf(w, "modeled time %s (the slowest core's)\n", fmtNs(o.Stats.TimeNs))
	if o.Overhead != nil {
		fmt.Fprintf(w, "baseline (no checkpoints or failures) %s\noverhead %.4g%%\n", fmtNs(*o.BaselineTimeNs), 100**o.Overhead)
	} else {
		fmt.Fprintf(w, "no baseline, no overhead\n")
	}
	return nil
}
