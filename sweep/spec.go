package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/internal/choice"
	"github.com/vmsim/vmsim/internal/lazy"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// Spec describes an experiment: every trace crossed with every combination of the
// values in Vary, on top of Base.
type Spec struct {
	// Traces are trace files, "corpus:NAME" for a trace of the bundled corpus, or
	// "corpus" for all of them, in manifest order.
	Traces []string `yaml:"traces"`
	// Base sets configuration keys (those of vmsim run --json's "config") for every point.
	Base map[string]any `yaml:"base"`
	// Vary gives each varied key its values; points take every combination, keys in
	// sorted order, the last varying fastest.
	Vary map[string][]any `yaml:"vary"`
	// Costs overrides cost model fields (cost.Model's keys) of CostBase.
	Costs map[string]any `yaml:"costs"`
	// CostBase is the cost set Costs modifies (a cost file's, vmsim sweep --cost FILE);
	// nil: cost.DefaultSet.
	CostBase *cost.Set `yaml:"-"`
	// Version is the vmsim version, part of every point's ID: results of another
	// version are not taken for this one's.
	Version string `yaml:"-"`
	// Registry holds the schemes the points may name, whose own settings are keys of Base
	// and Vary (nil: the built-in schemes, builtin.Registry()). Every point gets it.
	Registry *scheme.Registry `yaml:"-"`
	// Deprecated, when set, gets a note for each key of Base and Vary given in an old
	// spelling (hyphens: cache-size for cache_size), as Points reads them.
	Deprecated func(note string) `yaml:"-"`
	// BaseName and VaryName name Base and Vary in Points' messages ("" : base, vary), so
	// that a program filling them from elsewhere (vmsim sweep's --base and --set) can
	// say so.
	BaseName, VaryName string `yaml:"-"`
}

// registryOr returns reg, or the built-in schemes' registry when reg is nil.
func registryOr(reg *scheme.Registry) *scheme.Registry {
	if reg == nil {
		return builtin.Registry()
	}
	return reg
}

// ReadSpec reads an experiment file (YAML; JSON is YAML too): one YAML document, whose
// keys are exactly those of Spec, base and vary exactly settings (config keys, as vmsim
// run --json writes them, and schemes' own settings) and costs exactly cost model keys,
// case and all, and no value null. Anything else is an error naming the file and line.
// The schemes' own settings are those of the built-in schemes (ReadSpecIn names others).
func ReadSpec(path string) (*Spec, error) { return ReadSpecIn(path, nil) }

// ReadSpecIn is ReadSpec with the schemes of reg (nil: the built-in ones): their own
// settings are keys of base and vary, and the spec's Registry is reg.
func ReadSpecIn(path string, reg *scheme.Registry) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: an empty spec: name traces and settings (traces:, base:, vary:, costs:)", path)
		}
		return nil, yamlError(path, err)
	}
	if err := dec.Decode(&next); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document (---): a spec is one document; merge them, or write one spec a file", path, next.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}
	if line, err := checkSpecNode(&doc, reg); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", path, line, err)
	}
	var s Spec
	dec = yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, yamlError(path, err)
	}
	s.Registry = reg
	return &s, nil
}

// yamlLine matches the line a YAML error message starts with.
var yamlLine = lazy.Regexp(`^(?:yaml: )?line (\d+): `)

// yamlError returns err, an error of the YAML decoder reading path, as path:line: message
// for each of its messages that names a line.
func yamlError(path string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var errs []error
	for _, m := range msgs {
		if sub := yamlLine().FindStringSubmatch(m); sub != nil {
			errs = append(errs, fmt.Errorf("%s:%s: %s", path, sub[1], m[len(sub[0]):]))
		} else {
			errs = append(errs, fmt.Errorf("%s: %s", path, m))
		}
	}
	return errors.Join(errs...)
}

// checkSpecNode checks a spec's YAML document for what decoding would let through: a
// null value (which would stand for the default) and a key of base, vary or costs that
// is not exactly a setting's or a cost's (JSON, and so overlay, would match it whatever
// its case). It returns the line of the first problem. The rest (the shape of the
// document, unknown top-level keys, the values' types) is decoding's to report.
func checkSpecNode(doc *yaml.Node, reg *scheme.Registry) (int, error) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return 0, nil
	}
	settings := settingNames(reg)
	costs := cost.Keys()
	var bad struct {
		line int
		err  error
	}
	fail := func(n *yaml.Node, format string, args ...any) {
		if bad.err == nil {
			bad.line, bad.err = n.Line, fmt.Errorf(format, args...)
		}
	}
	// noNull reports a null, NaN or infinity anywhere in n, named where.
	var noNull func(n *yaml.Node, where string)
	noNull = func(n *yaml.Node, where string) {
		switch {
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			noNull(n.Alias, where)
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
			fail(n, "%s: null is not a value: leave the key out for its default", where)
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && isNaNOrInf(n.Value):
			fail(n, "%s: %s is not a value: want a finite number", where, n.Value)
		case n.Kind == yaml.SequenceNode:
			for i, e := range n.Content {
				noNull(e, fmt.Sprintf("%s[%d]", where, i))
			}
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				noNull(n.Content[i+1], where+"."+n.Content[i].Value)
			}
		}
	}
	// keys checks the keys of mapping n (merged mappings included) against names.
	var keys func(n *yaml.Node, section string, names []string, what string)
	keys = func(n *yaml.Node, section string, names []string, what string) {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.ShortTag() == "!!merge" {
				for _, m := range append([]*yaml.Node{n.Content[i+1]}, n.Content[i+1].Content...) {
					keys(m, section, names, what)
				}
				continue
			}
			if err := checkKey(k.Value, names, what); err != nil {
				fail(k, "%s: %w", section, err)
			}
		}
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		noNull(v, k.Value) // first: a null or NaN is no value to check the type of
		switch k.Value {
		case "traces":
			if v.Kind != yaml.SequenceNode {
				fail(v, "traces: want a list of trace files, as [%s], not one value", v.Value)
			}
		case "base", "vary":
			keys(v, k.Value, settings, "setting")
			typeCheck(v, k.Value, settings, fail)
			if k.Value == "vary" && v.Kind == yaml.MappingNode {
				// Each varied key takes a list of values.
				for j := 0; j+1 < len(v.Content); j += 2 {
					if vk, vv := v.Content[j], v.Content[j+1]; vv.Kind == yaml.ScalarNode && vv.ShortTag() != "!!null" {
						fail(vv, "vary.%s: want a list of values, as [%s], not one value", vk.Value, vv.Value)
					}
				}
			}
		case "costs":
			keys(v, k.Value, costs, "cost")
		default:
			fail(k, "%q is not a key of a spec: it has traces, base, vary and costs", k.Value)
		}
	}
	return bad.line, bad.err
}

// isNaNOrInf reports whether a YAML float scalar is NaN or an infinity (.nan, .inf, -.Inf).
func isNaNOrInf(v string) bool {
	switch strings.ToLower(strings.TrimLeft(v, "+-")) {
	case ".nan", ".inf":
		return true
	}
	return false
}

// settingNames returns the keys a spec's base and vary take: the configuration's JSON
// keys but trace (a sweep's traces are its own list) and params (a scheme's own settings
// go by their names), and the own settings of every scheme of reg (nil: the built-ins)
// but the paging settings the driver passes on, which have their configuration keys
// (frames, pte_bytes, ...). Every name is in its one spelling, with underscores
// (copy_rate for the scheme's setting copy-rate).
func settingNames(reg *scheme.Registry) []string {
	var names []string
	for _, k := range fieldNames(sim.Config{}, "") {
		if k != "trace" && k != "params" {
			names = append(names, k)
		}
	}
	for _, p := range sim.OwnParamNames(registryOr(reg)) {
		names = append(names, strings.ReplaceAll(p, "-", "_"))
	}
	return names
}

// checkSet checks that every key of set is exactly one of names (checkKey), and that no
// value is null, nor holds one: JSON would match a key whatever its case, and take null
// for the default.
func checkSet(set map[string]any, names []string, what string) error {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var hasNull func(v any) bool
	hasNull = func(v any) bool {
		if l, ok := v.([]any); ok {
			return slices.ContainsFunc(l, hasNull)
		}
		return v == nil
	}
	for _, k := range keys {
		if err := checkKey(k, names, what); err != nil {
			return err
		}
		if hasNull(set[k]) {
			return fmt.Errorf("%s: null is not a value: leave the key out for its default", k)
		}
	}
	return nil
}

// checkKey says what is wrong with key when it is neither one of names nor an old
// spelling of one (hyphens for underscores): another case of one (keys are
// case-sensitive), near one (did you mean), or none at all (the list of them).
func checkKey(key string, names []string, what string) error {
	if _, _, ok := canonicalKey(key, names); ok {
		return nil
	}
	switch key {
	case "trace":
		return fmt.Errorf("trace is not a setting: name traces with --trace or the spec's traces list")
	case "params":
		return fmt.Errorf("params is not a setting: give a scheme's own settings by name (vmsim schemes lists them)")
	}
	if i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, key) }); i >= 0 {
		return fmt.Errorf("no %s %q: keys are case-sensitive; did you mean %q?", what, key, names[i])
	}
	if c := choice.Closest(key, names); c != "" {
		return fmt.Errorf("no %s %q: did you mean %q?", what, key, c)
	}
	return fmt.Errorf("no %s %q; the %ss are: %s", what, key, what, strings.Join(names, ", "))
}

// typeCheck reports, through fail, the first value of section (base or vary, mapping n)
// that its configuration key does not take: a string for an integer, one value for a
// list; with the value's line. A scheme's own setting is the scheme's to check.
func typeCheck(n *yaml.Node, section string, names []string, fail func(*yaml.Node, string, ...any)) {
	if n.Kind != yaml.MappingNode {
		return
	}
	config := fieldNames(sim.Config{}, "")
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		canon, _, ok := canonicalKey(k.Value, names)
		if !ok || !slices.Contains(config, canon) {
			continue
		}
		values := []*yaml.Node{v}
		if section == "vary" {
			if v.Kind != yaml.SequenceNode {
				continue
			}
			values = v.Content
		}
		for _, e := range values {
			var x any
			if e.Decode(&x) != nil || x == nil {
				continue // decoding and the check of nulls report it
			}
			if _, isString := x.(string); isString && canon == "cache_size" {
				continue // a size with a suffix, read by splitParams
			}
			var c sim.Config
			if err := setField(&c, canon, x, section); err != nil {
				fail(e, "%w", err)
				return
			}
		}
	}
}
