package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vmsim/vmsim/internal/textable"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func newDiffCmd(stdout io.Writer) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "diff [flags] A.json B.json",
		Short: "Compare two runs: their configurations, counters and modeled times side by side",
		Long: `Compare two outputs of 'vmsim run --json' (A and B; or two lines of a sweep's --jsonl,
each in a file of its own): first the settings in which their
configurations differ (the run's config, the trace's format and SHA-256, the vmsim
version, the cost set, and a sweep's point id), then every counter and the modeled time that differs, A and B
side by side with the change B - A and the relative change (B - A) / |A|.

Rows are named as in run's output: a setting by its key of "config" (the cost set's name
and values as cost.set.name and cost.set.KEY), a counter by its key of "stats" (a
scheme's own counter as scheme.KEY), the modeled time by its key under "cost"
(cost.time.KEY, each term of the run's time in ns; cost.baseline.KEY, the baseline's;
cost.overhead). A key only one file has shows "-" for the other. The relative change of
a value from 0 is "n/a" (null with --json).

--all lists every setting and every counter, the same ones too. --json prints one object
{"a": A, "b": B, "config": [{"key", "a", "b"}], "counters": [{"key", "a", "b", "change",
"relative"}], "differing": the number of counters and times that differ}, a value
missing from a file null.

Exit status: 0 whether or not the runs differ; 2 for a usage error or a file that is not
one vmsim run --json output (the message names the file, and the line where it is not
JSON).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := readRunJSON(args[0])
			if err != nil {
				return err
			}
			b, err := readRunJSON(args[1])
			if err != nil {
				return err
			}
			d := diffRuns(a, b, all)
			if asJSON {
				out, err := json.Marshal(d)
				if err != nil {
					return fmt.Errorf("vmsim diff --json: %w", err)
				}
				_, err = fmt.Fprintf(stdout, "%s\n", out)
				return err
			}
			return d.print(stdout)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.BoolVar(&all, "all", false, "list every setting and counter, the same ones too")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
	return cmd
}

// member is a member of a JSON object, in the order of the file.
type member struct {
	key string
	val json.RawMessage
}

// runFileJSON is what diff reads of a vmsim run --json output.
type runFileJSON struct {
	path string
	// config are the settings: the config's members, then the trace's format and hash,
	// the version and the cost set. Invariant: each key once.
	config []member
	// counters are the counters (scheme.KEY for a scheme's own), then the modeled times
	// and the overhead. Invariant: each key once, each value a JSON number.
	counters []member
}

// jsonLine returns the line of data at byte offset off, counted from 1.
func jsonLine(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// readObject reads one JSON object of data, its members in order. what names it in
// errors.
func readObject(data []byte, what string) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s is not a JSON object", what)
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // an object's member starts with its key
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("%s has the key %q twice", what, key)
		}
		seen[key] = true
		out = append(out, member{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one JSON value (want one output of vmsim run --json)")
	}
	return out, nil
}

// get returns the value of key among ms, or nil.
func get(ms []member, key string) json.RawMessage {
	for _, m := range ms {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// readRunJSON reads the vmsim run --json output of the file path.
func readRunJSON(path string) (*runFileJSON, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	top, err := readObject(data, "the file")
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s:%d: not JSON: %w", path, jsonLine(data, se.Offset), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: not JSON: unexpected end of the file", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &runFileJSON{path: path}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s: not an output of vmsim run --json: "+format, append([]any{path}, a...)...)
	}
	object := func(raw json.RawMessage, what string) ([]member, error) {
		if raw == nil {
			return nil, bad("no %q object", what)
		}
		ms, err := readObject(raw, what)
		if err != nil {
			return nil, bad("%v", err)
		}
		return ms, nil
	}
	config, err := object(get(top, "config"), "config")
	if err != nil {
		return nil, err
	}
	stats, err := object(get(top, "stats"), "stats")
	if err != nil {
		return nil, err
	}
	r.config = append(r.config, config...)
	for _, k := range []string{"id", "trace_format", "trace_sha256", "vmsim_version"} {
		if v := get(top, k); v != nil {
			r.config = append(r.config, member{k, v})
		}
	}
	number := func(key string, v json.RawMessage) error {
		var n json.Number
		if len(v) == 0 || v[0] == '"' || json.Unmarshal(v, &n) != nil || n == "" {
			return bad("%s is %s, not a number", key, v)
		}
		r.counters = append(r.counters, member{key, v})
		return nil
	}
	for _, m := range stats {
		if len(m.val) > 0 && m.val[0] == '[' {
			// A counter a core (a coordinated run's core_time_ns): key[0], key[1], ...
			var elems []json.RawMessage
			if err := json.Unmarshal(m.val, &elems); err != nil {
				return nil, bad("%s is %s, not a list of numbers", m.key, m.val)
			}
			for i, e := range elems {
				if err := number(fmt.Sprintf("%s[%d]", m.key, i), e); err != nil {
					return nil, err
				}
			}
			continue
		}
		if m.key != "scheme" {
			if err := number(m.key, m.val); err != nil {
				return nil, err
			}
			continue
		}
		own, err := object(m.val, "stats.scheme")
		if err != nil {
			return nil, err
		}
		for _, o := range own {
			if err := number("scheme."+o.key, o.val); err != nil {
				return nil, err
			}
		}
	}
	var c []member // run's "cost": set, time, baseline, overhead
	switch {
	case get(top, "cost_set") != nil:
		// A line of a sweep's JSON lines: the same under other names.
		c = []member{{"set", get(top, "cost_set")}, {"time", get(top, "cost")}, {"baseline", get(top, "baseline")}, {"overhead", get(top, "overhead")}}
	case get(top, "cost") != nil:
		if c, err = object(get(top, "cost"), "cost"); err != nil {
			return nil, err
		}
	}
	if c != nil {
		if raw := get(c, "set"); raw != nil {
			set, err := object(raw, "cost.set")
			if err != nil {
				return nil, err
			}
			if v := get(set, "name"); v != nil {
				r.config = append(r.config, member{"cost.set.name", v})
			}
			if raw := get(set, "values"); raw != nil {
				vals, err := object(raw, "cost.set.values")
				if err != nil {
					return nil, err
				}
				for _, v := range vals {
					r.config = append(r.config, member{"cost.set." + v.key, v.val})
				}
			}
		}
		for _, part := range []string{"time", "baseline"} {
			raw := get(c, part)
			if raw == nil || string(raw) == "null" { // no baseline: --no-baseline
				continue
			}
			terms, err := object(raw, "cost."+part)
			if err != nil {
				return nil, err
			}
			for _, t := range terms {
				if err := number("cost."+part+"."+t.key, t.val); err != nil {
					return nil, err
				}
			}
		}
		if v := get(c, "overhead"); v != nil && string(v) != "null" {
			if err := number("cost.overhead", v); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// runDiff is vmsim diff's output.
type runDiff struct {
	A        string        `json:"a"`
	B        string        `json:"b"`
	Config   []configDiff  `json:"config"`   // Invariant: never nil
	Counters []counterDiff `json:"counters"` // Invariant: never nil
	// Differing counts the counters and times that differ, listed or not.
	Differing int `json:"differing"`
	// total counts the counters and times of either file.
	total int
	all   bool
}

// configDiff is a setting of two runs; A or B is nil when its file lacks it.
type configDiff struct {
	Key string          `json:"key"`
	A   json.RawMessage `json:"a"`
	B   json.RawMessage `json:"b"`
}

// counterDiff is a counter or time of two runs; A or B is nil when its file lacks it,
// and then Change and Relative are nil too; Relative is nil for a change from 0.
type counterDiff struct {
	Key      string       `json:"key"`
	A        *json.Number `json:"a"`
	B        *json.Number `json:"b"`
	Change   *json.Number `json:"change"`
	Relative *float64     `json:"relative"`
}

// keysOf returns the keys of a then those of b that a lacks.
func keysOf(a, b []member) []string {
	var keys []string
	seen := map[string]bool{}
	for _, ms := range [][]member{a, b} {
		for _, m := range ms {
			if !seen[m.key] {
				seen[m.key] = true
				keys = append(keys, m.key)
			}
		}
	}
	return keys
}

// compact returns v without insignificant space, for comparing and printing.
func compact(v json.RawMessage) json.RawMessage {
	if v == nil {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		panic(fmt.Sprintf("vmsim diff: a value read as JSON is not: %v", err))
	}
	return b.Bytes()
}

// numberDiff returns b - a and (b - a) / |a|: exact for integers (as int64 when it fits),
// the relative change nil for a change from 0.
func numberDiff(a, b json.Number) (json.Number, *float64) {
	ai, aerr := a.Int64()
	bi, berr := b.Int64()
	var change json.Number
	if aerr == nil && berr == nil && (bi >= 0) == (ai >= 0) { // no overflow
		change = json.Number(strconv.FormatInt(bi-ai, 10))
	} else {
		af, _ := a.Float64()
		bf, _ := b.Float64()
		change = json.Number(strconv.FormatFloat(bf-af, 'g', -1, 64))
	}
	af, _ := a.Float64()
	bf, _ := b.Float64()
	switch {
	case af == bf:
		zero := 0.0
		return change, &zero
	case af == 0:
		return change, nil
	}
	rel := (bf - af) / math.Abs(af)
	return change, &rel
}

// diffRuns compares a and b: the differing settings and counters, or all of them.
func diffRuns(a, b *runFileJSON, all bool) *runDiff {
	d := &runDiff{A: a.path, B: b.path, Config: []configDiff{}, Counters: []counterDiff{}, all: all}
	for _, k := range keysOf(a.config, b.config) {
		va, vb := compact(get(a.config, k)), compact(get(b.config, k))
		if all || !bytes.Equal(va, vb) {
			d.Config = append(d.Config, configDiff{k, va, vb})
		}
	}
	keys := keysOf(a.counters, b.counters)
	// A scheme's own counters after the common ones, the modeled times last, whichever
	// file has them.
	rank := func(k string) int {
		switch {
		case strings.HasPrefix(k, "scheme."):
			return 1
		case strings.HasPrefix(k, "cost."):
			return 2
		}
		return 0
	}
	slices.SortStableFunc(keys, func(x, y string) int { return rank(x) - rank(y) })
	for _, k := range keys {
		c := counterDiff{Key: k}
		same := false
		if v := get(a.counters, k); v != nil {
			n := json.Number(compact(v))
			c.A = &n
		}
		if v := get(b.counters, k); v != nil {
			n := json.Number(compact(v))
			c.B = &n
		}
		if c.A != nil && c.B != nil {
			change, rel := numberDiff(*c.A, *c.B)
			c.Change, c.Relative = &change, rel
			same = rel != nil && *rel == 0
		}
		d.total++
		if !same {
			d.Differing++
		}
		if all || !same {
			d.Counters = append(d.Counters, c)
		}
	}
	return d
}

// print writes d as text: the settings' table, then the counters'.
func (d *runDiff) print(w io.Writer) error {
	fmt.Fprintf(w, "A %s\nB %s\n", d.A, d.B)
	text := func(v json.RawMessage) string {
		if v == nil {
			return "-"
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	}
	if len(d.Config) == 0 {
		fmt.Fprintf(w, "configuration: the same\n")
	} else {
		if d.all {
			fmt.Fprintf(w, "configuration:\n")
		} else {
			fmt.Fprintf(w, "configuration: %d %s\n", len(d.Config), plural(len(d.Config), "setting differs", "settings differ"))
		}
		t := textable.New(w)
		t.Header("setting", "A", "B")
		for _, c := range d.Config {
			t.Append(c.Key, text(c.A), text(c.B))
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	switch {
	case d.Differing == 0 && !d.all:
		fmt.Fprintf(w, "counters and modeled time: all %d the same\n", d.total)
		return nil
	case d.all:
		fmt.Fprintf(w, "counters and modeled time: %d of %d differ\n", d.Differing, d.total)
	default:
		fmt.Fprintf(w, "counters and modeled time: %d of %d differ (--all lists every one)\n", d.Differing, d.total)
	}
	num := func(n *json.Number) string {
		if n == nil {
			return "-"
		}
		if _, err := n.Int64(); err == nil {
			return n.String()
		}
		f, _ := n.Float64()
		return fmtDiffFloat(f)
	}
	t := textable.New(w, textable.Left, textable.Right, textable.Right, textable.Right, textable.Right)
	t.Header("counter", "A", "B", "change", "relative")
	for _, c := range d.Counters {
		change, rel := "-", "-"
		if c.Change != nil {
			change = num(c.Change)
			if change != "0" && change[0] != '-' {
				change = "+" + change
			}
			rel = "n/a"
			if c.Relative != nil {
				rel = strconv.FormatFloat(100**c.Relative, 'f', 2, 64) + "%"
				if *c.Relative >= 0 {
					rel = "+" + rel
				}
			}
		}
		t.Append(c.Key, num(c.A), num(c.B), change, rel)
	}
	return t.Render()
}

// fmtDiffFloat writes f with 6 significant digits, or as many integer digits as it has,
// never with an exponent: 20920812.3 as 20920812, 232526.769 as 232527, 0.1001294 as 0.100129.
func fmtDiffFloat(f float64) string {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	digits := int(math.Floor(math.Log10(math.Abs(f)))) + 1 // before the point
	return strconv.FormatFloat(f, 'f', max(0, 6-digits), 64)
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
