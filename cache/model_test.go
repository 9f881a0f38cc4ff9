package cache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmsim/vmsim/record"
)

// lruModel is the cache model as it was before keys, packed LRU orders and the line
// referenced last (a way of line, valid, dirty and last use; the victim the first invalid
// way, else the least recently used; everything in set and way order): TestAgainstLRUModel
// checks that the cache does exactly what it does, down to the order of what the memory
// hears and of Lines.
type lruModel struct {
	ways    []modelWay
	nways   int
	setMask uint64
	clock   uint64
	mem     Snooper
	snoop   bool
	C       Counters
}

type modelWay struct {
	line         Line
	valid, dirty bool
	lru          uint64
}

func newLRUModel(g Geometry, mem Snooper, snoop bool) *lruModel {
	sets := g.Size / g.Line / uint64(g.Ways)
	return &lruModel{ways: make([]modelWay, sets*uint64(g.Ways)), nways: g.Ways, setMask: sets - 1, mem: mem, snoop: snoop}
}

func (m *lruModel) set(n uint64) []modelWay {
	i := int(n&m.setMask) * m.nways
	return m.ways[i : i+m.nways]
}

func (m *lruModel) find(l Line) *modelWay {
	for w := range m.set(l.N) {
		if x := &m.set(l.N)[w]; x.valid && x.line == l {
			return x
		}
	}
	return nil
}

func (m *lruModel) Access(l Line, write bool) bool {
	m.C.Refs++
	m.clock++
	set := m.set(l.N)
	if x := m.find(l); x != nil {
		x.lru = m.clock
		if write && !x.dirty {
			if m.snoop {
				m.mem.Upgrade(l)
			}
			x.dirty = true
		}
		return true
	}
	v := 0
	for w := range set {
		if !set[w].valid {
			v = w
			break
		}
		if set[w].lru < set[v].lru {
			v = w
		}
	}
	m.C.Misses++
	x := &set[v]
	if x.valid && x.dirty {
		m.C.Writebacks++
		m.mem.WriteBack(x.line, nil)
	}
	if x.valid && m.snoop {
		m.mem.Evict(x.line)
	}
	m.mem.Fill(l, nil)
	*x = modelWay{line: l, valid: true, dirty: write, lru: m.clock}
	return false
}

// hitRecords is HitRecords: the accesses up to the first that would miss in one of its
// lines or, with a snooper, upgrade one.
func (m *lruModel) hitRecords(recs []record.Record, shift uint) int {
	for k, r := range recs {
		first, last := r.Addr>>shift, (r.Addr+uint64(max(r.Size, 1))-1)>>shift
		for n := first; n <= last; n++ {
			x := m.find(Line{r.ASID, n})
			if x == nil || r.Kind.Writes() && !x.dirty && m.snoop {
				return k
			}
		}
		for n := first; n <= last; n++ {
			m.Access(Line{r.ASID, n}, r.Kind.Writes())
		}
	}
	return len(recs)
}

func (m *lruModel) Demote(l Line, invalidate bool) (bool, bool) {
	x := m.find(l)
	if x == nil {
		return false, false
	}
	d := x.dirty
	x.dirty = false
	if invalidate {
		*x = modelWay{}
	}
	return true, d
}

func (m *lruModel) Flush(invalidate bool) int64 {
	var n int64
	for i := range m.ways {
		x := &m.ways[i]
		if x.valid && x.dirty {
			m.mem.WriteBack(x.line, nil)
			x.dirty = false
			n++
		}
		if invalidate {
			x.valid = false
		}
	}
	m.C.Writebacks += n
	m.C.FlushLines += n
	return n
}

func (m *lruModel) Discard(keep func(record.ASID) bool) {
	for i := range m.ways {
		if x := &m.ways[i]; x.valid && (keep == nil || !keep(x.line.ASID)) {
			*x = modelWay{}
		}
	}
}

func (m *lruModel) lines() []string {
	var s []string
	for _, x := range m.ways {
		if x.valid {
			s = append(s, fmt.Sprintf("%d:%d/%v", x.line.ASID, x.line.N, x.dirty))
		}
	}
	return s
}

func cacheLines(c *Cache) []string {
	var s []string
	for l, d := range c.Lines() {
		s = append(s, fmt.Sprintf("%d:%d/%v", l.ASID, l.N, d))
	}
	return s
}

// snoopLogOf is snoopLog without its Snooper methods: a plain Memory.
type plainLog struct{ s *snoopLog }

func (p plainLog) Fill(l Line, d []uint64)      { p.s.Fill(l, d) }
func (p plainLog) WriteBack(l Line, d []uint64) { p.s.WriteBack(l, d) }

// TestAgainstLRUModel runs random references (one at a time and in runs of records, of one
// or several lines), flushes, discards, demotions and look-ups through the cache and
// lruModel, over geometries of 1 to 64 ways (packed orders up to 16, stamps above), one to
// many sets, with and without a snooper, and over more address spaces than the cache has
// slots for (8-byte lines in one set: 6 slots), checking after every step that both did the
// same: hits, counts, what the memory heard in order, the lines in set and way order, and
// the cache's invariants.
func TestAgainstLRUModel(t *testing.T) {
	geoms := []struct {
		g     Geometry
		asids int
	}{
		{Geometry{64, 8, 8}, 20},  // one set of 8-byte lines: 6 slots, the others overflow
		{Geometry{16, 2, 8}, 3},   // one set, 2 ways
		{Geometry{64, 1, 16}, 2},  // direct-mapped
		{Geometry{384, 3, 16}, 4}, // 3 ways
		{Geometry{1 << 10, 4, 32}, 2},
		{Geometry{512, 8, 64}, 3},
		{Geometry{2048, 16, 16}, 2}, // the most ways in a packed order
		{Geometry{1088, 17, 64}, 2}, // the fewest with stamps
		{Geometry{4 << 10, 64, 64}, 70},
	}
	for trial := range 45 {
		seed := uint64(trial)
		gt := geoms[trial%len(geoms)]
		snoop := trial%2 == 1
		t.Run(fmt.Sprintf("seed=%d/%d-%d-%d/snoop=%v", seed, gt.g.Size, gt.g.Ways, gt.g.Line, snoop), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1234))
			got, want := &snoopLog{}, &snoopLog{}
			var mem Memory = plainLog{got}
			if snoop {
				mem = got
			}
			c := New(gt.g, 0, mem)
			m := newLRUModel(gt.g, want, snoop)
			shift := c.LineShift()
			span := uint64(gt.g.Size/gt.g.Line) * uint64(1+rng.IntN(3))
			line := func() Line {
				return Line{ASID: record.ASID(rng.IntN(gt.asids)), N: uint64(rng.IntN(int(span)))}
			}
			for step := range 3000 {
				var what string
				switch x := rng.IntN(1000); {
				case x < 5:
					inv := rng.IntN(2) == 0
					what = fmt.Sprintf("Flush(%v)", inv)
					if a, b := c.Flush(inv), m.Flush(inv); a != b {
						t.Fatalf("step %d: %s wrote %d lines, the model %d", step, what, a, b)
					}
				case x < 8:
					a := record.ASID(rng.IntN(gt.asids))
					what = fmt.Sprintf("Discard(all but %d)", a)
					keep := func(b record.ASID) bool { return b == a }
					c.Discard(keep)
					m.Discard(keep)
				case x < 40:
					l, inv := line(), rng.IntN(2) == 0
					what = fmt.Sprintf("Demote(%v, %v)", l, inv)
					v1, d1 := c.Demote(l, inv)
					v2, d2 := m.Demote(l, inv)
					if v1 != v2 || d1 != d2 {
						t.Fatalf("step %d: %s = %v %v, the model %v %v", step, what, v1, d1, v2, d2)
					}
				case x < 60:
					l := line()
					what = fmt.Sprintf("Data(%v)", l)
					if c.Data(l) != nil {
						t.Fatalf("step %d: %s is not nil without verification", step, what)
					}
				case x < 800:
					l, w := line(), rng.IntN(3) == 0
					if rng.IntN(2) == 0 {
						l = c.lines[c.lastI] // the line referenced last, again
					}
					what = fmt.Sprintf("Access(%v, %v)", l, w)
					if a, b := c.Access(l, w), m.Access(l, w); a != b {
						t.Fatalf("step %d: %s hit %v, the model %v", step, what, a, b)
					}
				default:
					recs := make([]record.Record, 1+rng.IntN(8))
					for k := range recs {
						l := line()
						size := uint32(1 + rng.IntN(int(gt.g.Line)))
						if rng.IntN(4) == 0 {
							size = uint32(rng.IntN(3 * int(gt.g.Line)))
						}
						kind := record.Read
						if rng.IntN(3) == 0 {
							kind = record.Write
						}
						recs[k] = record.Record{Addr: l.N<<shift + uint64(rng.IntN(int(gt.g.Line))), Size: size, ASID: l.ASID, Kind: kind}
						if k > 0 && rng.IntN(2) == 0 {
							recs[k].ASID, recs[k].Addr = recs[k-1].ASID, recs[k-1].Addr
						}
					}
					if rng.IntN(2) == 0 {
						what = fmt.Sprintf("AccessRecords(%v)", recs)
						c.AccessRecords(recs)
						for _, r := range recs {
							for n := r.Addr >> shift; n <= (r.Addr+uint64(max(r.Size, 1))-1)>>shift; n++ {
								m.Access(Line{r.ASID, n}, r.Kind.Writes())
							}
						}
					} else {
						what = fmt.Sprintf("HitRecords(%v)", recs)
						if a, b := c.HitRecords(recs), m.hitRecords(recs, shift); a != b {
							t.Fatalf("step %d: %s performed %d, the model %d", step, what, a, b)
						}
					}
				}
				if c.C != m.C || c.Dirty() != int64(len(slices.DeleteFunc(m.lines(), func(s string) bool { return s[len(s)-4:] != "true" }))) {
					t.Fatalf("step %d, %s: counters %+v, the model %+v", step, what, c.C, m.C)
				}
				if !slices.Equal(got.log, want.log) {
					t.Fatalf("step %d, %s: the memory heard %q, the model's %q", step, what, got.log, want.log)
				}
				if a, b := cacheLines(c), m.lines(); !slices.Equal(a, b) {
					t.Fatalf("step %d, %s: lines %q, the model's %q", step, what, a, b)
				}
				if err := c.Check(); err != nil {
					t.Fatalf("step %d, %s: %v", step, what, err)
				}
				got.log, want.log = nil, nil
			}
		})
	}
}
