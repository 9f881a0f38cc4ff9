package builtin_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// TestNewRegistryHoldsTheBuiltins: a new registry of built-ins holds exactly the schemes
// the built-in packages registered process-wide (in this test binary nothing else
// registers any), each with the same description; registries are independent of each
// other and of the process-wide one, so that a test can add a scheme to one and throw it
// away.
func TestNewRegistryHoldsTheBuiltins(t *testing.T) {
	want := builtin.Registry().Names()
	if builtin.Registry() != scheme.Default() {
		t.Fatal("builtin.Registry is not the process-wide registry")
	}
	if len(want) < 12 {
		t.Fatalf("process-wide registry: %v", want)
	}
	a, b := builtin.NewRegistry(), builtin.NewRegistry()
	if got := a.Names(); !slices.Equal(got, want) {
		t.Fatalf("NewRegistry holds %v, the process-wide registry %v", got, want)
	}
	for _, i := range a.All() {
		d, _ := scheme.Lookup(i.Name)
		if i.Doc != d.Doc || i.Level != d.Level || len(i.Params) != len(d.Params) || len(i.OwnDefs()) != len(d.OwnDefs()) ||
			i.RecoversTransient != d.RecoversTransient || i.RecoversCrash != d.RecoversCrash || i.VolatileCheckpoints != d.VolatileCheckpoints {
			t.Errorf("%s: NewRegistry's Info differs from the one registered", i.Name)
		}
	}
	extra := scheme.Info{Name: "extra", Doc: "a test's own", New: func(scheme.Machine, scheme.Params) (scheme.Scheme, error) { return nil, nil }}
	a.Register(extra)
	if _, ok := b.Lookup("extra"); ok {
		t.Error("a scheme registered in one registry is in another")
	}
	if _, ok := scheme.Lookup("extra"); ok {
		t.Error("a scheme registered in a new registry is in the process-wide one")
	}
}

// TestDriverImportsNoScheme: the driver (sim) depends on no scheme package; the
// built-ins are registered by this package, which the command and the tests import.
func TestDriverImportsNoScheme(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(gotool, "list", "-deps", "github.com/vmsim/vmsim/sim", "github.com/vmsim/vmsim/scheme").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, s := range []string{"mmu", "memctl", "repl", "incremental", "snaplog", "builtin"} {
			if p == "github.com/vmsim/vmsim/"+s {
				t.Errorf("sim or scheme depends on %s", p)
			}
		}
	}
}

// TestEndValues: the counters that say what was left when the run ended are of kind end,
// so that --warmup keeps their value at the end instead of subtracting the value at the
// end of the warm-up (which would report, say, outputs held at the end minus those held
// when the warm-up ended).
func TestEndValues(t *testing.T) {
	kind := func(defs []scheme.CounterDef, key string) (scheme.CounterKind, bool) {
		for _, d := range defs {
			if d.Key == key {
				return d.Kind, true
			}
		}
		return 0, false
	}
	for _, tt := range []struct{ scheme, key string }{
		{"", "io_held_at_end"}, // the driver's
		{"incremental", "restore_read_bytes"},
		{"bitmap2", "pending_bytes"},
		{"", "cache_dirty_at_end"},
	} {
		t.Run(tt.scheme+"/"+tt.key, func(t *testing.T) {
			defs := sim.CounterDefs()
			if tt.scheme != "" {
				i, ok := builtin.Registry().Lookup(tt.scheme)
				if !ok {
					t.Fatalf("no scheme %s", tt.scheme)
				}
				defs = i.OwnDefs()
			}
			k, ok := kind(defs, tt.key)
			if !ok {
				t.Fatalf("no counter %s", tt.key)
			}
			if k != scheme.End {
				t.Errorf("%s is a %v, want an end value", tt.key, k)
			}
		})
	}
}
