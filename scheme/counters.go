package scheme

import "errors"

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
// keep no page table of their own. Memory: about 16 bytes per touched page.
type PageSet struct {
	pages map[pageKey]bool // page -> written
	nw    int64
}

type pageKey struct {
	asid uint32
	vpn  uint64
}

// Add records an access to pages first..last of asid.
func (s *PageSet) Add(asid uint32, first, last uint64, write bool) {
	if s.pages == nil {
		s.pages = map[pageKey]bool{}
	}
	for p := first; ; p++ {
		k := pageKey{asid, p}
		w, seen := s.pages[k]
		if !seen || write && !w {
			s.pages[k] = w || write
			if write && !w {
				s.nw++
			}
		}
		if p == last {
			return
		}
	}
}

// Touched returns the distinct pages accessed; Written those written.
func (s *PageSet) Touched() int64 { return int64(len(s.pages)) }

// Written returns the distinct pages written.
func (s *PageSet) Written() int64 { return s.nw }
