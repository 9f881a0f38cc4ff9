package scheme

import (
	"errors"

	"github.com/vmsim/vmsim/record"
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
