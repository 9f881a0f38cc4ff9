package cli

import (
	"testing"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// TestRunBaselineReusesRun: vmsim run reads the trace a second time for its baseline only
// when the baseline differs from the run; a run of scheme none with the baseline's
// settings is its own baseline (the lackey regression of issue 26: every run of none read
// and parsed its trace twice), and the overhead comes out the same.
func TestRunBaselineReusesRun(t *testing.T) {
	recs := []traces.Record{
		{Addr: 0x1000, Size: 1, Kind: traces.Write},
		{Addr: 0x2000, Size: 1, Kind: traces.Read},
		{Addr: 0x3000, Size: 1, Kind: traces.Write},
		{Addr: 0x1000, Size: 1, Kind: traces.Read},
	}
	for _, tt := range []struct {
		name   string
		set    func(c *sim.Config)
		reread bool
	}{
		{"none with the defaults", func(c *sim.Config) { c.Scheme = "none" }, false},
		{"none with frames and clock", func(c *sim.Config) { c.Scheme, c.Frames, c.Replace = "none", 2, "clock" }, false},
		{"none with an empty --fail-at", func(c *sim.Config) { c.Scheme, c.FailAt = "none", []int64{} }, false},
		{"none verified", func(c *sim.Config) { c.Scheme, c.Verify = "none", true }, true},
		{"none checkpointing", func(c *sim.Config) { c.Scheme, c.Interval = "none", 2 }, true},
		{"dualmap", func(c *sim.Config) { c.Scheme = "dualmap" }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := sim.DefaultConfig()
			tt.set(&c)
			opens := 0
			open := func() (traces.Reader, error) { opens++; return traces.NewSliceReader(recs), nil }
			res, err := sim.RunWith(c, open, sim.Options{Registry: builtin.Registry()})
			if err != nil {
				t.Fatal(err)
			}
			opens = 0
			base, err := runBaseline(res, builtin.Registry(), open)
			if err != nil {
				t.Fatal(err)
			}
			if got := opens > 0; got != tt.reread {
				t.Errorf("the baseline read the trace %d times; want a second pass %v", opens, tt.reread)
			}
			if !tt.reread && base != res.Stats {
				t.Errorf("baseline %+v, want the run's %+v", base, res.Stats)
			}
		})
	}
}
