package cache

import (
	"math/bits"

	"github.com/vmsim/vmsim/record"
)

// AccessRecords references, in order, every line that each access of recs covers, as
// Access does (an access of size 0 covers its address's line).
func (c *Cache) AccessRecords(recs []record.Record) { c.records(recs, false) }

// HitRecords performs, as AccessRecords, the accesses of recs up to the first that does
// not hit in every line it covers, or writes a clean line with a Snooper behind the cache,
// and returns how many it performed: the memory hears of none of them.
func (c *Cache) HitRecords(recs []record.Record) int { return c.records(recs, true) }

// records is AccessRecords, or with hitsOnly HitRecords: hits performs the accesses up to
// the first that it leaves to record.
func (c *Cache) records(recs []record.Record, hitsOnly bool) int {
	for k := 0; k < len(recs); k++ {
		if k += c.hits(recs[k:], !hitsOnly); k == len(recs) {
			break
		}
		if !c.record(&recs[k], hitsOnly) {
			return k
		}
	}
	return len(recs)
}

// hits performs the accesses of recs up to the first that is not a hit (with misses, a hit
// or a miss) in one line of the address space whose slot it looked up last (a slot of its
// own), in a set of 8 ways, telling the memory nothing but a miss's fill and write-back (a
// write to a clean line with a Snooper behind the cache tells it), and returns how many it
// performed: 0 for another geometry. It is the cache's hot loop, written out with few calls
// and few values, so that they stay in registers: a key is the address less its offset and
// set bits, with the slot in those bits.
func (c *Cache) hits(recs []record.Record, misses bool) int {
	if c.nways != 8 || c.slot == c.overflow {
		return 0
	}
	shift, lineMask, setMask := c.lineShift&63, uint64(1)<<(c.lineShift&63)-1, c.setMask
	keyMask, asid, slot := uint64(1)<<(c.keyShift&63)-1, c.slotASID, c.slot
	keys, order, tags, keyShift := c.keys, c.order, c.tags, c.keyShift&63
	lastN, lastI := c.lastN, c.lastI
	if c.lastASID != asid {
		lastN = noLine
	}
	k, done := 0, 0 // done: the accesses counted in C.Refs already
	for ; k < len(recs); k++ {
		r := &recs[k]
		// One line of asid's: the offset in its line plus the size less 1 (none for a
		// size of 0) within the line.
		if uint64(r.Size)-1 > lineMask-r.Addr&lineMask || r.ASID != asid {
			break
		}
		n := r.Addr >> shift
		if n != lastN {
			s := n & setMask
			key := r.Addr&^keyMask | slot
			// The ways whose tag byte is key's (0x80 in each byte of t that is 0), each
			// compared in full: one, the hit, nearly always (a branch that is predicted,
			// where comparing the 8 keys in turn mispredicts about once a lookup).
			t := tags[s] ^ tagByte(key, keyShift)*lowBytes
			m := ^((t&low7Bytes + low7Bytes) | t | low7Bytes)
			w := uint64(8)
			for ; m != 0; m &= m - 1 {
				if v := uint64(bits.TrailingZeros64(m)) >> 3; keys[s*8+v&7] == key {
					w = v
					break
				}
			}
			if w == 8 {
				if !misses {
					break
				}
				// A miss, as Access performs it (refs counted first, the memory may look).
				c.C.Refs += int64(k-done) + 1
				done = k + 1
				c.miss(s, int(s*8), key, Line{ASID: asid, N: n}, r.Kind.Writes())
				lastN, lastI = c.lastN, c.lastI
				if c.slotASID != asid {
					// The memory referenced another address space's line in this cache: the
					// state is the cache's own now.
					return k + 1
				}
				continue
			}
			if r.Kind.Writes() && c.snoop != nil && !c.dirty[s*8+w] {
				break
			}
			// w first in the set's order, as first does (written out on the loop's locals).
			o := order[s]
			x := o ^ w*nibbles
			b := uint(bits.TrailingZeros64((x-nibbles)&^x&(8*nibbles))) &^ 3
			order[s] = o>>(b+4)<<(b+4) | (o&(1<<b-1))<<4 | w
			lastN, lastI = n, int(s*8+w)
		} else if r.Kind.Writes() && c.snoop != nil && !c.dirty[lastI] {
			break
		}
		if r.Kind.Writes() {
			c.dirty[lastI] = true
		}
	}
	c.C.Refs += int64(k - done)
	if k > 0 {
		c.lastN, c.lastASID, c.lastI = lastN, asid, lastI
	}
	return k
}

// record performs access r as AccessRecords does, or with hitsOnly only if every line it
// covers hits (as HitRecords), and reports whether it performed it.
func (c *Cache) record(r *record.Record, hitsOnly bool) bool {
	write := r.Kind.Writes()
	n := r.Addr >> (c.lineShift & 63)
	last := (r.Addr + uint64(max(r.Size, 1)) - 1) >> (c.lineShift & 63)
	if hitsOnly && !c.hitsAll(r.ASID, n, last, write) {
		return false
	}
	for ; ; n++ {
		if hitsOnly {
			c.tryHit(r.ASID, n, write)
		} else {
			c.Access(Line{ASID: r.ASID, N: n}, write)
		}
		if n == last {
			return true
		}
	}
}

// hitsAll reports whether every line from first to last of asid is cached and, for a
// write with a Snooper behind the cache, dirty.
func (c *Cache) hitsAll(asid record.ASID, first, last uint64, write bool) bool {
	for n := first; ; n++ {
		if i := c.lookup(Line{asid, n}); i < 0 || write && !c.dirty[i] && c.snoop != nil {
			return false
		}
		if n == last {
			return true
		}
	}
}

// tryHit references line n of asid if it hits without telling the memory anything, and
// reports whether it did.
func (c *Cache) tryHit(asid record.ASID, n uint64, write bool) bool {
	i := c.lastI
	if n != c.lastN || asid != c.lastASID {
		s := n & c.setMask
		base := int(s) * c.nways
		w := c.find(base, c.key(asid, n), asid)
		if w < 0 {
			return false
		}
		i = base + w
		if write && !c.dirty[i] && c.snoop != nil {
			return false
		}
		c.use(s, base, w)
		c.lastN, c.lastASID, c.lastI = n, asid, i
	} else if write && !c.dirty[i] && c.snoop != nil {
		return false
	}
	if write {
		c.dirty[i] = true
	}
	c.C.Refs++
	return true
}
