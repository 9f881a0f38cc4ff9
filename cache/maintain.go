package cache

import (
	"fmt"
	"iter"

	"github.com/vmsim/vmsim/record"
)

// Demote makes line l clean without writing it back and, with invalidate, drops it from
// the cache: what a coherence protocol does to a copy that another core's access
// downgrades or invalidates (the caller moves the line's data, from Data, first). It calls
// no Memory method, and returns whether l was cached and whether it was dirty.
func (c *Cache) Demote(l Line, invalidate bool) (valid, dirty bool) {
	i := c.lookup(l)
	if i < 0 {
		return false, false
	}
	dirty = c.dirty[i]
	c.dirty[i] = false
	if invalidate {
		c.invalidate(i)
		c.reorder(l.N & c.setMask)
	}
	return true, dirty
}

// Lines yields every line the cache holds and whether it is dirty, in set and way order.
// The cache must not change during the iteration.
func (c *Cache) Lines() iter.Seq2[Line, bool] {
	return func(yield func(Line, bool) bool) {
		for i, k := range c.keys {
			if k != 0 && !yield(c.lines[i], c.dirty[i]) {
				return
			}
		}
	}
}

// Flush writes every dirty line back to memory, in set and way order, counting them in
// FlushLines; with invalidate it also empties the cache (WBINVD), otherwise the lines stay,
// clean (WBNOINVD). It returns the number of lines written back.
func (c *Cache) Flush(invalidate bool) int64 {
	var n int64
	for i := range c.keys {
		if c.dirty[i] {
			var data []uint64
			if c.blocks > 0 {
				data = c.data[i*c.blocks : (i+1)*c.blocks]
			}
			c.mem.WriteBack(c.lines[i], data)
			c.dirty[i] = false
			n++
		}
		if invalidate {
			c.invalidate(i)
		}
	}
	if invalidate {
		c.resetOrder()
		c.lastN = noLine
	}
	c.C.Writebacks += n
	c.C.FlushLines += n
	return n
}

// Discard empties the cache of every line for which keep returns false, without writing
// anything back: what a rollback or a crash does to lines whose data is no longer wanted.
// keep may be nil (discard everything).
func (c *Cache) Discard(keep func(record.ASID) bool) {
	for s := uint64(0); s <= c.setMask; s++ {
		base, dropped := int(s)*c.nways, false
		for i := base; i < base+c.nways; i++ {
			if c.keys[i] != 0 && (keep == nil || !keep(c.lines[i].ASID)) {
				c.invalidate(i)
				dropped = true
			}
		}
		if dropped {
			c.reorder(s)
		}
	}
}

// Dirty returns how many lines are dirty now.
func (c *Cache) Dirty() int64 {
	var n int64
	for _, d := range c.dirty {
		if d {
			n++
		}
	}
	return n
}

// Check verifies the invariants from scratch.
func (c *Cache) Check() error {
	for s := uint64(0); s <= c.setMask; s++ {
		base := int(s) * c.nways
		for w := range c.nways {
			i := base + w
			x, k := c.lines[i], c.keys[i]
			if c.tags != nil {
				want := uint64(0)
				if k != 0 {
					want = tagByte(k, c.keyShift)
				}
				if got := c.tags[s] >> (8 * w) & 0xff; got != want {
					return fmt.Errorf("cache: set %d way %d has tag byte %#x, its key %#x wants %#x", s, w, got, k, want)
				}
			}
			switch {
			case c.dirty[i] && k == 0:
				return fmt.Errorf("cache: set %d way %d is dirty but invalid", s, w)
			case k == 0 && x != Line{}:
				return fmt.Errorf("cache: set %d way %d is invalid but holds line %#x", s, w, x.N)
			case k == 0:
				continue
			case x.N&c.setMask != s:
				return fmt.Errorf("cache: line %#x in set %d", x.N, s)
			}
			slot, ok := c.slots[x.ASID]
			if !ok || slot > c.overflow {
				return fmt.Errorf("cache: line %#x of address space %d, which has no slot (%d of %d)", x.N, x.ASID, slot, c.overflow)
			}
			if want := x.N>>c.setShift<<c.keyShift | slot; k != want {
				return fmt.Errorf("cache: set %d way %d: key %#x for line %#x of address space %d, want %#x", s, w, k, x.N, x.ASID, want)
			}
			for j := base; j < i; j++ {
				if c.keys[j] != 0 && c.lines[j] == x {
					return fmt.Errorf("cache: line %#x twice in set %d", x.N, s)
				}
			}
		}
		if err := c.checkOrder(s); err != nil {
			return err
		}
	}
	if c.lastN != noLine {
		if i := c.lastI; i < 0 || i >= len(c.keys) || c.keys[i] == 0 || c.lines[i] != (Line{ASID: c.lastASID, N: c.lastN}) {
			return fmt.Errorf("cache: the line referenced last, %#x of address space %d, is not in way %d", c.lastN, c.lastASID, i)
		}
		if c.order != nil && int(c.order[c.lastN&c.setMask]&15) != c.lastI%c.nways {
			return fmt.Errorf("cache: the line referenced last, %#x, is not its set's most recently used", c.lastN)
		}
	}
	if s, ok := c.slots[c.slotASID]; !ok || s != c.slot {
		return fmt.Errorf("cache: address space %d's slot remembered as %d, is %d", c.slotASID, c.slot, s)
	}
	return nil
}
