// Package minescheme makes, for tests, a registry of the built-in schemes and "mine": a
// scheme as another module would bring one, with settings and counters of its own.
package minescheme

import (
	"reflect"
	"strings"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/snaplog"
)

// Registry returns a new registry of the built-in schemes and "mine": snaplog under
// another name, with its setting and counters renamed (--mine-header; mine_snapshots, ...).
func Registry() *scheme.Registry {
	reg := builtin.NewRegistry()
	orig := snaplog.Info()
	info := orig
	info.Name, info.Doc = "mine", "a test's own scheme"
	info.Params = []scheme.Param{{Name: "mine-header", Default: "24", Doc: "bytes of a log entry's header"}}
	// The own counters: snaplog's, their keys prefixed, in a struct type made at run time.
	t := reflect.TypeOf(orig.Own).Elem()
	fields := make([]reflect.StructField, t.NumField())
	for i := range fields {
		f := t.Field(i)
		f.Tag = reflect.StructTag(strings.Replace(string(f.Tag), `json:"`, `json:"mine_`, 1))
		fields[i] = f
	}
	info.Own = reflect.New(reflect.StructOf(fields)).Interface()
	info.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		s, err := orig.New(m, scheme.Params{"log-header": p["mine-header"]})
		if err != nil {
			return nil, err
		}
		return &mine{s.(*snaplog.Snaplog), orig}, nil
	}
	reg.Register(info)
	return reg
}

// mine is snaplog reporting its own counters under mine's keys.
type mine struct {
	*snaplog.Snaplog
	orig scheme.Info
}

// Counters reports snaplog's counts, its own into mine's struct, field by field.
func (s *mine) Counters(t *scheme.Tally) {
	in := s.orig.NewTally()
	s.Snaplog.Counters(in)
	t.Pages, t.Paging, t.Channels = in.Pages, in.Paging, in.Channels
	dst := reflect.ValueOf(t.Own).Elem()
	for i, v := range in.OwnValues() {
		dst.Field(i).SetInt(v)
	}
}
