package cache

import (
	"fmt"
	"iter"
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

// way is one line frame of a set.
type way struct {
	line  Line
	valid bool
	dirty bool
	lru   uint64 // last use: larger is more recent
}

// Cache is the cache model.
//
// Invariant: within a set, no two valid ways hold the same line.
// Invariant: a dirty way is valid.
type Cache struct {
	g         Geometry
	lineShift uint
	setMask   uint64
	ways      []way    // sets × Ways, set-major
	data      []uint64 // sets × Ways × blocks stamps, when verifying
	blocks    int      // stamps per line; 0 when not verifying
	clock     uint64
	// mru is, by set, the way referenced last, tried first: consecutive references to a
	// set are mostly to the same line. Only a hint; any value is safe.
	mru []uint8
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
	c := &Cache{
		g:         g,
		lineShift: uint(bits.TrailingZeros64(g.Line)),
		setMask:   sets - 1,
		ways:      make([]way, sets*uint64(g.Ways)),
		mru:       make([]uint8, sets),
		blocks:    blocks,
		mem:       mem,
	}
	if blocks > 0 {
		c.data = make([]uint64, len(c.ways)*blocks)
	}
	c.snoop, _ = mem.(Snooper)
	return c
}

// Geometry returns the cache's shape.
func (c *Cache) Geometry() Geometry { return c.g }

// LineShift is log2 of the line size.
func (c *Cache) LineShift() uint { return c.lineShift }

func (c *Cache) set(n uint64) []way {
	i := (n & c.setMask) * uint64(c.g.Ways)
	return c.ways[i : i+uint64(c.g.Ways)]
}

func (c *Cache) index(n uint64, w int) int { return int(n&c.setMask)*c.g.Ways + w }

// Data returns the stamps of the way holding l, or nil if l is not cached or verification is
// off. The slice is the cache's own: writes to it change the line's content.
func (c *Cache) Data(l Line) []uint64 {
	if c.blocks == 0 {
		return nil
	}
	for w, x := range c.set(l.N) {
		if x.valid && x.line == l {
			i := c.index(l.N, w) * c.blocks
			return c.data[i : i+c.blocks]
		}
	}
	return nil
}

// Access references line l, reading or writing it: a hit updates LRU; a miss evicts the
// set's least recently used way (written back first if dirty) and fills l from memory
// (write-allocate: a write miss fills too). A write makes the line dirty. It returns
// whether the reference hit.
func (c *Cache) Access(l Line, write bool) (hit bool) {
	c.C.Refs++
	c.clock++
	si := l.N & c.setMask
	set := c.set(l.N)
	if m := int(c.mru[si]); m < len(set) {
		if x := &set[m]; x.line == l && x.valid {
			x.lru = c.clock
			if write && !x.dirty {
				c.upgrade(x)
			}
			return true
		}
	}
	for w := range set {
		if x := &set[w]; x.line == l && x.valid {
			x.lru = c.clock
			if write && !x.dirty {
				c.upgrade(x)
			}
			c.mru[si] = uint8(w)
			return true
		}
	}
	// The victim is the first invalid way, else the least recently used.
	victim := 0
	for w := range set {
		if !set[w].valid {
			victim = w
			break
		}
		if set[w].lru < set[victim].lru {
			victim = w
		}
	}
	c.C.Misses++
	x := &set[victim]
	i := c.index(l.N, victim)
	var data []uint64
	if c.blocks > 0 {
		data = c.data[i*c.blocks : (i+1)*c.blocks]
	}
	if x.valid && x.dirty {
		c.C.Writebacks++
		c.mem.WriteBack(x.line, data)
	}
	if x.valid && c.snoop != nil {
		c.snoop.Evict(x.line)
	}
	c.mem.Fill(l, data)
	*x = way{line: l, valid: true, dirty: write, lru: c.clock}
	c.mru[si] = uint8(victim)
	return false
}

// upgrade makes the clean way x dirty on a write hit, telling the snooper first.
func (c *Cache) upgrade(x *way) {
	if c.snoop != nil {
		c.snoop.Upgrade(x.line)
	}
	x.dirty = true
}

// Demote makes line l clean without writing it back and, with invalidate, drops it from
// the cache: what a coherence protocol does to a copy that another core's access
// downgrades or invalidates (the caller moves the line's data, from Data, first). It calls
// no Memory method, and returns whether l was cached and whether it was dirty.
func (c *Cache) Demote(l Line, invalidate bool) (valid, dirty bool) {
	for w, x := range c.set(l.N) {
		if x.valid && x.line == l {
			i := c.index(l.N, w)
			c.ways[i].dirty = false
			if invalidate {
				c.ways[i] = way{}
			}
			return true, x.dirty
		}
	}
	return false, false
}

// Lines yields every line the cache holds and whether it is dirty, in set and way order.
// The cache must not change during the iteration.
func (c *Cache) Lines() iter.Seq2[Line, bool] {
	return func(yield func(Line, bool) bool) {
		for _, x := range c.ways {
			if x.valid && !yield(x.line, x.dirty) {
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
	for i := range c.ways {
		x := &c.ways[i]
		if x.valid && x.dirty {
			var data []uint64
			if c.blocks > 0 {
				data = c.data[i*c.blocks : (i+1)*c.blocks]
			}
			c.mem.WriteBack(x.line, data)
			x.dirty = false
			n++
		}
		if invalidate {
			x.valid = false
		}
	}
	c.C.Writebacks += n
	c.C.FlushLines += n
	return n
}

// Discard empties the cache of every line for which keep returns false, without writing
// anything back: what a rollback or a crash does to lines whose data is no longer wanted.
// keep may be nil (discard everything).
func (c *Cache) Discard(keep func(record.ASID) bool) {
	for i := range c.ways {
		x := &c.ways[i]
		if x.valid && (keep == nil || !keep(x.line.ASID)) {
			*x = way{}
		}
	}
}

// Dirty returns how many lines are dirty now.
func (c *Cache) Dirty() int64 {
	var n int64
	for _, x := range c.ways {
		if x.valid && x.dirty {
			n++
		}
	}
	return n
}

// Check verifies the invariants from scratch.
func (c *Cache) Check() error {
	for s := uint64(0); s <= c.setMask; s++ {
		set := c.ways[s*uint64(c.g.Ways) : (s+1)*uint64(c.g.Ways)]
		for i, x := range set {
			if x.dirty && !x.valid {
				return fmt.Errorf("cache: set %d way %d is dirty but invalid", s, i)
			}
			if x.valid && x.line.N&c.setMask != s {
				return fmt.Errorf("cache: line %#x in set %d", x.line.N, s)
			}
			for j := range i {
				if x.valid && set[j].valid && set[j].line == x.line {
					return fmt.Errorf("cache: line %#x twice in set %d", x.line.N, s)
				}
			}
		}
	}
	return nil
}
