package sim

import (
	"fmt"

	"github.com/vmsim/vmsim/traces"
)

// golden is the independent reference model used by --verify. It shares no code with the
// schemes: memory is a flat store of pages of stamps (the access number of the last write
// to each block), found through its own index of (address space, page); each domain keeps
// an undo log of the blocks written since its last checkpoint, holding their values at
// that checkpoint (in effect, a snapshot of the domain taken at every checkpoint).
type golden struct {
	blocks    uint64 // blocks a page
	pageShift uint   // log2 blocks a page
	// index is an open-addressing (linear probing) hash table of page id + 1, 0 for an
	// empty slot. Invariant: len(index) is a power of two, at least twice len(pages); every
	// page is in it once.
	index []int32
	pages []goldenPage
	doms  []goldenDomain
	dom   func(traces.ASID) int
	// recent is a direct-mapped cache of index, slot by the top bits of the page's hash
	// (not its low bits, which collide between a program's code, stack and data): the
	// pages of a program's working set, and those it reads but never wrote, are found
	// without probing the index.
	// Invariant: an entry with id >= 0 holds a page's key and its id; one with id ==
	// goldenAbsent the key of a page not in the model (creating a page rewrites the entry
	// of its key's slot); any other id (-1) is empty.
	recent [goldenRecent]goldenRecentEntry
	// memSlab and flagSlab are what is left of the latest allocation of pages' stamps and
	// flags (saved, known), handed out page by page.
	memSlab  []uint64
	flagSlab []bool
}

const (
	goldenRecentBits = 10
	goldenRecent     = 1 << goldenRecentBits
	goldenAbsent     = -2
	goldenSlabPages  = 64 // pages' stamps and flags are allocated this many at a time
)

type goldenRecentEntry struct {
	key gpage
	id  int32
	mem []uint64 // pages[id].mem
}

type gpage struct {
	asid traces.ASID
	vpn  uint64 // block / blocks a page
}

// goldenPage is one page of the model.
//
// Invariant: saved[b] holds for block b iff epoch equals its domain's epoch and b is in
// the domain's undo log since its last checkpoint.
type goldenPage struct {
	key   gpage
	mem   []uint64
	saved []bool
	known []bool // the block was written at least once: the blocks verifier.afterRecovery checks
	epoch uint64
	dom   int
}

type goldenDomain struct {
	epoch uint64 // checkpoints (and rollbacks) so far
	undo  []undoEntry
}

type undoEntry struct {
	page  int32
	block uint32
	old   uint64
}

func newGolden(blocksPerPage uint64, dom func(traces.ASID) int) *golden {
	shift := uint(0)
	for 1<<shift < blocksPerPage {
		shift++
	}
	g := &golden{blocks: blocksPerPage, pageShift: shift, index: make([]int32, 1024), dom: dom}
	for i := range g.recent {
		g.recent[i].id = -1
	}
	return g
}

func (k gpage) hash() uint64 {
	return (k.vpn ^ uint64(k.asid)<<47 ^ uint64(k.asid)>>17) * 0x9e3779b97f4a7c15
}

// find returns the slot of k in the index: where it is, or the empty slot where it goes.
func (g *golden) find(k gpage) (slot uint64, id int32) {
	mask := uint64(len(g.index) - 1)
	for i := k.hash() >> 20 & mask; ; i = (i + 1) & mask {
		v := g.index[i]
		if v == 0 || g.pages[v-1].key == k {
			return i, v - 1
		}
	}
}

func (g *golden) grow() {
	old := g.index
	g.index = make([]int32, 2*len(old))
	for _, v := range old {
		if v != 0 {
			slot, _ := g.find(g.pages[v-1].key)
			g.index[slot] = v
		}
	}
}

// page returns the page of block of asid, creating it (initial content, stamp 0) if create.
func (g *golden) page(asid traces.ASID, block uint64, create bool) (*goldenPage, int32) {
	k := gpage{asid, block >> g.pageShift}
	e := &g.recent[k.hash()>>(64-goldenRecentBits)]
	if e.key == k {
		switch {
		case e.id >= 0:
			return &g.pages[e.id], e.id
		case e.id == goldenAbsent && !create:
			return nil, -1
		}
	}
	slot, id := g.find(k)
	if id < 0 {
		if !create {
			e.key, e.id, e.mem = k, goldenAbsent, nil
			return nil, -1
		}
		id = int32(len(g.pages))
		d := g.dom(asid)
		for len(g.doms) <= d {
			g.doms = append(g.doms, goldenDomain{})
		}
		if len(g.memSlab) == 0 {
			g.memSlab = make([]uint64, goldenSlabPages*g.blocks)
			g.flagSlab = make([]bool, 2*goldenSlabPages*g.blocks)
		}
		mem, saved, known := g.memSlab[:g.blocks:g.blocks], g.flagSlab[:g.blocks:g.blocks], g.flagSlab[g.blocks:2*g.blocks:2*g.blocks]
		g.memSlab, g.flagSlab = g.memSlab[g.blocks:], g.flagSlab[2*g.blocks:]
		g.pages = append(g.pages, goldenPage{key: k, mem: mem, saved: saved, known: known, dom: d})
		g.index[slot] = id + 1
		if 2*len(g.pages) > len(g.index) {
			g.grow()
		}
	}
	e.key, e.id, e.mem = k, id, g.pages[id].mem
	return &g.pages[id], id
}

// cached returns mem(asid, block) when the cache of recent pages knows it (hit), without a
// call: small enough to inline into the verifier's hook.
func (g *golden) cached(asid traces.ASID, block uint64) (mem []uint64, hit bool) {
	k := gpage{asid, block >> (g.pageShift & 63)}
	e := &g.recent[k.hash()>>(64-goldenRecentBits)]
	return e.mem, e.key == k && e.id != -1
}

// mem returns the stamps of the page of block of asid, nil when it is not in the model.
func (g *golden) mem(asid traces.ASID, block uint64) []uint64 {
	k := gpage{asid, block >> g.pageShift}
	if e := &g.recent[k.hash()>>(64-goldenRecentBits)]; e.key == k && e.id != -1 {
		return e.mem
	}
	p, _ := g.page(asid, block, false)
	if p == nil {
		return nil
	}
	return p.mem
}

func (g *golden) read(asid traces.ASID, block uint64) uint64 {
	p, _ := g.page(asid, block, false)
	if p == nil {
		return 0
	}
	return p.mem[block&(g.blocks-1)]
}

func (g *golden) write(asid traces.ASID, block, stamp uint64) {
	p, id := g.page(asid, block, true)
	g.writeAt(p, id, block&(g.blocks-1), stamp)
}

// writeAt writes block b of page p (number id), logging its old value for a rollback.
func (g *golden) writeAt(p *goldenPage, id int32, b, stamp uint64) {
	d := &g.doms[p.dom]
	if p.epoch != d.epoch {
		clear(p.saved)
		p.epoch = d.epoch
	}
	if !p.saved[b] {
		p.saved[b] = true
		d.undo = append(d.undo, undoEntry{id, uint32(b), p.mem[b]})
	}
	p.mem[b] = stamp
	p.known[b] = true
}

// checkpoint makes domain d's current memory its checkpoint.
func (g *golden) checkpoint(d int) {
	if d < len(g.doms) {
		g.doms[d].undo = g.doms[d].undo[:0]
		g.doms[d].epoch++
	}
}

// rollback returns domain d's blocks to their values at its last checkpoint.
func (g *golden) rollback(d int) {
	if d >= len(g.doms) {
		return
	}
	dm := &g.doms[d]
	for _, u := range dm.undo {
		g.pages[u.page].mem[u.block] = u.old
	}
	dm.undo = dm.undo[:0]
	dm.epoch++
}

// Check verifies the invariants from scratch: the index and its cache of recent pages,
// each page's shape and domain, and each domain's undo log against the pages' saved flags.
func (g *golden) Check() error {
	if n := len(g.index); n == 0 || n&(n-1) != 0 || n < 2*len(g.pages) {
		return fmt.Errorf("an index of %d slots for %d pages", n, len(g.pages))
	}
	used := 0
	for slot, v := range g.index {
		if v == 0 {
			continue
		}
		used++
		if v < 0 || int(v) > len(g.pages) {
			return fmt.Errorf("index slot %d holds page %d of %d", slot, v-1, len(g.pages))
		}
	}
	if used != len(g.pages) {
		return fmt.Errorf("%d index slots used for %d pages", used, len(g.pages))
	}
	for i := range g.pages {
		p := &g.pages[i]
		if _, id := g.find(p.key); id != int32(i) {
			return fmt.Errorf("page %d (asid %d, page %#x) found as page %d", i, p.key.asid, p.key.vpn, id)
		}
		switch {
		case uint64(len(p.mem)) != g.blocks || uint64(len(p.saved)) != g.blocks || uint64(len(p.known)) != g.blocks:
			return fmt.Errorf("page %d holds %d stamps and %d and %d flags, want %d", i, len(p.mem), len(p.saved), len(p.known), g.blocks)
		case p.dom < 0 || p.dom >= len(g.doms):
			return fmt.Errorf("page %d in domain %d of %d", i, p.dom, len(g.doms))
		case p.dom != g.dom(p.key.asid):
			return fmt.Errorf("page %d (asid %d) in domain %d, its address space's is %d", i, p.key.asid, p.dom, g.dom(p.key.asid))
		case p.epoch > g.doms[p.dom].epoch:
			return fmt.Errorf("page %d at epoch %d, after its domain's %d", i, p.epoch, g.doms[p.dom].epoch)
		}
		for b, s := range p.mem {
			if s != 0 && !p.known[b] {
				return fmt.Errorf("page %d block %d holds the value of access %d but was never written", i, b, s)
			}
		}
	}
	for i, e := range g.recent {
		switch {
		case e.id >= 0:
			if int(e.id) >= len(g.pages) || g.pages[e.id].key != e.key || len(e.mem) == 0 || &e.mem[0] != &g.pages[e.id].mem[0] {
				return fmt.Errorf("recent entry %d names page %d wrongly", i, e.id)
			}
		case e.id == goldenAbsent:
			if _, id := g.find(e.key); id >= 0 {
				return fmt.Errorf("recent entry %d says page %d (asid %d, page %#x) is absent", i, id, e.key.asid, e.key.vpn)
			}
		case e.id != -1:
			return fmt.Errorf("recent entry %d holds id %d", i, e.id)
		}
	}
	// Every undo entry is a block saved in the current epoch of its page's domain, once;
	// and every block saved in its domain's current epoch has its undo entry.
	logged := map[undoEntry]bool{}
	for d := range g.doms {
		for k, u := range g.doms[d].undo {
			if u.page < 0 || int(u.page) >= len(g.pages) || uint64(u.block) >= g.blocks {
				return fmt.Errorf("domain %d undo entry %d: page %d block %d", d, k, u.page, u.block)
			}
			p := &g.pages[u.page]
			key := undoEntry{page: u.page, block: u.block}
			switch {
			case p.dom != d:
				return fmt.Errorf("domain %d undo entry %d: page %d is domain %d's", d, k, u.page, p.dom)
			case p.epoch != g.doms[d].epoch || !p.saved[u.block] || !p.known[u.block]:
				return fmt.Errorf("domain %d undo entry %d: page %d block %d not saved since the checkpoint", d, k, u.page, u.block)
			case logged[key]:
				return fmt.Errorf("domain %d undo entry %d: page %d block %d logged twice", d, k, u.page, u.block)
			}
			logged[key] = true
		}
	}
	for i := range g.pages {
		p := &g.pages[i]
		if p.epoch != g.doms[p.dom].epoch {
			continue
		}
		for b, s := range p.saved {
			if s && !logged[undoEntry{page: int32(i), block: uint32(b)}] {
				return fmt.Errorf("page %d block %d saved with no undo entry", i, b)
			}
		}
	}
	return nil
}
