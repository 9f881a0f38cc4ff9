package scheme

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
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

// goodCounts declares own counters as a scheme does.
type goodCounts struct {
	Events int64 `json:"events" doc:"events counted"`
	Most   int64 `json:"most_held" kind:"peak" doc:"the most held at once"`
	Left   int64 `json:"left_over" kind:"end" doc:"what is left at the end"`
}

// TestRegisterOwnCounters: Register takes a scheme's own counter struct whose every field
// declares a counter, and panics, naming the scheme and the field, on one that does not.
func TestRegisterOwnCounters(t *testing.T) {
	newScheme := func(Machine, Params) (Scheme, error) { return nil, nil }
	many := make([]reflect.StructField, MaxCounters+1)
	for i := range many {
		many[i] = reflect.StructField{Name: fmt.Sprintf("C%d", i), Type: reflect.TypeFor[int64](),
			Tag: reflect.StructTag(fmt.Sprintf(`json:"c%d" doc:"counter %d"`, i, i))}
	}
	for _, tt := range []struct {
		name string
		own  any
		want string // in the panic; "" for none
	}{
		{"none", nil, ""},
		{"good", new(goodCounts), ""},
		{"no key", new(struct {
			A int64 `doc:"a"`
		}), "field A: json key"},
		{"key with options", new(struct {
			A int64 `json:"a,omitempty" doc:"a"`
		}), "field A: json key"},
		{"upper-case key", new(struct {
			A int64 `json:"A" doc:"a"`
		}), "field A: json key"},
		{"no doc", new(struct {
			A int64 `json:"a"`
		}), "field A (a) has no doc"},
		{"duplicate key", reflect.New(reflect.StructOf([]reflect.StructField{ // (vet refuses the literal)
			{Name: "A", Type: reflect.TypeFor[int64](), Tag: `json:"a" doc:"a"`},
			{Name: "B", Type: reflect.TypeFor[int64](), Tag: `json:"a" doc:"b"`},
		})).Interface(), `counter "a" declared twice`},
		{"not an int64", new(struct {
			A int32 `json:"a" doc:"a"`
		}), "field A is a int32, not an int64"},
		{"unknown kind", new(struct {
			A int64 `json:"a" kind:"max" doc:"a"`
		}), `kind "max"`},
		{"embedded", new(struct {
			goodCounts
		}), "embedded field goodCounts"},
		{"not a pointer", goodCounts{}, "not a pointer to a struct"},
		{"too many", reflect.New(reflect.StructOf(many)).Interface(), "more than 16"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			func() {
				defer func() {
					if r := recover(); r != nil {
						got = fmt.Sprint(r)
					}
				}()
				NewRegistry().Register(Info{Name: "s", Doc: "a scheme", New: newScheme, Own: tt.own})
			}()
			switch {
			case tt.want == "" && got != "":
				t.Errorf("Register panicked: %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("Register panicked with %q, want %q in it", got, tt.want)
			case tt.want != "" && !strings.Contains(got, `"s"`):
				t.Errorf("the panic %q does not name the scheme", got)
			}
		})
	}
}

// TestOwnCounters: an Info's own counters come from its struct's tags in field order,
// peaks and end values only from the kind tag (a key containing "peak" is not one by
// that), and a Tally made for it hands the scheme that struct.
func TestOwnCounters(t *testing.T) {
	type namedPeak struct {
		Peaks int64 `json:"peaks_seen" doc:"peaks seen: a total, whatever its name"`
	}
	for _, tt := range []struct {
		name string
		own  any
		want []CounterDef
	}{
		{"none", nil, nil},
		{"kinds from the tag", new(goodCounts), []CounterDef{{"events", "events counted", Total},
			{"most_held", "the most held at once", Peak}, {"left_over", "what is left at the end", End}}},
		{"peak in the key is a total", new(namedPeak), []CounterDef{{"peaks_seen", "peaks seen: a total, whatever its name", Total}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			i := Info{Name: "s", Own: tt.own}
			if got := i.OwnDefs(); !slices.Equal(got, tt.want) {
				t.Errorf("OwnDefs() = %+v, want %+v", got, tt.want)
			}
			if v := i.NewTally().OwnValues(); len(v) != len(tt.want) {
				t.Errorf("NewTally().OwnValues() = %v, want %d zeros", v, len(tt.want))
			}
		})
	}
	tl := Info{Own: new(goodCounts)}.NewTally()
	Own[goodCounts](tl).Most += 3
	Own[goodCounts](tl).Left += 5
	if v := tl.OwnValues(); !slices.Equal(v, []int64{0, 3, 5}) {
		t.Errorf("OwnValues() = %v after adding through Own, want [0 3 5]", v)
	}
	if k := []CounterKind{Total, Peak, End}; !k[0].Sums() || k[1].Sums() || k[2].Sums() {
		t.Error("only a total sums")
	}
}

// TestOwnOfAnotherType: Own panics, naming both types, when the Tally holds another
// scheme's counters or none.
func TestOwnOfAnotherType(t *testing.T) {
	for _, tt := range []struct {
		name string
		t    *Tally
	}{
		{"none", &Tally{}},
		{"another type", Info{Own: new(struct {
			A int64 `json:"a" doc:"a"`
		})}.NewTally()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "scheme.goodCounts") {
					t.Errorf("Own panicked with %v, want a message naming scheme.goodCounts", r)
				}
			}()
			Own[goodCounts](tt.t)
		})
	}
}

// TestTallyDefs: the scheme's common counters are those of its three groups, in order,
// the peaks marked by their tags.
func TestTallyDefs(t *testing.T) {
	defs := TallyDefs()
	var keys, peaks []string
	for _, d := range defs {
		keys = append(keys, d.Key)
		if d.Kind == Peak {
			peaks = append(peaks, d.Key)
		}
	}
	if len(defs) != 23 || keys[0] != "pages_touched" || keys[2] != "first_writes" || keys[14] != "bytes_copied" {
		t.Errorf("TallyDefs keys %v", keys)
	}
	if want := []string{"frames_peak", "checkpoint_frames_peak", "mem_overhead_peak_bytes"}; !slices.Equal(peaks, want) {
		t.Errorf("peaks %v, want %v", peaks, want)
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

// TestPageSetCheck: Check verifies the set's own counts and its index, budget included.
func TestPageSetCheck(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(*PageSet)
		want   string
	}{
		{"intact", func(*PageSet) {}, ""},
		{"written miscounted", func(s *PageSet) { s.nw++ }, "pages written"},
		{"a flag missing", func(s *PageSet) { s.written = s.written[:1] }, "written flags"},
		{"past the budget", func(s *PageSet) { s.pages.max = 1 }, "budget"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s PageSet
			s.SetMax(4)
			s.Add(1, 0, 1, true, 1)
			s.Add(1, 2, 2, false, 2)
			tt.damage(&s)
			err := s.Check()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Check = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}
