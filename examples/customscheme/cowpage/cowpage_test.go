package cowpage_test

import (
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/schemetest"

	"github.com/vmsim/vmsim/examples/customscheme/cowpage"
)

// TestConformance runs vmsim's conformance suite on cowpage, in a registry of its own,
// with and without --max-saved (which makes it ask for checkpoints).
func TestConformance(t *testing.T) {
	reg := scheme.NewRegistry()
	reg.Register(cowpage.Info())
	schemetest.Conformance(t, reg, "cowpage", schemetest.Options{Params: []map[string]string{nil, {"max-saved": "5"}}})
}
