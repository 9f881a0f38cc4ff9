package cache

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"go.uber.org/mock/gomock"

	"github.com/vmsim/vmsim/internal/refcache"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/traces"
)

// nullMemory is memory that holds nothing (verification off).
type nullMemory struct{ fills, wbs int }

func (m *nullMemory) Fill(Line, []uint64)      { m.fills++ }
func (m *nullMemory) WriteBack(Line, []uint64) { m.wbs++ }

func TestGeometry(t *testing.T) {
	for _, tt := range []struct {
		name string
		g    Geometry
		ok   bool
	}{
		{"none", Geometry{}, true},
		{"32K 8-way 64B", Geometry{32 << 10, 8, 64}, true},
		{"direct-mapped", Geometry{1 << 10, 1, 16}, true},
		{"fully associative", Geometry{1 << 10, 64, 16}, true},
		{"line not a power of two", Geometry{1 << 10, 1, 48}, false},
		{"line too small", Geometry{1 << 10, 1, 4}, false},
		{"no ways", Geometry{1 << 10, 0, 64}, false},
		{"sets not a power of two", Geometry{3 << 10, 1, 64}, false},
		{"smaller than a set", Geometry{64, 2, 64}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.g.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate(%+v) = %v, want ok=%v", tt.g, err, tt.ok)
			}
		})
	}
}

// A hand-worked sequence on 2 sets × 2 ways of 16-byte lines.
func TestHandWorked(t *testing.T) {
	mem := &nullMemory{}
	c := New(Geometry{64, 2, 16}, 0, mem)
	l := func(n uint64) Line { return Line{N: n} }
	steps := []struct {
		line  uint64
		write bool
		hit   bool
		wbs   int64
	}{
		{0, false, false, 0}, // set 0: [0]
		{2, true, false, 0},  // set 0: [2* 0]
		{0, false, true, 0},  // set 0: [0 2*]
		{4, false, false, 1}, // set 0: LRU is 2 (dirty): written back; [4 0]
		{1, true, false, 1},  // set 1: [1*]
		{2, false, false, 1}, // set 0: evicts 0 (clean); [2 4]
		{1, false, true, 1},
	}
	for i, s := range steps {
		if hit := c.Access(l(s.line), s.write); hit != s.hit || c.C.Writebacks != s.wbs {
			t.Fatalf("step %d (line %d): hit=%v writebacks=%d, want %v %d", i, s.line, hit, c.C.Writebacks, s.hit, s.wbs)
		}
	}
	if c.C.Misses != 5 || c.C.Refs != 7 || mem.fills != 5 {
		t.Errorf("misses %d refs %d fills %d, want 5 7 5", c.C.Misses, c.C.Refs, mem.fills)
	}
	if d := c.Dirty(); d != 1 {
		t.Errorf("dirty %d, want 1 (line 1)", d)
	}
	if n := c.Flush(false); n != 1 || c.Dirty() != 0 || c.C.FlushLines != 1 || c.C.Writebacks != 2 {
		t.Errorf("clean flush wrote %d, dirty %d, counters %+v", n, c.Dirty(), c.C)
	}
	if !c.Access(l(1), false) {
		t.Error("a clean flush must keep the lines")
	}
	c.Flush(true)
	if c.Access(l(1), false) {
		t.Error("an invalidating flush must empty the cache")
	}
}

// TestAgainstReference runs random references, flushes and discards through the cache
// and the reference model, over several geometries.
func TestAgainstReference(t *testing.T) {
	geoms := []Geometry{{64, 1, 16}, {256, 2, 16}, {1 << 10, 4, 32}, {512, 8, 64}, {4 << 10, 64, 64}}
	for trial := range 40 {
		seed := uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 99))
		g := geoms[trial%len(geoms)]
		c := New(g, 0, &nullMemory{})
		ref := refcache.New(g.Size, g.Ways, g.Line)
		span := uint64(4 + rng.IntN(200))
		for i := range 5000 {
			switch x := rng.IntN(1000); {
			case x < 3:
				inv := rng.IntN(2) == 0
				c.Flush(inv)
				ref.Flush(inv)
			default:
				l := Line{ASID: traces.ASID(rng.IntN(2)), N: uint64(rng.IntN(int(span)))}
				w := rng.IntN(3) == 0
				c.Access(l, w)
				ref.Access(refcache.Line{ASID: uint32(l.ASID), N: l.N}, w)
			}
			if c.C.Misses != ref.Misses || c.C.Writebacks != ref.Writebacks || c.C.FlushLines != ref.Flushed {
				t.Fatalf("seed %d geometry %+v step %d: counters %+v, reference misses %d writebacks %d flushed %d",
					seed, g, i, c.C, ref.Misses, ref.Writebacks, ref.Flushed)
			}
		}
		if c.Dirty() != ref.Dirty() {
			t.Fatalf("seed %d: dirty %d, reference %d", seed, c.Dirty(), ref.Dirty())
		}
		if err := c.Check(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// wordMemory is memory holding one stamp per block, to check that data goes where it must.
type wordMemory struct {
	blocks int
	m      map[Line][]uint64
}

func (w *wordMemory) Fill(l Line, data []uint64) {
	if src, ok := w.m[l]; ok {
		copy(data, src)
	} else {
		clear(data)
	}
}

func (w *wordMemory) WriteBack(l Line, data []uint64) { w.m[l] = slices.Clone(data) }

func TestDataFollowsTheLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	mem := &wordMemory{blocks: 4, m: map[Line][]uint64{}}
	c := New(Geometry{512, 2, 64}, 4, mem)
	want := map[Line][]uint64{}
	for i := range 20000 {
		l := Line{N: uint64(rng.IntN(64))}
		write := rng.IntN(2) == 0
		c.Access(l, write)
		d := c.Data(l)
		if d == nil {
			t.Fatalf("step %d: line %d not cached after its access", i, l.N)
		}
		exp := want[l]
		if exp == nil {
			exp = make([]uint64, 4)
		}
		if !slices.Equal(d, exp) {
			t.Fatalf("step %d: line %d holds %v, want %v", i, l.N, d, exp)
		}
		if write {
			b := rng.IntN(4)
			d[b] = uint64(i + 1)
			exp = slices.Clone(exp)
			exp[b] = uint64(i + 1)
			want[l] = exp
		}
		if rng.IntN(500) == 0 {
			c.Flush(rng.IntN(2) == 0)
		}
	}
	c.Flush(true)
	for l, exp := range want {
		if !slices.Equal(mem.m[l], exp) {
			t.Fatalf("after the flush, memory holds %v for line %d, want %v", mem.m[l], l.N, exp)
		}
	}
}

// TestFlushAsksMemoryInOrder checks, against a generated mock of Memory, exactly what a
// checkpoint's flush asks of the memory behind the cache: one write-back per dirty line, in
// set order, and nothing for clean lines.
func TestFlushAsksMemoryInOrder(t *testing.T) {
	ctrl := gomock.NewController(t)
	mem := NewMockMemory(ctrl)
	c := New(Geometry{128, 2, 16}, 0, mem) // 4 sets
	mem.EXPECT().Fill(gomock.Any(), gomock.Any()).Times(4)
	c.Access(Line{N: 3}, true)  // set 3, dirty
	c.Access(Line{N: 1}, false) // set 1, clean
	c.Access(Line{N: 4}, true)  // set 0, dirty
	c.Access(Line{N: 9}, true)  // set 1, dirty
	gomock.InOrder(
		mem.EXPECT().WriteBack(Line{N: 4}, gomock.Nil()),
		mem.EXPECT().WriteBack(Line{N: 9}, gomock.Nil()),
		mem.EXPECT().WriteBack(Line{N: 3}, gomock.Nil()),
	)
	if n := c.Flush(true); n != 3 {
		t.Errorf("flush wrote %d lines, want 3", n)
	}
	c.Flush(true) // nothing left: no call
}

func TestDiscard(t *testing.T) {
	mem := &nullMemory{}
	c := New(Geometry{256, 4, 16}, 0, mem)
	c.Access(Line{ASID: 1, N: 1}, true)
	c.Access(Line{ASID: 2, N: 2}, true)
	c.Discard(func(a traces.ASID) bool { return a != 1 })
	if mem.wbs != 0 || c.Dirty() != 1 {
		t.Fatalf("discard wrote %d lines back, %d dirty left; want 0, 1", mem.wbs, c.Dirty())
	}
	if c.Access(Line{ASID: 1, N: 1}, false) || !c.Access(Line{ASID: 2, N: 2}, false) {
		t.Error("discard removed the wrong lines")
	}
}

func ExampleCache() {
	c := New(Geometry{Size: 32 << 10, Ways: 8, Line: 64}, 0, &nullMemory{})
	for i := range 1000 {
		// A cyclic sweep of 600 lines through 512 under LRU: every reference misses.
		c.Access(Line{N: uint64(i % 600)}, i%3 == 0)
	}
	// Every third reference dirties its line; the flush writes the 171 of the last 512
	// references that did, the evictions the other 163.
	c.Flush(true)
	fmt.Printf("refs %d misses %d writebacks %d (flush %d)\n", c.C.Refs, c.C.Misses, c.C.Writebacks, c.C.FlushLines)
	// Output: refs 1000 misses 1000 writebacks 334 (flush 171)
}

// BenchmarkCache times the cache of the comparative study (32 KiB, 8 ways, 64-byte lines)
// against a bare loop over the same references in the same process, whose ratio holds on
// any machine: random references to 4,096 lines (mostly misses: "baseline", the bare loop,
// a direct-mapped tag array, and "32K-8way", Access a reference), and the accesses of SPEC
// gcc's trace, where the shared traces are present (mostly hits: "trace/bare", the same
// loop over the records' lines, "trace/Access", a call a line, and "trace/AccessRecords",
// the whole trace in one call).
func BenchmarkCache(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	lines := make([]Line, 1<<16)
	for i := range lines {
		lines[i] = Line{N: uint64(rng.IntN(4096))}
	}
	g := Geometry{32 << 10, 8, 64}
	b.Run("baseline", func(b *testing.B) {
		tags := make([]uint64, 512)
		var hits int
		for range b.N {
			for _, l := range lines {
				if tags[l.N&511] == l.N {
					hits++
				}
				tags[l.N&511] = l.N
			}
		}
		b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrefs/s")
	})
	b.Run("32K-8way", func(b *testing.B) {
		c := New(g, 0, &nullMemory{})
		for range b.N {
			for i, l := range lines {
				c.Access(l, i&3 == 0)
			}
		}
		b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrefs/s")
	})
	b.Run("trace", func(b *testing.B) {
		recs := benchRecords(b)
		b.Run("bare", func(b *testing.B) {
			tags := make([]uint64, 512)
			var hits, dirty int
			for range b.N {
				for k := range recs {
					r := &recs[k]
					for n := r.Addr >> 6; n <= (r.Addr+uint64(r.Size)-1)>>6; n++ {
						if tags[n&511] == n {
							hits++
						}
						tags[n&511] = n
						if r.Kind.Writes() {
							dirty++
						}
					}
				}
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Maccesses/s")
		})
		b.Run("Access", func(b *testing.B) {
			c := New(g, 0, &nullMemory{})
			for range b.N {
				for k := range recs {
					r := &recs[k]
					for n := r.Addr >> 6; n <= (r.Addr+uint64(r.Size)-1)>>6; n++ {
						c.Access(Line{r.ASID, n}, r.Kind.Writes())
					}
				}
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Maccesses/s")
		})
		b.Run("AccessRecords", func(b *testing.B) {
			c := New(g, 0, &nullMemory{})
			for range b.N {
				c.AccessRecords(recs)
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Maccesses/s")
		})
	})
}

// benchRecords returns the accesses of SPEC gcc's trace from the shared traces, decoded,
// and skips the benchmark without them.
func benchRecords(b *testing.B) []record.Record {
	b.Helper()
	path := filepath.Join("..", "..", "shared", "traces", "gcc.trace.gz")
	f, err := traces.Open(path, traces.Options{})
	if err != nil {
		b.Skipf("SPEC gcc's trace is absent (%v)", err)
	}
	defer f.Close()
	recs, err := traces.ReadAll(f)
	if err != nil {
		b.Fatal(err)
	}
	return slices.DeleteFunc(recs, func(r record.Record) bool { return !r.Kind.IsAccess() })
}
