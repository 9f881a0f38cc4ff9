package scheme

// Tally is what a scheme reports (its Counters method fills it): the pages it touched, the
// paging counters of the page-table schemes (zero for others), the common channels that
// every scheme reports so that schemes compare on equal terms, and, in Own, the scheme's
// own counters. The three groups are sim.Stats' fields too (embedded, each at its place in
// a run's output), so each counter is declared once, here, with its key, definition and
// kind in its tags (see [CounterDefsOf]).
type Tally struct {
	Pages
	Paging
	Channels
	// Own points to a zeroed value of the scheme's own counter struct (the type Info.Own
	// points to; see [Own]), or is nil for a scheme without counters of its own.
	Own any
}

// Pages are the distinct pages a scheme holds state for; every scheme reports them.
type Pages struct {
	PagesTouched int64 `json:"pages_touched" doc:"distinct (address space, virtual page) pairs accessed"`
	PagesWritten int64 `json:"pages_written" doc:"distinct (address space, virtual page) pairs written"`
}

// Paging are the counters of the schemes that page (Info.Pages); zero for the others.
type Paging struct {
	FirstWrites          int64 `json:"first_writes" doc:"protection events: writes to a page not written since its domain's last checkpoint or rollback (v != V); a page-crossing write counts once per page"`
	PageCopies           int64 `json:"page_copies" doc:"memory-to-memory page copies: first writes whose checkpoint version was resident (and not remapped)"`
	Remaps               int64 `json:"remaps" doc:"first writes that moved a clean resident frame to the other mapping instead of copying it (--cow remap)"`
	PageFaults           int64 `json:"page_faults" doc:"page accesses whose current version had no frame and was brought in (from its slot, the initial image, or zero-filled); cold misses included, and first writes whose checkpoint version was only on disk"`
	DiskReads            int64 `json:"disk_reads" doc:"pages read from disk: from a slot, or a page's initial image (--initial image)"`
	DiskWrites           int64 `json:"disk_writes" doc:"data pages written to disk: dirty frames written back when stolen, and dirty current versions written by volatile checkpoints"`
	CheckpointDiskWrites int64 `json:"checkpoint_disk_writes" doc:"of disk_writes, those made by volatile checkpoints (dirty current versions of modified pages)"`
	PTPagesWritten       int64 `json:"pt_pages_written" doc:"page-table pages written by volatile checkpoints: each checkpoint writes the distinct page-table pages (page size / pte-bytes PTEs each) that hold a PTE of a modified page"`
	CommitWrites         int64 `json:"commit_writes" doc:"commit records written: one per volatile checkpoint"`
	FramesPeak           int64 `json:"frames_peak" kind:"peak" doc:"the most frames in use at once (current, checkpoint and obsolete versions)"`
	CheckpointFramesPeak int64 `json:"checkpoint_frames_peak" kind:"peak" doc:"the most frames holding needed checkpoint versions at once"`
	WrapSweeps           int64 `json:"wrap_sweeps" doc:"checkpoints at which V wrapped past 2^k-1 to 1, resetting every v of the domain to 0"`
}

// Channels are the common channels: every scheme reports them, so that schemes compare
// on equal terms (docs/counters.md, "Common channels").
type Channels struct {
	BytesCopied          int64 `json:"bytes_copied" doc:"bytes copied memory to memory by the scheme (dualmap: page_copies × page size)"`
	BytesLogged          int64 `json:"bytes_logged" doc:"bytes of log data and log metadata the scheme writes"`
	BytesToStorage       int64 `json:"bytes_to_storage" doc:"bytes the scheme writes to stable storage for checkpoints (dualmap, volatile memory: (checkpoint_disk_writes + pt_pages_written + commit_writes) × page size)"`
	BytesToBackup        int64 `json:"bytes_to_backup" doc:"bytes the scheme sends over a link to a backup machine"`
	Traps                int64 `json:"traps" doc:"traps into the kernel or hypervisor taken for checkpointing (dualmap: first_writes, the protection events)"`
	CheckpointStallBytes int64 `json:"checkpoint_stall_bytes" doc:"bytes moved while the program is stopped at a checkpoint (cache flushes not included: see cache_flush_lines)"`
	BackgroundBytes      int64 `json:"background_bytes" doc:"of bytes_copied, the bytes a copier of the scheme copied memory to memory while the program ran (bitmap2's background copier); the cost model charges them only beyond the memory bandwidth the program leaves free"`
	MemOverheadPeakBytes int64 `json:"mem_overhead_peak_bytes" kind:"peak" doc:"the peak of memory held beyond the program's footprint for versions, shadows, logs and metadata (dualmap: checkpoint_frames_peak × page size)"`
	RecoveryBytes        int64 `json:"recovery_bytes" doc:"bytes read or written to roll back or recover (dualmap: 0; its rollback flips switch bits and its crash recovery faults pages back in, counted as page_faults and disk_reads)"`
}
