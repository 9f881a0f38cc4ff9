package coord

import (
	"fmt"
	"iter"
	"math/bits"

	"github.com/vmsim/vmsim/cache"
)

// lineTable maps lines to what the memory controller keeps of them (lineMeta): an
// open-addressing hash table with linear probing, deleting by backward shift (no
// tombstones), doubled when half full, as the coherence directory is (a Go map keyed by
// line was a tenth of rebound's time in BenchmarkCoord's profile).
//
// Invariant: len(slots) is a power of two, 1<<(64-shift), and n <= len(slots)/2 is the
// number of used slots; every line is in at most one slot, reachable from its home slot
// without crossing an unused slot.
type lineTable struct {
	slots []lineSlot
	shift uint
	n     int
}

type lineSlot struct {
	line cache.Line
	used bool
	meta lineMeta
}

const minLineSlots = 1 << 10

func newLineTable() lineTable {
	return lineTable{slots: make([]lineSlot, minLineSlots), shift: 64 - uint(bits.TrailingZeros(minLineSlots))}
}

// home is l's first slot (Fibonacci hashing of its number and address space).
func (t *lineTable) home(l cache.Line) int {
	return int((l.N ^ uint64(l.ASID)<<40) * 0x9E3779B97F4A7C15 >> t.shift)
}

// find returns l's slot, or -1.
func (t *lineTable) find(l cache.Line) int {
	mask := len(t.slots) - 1
	for i := t.home(l); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if !s.used {
			return -1
		}
		if s.line == l {
			return i
		}
	}
}

// lookup returns l's entry, nil if l has none. The pointer is valid until the next ref or
// remove.
func (t *lineTable) lookup(l cache.Line) *lineMeta {
	if i := t.find(l); i >= 0 {
		return &t.slots[i].meta
	}
	return nil
}

// ref returns l's entry, made with init if l had none. The pointer is valid until the
// next ref or remove.
func (t *lineTable) ref(l cache.Line, init lineMeta) *lineMeta {
	if t.n+1 > len(t.slots)/2 {
		t.grow()
	}
	mask := len(t.slots) - 1
	i := t.home(l)
	for ; t.slots[i].used; i = (i + 1) & mask {
		if t.slots[i].line == l {
			return &t.slots[i].meta
		}
	}
	t.slots[i] = lineSlot{line: l, used: true, meta: init}
	t.n++
	return &t.slots[i].meta
}

// remove deletes l's entry, if any.
func (t *lineTable) remove(l cache.Line) {
	i := t.find(l)
	if i < 0 {
		return
	}
	mask := len(t.slots) - 1
	t.n--
	for j := (i + 1) & mask; t.slots[j].used; j = (j + 1) & mask {
		// The line at j may fill the hole at i if its home is not in (i, j], cyclically.
		if h := t.home(t.slots[j].line); (j-h)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = lineSlot{}
}

func (t *lineTable) grow() {
	old := t.slots
	t.slots = make([]lineSlot, 2*len(old))
	t.shift--
	t.n = 0
	for _, s := range old {
		if s.used {
			*t.ref(s.line, s.meta) = s.meta
		}
	}
}

// len returns the number of lines with an entry.
func (t *lineTable) len() int { return t.n }

// all yields every line's entry, in slot order. The table must not change meanwhile.
func (t *lineTable) all() iter.Seq2[cache.Line, lineMeta] {
	return func(yield func(cache.Line, lineMeta) bool) {
		for _, s := range t.slots {
			if s.used && !yield(s.line, s.meta) {
				return
			}
		}
	}
}

// check verifies the table's invariants from scratch.
func (t *lineTable) check() error {
	size := len(t.slots)
	if size < minLineSlots || size&(size-1) != 0 || 64-t.shift != uint(bits.TrailingZeros(uint(size))) {
		return fmt.Errorf("coord: a line table of %d slots, shift %d", size, t.shift)
	}
	n, mask := 0, size-1
	for i, s := range t.slots {
		if !s.used {
			continue
		}
		n++
		for j := t.home(s.line); j != i; j = (j + 1) & mask {
			if !t.slots[j].used {
				return fmt.Errorf("coord: line %d:%#x in slot %d, cut off from its home slot %d by an unused slot %d", s.line.ASID, s.line.N, i, t.home(s.line), j)
			}
			if t.slots[j].line == s.line {
				return fmt.Errorf("coord: line %d:%#x in slots %d and %d", s.line.ASID, s.line.N, j, i)
			}
		}
	}
	if n != t.n || n > size/2 {
		return fmt.Errorf("coord: %d line slots in use, counted %d, of %d", n, t.n, size)
	}
	return nil
}
