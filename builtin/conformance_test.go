package builtin_test

import (
	"testing"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/schemetest"
)

// TestConformance runs the conformance suite, which a scheme of another module runs in
// its own tests, on every built-in scheme, in a registry of its own.
func TestConformance(t *testing.T) {
	reg := builtin.NewRegistry()
	params := map[string][]map[string]string{
		"cacheline":   {nil, {"log-entries": "40"}}, // logs fill: forced checkpoints
		"bitmap2":     {nil, {"copy-rate": "0"}, {"copy-rate": "4096"}},
		"incremental": {nil, {"merge-every": "2", "mirror-cache": "16K", "mirror-flush-every": "3000"}},
	}
	for _, name := range reg.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			schemetest.Conformance(t, reg, name, schemetest.Options{Params: params[name]})
		})
	}
}
