package pagetable

import (
	"errors"
	"fmt"
	"math"

	"github.com/vmsim/vmsim/disk"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/internal/grow"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// VPN is a virtual page number: a virtual address divided by the page size.
type VPN uint64

// PageID is a dense index naming one PTE, assigned in order of first touch.
type PageID int32

// DomainID names a checkpoint domain.
type DomainID int32

// Mapping is one of a page's two mappings. A mapping with neither frame nor slot holds
// the page's initial content (its image on disk, or zeros).
type Mapping struct {
	Frame frames.FrameID // the real frame, or NoFrame when not resident
	Slot  disk.SlotID    // the disk slot, or NoSlot when none was allocated
}

// PTE is a page's translation entry.
type PTE struct {
	// M holds the page's two mappings.
	// Invariant: M[L] is the current version. M[1-L] is a needed checkpoint version iff
	// V == the domain's V; otherwise whatever it holds is obsolete.
	M [2]Mapping
	// NextUse is when the page is next referenced, for the opt policy.
	NextUse int64
	VPN     VPN
	ASID    record.ASID
	Domain  DomainID
	// V is the k-bit copy of the domain's V taken at the page's last first write since a
	// checkpoint; 0 means "not written in any live interval".
	// Invariant: V <= Vmax; V == domain V iff the page is on the domain's modified list.
	V uint32
	// L is the switch bit. Invariant: L is 0 or 1.
	L uint8
	// Written records that the page was ever written (for pages_written).
	Written bool
}

// Current returns the current mapping.
func (e *PTE) Current() *Mapping { return &e.M[e.L] }

// Other returns the mapping that is not current.
func (e *PTE) Other() *Mapping { return &e.M[1-e.L] }

// Domain is a checkpoint domain: the whole system, or one address space.
type Domain struct {
	// V is the global checkpoint number. Invariant: 1 <= V <= Vmax.
	V uint32
	// Modified lists the pages written since the last checkpoint or rollback.
	// Invariant: exactly the domain's pages with v == V, each once.
	Modified []PageID
	// Pages lists every page of the domain, for the wrap sweep.
	Pages []PageID
	// CkptFrames counts frames holding the domain's needed checkpoint versions.
	// Invariant: == number of pages on Modified whose M[1-L] has a frame.
	CkptFrames int
}

// space is one address space's part of the table: its checkpoint domain.
type space struct {
	domain DomainID
}

// tlbBits is log2 of the entries of the lookup cache.
const tlbBits = 13

// tlbEntry caches one translation of (asid, vpn) to a PageID.
type tlbEntry struct {
	vpn  VPN
	asid record.ASID
	id   PageID // PageID+1; 0 marks an empty entry
}

// ErrTooManyPages is wrapped by [Table.Err] once a lookup would have created a page
// beyond the limit set with [Table.SetMaxPages].
var ErrTooManyPages = errors.New("too many pages")

// Table is the page table of every address space, and the checkpoint domains.
//
// Memory: a touched page costs its PTE (48 bytes), 24 to 32 bytes of lookup index, and 4
// bytes on its domain's page list, whatever the pattern of addresses: the lookup index is
// a scheme.PageIndex (an open-addressing hash of (address space, VPN)), not a radix tree
// whose leaves a sparse address space would fill one entry each.
type Table struct {
	// tlb is a direct-mapped cache in front of the lookup index. PTEs are never removed,
	// so an entry never goes stale. Invariant: a non-empty entry maps to its PTE.
	tlb  [1 << tlbBits]tlbEntry
	ptes []PTE
	// index numbers the pages: PTE p is page index.Key(p) (its ASID and VPN), every page
	// but the spare one (overflow); its budget is the page limit.
	// Invariant: index.Len() == len(ptes), or len(ptes)-1 when overflow >= 0 (the last
	// PTE, outside the index); ptes[p] has the ASID and VPN of index.Key(p).
	index     scheme.PageIndex
	spaces    map[record.ASID]*space
	lastASID  record.ASID
	last      *space
	domains   []Domain
	vmax      uint32
	perASID   bool
	written   int
	ckptTotal int
	// maxPages is the page limit; 0 for none.
	maxPages int
	// overflow is the page every lookup beyond the limit returns; -1 until the limit is
	// first passed. Invariant: overflow >= 0 iff err != nil.
	overflow PageID
	err      error
}

// New returns an empty page table whose checkpoint numbers have vbits bits (1..31), with
// one domain for the whole system, or one per address space when perASID.
func New(vbits int, perASID bool) *Table {
	if vbits < 1 || vbits > 31 {
		panic(fmt.Sprintf("pagetable: vbits %d out of range 1..31", vbits))
	}
	t := &Table{spaces: map[record.ASID]*space{}, vmax: 1<<vbits - 1, perASID: perASID, overflow: -1}
	if !perASID {
		t.domains = append(t.domains, Domain{V: 1})
	}
	return t
}

// SetMaxPages limits the distinct pages the table holds to n (0: no limit). A lookup
// that would create a page beyond the limit makes Err non-nil and returns one spare
// page, the same for every such lookup, so that callers go on without crashing; the
// run's counts are then meaningless and the caller must report Err.
func (t *Table) SetMaxPages(n int) {
	if n < 0 {
		panic(fmt.Sprintf("pagetable: SetMaxPages(%d)", n))
	}
	t.maxPages = n
	t.index.SetMax(n)
}

// Err is nil, or (for good) an error wrapping ErrTooManyPages once a lookup passed the
// limit set with SetMaxPages.
func (t *Table) Err() error { return t.err }

// Vmax is the largest value of V (2^k - 1).
func (t *Table) Vmax() uint32 { return t.vmax }

// Len is the number of PTEs: the distinct pages touched.
func (t *Table) Len() int { return len(t.ptes) }

// Written is the number of distinct pages ever written.
func (t *Table) Written() int { return t.written }

// MarkWritten records that page p was written.
func (t *Table) MarkWritten(p PageID) {
	if e := &t.ptes[p]; !e.Written {
		e.Written = true
		t.written++
	}
}

// PTE returns page p's entry.
func (t *Table) PTE(p PageID) *PTE { return &t.ptes[p] }

// Domains returns the domains; the slice is the table's own.
func (t *Table) Domains() []Domain { return t.domains }

// Domain returns domain d.
func (t *Table) Domain(d DomainID) *Domain { return &t.domains[d] }

// DomainOf returns the domain of address space asid, creating it if needed.
func (t *Table) DomainOf(asid record.ASID) DomainID { return t.space(asid).domain }

// Modified reports whether page p has a needed checkpoint version (v == V).
func (t *Table) Modified(p PageID) bool {
	e := &t.ptes[p]
	return e.V == t.domains[e.Domain].V
}

// CheckpointFrames is the number of frames holding needed checkpoint versions, over all
// domains.
func (t *Table) CheckpointFrames() int { return t.ckptTotal }

// AddCheckpointFrames adjusts domain d's count of checkpoint-version frames by delta.
func (t *Table) AddCheckpointFrames(d DomainID, delta int) {
	t.domains[d].CkptFrames += delta
	t.ckptTotal += delta
}

func (t *Table) space(asid record.ASID) *space {
	if t.last != nil && asid == t.lastASID {
		return t.last
	}
	s := t.spaces[asid]
	if s == nil {
		s = &space{}
		if t.perASID {
			s.domain = DomainID(len(t.domains))
			t.domains = append(t.domains, Domain{V: 1})
		}
		t.spaces[asid] = s
	}
	t.last, t.lastASID = s, asid
	return s
}

// Cached returns the PTE of (asid, vpn) when the lookup cache holds it, else -1, without
// looking further or creating it: Lookup's and Find's first step, small enough to inline
// into a scheme's access loop. A page it finds is in the table (never the spare page of
// SetMaxPages).
func (t *Table) Cached(asid record.ASID, vpn VPN) PageID {
	if te := &t.tlb[tlbSlot(asid, vpn)]; te.vpn == vpn && te.asid == asid {
		return te.id - 1 // -1 for an empty entry
	}
	return -1
}

// tlbSlot is the entry of the lookup cache that may hold (asid, vpn).
func tlbSlot(asid record.ASID, vpn VPN) uint64 {
	return (uint64(vpn) ^ uint64(asid)<<7) & (1<<tlbBits - 1)
}

// Lookup returns the PTE of (asid, vpn), creating it (not resident, v = 0) on first touch.
// Past the limit of SetMaxPages it returns the spare page and sets Err.
func (t *Table) Lookup(asid record.ASID, vpn VPN) PageID {
	if p := t.Cached(asid, vpn); p >= 0 {
		return p
	}
	p, cache := t.lookup(asid, vpn)
	if cache {
		t.tlb[tlbSlot(asid, vpn)] = tlbEntry{vpn, asid, p + 1}
	}
	return p
}

func (t *Table) lookup(asid record.ASID, vpn VPN) (p PageID, cache bool) {
	id, added := t.index.Add(scheme.Page{ASID: asid, N: uint64(vpn)})
	if id >= 0 && !added {
		return PageID(id), true
	}
	if id < 0 { // past the limit: the index holds its budget
		if t.overflow >= 0 {
			return t.overflow, false
		}
		t.err = fmt.Errorf("%w: the trace touches more than %d distinct pages, the limit (--max-pages %d); "+
			"raise --max-pages if the machine has the memory (about %d bytes a page), or use a larger --page-size",
			ErrTooManyPages, t.maxPages, t.maxPages, BytesPerPage)
	}
	if len(t.ptes) >= math.MaxInt32-1 {
		panic("pagetable: more than 2^31 pages; set a page limit")
	}
	s := t.space(asid)
	p = PageID(len(t.ptes))
	t.ptes = grow.Append(t.ptes, PTE{
		M:       [2]Mapping{{frames.NoFrame, disk.NoSlot}, {frames.NoFrame, disk.NoSlot}},
		NextUse: frames.NeverUsed,
		VPN:     vpn,
		ASID:    asid,
		Domain:  s.domain,
	})
	d := &t.domains[s.domain]
	d.Pages = grow.Append(d.Pages, p)
	if t.err != nil {
		t.overflow = p
		return p, false
	}
	return p, true
}

// BytesPerPage is roughly what a touched page costs the table, for messages: its PTE,
// its share of the index and its place on its domain's list, with slices' spare room.
const BytesPerPage = 100

// Find returns the PTE of (asid, vpn) without creating it.
func (t *Table) Find(asid record.ASID, vpn VPN) (PageID, bool) {
	// A page's ID never changes, so the lookup cache answers for Find too.
	if p := t.Cached(asid, vpn); p >= 0 {
		return p, true
	}
	id := t.index.Find(scheme.Page{ASID: asid, N: uint64(vpn)})
	if id < 0 {
		return 0, false
	}
	return PageID(id), true
}

// Owner encodes mapping m of page p as a frame owner.
func Owner(p PageID, m uint8) frames.Owner { return frames.Owner(int32(p)<<1 | int32(m)) }

// FromOwner decodes a frame owner.
func FromOwner(o frames.Owner) (p PageID, m uint8) { return PageID(o >> 1), uint8(o & 1) }

// Obsolete reports whether mapping m of page p holds an obsolete version: it is not
// current and the page has no needed checkpoint version.
func (t *Table) Obsolete(p PageID, m uint8) bool {
	e := &t.ptes[p]
	return m != e.L && e.V != t.domains[e.Domain].V
}

// SetModified makes page p's v equal its domain's V and appends it to the modified list.
// Precondition: v != V.
func (t *Table) SetModified(p PageID) {
	e := &t.ptes[p]
	d := &t.domains[e.Domain]
	if e.V == d.V {
		panic(fmt.Sprintf("pagetable: page %d is already on the modified list", p))
	}
	e.V = d.V
	d.Modified = append(d.Modified, p)
}

// Advance ends a checkpoint interval of domain d: it empties the modified list and
// increments V. When V would pass Vmax it becomes 1 and every PTE of the domain gets
// v = 0 (a wrap sweep), and Advance reports true.
func (t *Table) Advance(d DomainID) (wrapped bool) {
	t.ClearModified(d)
	dom := &t.domains[d]
	if dom.V < t.vmax {
		dom.V++
		return false
	}
	dom.V = 1
	for _, p := range dom.Pages {
		t.ptes[p].V = 0
	}
	return true
}

// ClearModified empties domain d's modified list (after a rollback, or as part of
// Advance); the domain then holds no needed checkpoint versions in frames.
func (t *Table) ClearModified(d DomainID) {
	dom := &t.domains[d]
	dom.Modified = dom.Modified[:0]
	t.ckptTotal -= dom.CkptFrames
	dom.CkptFrames = 0
}

// PTPage names the page-table page holding page p's PTE when a page-table page holds
// perPage consecutive PTEs: the address space and the PTE index divided by perPage.
type PTPage struct {
	ASID  record.ASID
	Index uint64
}

// PTPageOf returns the page-table page holding p's PTE.
func (t *Table) PTPageOf(p PageID, perPage uint64) PTPage {
	e := &t.ptes[p]
	return PTPage{e.ASID, uint64(e.VPN) / perPage}
}

// Check verifies invariants 1 and 2 of the design from scratch: every PTE's fields, the
// modified lists, that every frame and slot belongs to at most one mapping, that the
// frame table's owner records and the PTEs agree, and the free/used accounting of frames
// and slots. It is O(pages + frames + slots).
func (t *Table) Check(ft *frames.Table, dk *disk.Disk) error {
	if err := ft.Check(); err != nil {
		return err
	}
	if err := dk.Check(); err != nil {
		return err
	}
	if err := t.index.Check(); err != nil {
		return err
	}
	spare := 0
	if t.overflow >= 0 {
		spare = 1
	}
	if t.index.Len()+spare != len(t.ptes) {
		return fmt.Errorf("%d pages in the index (and %d spare) for %d PTEs", t.index.Len(), spare, len(t.ptes))
	}
	onList := make([]int, len(t.ptes))
	ckpt := 0
	for di := range t.domains {
		d := &t.domains[di]
		if d.V < 1 || d.V > t.vmax {
			return fmt.Errorf("domain %d: V=%d out of 1..%d", di, d.V, t.vmax)
		}
		dc := 0
		for _, p := range d.Modified {
			if onList[p]++; onList[p] > 1 {
				return fmt.Errorf("page %d is on a modified list twice", p)
			}
			e := &t.ptes[p]
			if e.Domain != DomainID(di) {
				return fmt.Errorf("page %d of domain %d is on domain %d's modified list", p, e.Domain, di)
			}
			if e.Other().Frame != frames.NoFrame {
				dc++
			}
		}
		if dc != d.CkptFrames {
			return fmt.Errorf("domain %d: %d checkpoint frames, counted %d", di, dc, d.CkptFrames)
		}
		ckpt += dc
	}
	if ckpt != t.ckptTotal {
		return fmt.Errorf("%d checkpoint frames in all, counted %d", ckpt, t.ckptTotal)
	}
	frameSeen, slotSeen, written := 0, map[disk.SlotID]PageID{}, 0
	for pi := range t.ptes {
		p := PageID(pi)
		e := &t.ptes[pi]
		if e.L > 1 {
			return fmt.Errorf("page %d: l=%d", p, e.L)
		}
		if e.V > t.vmax {
			return fmt.Errorf("page %d: v=%d > Vmax=%d", p, e.V, t.vmax)
		}
		if int(e.Domain) >= len(t.domains) {
			return fmt.Errorf("page %d: no domain %d", p, e.Domain)
		}
		if mod := e.V == t.domains[e.Domain].V; mod != (onList[p] == 1) {
			return fmt.Errorf("page %d: v==V is %v but on modified list is %v", p, mod, onList[p] == 1)
		}
		if p == t.overflow {
			if got, ok := t.Find(e.ASID, e.VPN); ok {
				return fmt.Errorf("spare page %d: (%d, %#x) is page %d", p, e.ASID, e.VPN, got)
			}
		} else if got, ok := t.Find(e.ASID, e.VPN); !ok || got != p {
			return fmt.Errorf("page %d: lookup of (%d, %#x) gives %d, %v", p, e.ASID, e.VPN, got, ok)
		}
		if e.Written {
			written++
		}
		for m := range uint8(2) {
			mp := e.M[m]
			if mp.Frame != frames.NoFrame {
				if o := ft.Owner(mp.Frame); o != Owner(p, m) {
					op, om := FromOwner(o)
					return fmt.Errorf("page %d m[%d] has frame %d whose owner is page %d m[%d]", p, m, mp.Frame, op, om)
				}
				frameSeen++
			}
			if mp.Slot != disk.NoSlot {
				if !dk.InUse(mp.Slot) {
					return fmt.Errorf("page %d m[%d] has slot %d that is free", p, m, mp.Slot)
				}
				if q, dup := slotSeen[mp.Slot]; dup {
					return fmt.Errorf("slot %d belongs to pages %d and %d", mp.Slot, q, p)
				}
				slotSeen[mp.Slot] = p
			}
		}
	}
	if frameSeen != ft.Used() {
		return fmt.Errorf("%d frames mapped, %d in use", frameSeen, ft.Used())
	}
	if len(slotSeen) != dk.Used() {
		return fmt.Errorf("%d slots mapped, %d in use", len(slotSeen), dk.Used())
	}
	if written != t.written {
		return fmt.Errorf("%d pages written, counted %d", written, t.written)
	}
	return nil
}
