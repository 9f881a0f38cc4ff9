package coherence

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/cache"
)

// directory maps the lines some cache holds to their entries: an open-addressing hash
// table with linear probing, deleting by backward shift (no tombstones), doubled when
// half full. Since it holds only lines some cache holds, it stops growing at twice the
// caches' lines at most, however long the trace.
//
// Invariant: len(slots) is a power of two, 1<<(64-shift), and n < len(slots)/2 + 1; a
// slot is empty exactly when its entry's sharers is 0; every line is in at most one slot,
// reachable from its home slot (hash) without crossing an empty slot.
type directory struct {
	slots []slot
	shift uint // 64 - log2(len(slots))
	n     int  // slots in use
}

type slot struct {
	line cache.Line
	entry
}

const minSlots = 1 << 10

func newDirectory() directory {
	return directory{slots: make([]slot, minSlots), shift: 64 - uint(bits.TrailingZeros(minSlots))}
}

// home is l's first slot (Fibonacci hashing of its number and address space).
func (d *directory) home(l cache.Line) int {
	return int((l.N ^ uint64(l.ASID)<<40) * 0x9E3779B97F4A7C15 >> d.shift)
}

// find returns l's slot, or -1.
func (d *directory) find(l cache.Line) int {
	mask := len(d.slots) - 1
	for i := d.home(l); ; i = (i + 1) & mask {
		s := &d.slots[i]
		if s.sharers == 0 {
			return -1
		}
		if s.line == l {
			return i
		}
	}
}

// get returns l's entry: sharers 0 when no cache holds l.
func (d *directory) get(l cache.Line) entry {
	if i := d.find(l); i >= 0 {
		return d.slots[i].entry
	}
	return entry{}
}

// set makes l's entry e; sharers 0 removes it.
func (d *directory) set(l cache.Line, e entry) {
	if e.sharers == 0 {
		if i := d.find(l); i >= 0 {
			d.remove(i)
		}
		return
	}
	mask := len(d.slots) - 1
	i := d.home(l)
	for ; d.slots[i].sharers != 0; i = (i + 1) & mask {
		if d.slots[i].line == l {
			d.slots[i].entry = e
			return
		}
	}
	d.slots[i] = slot{line: l, entry: e}
	if d.n++; d.n > len(d.slots)/2 {
		d.grow()
	}
}

// remove empties slot i, shifting back the slots after it that the hole would cut off
// from their home.
func (d *directory) remove(i int) {
	mask := len(d.slots) - 1
	d.n--
	for j := (i + 1) & mask; d.slots[j].sharers != 0; j = (j + 1) & mask {
		// The line at j may fill the hole at i if its home is not in (i, j], cyclically.
		if h := d.home(d.slots[j].line); (j-h)&mask >= (j-i)&mask {
			d.slots[i] = d.slots[j]
			i = j
		}
	}
	d.slots[i] = slot{}
}

// grow doubles the table.
func (d *directory) grow() {
	old := d.slots
	d.slots = make([]slot, 2*len(old))
	d.shift--
	d.n = 0
	for _, s := range old {
		if s.sharers != 0 {
			d.set(s.line, s.entry)
		}
	}
}

// clear removes every line.
func (d *directory) clear() {
	clear(d.slots)
	d.n = 0
}

// check verifies the table's invariants from scratch.
func (d *directory) check() error {
	size := len(d.slots)
	if size < minSlots || size&(size-1) != 0 || 64-d.shift != uint(bits.TrailingZeros(uint(size))) {
		return fmt.Errorf("coherence: a directory of %d slots, shift %d", size, d.shift)
	}
	n := 0
	mask := size - 1
	for i, s := range d.slots {
		if s.sharers == 0 {
			continue
		}
		n++
		for j := d.home(s.line); j != i; j = (j + 1) & mask {
			if d.slots[j].sharers == 0 {
				return fmt.Errorf("coherence: line %d:%#x in directory slot %d, cut off from its home slot %d by an empty slot %d", s.line.ASID, s.line.N, i, d.home(s.line), j)
			}
			if d.slots[j].line == s.line {
				return fmt.Errorf("coherence: line %d:%#x in directory slots %d and %d", s.line.ASID, s.line.N, j, i)
			}
		}
	}
	if n != d.n || n > size/2 {
		return fmt.Errorf("coherence: %d directory slots in use, counted %d, of %d", n, d.n, size)
	}
	return nil
}
