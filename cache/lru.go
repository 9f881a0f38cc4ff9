package cache

import (
	"fmt"
	"math/bits"
)

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
	c.first(s, uint64(w))
}

// first makes way w first in set s's order (at most orderWays ways). w's position is the
// first nibble of the order equal to w, the first zero nibble of x. It is written without
// a branch, which would mispredict often: when w is first already, b is 0 and the order
// stays as it was.
func (c *Cache) first(s, w uint64) {
	o := c.order[s]
	x := o ^ w*nibbles
	b := uint(bits.TrailingZeros64((x-nibbles)&^x&(8*nibbles))) &^ 3
	c.order[s] = o>>(b+4)<<(b+4) | (o&(1<<b-1))<<4 | w
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
