package coord

import (
	"fmt"
	"math"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/coherence"
	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/schedule"
)

// Scheme names a coordinated checkpoint scheme (the --scheme option).
type Scheme string

// The schemes (docs/coordinated.md).
const (
	// Global checkpoints every core together, at a barrier, every Interval accesses of
	// all cores; a failure rolls every core back (ReVive, SafetyNet).
	Global Scheme = "global"
	// Rebound checkpoints a core and its producers when the core has made Interval
	// accesses; a failure rolls back the failed core and its consumers, transitively
	// (Agarwal et al., ISCA'11).
	Rebound Scheme = "rebound"
)

// Schemes lists the schemes.
var Schemes = []Scheme{Global, Rebound}

// AnyCore is Config.FailCore's value for a failing core drawn uniformly by the seed.
const AnyCore = -1

// Costs price a run's events for the time model (docs/coordinated.md, "Time"). Each is a
// time in nanoseconds, but RecoveryBytesPerSec.
type Costs struct {
	// AccessNs is one access's time when it hits: cost.Model's access_ns.
	AccessNs float64
	// MissNs is a line reference's miss, on top of the access: cost.Model's cache_miss_ns.
	MissNs float64
	// FlushLineNs is one line written back by a checkpoint's flush: cost.Model's
	// cache_flush_line_ns.
	FlushLineNs float64
	// BarrierNs and BarrierPerCoreNs: a checkpoint of k cores costs each of them
	// BarrierNs + k × BarrierPerCoreNs to coordinate (the requests and acknowledgements
	// through the coordinator). Assumed, not measured: 500 ns and 100 ns.
	BarrierNs, BarrierPerCoreNs float64
	// RestartNs is each rolled-back core's fixed restart time: cost.Model's restart_ns.
	RestartNs float64
	// RecoveryBytesPerSec is the bandwidth at which a rollback undoes the log:
	// cost.Model's recovery_bytes_per_sec.
	RecoveryBytesPerSec float64
}

// DefaultCosts returns package cost's defaults where one fits, and the barrier's assumed
// costs.
func DefaultCosts() Costs {
	d := cost.Default()
	return Costs{
		AccessNs:            d.AccessNs,
		MissNs:              d.CacheMissNs,
		FlushLineNs:         d.CacheFlushLineNs,
		BarrierNs:           500,
		BarrierPerCoreNs:    100,
		RestartNs:           d.RestartNs,
		RecoveryBytesPerSec: d.RecoveryBytesPerSec,
	}
}

// Config is one coordinated run.
type Config struct {
	Scheme Scheme
	// Cores is the number of cores, 1 to coherence.MaxCores; Cache is each core's private
	// cache (its Size must not be 0).
	Cores int
	Cache cache.Geometry
	// Policy and Quantum map the trace's threads to cores (package schedule).
	Policy  schedule.Policy
	Quantum int64
	// Interval is the checkpoint interval in accesses: of all cores (global), of each core
	// (rebound). 0 takes no checkpoint (a baseline: then there must be no failures).
	Interval int64
	// MaxAge (rebound) bounds the accesses a core's uncommitted work spans: after access
	// N, a core whose oldest access since its checkpoint is access N-MaxAge+1 or older
	// takes a checkpoint (a timeout). 0: 2 × Cores × Interval.
	MaxAge int64
	// FailAt lists accesses (numbered from 1 in trace order) after which a failure
	// strikes; MTBF > 0 adds failures at exponential gaps of that mean, in accesses,
	// seeded by Seed. FailCore is the failing core, or AnyCore: one drawn uniformly.
	FailAt   []int64
	MTBF     float64
	FailCore int
	Seed     uint64
	// Verify checks every read and every recovery against a golden model, per block of
	// VerifyBlock bytes (a power of two, at most the line size).
	Verify      bool
	VerifyBlock uint64
	// Costs price the time model; the zero value means DefaultCosts.
	Costs Costs

	// dropDowngradeEdges is a test hook: rebound's tracker ignores the first so many new
	// dependences it would record on a downgrade (a broken tracker).
	dropDowngradeEdges int
}

// failures reports whether the run injects any.
func (c Config) failures() bool { return len(c.FailAt) > 0 || c.MTBF > 0 }

// maxAge returns the effective MaxAge.
func (c Config) maxAge() int64 {
	if c.MaxAge > 0 {
		return c.MaxAge
	}
	if c.Interval > math.MaxInt64/(2*int64(c.Cores)) {
		return math.MaxInt64 // no timeout: the default would overflow
	}
	return 2 * int64(c.Cores) * c.Interval
}

// costs returns the effective Costs.
func (c Config) costs() Costs {
	if c.Costs == (Costs{}) {
		return DefaultCosts()
	}
	return c.Costs
}

// Baseline returns the run that c's overhead is measured against: the same trace,
// machine and schedule without checkpoints or failures (see Overhead).
func (c Config) Baseline() Config {
	b := c
	b.Interval, b.MaxAge, b.FailAt, b.MTBF, b.Verify = 0, 0, nil, 0, false
	b.dropDowngradeEdges = 0
	return b
}

// Validate checks the configuration, naming the command-line options.
func (c Config) Validate() error {
	switch c.Scheme {
	case Global, Rebound:
	default:
		return fmt.Errorf("--scheme %q: want one of %v", c.Scheme, Schemes)
	}
	if c.Cores < 1 || c.Cores > coherence.MaxCores {
		return fmt.Errorf("--cores %d: want 1 to %d", c.Cores, coherence.MaxCores)
	}
	if err := (schedule.Options{Policy: c.Policy, Cores: c.Cores, Quantum: c.Quantum}).Validate(); err != nil {
		return err
	}
	if err := c.Cache.Validate(); err != nil {
		return err
	}
	if c.Cache.Size == 0 {
		return fmt.Errorf("--cores %d: the cores' private caches need a --cache-size", c.Cores)
	}
	if c.Interval < 0 {
		return fmt.Errorf("--interval %d: want 0 (no checkpoints) or more accesses", c.Interval)
	}
	if c.MaxAge < 0 {
		return fmt.Errorf("--max-age %d: want 0 (the default) or more accesses", c.MaxAge)
	}
	for _, n := range c.FailAt {
		if n < 1 {
			return fmt.Errorf("--fail-at %d: accesses are numbered from 1", n)
		}
	}
	if math.IsNaN(c.MTBF) || math.IsInf(c.MTBF, 0) || c.MTBF < 0 || c.MTBF > 0 && c.MTBF < 1 {
		return fmt.Errorf("--mtbf %v: want 0 (no random failures) or a finite mean of at least 1 access", c.MTBF)
	}
	if c.Interval == 0 && c.failures() {
		return fmt.Errorf("--interval 0 takes no checkpoint: a failure would roll back to the start (give --interval, or no --fail-at and --mtbf)")
	}
	if c.FailCore != AnyCore && (c.FailCore < 0 || c.FailCore >= c.Cores) {
		return fmt.Errorf("--fail-core %d: want a core from 0 to %d, or %d (drawn by the seed)", c.FailCore, c.Cores-1, AnyCore)
	}
	if c.Verify {
		b := c.VerifyBlock
		if b == 0 || b&(b-1) != 0 || b > c.Cache.Line {
			return fmt.Errorf("--verify-block %d: want a power of two of at most the line size, %d", b, c.Cache.Line)
		}
	}
	k := c.Costs
	for _, v := range []float64{k.AccessNs, k.MissNs, k.FlushLineNs, k.BarrierNs, k.BarrierPerCoreNs, k.RestartNs, k.RecoveryBytesPerSec} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("coord: cost %v: want finite costs of 0 or more", v)
		}
	}
	if k != (Costs{}) && k.RecoveryBytesPerSec == 0 {
		return fmt.Errorf("coord: a recovery bandwidth of 0 bytes/s")
	}
	return nil
}
