package mmu

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/pagetable"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

func init() {
	scheme.Register(NoneInfo())
	scheme.Register(DualMapInfo())
}

// NoneInfo describes scheme none.
func NoneInfo() scheme.Info {
	return scheme.Info{
		Name:  "none",
		Doc:   "plain demand paging with one mapping per page and no checkpoints: the baseline",
		Level: scheme.LevelCPU,
		Pages: true,
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
			return newAdapter("none", m)
		},
	}
}

// DualMapInfo describes scheme dualmap.
func DualMapInfo() scheme.Info {
	return scheme.Info{
		Name:               "dualmap",
		Doc:                "virtual checkpoints: two mappings per page, a switch bit and per-page checkpoint numbers in the MMU",
		Level:              scheme.LevelCPU,
		RecoversTransient:  true,
		RecoversCrash:      true,
		WriteProtects:      true,
		Pages:              true,
		VirtualCheckpoints: true,
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
			return newAdapter("dualmap", m)
		},
	}
}

// adapter runs a page-level Scheme on the byte-granular substrate: it splits each access
// into the pages it covers, hands each one the next-use time of --replace opt, and keeps
// the verification stamps in the page's current version.
//
// Invariant: exactly one of none and dual is not nil, and it is s.
type adapter struct {
	s       Scheme
	none    *None
	dual    *DualMap
	m       *machine
	shift   uint // log2 page size
	nextUse func() int64
	// ckptDiskWrites counts the disk writes made inside Checkpoint (volatile memory).
	ckptDiskWrites int64
	// maxPages is Machine.MaxPages; errAt is the number of the access that took the page
	// table past maxPages (0: none has).
	maxPages int
	errAt    int64
	// inHook: the verifier's hook (scheme.Run.Verify) is running after an access whose
	// last page is hookPage of hookASID. Invariant: while inHook, the machine's lastF is
	// the frame of that page's current version (Image hands its stamps over without a
	// page-table walk, as the record's access just found them).
	inHook   bool
	hookASID record.ASID
	hookPage uint64
}

func newAdapter(name string, m scheme.Machine) (*adapter, error) {
	if m.PTEBytes == 0 || m.PTEBytes > m.PageSize {
		return nil, fmt.Errorf("--pte-bytes %d: want a power of two no larger than the page size", m.PTEBytes)
	}
	c := Config{
		Scheme:        name,
		Frames:        m.Frames,
		Replace:       m.Replace,
		Seed:          m.Seed,
		ObsoleteFirst: m.ObsoleteFirst,
		ZeroFill:      m.ZeroFill,
		VBits:         m.VBits,
		PerASID:       m.PerASID,
		Volatile:      m.Volatile,
		Remap:         m.Remap,
		PTEsPerPTPage: m.PageSize / m.PTEBytes,
	}
	a := &adapter{shift: uint(bits.TrailingZeros64(m.PageSize)), nextUse: m.NextUse, maxPages: m.MaxPages}
	if m.VerifyBlock > 0 {
		c.Blocks = int(m.PageSize / m.VerifyBlock)
	}
	s, err := New(c)
	if err != nil {
		return nil, err
	}
	a.s = s
	switch s := s.(type) {
	case *None:
		a.m, a.none = s.machine, s
	case *DualMap:
		a.m, a.dual = s.machine, s
	}
	a.m.pt.SetMaxPages(m.MaxPages)
	return a, nil
}

// Access performs the run's accesses: each references every page it covers, in address
// order (the trace readers guarantee that no access wraps past the end of the address
// space), with the next-use time of --replace opt. It is the adapters' one loop; the
// page-level scheme is called directly (no interface call a page), the concrete type
// chosen by a predictable branch. An access that takes the page table past
// Machine.MaxPages ends its pages there (Err names it); the others still run, and touch
// no new page.
func (a *adapter) Access(run scheme.Run) int {
	shift, none, dual, nu := a.shift, a.none, a.dual, a.nextUse
	for i := range run.Recs {
		r := &run.Recs[i]
		first, last := r.Addr>>shift, (r.Addr+uint64(r.Size)-1)>>shift
		write := r.Kind.Writes()
		for vpn := first; ; vpn++ {
			next := int64(-1)
			if nu != nil {
				next = nu()
			}
			if dual != nil {
				dual.Access(r.ASID, pagetable.VPN(vpn), write, next)
			} else {
				none.Access(r.ASID, pagetable.VPN(vpn), write, next)
			}
			if a.m.pt.Err() != nil {
				a.refused(run.N + int64(i) + 1)
				break
			}
			if vpn == last {
				break
			}
		}
		if run.Verify != nil && a.m.pt.Err() == nil {
			a.inHook, a.hookASID, a.hookPage = true, r.ASID, last
			run.Verify(i)
			a.inHook = false
		}
	}
	return len(run.Recs)
}

func (a *adapter) DomainOf(asid record.ASID) scheme.Domain { return scheme.Domain(a.s.DomainOf(asid)) }

func (a *adapter) Checkpoint(d scheme.Domain) {
	before := a.m.dk.IO.Writes
	a.s.Checkpoint(pagetable.DomainID(d))
	a.ckptDiskWrites += a.m.dk.IO.Writes - before
}

func (a *adapter) Rollback(d scheme.Domain) { a.s.Rollback(pagetable.DomainID(d)) }

func (a *adapter) Crash() { a.s.Crash() }

// Image returns the stamps of the current version of the page, wherever it is (a frame,
// or the slot it was written back to), nil for the initial content. After an access that
// wrote the page it holds a version (create asks for nothing more): the page is resident,
// unless a later page of the same access stole its frame, and then its data is in the
// slot it was written back to.
func (a *adapter) Image(asid record.ASID, page uint64, create bool) []uint64 {
	if a.inHook && page == a.hookPage && asid == a.hookASID {
		return a.m.ft.Stamps(a.m.lastF)
	}
	st := a.s.PeekStamps(asid, pagetable.VPN(page))
	if st == nil && create {
		panic(fmt.Sprintf("mmu: Image(create) of page (%d, %#x), which holds no version", asid, page))
	}
	return st
}

// Counters maps the page-level counts onto the substrate's: the common channels of the
// page-table schemes are derived from their events (docs/counters.md).
func (a *adapter) Counters(c *scheme.Counters) {
	m := a.s.Counters()
	page := int64(1) << a.shift
	c.PagesTouched += m.PagesTouched
	c.PagesWritten += m.PagesWritten
	c.FirstWrites += m.FirstWrites
	c.PageCopies += m.PageCopies
	c.Remaps += m.Remaps
	c.PageFaults += m.PageFaults
	c.DiskReads += m.DiskReads
	c.DiskWrites += m.DiskWrites
	c.CheckpointDiskWrites += a.ckptDiskWrites
	c.PTPagesWritten += m.PTPagesWritten
	c.CommitWrites += m.CommitWrites
	c.FramesPeak += m.FramesPeak
	c.CheckpointFramesPeak += m.CheckpointFramesPeak
	c.WrapSweeps += m.WrapSweeps

	c.BytesCopied += m.PageCopies * page
	c.Traps += m.FirstWrites
	stored := (a.ckptDiskWrites + m.PTPagesWritten + m.CommitWrites) * page
	c.BytesToStorage += stored
	c.CheckpointStallBytes += stored
	c.MemOverheadPeakBytes += m.CheckpointFramesPeak * page
}

func (a *adapter) Check() error {
	if (a.none == nil) == (a.dual == nil) || a.none != nil && Scheme(a.none) != a.s || a.dual != nil && Scheme(a.dual) != a.s {
		return fmt.Errorf("mmu: the adapter's concrete scheme is not its scheme")
	}
	return a.s.Check()
}

// refused notes that access n took the page table past Machine.MaxPages, unless an
// earlier one did.
func (a *adapter) refused(n int64) {
	if a.errAt == 0 {
		a.errAt = n
	}
}

// Err reports a page table grown past --max-pages, as every scheme does: a
// *scheme.TooManyPagesError naming the access.
func (a *adapter) Err() error {
	if a.m.pt.Err() != nil {
		return &scheme.TooManyPagesError{Max: a.maxPages, Access: a.errAt}
	}
	return nil
}

// Unwrap returns the page-level scheme (for tests).
func (a *adapter) Unwrap() Scheme { return a.s }
