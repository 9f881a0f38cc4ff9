package sim

// The built-in schemes register themselves when their packages load. A scheme from
// another module registers itself the same way (scheme.Register) and needs no change here.
import (
	_ "github.com/vmsim/vmsim/incremental"
	_ "github.com/vmsim/vmsim/memctl"
	_ "github.com/vmsim/vmsim/mmu"
	_ "github.com/vmsim/vmsim/repl"
	_ "github.com/vmsim/vmsim/snaplog"
)
