package memctl

import "github.com/vmsim/vmsim/scheme"

// shadow keeps a local shadow image of memory: a checkpoint copies every granule the
// domain has touched into it, the program stopped; a rollback copies them back.
type shadow struct {
	c *Controller
	// img is the shadow: each touched granule as of its domain's last checkpoint (0, the
	// initial content, before the first). Invariant: see image.
	img image
}

func newShadow(c *Controller) *shadow { return &shadow{c: c, img: newImage(c)} }

func (s *shadow) addDomain(*domain) {}

func (s *shadow) addPage(p *page) { s.img.add(p) }

func (s *shadow) checkpoint(d *domain) {
	c := s.c
	n := d.touched * int64(c.m.Granule)
	c.ch.copied += n
	c.ch.stall += n
	if c.upg > 0 {
		for _, p := range d.pages {
			c.data.copyGranules(s.img.of(p), p.mem, p.touched, c.upg)
		}
	}
}

func (s *shadow) rollback(d *domain) {
	c := s.c
	c.ch.recovery += d.touched * int64(c.m.Granule)
	if c.upg > 0 {
		for _, p := range d.pages {
			copyGranules(p.mem, s.img.of(p), p.touched, c.upg)
		}
	}
}

// counters: the shadow holds every touched granule; own: touched_granules.
func (s *shadow) counters(k *scheme.Tally) {
	k.MemOverheadPeakBytes += s.c.touchedAll * int64(s.c.m.Granule)
	scheme.Own[ShadowCounts](k).TouchedGranules += s.c.touchedAll
}

func (s *shadow) check() error { return s.img.check(s.c) }
