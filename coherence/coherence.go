package coherence

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/record"
)

// MaxCores is the most cores a Machine models (the directory keeps a core's presence as
// one bit of a uint64).
const MaxCores = 64

// Memory is what the caches ask of the memory behind them: Fill before core's cache loads
// line l from memory, WriteBack when a dirty line of core's cache is written to memory
// (on a replacement, a flush, or a downgrade). data is as for cache.Memory: the line's
// block stamps with verification on (Fill copies memory's content into it, WriteBack
// passes the line's), nil with it off.
type Memory interface {
	Fill(core int, l cache.Line, data []uint64)
	WriteBack(core int, l cache.Line, data []uint64)
}

// Observer is a Memory that also hears of the coherence actions between cores, for a
// scheme that tracks the dependences between cores through the directory. Each call comes
// after the action's write-back to memory, if any, and before the access goes on.
type Observer interface {
	Memory
	// Invalidated: core from's copy of l was invalidated because core by writes l;
	// modified says it was in M (and so supplied l's data to by).
	Invalidated(from, by int, l cache.Line, modified bool)
	// Downgraded: core from's M copy of l became S because core by reads l (written back
	// to memory, and supplied to by).
	Downgraded(from, by int, l cache.Line)
}

// Shared adapts a cache.Memory, which does not care which core asks, to a Memory.
func Shared(m cache.Memory) Memory { return shared{m} }

type shared struct{ m cache.Memory }

func (s shared) Fill(_ int, l cache.Line, data []uint64)      { s.m.Fill(l, data) }
func (s shared) WriteBack(_ int, l cache.Line, data []uint64) { s.m.WriteBack(l, data) }

// countOnly is the memory of a machine modeled for its counts only.
type countOnly struct{}

func (countOnly) Fill(int, cache.Line, []uint64)      {}
func (countOnly) WriteBack(int, cache.Line, []uint64) {}

// Counters are the coherence counts of a Machine (docs/coherence.md). Each core's cache
// counts its own references, misses and write-backs (Machine.CacheCounters).
type Counters struct {
	// Invalidations: copies of a line invalidated in a core's cache because another core
	// wrote the line (on its write miss or its upgrade): one per core invalidated.
	Invalidations int64 `json:"coh_invalidations"`
	// Downgrades: M copies made S in a core's cache because another core read the line
	// (on its read miss); each writes the line back to memory.
	Downgrades int64 `json:"coh_downgrades"`
	// Transfers: misses whose line was supplied by another core's cache (the one holding
	// it in M) instead of memory: every downgrade, and every invalidation of an M copy.
	Transfers int64 `json:"coh_transfers"`
}

// Definitions are the counters' keys and one-line definitions, in the order of Counters'
// fields; docs/coherence.md gives each in full.
var Definitions = []struct{ Key, Help string }{
	{"coh_invalidations", "copies of a line invalidated in a core's cache because another core wrote the line, one per copy"},
	{"coh_downgrades", "modified lines made shared in a core's cache because another core read them, each written back to memory"},
	{"coh_transfers", "misses supplied by another core's cache (holding the line modified) instead of memory"},
}

// entry is a line's directory entry.
//
// Invariant: sharers != 0 (a line no cache holds has no entry); modified implies sharers
// has exactly one bit, its owner's.
type entry struct {
	sharers  uint64 // bit c: core c's cache holds the line
	modified bool   // the one holder has it in M (dirty)
}

// Machine is the multi-core cache model.
//
// Invariant: a line is in the directory exactly when some cache holds it, with sharers
// the set of cores whose cache holds it; it is modified exactly when it is dirty in its
// holder's cache, and then it is in no other cache (Check verifies it from scratch).
// Invariant: Transfers >= Downgrades and Transfers - Downgrades <= Invalidations.
type Machine struct {
	caches []*cache.Cache
	ports  []port
	dir    directory
	mem    Memory
	obs    Observer // mem when it is an Observer, else nil
	// write is whether the access under way writes: what a fill does depends on it.
	write bool
	C     Counters
}

// New returns a machine of cores cores, each with an empty private cache of geometry g
// carrying blocks stamps per line (0 when verification is off), in front of mem (nil:
// counts only). It checks cores and g, naming the options --cores and --cache-*.
func New(cores int, g cache.Geometry, blocks int, mem Memory) (*Machine, error) {
	if cores < 1 || cores > MaxCores {
		return nil, fmt.Errorf("--cores %d: want 1 to %d", cores, MaxCores)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if g.Size == 0 {
		return nil, fmt.Errorf("--cores %d: the cores' private caches need a --cache-size", cores)
	}
	if blocks < 0 {
		return nil, fmt.Errorf("coherence: %d blocks per line", blocks)
	}
	if mem == nil {
		mem = countOnly{}
	}
	m := &Machine{
		caches: make([]*cache.Cache, cores),
		ports:  make([]port, cores),
		dir:    newDirectory(),
		mem:    mem,
	}
	m.obs, _ = mem.(Observer)
	for c := range cores {
		m.ports[c] = port{m: m, core: c}
		m.caches[c] = cache.New(g, blocks, &m.ports[c])
	}
	return m, nil
}

// Cores returns the number of cores.
func (m *Machine) Cores() int { return len(m.caches) }

// Geometry returns the geometry of every core's cache.
func (m *Machine) Geometry() cache.Geometry { return m.caches[0].Geometry() }

// LineShift is log2 of the line size.
func (m *Machine) LineShift() uint { return m.caches[0].LineShift() }

// Access performs core's reference to line l, reading or writing it, in core's cache and
// through the directory (the package comment gives the protocol), and returns whether it
// hit in core's cache. Precondition: 0 <= core < Cores().
func (m *Machine) Access(core int, l cache.Line, write bool) (hit bool) {
	m.write = write
	return m.caches[core].Access(l, write)
}

// Data returns the stamps of core's copy of l, or nil if core's cache does not hold l or
// verification is off; as cache.Cache.Data, the slice is the cache's own.
func (m *Machine) Data(core int, l cache.Line) []uint64 { return m.caches[core].Data(l) }

// Holders returns the cores whose caches hold l (bit c for core c) and whether the one
// holder has it in M: then its copy (Data) is l's current content; otherwise memory's is.
func (m *Machine) Holders(l cache.Line) (cores uint64, modified bool) {
	e := m.dir.get(l)
	return e.sharers, e.modified
}

// CacheCounters returns core's cache's counts: its references, misses, and write-backs
// (on replacements and flushes; downgrades are counted in Counters.Downgrades).
func (m *Machine) CacheCounters(core int) cache.Counters { return m.caches[core].C }

// Dirty returns how many lines core's cache holds dirty (in M) now.
func (m *Machine) Dirty(core int) int64 { return m.caches[core].Dirty() }

// Flush writes back every dirty line of every core's cache, core by core in order, each in
// its cache's set and way order (cache.Cache.Flush), for a checkpoint: with invalidate the
// caches are emptied, otherwise every line stays, in S. It returns the lines written back.
func (m *Machine) Flush(invalidate bool) int64 {
	var n int64
	for c := range m.caches {
		n += m.caches[c].Flush(invalidate)
	}
	if invalidate {
		m.dir.clear()
		return n
	}
	for i := range m.dir.slots {
		m.dir.slots[i].modified = false
	}
	return n
}

// FlushCore is Flush of core's cache alone, for a checkpoint of one core: the other
// caches keep their lines and states. Precondition: 0 <= core < Cores().
func (m *Machine) FlushCore(core int, invalidate bool) int64 {
	bit := uint64(1) << core
	for l, dirty := range m.caches[core].Lines() {
		switch {
		case invalidate:
			m.drop(l, bit)
		case dirty:
			m.dir.set(l, entry{sharers: bit})
		}
	}
	return m.caches[core].Flush(invalidate)
}

// Discard drops from core's cache every line for which keep returns false (nil: every
// line), writing nothing back: what a rollback or a crash does to the lines of core whose
// data is no longer wanted. Precondition: 0 <= core < Cores().
func (m *Machine) Discard(core int, keep func(record.ASID) bool) {
	bit := uint64(1) << core
	for l := range m.caches[core].Lines() {
		if keep == nil || !keep(l.ASID) {
			m.drop(l, bit)
		}
	}
	m.caches[core].Discard(keep)
}

// DiscardAll is Discard on every core.
func (m *Machine) DiscardAll(keep func(record.ASID) bool) {
	for c := range m.caches {
		m.Discard(c, keep)
	}
}

// drop removes the cores of bits from l's entry.
func (m *Machine) drop(l cache.Line, bits uint64) {
	i := m.dir.find(l)
	if i < 0 {
		panic(fmt.Sprintf("coherence: line %d:%#x leaves a cache but is not in the directory", l.ASID, l.N))
	}
	if s := &m.dir.slots[i]; s.sharers&^bits != 0 {
		s.sharers &^= bits
	} else {
		m.dir.remove(i)
	}
}

// fill gets line l into core's cache on its miss (the victim is already out): from the
// core holding l in M, else from memory, invalidating the other copies on a write.
func (m *Machine) fill(core int, l cache.Line, data []uint64) {
	bit := uint64(1) << core
	e := m.dir.get(l)
	ok := e.sharers != 0
	switch {
	case ok && e.modified:
		o := bits.TrailingZeros64(e.sharers)
		oc := m.caches[o]
		if data != nil {
			copy(data, oc.Data(l))
		}
		m.C.Transfers++
		if m.write {
			oc.Demote(l, true)
			m.C.Invalidations++
			if m.obs != nil {
				m.obs.Invalidated(o, core, l, true)
			}
			e = entry{sharers: bit, modified: true}
		} else {
			m.mem.WriteBack(o, l, oc.Data(l))
			oc.Demote(l, false)
			m.C.Downgrades++
			if m.obs != nil {
				m.obs.Downgraded(o, core, l)
			}
			e = entry{sharers: e.sharers | bit}
		}
	case m.write:
		if ok {
			m.invalidate(core, l, e.sharers)
		}
		m.mem.Fill(core, l, data)
		e = entry{sharers: bit, modified: true}
	default:
		m.mem.Fill(core, l, data)
		e.sharers |= bit
	}
	m.dir.set(l, e)
}

// upgrade makes core the owner of l, which it holds in S, on its write hit.
func (m *Machine) upgrade(core int, l cache.Line) {
	bit := uint64(1) << core
	if others := m.dir.get(l).sharers &^ bit; others != 0 {
		m.invalidate(core, l, others)
	}
	m.dir.set(l, entry{sharers: bit, modified: true})
}

// invalidate drops l, which they hold in S, from the caches of the cores of set other
// than core, in core order, because core writes l.
func (m *Machine) invalidate(core int, l cache.Line, set uint64) {
	for set &^= 1 << core; set != 0; set &= set - 1 {
		o := bits.TrailingZeros64(set)
		m.caches[o].Demote(l, true)
		m.C.Invalidations++
		if m.obs != nil {
			m.obs.Invalidated(o, core, l, false)
		}
	}
}

// evict removes core from l's entry: its cache replaced l.
func (m *Machine) evict(core int, l cache.Line) {
	m.drop(l, 1<<core)
}

// port is core's cache's memory: the directory, and the Memory behind it.
type port struct {
	m    *Machine
	core int
}

func (p *port) Fill(l cache.Line, data []uint64) { p.m.fill(p.core, l, data) }
func (p *port) WriteBack(l cache.Line, data []uint64) {
	p.m.mem.WriteBack(p.core, l, data)
}
func (p *port) Evict(l cache.Line)   { p.m.evict(p.core, l) }
func (p *port) Upgrade(l cache.Line) { p.m.upgrade(p.core, l) }

// Check verifies the invariants from scratch: each cache's own, and the directory against
// what the caches hold.
func (m *Machine) Check() error {
	c := m.C
	if c.Invalidations < 0 || c.Downgrades < 0 || c.Transfers < c.Downgrades || c.Transfers-c.Downgrades > c.Invalidations {
		return fmt.Errorf("coherence: %d transfers with %d downgrades and %d invalidations", c.Transfers, c.Downgrades, c.Invalidations)
	}
	if len(m.caches) < 1 || len(m.caches) > MaxCores || len(m.ports) != len(m.caches) {
		return fmt.Errorf("coherence: %d caches, %d ports", len(m.caches), len(m.ports))
	}
	if err := m.dir.check(); err != nil {
		return err
	}
	held := 0
	for core, cc := range m.caches {
		if err := cc.Check(); err != nil {
			return fmt.Errorf("core %d: %w", core, err)
		}
		if cc.Geometry() != m.caches[0].Geometry() {
			return fmt.Errorf("core %d: cache %+v, core 0's %+v", core, cc.Geometry(), m.caches[0].Geometry())
		}
		for l, dirty := range cc.Lines() {
			held++
			e := m.dir.get(l)
			switch {
			case e.sharers == 0:
				return fmt.Errorf("coherence: core %d holds line %d:%#x, which the directory does not know", core, l.ASID, l.N)
			case e.sharers&(1<<core) == 0:
				return fmt.Errorf("coherence: core %d holds line %d:%#x, sharers %#x", core, l.ASID, l.N, e.sharers)
			case dirty != e.modified:
				return fmt.Errorf("coherence: line %d:%#x dirty %v in core %d, modified %v in the directory", l.ASID, l.N, dirty, core, e.modified)
			}
		}
	}
	n := 0
	for _, s := range m.dir.slots {
		l, e := s.line, s.entry
		switch {
		case e.sharers == 0:
			continue
		case e.sharers>>len(m.caches) != 0:
			return fmt.Errorf("coherence: line %d:%#x shared by %#x of %d cores", l.ASID, l.N, e.sharers, len(m.caches))
		case e.modified && bits.OnesCount64(e.sharers) != 1:
			return fmt.Errorf("coherence: line %d:%#x modified with sharers %#x: an M line is in one cache only", l.ASID, l.N, e.sharers)
		}
		n += bits.OnesCount64(e.sharers)
	}
	// Every copy the caches hold is one sharer bit; as many bits as copies means no bit
	// names a core that does not hold the line.
	if n != held {
		return fmt.Errorf("coherence: the directory lists %d copies, the caches hold %d", n, held)
	}
	return nil
}
