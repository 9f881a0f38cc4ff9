package sim

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/vmsim/vmsim/scheme"
)

// Stats are a run's counters, all totals over the run but the peaks and end values. Each
// field declares its counter in its tags (scheme.CounterDefsOf): the driver's own here,
// the scheme's in the embedded scheme.Pages, scheme.Paging and scheme.Channels, each at its
// place in the output; CounterDefs lists them all in order.
type Stats struct {
	Refs         int64 `json:"refs" doc:"access records in the trace, each counted once (control records and replays not included)"`
	Reads        int64 `json:"reads" doc:"refs that only read: R, L, I (instruction fetch)"`
	Writes       int64 `json:"writes" doc:"refs that write: W, S, M; an M (modify) counts once, as a write"`
	ReplayedRefs int64 `json:"replayed_refs" doc:"accesses executed again after a failure, from the domain's last checkpoint up to the failure"`

	// pages_touched, pages_written.
	scheme.Pages

	Checkpoints int64 `json:"checkpoints" doc:"checkpoints taken: by --interval, and by checkpoint records in the trace"`
	Rollbacks   int64 `json:"rollbacks" doc:"failures recovered by rolling a domain back in memory: transient failures, and crashes with non-volatile memory"`
	Crashes     int64 `json:"crashes" doc:"crash failures (--failure crash); with volatile memory each loses all frames and recovers from disk"`

	// first_writes ... wrap_sweeps: those of the schemes that page (zero for the others).
	scheme.Paging

	SkippedLines     int64 `json:"skipped_lines" doc:"malformed lines skipped under --lenient"`
	VerifyChecks     int64 `json:"verify_checks" doc:"block comparisons with the golden model (--verify): every block each read covers, and every known block after each recovery"`
	VerifyMismatches int64 `json:"verify_mismatches" doc:"block comparisons that found a different value than the golden model"`

	// The common channels: every scheme reports them.
	scheme.Channels

	// The cache model (zero without one); with --cores above 1, sums over the cores'
	// private caches.
	CacheRefs       int64 `json:"cache_refs" doc:"cache line references: each access (replays included) counts once per line it covers; with --cores above 1 this and the other cache counters are sums over the cores' private caches"`
	CacheMisses     int64 `json:"cache_misses" doc:"cache line references that missed (cold misses included); a write miss allocates the line"`
	CacheWritebacks int64 `json:"cache_writebacks" doc:"dirty lines written to memory: on eviction and on checkpoint flushes (a downgrade's write-back is counted in coh_downgrades)"`
	CacheFlushLines int64 `json:"cache_flush_lines" doc:"of cache_writebacks, the lines written by checkpoint flushes (--cache-flush)"`
	CacheDirtyAtEnd int64 `json:"cache_dirty_at_end" kind:"end" doc:"dirty lines still in the cache when the trace ends (not written back)"`

	// The multi-core machine's coherence (zero with one core): coherence.Counters.
	CohInvalidations int64 `json:"coh_invalidations" doc:"--cores above 1: copies of a line invalidated in a core's cache because another core wrote the line, one per copy"`
	CohDowngrades    int64 `json:"coh_downgrades" doc:"--cores above 1: modified lines made shared in a core's cache because another core read them, each written back to memory"`
	CohTransfers     int64 `json:"coh_transfers" doc:"--cores above 1: misses supplied by another core's cache (holding the line modified) instead of memory"`

	// The TLB model (zero without one).
	TLBRefs    int64 `json:"tlb_refs" doc:"TLB lookups: one per page each access covers (replays included)"`
	TLBMisses  int64 `json:"tlb_misses" doc:"TLB lookups that walked the page table: no entry, or (--tlb-checkpoint tag) a write through an entry filled before its domain's last checkpoint"`
	TLBStale   int64 `json:"tlb_stale_writes" doc:"of tlb_misses, the writes through an entry filled before its domain's last checkpoint (--tlb-checkpoint tag)"`
	TLBFlushes int64 `json:"tlb_flushes" doc:"TLB flushes: one at each checkpoint under --tlb-checkpoint flush, and one at each recovery, for schemes that write-protect through the translation (dualmap, incremental, remus)"`

	// I/O continuity (--io).
	IOInputs            int64 `json:"io_inputs" doc:"input records in the trace (a read system call), each counted once (replays not included)"`
	IOOutputs           int64 `json:"io_outputs" doc:"output records in the trace (a write system call), each counted once (replays not included)"`
	IOOutputDelay       int64 `json:"io_output_delay" doc:"--io hold: the sum over released outputs of the accesses from the output to the checkpoint that released it (the commit of its domain's checkpoint); 0 under --io none"`
	IOInputsLoggedBytes int64 `json:"io_inputs_logged_bytes" doc:"--io hold: the bytes of the input records logged so that a replay receives the same inputs; 0 under --io none"`
	IORepeatedOutputs   int64 `json:"io_repeated_outputs" doc:"outputs performed again by replays after failures: --io none only (under hold a replayed output was never released); the harm that none does"`
	IORepeatedInputs    int64 `json:"io_repeated_inputs" doc:"inputs performed again by replays after failures: --io none only (under hold a replay reads the log)"`
	IOHeldAtEnd         int64 `json:"io_held_at_end" kind:"end" doc:"--io hold: outputs still held when the trace ended (their checkpoint never came)"`

	// Scheme holds the scheme's own counters by key (see `vmsim schemes`).
	Scheme OwnCounters `json:"scheme,omitzero"`
}

// CounterDefs returns every counter of Stats but the scheme's own, in the order of the
// output, from the fields' tags (scheme.CounterDefsOf).
func CounterDefs() []scheme.CounterDef {
	defs, _ := statsCounterTables()
	return defs
}

// statsCounterTables returns CounterDefs and the index path of each in Stats
// (reflect.Value.FieldByIndex), read once, at first use.
var statsCounterTables = sync.OnceValues(statsCounters)

// statsCounters reads the counters of Stats' tags. It panics on a field that does not
// declare one (a programming error, which any test finds).
func statsCounters() ([]scheme.CounterDef, [][]int) {
	var defs []scheme.CounterDef
	var paths [][]int
	t := reflect.TypeFor[Stats]()
	for f := range t.Fields() {
		switch {
		case f.Type == reflect.TypeFor[OwnCounters]():
		case f.Anonymous:
			sub, err := scheme.CounterDefsOf(f.Type)
			if err != nil {
				panic(err)
			}
			if len(sub) != f.Type.NumField() {
				panic(fmt.Sprintf("sim: Stats embeds %s, which embeds more counters in turn", f.Type))
			}
			defs = append(defs, sub...)
			for j := range f.Type.NumField() {
				paths = append(paths, []int{f.Index[0], j})
			}
		default:
			d, err := scheme.CounterDefOf(f)
			if err != nil {
				panic(err)
			}
			defs = append(defs, d)
			paths = append(paths, f.Index)
		}
	}
	seen := map[string]bool{}
	for _, d := range defs {
		if seen[d.Key] {
			panic(fmt.Sprintf("sim: counter %q declared twice in Stats", d.Key))
		}
		seen[d.Key] = true
	}
	return defs, paths
}

// Sub returns s - o counter by counter: the counts of an interval between two snapshots.
// The peaks and end values (kind "peak" or "end" in their tags, a scheme's own counters'
// too) are not differences: Sub keeps s's.
func (s Stats) Sub(o Stats) Stats {
	r := s
	rv, ov := reflect.ValueOf(&r).Elem(), reflect.ValueOf(o)
	counterDefs, counterPaths := statsCounterTables()
	for i, d := range counterDefs {
		if d.Kind.Sums() {
			f := rv.FieldByIndex(counterPaths[i])
			f.SetInt(f.Int() - ov.FieldByIndex(counterPaths[i]).Int())
		}
	}
	for i, k := range s.Scheme.Keys() {
		if s.Scheme.kept&(1<<i) != 0 {
			continue
		}
		v, _ := o.Scheme.Get(k)
		r.Scheme.vals[i] = s.Scheme.vals[i] - v
	}
	return r
}

// Fields returns the counters as (key, value) pairs in the order of CounterDefs, then the
// scheme's own counters in their order, keyed "scheme.KEY".
func (s Stats) Fields() []Field {
	v := reflect.ValueOf(s)
	counterDefs, counterPaths := statsCounterTables()
	out := make([]Field, len(counterDefs), len(counterDefs)+s.Scheme.Len())
	for i, d := range counterDefs {
		out[i] = Field{d.Key, v.FieldByIndex(counterPaths[i]).Int()}
	}
	for i, k := range s.Scheme.Keys() {
		out = append(out, Field{"scheme." + k, s.Scheme.vals[i]})
	}
	return out
}

// Field is one counter's value.
type Field struct {
	Key   string
	Value int64
}
