package memctl

import (
	"fmt"

	"github.com/vmsim/vmsim/scheme"
)

// shadowRemote keeps the shadow image on a backup computer: a checkpoint sends every
// granule the domain has touched over the link, the program stopped; a rollback, and the
// recovery from a crash of volatile memory, copy them back from the backup.
type shadowRemote struct {
	c *Controller
	// link is where checkpoints send granules; backup is the backup computer, which a link
	// must deliver to. Invariant: link and backup are non-nil.
	link   Link
	backup *Backup
	// ownLink: link is backup (no Link was given).
	// Invariant: when ownLink, backup.Received == Controller.ch.toBackup.
	ownLink bool
}

func newShadowRemote(c *Controller, link Link) *shadowRemote {
	r := &shadowRemote{c: c, backup: NewBackup(c.m.Granule, c.m.PageSize, c.upg), link: link}
	if r.link == nil {
		r.link, r.ownLink = r.backup, true
	}
	return r
}

func (r *shadowRemote) addDomain(*domain) {}

func (r *shadowRemote) addPage(*page) {}

func (r *shadowRemote) checkpoint(d *domain) {
	c := r.c
	G := int64(c.m.Granule)
	n := d.touched * G
	c.ch.toBackup += n
	c.ch.stall += n
	if c.upg == 0 && r.ownLink {
		r.backup.Received += n
		return
	}
	if r.ownLink {
		// The controller's own backup: the same data as a Send per granule, a run of
		// granules at a time.
		for _, p := range d.pages {
			r.backup.sendPage(p.key.asid, p.key.vpn, p.touched, p.mem)
		}
		return
	}
	per := c.pshift - c.gshift
	for _, p := range d.pages {
		eachBit(p.touched, func(i uint64) {
			var data []uint64
			if c.upg > 0 {
				data = c.units(p.mem, i)
			}
			r.link.Send(d.id, scheme.Page{ASID: p.key.asid, N: p.key.vpn<<per | i}, data)
		})
	}
	r.link.Commit(d.id)
}

func (r *shadowRemote) rollback(d *domain) { r.restore(d) }

// crash loses volatile memory and recovers every domain from the backup.
func (r *shadowRemote) crash() {
	for _, d := range r.c.doms {
		if r.c.upg > 0 {
			for _, p := range d.pages {
				clear(p.mem) // lost
			}
		}
		r.restore(d)
	}
}

// restore copies every touched granule of d back from the backup.
func (r *shadowRemote) restore(d *domain) {
	c := r.c
	c.ch.recovery += d.touched * int64(c.m.Granule)
	if c.upg == 0 {
		return
	}
	per := c.pshift - c.gshift
	for _, p := range d.pages {
		eachBit(p.touched, func(i uint64) {
			r.backup.Fetch(d.id, scheme.Page{ASID: p.key.asid, N: p.key.vpn<<per | i}, c.units(p.mem, i))
		})
	}
}

// counters: the backup holds every touched granule; own: touched_granules.
func (r *shadowRemote) counters(k *scheme.Tally) {
	k.MemOverheadPeakBytes += r.c.touchedAll * int64(r.c.m.Granule)
	scheme.Own[ShadowCounts](k).TouchedGranules += r.c.touchedAll
}

func (r *shadowRemote) check() error {
	if r.link == nil || r.backup == nil {
		return fmt.Errorf("shadow-remote without a link or a backup")
	}
	if r.backup.pages != nil {
		if err := r.backup.pages.Check(); err != nil {
			return fmt.Errorf("the backup's image: %w", err)
		}
	}
	if r.ownLink && r.backup.Received != r.c.ch.toBackup {
		return fmt.Errorf("the backup received %d bytes, %d sent", r.backup.Received, r.c.ch.toBackup)
	}
	return nil
}
