package scheme

import "fmt"

// PageIndex numbers pages densely, 0, 1, 2, ... in the order they are added, and finds a
// page's number without a Go map keyed by a struct (whose hashing dominated the schemes'
// per-access cost): an open-addressing table of numbers, tried after the page found last.
// A scheme keeps its per-page state in slices indexed by the number. The zero value is an
// empty index.
type PageIndex struct {
	// table is an open-addressing (linear probing) hash table of number + 1, 0 for an
	// empty slot. Invariant: len(table) is 0 or a power of two at least twice len(keys),
	// and holds every number once, at or after (cyclically) its key's home slot with no
	// empty slot between.
	table []int32
	// keys are the pages by number. Invariant: distinct.
	keys []Page
	// last is the number of the page found or added last (-1 or 0 with no keys: none),
	// tried before hashing.
	last int32
}

func (p Page) hash() uint64 {
	return (p.N ^ uint64(p.ASID)<<47 ^ uint64(p.ASID)>>17) * 0x9e3779b97f4a7c15
}

// slot returns the table slot of p: where its number is (id >= 0), or the empty slot
// where it goes (id == -1). Precondition: len(x.table) > 0.
func (x *PageIndex) slot(p Page) (slot uint64, id int32) {
	mask := uint64(len(x.table) - 1)
	for i := p.hash() >> 32 & mask; ; i = (i + 1) & mask {
		v := x.table[i]
		if v == 0 || x.keys[v-1] == p {
			return i, v - 1
		}
	}
}

// Find returns p's number, -1 if it was never added.
func (x *PageIndex) Find(p Page) int32 {
	if int(x.last) < len(x.keys) && x.keys[x.last] == p {
		return x.last
	}
	if len(x.keys) == 0 {
		return -1
	}
	_, id := x.slot(p)
	if id >= 0 {
		x.last = id
	}
	return id
}

// Add returns p's number, adding p (with the next number) if it is new, and whether it was.
func (x *PageIndex) Add(p Page) (id int32, added bool) {
	if int(x.last) < len(x.keys) && x.keys[x.last] == p {
		return x.last, false
	}
	if len(x.table) == 0 {
		x.table = make([]int32, 64)
	}
	slot, id := x.slot(p)
	if id < 0 {
		id, added = int32(len(x.keys)), true
		x.keys = append(x.keys, p)
		x.table[slot] = id + 1
		if 2*len(x.keys) > len(x.table) {
			x.grow()
		}
	}
	x.last = id
	return id, added
}

func (x *PageIndex) grow() {
	x.table = make([]int32, 2*len(x.table))
	for id, p := range x.keys {
		slot, _ := x.slot(p)
		x.table[slot] = int32(id) + 1
	}
}

// Len returns the number of pages added.
func (x *PageIndex) Len() int { return len(x.keys) }

// Key returns the page numbered id. Precondition: 0 <= id < Len().
func (x *PageIndex) Key(id int32) Page { return x.keys[id] }

// Clear drops every page; numbering starts again from 0.
func (x *PageIndex) Clear() {
	clear(x.table)
	x.keys, x.last = x.keys[:0], 0
}

// Check verifies the invariants from scratch.
func (x *PageIndex) Check() error {
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
		if _, got := x.slot(p); got != int32(id) {
			return fmt.Errorf("page index: page %+v (number %d) is found as %d", p, id, got)
		}
	}
	return nil
}
