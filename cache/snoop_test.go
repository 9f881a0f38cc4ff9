package cache

import (
	"fmt"
	"slices"
	"testing"
)

// snoopLog is a Snooper that logs every call.
type snoopLog struct{ log []string }

func (s *snoopLog) Fill(l Line, _ []uint64)      { s.log = append(s.log, fmt.Sprintf("fill %d", l.N)) }
func (s *snoopLog) WriteBack(l Line, _ []uint64) { s.log = append(s.log, fmt.Sprintf("wb %d", l.N)) }
func (s *snoopLog) Evict(l Line)                 { s.log = append(s.log, fmt.Sprintf("evict %d", l.N)) }
func (s *snoopLog) Upgrade(l Line)               { s.log = append(s.log, fmt.Sprintf("upgrade %d", l.N)) }

// A Snooper hears of every replacement (clean or dirty, after the write-back and before the
// fill) and of every write that hits a clean line, once; Flush, Discard and Demote tell it
// nothing.
func TestSnooper(t *testing.T) {
	mem := &snoopLog{}
	c := New(Geometry{64, 2, 16}, 0, mem) // 2 sets × 2 ways
	l := func(n uint64) Line { return Line{N: n} }
	for _, tt := range []struct {
		name  string
		do    func()
		log   []string
		lines []string // what Lines yields afterwards
	}{
		{"read miss", func() { c.Access(l(0), false) }, []string{"fill 0"}, []string{"0"}},
		{"write hit on a clean line upgrades", func() { c.Access(l(0), true) }, []string{"upgrade 0"}, []string{"0*"}},
		{"write hit on a dirty line does not", func() { c.Access(l(0), true) }, nil, []string{"0*"}},
		{"write miss fills, no upgrade", func() { c.Access(l(2), true) }, []string{"fill 2"}, []string{"0*", "2*"}},
		{"dirty victim: written back, evicted, then the fill", func() { c.Access(l(4), false) }, []string{"wb 0", "evict 0", "fill 4"}, []string{"4", "2*"}},
		{"read hit", func() { c.Access(l(4), false) }, nil, []string{"4", "2*"}},
		{"clean victim: evicted", func() { c.Access(l(6), false); c.Access(l(8), false) }, []string{"wb 2", "evict 2", "fill 6", "evict 4", "fill 8"}, []string{"8", "6"}},
		{"Demote keeping the line", func() {
			c.Access(l(6), true)
			mem.log = nil
			if v, d := c.Demote(l(6), false); !v || !d {
				t.Errorf("Demote(6) = %v %v, want true true", v, d)
			}
		}, nil, []string{"8", "6"}},
		{"Demote dropping the line", func() {
			if v, d := c.Demote(l(8), true); !v || d {
				t.Errorf("Demote(8) = %v %v, want true false", v, d)
			}
			if v, d := c.Demote(l(10), true); v || d {
				t.Errorf("Demote(10) of an absent line = %v %v", v, d)
			}
		}, nil, []string{"6"}},
		{"a line dropped by Demote leaves no victim to evict", func() { c.Access(l(1), true); c.Access(l(10), false) }, []string{"fill 1", "fill 10"}, []string{"10", "6", "1*"}},
		{"Flush and Discard tell the snooper nothing of the lines they drop", func() { c.Flush(true); c.Access(l(1), false); c.Discard(nil) }, []string{"wb 1", "fill 1"}, nil},
	} {
		mem.log = nil
		tt.do()
		if !slices.Equal(mem.log, tt.log) {
			t.Errorf("%s: memory heard %q, want %q", tt.name, mem.log, tt.log)
		}
		var lines []string
		for x, dirty := range c.Lines() {
			s := fmt.Sprint(x.N)
			if dirty {
				s += "*"
			}
			lines = append(lines, s)
		}
		if !slices.Equal(lines, tt.lines) {
			t.Errorf("%s: lines %q, want %q", tt.name, lines, tt.lines)
		}
		if err := c.Check(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
}
