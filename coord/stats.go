package coord

import (
	"reflect"

	"github.com/vmsim/vmsim/scheme"
)

// Counters are a run's counts (docs/coordinated.md, "Counters"). Each is declared as the
// project declares counters (scheme.CounterDefsOf reads the tags): its key, its
// one-line definition, and kind "peak" for the most of something at once.
type Counters struct {
	Accesses           int64 `json:"accesses" doc:"trace accesses performed, each once (replays are lost_accesses)"`
	Checkpoints        int64 `json:"checkpoints" doc:"checkpoints taken: global barriers, or rebound checkpoints each started by one core (its interval or a timeout) and joined by its producers"`
	TimeoutCheckpoints int64 `json:"timeout_checkpoints" doc:"of checkpoints, rebound's started by a core whose uncommitted work grew max-age accesses old"`
	CoresPerCheckpoint int64 `json:"cores_per_checkpoint" doc:"cores that took part in checkpoints, summed over checkpoints (mean: / checkpoints)"`
	Rollbacks          int64 `json:"rollbacks" doc:"failures recovered from, each by one rollback"`
	CoresPerRollback   int64 `json:"cores_per_rollback" doc:"cores rolled back, summed over rollbacks (mean: / rollbacks)"`
	DependenceEdges    int64 `json:"dependence_edges" doc:"rebound: producer-to-consumer pairs recorded, each once in the consumer's checkpoint interval until a checkpoint or rollback clears it (0 under global)"`
	LostAccesses       int64 `json:"lost_accesses" doc:"accesses rolled back and so replayed, summed over rollbacks"`
	LogEntries         int64 `json:"log_entries" doc:"undo log entries written at the memory controller: first write-backs of a line in its interval (global) or in the writing core's interval (rebound)"`
	BytesLogged        int64 `json:"bytes_logged" doc:"log_entries × line size: the old contents the log saves"`
	LogPeakBytes       int64 `json:"log_peak_bytes" kind:"peak" doc:"the most log data held at once: live entries × line size"`
	FlushLines         int64 `json:"checkpoint_flush_lines" doc:"dirty lines checkpoints wrote back from the caches of the cores taking part"`
	FlushBytes         int64 `json:"checkpoint_writeback_bytes" doc:"checkpoint_flush_lines × line size"`
	TransferWritebacks int64 `json:"transfer_writebacks" doc:"rebound: dirty lines that moved from one core's cache to another's on a write miss, written to memory (and logged as the old owner's) as they moved"`
	RecoveryBytes      int64 `json:"recovery_bytes" doc:"bytes rollbacks restored from the log: entries undone × line size"`
	CacheRefs          int64 `json:"cache_refs" doc:"line references of all cores' caches, replays included"`
	CacheMisses        int64 `json:"cache_misses" doc:"of cache_refs, misses"`
	CacheWritebacks    int64 `json:"cache_writebacks" doc:"dirty lines the caches wrote to memory on replacements and flushes (downgrades are coh_downgrades)"`
	CacheFlushLines    int64 `json:"cache_flush_lines" doc:"of cache_writebacks, those of checkpoint flushes"`
	CohInvalidations   int64 `json:"coh_invalidations" doc:"copies of a line invalidated in a core's cache because another core wrote the line, one per copy"`
	CohDowngrades      int64 `json:"coh_downgrades" doc:"modified lines made shared in a core's cache because another core read them, each written back to memory"`
	CohTransfers       int64 `json:"coh_transfers" doc:"misses supplied by another core's cache (holding the line modified) instead of memory"`
	VerifyChecks       int64 `json:"verify_checks" doc:"--verify: blocks read whose value was checked against the golden model"`
	VerifyMismatches   int64 `json:"verify_mismatches" doc:"--verify: of verify_checks, values that differed from the golden model's"`
	Orphans            int64 `json:"orphans" doc:"--verify: after rollbacks, blocks that a core not rolled back held, and (core, rolled-back core) pairs it had read from, written by a rolled-back access"`
}

// Stats are a run's counters and its modeled time (docs/coordinated.md, "Time").
type Stats struct {
	Counters
	// CoreTimeNs is each core's modeled time; TimeNs their maximum, the run's.
	CoreTimeNs []float64 `json:"core_time_ns"`
	TimeNs     float64   `json:"time_ns"`
}

// CounterDefs returns the counters of Counters (key, definition, kind), in field order.
func CounterDefs() []scheme.CounterDef { return counterDefs }

var counterDefs = func() []scheme.CounterDef {
	d, err := scheme.CounterDefsOf(reflect.TypeFor[Counters]())
	if err != nil {
		panic(err)
	}
	return d
}()

// Values returns the counters' values, in the order of CounterDefs.
func (c Counters) Values() []int64 {
	v := reflect.ValueOf(c)
	out := make([]int64, v.NumField())
	for i := range out {
		out[i] = v.Field(i).Int()
	}
	return out
}

// Overhead is the modeled overhead of run over base, the same run without checkpoints or
// failures (Config.Baseline): run.TimeNs / base.TimeNs - 1; 0 when base took no time.
func Overhead(run, base Stats) float64 {
	if base.TimeNs == 0 {
		return 0
	}
	return run.TimeNs/base.TimeNs - 1
}
