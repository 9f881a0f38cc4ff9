package mmu

import (
	"github.com/vmsim/vmsim/pagetable"
	"github.com/vmsim/vmsim/record"
)

// None is plain demand paging: one mapping per page (m[0]), no checkpoints. Every miss
// is a page fault, cold misses included; a dirty eviction is one disk write; pages still
// dirty at the end are not written. Checkpoints do nothing; it cannot recover from
// failures.
type None struct{ *machine }

func (s *None) Access(asid record.ASID, vpn pagetable.VPN, write bool, nextUse int64) {
	p := s.pt.Lookup(asid, vpn)
	e := s.pt.PTE(p)
	if nextUse >= 0 {
		e.NextUse = nextUse
	}
	s.use(p, e, write)
}

// Checkpoint does nothing: the baseline keeps no checkpoints.
func (s *None) Checkpoint(pagetable.DomainID) {}

// Rollback panics: the baseline cannot recover (the driver refuses failures with it).
func (s *None) Rollback(pagetable.DomainID) { panic("mmu: scheme none cannot roll back") }

// Crash panics: the baseline cannot recover (the driver refuses failures with it).
func (s *None) Crash() { panic("mmu: scheme none cannot recover from a crash") }
