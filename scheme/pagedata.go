package scheme

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"github.com/vmsim/vmsim/traces"
)

// Page names a page of an address space: its number is the address / Machine.PageSize.
type Page struct {
	ASID traces.ASID
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

// MarkPages adds pages first..last of asid to set and returns how many were not in it
// already (for a scheme that traps the first write of a page since its checkpoint).
func MarkPages(set map[Page]struct{}, asid traces.ASID, first, last uint64) (added int64) {
	for n := first; ; n++ {
		p := Page{ASID: asid, N: n}
		if _, ok := set[p]; !ok {
			set[p] = struct{}{}
			added++
		}
		if n == last {
			return added
		}
	}
}

// SortedPages returns the pages of set in order (Page.Compare), in buf's storage.
func SortedPages(set map[Page]struct{}, buf []Page) []Page {
	buf = buf[:0]
	for p := range set {
		buf = append(buf, p)
	}
	slices.SortFunc(buf, Page.Compare)
	return buf
}

// PageData is a sparse memory image in pages of verification stamps, one per block of
// Machine.VerifyBlock bytes, for a scheme that keeps its data itself (a memory image, a
// backup's copy). Its Load and Store are the Scheme methods of the same names over it;
// a page never written reads as the initial content (stamp 0).
//
// Invariant: every page holds exactly Blocks stamps.
type PageData struct {
	blocks int
	shift  uint
	pages  map[Page][]uint64
}

// NewPageData returns an empty image of pages of pageSize bytes in blocks of block bytes.
// Precondition: both are powers of two, block <= pageSize.
func NewPageData(pageSize, block uint64) *PageData {
	if block == 0 || pageSize%block != 0 {
		panic(fmt.Sprintf("scheme: NewPageData(%d, %d)", pageSize, block))
	}
	n := int(pageSize / block)
	return &PageData{blocks: n, shift: uint(bits.TrailingZeros64(uint64(n))), pages: map[Page][]uint64{}}
}

// Blocks returns the stamps a page holds.
func (d *PageData) Blocks() int { return d.blocks }

// Get returns page p's stamps, nil if it was never created. The slice is the image's own.
func (d *PageData) Get(p Page) []uint64 { return d.pages[p] }

// Page returns page p's stamps, creating the page (all 0) if need be.
func (d *PageData) Page(p Page) []uint64 {
	b := d.pages[p]
	if b == nil {
		b = make([]uint64, d.blocks)
		d.pages[p] = b
	}
	return b
}

// Read copies page p's stamps into dst (len Blocks), zeros for a page never created.
func (d *PageData) Read(p Page, dst []uint64) {
	if src := d.pages[p]; src != nil {
		copy(dst, src)
	} else {
		clear(dst)
	}
}

// Clear drops every page.
func (d *PageData) Clear() { clear(d.pages) }

// Len returns the number of pages created.
func (d *PageData) Len() int { return len(d.pages) }

// Load copies into dst the stamps of len(dst) blocks from block first of asid.
func (d *PageData) Load(asid traces.ASID, first uint64, dst []uint64) {
	mask := uint64(d.blocks - 1)
	for i := range dst {
		b := first + uint64(i)
		if m := d.pages[Page{asid, b >> d.shift}]; m != nil {
			dst[i] = m[b&mask]
		} else {
			dst[i] = 0
		}
	}
}

// PageStamps returns page n of asid's stamps, nil if it was never created: the
// StampView method over the image.
func (d *PageData) PageStamps(asid traces.ASID, n uint64) []uint64 { return d.pages[Page{asid, n}] }

// Store writes src into len(src) blocks from block first of asid.
func (d *PageData) Store(asid traces.ASID, first uint64, src []uint64) {
	mask := uint64(d.blocks - 1)
	for i, v := range src {
		b := first + uint64(i)
		d.Page(Page{asid, b >> d.shift})[b&mask] = v
	}
}

// Check verifies the invariant from scratch.
func (d *PageData) Check() error {
	for p, b := range d.pages {
		if len(b) != d.blocks {
			return fmt.Errorf("page %+v holds %d stamps, want %d", p, len(b), d.blocks)
		}
	}
	return nil
}
