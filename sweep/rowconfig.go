package sweep

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/vmsim/vmsim/sim"
)

// configColumns are the columns of a result line that say which point it is the result
// of, besides its ID (which hashes them and the cost model): the trace's content hash,
// the vmsim version and every configuration setting.
func configColumns() []string {
	return append([]string{"trace_sha256", "vmsim_version"}, fieldNames(sim.Config{}, "")...)
}

// rowConfig is what a result line says of its point: its configuration columns, by
// name, in their CSV form; or, when the line's configuration cannot be read as one,
// why not (under the key "").
type rowConfig map[string]string

// pointConfig returns the configuration columns of p's result.
func pointConfig(p *Point) rowConfig {
	m := rowConfig{"trace_sha256": p.TraceHash, "vmsim_version": p.Version}
	vals := fieldValues(p.Config)
	for i, name := range fieldNames(sim.Config{}, "") {
		m[name] = vals[i]
	}
	return m
}

// checkRow checks that a result line, at where (file:line), says its point p's
// configuration in every configuration column.
func checkRow(where string, got rowConfig, p *Point) error {
	if why, bad := got[""]; bad {
		return fmt.Errorf("%s: point %s: %s", where, p.ID, why)
	}
	want := pointConfig(p)
	for _, c := range configColumns() {
		if got[c] != want[c] {
			return fmt.Errorf("%s: point %s: %s is %q, but the point's is %q: not this point's result (a line edited, or of another vmsim version or trace)", where, p.ID, c, got[c], want[c])
		}
	}
	return nil
}

// csvConfig returns the configuration columns of a CSV result record (Columns order).
func csvConfig(rec []string) rowConfig {
	m := rowConfig{}
	for i, c := range configColumns() {
		m[c] = rec[1+i]
	}
	return m
}

// jsonResultLine reads a JSON result line's point ID and configuration columns; ok is
// false when it is not a result line at all. Keys are matched exactly (JSON decoding
// would match them whatever their case).
func jsonResultLine(line []byte) (id string, cfg rowConfig, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(line, &top) != nil {
		return "", nil, false
	}
	if json.Unmarshal(top["id"], &id) != nil || len(id) != 16 || !idPrefix().MatchString(id) || top["config"] == nil {
		return "", nil, false
	}
	return id, jsonConfig(top), true
}

// jsonConfig returns the configuration columns of a JSON result line's top-level keys.
func jsonConfig(top map[string]json.RawMessage) rowConfig {
	bad := func(format string, args ...any) rowConfig { return rowConfig{"": fmt.Sprintf(format, args...)} }
	m := rowConfig{}
	for _, k := range []string{"trace_sha256", "vmsim_version"} {
		var v *string
		if json.Unmarshal(top[k], &v) != nil || v == nil {
			return bad("no %s (a string)", k)
		}
		m[k] = *v
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(top["config"], &keys) != nil || keys == nil {
		return bad("its config is not a JSON object")
	}
	names := fieldNames(sim.Config{}, "")
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !slices.Contains(names, k) {
			return bad("config key %q is not a setting", k)
		}
		if string(keys[k]) == "null" {
			return bad("config %s is null", k)
		}
	}
	for _, k := range names {
		if _, ok := keys[k]; !ok && k != "params" { // params is omitted when empty
			return bad("config has no %s", k)
		}
	}
	var c sim.Config
	if err := json.Unmarshal(top["config"], &c); err != nil {
		return bad("config: %v", err)
	}
	vals := fieldValues(c)
	for i, name := range names {
		m[name] = vals[i]
	}
	return m
}
