package cli

import (
	"fmt"
	"strings"

	"github.com/vmsim/vmsim/calibrate"
	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/sweep"
)

// costFlagHelp is the --cost flag's help, shared by run, sweep and reproduce.
const costFlagHelp = "the cost model: FILE, a cost file (the JSON vmsim calibrate writes, or an object of cost keys and numbers), and/or KEY=V, one cost set over it (repeatable; keys in vmsim sweep --help)"

// splitCostFlags parses --cost values: at most one FILE (a value without "="), loaded
// into the base set (nil: none given), and KEY=V overrides, returned as a map.
func splitCostFlags(values []string) (*cost.Set, map[string]any, error) {
	var base *cost.Set
	var kvs []string
	for _, v := range values {
		if strings.Contains(v, "=") {
			kvs = append(kvs, v)
			continue
		}
		if base != nil {
			return nil, nil, fmt.Errorf("--cost %s: a second cost file (%s was given): give one", v, base.Name)
		}
		s, err := calibrate.LoadCosts(v)
		if err != nil {
			return nil, nil, fmt.Errorf("--cost: %w", err)
		}
		base = &s
	}
	var m map[string]any
	if err := applyKV(&m, kvs); err != nil {
		return nil, nil, fmt.Errorf("--cost: %w", err)
	}
	return base, m, nil
}

// costSet is the cost set that --cost values give: the defaults or the file's, with the
// values set.
func costSet(values []string) (cost.Set, error) {
	base, m, err := splitCostFlags(values)
	if err != nil {
		return cost.Set{}, err
	}
	if base == nil {
		d := cost.DefaultSet()
		base = &d
	}
	set, err := sweep.Costs(*base, m)
	if err != nil {
		return cost.Set{}, fmt.Errorf("--cost: %w", err)
	}
	return set, nil
}
