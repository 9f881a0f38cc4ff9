package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
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
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

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
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
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
	// noNull reports a null anywhere in n, named where.
	var noNull func(n *yaml.Node, where string)
	noNull = func(n *yaml.Node, where string) {
		switch {
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			noNull(n.Alias, where)
		case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null":
			fail(n, "%s: null is not a value: leave the key out for its default", where)
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
		switch k.Value {
		case "base", "vary":
			keys(v, k.Value, settings, "setting")
		case "costs":
			keys(v, k.Value, costs, "cost")
		}
		noNull(v, k.Value)
	}
	return bad.line, bad.err
}

// settingNames returns the keys a spec's base and vary take: the configuration's JSON
// keys but trace (a sweep's traces are its own list) and params (a scheme's own settings
// go by their names), and the own settings of every scheme of reg (nil: the built-ins)
// but the paging settings the driver passes on, which have their configuration keys
// (frames, pte_bytes, ...).
func settingNames(reg *scheme.Registry) []string {
	var names []string
	for _, k := range fieldNames(sim.Config{}, "") {
		if k != "trace" && k != "params" {
			names = append(names, k)
		}
	}
	return append(names, sim.OwnParamNames(registryOr(reg))...)
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

// checkKey says what is wrong with key when it is not one of names: another case of one
// (keys are case-sensitive), or none at all.
func checkKey(key string, names []string, what string) error {
	if slices.Contains(names, key) {
		return nil
	}
	if i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, key) }); i >= 0 {
		return fmt.Errorf("no %s %q: keys are case-sensitive; did you mean %q?", what, key, names[i])
	}
	switch key {
	case "trace":
		return fmt.Errorf("trace is not a setting: name traces with --trace or the spec's traces list")
	case "params":
		return fmt.Errorf("params is not a setting: give a scheme's own settings by name (vmsim schemes lists them)")
	}
	return fmt.Errorf("no %s %q", what, key)
}

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
			return nil, costs, fmt.Errorf("vary %s: no values", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	settings := settingNames(s.Registry)
	if err := checkSet(s.Base, settings, "setting"); err != nil {
		return nil, costs, fmt.Errorf("base: %w", err)
	}
	for _, k := range keys {
		if err := checkSet(map[string]any{k: s.Vary[k]}, settings, "setting"); err != nil {
			return nil, costs, fmt.Errorf("vary: %w", err)
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
			for k, v := range s.Base {
				set[k] = v
			}
			for i, k := range keys {
				set[k] = s.Vary[k][idx[i]]
			}
			cfg := sim.DefaultConfig()
			set, params, err := splitParams(set, s.Registry)
			if err != nil {
				return nil, costs, err
			}
			if err := overlay(&cfg, set, "config"); err != nil {
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
				if idx[i]++; idx[i] < len(s.Vary[keys[i]]) {
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
// built-ins'), as strings, and reads a cache_size given with a K, M or G suffix.
func splitParams(set map[string]any, reg *scheme.Registry) (rest map[string]any, params map[string]string, err error) {
	names := sim.OwnParamNames(registryOr(reg))
	rest = map[string]any{}
	for k, v := range set {
		switch {
		case slices.Contains(names, k):
			if params == nil {
				params = map[string]string{}
			}
			params[k] = fmt.Sprint(v)
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

// overlay sets the fields of *dst named by their JSON keys in set; an unknown key or a
// value of the wrong type is an error.
func overlay(dst any, set map[string]any, what string) error {
	if len(set) == 0 {
		return nil
	}
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s %s: %w", what, describe(set), err)
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

// Result is one point's outcome.
type Result struct {
	ID string `json:"id"`
	// TraceHash and Version say which trace content and which vmsim gave the result.
	TraceHash string     `json:"trace_sha256"`
	Version   string     `json:"vmsim_version"`
	Config    sim.Config `json:"config"`
	Stats     sim.Stats  `json:"stats"`
	// CostSet is the cost set the times were computed with.
	CostSet cost.Set `json:"cost_set"`
	// Cost is the point's modeled time as the overhead rule charges it (cost.Compare):
	// every term at least the baseline's.
	Cost     cost.Breakdown `json:"cost"`
	Baseline cost.Breakdown `json:"baseline"` // scheme none on the same trace and settings
	Overhead float64        `json:"overhead"` // Cost.Total / Baseline.Total - 1, never negative
}

// Sink is an output file of results.
type Sink interface {
	Has(id string) bool
	Write(r *Result) error
}

// Options says how to run a sweep.
type Options struct {
	// Version, when set, is the points' version (Point.Version, part of their IDs),
	// which each result records. Precondition: "" or every point's Version.
	Version string
	Jobs    int // parallel runs; 0 means one a core. Precondition: Jobs >= 0 (the CLI refuses less)
	Costs   cost.Set
	// Progress, when set, is called after each point with the points done (skipped ones
	// included) and the total.
	Progress func(done, total int)
	// DecodeMemory is the memory, in bytes, that traces decoded into memory may take at
	// once: 0 means DefaultDecodeMemory, a negative value decodes none (every run
	// streams its trace from the file, as vmsim run does). See Run.
	DecodeMemory int64
	// TraceCache, when set, is a directory of local copies of the trace files, which
	// the runs read instead of the originals (see TraceCache).
	TraceCache TraceCache
}

// maxReported is how many failed points Run's error lists.
const maxReported = 5

// Run runs every point not already in all sinks, on opt.Jobs cores, and writes each
// result to the sinks that lack it, in point order. A point that fails does not stop
// the others: every point that can run does, every result is written (the failed
// points leave gaps, which a rerun fills), and the error lists the failures. A sink
// that cannot be written stops the sweep. A sink that is a File holding a result line
// for one of points that does not say that point's configuration (every configuration
// column: File.verify) is refused before anything runs.
//
// Each trace is decoded once, into memory, by the first of its points to run, and every
// point and baseline of that trace, on every core, replays those records in place; they
// are freed when the trace's last point is done. The points run trace by trace (in the
// order of each trace's first point), so that few decoded traces are alive at once.
// A trace that does not fit in what is left of opt.DecodeMemory is streamed from its
// file by each run instead, as is one a lenient reader skips lines of. Results are the
// same bytes either way.
//
// Every run reads the bytes its point was made for (those whose SHA-256 is its
// TraceHash, which its ID and row name). Each trace file is opened once, by the first of
// its points to run, and checked to hold those bytes (its copy in opt.TraceCache, if
// set, is); every run of its points reads that open file, whatever becomes of the name.
// A trace that no longer holds them, or that changes while its points run, fails them
// with an error naming the file.
//
// A point's baseline (BaselineConfig) is failure-free: it runs on the point's trace less
// the trace's fail records, which are for the scheme under study.
func Run(points []Point, opt Options, sinks ...Sink) ([]*Result, error) {
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	for _, p := range points {
		if opt.Version != "" && p.Version != opt.Version {
			panic(fmt.Sprintf("sweep: Run of a point of vmsim %q as vmsim %q", p.Version, opt.Version))
		}
	}
	registryOf(points) // every point has the same registry
	// A result line a sink holds for one of the points must be that point's.
	for _, s := range sinks {
		if v, ok := s.(interface{ verify([]Point) error }); ok {
			if err := v.verify(points); err != nil {
				return nil, err
			}
		}
	}
	var todo []int
	for i, p := range points {
		if slices.ContainsFunc(sinks, func(s Sink) bool { return !s.Has(p.ID) }) || len(sinks) == 0 {
			todo = append(todo, i)
		}
	}
	// The order to run them in (indices in todo): trace by trace.
	order := make([]int, len(todo))
	first := map[traceKey]int{}
	for k := range order {
		order[k] = k
		if _, ok := first[keyOf(points[todo[k]].Config)]; !ok {
			first[keyOf(points[todo[k]].Config)] = k
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		return first[keyOf(points[todo[order[a]]].Config)] < first[keyOf(points[todo[order[b]]].Config)]
	})
	budget := opt.DecodeMemory
	if budget == 0 {
		budget = DefaultDecodeMemory()
	}
	todoPoints := make([]Point, len(todo))
	for k, i := range todo {
		todoPoints[k] = points[i]
	}
	if opt.TraceCache != "" && slices.ContainsFunc(todoPoints, isFile) {
		// A cache that cannot be used stops the sweep before it starts.
		if err := opt.TraceCache.Check(); err != nil {
			return nil, err
		}
	}
	store := newDecodeStore(budget, todoPoints, opt.TraceCache)
	done := len(points) - len(todo)
	if opt.Progress != nil {
		opt.Progress(done, len(points))
	}
	type out struct {
		k   int // index in todo
		res *Result
		err error
	}
	work := make(chan int)
	results := make(chan out)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	base := &baselines{m: map[string]*baseline{}}
	for range min(jobs, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				res, err := runPoint(points[todo[k]], opt, base, store)
				select {
				case results <- out{k, res, err}:
				case <-stop:
					return
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for _, k := range order {
			select {
			case work <- k:
			case <-stop:
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	// Write in point order: hold results that finish early. A failed point is held as
	// nil, and skipped.
	held := map[int]*Result{}
	var all []*Result
	var failed []error
	nFailed := 0
	next := 0
	var sinkErr error
	for o := range results {
		if sinkErr != nil {
			continue
		}
		if o.err != nil {
			nFailed++
			if len(failed) < maxReported {
				p := points[todo[o.k]]
				failed = append(failed, fmt.Errorf("point %s (%s): %w", p.ID, p.Config.Trace, o.err))
			}
		}
		held[o.k] = o.res
		for {
			r, ok := held[next]
			if !ok {
				break
			}
			delete(held, next)
			next++
			if r == nil {
				continue
			}
			for _, s := range sinks {
				if !s.Has(r.ID) {
					if err := s.Write(r); err != nil && sinkErr == nil {
						sinkErr = err
						close(stop)
					}
				}
			}
			all = append(all, r)
			done++
			if opt.Progress != nil {
				opt.Progress(done, len(points))
			}
		}
	}
	if sinkErr != nil {
		return all, sinkErr
	}
	if nFailed > 0 {
		if nFailed > len(failed) {
			failed = append(failed, fmt.Errorf("and %d more", nFailed-len(failed)))
		}
		return all, fmt.Errorf("%d of %d points failed (the %d others are written; rerun to retry the failed ones):\n%w",
			nFailed, len(todo), len(all), errors.Join(failed...))
	}
	return all, nil
}

// baselines caches the runs of scheme none, which many points share.
type baselines struct {
	mu sync.Mutex
	m  map[string]*baseline
}

type baseline struct {
	once  sync.Once
	stats sim.Stats
	err   error
}

// BaselineConfig is the configuration of the baseline of a point of any scheme: scheme
// none on the same trace, with the same paging settings and cache, and neither
// checkpoints nor failures (D25). Every scheme of a trace and machine has the same
// baseline: one that models no paging has its paging settings at their defaults
// (anything else is refused), and the overhead rule (cost.Charge) charges it the
// baseline's faults and paging I/O.
func BaselineConfig(c sim.Config) sim.Config {
	d := sim.DefaultConfig()
	c.Scheme, c.Interval, c.FailAt, c.MTBF, c.Verify, c.Params = "none", 0, nil, 0, false, nil
	c.Memory, c.Cow, c.VBits, c.Scope, c.Failure = d.Memory, d.Cow, d.VBits, d.Scope, d.Failure
	c.Granule, c.TLBCheckpoint, c.PTEBytes = d.Granule, d.TLBCheckpoint, d.PTEBytes // none takes none of them
	return c
}

// get returns the counters of c's baseline, run on the trace that open yields (c's)
// less its fail records, with the schemes of reg (nil: the built-ins). Precondition:
// every call of a baselines has the same reg.
func (b *baselines) get(c sim.Config, reg *scheme.Registry, open sim.Opener) (sim.Stats, error) {
	bc := BaselineConfig(c)
	key, _ := json.Marshal(bc)
	b.mu.Lock()
	e := b.m[string(key)]
	if e == nil {
		e = &baseline{}
		b.m[string(key)] = e
	}
	b.mu.Unlock()
	e.once.Do(func() {
		res, err := RunBaseline(c, reg, open)
		if err != nil {
			e.err = fmt.Errorf("its baseline (scheme none on the same trace, without failures; the trace's fail records ignored): %w", err)
			return
		}
		e.stats = res.Stats
	})
	return e.stats, e.err
}

func runPoint(p Point, opt Options, base *baselines, store *decodeStore) (*Result, error) {
	costs := opt.Costs
	defer store.release(p)
	open, check, err := store.acquire(p)
	if err != nil {
		return nil, err
	}
	// A trace file that changed under the runs fails the point, whatever the runs made
	// of what they read.
	changed := func(err error) error {
		if check != nil {
			if cerr := check(); cerr != nil {
				return cerr
			}
		}
		return err
	}
	res, err := sim.RunWith(p.Config, open, sim.Options{Registry: registryOr(p.Registry)})
	if err != nil {
		return nil, changed(err)
	}
	r := &Result{ID: p.ID, TraceHash: p.TraceHash, Version: p.Version, Config: res.Config, Stats: res.Stats, CostSet: costs}
	bs, err := base.get(p.Config, p.Registry, open)
	if err != nil {
		return nil, changed(err)
	}
	if err := changed(nil); err != nil {
		return nil, err
	}
	cmp := cost.Compare(costs.Model, res.Stats, bs, res.Config)
	r.Cost, r.Baseline, r.Overhead = cmp.Run, cmp.Baseline, cmp.Overhead
	return r, nil
}

// ETA estimates the time left from the time so far, for progress lines.
func ETA(elapsed time.Duration, done, startDone, total int) time.Duration {
	if done <= startDone {
		return 0
	}
	per := elapsed / time.Duration(done-startDone)
	return per * time.Duration(total-done)
}
