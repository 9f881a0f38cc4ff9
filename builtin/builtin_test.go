package builtin_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/scheme"
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
			i.RecoversTransient != d.RecoversTransient || i.RecoversCrash != d.RecoversCrash || i.Pages != d.Pages {
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
