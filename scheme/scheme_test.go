package scheme

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestRegistry works on a registry of its own, so that it can run any number of times in
// one process (go test -count=2): the process-wide one cannot forget a registration.
func TestRegistry(t *testing.T) {
	r := NewRegistry()
	i := Info{Name: "test-registry", Doc: "a test", New: func(Machine, Params) (Scheme, error) { return nil, nil },
		Params: []Param{{Name: "test-knob", Default: "3", Doc: "a knob"}}}
	r.Register(i)
	r.Register(Info{Name: "a-first", Doc: "sorts first", New: i.New, Params: []Param{{Name: "test-knob", Default: "1", Doc: "the same knob"}}})
	got, ok := r.Lookup("test-registry")
	if !ok || got.Name != i.Name {
		t.Fatal("Lookup does not find a registered scheme")
	}
	if names := r.Names(); !slices.Equal(names, []string{"a-first", "test-registry"}) {
		t.Errorf("Names() = %v", names)
	}
	if p := r.ParamNames(); !slices.Equal(p, []string{"test-knob"}) {
		t.Errorf("ParamNames() = %v", p)
	}
	if _, ok := Lookup("test-registry"); ok || slices.Contains(Names(), "test-registry") {
		t.Error("a registration in a registry of its own reached the process-wide one")
	}
	for _, tt := range []struct {
		name string
		set  map[string]string
		want string
		ok   bool
	}{
		{"default", nil, "3", true},
		{"set", map[string]string{"test-knob": "9"}, "9", true},
		{"unknown", map[string]string{"other": "1"}, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := got.Resolve(tt.set)
			if (err == nil) != tt.ok || err == nil && p["test-knob"] != tt.want {
				t.Errorf("Resolve(%v) = %v, %v", tt.set, p, err)
			}
		})
	}
	for _, bad := range []struct {
		name string
		info Info
	}{
		{"twice", i},
		{"no New", Info{Name: "x", Doc: "no New"}},
		{"too many counters", Info{Name: "y", Doc: "too many counters", New: i.New, Counters: make([]CounterDef, MaxCounters+1)}},
	} {
		t.Run(bad.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", bad.info.Name)
				}
			}()
			r.Register(bad.info)
		})
	}
}

func TestGranuleUse(t *testing.T) {
	for _, tt := range []struct {
		name         string
		use          GranuleUse
		cache, plain bool // uses the granule with a cache, without one
	}{
		{"unused", GranuleUnused, false, false},
		{"always", GranuleAlways, true, true},
		{"without a cache", GranuleWithoutCache, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.use.UsesGranule(true) != tt.cache || tt.use.UsesGranule(false) != tt.plain {
				t.Errorf("UsesGranule(true), (false) = %v, %v", tt.use.UsesGranule(true), tt.use.UsesGranule(false))
			}
		})
	}
}

// TestPageSet compares the set with a plain map over random accesses.
func TestPageSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var s PageSet
	touched, written := map[[2]uint64]bool{}, map[[2]uint64]bool{}
	for range 10000 {
		asid, first := uint32(rng.IntN(3)), uint64(rng.IntN(500))
		last := first + uint64(rng.IntN(3))
		w := rng.IntN(2) == 0
		s.Add(asid, first, last, w, 0)
		for p := first; p <= last; p++ {
			k := [2]uint64{uint64(asid), p}
			touched[k] = true
			if w {
				written[k] = true
			}
		}
	}
	if s.Touched() != int64(len(touched)) || s.Written() != int64(len(written)) {
		t.Fatalf("touched %d written %d, want %d %d", s.Touched(), s.Written(), len(touched), len(written))
	}
}

// TestPageSetBudget: past SetMax the set refuses an access, holds no page beyond the
// budget, and keeps the error of the first access refused; an access that alone covers
// more pages than the budget is refused before any page is looked at (however many).
func TestPageSetBudget(t *testing.T) {
	type add struct {
		first, last uint64
		n           int64
		ok          bool
	}
	for _, tt := range []struct {
		name    string
		adds    []add
		touched int64
		err     *TooManyPagesError
	}{
		{"within the budget", []add{{0, 1, 1, true}, {2, 3, 2, true}, {0, 3, 3, true}}, 4, nil},
		{"a new page past it", []add{{0, 3, 1, true}, {4, 4, 2, false}, {0, 3, 3, true}, {9, 9, 4, false}}, 4,
			&TooManyPagesError{Max: 4, Access: 2}},
		{"an access partly past it", []add{{0, 1, 1, true}, {1, 4, 2, false}}, 4, &TooManyPagesError{Max: 4, Access: 2}},
		{"an access larger than the budget", []add{{0, 0, 1, true}, {10, 1<<40 + 9, 2, false}, {1, 1, 3, true}}, 2,
			&TooManyPagesError{Max: 4, Access: 2, Pages: 1 << 40}},
		{"exactly the budget in one access", []add{{10, 13, 1, true}}, 4, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s PageSet
			s.SetMax(4)
			for _, a := range tt.adds {
				if ok := s.Add(1, a.first, a.last, true, a.n); ok != a.ok {
					t.Fatalf("access %d (pages %d..%d): ok %v, want %v", a.n, a.first, a.last, ok, a.ok)
				}
			}
			if s.Touched() != tt.touched || s.Written() != tt.touched {
				t.Errorf("touched %d, written %d; want %d", s.Touched(), s.Written(), tt.touched)
			}
			err := s.Err()
			if tt.err == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			var got *TooManyPagesError
			if !errors.As(err, &got) || *got != *tt.err || !errors.Is(err, ErrTooManyPages) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if msg := err.Error(); !strings.Contains(msg, "--max-pages 4") || !strings.Contains(msg, fmt.Sprintf("access %d", tt.err.Access)) {
				t.Errorf("message %q names neither the budget nor the access", msg)
			}
		})
	}
}
