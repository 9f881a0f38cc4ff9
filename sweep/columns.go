package sweep

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// Columns are the CSV columns, each name once: the point id, the trace's content hash
// and the vmsim version, then the configuration and the counters, each under its JSON
// key; then the schemes' own counters (the JSON's "stats": {"scheme": {...}}), each
// under its key prefixed "scheme_" (OwnColumns); then the cost set, its name (cost_set)
// and each value under its key prefixed "model_"; then the modeled times, their keys
// prefixed "cost_" and "baseline_"; then the overhead. These are the columns of a sweep
// of the built-in schemes; one of other schemes (Point.Registry) has their counters' own.
func Columns() []string { return columns(nil) }

// columns are the CSV columns of a sweep of the schemes of reg (nil: the built-ins).
func columns(reg *scheme.Registry) []string {
	cols := []string{"id", "trace_sha256", "vmsim_version"}
	cols = append(cols, fieldNames(sim.Config{}, "")...)
	for _, d := range sim.CounterDefs() {
		cols = append(cols, d.Key)
	}
	cols = append(cols, ownColumns(reg)...)
	cols = append(cols, "cost_set")
	for _, k := range cost.Keys() {
		cols = append(cols, costSetPrefix+k)
	}
	cols = append(cols, fieldNames(cost.Breakdown{}, "cost_")...)
	cols = append(cols, fieldNames(cost.Breakdown{}, "baseline_")...)
	cols = append(cols, "overhead")
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c] {
			panic(fmt.Sprintf("sweep: CSV column %q twice", c))
		}
		seen[c] = true
	}
	return cols
}

// costSetPrefix prefixes the CSV column of a value of the cost set.
const costSetPrefix = "model_"

// ownPrefix prefixes the CSV column of a scheme's own counter.
const ownPrefix = "scheme_"

// OwnColumns are the CSV columns of the schemes' own counters: one for each key of a
// built-in scheme's counters (scheme.Info.OwnDefs), prefixed "scheme_", in the order of
// the schemes' names and then of each scheme's counters. Schemes that report a counter of
// the same key share its column; a row leaves empty the columns of counters its scheme
// does not report. A sweep of other schemes (Point.Registry) has a column for each key of
// theirs.
func OwnColumns() []string { return ownColumns(nil) }

// ownColumns are OwnColumns for the schemes of reg (nil: the built-ins).
func ownColumns(reg *scheme.Registry) []string {
	var cols []string
	for _, i := range registryOr(reg).All() {
		for _, c := range i.OwnDefs() {
			if col := ownPrefix + c.Key; !slices.Contains(cols, col) {
				cols = append(cols, col)
			}
		}
	}
	return cols
}

// row returns r's CSV fields, in the order of the columns whose own counters' part is own
// (ownColumns).
func row(r *Result, own []string) ([]string, error) {
	out := []string{r.ID, r.TraceHash, r.Version}
	out = append(out, fieldValues(r.Config)...)
	for _, f := range r.Stats.Fields()[:len(sim.CounterDefs())] {
		out = append(out, strconv.FormatInt(f.Value, 10))
	}
	counters := make([]string, len(own))
	for _, k := range r.Stats.Scheme.Keys() {
		i := slices.Index(own, ownPrefix+k)
		if i < 0 {
			return nil, fmt.Errorf("point %s: scheme %s's counter %q has no CSV column (a scheme not registered?)", r.ID, r.Config.Scheme, k)
		}
		v, _ := r.Stats.Scheme.Get(k)
		counters[i] = strconv.FormatInt(v, 10)
	}
	out = append(out, counters...)
	out = append(out, r.CostSet.Name)
	out = append(out, fieldValues(r.CostSet.Model)...)
	out = append(out, fieldValues(r.Cost)...)
	out = append(out, fieldValues(r.Baseline)...)
	return append(out, formatFloat(r.Overhead)), nil
}

// fieldNames returns the JSON keys of v's fields (a struct of settings or costs), prefixed.
func fieldNames(v any, prefix string) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, prefix+name)
	}
	return names
}

// fieldValues returns the CSV form of v's fields, in the order of fieldNames.
func fieldValues(v any) []string {
	rv := reflect.ValueOf(v)
	var out []string
	for i := range rv.NumField() {
		f := rv.Field(i)
		switch f.Kind() {
		case reflect.String:
			out = append(out, f.String())
		case reflect.Bool:
			out = append(out, strconv.FormatBool(f.Bool()))
		case reflect.Int, reflect.Int64:
			out = append(out, strconv.FormatInt(f.Int(), 10))
		case reflect.Uint, reflect.Uint64:
			out = append(out, strconv.FormatUint(f.Uint(), 10))
		case reflect.Float64:
			out = append(out, formatFloat(f.Float()))
		case reflect.Slice:
			var parts []string
			for j := range f.Len() {
				parts = append(parts, fmt.Sprint(f.Index(j).Interface()))
			}
			out = append(out, strings.Join(parts, ";"))
		case reflect.Map: // settings by name: k=v;k=v in key order
			keys := f.MapKeys()
			sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s=%v", k.String(), f.MapIndex(k).Interface()))
			}
			out = append(out, strings.Join(parts, ";"))
		default:
			panic(fmt.Sprintf("sweep: no CSV form for %s", f.Type()))
		}
	}
	return out
}

// formatFloat writes a float the same way every time: the shortest repr that reads back.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
