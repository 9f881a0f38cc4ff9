package sweep

import (
	"testing"

	"github.com/vmsim/vmsim/sim"
)

// TestBaselineConfig: the baseline keeps the paging settings, whatever the scheme (one that
// models no paging is charged the baseline's paging by the overhead rule); and every
// baseline is a valid configuration of none (no setting none does not model).
func TestBaselineConfig(t *testing.T) {
	for _, tt := range []struct {
		name    string
		set     func(c *sim.Config)
		initial string
		frames  int
	}{
		{"dualmap keeps its paging settings", func(c *sim.Config) { c.Frames, c.Replace, c.VBits, c.Cow = 8, "lru", 3, "remap" }, "image", 8},
		{"dualmap zero-filled", func(c *sim.Config) { c.Initial = "zero" }, "zero", 0},
		{"dualmap volatile with its page-table entries' size", func(c *sim.Config) { c.Memory, c.PTEBytes, c.Frames = sim.MemoryVolatile, 8, 4 }, "image", 4},
		{"remus: the same baseline as dualmap", func(c *sim.Config) { c.Scheme, c.Interval = "remus", 100 }, "image", 0},
		{"bitmap at another granule", func(c *sim.Config) { c.Scheme, c.Granule, c.CacheSize = "bitmap", 256, 4096 }, "image", 0},
		{"incremental tagging its TLB", func(c *sim.Config) { c.Scheme, c.TLBEntries, c.TLBCheckpoint = "incremental", 16, "tag" }, "image", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := sim.DefaultConfig()
			tt.set(&c)
			if err := c.Validate(); err != nil {
				t.Fatalf("the point: %v", err)
			}
			b := BaselineConfig(c)
			if b.Scheme != "none" || b.Initial != tt.initial || b.Frames != tt.frames || b.Interval != 0 {
				t.Errorf("baseline %+v: want none, --initial %s, --frames %d, no interval", b, tt.initial, tt.frames)
			}
			if err := b.Validate(); err != nil {
				t.Errorf("the baseline: %v", err)
			}
		})
	}
}
