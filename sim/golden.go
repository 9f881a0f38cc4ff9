package sim

import "github.com/vmsim/vmsim/traces"

// golden is the independent reference model used by --verify. It shares no code with the
// schemes: memory is a plain map from block to the stamp (access number) of the last
// write to it, and each domain keeps an undo log of the blocks written since its last
// checkpoint, holding their values at that checkpoint (in effect, a snapshot of the
// domain taken at every checkpoint).
type golden struct {
	mem  map[gkey]uint64
	undo []map[gkey]uint64 // per domain: block -> value at the last checkpoint
	dom  func(traces.ASID) int
}

type gkey struct {
	asid  traces.ASID
	block uint64 // address / block size
}

func newGolden(dom func(traces.ASID) int) *golden {
	return &golden{mem: map[gkey]uint64{}, dom: dom}
}

func (g *golden) log(asid traces.ASID) map[gkey]uint64 {
	d := g.dom(asid)
	for len(g.undo) <= d {
		g.undo = append(g.undo, map[gkey]uint64{})
	}
	return g.undo[d]
}

func (g *golden) read(asid traces.ASID, block uint64) uint64 { return g.mem[gkey{asid, block}] }

func (g *golden) write(asid traces.ASID, block, stamp uint64) {
	k := gkey{asid, block}
	u := g.log(asid)
	if _, saved := u[k]; !saved {
		u[k] = g.mem[k] // 0 if never written: the initial content
	}
	g.mem[k] = stamp
}

// checkpoint makes domain d's current memory its checkpoint.
func (g *golden) checkpoint(d int) {
	if d < len(g.undo) {
		clear(g.undo[d])
	}
}

// rollback returns domain d's blocks to their values at its last checkpoint. Blocks
// first written since then keep an entry (0), so that later comparisons cover them.
func (g *golden) rollback(d int) {
	if d >= len(g.undo) {
		return
	}
	for k, v := range g.undo[d] {
		g.mem[k] = v
	}
	clear(g.undo[d])
}
