package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/internal/choice"
)

// dataTable is a results file read for plotting: rows of values by key.
type dataTable struct {
	path string
	// keys are the keys of the rows, in the order they first appear. Invariant: each
	// once, and every key of a row among them.
	keys []string
	rows []dataRow
}

// dataRow is a row of a dataTable: its line in the file and its values by key; a key it
// lacks, or whose value is empty, has no value.
type dataRow struct {
	line int
	vals map[string]string
}

// readTable reads data, the content of the file path, as a CSV file with a header (format
// csv) or JSON lines (jsonl).
func readTable(path, format string, data []byte) (*dataTable, error) {
	t := &dataTable{path: path}
	var err error
	if format == "csv" {
		err = t.readCSV(data)
	} else {
		err = t.readJSONL(data)
	}
	if err != nil {
		return nil, err
	}
	if len(t.rows) == 0 {
		return nil, fmt.Errorf("%s: no rows of results", path)
	}
	return t, nil
}

func (t *dataTable) readCSV(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty: want a CSV header line", t.path)
	}
	if err != nil {
		return t.csvError(err)
	}
	for i, k := range header {
		switch {
		case k == "":
			return fmt.Errorf("%s:1: column %d has no name", t.path, i+1)
		case slices.Contains(header[:i], k):
			return fmt.Errorf("%s:1: column %q twice", t.path, k)
		}
	}
	t.keys = header
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return t.csvError(err)
		}
		line, _ := r.FieldPos(0)
		row := dataRow{line: line, vals: make(map[string]string, len(rec))}
		for i, v := range rec {
			if v != "" {
				row.vals[header[i]] = v
			}
		}
		t.rows = append(t.rows, row)
	}
}

// csvError names the file and the line of a CSV error.
func (t *dataTable) csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %w", t.path, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", t.path, err)
}

func (t *dataTable) readJSONL(data []byte) error {
	seen := map[string]bool{}
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ms, err := readObject(line, "the line")
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("%s:%d: not a JSON line: %w", t.path, n, err)
			}
			return fmt.Errorf("%s:%d: %w", t.path, n, err)
		}
		row := dataRow{line: n, vals: map[string]string{}}
		var keys []string
		if err := flattenJSON(ms, nil, row.vals, &keys); err != nil {
			return fmt.Errorf("%s:%d: %w", t.path, n, err)
		}
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				t.keys = append(t.keys, k)
			}
		}
		t.rows = append(t.rows, row)
	}
	return nil
}

// flatKey is the key of the value at path in a JSON line: a sweep's CSV column of it
// for the JSON of sweep --jsonl and run --json, the path joined with "_" for the rest.
func flatKey(path []string) string {
	p := strings.Join(path, ".")
	for _, r := range []struct{ from, to string }{
		{"stats.scheme.", "scheme_"},
		{"config.", ""}, {"stats.", ""},
		{"cost_set.values.", "model_"}, {"cost.set.values.", "model_"},
		{"cost.time.", "cost_"}, {"cost.baseline.", "baseline_"},
	} {
		if rest, ok := strings.CutPrefix(p, r.from); ok {
			return r.to + strings.ReplaceAll(rest, ".", "_")
		}
	}
	switch p {
	case "cost_set.name", "cost.set.name":
		return "cost_set"
	case "cost.overhead":
		return "overhead"
	}
	return strings.ReplaceAll(p, ".", "_")
}

// flattenJSON adds the values of the members ms of the object at path to vals under
// their keys (flatKey), appending the keys to keys in order.
func flattenJSON(ms []member, path []string, vals map[string]string, keys *[]string) error {
	for _, m := range ms {
		p := append(slices.Clip(path), m.key)
		v := bytes.TrimSpace(m.val)
		if len(v) > 0 && v[0] == '{' {
			sub, err := readObject(v, strings.Join(p, "."))
			if err != nil {
				return err
			}
			if err := flattenJSON(sub, p, vals, keys); err != nil {
				return err
			}
			continue
		}
		k := flatKey(p)
		if slices.Contains(*keys, k) {
			return fmt.Errorf("the key %s twice (as %s)", k, strings.Join(p, "."))
		}
		*keys = append(*keys, k)
		s, err := jsonScalar(v)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.Join(p, "."), err)
		}
		if s != "" {
			vals[k] = s
		}
	}
	return nil
}

// jsonScalar returns the text of the JSON value v as a CSV field: a string as it is, a
// number as written, null as "", a list's values joined with ";".
func jsonScalar(v json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return "", err
	}
	var text func(x any) string
	text = func(x any) string {
		switch x := x.(type) {
		case nil:
			return ""
		case string:
			return x
		case json.Number:
			return x.String()
		case bool:
			return strconv.FormatBool(x)
		case []any:
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = text(e)
			}
			return strings.Join(parts, ";")
		}
		b, _ := json.Marshal(x) // an object in a list
		return string(b)
	}
	return text(x), nil
}

// number returns the value of key in row as a number.
func (t *dataTable) number(row dataRow, flag, key string) (float64, bool, error) {
	s, ok := row.vals[key]
	if !ok {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, fmt.Errorf("%s:%d: %s %s: %q is not a number", t.path, row.line, flag, key, s)
	}
	return f, true, nil
}

// numericKeys returns the keys that are numbers in some row.
func (t *dataTable) numericKeys() []string {
	var out []string
	for _, k := range t.keys {
		for _, r := range t.rows {
			if s, ok := r.vals[k]; ok {
				if _, err := strconv.ParseFloat(s, 64); err == nil {
					out = append(out, k)
					break
				}
			}
		}
	}
	return out
}

// checkKey returns an error for a key that t lacks, listing valid, the keys it takes.
func (t *dataTable) checkKey(flag, key string, valid []string, what string) error {
	if slices.Contains(t.keys, key) && slices.Contains(valid, key) {
		return nil
	}
	if slices.Contains(t.keys, key) {
		return fmt.Errorf("%s %s: no row of %s has a number under it; the %s are: %s", flag, key, t.path, what, strings.Join(valid, ", "))
	}
	hint := ""
	if c := choice.Closest(key, valid); c != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", c)
	}
	return fmt.Errorf("%s %q: no such key in %s%s; the %s are: %s", flag, key, t.path, hint, what, strings.Join(valid, ", "))
}

// groups returns the values of key in the rows, each once, in order: numerically when
// every one is a number, else as text. A row without the key has the value "".
func (t *dataTable) groups(key string) []string {
	var vals []string
	seen := map[string]bool{}
	numeric := true
	for _, r := range t.rows {
		v := r.vals[key]
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				numeric = false
			}
		}
	}
	if numeric {
		sort.SliceStable(vals, func(i, j int) bool {
			a, _ := strconv.ParseFloat(vals[i], 64)
			b, _ := strconv.ParseFloat(vals[j], 64)
			return a < b
		})
	} else {
		sort.Strings(vals)
	}
	return vals
}

// groupName names the group of key's value v.
func groupName(key, v string) string {
	if v == "" {
		v = "(none)"
	}
	return key + "=" + v
}
