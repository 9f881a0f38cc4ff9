package reproduce_test

import (
	"fmt"

	"github.com/vmsim/vmsim/reproduce"
)

// The cost sets of the comparative study, each validated (a source for every value).
func ExampleCostSets() {
	for _, cs := range reproduce.CostSets() {
		fmt.Printf("%s: trap %g ns, copy %g GB/s, valid: %v\n", cs.Name, cs.Model.TrapNs, cs.Model.CopyBytesPerSec/1e9, cs.Validate() == nil)
	}
	// Output:
	// measured: trap 2100 ns, copy 6.5 GB/s, valid: true
	// hw-assisted: trap 100 ns, copy 25.6 GB/s, valid: true
	// 1992: trap 20000 ns, copy 0.01 GB/s, valid: true
}
