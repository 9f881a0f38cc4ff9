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
		Name:        string(KindNone),
		Doc:         "plain demand paging with one mapping per page and no checkpoints: the baseline",
		Level:       scheme.LevelCPU,
		Params:      pagingParams(KindNone),
		CheckParams: checkParams(KindNone),
		New: func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
			a, err := newAdapter(KindNone, m, p)
			if err != nil {
				return nil, err
			}
			return &noneAdapter{a, a.s.(*None)}, nil
		},
	}
}

// DualMapInfo describes scheme dualmap.
func DualMapInfo() scheme.Info {
	return scheme.Info{
		Name:                string(KindDualMap),
		Doc:                 "virtual checkpoints: two mappings per page, a switch bit and per-page checkpoint numbers in the MMU",
		Level:               scheme.LevelCPU,
		RecoversTransient:   true,
		RecoversCrash:       true,
		WriteProtects:       true,
		VolatileCheckpoints: true,
		Params:              pagingParams(KindDualMap),
		CheckParams:         checkParams(KindDualMap),
		New: func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
			a, err := newAdapter(KindDualMap, m, p)
			if err != nil {
				return nil, err
			}
			return &dualMapAdapter{a, a.s.(*DualMap)}, nil
		},
	}
}

// checkParams is the CheckParams of scheme kind.
func checkParams(kind Kind) func(scheme.Machine, scheme.Params) error {
	return func(m scheme.Machine, p scheme.Params) error {
		_, err := parsePaging(kind, m, p)
		return err
	}
}

// adapter runs a page-level Scheme on the byte-granular substrate: it splits each access
// into the pages it covers, hands each one the next-use time of --replace opt, and keeps
// the verification stamps in the page's current version. Its access loops are those of
// noneAdapter and dualMapAdapter.
type adapter struct {
	s       Scheme
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

// newAdapter builds scheme kind with settings p on machine m. With --replace opt and
// finite frames it asks the driver for the next-use times (m.Oracle.NextUse), which reads
// the trace ahead.
func newAdapter(kind Kind, m scheme.Machine, p scheme.Params) (*adapter, error) {
	g, err := parsePaging(kind, m, p)
	if err != nil {
		return nil, err
	}
	c := g.config(kind, m)
	a := &adapter{shift: uint(bits.TrailingZeros64(m.PageSize)), maxPages: m.MaxPages}
	if g.needsNextUse() {
		if m.Oracle == nil {
			return nil, fmt.Errorf("--replace opt: scheme %s needs the next-use times of a driver (scheme.Machine.Oracle)", kind)
		}
		if a.nextUse, err = m.Oracle.NextUse(); err != nil {
			return nil, fmt.Errorf("--replace opt: %w", err)
		}
	}
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
		a.m = s.machine
	case *DualMap:
		a.m = s.machine
	}
	a.m.pt.SetMaxPages(m.MaxPages)
	return a, nil
}

// noneAdapter and dualMapAdapter are the adapter of each page-level scheme with its
// access loops (Access and accessHooked), which call the scheme's concrete type directly:
// generated from one template (access.go.tmpl, `go generate ./mmu`) into access_gen.go.
// One loop for both, branching on the scheme and on the hooks, cost about 15 instructions
// an access (mmu/internal/genaccess).
type (
	// Invariant: impl is adapter.s.
	noneAdapter struct {
		*adapter
		impl *None
	}
	// Invariant: impl is adapter.s.
	dualMapAdapter struct {
		*adapter
		impl *DualMap
	}
)

func (a *noneAdapter) Check() error    { return a.adapter.check(a.impl) }
func (a *dualMapAdapter) Check() error { return a.adapter.check(a.impl) }

func (a *adapter) DomainOf(asid record.ASID) scheme.Domain { return scheme.Domain(a.s.DomainOf(asid)) }

func (a *adapter) Checkpoint(d scheme.Domain) {
	before := a.m.dk.IO.Writes
	a.s.Checkpoint(pagetable.DomainID(d))
	a.ckptDiskWrites += a.m.dk.IO.Writes - before
}

func (a *adapter) Rollback(d scheme.Domain) { a.s.Rollback(pagetable.DomainID(d)) }

func (a *adapter) Crash() { a.s.Crash() }

// image is the adapters' Image (access_gen.go) away from the hook's page: the stamps of
// the current version of the page, wherever it is (a frame, or the slot it was written
// back to), nil for the initial content. After an access that wrote the page it holds a
// version (create asks for nothing more): the page is resident, unless a later page of the
// same access stole its frame, and then its data is in the slot it was written back to.
func (a *adapter) image(asid record.ASID, page uint64, create bool) []uint64 {
	st := a.s.PeekStamps(asid, pagetable.VPN(page))
	if st == nil && create {
		panic(fmt.Sprintf("mmu: Image(create) of page (%d, %#x), which holds no version", asid, page))
	}
	return st
}

// Counters reports the page-level counts, which are the substrate's pages and paging
// counters, and the common channels, which the page-table schemes derive from their events
// (docs/counters.md). c is zero (scheme.Scheme.Counters).
func (a *adapter) Counters(c *scheme.Tally) {
	m := a.s.Counters()
	page := int64(1) << a.shift
	c.Pages = m.Pages
	c.Paging = m.Paging
	c.CheckpointDiskWrites = a.ckptDiskWrites

	c.BytesCopied += m.PageCopies * page
	c.Traps += m.FirstWrites
	stored := (a.ckptDiskWrites + m.PTPagesWritten + m.CommitWrites) * page
	c.BytesToStorage += stored
	c.CheckpointStallBytes += stored
	c.MemOverheadPeakBytes += m.CheckpointFramesPeak * page
}

// check verifies the invariants of the adapter whose loops call impl, and the scheme's.
func (a *adapter) check(impl Scheme) error {
	if impl != a.s {
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
