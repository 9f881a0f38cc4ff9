package scheme

import (
	"fmt"

	"github.com/vmsim/vmsim/record"
)

// DirtySet is the set of pages of one checkpoint domain written since its last checkpoint
// (or recovery): what a scheme that write-protects memory at a checkpoint tracks, each
// page's first write of the interval costing one trap (remus, incremental, snaplog), or
// the distinct units a log holds (cacheline). Marking hashes no struct key (a PageIndex).
// The zero value is an empty set. A DirtySet must not be copied once used.
type DirtySet struct {
	// pages are the pages marked since the last Reset, numbered in the order first marked.
	// Invariant: each page at most once (PageIndex's).
	pages PageIndex
}

// Mark adds p to the set and reports whether it is its first mark since the last Reset.
func (s *DirtySet) Mark(p Page) bool {
	_, added := s.pages.Add(p)
	return added
}

// MarkPages marks pages first..last of asid and returns how many were first marks (the
// traps of a write over them). Precondition: first <= last.
func (s *DirtySet) MarkPages(asid record.ASID, first, last uint64) (added int64) {
	for n := first; ; n++ {
		if _, ok := s.pages.Add(Page{ASID: asid, N: n}); ok {
			added++
		}
		if n == last {
			return added
		}
	}
}

// Has reports whether p is marked.
func (s *DirtySet) Has(p Page) bool { return s.pages.Find(p) >= 0 }

// Len returns the number of pages marked since the last Reset.
func (s *DirtySet) Len() int { return s.pages.Len() }

// Each calls f with every marked page, in the order first marked.
func (s *DirtySet) Each(f func(Page)) {
	for _, p := range s.pages.Pages() {
		f(p)
	}
}

// Sorted returns the marked pages in address order (Page.Compare), the order in which a
// checkpoint sends them, in buf's storage.
func (s *DirtySet) Sorted(buf []Page) []Page { return s.pages.Sorted(buf) }

// Reset empties the set: a checkpoint or recovery of its domain.
func (s *DirtySet) Reset() { s.pages.Clear() }

// Check verifies the invariants from scratch, and that every page marked belongs to
// domain d (domainOf gives a page's domain by its address space).
func (s *DirtySet) Check(d Domain, domainOf func(record.ASID) Domain) error {
	if err := s.pages.Check(); err != nil {
		return fmt.Errorf("dirty pages of domain %d: %w", d, err)
	}
	for _, p := range s.pages.Pages() {
		if got := domainOf(p.ASID); got != d {
			return fmt.Errorf("page %+v of domain %d is dirty in domain %d", p, got, d)
		}
	}
	return nil
}
