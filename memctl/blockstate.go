package memctl

import (
	"fmt"

	"github.com/vmsim/vmsim/scheme"
)

// blockstate keeps two physical copies of every granule and a state bit saying which is
// current: the first write to a granule since the checkpoint goes to the other copy, which
// becomes current (a partial write first copies the checkpoint copy there: a merge); a
// checkpoint changes no data, only which copy is the checkpoint's; a rollback switches
// every granule written since back to its checkpoint copy. The written granules are the
// controller's marks.
//
// The hardware selects a granule's current copy by its state bit and moves no data when it
// flips; the model keeps the current copy's stamps in memory (page.mem) whichever it is,
// by swapping the granule's two copies of stamps at each flip, so that memory is one slice
// per page for the verifier, as for the other strategies (this moves no bytes in any
// counter).
type blockstate struct {
	c *Controller
	// current holds, by page number, each granule's state bit: which physical copy is
	// current. Invariant: len(current) == len(Controller.pages), len(current[id]) ==
	// Controller.words.
	current [][]uint64
	// other holds the stamps of each granule's other copy: the checkpoint copy of a marked
	// granule; of an unmarked one, the copy the next first write overwrites. Invariant:
	// see image.
	other image

	ckptFlips, rollFlips, merges int64
}

func newBlockState(c *Controller) *blockstate { return &blockstate{c: c, other: newImage(c)} }

func (b *blockstate) addDomain(*domain) {}

func (b *blockstate) addPage(p *page) {
	b.current = append(b.current, make([]uint64, b.c.words))
	b.other.add(p)
}

func (b *blockstate) firstWrite(p *page, i uint64, full bool) {
	c := b.c
	b.current[p.id][i>>6] ^= 1 << (i & 63)
	if c.upg > 0 {
		swapUnits(c.units(p.mem, i), c.units(b.other.of(p), i))
	}
	if !full {
		b.merges++
		c.ch.copied += int64(c.m.Granule)
		if c.upg > 0 {
			c.data.copyGranule(c.units(p.mem, i), c.units(b.other.of(p), i))
		}
	}
}

// checkpoint: the granules written since the last one flip their state bits' meaning.
func (b *blockstate) checkpoint(d *domain) { b.ckptFlips += d.marked }

// rollback switches each granule written since the checkpoint back to its checkpoint copy.
func (b *blockstate) rollback(d *domain) {
	c := b.c
	for _, p := range d.dirty {
		cur := b.current[p.id]
		for w, x := range p.marks {
			cur[w] ^= x
		}
		if c.upg > 0 {
			c.data.swapGranules(p.mem, b.other.of(p), p.marks, c.upg)
		}
	}
	b.rollFlips += d.marked
}

// counters: the second copies of every touched granule; own checkpoint_flips,
// rollback_flips, merges.
func (b *blockstate) counters(k *scheme.Tally) {
	k.MemOverheadPeakBytes += b.c.touchedAll * int64(b.c.m.Granule)
	o := scheme.Own[BlockStateCounts](k)
	o.CheckpointFlips += b.ckptFlips
	o.RollbackFlips += b.rollFlips
	o.Merges += b.merges
}

func (b *blockstate) check() error {
	c := b.c
	if len(b.current) != len(c.pages) {
		return fmt.Errorf("blockstate keeps state bits for %d pages of %d", len(b.current), len(c.pages))
	}
	for id, cur := range b.current {
		if len(cur) != c.words {
			return fmt.Errorf("blockstate keeps %d words of state bits for page number %d, want %d", len(cur), id, c.words)
		}
	}
	return b.other.check(c)
}
