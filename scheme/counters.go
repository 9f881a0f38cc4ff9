package scheme

import (
	"errors"

	"github.com/vmsim/vmsim/record"
)

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
	MemOverheadPeakBytes int64 `json:"mem_overhead_peak_bytes" kind:"peak" doc:"the peak of memory held beyond the program's footprint for versions, shadows, logs and metadata (dualmap: checkpoint_frames_peak × page size)"`
	RecoveryBytes        int64 `json:"recovery_bytes" doc:"bytes read or written to roll back or recover (dualmap: 0; its rollback flips switch bits and its crash recovery faults pages back in, counted as page_faults and disk_reads)"`
}

// ErrTooManyPages is the error a scheme's Err wraps when a run touches more pages than
// Machine.MaxPages allows.
var ErrTooManyPages = errors.New("too many pages")

// PageSet counts distinct (address space, page) pairs touched and written, for schemes that
// keep no page table of their own. Memory: about 30 bytes per touched page. It also
// enforces Machine.MaxPages for them (SetMax): the pages touched are every page such a
// scheme holds state for.
type PageSet struct {
	pages PageIndex
	// written says, by page number, whether the page was written.
	// Invariant: len(written) == pages.Len(); nw counts its true elements.
	written []bool
	nw      int64
	// max bounds the pages (0: no bound); err is set, for good, by the first access that
	// needed more. Invariant: max == 0 || pages.Len() <= max.
	max int
	err *TooManyPagesError
}

// SetMax bounds the pages the set may hold to max (Machine.MaxPages; 0: no bound).
// Precondition: max >= 0, and the set is empty.
func (s *PageSet) SetMax(max int) { s.max = max }

// Add records access n's reference to pages first..last of asid and reports whether the
// budget (SetMax) allowed it. When it did not, Err is set for good, Add returns false and
// the scheme must create no state for the access: the set then holds the pages up to the
// budget, or none of the access's when they alone are more than the budget (refused
// before any is looked at, however many). Precondition: first <= last.
func (s *PageSet) Add(asid uint32, first, last uint64, write bool, n int64) bool {
	if s.max > 0 && uint64(s.pages.Len())+(last-first) >= uint64(s.max) {
		return s.addBounded(asid, first, last, write, n)
	}
	// add written out (it is not inlined): this loop is on every access's path.
	for p := first; ; p++ {
		id, added := s.pages.Add(Page{record.ASID(asid), p})
		if added {
			s.written = append(s.written, false)
		}
		if write && !s.written[id] {
			s.written[id] = true
			s.nw++
		}
		if p == last {
			return true
		}
	}
}

// addBounded is Add when the access's pages, if all new, would pass the budget.
func (s *PageSet) addBounded(asid uint32, first, last uint64, write bool, n int64) bool {
	if SpanExceeds(s.max, first, last) {
		s.fail(n, last-first+1)
		return false
	}
	for p := first; ; p++ {
		pg := Page{record.ASID(asid), p}
		if s.pages.Len() >= s.max && s.pages.Find(pg) < 0 {
			s.fail(n, 0)
			return false
		}
		s.add(pg, write)
		if p == last {
			return true
		}
	}
}

func (s *PageSet) add(p Page, write bool) {
	id, added := s.pages.Add(p)
	if added {
		s.written = append(s.written, false)
	}
	if write && !s.written[id] {
		s.written[id] = true
		s.nw++
	}
}

func (s *PageSet) fail(n int64, pages uint64) {
	if s.err == nil {
		s.err = &TooManyPagesError{Max: s.max, Access: n, Pages: pages}
	}
}

// Err returns nil, or the *TooManyPagesError of the first access Add refused.
func (s *PageSet) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// Touched returns the distinct pages accessed; Written those written.
func (s *PageSet) Touched() int64 { return int64(s.pages.Len()) }

// Written returns the distinct pages written.
func (s *PageSet) Written() int64 { return s.nw }
