package memctl

import (
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// checkedController returns a controller set to s (granule 64, verifying by granule, a
// copier that never copies), after writes to granules 0 and 1 of page 0 and 0 of page 1,
// a read of page 2, a checkpoint, then writes to granule 2 of page 0 and 1 of page 1:
// every strategy then holds marks, and bitmap2 granules waiting.
func checkedController(t *testing.T, s Strategy) *Controller {
	t.Helper()
	m := scheme.Machine{PageSize: 4096, Granule: 64, VerifyBlock: 64, RequestCheckpoint: func(scheme.Domain) {}}
	c, err := New(s, m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	acc := func(addr uint64, k traces.Kind) {
		n++
		schemetest.Perform(c, n, traces.Record{Addr: addr, Size: 8, Kind: k})
		if k.Writes() {
			sim.Store(c, m, 0, addr/64, []uint64{uint64(n)})
		}
	}
	acc(0x0, traces.Write)
	acc(0x40, traces.Modify)
	acc(0x1000, traces.Write)
	acc(0x2000, traces.Read)
	c.Checkpoint(0)
	acc(0x80, traces.Write)
	acc(0x1040, traces.Write)
	if err := c.Check(); err != nil {
		t.Fatalf("%s before any damage: %v", s, err)
	}
	return c
}

// TestCheckFindsDamage damages, one at a time, each invariant the controller and each
// strategy write on their fields: Check must report every one.
func TestCheckFindsDamage(t *testing.T) {
	page := func(c *Controller, vpn uint64) *page { return c.find(0, vpn) }
	for _, tt := range []struct {
		name   string
		s      Strategy
		damage func(c *Controller)
	}{
		{"touched count", Bitmap, func(c *Controller) { page(c, 2).touched[0] |= 1 << 5 }},
		{"written count", Shadow, func(c *Controller) { page(c, 2).written = true }},
		{"page number", Shadow, func(c *Controller) { page(c, 1).id = 0 }},
		{"mark on an untouched granule", Undo, func(c *Controller) { page(c, 0).marks[0] |= 1 << 9 }},
		{"marks off the dirty list", BlockState, func(c *Controller) {
			p := page(c, 0)
			d := p.dom
			d.dirty = d.dirty[1:] // page 1 only
			p.inDirty = false
			page(c, 2).inDirty = true
			d.dirty = append(d.dirty, page(c, 2))
		}},
		{"dirty list holds a page not marked as on it", Bitmap, func(c *Controller) {
			d := page(c, 0).dom
			d.dirty[0] = page(c, 2) // page 0 keeps its marks and inDirty: the counts agree
		}},
		{"domain of an address space", Shadow, func(c *Controller) { c.domOf[7] = &domain{id: 3} }},
		{"shadow image missing a page", Shadow, func(c *Controller) {
			r := c.s.(*shadow)
			r.img.pages = r.img.pages[:1]
		}},
		{"backup received", ShadowRemote, func(c *Controller) { c.Backup().Received++ }},
		{"shadow differs from memory", Bitmap, func(c *Controller) { c.s.(*bitmap).img.of(page(c, 0))[0]++ }},
		{"bitmap2 shadow differs from memory", Bitmap2, func(c *Controller) { c.s.(*bitmap2).img.of(page(c, 0))[3]++ }},
		{"waiting granule written", Bitmap2, func(c *Controller) { c.s.(*bitmap2).waiting[page(c, 0).id][0] |= 1 << 2 }},
		{"waiting page not listed", Bitmap2, func(c *Controller) { c.s.(*bitmap2).listed[page(c, 1).id] = false }},
		{"pending count", Bitmap2, func(c *Controller) { c.s.(*bitmap2).lists[0].pending++ }},
		{"queued twice", Bitmap2, func(c *Controller) {
			b := c.s.(*bitmap2)
			b.queue = append(b.queue, b.queue[0])
		}},
		{"credit of a granule", Bitmap2, func(c *Controller) { c.s.(*bitmap2).credit = 64 }},
		{"state bits missing a page", BlockState, func(c *Controller) {
			b := c.s.(*blockstate)
			b.current = b.current[:2]
		}},
		{"other copies missing a page", BlockState, func(c *Controller) {
			b := c.s.(*blockstate)
			b.other.pages = b.other.pages[:2]
		}},
		{"log entry count", Undo, func(c *Controller) {
			l := c.s.(*undo).logs[0]
			l.entries = l.entries[:1]
		}},
		{"log entry twice", Undo, func(c *Controller) {
			l := c.s.(*undo).logs[0]
			l.entries[1] = l.entries[0]
		}},
		{"log data", Undo, func(c *Controller) {
			l := c.s.(*undo).logs[0]
			l.data = l.data[:1]
		}},
		{"live log entries", Undo, func(c *Controller) { c.s.(*undo).live++ }},
	} {
		t.Run(tt.s.String()+"/"+tt.name, func(t *testing.T) {
			c := checkedController(t, tt.s)
			tt.damage(c)
			if err := c.Check(); err == nil {
				t.Fatal("Check found nothing")
			} else {
				t.Log(err)
			}
		})
	}
}
