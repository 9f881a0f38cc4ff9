package memctl

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/scheme"
)

// bitmap2 is bitmap with a background copier: a checkpoint hands the marked granules (one
// bitmap) to the copier and marks on in the other bitmap, the program going on; the
// copier copies them into the shadow at rate bytes per program access, a write reaching a
// granule before the copier copies it first (a forced copy), and the next checkpoint
// finishes what is left with the program stopped. Rollback and the shadow are bitmap's.
type bitmap2 struct {
	bitmap
	rate uint64 // bytes per program access

	// waiting holds, by page number, the granules marked before the domain's last
	// checkpoint and not yet copied (the other bitmap).
	// Invariant: len(waiting) == len(Controller.pages); waiting[id] ⊆ touched, waiting[id]
	// ∩ marks = ∅, and waiting[id] != 0 implies listed[id].
	waiting [][]uint64
	// listed says, by page number, whether the page is on its domain's copy list at or
	// after the cursor. Invariant: a domain's list holds exactly its listed pages from its
	// cursor on, each once.
	listed []bool
	// lists holds each domain's copy list, by domain number.
	// Invariant: len(lists) == len(Controller.doms).
	lists []*copyList

	// credit is the bytes the copier may still copy now.
	// Invariant: credit < the granule, and credit == 0 when queue is empty (credit is not
	// banked while nothing waits, whatever emptied the waiting list).
	credit uint64
	// queue holds the copy lists with granules waiting, in the order their copies began.
	// Invariant: a list is on queue, once, exactly when its pending > 0.
	queue      []*copyList
	background int64 // bytes copied by the copier
	forced     int64 // granules copied because a write-back reached them first
}

// copyList is one domain's granules waiting for the copier: those set in waiting of the
// pages pages[cursor:], in that order (pages before the cursor have none left).
type copyList struct {
	id      scheme.Domain
	pages   []*page
	cursor  int
	pending int64 // Invariant: the popcounts of waiting over the domain's pages
}

func newBitmap2(c *Controller, rate uint64) *bitmap2 {
	return &bitmap2{bitmap: *newBitmap(c), rate: rate}
}

func (b *bitmap2) addDomain(d *domain) { b.lists = append(b.lists, &copyList{id: d.id}) }

func (b *bitmap2) addPage(p *page) {
	b.bitmap.addPage(p)
	b.waiting = append(b.waiting, make([]uint64, b.c.words))
	b.listed = append(b.listed, false)
}

// firstWrite copies the granule into the shadow first if it still awaits the copier.
func (b *bitmap2) firstWrite(p *page, i uint64, _ bool) {
	w, bit := i>>6, uint64(1)<<(i&63)
	if wt := b.waiting[p.id]; wt[w]&bit != 0 {
		b.copyOut(p, i)
		wt[w] &^= bit
		l := b.lists[p.dom.id]
		l.pending--
		b.forced++
		if l.pending == 0 {
			b.dequeue(l)
		}
	}
}

// copyOut copies granule i of p from memory into the shadow.
func (b *bitmap2) copyOut(p *page, i uint64) {
	if c := b.c; c.upg > 0 {
		c.data.copyGranule(c.units(b.img.of(p), i), c.units(p.mem, i))
	}
}

// checkpoint finishes the previous background copy with the program stopped, then hands
// the marked granules to the copier (the controller clears the marks after).
func (b *bitmap2) checkpoint(d *domain) {
	c := b.c
	G := int64(c.m.Granule)
	l := b.lists[d.id]
	c.ch.stall += l.pending * G
	for _, p := range l.pages[l.cursor:] {
		wt := b.waiting[p.id]
		if c.upg > 0 {
			c.data.copyGranules(b.img.of(p), p.mem, wt, c.upg)
		}
		clear(wt)
		b.listed[p.id] = false
	}
	l.pages, l.cursor, l.pending = l.pages[:0], 0, 0
	b.dequeue(l)
	for _, p := range d.dirty {
		copy(b.waiting[p.id], p.marks)
		b.listed[p.id] = true
	}
	l.pages = append(l.pages, d.dirty...)
	l.pending = d.marked
	c.ch.copied += l.pending * G
	if l.pending > 0 {
		b.queue = append(b.queue, l)
	}
}

// advance moves the copier to program access n: it copies at the rate of b.rate bytes
// per access since the last access it saw, Controller.n (one access when a replay
// restarts the numbering), whole granules at a time, and banks nothing while idle.
func (b *bitmap2) advance(n int64) {
	if len(b.queue) == 0 {
		return // nothing waits: no credit
	}
	c := b.c
	var delta uint64
	switch {
	case n > c.n:
		delta = uint64(n - c.n)
	case n < c.n:
		delta = 1
	}
	if delta == 0 {
		return
	}
	G := c.m.Granule
	b.credit += delta * b.rate
	for b.credit >= G && len(b.queue) > 0 {
		l := b.queue[0]
		p, i := b.nextPending(l)
		b.copyOut(p, i)
		b.waiting[p.id][i>>6] &^= 1 << (i & 63)
		l.pending--
		b.background += int64(G)
		b.credit -= G
		if l.pending == 0 {
			b.dequeue(l)
		}
	}
}

// dequeue takes l, whose last waiting granule was just copied (by the copier, a forced
// copy or a checkpoint's stall), off the copier's queue; when nothing waits any more the
// copier's credit drops to zero (docs/memctl.md: credit is not banked while nothing
// waits). Precondition: l.pending == 0.
func (b *bitmap2) dequeue(l *copyList) {
	for k, q := range b.queue {
		if q == l {
			b.queue = append(b.queue[:k], b.queue[k+1:]...)
			break
		}
	}
	if len(b.queue) == 0 {
		b.credit = 0
	}
}

// nextPending returns the first granule of l awaiting its background copy.
// Precondition: l.pending > 0.
func (b *bitmap2) nextPending(l *copyList) (*page, uint64) {
	for l.cursor < len(l.pages) {
		p := l.pages[l.cursor]
		for w, x := range b.waiting[p.id] {
			if x != 0 {
				return p, uint64(w)*64 + uint64(bits.TrailingZeros64(x))
			}
		}
		b.listed[p.id] = false
		l.cursor++
	}
	panic(fmt.Sprintf("memctl: domain %d has %d pending granules but none in its list", l.id, l.pending))
}

// counters: bitmap's, the common background_bytes (the copier's bytes, also its own
// counter of that key), and own background_bytes, forced_copies, forced_bytes,
// pending_bytes.
func (b *bitmap2) counters(k *scheme.Tally) {
	b.bitmap.counters(k)
	G := int64(b.c.m.Granule)
	var pending int64
	for _, l := range b.lists {
		pending += l.pending
	}
	k.BackgroundBytes += b.background
	o := scheme.Own[Bitmap2Counts](k)
	o.BackgroundBytes += b.background
	o.ForcedCopies += b.forced
	o.ForcedBytes += b.forced * G
	o.PendingBytes += pending * G
}

func (b *bitmap2) check() error {
	c := b.c
	if err := b.img.check(c); err != nil {
		return err
	}
	if len(b.waiting) != len(c.pages) || len(b.listed) != len(c.pages) || len(b.lists) != len(c.doms) {
		return fmt.Errorf("bitmap2 keeps %d waiting bitmaps and %d list flags for %d pages, %d copy lists for %d domains",
			len(b.waiting), len(b.listed), len(c.pages), len(b.lists), len(c.doms))
	}
	for di, d := range c.doms {
		l := b.lists[di]
		var pending, listed int64
		for _, p := range d.pages {
			wt := b.waiting[p.id]
			for w := range wt {
				if wt[w]&^p.touched[w] != 0 || wt[w]&p.marks[w] != 0 {
					return fmt.Errorf("page %v: a granule awaiting its copy is untouched or written since the checkpoint", p.key)
				}
			}
			n := popcount(wt)
			pending += n
			if n > 0 && !b.listed[p.id] {
				return fmt.Errorf("page %v awaits copies but is not on its domain's copy list", p.key)
			}
			if b.listed[p.id] {
				listed++
			}
		}
		for _, p := range l.pages[l.cursor:] {
			if p.dom != d || !b.listed[p.id] {
				return fmt.Errorf("domain %d: page %v on the copy list is not marked as on it", d.id, p.key)
			}
		}
		if l.id != d.id || pending != l.pending || listed != int64(len(l.pages)-l.cursor) {
			return fmt.Errorf("domain %d: %d granules await copy on %d pages, counted %d on %d", d.id, pending, listed, l.pending, len(l.pages)-l.cursor)
		}
		queued := 0
		for _, q := range b.queue {
			if q == l {
				queued++
			}
		}
		if l.pending > 0 && queued != 1 || l.pending == 0 && queued != 0 {
			return fmt.Errorf("domain %d awaits %d copies but is queued %d times", d.id, l.pending, queued)
		}
	}
	if b.credit >= c.m.Granule || len(b.queue) == 0 && b.credit != 0 {
		return fmt.Errorf("the copier holds %d bytes of credit with %d domains waiting (want less than a granule, and none while nothing waits)", b.credit, len(b.queue))
	}
	return b.checkImage(func(p *page) []uint64 { return b.waiting[p.id] })
}
