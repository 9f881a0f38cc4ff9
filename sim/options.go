package sim

import (
	"github.com/vmsim/vmsim/internal/choice"
)

// The driver's enumerated options: each a type with its constants, the list of its values
// and one parse function whose error names the flag and lists the choices. A Config holds
// them as these types (their JSON is the string); Validate parses each, and the driver
// compares constants. The paging options (--replace, --steal, --initial, --cow) are not
// the driver's: it passes them on to the schemes that declare them (MachineParams), which
// parse them (mmu.Paging).

// Memory is what a crash does to memory (--memory).
type Memory string

const (
	// MemoryNonvolatile survives a crash: a crash is a rollback.
	MemoryNonvolatile Memory = "nonvolatile"
	// MemoryVolatile is lost in a crash; a scheme with Info.VolatileCheckpoints also
	// writes its checkpoints to stable storage.
	MemoryVolatile Memory = "volatile"
)

// Memories lists the values of --memory.
var Memories = []Memory{MemoryNonvolatile, MemoryVolatile}

// ParseMemory returns the Memory s names, or an error naming --memory and its choices.
func ParseMemory(s string) (Memory, error) { return choice.Parse("memory", s, Memories) }

// Scope is what one checkpoint domain covers (--scope).
type Scope string

const (
	// ScopeSystem: one domain for the whole system.
	ScopeSystem Scope = "system"
	// ScopeASID: one domain per address space.
	ScopeASID Scope = "asid"
)

// Scopes lists the values of --scope.
var Scopes = []Scope{ScopeSystem, ScopeASID}

// ParseScope returns the Scope s names, or an error naming --scope and its choices.
func ParseScope(s string) (Scope, error) { return choice.Parse("scope", s, Scopes) }

// Failure is the kind of failure injected (--failure).
type Failure string

const (
	// FailureTransient: roll back, memory intact.
	FailureTransient Failure = "transient"
	// FailureCrash: volatile memory is lost (a rollback with non-volatile memory).
	FailureCrash Failure = "crash"
)

// Failures lists the values of --failure.
var Failures = []Failure{FailureTransient, FailureCrash}

// ParseFailure returns the Failure s names, or an error naming --failure and its choices.
func ParseFailure(s string) (Failure, error) { return choice.Parse("failure", s, Failures) }

// IOMode is what the driver does with a trace's I/O records (--io).
type IOMode string

const (
	// IONone sends outputs at once and repeats outputs and inputs in replays.
	IONone IOMode = "none"
	// IOHold holds outputs until the domain's next checkpoint commits and logs inputs.
	IOHold IOMode = "hold"
)

// IOModes lists the values of --io.
var IOModes = []IOMode{IONone, IOHold}

// ParseIOMode returns the IOMode s names, or an error naming --io and its choices.
func ParseIOMode(s string) (IOMode, error) { return choice.Parse("io", s, IOModes) }

// CacheFlush is what a checkpoint does to the cache model first (--cache-flush).
type CacheFlush string

const (
	// CacheInvalidate writes back every dirty line and empties the cache.
	CacheInvalidate CacheFlush = "invalidate"
	// CacheClean writes back every dirty line and keeps the lines.
	CacheClean CacheFlush = "clean"
	// CacheNoFlush does nothing (CPU-level schemes only).
	CacheNoFlush CacheFlush = "none"
)

// CacheFlushes lists the values of --cache-flush.
var CacheFlushes = []CacheFlush{CacheInvalidate, CacheClean, CacheNoFlush}

// ParseCacheFlush returns the CacheFlush s names, or an error naming --cache-flush and its
// choices.
func ParseCacheFlush(s string) (CacheFlush, error) {
	return choice.Parse("cache-flush", s, CacheFlushes)
}

// TLBCheckpoint is what a checkpoint does to the TLB model (--tlb-checkpoint).
type TLBCheckpoint string

const (
	// TLBFlush drops the domain's entries at each checkpoint.
	TLBFlush TLBCheckpoint = "flush"
	// TLBTag tags entries with the checkpoint number.
	TLBTag TLBCheckpoint = "tag"
)

// TLBCheckpoints lists the values of --tlb-checkpoint.
var TLBCheckpoints = []TLBCheckpoint{TLBFlush, TLBTag}

// ParseTLBCheckpoint returns the TLBCheckpoint s names, or an error naming
// --tlb-checkpoint and its choices.
func ParseTLBCheckpoint(s string) (TLBCheckpoint, error) {
	return choice.Parse("tlb-checkpoint", s, TLBCheckpoints)
}

// strs returns the values of l as strings.
func strs[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}
