package scheme

import (
	"errors"
	"fmt"

	"github.com/vmsim/vmsim/record"
)

// ErrTooManyPages is the error a scheme's Err wraps when a run touches more pages than
// Machine.MaxPages allows.
var ErrTooManyPages = errors.New("too many pages")

// PageSet counts distinct (address space, page) pairs touched and written, for schemes that
// keep no page table of their own. Memory: about 30 bytes per touched page. It also
// enforces Machine.MaxPages for them (SetMax), through its PageIndex's budget: the pages
// touched are every page such a scheme holds state for.
type PageSet struct {
	// pages numbers the pages touched; its budget is Machine.MaxPages.
	pages PageIndex
	// written says, by page number, whether the page was written.
	// Invariant: len(written) == pages.Len(); nw counts its true elements.
	written []bool
	nw      int64
	// err is set, for good, by the first access that needed more pages than the budget.
	err *TooManyPagesError
}

// SetMax bounds the pages the set may hold to max (Machine.MaxPages; 0: no bound).
// Precondition: max >= 0, and the set is empty.
func (s *PageSet) SetMax(max int) { s.pages.SetMax(max) }

// Add records access n's reference to pages first..last of asid and reports whether the
// budget (SetMax) allowed it. When it did not, Err is set for good, Add returns false and
// the scheme must create no state for the access: the set then holds the pages up to the
// budget, or none of the access's when they alone are more than the budget (refused
// before any is looked at, however many). Precondition: first <= last.
func (s *PageSet) Add(asid uint32, first, last uint64, write bool, n int64) bool {
	if SpanExceeds(s.pages.max, first, last) {
		s.fail(n, last-first+1)
		return false
	}
	// Written out (a helper is not inlined): this loop is on every access's path.
	for p := first; ; p++ {
		id, added := s.pages.Add(Page{record.ASID(asid), p})
		if id < 0 { // past the budget
			s.fail(n, 0)
			return false
		}
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

func (s *PageSet) fail(n int64, pages uint64) {
	if s.err == nil {
		s.err = &TooManyPagesError{Max: s.pages.max, Access: n, Pages: pages}
	}
}

// Err returns nil, or the *TooManyPagesError of the first access Add refused.
func (s *PageSet) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// Touched returns the distinct pages accessed.
func (s *PageSet) Touched() int64 { return int64(s.pages.Len()) }

// Written returns the distinct pages written.
func (s *PageSet) Written() int64 { return s.nw }

// Check verifies the invariants from scratch (the index's, its budget included).
func (s *PageSet) Check() error {
	if err := s.pages.Check(); err != nil {
		return fmt.Errorf("page set: %w", err)
	}
	if len(s.written) != s.pages.Len() {
		return fmt.Errorf("page set: %d written flags for %d pages", len(s.written), s.pages.Len())
	}
	var nw int64
	for _, w := range s.written {
		if w {
			nw++
		}
	}
	if nw != s.nw {
		return fmt.Errorf("page set: %d pages written, counted %d", nw, s.nw)
	}
	return nil
}
