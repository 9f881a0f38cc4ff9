package sweep

import (
	"errors"
	"testing"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
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

// TestOwnBaselineNotRunTwice: a point of none with the baseline's settings is its own
// baseline (OwnBaseline): its counters are seeded as the baseline's, and a later point
// with that baseline reads them without reading the trace again; a point that is not its
// own baseline is not one.
func TestOwnBaselineNotRunTwice(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(c *sim.Config)
		own  bool
	}{
		{"none with the defaults", func(c *sim.Config) { c.Scheme = "none" }, true},
		{"none with frames, a window and a cache", func(c *sim.Config) {
			c.Scheme, c.Frames, c.Skip, c.MaxRefs, c.CacheSize = "none", 8, 10, 100, 32<<10
		}, true},
		{"none with an empty fail-at", func(c *sim.Config) { c.Scheme, c.FailAt = "none", []int64{} }, true},
		{"none verified", func(c *sim.Config) { c.Scheme, c.Verify = "none", true }, false},
		{"none checkpointing", func(c *sim.Config) { c.Scheme, c.Interval = "none", 2 }, false},
		{"none with failures", func(c *sim.Config) { c.Scheme, c.MTBF = "none", 1000 }, false},
		{"dualmap", func(c *sim.Config) { c.Scheme = "dualmap" }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := sim.DefaultConfig()
			tt.set(&c)
			if got := OwnBaseline(c); got != tt.own {
				t.Fatalf("OwnBaseline = %v, want %v", got, tt.own)
			}
			if !tt.own {
				return
			}
			b := &baselines{m: map[string]*baseline{}}
			want := sim.Stats{Refs: 42, Checkpoints: 7}
			if got, err := b.seed(c, want); err != nil || got != want {
				t.Fatalf("seed = %+v, %v", got, err)
			}
			opens := 0
			open := func() (traces.Reader, error) { opens++; return nil, errors.New("read") }
			got, err := b.get(c, nil, open)
			if err != nil || got != want || opens != 0 {
				t.Errorf("get after seed = %+v, %v, %d opens; want the seeded counters, no open", got, err, opens)
			}
		})
	}
}
