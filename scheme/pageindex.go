package scheme

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/internal/grow"
)

// PageIndex numbers pages densely, 0, 1, 2, ... in the order they are added, and finds a
// page's number without a Go map keyed by a struct (whose hashing dominated the schemes'
// per-access cost): an open-addressing table of numbers, behind a small direct-mapped
// cache of pages found recently (a program alternates between its code, stack and data
// pages, so the page found last alone is the one wanted in under half the accesses). A
// scheme keeps its per-page state in slices indexed by the number; used as a set, it marks
// pages without a map (DirtySet). It is the one index of (address space, page) in vmsim: the
// schemes, the page table, the backup images and the trace summary number their pages with
// it. It holds at most the budget set with SetMax (Machine.MaxPages): Add refuses a page
// beyond it. The zero value is an empty index without a budget. A PageIndex must not be
// copied once used: the copies would share one cache.
type PageIndex struct {
	// table is an open-addressing (linear probing) hash table of number + 1, 0 for an
	// empty slot. Invariant: len(table) is 0 or a power of two at least twice len(keys),
	// and holds every number once, at or after (cyclically) its key's home slot with no
	// empty slot between.
	table []int32
	// keys are the pages by number. Invariant: distinct.
	keys []Page
	// recent caches table by the top bits of the page's hash (the low bits of page numbers
	// collide: on gcc, 7% of accesses missed a cache indexed by them, 1.6% one indexed by
	// the hash, 0.3% being first touches). It remembers pages found absent too (a
	// scheme's image of written pages is asked for pages only ever read). Invariant: an
	// entry with gen == the index's gen holds the key of page number id1-1 (id1 > 0), or
	// of a page not in the index (id1 == 0); any other entry is empty.
	recent *[pageRecent]pageRecentEntry
	// gen is the generation of recent's valid entries: Clear empties recent by moving to
	// the next, not by rewriting every entry. Invariant: gen > 0 once recent is allocated.
	gen uint32
	// max is the budget: the most pages the index holds (0: no bound).
	// Invariant: max >= 0; max == 0 || len(keys) <= max.
	max int
}

// pageRecent is the number of entries of PageIndex.recent.
const (
	pageRecentBits = 10
	pageRecent     = 1 << pageRecentBits
)

type pageRecentEntry struct {
	key Page
	id1 int32
	gen uint32
}

// cached returns p's hash, its entry in x.recent (allocating recent on first use) and
// whether the entry holds p.
func (x *PageIndex) cached(p Page) (h uint64, e *pageRecentEntry, hit bool) {
	if x.recent == nil {
		x.recent, x.gen = new([pageRecent]pageRecentEntry), 1
	}
	h = p.hash()
	e = &x.recent[h>>(64-pageRecentBits)]
	return h, e, e.gen == x.gen && e.key == p
}

func (p Page) hash() uint64 {
	return (p.N ^ uint64(p.ASID)<<47 ^ uint64(p.ASID)>>17) * 0x9e3779b97f4a7c15
}

// slot returns the table slot of p, whose hash is h: where its number is (id >= 0), or the
// empty slot where it goes (id == -1). Precondition: len(x.table) > 0.
func (x *PageIndex) slot(p Page, h uint64) (slot uint64, id int32) {
	mask := uint64(len(x.table) - 1)
	for i := h >> 32 & mask; ; i = (i + 1) & mask {
		v := x.table[i]
		if v == 0 || x.keys[v-1] == p {
			return i, v - 1
		}
	}
}

// Find returns p's number, -1 if it was never added.
func (x *PageIndex) Find(p Page) int32 {
	h, e, hit := x.cached(p)
	if hit {
		return e.id1 - 1
	}
	if len(x.keys) == 0 {
		return -1
	}
	_, id := x.slot(p, h)
	*e = pageRecentEntry{p, id + 1, x.gen}
	return id
}

// SetMax bounds the pages the index holds to max (0: no bound), the budget Add enforces.
// Precondition: max >= 0, and max == 0 or the index holds at most max pages.
func (x *PageIndex) SetMax(max int) {
	if max < 0 || max > 0 && len(x.keys) > max {
		panic(fmt.Sprintf("scheme: PageIndex.SetMax(%d) with %d pages", max, len(x.keys)))
	}
	x.max = max
}

// Max returns the budget (0: no bound).
func (x *PageIndex) Max() int { return x.max }

// Add returns p's number, adding p (with the next number) if it is new, and whether it was.
// When p is new and the index already holds its budget (SetMax), p is not added and Add
// returns -1, false.
func (x *PageIndex) Add(p Page) (id int32, added bool) {
	h, e, hit := x.cached(p)
	if hit && e.id1 > 0 {
		return e.id1 - 1, false
	}
	if len(x.table) == 0 {
		x.table = make([]int32, 64)
	}
	slot, id := x.slot(p, h)
	if id < 0 {
		if x.max > 0 && len(x.keys) >= x.max {
			*e = pageRecentEntry{p, 0, x.gen} // absent
			return -1, false
		}
		id, added = int32(len(x.keys)), true
		x.keys = grow.Append(x.keys, p)
		x.table[slot] = id + 1
		if 2*len(x.keys) > len(x.table) {
			x.grow()
		}
	}
	*e = pageRecentEntry{p, id + 1, x.gen}
	return id, added
}

func (x *PageIndex) grow() {
	x.table = make([]int32, 2*len(x.table))
	for id, p := range x.keys {
		slot, _ := x.slot(p, p.hash())
		x.table[slot] = int32(id) + 1
	}
}

// Len returns the number of pages added.
func (x *PageIndex) Len() int { return len(x.keys) }

// Key returns the page numbered id. Precondition: 0 <= id < Len().
func (x *PageIndex) Key(id int32) Page { return x.keys[id] }

// Pages returns the pages by number. The slice is the index's own: read it, do not
// modify it; it is valid until the next Add or Clear.
func (x *PageIndex) Pages() []Page { return x.keys }

// Sorted returns the pages in order (Page.Compare), in buf's storage.
func (x *PageIndex) Sorted(buf []Page) []Page {
	buf = append(buf[:0], x.keys...)
	slices.SortFunc(buf, Page.Compare)
	return buf
}

// Clear drops every page; numbering starts again from 0. The budget stays.
func (x *PageIndex) Clear() {
	clear(x.table)
	if x.recent != nil {
		x.gen++
		if x.gen == 0 { // wrapped: entries of generation 1 could look valid again
			clear(x.recent[:])
			x.gen = 1
		}
	}
	x.keys = x.keys[:0]
}

// Check verifies the invariants from scratch.
func (x *PageIndex) Check() error {
	if x.max < 0 || x.max > 0 && len(x.keys) > x.max {
		return fmt.Errorf("page index: %d pages, budget %d", len(x.keys), x.max)
	}
	if n := len(x.table); n&(n-1) != 0 || n < 2*len(x.keys) {
		return fmt.Errorf("page index: %d slots for %d pages", n, len(x.keys))
	}
	used := 0
	for _, v := range x.table {
		if v != 0 {
			used++
		}
	}
	if used != len(x.keys) {
		return fmt.Errorf("page index: %d numbers in the table for %d pages", used, len(x.keys))
	}
	for id, p := range x.keys {
		if _, got := x.slot(p, p.hash()); got != int32(id) {
			return fmt.Errorf("page index: page %+v (number %d) is found as %d", p, id, got)
		}
	}
	if x.recent != nil {
		if x.gen == 0 {
			return fmt.Errorf("page index: cache of generation 0")
		}
		for _, e := range x.recent {
			if e.gen != x.gen {
				continue
			}
			var want int32 = -1
			if len(x.table) > 0 {
				_, want = x.slot(e.key, e.key.hash())
			}
			if e.id1-1 != want {
				return fmt.Errorf("page index: page %+v is cached as number %d, has %d", e.key, e.id1-1, want)
			}
		}
	}
	return nil
}
