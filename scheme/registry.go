package scheme

import (
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Level says what traffic a scheme sees.
type Level uint8

const (
	// LevelCPU schemes see every access of the program (translation-level schemes).
	LevelCPU Level = iota
	// LevelMemory schemes see what reaches memory: line fills and write-backs from the
	// cache, or every access when there is no cache.
	LevelMemory
)

func (l Level) String() string {
	if l == LevelMemory {
		return "memory"
	}
	return "cpu"
}

// Param is one of a scheme's own settings: a flag `--NAME` of `vmsim run` and a key of
// sweep's --set. Values reach the scheme as strings in Params.
//
// A Param named as a flag of the driver's own (one of sim.MachineParams: frames, replace,
// steal, initial, pte-bytes, vbits, cow) is a setting of the machine that only some
// schemes model: the driver keeps its flag and its sweep key, and passes its value on to
// the schemes that declare it; to a scheme that does not, a value other than the default
// is a usage error.
type Param struct {
	Name    string // flag name, lower-case with dashes
	Default string
	Doc     string
	// Choices are the values the setting takes, when it takes one of a few (for help
	// text and shell completion; the scheme's New and CheckParams still check the value).
	Choices []string
}

// MaxCounters is how many counters of its own a scheme may report.
const MaxCounters = 16

// Params are a scheme's own settings by name, every Param present (defaults filled in).
type Params map[string]string

// Info describes a registered scheme.
type Info struct {
	Name  string // what --scheme takes
	Doc   string // one line for `vmsim schemes`
	Level Level
	// RecoversTransient: Rollback is supported (transient failures, and crashes of
	// non-volatile memory).
	RecoversTransient bool
	// RecoversCrash: Crash is supported (crashes that lose volatile memory).
	RecoversCrash bool
	// WriteProtects: the scheme finds the pages written in each interval through the
	// translation (write protection, or dualmap's v == V test), so that a checkpoint
	// changes what cached translations allow (the TLB model's --tlb-checkpoint).
	WriteProtects bool
	// VolatileCheckpoints: with volatile memory (Machine.Volatile, --memory volatile) the
	// scheme's checkpoints write what they keep to stable storage (dualmap), so that
	// --memory applies to it without crashes. For any other scheme --memory volatile
	// matters only to a crash (--failure crash) of a scheme that recovers; elsewhere it is
	// a usage error.
	VolatileCheckpoints bool
	// Granule says when the scheme tracks memory in blocks of --granule bytes; given to a
	// scheme, or in a configuration, where it does not, --granule is a usage error.
	Granule GranuleUse
	// IO: the scheme sees the trace's I/O records (it implements IOAware). The driver
	// refuses a scheme whose Info says so and that does not implement IOAware (a wrapper
	// that hides it), and one that implements it unannounced.
	IO     bool
	Params []Param
	// Own points to a zero value of the scheme's own counter struct, whose int64 fields
	// declare its counters in their tags (see [CounterDefsOf]): new(MyCounters), or nil
	// for none. The driver hands the scheme's Counters method a Tally whose Own points to
	// a fresh value of that struct; the scheme adds to it through [Own].
	Own any
	// New builds the scheme on a fresh machine. Errors are the user's (bad settings).
	New func(m Machine, p Params) (Scheme, error)
	// CheckParams, when not nil, checks the settings p (every Param present) on machine m
	// without building the scheme, as New would, and returns every problem found (each
	// naming its flag), so that a configuration is refused before any run
	// (sim.Config.Validate, a sweep's points). Machine.RequestCheckpoint and Oracle are
	// nil in m.
	CheckParams func(m Machine, p Params) error
}

// Takes reports whether the scheme has a setting (a Param) named name.
func (i Info) Takes(name string) bool {
	return slices.ContainsFunc(i.Params, func(p Param) bool { return p.Name == name })
}

// GranuleUse says when a scheme tracks memory in granules of Machine.Granule bytes.
type GranuleUse uint8

const (
	// GranuleUnused: the scheme never reads Machine.Granule.
	GranuleUnused GranuleUse = iota
	// GranuleAlways: the scheme is block-granular and tracks every granule.
	GranuleAlways
	// GranuleWithoutCache: the granule is the scheme's unit only when no cache is modeled
	// (Machine.CacheLine == 0); behind a cache the cache line is.
	GranuleWithoutCache
)

// UsesGranule says whether a scheme with this use reads Machine.Granule on a machine
// with a cache (cache true) or without one.
func (g GranuleUse) UsesGranule(cache bool) bool {
	return g == GranuleAlways || g == GranuleWithoutCache && !cache
}

// Registry is a set of schemes by name. The process-wide one, which Register, Lookup, All,
// Names and ParamNames use, is where packages register their schemes from init; a test
// can make its own with NewRegistry and throw it away. Safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	// m holds the schemes by name. Invariant: m[n].Name == n, and every Info in it is
	// complete (Name, Doc and New set; Own nil or a pointer to a struct of at most
	// MaxCounters int64 fields, each with a key and a doc, every key once).
	m map[string]Info
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{m: map[string]Info{}} }

// registry is the process-wide registry.
var registry = NewRegistry()

// Default returns the process-wide registry: the one Register, Lookup, All, Names and
// ParamNames use, where packages register their schemes from init (the built-in schemes
// once package builtin is imported).
func Default() *Registry { return registry }

// Register adds a scheme to the process-wide registry; a package registers its schemes
// in an init function. It panics if the name is taken or the Info incomplete (a
// programming error).
func Register(i Info) { registry.Register(i) }

// Lookup returns the scheme registered process-wide under name.
func Lookup(name string) (Info, bool) { return registry.Lookup(name) }

// All returns every scheme registered process-wide, sorted by name.
func All() []Info { return registry.All() }

// Names returns the names registered process-wide, sorted.
func Names() []string { return registry.Names() }

// ParamNames returns the names of every process-wide registered scheme's params, sorted,
// each once.
func ParamNames() []string { return registry.ParamNames() }

// Register adds a scheme to r. It panics if the name is taken, the Info incomplete, or its
// own counters (Own) not declared as CounterDefsOf says (a programming error).
func (r *Registry) Register(i Info) {
	if i.Name == "" || i.New == nil || i.Doc == "" {
		panic(fmt.Sprintf("scheme: Register of incomplete Info %q", i.Name))
	}
	if _, err := ownType(i.Own); err != nil {
		panic(fmt.Sprintf("scheme: Register of %q: %v", i.Name, err))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[i.Name]; dup {
		panic(fmt.Sprintf("scheme: %q registered twice", i.Name))
	}
	r.m[i.Name] = i
}

// Lookup returns the scheme registered in r under name.
func (r *Registry) Lookup(name string) (Info, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	i, ok := r.m[name]
	return i, ok
}

// All returns every scheme of r, sorted by name.
func (r *Registry) All() []Info {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Info, 0, len(r.m))
	for _, i := range r.m {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// Names returns the names of r's schemes, sorted.
func (r *Registry) Names() []string {
	var n []string
	for _, i := range r.All() {
		n = append(n, i.Name)
	}
	return n
}

// ParamNames returns the names of every param of r's schemes, sorted, each once.
func (r *Registry) ParamNames() []string {
	var n []string
	for _, i := range r.All() {
		for _, p := range i.Params {
			n = append(n, p.Name)
		}
	}
	slices.Sort(n)
	return slices.Compact(n)
}

// Resolve fills in the defaults of i's params and rejects a setting i does not have.
func (i Info) Resolve(set map[string]string) (Params, error) {
	p := Params{}
	for _, d := range i.Params {
		p[d.Name] = d.Default
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, ok := p[k]; !ok {
			return nil, fmt.Errorf("--%s is not a setting of scheme %s", k, i.Name)
		}
		p[k] = set[k]
	}
	return p, nil
}
