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
// the first that it leaves to record; HitRecords stops at once at a miss that hits found
// (record would look the line up again to find it missing).
func (c *Cache) records(recs []record.Record, hitsOnly bool) int {
	for k := 0; k < len(recs); k++ {
		n, miss := c.hits(recs[k:], !hitsOnly)
		if k += n; k == len(recs) || miss {
			return k
		}
		if !c.record(&recs[k], hitsOnly) {
			return k
		}
	}
	return len(recs)
}

// hits performs the accesses of recs up to the first that is not a hit (with misses, a hit
// or a miss) in one line of the address space whose slot it looked up last (a slot of its
// own), in a set of 8 ways, telling the memory nothing but a miss's fill and write-back,
// and returns how many it performed (0 for another geometry or with a Snooper behind the
// cache: record tells it of writes to clean lines) and, without misses, whether it stopped
// at a miss in one line. The hits go through hitRun, the cache's hot loop; a miss, here,
// between two of its runs.
func (c *Cache) hits(recs []record.Record, misses bool) (k int, stoppedAtMiss bool) {
	if c.nways != 8 || c.slot == c.overflow {
		return 0, false
	}
	asid := c.slotASID
	if c.lastASID != asid {
		c.lastN = noLine
	}
	for k < len(recs) {
		n, miss := c.hitRun(recs[k:])
		if k += n; !miss || !misses {
			return k, miss
		}
		// A miss, as Access performs it (counted first, the memory may look).
		r := &recs[k]
		k++
		c.C.Refs++
		line := r.Addr >> (c.lineShift & 63)
		s := line & c.setMask
		c.miss(s, int(s*8), r.Addr&^(1<<(c.keyShift&63)-1)|c.slot, Line{ASID: asid, N: line}, r.Kind.Writes())
		if c.slotASID != asid {
			// The memory referenced another address space's line in this cache: the
			// state is the cache's own now.
			break
		}
	}
	return k, false
}

// hitRun performs the accesses of recs, of the address space whose slot the cache looked up
// last (c.slotASID, with a slot of its own) in a cache of 8 ways with no Snooper behind it,
// up to the first that is not a hit in one line, and returns how many it performed and
// whether it stopped at a miss in one line of that address space. It is the cache's hot
// loop, with no call and few branches: on SPEC gcc (1 M accesses, AMD EPYC VM) it takes
// 12.1 ms where the loop before it, with the miss's call inside and a branch for the line
// referenced last, took 13.1 ms, for about as many instructions (cachegrind): the branch
// mispredicted. A key is the address less its offset and set bits, with the slot in
// those bits.
func (c *Cache) hitRun(recs []record.Record) (k int, miss bool) {
	if c.snoop != nil {
		return 0, false
	}
	lineMask, setMask := uint64(1)<<(c.lineShift&63)-1, c.setMask
	keyMask, asid, slot := uint64(1)<<(c.keyShift&63)-1, c.slotASID, c.slot
	keys, order, tags, dirty := c.keys, c.order, c.tags, c.dirty
	shift, keyShift := c.lineShift&63, c.keyShift&63
	lastN, lastI := c.lastN, c.lastI
	for ; k < len(recs); k++ {
		r := &recs[k]
		// One line of asid's: the offset in its line plus the size less 1 (none for a
		// size of 0) within the line.
		if uint64(r.Size)-1 > lineMask-r.Addr&lineMask || r.ASID != asid {
			break
		}
		// Every access is looked up, the line of the access before too: a branch on
		// that (a fifth of SPEC gcc's accesses) mispredicted more than the lookup costs.
		n := r.Addr >> shift
		s := n & setMask
		key := r.Addr&^keyMask | slot
		// The ways whose tag byte is key's (0x80 in each byte of t that is 0): the
		// first compared in full is the hit nearly always; the others after it only
		// when it is not (a tag byte's false match, 7 bits).
		t := tags[s] ^ tagByte(key, keyShift)*lowBytes
		m := ^((t&low7Bytes + low7Bytes) | t | low7Bytes)
		w := uint64(bits.TrailingZeros64(m)) >> 3 // 8 when m is 0
		if w == 8 {
			miss = true
			break
		}
		if keys[s*8+w&7] != key {
			if w = otherWay(keys[s*8:s*8+8], m&(m-1), key); w == 8 {
				miss = true
				break
			}
		}
		// w first in the set's order, as first does (written out on the loop's
		// locals; w's position is at most 7, so that the shifts are below 64).
		o := order[s]
		x := o ^ w*nibbles
		b := uint(bits.TrailingZeros64((x-nibbles)&^x&(8*nibbles))) & 0x1c
		order[s] = o>>(b+4)<<(b+4) | (o&(1<<b-1))<<4 | w
		lastN, lastI = n, int(s*8+w)
		if r.Kind.Writes() {
			dirty[lastI] = true
		}
	}
	c.C.Refs += int64(k)
	c.lastN, c.lastI = lastN, lastI
	c.lastASID = asid
	return k, miss
}

// otherWay returns the way of a set's 8 keys that holds key among those whose bit 7 is
// set in m (a byte a way), or 8 if none does: find8's search, and hitRun's when the first
// way it compares is not the one.
func otherWay(keys []uint64, m, key uint64) uint64 {
	for ; m != 0; m &= m - 1 {
		if v := uint64(bits.TrailingZeros64(m)) >> 3; keys[v&7] == key {
			return v
		}
	}
	return 8
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
