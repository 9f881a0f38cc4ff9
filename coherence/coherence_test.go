package coherence

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/schedule"
)

// logMemory is an Observer that logs every call, in the naive model's notation.
type logMemory struct{ log []string }

func (m *logMemory) logf(format string, a ...any) { m.log = append(m.log, fmt.Sprintf(format, a...)) }
func (m *logMemory) Fill(c int, l cache.Line, _ []uint64) {
	m.logf("fill %d %d:%d", c, l.ASID, l.N)
}
func (m *logMemory) WriteBack(c int, l cache.Line, _ []uint64) {
	m.logf("wb %d %d:%d", c, l.ASID, l.N)
}
func (m *logMemory) Invalidated(from, by int, l cache.Line, modified bool) {
	s := "S"
	if modified {
		s = "M"
	}
	m.logf("inv %d<-%d %d:%d %s", from, by, l.ASID, l.N, s)
}
func (m *logMemory) Downgraded(from, by int, l cache.Line) {
	m.logf("down %d<-%d %d:%d", from, by, l.ASID, l.N)
}

func newMachine(t testing.TB, cores int, g cache.Geometry, blocks int, mem Memory) *Machine {
	t.Helper()
	m, err := New(cores, g, blocks, mem)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNew(t *testing.T) {
	g := cache.Geometry{Size: 32 << 10, Ways: 8, Line: 64}
	for _, tt := range []struct {
		name    string
		cores   int
		g       cache.Geometry
		blocks  int
		wantErr string
	}{
		{"one core", 1, g, 0, ""},
		{"64 cores", 64, g, 8, ""},
		{"no cores", 0, g, 0, "--cores 0: want 1 to 64"},
		{"too many cores", 65, g, 0, "--cores 65: want 1 to 64"},
		{"no cache", 4, cache.Geometry{}, 0, "--cores 4: the cores' private caches need a --cache-size"},
		{"bad geometry", 4, cache.Geometry{Size: 3 << 10, Ways: 1, Line: 64}, 0, "--cache-size 3072"},
		{"negative blocks", 4, g, -1, "-1 blocks per line"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cores, tt.g, tt.blocks, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New: %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Cores() != tt.cores || m.Geometry() != tt.g || m.LineShift() != 6 {
				t.Errorf("%d cores of %+v, line shift %d", m.Cores(), m.Geometry(), m.LineShift())
			}
			if err := m.Check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// A hand-worked sequence on 3 cores, each with 2 sets × 2 ways, through every case of the
// protocol.
func TestHandWorked(t *testing.T) {
	mem := &logMemory{}
	m := newMachine(t, 3, cache.Geometry{Size: 64, Ways: 2, Line: 16}, 0, mem)
	l := func(n uint64) cache.Line { return cache.Line{ASID: 1, N: n} }
	for i, s := range []struct {
		name            string
		core            int
		line            uint64
		write           bool
		hit             bool
		log             []string
		inv, down, xfer int64
	}{
		{"read miss, uncached: from memory", 0, 0, false, false, []string{"fill 0 1:0"}, 0, 0, 0},
		{"read miss, shared elsewhere: from memory", 1, 0, false, false, []string{"fill 1 1:0"}, 0, 0, 0},
		{"read hit", 1, 0, false, true, nil, 0, 0, 0},
		{"write hit on S: upgrade invalidates the other copy", 0, 0, true, true, []string{"inv 1<-0 1:0 S"}, 1, 0, 0},
		{"write hit on M: the cache alone", 0, 0, true, true, nil, 1, 0, 0},
		{"read miss, M elsewhere: downgrade, written back, transferred", 2, 0, false, false, []string{"wb 0 1:0", "down 0<-2 1:0"}, 1, 1, 1},
		{"the downgraded copy hits, clean", 0, 0, false, true, nil, 1, 1, 1},
		{"write miss, shared by two: both invalidated, then from memory", 1, 0, true, false, []string{"inv 0<-1 1:0 S", "inv 2<-1 1:0 S", "fill 1 1:0"}, 3, 1, 1},
		{"write miss, M elsewhere: invalidated and transferred, no write-back", 2, 0, true, false, []string{"inv 1<-2 1:0 M"}, 4, 1, 2},
		{"another line of set 0", 2, 2, false, false, []string{"fill 2 1:2"}, 4, 1, 2},
		{"a replacement writes the dirty victim back (core 2's line 0)", 2, 4, false, false, []string{"wb 2 1:0", "fill 2 1:4"}, 4, 1, 2},
		{"so line 0 comes from memory again", 0, 0, false, false, []string{"fill 0 1:0"}, 4, 1, 2},
		{"write miss on an uncached line: from memory, nothing to invalidate", 1, 1, true, false, []string{"fill 1 1:1"}, 4, 1, 2},
	} {
		mem.log = nil
		if hit := m.Access(s.core, l(s.line), s.write); hit != s.hit {
			t.Errorf("step %d (%s): hit %v, want %v", i, s.name, hit, s.hit)
		}
		if !slices.Equal(mem.log, s.log) {
			t.Errorf("step %d (%s): memory heard %q, want %q", i, s.name, mem.log, s.log)
		}
		if want := (Counters{s.inv, s.down, s.xfer}); m.C != want {
			t.Errorf("step %d (%s): counters %+v, want %+v", i, s.name, m.C, want)
		}
		if err := m.Check(); err != nil {
			t.Fatalf("step %d (%s): %v", i, s.name, err)
		}
	}
	for _, h := range []struct {
		line     uint64
		cores    uint64
		modified bool
	}{{0, 0b001, false}, {1, 0b010, true}, {2, 0b100, false}, {4, 0b100, false}, {3, 0, false}} {
		if cores, mod := m.Holders(l(h.line)); cores != h.cores || mod != h.modified {
			t.Errorf("Holders(%d) = %#b %v, want %#b %v", h.line, cores, mod, h.cores, h.modified)
		}
	}
	want := []cache.Counters{{Refs: 5, Misses: 2}, {Refs: 4, Misses: 3}, {Refs: 4, Misses: 4, Writebacks: 1}}
	for c := range 3 {
		if got := m.CacheCounters(c); got != want[c] {
			t.Errorf("core %d: %+v, want %+v", c, got, want[c])
		}
	}
	if d := []int64{m.Dirty(0), m.Dirty(1), m.Dirty(2)}; !slices.Equal(d, []int64{0, 1, 0}) {
		t.Errorf("dirty lines by core %v, want [0 1 0]", d)
	}

	// Checkpoint flushes: core 1's alone, keeping the line (now S), then every core's,
	// emptying the caches.
	mem.log = nil
	if n := m.FlushCore(1, false); n != 1 || !slices.Equal(mem.log, []string{"wb 1 1:1"}) {
		t.Errorf("FlushCore(1, clean) wrote %d: %q", n, mem.log)
	}
	mem.log = nil
	if !m.Access(1, l(1), false) || m.Access(0, l(1), false) || !slices.Equal(mem.log, []string{"fill 0 1:1"}) {
		t.Errorf("after a clean flush the line must be S in core 1 and come from memory: %q", mem.log)
	}
	m.Access(0, l(0), true)
	mem.log = nil
	if n := m.Flush(true); n != 1 || !slices.Equal(mem.log, []string{"wb 0 1:0"}) {
		t.Errorf("Flush(invalidate) wrote %d: %q", n, mem.log)
	}
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	if m.dir.n != 0 {
		t.Errorf("the directory keeps %d lines after an invalidating flush", m.dir.n)
	}
}

// op is one step of a random trace: an access, or a flush or discard.
type op struct {
	kind  int // opAccess, ...
	core  int
	line  cache.Line
	write bool
	inval bool
	asid  record.ASID // the address space a discard drops
}

const (
	opAccess = iota
	opFlush
	opFlushCore
	opDiscard
	opDiscardAll
)

// randomTrace returns n steps of threads over private and shared lines, mapped to cores by
// a round-robin schedule, with a flush or discard now and then (none without flushes).
func randomTrace(t testing.TB, rng *rand.Rand, cores, n int, flushes bool) []op {
	threads := 1 + rng.IntN(2*cores+1)
	s, err := schedule.New(schedule.Options{Policy: schedule.RoundRobin, Cores: cores, Quantum: int64(1 + rng.IntN(200))})
	if err != nil {
		t.Fatal(err)
	}
	private := uint64(2 + rng.IntN(40)) // lines per thread
	sharedLines := uint64(1 + rng.IntN(30))
	pShared := rng.IntN(100)
	pWrite := 10 + rng.IntN(60)
	ops := make([]op, 0, n)
	th := 0
	for range n {
		if flushes {
			switch x := rng.IntN(2000); {
			case x < 2:
				ops = append(ops, op{kind: opFlush, inval: rng.IntN(2) == 0})
				continue
			case x < 6:
				ops = append(ops, op{kind: opFlushCore, core: rng.IntN(cores), inval: rng.IntN(2) == 0})
				continue
			case x < 8:
				ops = append(ops, op{kind: opDiscard, core: rng.IntN(cores), asid: record.ASID(1 + rng.IntN(2))})
				continue
			case x < 9:
				ops = append(ops, op{kind: opDiscardAll, asid: record.ASID(1 + rng.IntN(2))})
				continue
			}
		}
		if rng.IntN(8) == 0 { // threads run in bursts
			th = rng.IntN(threads)
		}
		asid := record.ASID(1 + th%2)
		core, err := s.Core(schedule.Thread{ASID: asid, TID: record.TID(th)}, schedule.NoCPU)
		if err != nil {
			t.Fatal(err)
		}
		var l cache.Line
		if rng.IntN(100) < pShared {
			l = cache.Line{ASID: record.ASID(1 + rng.IntN(2)), N: uint64(rng.Uint64N(sharedLines))}
		} else {
			l = cache.Line{ASID: asid, N: 1000 + uint64(th)*64 + rng.Uint64N(private)}
		}
		ops = append(ops, op{kind: opAccess, core: core, line: l, write: rng.IntN(100) < pWrite})
	}
	return ops
}

var geometries = []cache.Geometry{
	{Size: 64, Ways: 2, Line: 16},   // 2 sets × 2 ways
	{Size: 128, Ways: 1, Line: 16},  // direct-mapped, 8 sets
	{Size: 512, Ways: 4, Line: 32},  // 4 sets × 4 ways
	{Size: 512, Ways: 8, Line: 64},  // fully associative, 8 ways
	{Size: 4096, Ways: 4, Line: 64}, // 16 sets × 4 ways
}

// TestAgainstNaive runs seeded random multi-thread traces through the machine and the
// naive model of naive_test.go, on 1, 2, 4 and 16 cores and several geometries: every
// access's hit, every fill, write-back, invalidation and downgrade in order (a flush's
// write-backs as a set), and every count agree, and Check holds after every step.
func TestAgainstNaive(t *testing.T) {
	seed := testseed.Seed(t)
	for _, cores := range []int{1, 2, 4, 16} {
		var sum Counters
		for gi, g := range geometries {
			t.Run(fmt.Sprintf("%d cores %d×%dB %d-way", cores, g.Size, g.Line, g.Ways), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(cores*100+gi)))
				ops := randomTrace(t, rng, cores, 6000, true)
				mem := &logMemory{}
				m := newMachine(t, cores, g, 0, mem)
				ref := newNaive(cores, g)
				for i, o := range ops {
					mem.log, ref.log = nil, nil
					sorted := false
					keep := func(a record.ASID) bool { return a != o.asid }
					switch o.kind {
					case opAccess:
						hit, want := m.Access(o.core, o.line, o.write), ref.access(o.core, o.line, o.write)
						if hit != want {
							t.Fatalf("seed %d step %d %+v: hit %v, naive %v", seed, i, o, hit, want)
						}
					case opFlush:
						var want int64
						for c := range cores {
							want += ref.flush(c, o.inval)
						}
						if n := m.Flush(o.inval); n != want {
							t.Fatalf("seed %d step %d %+v: flushed %d, naive %d", seed, i, o, n, want)
						}
						sorted = true
					case opFlushCore:
						want := ref.flush(o.core, o.inval)
						if n := m.FlushCore(o.core, o.inval); n != want {
							t.Fatalf("seed %d step %d %+v: flushed %d, naive %d", seed, i, o, n, want)
						}
						sorted = true
					case opDiscard:
						m.Discard(o.core, keep)
						ref.discard(o.core, keep)
					case opDiscardAll:
						m.DiscardAll(keep)
						for c := range cores {
							ref.discard(c, keep)
						}
					}
					if sorted {
						slices.Sort(mem.log)
						slices.Sort(ref.log)
					}
					if !slices.Equal(mem.log, ref.log) {
						t.Fatalf("seed %d step %d %+v: memory heard %q, naive %q", seed, i, o, mem.log, ref.log)
					}
					if want := (Counters{ref.inv, ref.down, ref.xfer}); m.C != want {
						t.Fatalf("seed %d step %d %+v: counters %+v, naive %+v", seed, i, o, m.C, want)
					}
					if err := m.Check(); err != nil {
						t.Fatalf("seed %d step %d %+v: %v", seed, i, o, err)
					}
				}
				for c := range cores {
					k := ref.cores[c]
					want := cache.Counters{Refs: k.refs, Misses: k.misses, Writebacks: k.writebacks, FlushLines: k.flushed}
					if got := m.CacheCounters(c); got != want {
						t.Errorf("seed %d core %d: %+v, naive %+v", seed, c, got, want)
					}
					if m.Dirty(c) != ref.dirty(c) {
						t.Errorf("seed %d core %d: %d dirty, naive %d", seed, c, m.Dirty(c), ref.dirty(c))
					}
				}
				sum.Invalidations += m.C.Invalidations
				sum.Downgrades += m.C.Downgrades
				sum.Transfers += m.C.Transfers
			})
		}
		// Over the geometries (one tiny cache's trace may miss a case by chance).
		if cores > 1 && (sum.Invalidations == 0 || sum.Downgrades == 0 || sum.Transfers == sum.Downgrades) {
			t.Errorf("seed %d, %d cores: the traces exercised too little of the protocol: %+v", seed, cores, sum)
		}
	}
}

// recMemory is a cache.Memory that logs, to compare a one-core machine with a cache.
type recMemory struct{ log []string }

func (m *recMemory) Fill(l cache.Line, _ []uint64) {
	m.log = append(m.log, fmt.Sprintf("fill %d:%d", l.ASID, l.N))
}
func (m *recMemory) WriteBack(l cache.Line, _ []uint64) {
	m.log = append(m.log, fmt.Sprintf("wb %d:%d", l.ASID, l.N))
}

// With one core, the machine is the plain cache model: the same hits, the same fills and
// write-backs in the same order (flushes included), the same counts, and no coherence.
func TestOneCoreIsTheCache(t *testing.T) {
	seed := testseed.Seed(t)
	for gi, g := range append(geometries, cache.Geometry{Size: 32 << 10, Ways: 8, Line: 64}) {
		t.Run(fmt.Sprintf("%d×%dB %d-way", g.Size, g.Line, g.Ways), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(gi)))
			mlog, clog := &recMemory{}, &recMemory{}
			m := newMachine(t, 1, g, 0, Shared(mlog))
			c := cache.New(g, 0, clog)
			keep := func(a record.ASID) bool { return a != 2 }
			for i, o := range randomTrace(t, rng, 1, 20000, true) {
				switch o.kind {
				case opAccess:
					if hit, want := m.Access(0, o.line, o.write), c.Access(o.line, o.write); hit != want {
						t.Fatalf("seed %d step %d: hit %v, cache %v", seed, i, hit, want)
					}
				case opFlush, opFlushCore:
					if n, want := m.Flush(o.inval), c.Flush(o.inval); n != want {
						t.Fatalf("seed %d step %d: flushed %d, cache %d", seed, i, n, want)
					}
				case opDiscard, opDiscardAll:
					m.Discard(0, keep)
					c.Discard(keep)
				}
			}
			if !slices.Equal(mlog.log, clog.log) {
				t.Errorf("seed %d: the machine's memory heard %d calls, the cache's %d, or in another order", seed, len(mlog.log), len(clog.log))
			}
			if m.CacheCounters(0) != c.C || m.Dirty(0) != c.Dirty() || m.C != (Counters{}) {
				t.Errorf("seed %d: %+v (%d dirty) %+v; cache %+v (%d dirty)", seed, m.CacheCounters(0), m.Dirty(0), m.C, c.C, c.Dirty())
			}
			if err := m.Check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// stampMemory holds blocks stamps per line, to check that the data goes where it must.
type stampMemory struct {
	blocks int
	m      map[cache.Line][]uint64
}

func (s *stampMemory) Fill(_ int, l cache.Line, data []uint64) {
	if src, ok := s.m[l]; ok {
		copy(data, src)
	} else {
		clear(data)
	}
}

func (s *stampMemory) WriteBack(_ int, l cache.Line, data []uint64) { s.m[l] = slices.Clone(data) }

// With verification on, every read of every core sees the last write of any core
// (transfers carry the owner's data, downgrades write it back), flushes included; and
// after a last invalidating flush memory holds every line's last write.
func TestDataCoherent(t *testing.T) {
	seed := testseed.Seed(t)
	const blocks = 4
	for _, cores := range []int{1, 2, 4, 16} {
		for gi, g := range geometries {
			t.Run(fmt.Sprintf("%d cores %d×%dB %d-way", cores, g.Size, g.Line, g.Ways), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(cores*100+gi)))
				mem := &stampMemory{blocks: blocks, m: map[cache.Line][]uint64{}}
				m := newMachine(t, cores, g, blocks, mem)
				golden := map[cache.Line][]uint64{}
				for i, o := range randomTrace(t, rng, cores, 6000, false) {
					if rng.IntN(1000) == 0 {
						if rng.IntN(2) == 0 {
							m.Flush(rng.IntN(2) == 0)
						} else {
							m.FlushCore(rng.IntN(cores), rng.IntN(2) == 0)
						}
					}
					m.Access(o.core, o.line, o.write)
					d := m.Data(o.core, o.line)
					want := golden[o.line]
					if want == nil {
						want = make([]uint64, blocks)
					}
					if !slices.Equal(d, want) {
						t.Fatalf("seed %d step %d: core %d reads line %d:%d as %v, last written %v", seed, i, o.core, o.line.ASID, o.line.N, d, want)
					}
					if o.write {
						b := rng.IntN(blocks)
						d[b] = uint64(i + 1)
						golden[o.line] = slices.Clone(d)
					}
				}
				m.Flush(true)
				for l, want := range golden {
					if !slices.Equal(mem.m[l], want) {
						t.Fatalf("seed %d: memory holds %v for line %d:%d, last written %v", seed, mem.m[l], l.ASID, l.N, want)
					}
				}
			})
		}
	}
}

// What reaches memory is what the counters say: fills = misses - transfers, write-backs
// = the caches' write-backs + downgrades.
func TestMemoryTraffic(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	mem := &logMemory{}
	m := newMachine(t, 4, cache.Geometry{Size: 512, Ways: 4, Line: 32}, 0, mem)
	for _, o := range randomTrace(t, rng, 4, 50000, false) {
		m.Access(o.core, o.line, o.write)
		if rng.IntN(5000) == 0 {
			m.Flush(rng.IntN(2) == 0)
		}
	}
	var fills, wbs, misses, cwbs int64
	for _, s := range mem.log {
		switch {
		case strings.HasPrefix(s, "fill "):
			fills++
		case strings.HasPrefix(s, "wb "):
			wbs++
		}
	}
	for c := range 4 {
		misses += m.CacheCounters(c).Misses
		cwbs += m.CacheCounters(c).Writebacks
	}
	if fills != misses-m.C.Transfers || wbs != cwbs+m.C.Downgrades {
		t.Errorf("seed %d: %d fills, %d write-backs; misses %d, write-backs %d, %+v", seed, fills, wbs, misses, cwbs, m.C)
	}
}

// Check finds each kind of broken directory.
func TestCheckFindsCorruption(t *testing.T) {
	l0, l1 := cache.Line{ASID: 1, N: 0}, cache.Line{ASID: 1, N: 1}
	for _, tt := range []struct {
		name    string
		corrupt func(m *Machine)
		wantErr string
	}{
		{"a held line missing", func(m *Machine) { m.dir.set(l0, entry{}) }, "which the directory does not know"},
		{"a sharer missing", func(m *Machine) { m.dir.set(l0, entry{sharers: 1}) }, "core 1 holds line 1:0x0, sharers 0x1"},
		{"a sharer too many", func(m *Machine) { m.dir.set(l0, entry{sharers: 7}) }, "the directory lists 4 copies, the caches hold 3"},
		{"a sharer beyond the cores", func(m *Machine) { m.dir.set(l0, entry{sharers: 3 | 1<<9}) }, "shared by 0x203 of 3 cores"},
		{"modified but clean", func(m *Machine) { m.dir.set(l0, entry{sharers: 3, modified: true}) }, "dirty false in core 0, modified true"},
		{"dirty but shared", func(m *Machine) { m.dir.set(l1, entry{sharers: 4}) }, "dirty true in core 2, modified false"},
		{"M in two caches", func(m *Machine) {
			// Core 0's cache replaced by one that took l1 in M behind the directory's back.
			cc := cache.New(m.Geometry(), 0, &recMemory{})
			cc.Access(l1, true)
			m.caches[0] = cc
			m.dir.set(l0, entry{sharers: 2})
			m.dir.set(l1, entry{sharers: 5, modified: true})
		}, "modified with sharers 0x5: an M line is in one cache only"},
		{"an entry no cache holds", func(m *Machine) { m.dir.set(cache.Line{N: 9}, entry{sharers: 1}) }, "the directory lists 4 copies"},
		{"a line cut off from its home slot", func(m *Machine) {
			// l0's and a line of the same home slot, after it; then l0's slot emptied
			// without the shift back.
			l := cache.Line{ASID: 1, N: 1 << 30}
			for m.dir.home(l) != m.dir.home(l0) {
				l.N++
			}
			m.dir.set(l, entry{sharers: 1})
			m.dir.slots[m.dir.find(l0)] = slot{}
		}, "cut off from its home slot"},
		{"a line twice", func(m *Machine) {
			i := m.dir.find(l0)
			m.dir.slots[(i+1)&(len(m.dir.slots)-1)] = m.dir.slots[i]
			m.dir.n++
		}, "in directory slots"},
		{"the directory's count", func(m *Machine) { m.dir.n++ }, "directory slots in use, counted 3"},
		{"counters", func(m *Machine) { m.C.Transfers += 5 }, "transfers with"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newMachine(t, 3, cache.Geometry{Size: 256, Ways: 2, Line: 16}, 0, nil)
			m.Access(0, l0, false)
			m.Access(1, l0, false)
			m.Access(2, l1, true)
			if err := m.Check(); err != nil {
				t.Fatalf("before: %v", err)
			}
			tt.corrupt(m)
			if err := m.Check(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check: %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// Memory is flat in the trace's length: the directory holds only lines some cache holds,
// and a long replay allocates nothing once the caches are warm.
func TestMemoryFlat(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	g := cache.Geometry{Size: 2048, Ways: 4, Line: 64}
	m := newMachine(t, 4, g, 0, nil)
	ops := randomTrace(t, rng, 4, 100000, false)
	run := func() {
		for _, o := range ops {
			m.Access(o.core, o.line, o.write)
		}
	}
	run()
	if max := 4 * int(g.Size/g.Line); m.dir.n > max {
		t.Errorf("seed %d: %d directory entries for %d cached lines at most", seed, m.dir.n, max)
	}
	if a := testing.AllocsPerRun(3, run); a > 0 {
		t.Errorf("seed %d: %v allocations over %d accesses on warm caches", seed, a, len(ops))
	}
}
