package sim

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/tlb"
)

// Warnings returns what a valid configuration makes of failures that a user may not
// expect, one line each (without a "warning: " prefix). They are known before the run and
// belong at its start: in such a regime a run can take very long.
func (c *Config) Warnings() []string {
	var w []string
	if !c.failures() {
		return nil
	}
	if c.Interval == 0 {
		w = append(w, "failures (--fail-at, --mtbf) and no --interval: unless the trace has checkpoint records or the scheme asks for checkpoints, every recovery replays the trace from its start")
	} else if c.MTBF > 0 && float64(c.Interval) > 2*c.MTBF {
		// A failure strikes a mean of MTBF accesses after the last and replays the accesses
		// since the last checkpoint, half an interval on average.
		w = append(w, fmt.Sprintf("--mtbf %v is less than half of --interval %d: each failure replays up to an interval, about %.3g times the trace's accesses in all", c.MTBF, c.Interval, float64(c.Interval)/(2*c.MTBF)))
	}
	return w
}

// recoverable says whether the scheme survives the configured kind of failure.
func (c *Config) recoverable(info scheme.Info) error {
	if c.Failure == FailureCrash && c.Memory == MemoryVolatile {
		if !info.RecoversCrash {
			return fmt.Errorf("scheme %s cannot recover from a crash of volatile memory", info.Name)
		}
		return nil
	}
	if !info.RecoversTransient {
		return fmt.Errorf("scheme %s keeps no checkpoints and cannot recover from failures", info.Name)
	}
	return nil
}

func (c *Config) failures() bool { return len(c.FailAt) > 0 || c.MTBF > 0 }

func (c *Config) pageShift() uint { return uint(bits.TrailingZeros64(c.PageSize)) }

func (c *Config) cacheGeometry() cache.Geometry {
	return cache.Geometry{Size: c.CacheSize, Ways: c.CacheWays, Line: c.CacheLine}
}

// scheduleOptions returns the options of the scheduler of a multi-core run: the quantum
// only under round-robin, which has one.
func (c *Config) scheduleOptions() schedule.Options {
	o := schedule.Options{Policy: c.Schedule, Cores: c.Cores}
	if c.Schedule == schedule.RoundRobin {
		o.Quantum = c.Quantum
	}
	return o
}

func (c *Config) tlbGeometry() tlb.Geometry {
	return tlb.Geometry{Entries: c.TLBEntries, Ways: c.TLBWays}
}

// machine returns the machine the scheme is built for (RequestCheckpoint and Oracle are
// the run's to set).
func (c *Config) machine() scheme.Machine {
	m := scheme.Machine{
		PageSize: c.PageSize,
		Granule:  c.Granule,
		Volatile: c.Memory == MemoryVolatile,
		PerASID:  c.Scope == ScopeASID,
		Seed:     c.Seed,
		MaxPages: c.maxPages(),
	}
	if c.CacheSize > 0 {
		m.CacheLine = c.CacheLine
	}
	if c.Verify {
		m.VerifyBlock = c.VerifyBlock
	}
	return m
}
