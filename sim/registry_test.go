package sim_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// TestRegistryOption: a run looks its scheme up in Options.Registry, a registry a test
// makes, fills and throws away; the process-wide registry does not know that scheme.
// Messages list the schemes of the registry in use, asked at the time of the run (not
// when sim was loaded): an unknown --scheme names them, and a setting given to a scheme
// that does not model it names those of the registry that do.
func TestRegistryOption(t *testing.T) {
	reg := scheme.NewRegistry()
	reg.Register(scheme.Info{Name: "pagecopy", Doc: "copy the pages written since the last checkpoint into a shadow",
		Level: scheme.LevelCPU, RecoversTransient: true,
		Own: new(pageCopyCounts),
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
			return &pageCopy{m: m, mem: map[uint64][]uint64{}, shadow: map[uint64][]uint64{}, dirty: map[uint64]bool{}}, nil
		}})
	reg.Register(scheme.Info{Name: "pager", Doc: "a scheme that pages", Level: scheme.LevelCPU, Params: []scheme.Param{{Name: "frames", Default: "0", Doc: "real frames"}},
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) { return nil, errors.New("never built") }})
	recs := []traces.Record{{Addr: 0x1000, Size: 8, Kind: traces.Write}, {Kind: traces.Checkpoint}, {Addr: 0x1000, Size: 8, Kind: traces.Read}}
	open := func() (traces.Reader, error) { return traces.NewSliceReader(recs), nil }
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Verify = "pagecopy", true

	res, err := sim.RunWith(cfg, open, sim.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.Stats.Scheme.Get("pages_copied"); n != 1 || res.Stats.Checkpoints != 1 || res.Stats.VerifyMismatches != 0 {
		t.Errorf("stats %+v", res.Stats)
	}
	if err := cfg.ValidateIn(reg); err != nil {
		t.Errorf("ValidateIn: %v", err)
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"not process-wide", cfg.Validate(), `--scheme "pagecopy": want one of [bitmap`},
		{"not process-wide run", func() error { _, err := sim.Run(cfg, open); return err }(), `--scheme "pagecopy": want one of [bitmap`},
		{"unknown", func() error { c := cfg; c.Scheme = "nope"; return c.ValidateIn(reg) }(), `--scheme "nope": want one of [pagecopy pager]`},
		{"takers from the registry", func() error { c := cfg; c.Frames = 8; return c.ValidateIn(reg) }(), "--frames applies only to pager "},
	} {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, tt.err, tt.want)
		}
	}
}
