package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/scheme"
)

// MaxOwnCounters is how many counters of its own a scheme may report.
const MaxOwnCounters = scheme.MaxCounters

// OwnCounters are a scheme's own counters, in the order of its scheme.Info.OwnDefs. It is a
// comparable value (so Stats compare with ==), and its JSON form is an object from key to
// value, in that order.
type OwnCounters struct {
	keys string // the keys, joined by "\x00"
	vals [MaxOwnCounters]int64
	n    int
	kept uint32 // bit i: counter i is a peak or an end value, which Stats.Sub keeps
}

// Len returns the number of counters.
func (o OwnCounters) Len() int { return o.n }

// Keys returns the keys in order.
func (o OwnCounters) Keys() []string {
	if o.n == 0 {
		return nil
	}
	return strings.Split(o.keys, "\x00")
}

// Get returns the value of key, and whether it is one of the counters.
func (o OwnCounters) Get(key string) (int64, bool) {
	for i, k := range o.Keys() {
		if k == key {
			return o.vals[i], true
		}
	}
	return 0, false
}

// Set appends a counter, or sets it if present. It panics beyond MaxOwnCounters (the
// registry keeps schemes under it).
func (o *OwnCounters) Set(key string, v int64) {
	for i, k := range o.Keys() {
		if k == key {
			o.vals[i] = v
			return
		}
	}
	if o.n == MaxOwnCounters {
		panic(fmt.Sprintf("sim: more than %d own counters", MaxOwnCounters))
	}
	if o.n > 0 {
		o.keys += "\x00"
	}
	o.keys += key
	o.vals[o.n] = v
	o.n++
}

// String returns "key=value;key=value" in order (the CSV form).
func (o OwnCounters) String() string {
	var b strings.Builder
	for i, k := range o.Keys() {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "%s=%d", k, o.vals[i])
	}
	return b.String()
}

// SetKept marks key, which must be set, as a peak or an end value (not a total): Stats.Sub
// keeps its value.
func (o *OwnCounters) SetKept(key string) {
	for i, k := range o.Keys() {
		if k == key {
			o.kept |= 1 << i
		}
	}
}

// MarshalJSON writes {"key": value, ...} in order.
func (o OwnCounters) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(o.vals[i], 10))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the object MarshalJSON writes, keeping its order.
func (o *OwnCounters) UnmarshalJSON(data []byte) error {
	*o = OwnCounters{}
	if string(data) == "null" {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("scheme counters: want a JSON object")
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		var v int64
		if err := d.Decode(&v); err != nil {
			return fmt.Errorf("scheme counter %q: %w", k, err)
		}
		if o.n == MaxOwnCounters {
			return fmt.Errorf("scheme counters: more than %d", MaxOwnCounters)
		}
		o.Set(k, v)
	}
	_, err := d.Token()
	return err
}
