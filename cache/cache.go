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

// way is one line frame of a set: its line and state (its key apart, in keys).
type way struct {
	line  Line
	valid bool
	dirty bool
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
// Invariant: keys[i] is 0 iff way i is invalid (!ways[i].valid, and ways[i] is the zero
// way), else the key of ways[i].line (with its address space's slot: slots', or overflow for
// one without); within a set, no two valid ways hold the same line; a dirty way is valid.
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
	ways      []way    // sets × Ways, set-major
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
		ways:      make([]way, n),
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
			return find8((*[8]uint64)(c.keys[base:base+8]), key)
		}
		for w, k := range c.keys[base : base+c.nways] {
			if k == key {
				return w
			}
		}
		return -1
	}
	for w, k := range c.keys[base : base+c.nways] {
		if k == key && c.ways[base+w].line.ASID == asid {
			return w
		}
	}
	return -1
}

// find8 returns the way of a set of 8 keys that holds key, or -1.
func find8(k *[8]uint64, key uint64) int {
	switch key {
	case k[0]:
		return 0
	case k[1]:
		return 1
	case k[2]:
		return 2
	case k[3]:
		return 3
	case k[4]:
		return 4
	case k[5]:
		return 5
	case k[6]:
		return 6
	case k[7]:
		return 7
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
		if write && !c.ways[c.lastI].dirty {
			c.upgrade(c.lastI)
		}
		return true
	}
	return c.ref(l.ASID, l.N, write)
}

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
		if k += c.hits(recs[k:]); k == len(recs) {
			break
		}
		if !c.record(&recs[k], hitsOnly) {
			return k
		}
	}
	return len(recs)
}

// hits performs the accesses of recs up to the first that is not a hit in one line of
// the address space whose slot it looked up last (a slot of its own), in a set of 8 ways,
// telling the memory nothing (a write to a clean line with a Snooper behind the cache tells
// it), and returns how many it performed: 0 for another geometry. It is the cache's hot
// loop, written out with no call and few values, so that they stay in registers: a key is
// the address less its offset and set bits, with the slot in those bits.
func (c *Cache) hits(recs []record.Record) int {
	if c.nways != 8 || c.slot == c.overflow {
		return 0
	}
	shift, lineMask, setMask := c.lineShift&63, uint64(1)<<(c.lineShift&63)-1, c.setMask
	keyMask, asid, slot := uint64(1)<<(c.keyShift&63)-1, c.slotASID, c.slot
	keys, order := c.keys, c.order
	lastN, lastI := c.lastN, c.lastI
	if c.lastASID != asid {
		lastN = noLine
	}
	k := 0
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
			set := keys[s*8 : s*8+8]
			w := uint64(8)
			switch key {
			case set[0]:
				w = 0
			case set[1]:
				w = 1
			case set[2]:
				w = 2
			case set[3]:
				w = 3
			case set[4]:
				w = 4
			case set[5]:
				w = 5
			case set[6]:
				w = 6
			case set[7]:
				w = 7
			}
			if w == 8 || r.Kind.Writes() && c.snoop != nil && !c.ways[s*8+w].dirty {
				break
			}
			if o := order[s]; o&15 != w {
				// w's position: the first nibble of o equal to w, the first zero nibble of x.
				x := o ^ w*nibbles
				b := uint(bits.TrailingZeros64((x-nibbles)&^x&(8*nibbles))) &^ 3
				order[s] = o>>(b+4)<<(b+4) | (o&(1<<b-1))<<4 | w
			}
			lastN, lastI = n, int(s*8+w)
		} else if r.Kind.Writes() && c.snoop != nil && !c.ways[lastI].dirty {
			break
		}
		if r.Kind.Writes() {
			c.ways[lastI].dirty = true
		}
	}
	c.C.Refs += int64(k)
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
		if i := c.lookup(Line{asid, n}); i < 0 || write && !c.ways[i].dirty && c.snoop != nil {
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
		if write && !c.ways[i].dirty && c.snoop != nil {
			return false
		}
		c.use(s, base, w)
		c.lastN, c.lastASID, c.lastI = n, asid, i
	} else if write && !c.ways[i].dirty && c.snoop != nil {
		return false
	}
	if write {
		c.ways[i].dirty = true
	}
	c.C.Refs++
	return true
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
		k := (*[8]uint64)(c.keys[base : base+8])
		switch key {
		case k[0]:
			w = 0
		case k[1]:
			w = 1
		case k[2]:
			w = 2
		case k[3]:
			w = 3
		case k[4]:
			w = 4
		case k[5]:
			w = 5
		case k[6]:
			w = 6
		case k[7]:
			w = 7
		}
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
	if o := c.order[s]; int(o&15) != w {
		// w's position: the first nibble of o equal to w, the first zero nibble of x.
		x := o ^ uint64(w)*nibbles
		b := uint(bits.TrailingZeros64((x-nibbles)&^x&(8*nibbles))) &^ 3
		c.order[s] = o>>(b+4)<<(b+4) | (o&(1<<b-1))<<4 | uint64(w)
	}
	i := base + w
	c.lastN, c.lastASID, c.lastI = n, asid, i
	if write && !c.ways[i].dirty {
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
	if write && !c.ways[i].dirty {
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
		if c.ways[i].dirty {
			c.C.Writebacks++
			c.mem.WriteBack(c.ways[i].line, data)
		}
		if c.snoop != nil {
			c.snoop.Evict(c.ways[i].line)
		}
	}
	c.mem.Fill(l, data)
	c.keys[i], c.ways[i] = key, way{line: l, valid: true, dirty: write}
	c.use(s, base, w)
	c.lastN, c.lastASID, c.lastI = l.N, l.ASID, i
}

// victim returns the way of set s (from way base) a miss replaces: the first invalid way,
// else the least recently used.
func (c *Cache) victim(s uint64, base int) int {
	if c.order != nil {
		return int(c.order[s] >> (4 * uint(c.nways-1) & 63) & 15)
	}
	v := 0
	for w := range c.nways {
		if c.keys[base+w] == 0 {
			return w
		}
		if c.stamps[base+w] < c.stamps[base+v] {
			v = w
		}
	}
	return v
}

// nibbles is 1 in every 4-bit position of a word.
const nibbles = 0x1111111111111111

// use makes way w of set s (from way base) the most recently used.
func (c *Cache) use(s uint64, base, w int) {
	if c.order == nil {
		c.clock++
		c.stamps[base+w] = c.clock
		return
	}
	o := c.order[s]
	if int(o&15) == w {
		return
	}
	// w's position: the first nibble of o equal to w, the first zero nibble of x.
	x := o ^ uint64(w)*nibbles
	b := uint(bits.TrailingZeros64((x-nibbles)&^x&(8*nibbles))) &^ 3
	c.order[s] = o>>(b+4)<<(b+4) | (o&(1<<b-1))<<4 | uint64(w)
}

// initialOrder is a set's order with every way invalid.
func (c *Cache) initialOrder() uint64 {
	o := ^uint64(0)
	for p := range c.nways {
		o = o&^(15<<(4*p)) | uint64(c.nways-1-p)<<(4*p)
	}
	return o
}

// resetOrder sets every set's order to its order with every way invalid.
func (c *Cache) resetOrder() {
	if c.order == nil {
		return
	}
	o := c.initialOrder()
	for s := range c.order {
		c.order[s] = o
	}
}

// reorder restores set s's order after ways of it became invalid: the valid ways in
// their order, then the invalid ways.
func (c *Cache) reorder(s uint64) {
	if c.order == nil {
		return
	}
	base := int(s) * c.nways
	o, out, p := c.order[s], ^uint64(0), 0
	put := func(w uint64) {
		out = out&^(15<<(4*p)) | w<<(4*p)
		p++
	}
	for q := range c.nways {
		if w := o >> (4 * q) & 15; c.keys[base+int(w)] != 0 {
			put(w)
		}
	}
	for w := c.nways - 1; w >= 0; w-- {
		if c.keys[base+w] == 0 {
			put(uint64(w))
		}
	}
	c.order[s] = out
}

// upgrade makes the clean way i dirty on a write hit, telling the snooper first.
func (c *Cache) upgrade(i int) {
	if c.snoop != nil {
		c.snoop.Upgrade(c.ways[i].line)
	}
	c.ways[i].dirty = true
}

// invalidate empties way i (of set s: reorder it after).
func (c *Cache) invalidate(i int) {
	c.keys[i], c.ways[i] = 0, way{}
	if i == c.lastI {
		c.lastN = noLine
	}
}

// Demote makes line l clean without writing it back and, with invalidate, drops it from
// the cache: what a coherence protocol does to a copy that another core's access
// downgrades or invalidates (the caller moves the line's data, from Data, first). It calls
// no Memory method, and returns whether l was cached and whether it was dirty.
func (c *Cache) Demote(l Line, invalidate bool) (valid, dirty bool) {
	i := c.lookup(l)
	if i < 0 {
		return false, false
	}
	dirty = c.ways[i].dirty
	c.ways[i].dirty = false
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
			if k != 0 && !yield(c.ways[i].line, c.ways[i].dirty) {
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
		if c.ways[i].dirty {
			var data []uint64
			if c.blocks > 0 {
				data = c.data[i*c.blocks : (i+1)*c.blocks]
			}
			c.mem.WriteBack(c.ways[i].line, data)
			c.ways[i].dirty = false
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
			if c.keys[i] != 0 && (keep == nil || !keep(c.ways[i].line.ASID)) {
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
	for _, x := range c.ways {
		if x.dirty {
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
			x, k := c.ways[i].line, c.keys[i]
			switch {
			case c.ways[i].dirty && !c.ways[i].valid:
				return fmt.Errorf("cache: set %d way %d is dirty but invalid", s, w)
			case (k != 0) != c.ways[i].valid:
				return fmt.Errorf("cache: set %d way %d has key %#x but valid %v", s, w, k, c.ways[i].valid)
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
				if c.keys[j] != 0 && c.ways[j].line == x {
					return fmt.Errorf("cache: line %#x twice in set %d", x.N, s)
				}
			}
		}
		if err := c.checkOrder(s); err != nil {
			return err
		}
	}
	if c.lastN != noLine {
		if i := c.lastI; i < 0 || i >= len(c.keys) || c.keys[i] == 0 || c.ways[i].line != (Line{ASID: c.lastASID, N: c.lastN}) {
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

// checkOrder verifies set s's LRU order.
func (c *Cache) checkOrder(s uint64) error {
	if c.order == nil {
		return nil
	}
	o, base := c.order[s], int(s)*c.nways
	seen, invalid := 0, false
	for p := range orderWays {
		w := int(o >> (4 * p) & 15)
		switch {
		case p >= c.nways && w != 15:
			return fmt.Errorf("cache: set %d: order %#x has way %d in unused position %d", s, o, w, p)
		case p >= c.nways:
			continue
		case w >= c.nways || seen&(1<<w) != 0:
			return fmt.Errorf("cache: set %d: order %#x is not a permutation of its %d ways", s, o, c.nways)
		}
		seen |= 1 << w
		if c.keys[base+w] == 0 {
			if invalid && w > int(o>>(4*(p-1))&15) {
				return fmt.Errorf("cache: set %d: order %#x has its invalid ways out of order", s, o)
			}
			invalid = true
		} else if invalid {
			return fmt.Errorf("cache: set %d: order %#x has valid way %d after an invalid one", s, o, w)
		}
	}
	return nil
}
