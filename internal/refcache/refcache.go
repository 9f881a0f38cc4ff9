package refcache

import "slices"

// Line is a line's address space and number.
type Line struct {
	ASID uint32
	N    uint64
}

type entry struct {
	l     Line
	dirty bool
}

// Cache is the naive model.
type Cache struct {
	sets       map[uint64][]entry
	nsets      uint64
	ways       int
	Refs       int64
	Misses     int64
	Writebacks int64
	Flushed    int64 // of Writebacks, by Flush
}

// New returns an empty cache of size bytes, ways ways and line-byte lines.
func New(size uint64, ways int, line uint64) *Cache {
	return &Cache{sets: map[uint64][]entry{}, nsets: size / line / uint64(ways), ways: ways}
}

// Access references l.
func (c *Cache) Access(l Line, write bool) {
	c.Refs++
	s := l.N % c.nsets
	set := c.sets[s]
	for i, x := range set {
		if x.l == l {
			x.dirty = x.dirty || write
			c.sets[s] = append([]entry{x}, slices.Delete(set, i, i+1)...)
			return
		}
	}
	c.Misses++
	if len(set) == c.ways {
		if set[len(set)-1].dirty {
			c.Writebacks++
		}
		set = set[:len(set)-1]
	}
	c.sets[s] = append([]entry{{l, write}}, set...)
}

// Flush writes every dirty line back; invalidate also empties the cache.
func (c *Cache) Flush(invalidate bool) {
	for s, set := range c.sets {
		for i := range set {
			if set[i].dirty {
				c.Writebacks++
				c.Flushed++
				set[i].dirty = false
			}
		}
		if invalidate {
			delete(c.sets, s)
		}
	}
}

// Dirty returns the dirty lines.
func (c *Cache) Dirty() (n int64) {
	for _, set := range c.sets {
		for _, x := range set {
			if x.dirty {
				n++
			}
		}
	}
	return n
}
