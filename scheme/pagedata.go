package scheme

import (
	"cmp"
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/record"
)

// Page names a page of an address space: its number is the address / Machine.PageSize.
type Page struct {
	ASID record.ASID
	N    uint64
}

// Compare orders pages by address space, then by number: -1, 0 or 1.
func (p Page) Compare(q Page) int {
	switch {
	case p.ASID != q.ASID:
		return cmp.Compare(p.ASID, q.ASID)
	default:
		return cmp.Compare(p.N, q.N)
	}
}

// PageData is a sparse memory image in pages of verification stamps, one per block of
// Machine.VerifyBlock bytes, for a scheme that keeps its data itself (a memory image, a
// backup's copy). Its Image is the Scheme method of that name over it (a scheme whose
// memory is a PageData delegates to it); Load and Store copy blocks in and out. A page
// never written reads as the initial content (stamp 0). A "page" is any power-of-two unit of the image (a cache line, say).
//
// Pages are found through an open-addressing hash table of dense page ids, not a Go map
// keyed by Page: --verify reads the image on every access, and hashing a struct key was
// most of its cost.
type PageData struct {
	blocks int
	shift  uint
	pages  PageIndex
	// stamps holds the pages' stamps by number.
	// Invariant: len(stamps) == pages.Len(); every stamps[i] has length blocks.
	stamps [][]uint64
	// slab is what is left of the latest allocation of pages' stamps.
	slab []uint64
}

// pageDataSlab is how many pages' stamps PageData allocates at a time.
const pageDataSlab = 64

// NewPageData returns an empty image of pages of pageSize bytes in blocks of block bytes.
// Precondition: both are powers of two, block <= pageSize.
func NewPageData(pageSize, block uint64) *PageData {
	if block == 0 || pageSize%block != 0 || pageSize&(pageSize-1) != 0 || block&(block-1) != 0 {
		panic(fmt.Sprintf("scheme: NewPageData(%d, %d)", pageSize, block))
	}
	n := int(pageSize / block)
	return &PageData{blocks: n, shift: uint(bits.TrailingZeros64(uint64(n)))}
}

// Blocks returns the stamps a page holds.
func (d *PageData) Blocks() int { return d.blocks }

// Get returns page p's stamps, nil if it was never created. The slice is the image's own.
func (d *PageData) Get(p Page) []uint64 {
	if id := d.pages.Find(p); id >= 0 {
		return d.stamps[id]
	}
	return nil
}

// Page returns page p's stamps, creating the page (all 0) if need be.
func (d *PageData) Page(p Page) []uint64 {
	id, added := d.pages.Add(p)
	if added {
		if len(d.slab) == 0 {
			d.slab = make([]uint64, pageDataSlab*d.blocks)
		}
		d.stamps = append(d.stamps, d.slab[:d.blocks:d.blocks])
		d.slab = d.slab[d.blocks:]
	}
	return d.stamps[id]
}

// Read copies page p's stamps into dst (len Blocks), zeros for a page never created.
func (d *PageData) Read(p Page, dst []uint64) {
	if src := d.Get(p); src != nil {
		copy(dst, src)
	} else {
		clear(dst)
	}
}

// Clear drops every page.
func (d *PageData) Clear() {
	d.pages.Clear()
	d.stamps, d.slab = d.stamps[:0], nil
}

// Len returns the number of pages created.
func (d *PageData) Len() int { return d.pages.Len() }

// All calls f with every page and its stamps (the image's own), in the order the pages
// were created.
func (d *PageData) All(f func(p Page, stamps []uint64)) {
	for id, st := range d.stamps {
		f(d.pages.Key(int32(id)), st)
	}
}

// Load copies into dst the stamps of len(dst) blocks from block first of asid.
func (d *PageData) Load(asid record.ASID, first uint64, dst []uint64) {
	mask := uint64(d.blocks - 1)
	for i := 0; i < len(dst); {
		b := first + uint64(i)
		n := min(len(dst)-i, d.blocks-int(b&mask)) // blocks left in this page
		if m := d.Get(Page{asid, b >> d.shift}); m != nil {
			copy(dst[i:i+n], m[b&mask:])
		} else {
			clear(dst[i : i+n])
		}
		i += n
	}
}

// Image returns page n of asid's stamps (the image's own), nil if it was never created
// unless create, which creates it (all 0): Scheme.Image over the image.
func (d *PageData) Image(asid record.ASID, n uint64, create bool) []uint64 {
	if create {
		return d.Page(Page{asid, n})
	}
	return d.Get(Page{asid, n})
}

// Store writes src into len(src) blocks from block first of asid.
func (d *PageData) Store(asid record.ASID, first uint64, src []uint64) {
	mask := uint64(d.blocks - 1)
	for i := 0; i < len(src); {
		b := first + uint64(i)
		n := min(len(src)-i, d.blocks-int(b&mask))
		copy(d.Page(Page{asid, b >> d.shift})[b&mask:], src[i:i+n])
		i += n
	}
}

// Check verifies the invariants from scratch.
func (d *PageData) Check() error {
	if err := d.pages.Check(); err != nil {
		return err
	}
	if d.pages.Len() != len(d.stamps) {
		return fmt.Errorf("%d pages but %d pages of stamps", d.pages.Len(), len(d.stamps))
	}
	for id, st := range d.stamps {
		if len(st) != d.blocks {
			return fmt.Errorf("page %+v holds %d stamps, want %d", d.pages.Key(int32(id)), len(st), d.blocks)
		}
	}
	return nil
}
