package sim

import "reflect"

// Stats are a run's counters, all totals over the run. Each field's definition is in
// [Counters] (and in `vmsim run --help`).
type Stats struct {
	Refs                 int64 `json:"refs"`
	Reads                int64 `json:"reads"`
	Writes               int64 `json:"writes"`
	ReplayedRefs         int64 `json:"replayed_refs"`
	PagesTouched         int64 `json:"pages_touched"`
	PagesWritten         int64 `json:"pages_written"`
	Checkpoints          int64 `json:"checkpoints"`
	Rollbacks            int64 `json:"rollbacks"`
	Crashes              int64 `json:"crashes"`
	FirstWrites          int64 `json:"first_writes"`
	PageCopies           int64 `json:"page_copies"`
	Remaps               int64 `json:"remaps"`
	PageFaults           int64 `json:"page_faults"`
	DiskReads            int64 `json:"disk_reads"`
	DiskWrites           int64 `json:"disk_writes"`
	CheckpointDiskWrites int64 `json:"checkpoint_disk_writes"`
	PTPagesWritten       int64 `json:"pt_pages_written"`
	CommitWrites         int64 `json:"commit_writes"`
	FramesPeak           int64 `json:"frames_peak"`
	CheckpointFramesPeak int64 `json:"checkpoint_frames_peak"`
	WrapSweeps           int64 `json:"wrap_sweeps"`
	SkippedLines         int64 `json:"skipped_lines"`
	VerifyChecks         int64 `json:"verify_checks"`
	VerifyMismatches     int64 `json:"verify_mismatches"`

	// The common channels: every scheme reports them.
	BytesCopied          int64 `json:"bytes_copied"`
	BytesLogged          int64 `json:"bytes_logged"`
	BytesToStorage       int64 `json:"bytes_to_storage"`
	BytesToBackup        int64 `json:"bytes_to_backup"`
	Traps                int64 `json:"traps"`
	CheckpointStallBytes int64 `json:"checkpoint_stall_bytes"`
	MemOverheadPeakBytes int64 `json:"mem_overhead_peak_bytes"`
	RecoveryBytes        int64 `json:"recovery_bytes"`

	// The cache model (zero without one).
	CacheRefs       int64 `json:"cache_refs"`
	CacheMisses     int64 `json:"cache_misses"`
	CacheWritebacks int64 `json:"cache_writebacks"`
	CacheFlushLines int64 `json:"cache_flush_lines"`
	CacheDirtyAtEnd int64 `json:"cache_dirty_at_end"`

	// The TLB model (zero without one).
	TLBRefs    int64 `json:"tlb_refs"`
	TLBMisses  int64 `json:"tlb_misses"`
	TLBStale   int64 `json:"tlb_stale_writes"`
	TLBFlushes int64 `json:"tlb_flushes"`

	// I/O continuity (--io).
	IOInputs            int64 `json:"io_inputs"`
	IOOutputs           int64 `json:"io_outputs"`
	IOOutputDelay       int64 `json:"io_output_delay"`
	IOInputsLoggedBytes int64 `json:"io_inputs_logged_bytes"`
	IORepeatedOutputs   int64 `json:"io_repeated_outputs"`
	IORepeatedInputs    int64 `json:"io_repeated_inputs"`
	IOHeldAtEnd         int64 `json:"io_held_at_end"`

	// Scheme holds the scheme's own counters by key (see `vmsim schemes`).
	Scheme OwnCounters `json:"scheme,omitzero"`
}

// Counter is one counter's JSON key and definition.
type Counter struct {
	Key, Doc string
}

// Counters defines every field of Stats, in order. It is the one place a counter is
// defined; help texts and the README are made from it.
var Counters = []Counter{
	{"refs", "access records in the trace, each counted once (control records and replays not included)"},
	{"reads", "refs that only read: R, L, I (instruction fetch)"},
	{"writes", "refs that write: W, S, M; an M (modify) counts once, as a write"},
	{"replayed_refs", "accesses executed again after a failure, from the domain's last checkpoint up to the failure"},
	{"pages_touched", "distinct (address space, virtual page) pairs accessed"},
	{"pages_written", "distinct (address space, virtual page) pairs written"},
	{"checkpoints", "checkpoints taken: by --interval, and by checkpoint records in the trace"},
	{"rollbacks", "failures recovered by rolling a domain back in memory: transient failures, and crashes with non-volatile memory"},
	{"crashes", "crash failures (--failure crash); with volatile memory each loses all frames and recovers from disk"},
	{"first_writes", "protection events: writes to a page not written since its domain's last checkpoint or rollback (v != V); a page-crossing write counts once per page"},
	{"page_copies", "memory-to-memory page copies: first writes whose checkpoint version was resident (and not remapped)"},
	{"remaps", "first writes that moved a clean resident frame to the other mapping instead of copying it (--cow remap)"},
	{"page_faults", "page accesses whose current version had no frame and was brought in (from its slot, the initial image, or zero-filled); cold misses included, and first writes whose checkpoint version was only on disk"},
	{"disk_reads", "pages read from disk: from a slot, or a page's initial image (--initial image)"},
	{"disk_writes", "data pages written to disk: dirty frames written back when stolen, and dirty current versions written by volatile checkpoints"},
	{"checkpoint_disk_writes", "of disk_writes, those made by volatile checkpoints (dirty current versions of modified pages)"},
	{"pt_pages_written", "page-table pages written by volatile checkpoints: each checkpoint writes the distinct page-table pages (page size / pte-bytes PTEs each) that hold a PTE of a modified page"},
	{"commit_writes", "commit records written: one per volatile checkpoint"},
	{"frames_peak", "the most frames in use at once (current, checkpoint and obsolete versions)"},
	{"checkpoint_frames_peak", "the most frames holding needed checkpoint versions at once"},
	{"wrap_sweeps", "checkpoints at which V wrapped past 2^k-1 to 1, resetting every v of the domain to 0"},
	{"skipped_lines", "malformed lines skipped under --lenient"},
	{"verify_checks", "block comparisons with the golden model (--verify): every block each read covers, and every known block after each recovery"},
	{"verify_mismatches", "block comparisons that found a different value than the golden model"},
	{"bytes_copied", "bytes copied memory to memory by the scheme (dualmap: page_copies × page size)"},
	{"bytes_logged", "bytes of log data and log metadata the scheme writes"},
	{"bytes_to_storage", "bytes the scheme writes to stable storage for checkpoints (dualmap, volatile memory: (checkpoint_disk_writes + pt_pages_written + commit_writes) × page size)"},
	{"bytes_to_backup", "bytes the scheme sends over a link to a backup machine"},
	{"traps", "traps into the kernel or hypervisor taken for checkpointing (dualmap: first_writes, the protection events)"},
	{"checkpoint_stall_bytes", "bytes moved while the program is stopped at a checkpoint (cache flushes not included: see cache_flush_lines)"},
	{"mem_overhead_peak_bytes", "the peak of memory held beyond the program's footprint for versions, shadows, logs and metadata (dualmap: checkpoint_frames_peak × page size)"},
	{"recovery_bytes", "bytes read or written to roll back or recover (dualmap: 0; its rollback flips switch bits and its crash recovery faults pages back in, counted as page_faults and disk_reads)"},
	{"cache_refs", "cache line references: each access (replays included) counts once per line it covers"},
	{"cache_misses", "cache line references that missed (cold misses included); a write miss allocates the line"},
	{"cache_writebacks", "dirty lines written to memory: on eviction and on checkpoint flushes"},
	{"cache_flush_lines", "of cache_writebacks, the lines written by checkpoint flushes (--cache-flush)"},
	{"cache_dirty_at_end", "dirty lines still in the cache when the trace ends (not written back)"},
	{"tlb_refs", "TLB lookups: one per page each access covers (replays included)"},
	{"tlb_misses", "TLB lookups that walked the page table: no entry, or (--tlb-checkpoint tag) a write through an entry filled before its domain's last checkpoint"},
	{"tlb_stale_writes", "of tlb_misses, the writes through an entry filled before its domain's last checkpoint (--tlb-checkpoint tag)"},
	{"tlb_flushes", "TLB flushes: one at each checkpoint under --tlb-checkpoint flush, and one at each recovery, for schemes that write-protect through the translation (dualmap, incremental, remus)"},
	{"io_inputs", "input records in the trace (a read system call), each counted once (replays not included)"},
	{"io_outputs", "output records in the trace (a write system call), each counted once (replays not included)"},
	{"io_output_delay", "--io hold: the sum over released outputs of the accesses from the output to the checkpoint that released it (the commit of its domain's checkpoint); 0 under --io none"},
	{"io_inputs_logged_bytes", "--io hold: the bytes of the input records logged so that a replay receives the same inputs; 0 under --io none"},
	{"io_repeated_outputs", "outputs performed again by replays after failures: --io none only (under hold a replayed output was never released); the harm that none does"},
	{"io_repeated_inputs", "inputs performed again by replays after failures: --io none only (under hold a replay reads the log)"},
	{"io_held_at_end", "--io hold: outputs still held when the trace ended (their checkpoint never came)"},
}

// Sub returns s - o field by field: the counts of an interval between two snapshots.
// The peaks (frames_peak, checkpoint_frames_peak, mem_overhead_peak_bytes) and
// cache_dirty_at_end are not differences: Sub keeps s's.
func (s Stats) Sub(o Stats) Stats {
	r := s
	rv, ov := reflect.ValueOf(&r).Elem(), reflect.ValueOf(o)
	for i := range rv.NumField() {
		switch rv.Type().Field(i).Name {
		case "FramesPeak", "CheckpointFramesPeak", "MemOverheadPeakBytes", "CacheDirtyAtEnd":
			continue
		case "Scheme":
			for i, k := range s.Scheme.Keys() {
				if s.Scheme.peaks&(1<<i) != 0 {
					continue
				}
				v, _ := o.Scheme.Get(k)
				r.Scheme.vals[i] = s.Scheme.vals[i] - v
			}
			continue
		}
		rv.Field(i).SetInt(rv.Field(i).Int() - ov.Field(i).Int())
	}
	return r
}

// Fields returns the counters as (key, value) pairs in the order of Counters, then the
// scheme's own counters in their order, keyed "scheme.KEY".
func (s Stats) Fields() []Field {
	v := reflect.ValueOf(s)
	out := make([]Field, len(Counters), len(Counters)+s.Scheme.Len())
	for i := range Counters {
		out[i] = Field{Counters[i].Key, v.Field(i).Int()}
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
