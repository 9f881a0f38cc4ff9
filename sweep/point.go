package sweep

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

// Point is one run of an experiment.
type Point struct {
	Config sim.Config
	// TraceHash is the SHA-256 of the trace file's bytes (for a corpus trace, of its
	// embedded file).
	TraceHash string
	// Version is the vmsim version (Spec.Version), which the point's result records.
	Version string
	// Registry is where Config.Scheme, and the baseline's scheme none, are looked up
	// (Spec.Registry; nil: the built-in schemes). It also gives the CSV's columns of the
	// schemes' own counters. Invariant: every point of a sweep has the same.
	Registry *scheme.Registry
	// ID identifies the point in output files: a hash of the vmsim version, the trace's
	// content hash, the full configuration and the cost set. A point whose trace was
	// replaced by another file of the same name gets another ID, and runs again.
	ID string
}

func (s *Spec) baseName() string { return cmp.Or(s.BaseName, "base") }
func (s *Spec) varyName() string { return cmp.Or(s.VaryName, "vary") }

// Points expands a spec into its points, in order, and the cost set.
func (s *Spec) Points() ([]Point, cost.Set, error) {
	base := cost.DefaultSet()
	if s.CostBase != nil {
		base = *s.CostBase
	}
	costs, err := Costs(base, s.Costs)
	if err != nil {
		return nil, costs, err
	}
	traceNames, err := expandTraces(s.Traces)
	if err != nil {
		return nil, costs, err
	}
	keys := make([]string, 0, len(s.Vary))
	for k, vs := range s.Vary {
		if len(vs) == 0 {
			return nil, costs, fmt.Errorf("%s %s: no values", s.varyName(), k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	settings := settingNames(s.Registry)
	baseSet, notes, err := normalizeKeys(s.Base, settings, "setting")
	if err != nil {
		return nil, costs, fmt.Errorf("%s: %w", s.baseName(), err)
	}
	vary, varyNotes, err := normalizeKeys(s.Vary, settings, "setting")
	if err != nil {
		return nil, costs, fmt.Errorf("%s: %w", s.varyName(), err)
	}
	if s.Deprecated != nil {
		for _, n := range append(notes, varyNotes...) {
			s.Deprecated(n)
		}
	}
	for i, k := range keys {
		keys[i], _, _ = canonicalKey(k, settings)
	}
	sort.Strings(keys)
	if err := checkSet(baseSet, settings, "setting"); err != nil {
		return nil, costs, fmt.Errorf("%s: %w", s.baseName(), err)
	}
	for _, k := range keys {
		if err := checkSet(map[string]any{k: vary[k]}, settings, "setting"); err != nil {
			return nil, costs, fmt.Errorf("%s: %w", s.varyName(), err)
		}
	}
	// Each value checked on its own first, so that an error names where it was given.
	if _, err := checkValues(baseSet, s.baseName(), s.Registry); err != nil {
		return nil, costs, err
	}
	for _, k := range keys {
		seen := map[string]any{}
		for _, v := range vary[k] {
			// A value given twice (or in two spellings: 1000 and 1e3) makes every point
			// of it twice, with one id: one line written for two points counted. Values
			// are compared as the configuration takes them.
			key, err := checkValues(map[string]any{k: v}, s.varyName(), s.Registry)
			if err != nil {
				return nil, costs, err
			}
			if first, dup := seen[key]; dup {
				return nil, costs, fmt.Errorf("%s %s: %v and %v are one value: give it once", s.varyName(), k, first, v)
			}
			seen[key] = v
		}
	}
	costJSON, _ := json.Marshal(costs)
	var points []Point
	for _, tr := range traceNames {
		hash, err := TraceHash(tr)
		if err != nil {
			return nil, costs, err
		}
		idx := make([]int, len(keys))
		for {
			set := map[string]any{}
			for k, v := range baseSet {
				set[k] = v
			}
			for i, k := range keys {
				set[k] = vary[k][idx[i]]
			}
			cfg := sim.DefaultConfig()
			fields, params, err := splitParams(set, s.Registry)
			if err != nil {
				return nil, costs, err
			}
			if err := overlay(&cfg, fields, "config"); err != nil {
				return nil, costs, err
			}
			cfg.Params = params
			cfg.Trace = tr
			if err := cfg.ValidateIn(registryOr(s.Registry)); err != nil {
				return nil, costs, fmt.Errorf("point %s: %w", describe(set), err)
			}
			cj, _ := json.Marshal(cfg)
			h := sha256.New()
			fmt.Fprintf(h, "vmsim %s\ntrace %s\n%s\n%s", s.Version, hash, cj, costJSON)
			points = append(points, Point{Config: cfg, TraceHash: hash, Version: s.Version, ID: hex.EncodeToString(h.Sum(nil)[:8]), Registry: s.Registry})
			// The next combination: the last key varies fastest.
			i := len(keys) - 1
			for ; i >= 0; i-- {
				if idx[i]++; idx[i] < len(vary[keys[i]]) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				break
			}
		}
	}
	return points, costs, nil
}

// splitParams takes out of set the keys that are own settings of reg's schemes (nil: the
// built-ins'), as strings under the schemes' names for them (copy-rate for the key
// copy_rate), and reads a cache_size given with a K, M or G suffix. Precondition: the
// keys of set are in their one spelling (normalizeKeys).
func splitParams(set map[string]any, reg *scheme.Registry) (rest map[string]any, params map[string]string, err error) {
	names := sim.OwnParamNames(registryOr(reg))
	rest = map[string]any{}
	for k, v := range set {
		i := slices.IndexFunc(names, func(n string) bool { return strings.ReplaceAll(n, "-", "_") == k })
		switch {
		case i >= 0:
			if params == nil {
				params = map[string]string{}
			}
			params[names[i]] = fmt.Sprint(v)
		case k == "cache_size":
			if s, ok := v.(string); ok {
				n, err := sim.ParseBytes(s)
				if err != nil {
					return nil, nil, fmt.Errorf("cache_size %w", err)
				}
				v = n
			}
			rest[k] = v
		default:
			rest[k] = v
		}
	}
	return rest, params, nil
}

func describe(set map[string]any) string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v ", k, set[k])
	}
	return strings.TrimSpace(b.String())
}

// CostModel returns the default cost model with the fields named in set (by their JSON
// keys) overridden, checked.
func Costs(base cost.Set, set map[string]any) (cost.Set, error) {
	costs := base
	if err := checkSet(set, cost.Keys(), "cost"); err != nil {
		return costs, fmt.Errorf("costs: %w", err)
	}
	if err := overlay(&costs.Model, set, "costs"); err != nil {
		return costs, err
	}
	if len(set) > 0 {
		costs.Name += " (modified)"
	}
	return costs, costs.Model.Validate()
}

// checkValues reports the first value of set that its key cannot take, naming it as
// given in where (its scheme parameters are left to the configuration's check), and
// returns the configuration set makes, as JSON: two sets with one are one setting.
// Precondition: the keys of set are settings or parameters (checkSet).
func checkValues(set map[string]any, where string, reg *scheme.Registry) (string, error) {
	fields, params, err := splitParams(set, reg)
	if err != nil {
		return "", err
	}
	cfg := sim.DefaultConfig()
	if err := overlay(&cfg, fields, where); err != nil {
		return "", err
	}
	cfg.Params = params
	b, err := json.Marshal(cfg)
	return string(b), err
}

// overlay sets the fields of *dst named by their JSON keys in set, in key order; a value
// of the wrong type is an error naming the key and the type it takes. Precondition: the
// keys of set are keys of dst's fields (checkSet).
func overlay(dst any, set map[string]any, what string) error {
	if len(set) == 0 {
		return nil
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := setField(dst, k, set[k], what); err != nil {
			return err
		}
	}
	return nil
}

func expandTraces(names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no traces: name trace files, corpus:NAME or corpus")
	}
	var out []string
	for _, n := range names {
		if n != "corpus" {
			out = append(out, n)
			continue
		}
		es, err := corpus.Manifest()
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			out = append(out, "corpus:"+e.Name)
		}
	}
	return out, nil
}

// Opener returns how to open a trace named as in Spec.Traces.
func Opener(name string, cfg sim.Config) (sim.Opener, error) {
	if c, ok := strings.CutPrefix(name, "corpus:"); ok {
		es, err := corpus.Manifest()
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Name == c {
				return func() (traces.Reader, error) { return corpus.Open(e) }, nil
			}
		}
		return nil, fmt.Errorf("no trace %q in the corpus", c)
	}
	format, err := traces.ParseFormat(cfg.Format)
	if err != nil {
		return nil, err
	}
	if err := regularTrace(name); err != nil {
		return nil, err
	}
	return func() (traces.Reader, error) {
		return traces.Open(name, traces.Options{Format: format, Lenient: cfg.Lenient})
	}, nil
}

// regularTrace checks that a trace file is a regular file: a sweep reads each trace many
// times, which a pipe or device cannot give.
func regularTrace(name string) error {
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return notRegular(name)
	}
	return nil
}

func notRegular(name string) error {
	return fmt.Errorf("%s: not a regular file; a sweep reads each trace many times (and hashes it), so save it to a file first", name)
}

// TraceHash returns the SHA-256 of a trace file's bytes; for a corpus trace, that of its
// embedded file, as MANIFEST.json records it (the corpus tests check that it matches).
// A file is read once for each identity it has (the same file, size and modification
// time): a study hashes each trace once, and a sweep that opens a trace again can tell
// whether it still holds the bytes its points were made for (see Run).
func TraceHash(name string) (string, error) {
	if c, ok := strings.CutPrefix(name, "corpus:"); ok {
		es, err := corpus.Manifest()
		if err != nil {
			return "", err
		}
		for _, e := range es {
			if e.Name == c {
				return e.SHA256, nil
			}
		}
		return "", fmt.Errorf("no trace %q in the corpus", c)
	}
	f, fi, err := openTrace(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return hashFile(f, fi, name)
}
