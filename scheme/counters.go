package scheme

import (
	"errors"

	"github.com/vmsim/vmsim/traces"
)

// Counters are what a scheme reports. The channels are common to every scheme, so that
// schemes compare on equal terms; the paging counters are those of the page-table schemes
// (zero for others); Own holds the scheme's own counters in the order of Info.Counters.
// Each field's definition is the driver's (sim.Counters), which `vmsim run --help` and
// docs/counters.md print.
type Counters struct {
	PagesTouched int64
	PagesWritten int64

	// The common channels.
	BytesCopied          int64
	BytesLogged          int64
	BytesToStorage       int64
	BytesToBackup        int64
	Traps                int64
	CheckpointStallBytes int64
	MemOverheadPeakBytes int64
	RecoveryBytes        int64

	// Paging (page-table schemes).
	FirstWrites          int64
	PageCopies           int64
	Remaps               int64
	PageFaults           int64
	DiskReads            int64
	DiskWrites           int64
	CheckpointDiskWrites int64
	PTPagesWritten       int64
	CommitWrites         int64
	FramesPeak           int64
	CheckpointFramesPeak int64
	WrapSweeps           int64

	Own []int64
}

// ErrTooManyPages is the error a scheme's Err wraps when a run touches more pages than
// Machine.MaxPages allows.
var ErrTooManyPages = errors.New("too many pages")

// PageSet counts distinct (address space, page) pairs touched and written, for schemes that
// keep no page table of their own. Memory: about 30 bytes per touched page.
type PageSet struct {
	pages PageIndex
	// written says, by page number, whether the page was written.
	// Invariant: len(written) == pages.Len(); nw counts its true elements.
	written []bool
	nw      int64
}

// Add records an access to pages first..last of asid.
func (s *PageSet) Add(asid uint32, first, last uint64, write bool) {
	for p := first; ; p++ {
		id, added := s.pages.Add(Page{traces.ASID(asid), p})
		if added {
			s.written = append(s.written, false)
		}
		if write && !s.written[id] {
			s.written[id] = true
			s.nw++
		}
		if p == last {
			return
		}
	}
}

// Touched returns the distinct pages accessed; Written those written.
func (s *PageSet) Touched() int64 { return int64(s.pages.Len()) }

// Written returns the distinct pages written.
func (s *PageSet) Written() int64 { return s.nw }
