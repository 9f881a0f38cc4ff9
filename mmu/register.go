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
// the verification stamps in the page's current version.
type adapter struct {
	s          Scheme
	m          *machine
	shift      uint // log2 page size
	blockShift uint // log2 verify block
	perPage    uint // log2 blocks per page
	nextUse    func() int64
	// ckptDiskWrites counts the disk writes made inside Checkpoint (volatile memory).
	ckptDiskWrites int64
	// maxPages is Machine.MaxPages; n is the highest access number (scheme.Access.N)
	// performed, from which AccessBatch numbers its records; errAt is the number of the
	// access that took the page table past maxPages (0: none has).
	maxPages int
	n, errAt int64
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
		a.blockShift = uint(bits.TrailingZeros64(m.VerifyBlock))
		a.perPage = a.shift - a.blockShift
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

// The two concrete adapters call their page-level scheme directly (no interface call
// on the hot path): each access references every page it covers, in address order (the
// trace readers guarantee that no access wraps past the end of the address space). The
// page span is computed from the fields, not by passing the Access on: copying it to the
// stack defeats store forwarding and cost a third of the replay's time. The loops are
// written twice on purpose: a shared generic or a branch per page measured slower.
type (
	noneAdapter struct {
		*adapter
		s *None
	}
	dualMapAdapter struct {
		*adapter
		s *DualMap
	}
)

func (a *noneAdapter) Access(x scheme.Access) {
	a.n = max(a.n, x.N)
	first, last := x.Addr>>a.shift, (x.Addr+uint64(x.Size)-1)>>a.shift
	write := x.Kind.Writes()
	for vpn := first; ; vpn++ {
		a.s.Access(x.ASID, pagetable.VPN(vpn), write, a.next())
		if a.m.pt.Err() != nil {
			a.refused(x.N)
			return
		}
		if vpn == last {
			return
		}
	}
}

func (a *dualMapAdapter) Access(x scheme.Access) {
	a.n = max(a.n, x.N)
	first, last := x.Addr>>a.shift, (x.Addr+uint64(x.Size)-1)>>a.shift
	write := x.Kind.Writes()
	for vpn := first; ; vpn++ {
		a.s.Access(x.ASID, pagetable.VPN(vpn), write, a.next())
		if a.m.pt.Err() != nil {
			a.refused(x.N)
			return
		}
		if vpn == last {
			return
		}
	}
}

// AccessBatch is Access over records, with no next-use (the driver's fast path runs
// without --replace opt).
func (a *noneAdapter) AccessBatch(recs []record.Record) (writes int64) {
	shift := a.shift
	for i := range recs {
		r := &recs[i]
		first, last := r.Addr>>shift, (r.Addr+uint64(r.Size)-1)>>shift
		write := r.Kind.Writes()
		if write {
			writes++
		}
		for vpn := first; ; vpn++ {
			a.s.Access(r.ASID, pagetable.VPN(vpn), write, -1)
			if a.m.pt.Err() != nil {
				a.refused(a.n + int64(i) + 1)
				break
			}
			if vpn == last {
				break
			}
		}
	}
	a.n += int64(len(recs))
	return writes
}

// AccessBatch is Access over records, with no next-use.
func (a *dualMapAdapter) AccessBatch(recs []record.Record) (writes int64) {
	shift := a.shift
	for i := range recs {
		r := &recs[i]
		first, last := r.Addr>>shift, (r.Addr+uint64(r.Size)-1)>>shift
		write := r.Kind.Writes()
		if write {
			writes++
		}
		for vpn := first; ; vpn++ {
			a.s.Access(r.ASID, pagetable.VPN(vpn), write, -1)
			if a.m.pt.Err() != nil {
				a.refused(a.n + int64(i) + 1)
				break
			}
			if vpn == last {
				break
			}
		}
	}
	a.n += int64(len(recs))
	return writes
}

// AccessBatchVerify is AccessBatch that calls check after each record's access with the
// stamps of the current version of its last page (scheme.VerifyingBatchAccessor).
func (a *noneAdapter) AccessBatchVerify(recs []record.Record, check func(int, []uint64)) (writes int64) {
	shift := a.shift
	for i := range recs {
		r := &recs[i]
		first, last := r.Addr>>shift, (r.Addr+uint64(r.Size)-1)>>shift
		write := r.Kind.Writes()
		if write {
			writes++
		}
		for vpn := first; ; vpn++ {
			a.s.Access(r.ASID, pagetable.VPN(vpn), write, -1)
			if a.m.pt.Err() != nil {
				a.refused(a.n + int64(i) + 1)
				break
			}
			if vpn == last {
				break
			}
		}
		if a.m.pt.Err() == nil {
			check(i, a.m.ft.Stamps(a.m.lastF))
		}
	}
	a.n += int64(len(recs))
	return writes
}

// AccessBatchVerify is AccessBatch that calls check after each record's access with the
// stamps of the current version of its last page (scheme.VerifyingBatchAccessor).
func (a *dualMapAdapter) AccessBatchVerify(recs []record.Record, check func(int, []uint64)) (writes int64) {
	shift := a.shift
	for i := range recs {
		r := &recs[i]
		first, last := r.Addr>>shift, (r.Addr+uint64(r.Size)-1)>>shift
		write := r.Kind.Writes()
		if write {
			writes++
		}
		for vpn := first; ; vpn++ {
			a.s.Access(r.ASID, pagetable.VPN(vpn), write, -1)
			if a.m.pt.Err() != nil {
				a.refused(a.n + int64(i) + 1)
				break
			}
			if vpn == last {
				break
			}
		}
		if a.m.pt.Err() == nil {
			check(i, a.m.ft.Stamps(a.m.lastF))
		}
	}
	a.n += int64(len(recs))
	return writes
}

// next returns the next-use time for --replace opt, or -1.
func (a *adapter) next() int64 {
	if a.nextUse == nil {
		return -1
	}
	return a.nextUse()
}

func (a *adapter) DomainOf(asid record.ASID) scheme.Domain { return scheme.Domain(a.s.DomainOf(asid)) }

func (a *adapter) Checkpoint(d scheme.Domain) {
	before := a.m.dk.IO.Writes
	a.s.Checkpoint(pagetable.DomainID(d))
	a.ckptDiskWrites += a.m.dk.IO.Writes - before
}

func (a *adapter) Rollback(d scheme.Domain) { a.s.Rollback(pagetable.DomainID(d)) }

func (a *adapter) Crash() { a.s.Crash() }

// Load reads each block from the current version of its page, wherever it is, a page at
// a time.
func (a *adapter) Load(asid record.ASID, first uint64, dst []uint64) {
	for i := 0; i < len(dst); {
		st, off, n := a.run(asid, first+uint64(i), len(dst)-i)
		if st == nil {
			clear(dst[i : i+n])
		} else {
			copy(dst[i:i+n], st[off:off+n])
		}
		i += n
	}
}

// PageStamps returns the stamps of the current version of the page, wherever it is (the
// scheme.StampView of Load and Store).
func (a *adapter) PageStamps(asid record.ASID, page uint64) []uint64 {
	return a.s.PeekStamps(asid, pagetable.VPN(page))
}

// Store writes into the current version of each block's page. After Access the page is
// resident, unless a later page of the same access stole its frame; its data is then in
// the slot it was written back to.
func (a *adapter) Store(asid record.ASID, first uint64, src []uint64) {
	for i := 0; i < len(src); {
		st, off, n := a.run(asid, first+uint64(i), len(src)-i)
		if st == nil {
			panic(fmt.Sprintf("mmu: Store to page (%d, %#x) that holds no version", asid, (first+uint64(i))>>a.perPage))
		}
		copy(st[off:off+n], src[i:i+n])
		i += n
	}
}

// run returns the stamps of the current version of the page holding block b (nil for the
// initial content), b's offset in it, and how many of the left blocks from b it holds.
func (a *adapter) run(asid record.ASID, b uint64, left int) (st []uint64, off, n int) {
	off = int(b & (1<<a.perPage - 1))
	return a.s.PeekStamps(asid, pagetable.VPN(b>>a.perPage)), off, min(left, 1<<a.perPage-off)
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

func (a *adapter) Check() error { return a.s.Check() }

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
