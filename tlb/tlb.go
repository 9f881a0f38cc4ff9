package tlb

import "fmt"

// Geometry is a TLB's shape. Entries 0 means no TLB.
type Geometry struct {
	Entries int // total entries, a multiple of Ways giving a power-of-two number of sets
	Ways    int // associativity
}

// Validate checks the geometry.
func (g Geometry) Validate() error {
	if g.Entries == 0 {
		return nil
	}
	if g.Entries < 0 || g.Entries > 1<<20 {
		return fmt.Errorf("--tlb-entries %d: want 0 (no TLB) or 1 to %d", g.Entries, 1<<20)
	}
	if g.Ways < 1 || g.Ways > g.Entries || g.Entries%g.Ways != 0 {
		return fmt.Errorf("--tlb-ways %d: want a divisor of --tlb-entries %d", g.Ways, g.Entries)
	}
	if sets := g.Entries / g.Ways; sets&(sets-1) != 0 {
		return fmt.Errorf("--tlb-entries %d / --tlb-ways %d: want a power-of-two number of sets", g.Entries, g.Ways)
	}
	return nil
}

// Counters are a TLB's counts.
type Counters struct {
	Refs    int64 // translations looked up: one per page an access covers
	Misses  int64 // lookups that walked the page table: no entry, or a write through a stale entry
	Stale   int64 // of Misses, writes through an entry filled before its domain's last checkpoint (tagging)
	Flushes int64 // flush operations
}

type entry struct {
	asid  uint32
	vpn   uint64
	tag   uint64 // the domain's checkpoint number when filled (or last walked for a write)
	valid bool
	lru   uint64
}

// TLB is the model.
//
// Invariant: within a set, no two valid entries hold the same (asid, vpn).
type TLB struct {
	g     Geometry
	mask  uint64
	e     []entry
	clock uint64
	C     Counters
}

// New returns an empty TLB. Precondition: g is valid and g.Entries > 0.
func New(g Geometry) *TLB {
	if err := g.Validate(); err != nil || g.Entries == 0 {
		panic(fmt.Sprintf("tlb: New with invalid geometry %+v: %v", g, err))
	}
	return &TLB{g: g, mask: uint64(g.Entries/g.Ways) - 1, e: make([]entry, g.Entries)}
}

// Lookup translates page vpn of asid for a read or a write, in a domain whose current
// checkpoint number is tag. A hit needs no walk, except a write through an entry whose tag
// is older than tag: the protection the checkpoint set must be read again (a stale miss),
// and the entry takes the new tag. A miss fills the set's first invalid entry, else its
// least recently used one. It returns whether the lookup walked the page table.
func (t *TLB) Lookup(asid uint32, vpn, tag uint64, write bool) (walked bool) {
	t.C.Refs++
	t.clock++
	i := int(vpn&t.mask) * t.g.Ways
	set := t.e[i : i+t.g.Ways]
	victim := -1
	for w := range set {
		x := &set[w]
		if x.valid && x.vpn == vpn && x.asid == asid {
			x.lru = t.clock
			if write && x.tag != tag {
				x.tag = tag
				t.C.Misses++
				t.C.Stale++
				return true
			}
			return false
		}
		switch {
		case victim < 0:
			victim = w
		case !set[victim].valid:
		case !x.valid || x.lru < set[victim].lru:
			victim = w
		}
	}
	t.C.Misses++
	set[victim] = entry{asid: asid, vpn: vpn, tag: tag, valid: true, lru: t.clock}
	return true
}

// Flush drops every entry of the address spaces for which drop returns true (all entries
// when drop is nil), and counts one flush.
func (t *TLB) Flush(drop func(asid uint32) bool) {
	t.C.Flushes++
	for i := range t.e {
		if t.e[i].valid && (drop == nil || drop(t.e[i].asid)) {
			t.e[i] = entry{}
		}
	}
}

// Check verifies the invariant from scratch.
func (t *TLB) Check() error {
	for s := 0; s < len(t.e); s += t.g.Ways {
		set := t.e[s : s+t.g.Ways]
		for i, x := range set {
			if !x.valid {
				continue
			}
			if x.vpn&t.mask != uint64(s/t.g.Ways) {
				return fmt.Errorf("tlb: page %#x in set %d", x.vpn, s/t.g.Ways)
			}
			for _, y := range set[:i] {
				if y.valid && y.vpn == x.vpn && y.asid == x.asid {
					return fmt.Errorf("tlb: page %#x of asid %d twice in set %d", x.vpn, x.asid, s/t.g.Ways)
				}
			}
		}
	}
	return nil
}
