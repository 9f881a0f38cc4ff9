package cache

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/record"
)

// Geometry is a cache's shape. Size 0 means no cache.
type Geometry struct {
	Size uint64 // bytes; a multiple of Line × Ways giving a power-of-two number of sets
	Ways int    // associativity, >= 1
	Line uint64 // line size in bytes, a power of two >= 8
}

// Validate checks the geometry.
func (g Geometry) Validate() error {
	if g.Size == 0 {
		return nil
	}
	pow2 := func(x uint64) bool { return x != 0 && x&(x-1) == 0 }
	if !pow2(g.Line) || g.Line < 8 || g.Line > 1<<20 {
		return fmt.Errorf("--cache-line %d: want a power of two from 8 to 1M bytes", g.Line)
	}
	if g.Ways < 1 || g.Ways > 1<<16 {
		return fmt.Errorf("--cache-ways %d: want 1 to 65536", g.Ways)
	}
	per := g.Line * uint64(g.Ways)
	if g.Size%per != 0 || !pow2(g.Size/per) {
		return fmt.Errorf("--cache-size %d: want a power-of-two number of sets of %d ways × %d-byte lines", g.Size, g.Ways, g.Line)
	}
	if g.Size > 1<<34 {
		return fmt.Errorf("--cache-size %d: at most 16 GiB", g.Size)
	}
	return nil
}

// Line is one cache line's address: its address space and line number (address / line size).
type Line struct {
	ASID record.ASID
	N    uint64
}

// Counters are a cache's counts. Every reference is to one line.
type Counters struct {
	Refs       int64 // line references: each access counts once per line it covers
	Misses     int64 // references whose line was not in the cache (cold misses included)
	Writebacks int64 // dirty lines written to memory: on eviction and on flushes
	FlushLines int64 // of Writebacks, those written by Flush
}

// Memory is what the cache asks of the memory behind it. The cache calls Fill before it
// loads a line and WriteBack when it writes a dirty line to memory. With verification on,
// data is the line's block stamps: WriteBack passes the line's content; Fill must copy the
// memory's content of the line into data. With verification off, data is nil.
type Memory interface {
	Fill(l Line, data []uint64)
	WriteBack(l Line, data []uint64)
}

// Snooper is a Memory that also hears what a coherence directory must know of the lines
// of the cache (package coherence). A cache whose memory is a Snooper calls Evict when a
// valid line leaves it by replacement (after the line's WriteBack if it was dirty, before
// the Fill of the line that replaces it) and Upgrade when a write hits a clean line
// (before the line becomes dirty). Flush, Discard and Demote call neither: their caller
// knows what they drop.
type Snooper interface {
	Memory
	Evict(l Line)
	Upgrade(l Line)
}

// noLine is lastN when no way is remembered: no line number is this large (a line number
// is an address shifted right by 3 bits or more).
const noLine = ^uint64(0)

// orderWays is the most ways whose LRU order packs into one word, 4 bits a way.
const orderWays = 16

// Cache is the cache model, laid out for its hot path, a reference that hits.
//
// A way's line is known in the set by its key: the line's tag (its number less the set
// bits) shifted above the slot of its address space (a small number the cache gives each
// address space it sees, slotOf). Finding a line compares one word a way, over a set's keys
// alone, contiguous (8 ways: one 64-byte line of the host's cache); the ways' lines, dirty
// bits (ways) and block stamps are apart, read on a miss or a write. LRU with at most 16 ways is
// a packed order a set, 4 bits a way; with more, a last-use stamp a way. The way referenced
// last is remembered: a reference to the same line again costs a compare.
//
// Invariant: keys[i] is 0 iff way i is invalid (and then lines[i] is the zero Line), else
// the key of lines[i] (with its address space's slot: slots', or overflow for
// one without); within a set, no two valid ways hold the same line; a dirty way is valid.
// Invariant: with 8 ways, byte w of tags[s] is tagByte of way w's key in set s when the way
// is valid, else 0; otherwise tags is nil.
// Invariant: with at most orderWays ways, order[s] lists set s's ways, 4 bits each from
// the lowest, most recently used first, the invalid ways last in decreasing way number,
// and 15 in the unused positions; stamps is nil. Otherwise order is nil and stamps holds
// each way's last use (clock), larger more recent.
// Invariant: lastN is noLine, or way lastI holds the valid line {lastASID, lastN}, first
// in its set's order when there is one.
type Cache struct {
	g         Geometry
	lineShift uint
	setShift  uint // log2 of the number of sets
	setMask   uint64
	nways     int
	keyShift  uint     // lineShift + setShift: a key's tag starts at this bit
	keys      []uint64 // sets × Ways, set-major
	tags      []uint64 // by set, with 8 ways: byte w is way w's tagByte, 0 when invalid
	lines     []Line   // sets × Ways, set-major: the line each way holds
	dirty     []bool   // sets × Ways, set-major: way i holds a line written since it was filled or cleaned
	order     []uint64 // by set (at most orderWays ways)
	stamps    []uint64 // sets × Ways (more than orderWays ways)
	clock     uint64
	data      []uint64 // sets × Ways × blocks stamps, when verifying
	blocks    int      // stamps per line; 0 when not verifying

	// The line referenced last and its way.
	lastN    uint64
	lastASID record.ASID
	lastI    int

	// slotASID's slot is slot (the last looked up); slots holds every address space's
	// slot, 1 up, but those after the slots ran out, which share overflow (all the slot
	// bits set), whose keys are confirmed against the ways' lines.
	slotASID record.ASID
	slot     uint64
	slots    map[record.ASID]uint64
	overflow uint64

	mem Memory
	// snoop is mem when it is a Snooper, else nil.
	snoop Snooper
	C     Counters
}

// New returns an empty cache of geometry g in front of mem, carrying blocks stamps per line
// (0 when verification is off). Precondition: g is valid and g.Size > 0.
func New(g Geometry, blocks int, mem Memory) *Cache {
	if err := g.Validate(); err != nil || g.Size == 0 {
		panic(fmt.Sprintf("cache: New with invalid geometry %+v: %v", g, err))
	}
	sets := g.Size / g.Line / uint64(g.Ways)
	n := sets * uint64(g.Ways)
	c := &Cache{
		g:         g,
		lineShift: uint(bits.TrailingZeros64(g.Line)),
		setShift:  uint(bits.TrailingZeros64(sets)),
		setMask:   sets - 1,
		nways:     g.Ways,
		keys:      make([]uint64, n),
		lines:     make([]Line, n),
		dirty:     make([]bool, n),
		blocks:    blocks,
		lastN:     noLine,
		slotASID:  0,
		slot:      1,
		slots:     map[record.ASID]uint64{0: 1},
		mem:       mem,
	}
	c.keyShift = c.lineShift + c.setShift
	c.overflow = 1<<min(c.keyShift, 16) - 1
	if g.Ways <= orderWays {
		c.order = make([]uint64, sets)
		c.resetOrder()
	} else {
		c.stamps = make([]uint64, n)
	}
	if g.Ways == 8 {
		c.tags = make([]uint64, sets)
	}
	if blocks > 0 {
		c.data = make([]uint64, n*uint64(blocks))
	}
	c.snoop, _ = mem.(Snooper)
	return c
}

// Geometry returns the cache's shape.
func (c *Cache) Geometry() Geometry { return c.g }

// LineShift is log2 of the line size.
func (c *Cache) LineShift() uint { return c.lineShift }

// slotOf returns asid's slot, giving it one if it has none.
func (c *Cache) slotOf(asid record.ASID) uint64 {
	if asid == c.slotASID {
		return c.slot
	}
	return c.newSlot(asid)
}

// newSlot returns asid's slot, not the last looked up, giving it one if it has none.
func (c *Cache) newSlot(asid record.ASID) uint64 {
	s, ok := c.slots[asid]
	if !ok {
		s = min(uint64(len(c.slots))+1, c.overflow)
		c.slots[asid] = s
	}
	c.slotASID, c.slot = asid, s
	return s
}

// key returns line n of asid's key.
func (c *Cache) key(asid record.ASID, n uint64) uint64 {
	return n>>(c.setShift&63)<<(c.keyShift&63) | c.slotOf(asid)
}

// find returns the way of the set from way base that holds the line of key, asid's, or -1.
func (c *Cache) find(base int, key uint64, asid record.ASID) int {
	if key&c.overflow != c.overflow {
		if c.nways == 8 {
			return c.find8(uint64(base/8), key)
		}
		for w, k := range c.keys[base : base+c.nways] {
			if k == key {
				return w
			}
		}
		return -1
	}
	for w, k := range c.keys[base : base+c.nways] {
		if k == key && c.lines[base+w].ASID == asid {
			return w
		}
	}
	return -1
}

// tagByte is the byte that stands for key in its set's tags: 7 bits of its tag, and the
// top bit set (an invalid way's byte is 0).
func tagByte(key uint64, keyShift uint) uint64 { return key>>(keyShift&63)&0x7f | 0x80 }

// setTagByte sets way w's byte of set s's tags to b (with 8 ways; nothing otherwise).
func (c *Cache) setTagByte(s uint64, w int, b uint64) {
	if c.tags != nil {
		c.tags[s] = c.tags[s]&^(0xff<<(8*uint(w)&63)) | b<<(8*uint(w)&63)
	}
}

// Bytes of a word.
const (
	lowBytes  = 0x0101010101010101
	low7Bytes = 0x7f7f7f7f7f7f7f7f
)

// find8 returns the way of set s (of 8 ways) that holds key, or -1: the ways whose tag
// byte is key's (0x80 in each byte of t that is 0) compared in full, the first nearly
// always the one (hitRun's lookup, written out there).
func (c *Cache) find8(s, key uint64) int {
	t := c.tags[s] ^ tagByte(key, c.keyShift)*lowBytes
	m := ^((t&low7Bytes + low7Bytes) | t | low7Bytes)
	if w := otherWay(c.keys[s*8:s*8+8], m, key); w < 8 {
		return int(w)
	}
	return -1
}

// lookup returns the index of the way holding l, or -1.
func (c *Cache) lookup(l Line) int {
	base := int(l.N&c.setMask) * c.nways
	if w := c.find(base, c.key(l.ASID, l.N), l.ASID); w >= 0 {
		return base + w
	}
	return -1
}

// Data returns the stamps of the way holding l, or nil if l is not cached or verification is
// off. The slice is the cache's own: writes to it change the line's content.
func (c *Cache) Data(l Line) []uint64 {
	if c.blocks == 0 {
		return nil
	}
	if i := c.lookup(l); i >= 0 {
		return c.data[i*c.blocks : (i+1)*c.blocks]
	}
	return nil
}

// Access references line l, reading or writing it: a hit updates LRU; a miss evicts the
// set's least recently used way (written back first if dirty) and fills l from memory
// (write-allocate: a write miss fills too). A write makes the line dirty. It returns
// whether the reference hit.
func (c *Cache) Access(l Line, write bool) (hit bool) {
	c.C.Refs++
	if l.N == c.lastN && l.ASID == c.lastASID {
		if write && !c.dirty[c.lastI] {
			c.upgrade(c.lastI)
		}
		return true
	}
	return c.ref(l.ASID, l.N, write)
}

// ref performs a reference (counted already) to line n of asid that is not to the line
// referenced last, and reports whether it hit. Its common case, a line of an address space
// with a slot in a set of at most 16 ways, is written out.
func (c *Cache) ref(asid record.ASID, n uint64, write bool) bool {
	s := n & c.setMask
	base := int(s) * c.nways
	key := c.key(asid, n)
	if c.order == nil || key&c.overflow == c.overflow {
		return c.refSlow(s, base, key, asid, n, write)
	}
	w := -1
	if c.nways == 8 {
		w = c.find8(s, key)
	} else {
		for v, k := range c.keys[base : base+c.nways] {
			if k == key {
				w = v
				break
			}
		}
	}
	if w < 0 {
		c.miss(s, base, key, Line{ASID: asid, N: n}, write)
		return false
	}
	c.first(s, uint64(w))
	i := base + w
	c.lastN, c.lastASID, c.lastI = n, asid, i
	if write && !c.dirty[i] {
		c.upgrade(i)
	}
	return true
}

// refSlow is ref for the other cases.
func (c *Cache) refSlow(s uint64, base int, key uint64, asid record.ASID, n uint64, write bool) bool {
	w := c.find(base, key, asid)
	if w < 0 {
		c.miss(s, base, key, Line{ASID: asid, N: n}, write)
		return false
	}
	c.use(s, base, w)
	i := base + w
	c.lastN, c.lastASID, c.lastI = n, asid, i
	if write && !c.dirty[i] {
		c.upgrade(i)
	}
	return true
}

// miss fills line l, of key, into set s (from way base), evicting the victim (written
// back first if dirty), and counts the miss.
func (c *Cache) miss(s uint64, base int, key uint64, l Line, write bool) {
	c.C.Misses++
	c.lastN = noLine // while the memory hears of the victim
	w := c.victim(s, base)
	i := base + w
	var data []uint64
	if c.blocks > 0 {
		data = c.data[i*c.blocks : (i+1)*c.blocks]
	}
	if c.keys[i] != 0 {
		if c.dirty[i] {
			c.C.Writebacks++
			c.mem.WriteBack(c.lines[i], data)
		}
		if c.snoop != nil {
			c.snoop.Evict(c.lines[i])
		}
	}
	c.mem.Fill(l, data)
	c.keys[i], c.lines[i], c.dirty[i] = key, l, write
	c.setTagByte(s, w, tagByte(key, c.keyShift))
	c.use(s, base, w)
	c.lastN, c.lastASID, c.lastI = l.N, l.ASID, i
}

// upgrade makes the clean way i dirty on a write hit, telling the snooper first.
func (c *Cache) upgrade(i int) {
	if c.snoop != nil {
		c.snoop.Upgrade(c.lines[i])
	}
	c.dirty[i] = true
}

// invalidate empties way i (of set s: reorder it after).
func (c *Cache) invalidate(i int) {
	c.keys[i], c.lines[i], c.dirty[i] = 0, Line{}, false
	c.setTagByte(uint64(i/c.nways), i%c.nways, 0)
	if i == c.lastI {
		c.lastN = noLine
	}
}
