package scheme

import (
	"math/rand/v2"
	"slices"
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
		s.Add(asid, first, last, w)
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
