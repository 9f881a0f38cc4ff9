// Package cowpage is a checkpointing scheme written outside vmsim, as a researcher would
// write one: page-granular copy on first write. At the first write to a page since its
// domain's checkpoint, the page's content is saved (the write faults on a write-protected
// page); a checkpoint drops the saved copies and protects the pages again; a rollback
// copies the saved pages back. With --max-saved N a domain holding N saved pages asks the
// driver for a checkpoint.
package cowpage

import (
	"fmt"
	"strconv"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// Info describes scheme cowpage, for a registry.
func Info() scheme.Info {
	return scheme.Info{
		Name:              "cowpage",
		Doc:               "page-granular copy on first write: a page's first write since the checkpoint saves its content; a rollback copies the saved pages back",
		Level:             scheme.LevelCPU,
		RecoversTransient: true,
		WriteProtects:     true,
		Params: []scheme.Param{{Name: "max-saved", Default: "0",
			Doc: "ask for a checkpoint when a domain holds this many saved pages (0: never)"}},
		// Counters adds to a Counts (scheme.Own).
		Own: new(Counts),
		New: func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
			n, err := strconv.Atoi(p["max-saved"])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("--max-saved %q: want a whole number of pages, 0 for no limit", p["max-saved"])
			}
			s := &Scheme{m: m, maxSaved: n, doms: map[scheme.Domain]*domain{},
				touched: map[scheme.Page]bool{}}
			if m.VerifyBlock > 0 {
				s.mem = scheme.NewPageData(m.PageSize, m.VerifyBlock)
			}
			return s, nil
		},
	}
}

// Scheme is scheme cowpage.
type Scheme struct {
	m        scheme.Machine
	maxSaved int
	// mem is the program's memory (stamps), nil when not verifying.
	mem  *scheme.PageData
	doms map[scheme.Domain]*domain
	// touched records the pages accessed, and whether written. Invariant: len(touched) <=
	// m.MaxPages when that is set.
	touched map[scheme.Page]bool
	// held is the number of saved pages over all domains; peak the most held at once.
	// Invariant: held == the sum of len(d.saved), held <= peak.
	held, peak              int64
	saved, restored, forced int64
	err                     error // the first access past m.MaxPages
}

// domain is a checkpoint domain's state.
type domain struct {
	// saved maps each page written since the checkpoint to its content then (nil when not
	// verifying). Invariant: every page is of an address space of this domain.
	saved     map[scheme.Page][]uint64
	requested bool // a checkpoint was asked for and not yet taken
}

func (s *Scheme) DomainOf(asid record.ASID) scheme.Domain {
	if s.m.PerASID {
		return scheme.Domain(asid)
	}
	return 0
}

func (s *Scheme) domain(d scheme.Domain) *domain {
	if s.doms[d] == nil {
		s.doms[d] = &domain{saved: map[scheme.Page][]uint64{}}
	}
	return s.doms[d]
}

// Access performs the run's accesses, in order: it saves each page a write covers at its
// first write since the checkpoint, and stops after an access that asked for a checkpoint
// (its domain's saved pages reached max-saved): the driver takes the checkpoint, then
// hands over the rest.
func (s *Scheme) Access(run scheme.Run) int {
	for i := range run.Recs {
		asked := s.access(&run.Recs[i], run.N+int64(i)+1)
		if run.Verify != nil {
			run.Verify(i)
		}
		if asked {
			return i + 1
		}
	}
	return len(run.Recs)
}

// access performs access n, a, and reports whether it asked for a checkpoint.
func (s *Scheme) access(a *record.Record, n int64) (asked bool) {
	if s.err != nil {
		return false
	}
	d, id := s.domain(s.DomainOf(a.ASID)), s.DomainOf(a.ASID)
	first, last := a.Addr/s.m.PageSize, (a.Addr+uint64(a.Size)-1)/s.m.PageSize
	for p := (scheme.Page{ASID: a.ASID, N: first}); p.N <= last; p.N++ {
		if _, ok := s.touched[p]; !ok && s.m.MaxPages > 0 && len(s.touched) == s.m.MaxPages {
			s.err = &scheme.TooManyPagesError{Max: s.m.MaxPages, Access: n}
			return asked
		}
		s.touched[p] = s.touched[p] || a.Kind.Writes()
		if _, ok := d.saved[p]; ok || !a.Kind.Writes() {
			continue
		}
		var old []uint64
		if s.mem != nil {
			old = make([]uint64, s.mem.Blocks())
			s.mem.Read(p, old) // the driver stores the write's data after Access
		}
		d.saved[p] = old
		s.saved++
		s.held++
		s.peak = max(s.peak, s.held)
		if s.maxSaved > 0 && len(d.saved) >= s.maxSaved && !d.requested {
			d.requested = true
			s.forced++
			s.m.RequestCheckpoint(id)
			asked = true
		}
	}
	return asked
}

func (s *Scheme) Checkpoint(id scheme.Domain) {
	d := s.domain(id)
	s.held -= int64(len(d.saved))
	clear(d.saved)
	d.requested = false
}

func (s *Scheme) Rollback(id scheme.Domain) {
	d := s.domain(id)
	for p, old := range d.saved {
		if s.mem != nil {
			copy(s.mem.Page(p), old)
		}
		s.restored++
	}
	s.Checkpoint(id)
}

// Crash is never called: the Info does not say that cowpage recovers crashes.
func (s *Scheme) Crash() { panic("cowpage: Crash, which it does not recover") }

// Image is the memory's page image, for --verify: the driver reads what each access reads
// and writes what it writes through it.
func (s *Scheme) Image(asid record.ASID, n uint64, create bool) []uint64 {
	return s.mem.Image(asid, n, create)
}

// Counts are cowpage's own counters: each field's tags give its key, its definition and,
// for a peak, its kind.
type Counts struct {
	PagesSaved        int64 `json:"pages_saved" doc:"pages saved at their first write since their domain's checkpoint"`
	PagesRestored     int64 `json:"pages_restored" doc:"saved pages copied back by rollbacks"`
	SavedPeakPages    int64 `json:"saved_peak_pages" kind:"peak" doc:"the most saved pages held at once over all domains"`
	ForcedCheckpoints int64 `json:"forced_checkpoints" doc:"checkpoints asked for because a domain held --max-saved saved pages"`
}

func (s *Scheme) Counters(c *scheme.Tally) {
	page := int64(s.m.PageSize)
	for _, written := range s.touched {
		c.PagesTouched++
		if written {
			c.PagesWritten++
		}
	}
	c.Traps += s.saved // each first write faults on a protected page
	c.BytesCopied += s.saved * page
	c.RecoveryBytes += s.restored * page
	c.MemOverheadPeakBytes += s.peak * page
	o := scheme.Own[Counts](c)
	o.PagesSaved += s.saved
	o.PagesRestored += s.restored
	o.SavedPeakPages += s.peak
	o.ForcedCheckpoints += s.forced
}

func (s *Scheme) Check() error {
	var held int64
	for id, d := range s.doms {
		for p, old := range d.saved {
			if s.DomainOf(p.ASID) != id {
				return fmt.Errorf("domain %d holds page %+v of domain %d", id, p, s.DomainOf(p.ASID))
			}
			if (s.mem != nil) != (old != nil) {
				return fmt.Errorf("page %+v: saved content %v while verifying is %v", p, old != nil, s.mem != nil)
			}
			if !s.touched[p] {
				return fmt.Errorf("page %+v is saved but not recorded as written", p)
			}
		}
		held += int64(len(d.saved))
	}
	if held != s.held || s.held > s.peak {
		return fmt.Errorf("%d saved pages, counted %d, peak %d", held, s.held, s.peak)
	}
	if s.m.MaxPages > 0 && len(s.touched) > s.m.MaxPages {
		return fmt.Errorf("%d pages touched, past the budget of %d", len(s.touched), s.m.MaxPages)
	}
	return nil
}

func (s *Scheme) Err() error { return s.err }
