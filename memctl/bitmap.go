package memctl

import (
	"fmt"

	"github.com/vmsim/vmsim/scheme"
)

// bitmap marks the granules written since the checkpoint (the controller's marks): a
// checkpoint copies the marked granules into a local shadow, the program stopped; a
// rollback copies them back. bitmap2 is bitmap with a background copier.
type bitmap struct {
	c *Controller
	// img is the shadow: each granule as of its domain's last checkpoint, except those
	// awaiting bitmap2's copier. Invariant (checked by checkImage): on every granule
	// neither marked nor awaiting a copy, the shadow equals memory.
	img image
}

func newBitmap(c *Controller) *bitmap { return &bitmap{c: c, img: newImage(c)} }

func (b *bitmap) addDomain(*domain) {}

func (b *bitmap) addPage(p *page) { b.img.add(p) }

// firstWrite: the controller's mark is all that bitmap keeps.
func (b *bitmap) firstWrite(*page, uint64, bool) {}

func (b *bitmap) checkpoint(d *domain) {
	c := b.c
	n := d.marked * int64(c.m.Granule)
	c.ch.copied += n
	c.ch.stall += n
	if c.upg > 0 {
		for _, p := range d.dirty {
			c.data.copyGranules(b.img.of(p), p.mem, p.marks, c.upg)
		}
	}
}

// rollback copies the marked granules back from the shadow. For bitmap2, a granule still
// awaiting its background copy was not written since the checkpoint (a write would have
// copied it first): memory holds its checkpoint value, and its copy goes on.
func (b *bitmap) rollback(d *domain) {
	c := b.c
	c.ch.recovery += d.marked * int64(c.m.Granule)
	if c.upg > 0 {
		for _, p := range d.dirty {
			copyGranules(p.mem, b.img.of(p), p.marks, c.upg)
		}
	}
}

// counters: the shadow holds every touched granule; no own counters.
func (b *bitmap) counters(k *scheme.Tally) {
	k.MemOverheadPeakBytes += b.c.touchedAll * int64(b.c.m.Granule)
}

func (b *bitmap) check() error {
	if err := b.img.check(b.c); err != nil {
		return err
	}
	return b.checkImage(func(*page) []uint64 { return nil })
}

// checkImage verifies, when verifying, that the shadow equals memory on every granule
// neither marked nor set in waiting(p) (nil: none).
func (b *bitmap) checkImage(waiting func(p *page) []uint64) error {
	c := b.c
	if c.upg == 0 {
		return nil
	}
	for _, p := range c.pages {
		alt, wait := b.img.of(p), waiting(p)
		for i := uint64(0); i < c.gpp; i++ {
			w, bit := i>>6, uint64(1)<<(i&63)
			if p.marks[w]&bit != 0 || wait != nil && wait[w]&bit != 0 {
				continue
			}
			for u := i * c.upg; u < (i+1)*c.upg; u++ {
				if p.mem[u] != alt[u] {
					return fmt.Errorf("page %v granule %d: shadow differs from memory though not written since the checkpoint", p.key, i)
				}
			}
		}
	}
	return nil
}
