package scheme

import (
	"fmt"
	"reflect"
	"strings"
)

// How a counter is declared: every counter is an int64 field of a struct, declared once,
// whose tags say everything about it:
//
//	FramesPeak int64 `json:"frames_peak" kind:"peak" doc:"the most frames in use at once"`
//
//   - json: the counter's key, in a run's JSON, the table, sweep's CSV columns (a scheme's
//     own counter under "scheme" in the JSON, as scheme.KEY in the table and scheme_KEY in
//     the CSV); lower-case words joined by '_';
//   - doc: its one-line definition, which `vmsim run --help`, `vmsim schemes`, the README
//     and docs/counters.md print (generated from the tags by `go generate ./docs`);
//   - kind: absent for a total over the run (the default: what --warmup subtracts), "peak"
//     for the most of something at once, "end" for what is left when the run ends. --warmup
//     keeps a peak's or an end value's whole-run value instead of subtracting.
//
// A struct of counters may embed other structs of counters (sim.Stats embeds [Pages],
// [Paging] and [Channels]); a scheme's own counter struct (Info.Own) holds int64 fields
// only. [CounterDefsOf] reads the tags; the registry checks a scheme's at Register.

// CounterKind says how a counter accumulates over a run.
type CounterKind uint8

const (
	// Total is a count of events over the run; the counts of an interval are differences.
	Total CounterKind = iota
	// Peak is the most of something at once (tag kind:"peak").
	Peak
	// End is what is left when the run ends (tag kind:"end").
	End
)

// String returns the kind's tag value ("" for Total).
func (k CounterKind) String() string {
	switch k {
	case Peak:
		return "peak"
	case End:
		return "end"
	}
	return ""
}

// Sums reports whether the counter is a total, which the counts of an interval subtract
// (sim.Stats.Sub, --warmup); a peak or an end value keeps its whole-run value.
func (k CounterKind) Sums() bool { return k == Total }

// CounterDef is one counter as its tags declare it: its key, definition and kind.
type CounterDef struct {
	Key, Doc string
	Kind     CounterKind
}

// CounterDefOf returns the counter that struct field f declares, or an error saying what
// is wrong with it: not an int64, no json key or not a plain lower_case one, no doc, or an
// unknown kind.
func CounterDefOf(f reflect.StructField) (CounterDef, error) {
	if f.Type.Kind() != reflect.Int64 {
		return CounterDef{}, fmt.Errorf("counter field %s is a %s, not an int64", f.Name, f.Type)
	}
	key := f.Tag.Get("json")
	if !validKey(key) {
		return CounterDef{}, fmt.Errorf("counter field %s: json key %q is not lower-case words joined by '_' (a key with options such as omitempty is not one either)", f.Name, key)
	}
	d := CounterDef{Key: key, Doc: f.Tag.Get("doc")}
	if strings.TrimSpace(d.Doc) == "" {
		return CounterDef{}, fmt.Errorf("counter field %s (%s) has no doc tag", f.Name, key)
	}
	switch k := f.Tag.Get("kind"); k {
	case "":
	case "peak":
		d.Kind = Peak
	case "end":
		d.Kind = End
	default:
		return CounterDef{}, fmt.Errorf("counter field %s (%s): kind %q is none of peak, end", f.Name, key, k)
	}
	return d, nil
}

// validKey reports whether k is lower-case letters and digits in words joined by '_'.
func validKey(k string) bool {
	if k == "" || k[0] == '_' || k[len(k)-1] == '_' || strings.Contains(k, "__") {
		return false
	}
	for _, c := range k {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// CounterDefsOf returns the counters that struct type t declares, in field order, the
// fields of an embedded struct at its place; or an error naming the first field that is
// not a counter, or the first key declared twice.
func CounterDefsOf(t reflect.Type) ([]CounterDef, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("counters of %s: not a struct", t)
	}
	var defs []CounterDef
	for f := range t.Fields() {
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			sub, err := CounterDefsOf(f.Type)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t, err)
			}
			defs = append(defs, sub...)
			continue
		}
		d, err := CounterDefOf(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		defs = append(defs, d)
	}
	seen := map[string]bool{}
	for _, d := range defs {
		if seen[d.Key] {
			return nil, fmt.Errorf("%s: counter %q declared twice", t, d.Key)
		}
		seen[d.Key] = true
	}
	return defs, nil
}

// TallyDefs returns the counters of a Tally but Own: those of Pages, Paging and Channels.
func TallyDefs() []CounterDef { return tallyDefs }

var tallyDefs = func() []CounterDef {
	var defs []CounterDef
	for _, t := range []reflect.Type{reflect.TypeFor[Pages](), reflect.TypeFor[Paging](), reflect.TypeFor[Channels]()} {
		d, err := CounterDefsOf(t)
		if err != nil {
			panic(err)
		}
		defs = append(defs, d...)
	}
	return defs
}()

// ownType returns the struct type Info.Own points to, or nil when it is nil, or an error
// when it is not a pointer to a struct of at most MaxCounters counters with int64 fields
// only.
func ownType(own any) (reflect.Type, error) {
	if own == nil {
		return nil, nil
	}
	t := reflect.TypeOf(own)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("Own is a %s, not a pointer to a struct of counters", t)
	}
	t = t.Elem()
	for f := range t.Fields() {
		if f.Anonymous {
			return nil, fmt.Errorf("own counters %s: embedded field %s (a scheme's own counters are int64 fields only)", t, f.Name)
		}
	}
	defs, err := CounterDefsOf(t)
	if err != nil {
		return nil, fmt.Errorf("own counters %w", err)
	}
	if len(defs) > MaxCounters {
		return nil, fmt.Errorf("own counters %s: %d of them, more than %d", t, len(defs), MaxCounters)
	}
	return t, nil
}

// OwnDefs returns the scheme's own counters, in the order of the fields of the struct
// Own points to (none when Own is nil). Precondition: i passes Register's checks (it
// panics otherwise: a programming error).
func (i Info) OwnDefs() []CounterDef {
	t, err := ownType(i.Own)
	if err != nil {
		panic(fmt.Sprintf("scheme %q: %v", i.Name, err))
	}
	if t == nil {
		return nil
	}
	defs, _ := CounterDefsOf(t)
	return defs
}

// NewTally returns a zero Tally for a scheme of i: its Own points to a new zero value of
// the struct i.Own points to (nil when i.Own is). Precondition: as for OwnDefs.
func (i Info) NewTally() *Tally {
	t, err := ownType(i.Own)
	if err != nil {
		panic(fmt.Sprintf("scheme %q: %v", i.Name, err))
	}
	if t == nil {
		return &Tally{}
	}
	return &Tally{Own: reflect.New(t).Interface()}
}

// OwnValues returns the values of the own counters t holds, in the order of OwnDefs (none
// when t.Own is nil).
func (t *Tally) OwnValues() []int64 {
	if t.Own == nil {
		return nil
	}
	v := reflect.ValueOf(t.Own).Elem()
	out := make([]int64, v.NumField())
	for i := range out {
		out[i] = v.Field(i).Int()
	}
	return out
}

// Own returns the scheme's own counters in t, for its Counters method to add to:
//
//	o := scheme.Own[MyCounters](t)
//	o.PagesSaved += s.saved
//
// It panics when t.Own does not point to a T (Info.Own names another type, or none: a
// programming error).
func Own[T any](t *Tally) *T {
	o, ok := t.Own.(*T)
	if !ok || o == nil {
		panic(fmt.Sprintf("scheme: Tally.Own is %T, not *%s (the scheme's Info.Own must be new(%[2]s))", t.Own, reflect.TypeFor[T]()))
	}
	return o
}
