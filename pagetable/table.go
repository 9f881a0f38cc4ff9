package pagetable

import (
	"fmt"

	"github.com/vmsim/vmsim/disk"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/traces"
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
	ASID    traces.ASID
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

// chunkBits is log2 of the PTEs per lookup chunk.
const chunkBits = 9

// chunk maps the VPNs of one aligned run to PageID+1 (0: no PTE yet).
type chunk [1 << chunkBits]PageID

// space is one address space's part of the lookup structure.
type space struct {
	domain    DomainID
	chunks    map[VPN]*chunk
	lastKey   VPN
	lastChunk *chunk
}

// tlbBits is log2 of the entries of the lookup cache.
const tlbBits = 13

// tlbEntry caches one translation of (asid, vpn) to a PageID.
type tlbEntry struct {
	vpn  VPN
	asid traces.ASID
	id   PageID // PageID+1; 0 marks an empty entry
}

// Table is the page table of every address space, and the checkpoint domains.
type Table struct {
	// tlb is a direct-mapped cache in front of the lookup maps. PTEs are never removed,
	// so an entry never goes stale. Invariant: a non-empty entry maps to its PTE.
	tlb       [1 << tlbBits]tlbEntry
	ptes      []PTE
	spaces    map[traces.ASID]*space
	lastASID  traces.ASID
	last      *space
	domains   []Domain
	vmax      uint32
	perASID   bool
	written   int
	ckptTotal int
}

// New returns an empty page table whose checkpoint numbers have vbits bits (1..31), with
// one domain for the whole system, or one per address space when perASID.
func New(vbits int, perASID bool) *Table {
	if vbits < 1 || vbits > 31 {
		panic(fmt.Sprintf("pagetable: vbits %d out of range 1..31", vbits))
	}
	t := &Table{spaces: map[traces.ASID]*space{}, vmax: 1<<vbits - 1, perASID: perASID}
	if !perASID {
		t.domains = append(t.domains, Domain{V: 1})
	}
	return t
}

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
func (t *Table) DomainOf(asid traces.ASID) DomainID { return t.space(asid).domain }

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

func (t *Table) space(asid traces.ASID) *space {
	if t.last != nil && asid == t.lastASID {
		return t.last
	}
	s := t.spaces[asid]
	if s == nil {
		s = &space{chunks: map[VPN]*chunk{}, lastKey: ^VPN(0)}
		if t.perASID {
			s.domain = DomainID(len(t.domains))
			t.domains = append(t.domains, Domain{V: 1})
		}
		t.spaces[asid] = s
	}
	t.last, t.lastASID = s, asid
	return s
}

// Lookup returns the PTE of (asid, vpn), creating it (not resident, v = 0) on first touch.
func (t *Table) Lookup(asid traces.ASID, vpn VPN) PageID {
	te := &t.tlb[(uint64(vpn)^uint64(asid)<<7)&(1<<tlbBits-1)]
	if te.vpn == vpn && te.asid == asid && te.id != 0 {
		return te.id - 1
	}
	p := t.lookup(asid, vpn)
	*te = tlbEntry{vpn, asid, p + 1}
	return p
}

func (t *Table) lookup(asid traces.ASID, vpn VPN) PageID {
	s := t.last
	if s == nil || asid != t.lastASID {
		s = t.space(asid)
	}
	key := vpn >> chunkBits
	c := s.lastChunk
	if key != s.lastKey {
		c = s.chunks[key]
		if c == nil {
			c = new(chunk)
			s.chunks[key] = c
		}
		s.lastKey, s.lastChunk = key, c
	}
	if id := c[vpn&(1<<chunkBits-1)]; id != 0 {
		return id - 1
	}
	p := PageID(len(t.ptes))
	t.ptes = append(t.ptes, PTE{
		M:       [2]Mapping{{frames.NoFrame, disk.NoSlot}, {frames.NoFrame, disk.NoSlot}},
		NextUse: frames.NeverUsed,
		VPN:     vpn,
		ASID:    asid,
		Domain:  s.domain,
	})
	c[vpn&(1<<chunkBits-1)] = p + 1
	d := &t.domains[s.domain]
	d.Pages = append(d.Pages, p)
	return p
}

// Find returns the PTE of (asid, vpn) without creating it.
func (t *Table) Find(asid traces.ASID, vpn VPN) (PageID, bool) {
	s := t.spaces[asid]
	if s == nil {
		return 0, false
	}
	c := s.chunks[vpn>>chunkBits]
	if c == nil || c[vpn&(1<<chunkBits-1)] == 0 {
		return 0, false
	}
	return c[vpn&(1<<chunkBits-1)] - 1, true
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
	ASID  traces.ASID
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
		if got, ok := t.Find(e.ASID, e.VPN); !ok || got != p {
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
