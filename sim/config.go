package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vmsim/vmsim/coherence"
	"github.com/vmsim/vmsim/schedule"
	"github.com/vmsim/vmsim/scheme"
)

// Config is everything that determines a run. Its JSON form is the "config" object of
// `vmsim run --json`.
//
// Skip and MaxRefs are the window of the trace a run sees (--skip, --max-refs): the first
// Skip accesses are read past without being simulated (no counter sees them, and access
// numbers, those of --fail-at, --warmup and --interval among others, count from the first
// access after them), and the run ends after MaxRefs accesses (0: at the trace's end) as
// if the trace ended there.
type Config struct {
	Trace    string `json:"trace"`
	Format   string `json:"format"`
	Scheme   string `json:"scheme"`
	PageSize uint64 `json:"page_size"`
	// Frames, Replace, Steal, Initial, Cow, VBits and PTEBytes are the paging settings
	// (--frames, --replace, ...): the driver does not read them but passes them on, as
	// params of the names of their flags (MachineParams), to a scheme that declares them,
	// which checks them (the paging schemes none and dualmap: mmu.Paging). Given to a
	// scheme that does not declare them (set to a value other than the default), they are
	// a usage error.
	Frames      int     `json:"frames"`
	Replace     string  `json:"replace"`
	Steal       string  `json:"steal"`
	Initial     string  `json:"initial"`
	Memory      Memory  `json:"memory"`
	Cow         string  `json:"cow"`
	VBits       int     `json:"vbits"`
	Scope       Scope   `json:"scope"`
	PTEBytes    uint64  `json:"pte_bytes"`
	Interval    int64   `json:"interval"`
	Warmup      int64   `json:"warmup"`
	Skip        int64   `json:"skip"`
	MaxRefs     int64   `json:"max_refs"`
	FailAt      []int64 `json:"fail_at"`
	MTBF        float64 `json:"mtbf"`
	Failure     Failure `json:"failure"`
	IO          IOMode  `json:"io"`
	Seed        uint64  `json:"seed"`
	IgnoreSize  bool    `json:"ignore_size"`
	Lenient     bool    `json:"lenient"`
	Verify      bool    `json:"verify"`
	VerifyBlock uint64  `json:"verify_block"`
	// Granule is the block size block-granular schemes track (--granule).
	Granule uint64 `json:"granule"`
	// The cache model (--cache-size 0: none).
	CacheSize  uint64     `json:"cache_size"`
	CacheWays  int        `json:"cache_ways"`
	CacheLine  uint64     `json:"cache_line"`
	CacheFlush CacheFlush `json:"cache_flush"`
	// The multi-core machine (--cores 1: the one cache above, docs/coherence.md section
	// "The driver's cores"): Cores private caches of the cache's geometry kept coherent
	// by a directory (package coherence), the accesses given to them by a scheduler
	// (package schedule) under Schedule, rotating every Quantum accesses under
	// round-robin. Schedule and Quantum apply only with more than one core; Quantum only
	// under round-robin.
	Cores    int             `json:"cores"`
	Schedule schedule.Policy `json:"schedule"`
	Quantum  int64           `json:"quantum"`
	// The TLB model (--tlb-entries 0: none).
	TLBEntries    int           `json:"tlb_entries"`
	TLBWays       int           `json:"tlb_ways"`
	TLBCheckpoint TLBCheckpoint `json:"tlb_checkpoint"`
	// MaxPages bounds the distinct pages a run may touch (0: no bound), so that a trace
	// too large for the machine gets a message rather than an out-of-memory kill.
	MaxPages int `json:"max_pages"`
	// Params are the scheme's own settings that differ from their defaults, by name.
	Params map[string]string `json:"params,omitempty"`
}

// DefaultConfig returns the defaults documented in docs/.
func DefaultConfig() Config {
	return Config{
		Format:      "auto",
		Scheme:      "dualmap",
		PageSize:    4096,
		Replace:     "clock",
		Steal:       "obsolete-first",
		Initial:     "image",
		Memory:      MemoryNonvolatile,
		Cow:         "copy",
		VBits:       8,
		Scope:       ScopeSystem,
		PTEBytes:    16,
		Failure:     FailureTransient,
		IO:          IONone,
		VerifyBlock: 64,
		FailAt:      []int64{},
		MaxPages:    DefaultMaxPages,
		Granule:     64,
		CacheWays:   8,
		CacheLine:   64,
		CacheFlush:  CacheInvalidate,
		Cores:       1,
		Schedule:    schedule.RoundRobin,
		Quantum:     DefaultQuantum,

		TLBWays:       4,
		TLBCheckpoint: TLBFlush,
	}
}

// Limits on sizes a user gives, so that a typo gets a message rather than an
// out-of-memory crash.
const (
	maxPageSize = 1 << 30 // bytes
	maxBlocks   = 1 << 16 // --verify stamps per page
)

// DefaultQuantum is the default --quantum, in accesses: long enough that a thread refills
// a private cache of common sizes before it moves (32 KiB is 512 lines of 64 bytes, a few
// thousand accesses at the miss ratios of the corpus), short enough that on a trace of a
// million accesses every thread visits every core many times (docs/coherence.md, section
// "The driver's cores").
const DefaultQuantum = 10000

// DefaultMaxPages is the default page limit: 2^25 pages, about 3 GiB of page table
// and opt bookkeeping without --verify, which fits a 24 GiB machine with room for the
// trace buffers and several sweep jobs (at 4 KiB pages it is a 128 GiB footprint).
const DefaultMaxPages = 1 << 25

// verifyBudget is the memory the default page limit allows a verifying run: with --verify
// every touched page also costs its stamps in the scheme (8 bytes a block) and in the
// golden model (about 48 bytes a block written), so the default limit shrinks to fit it.
const verifyBudget = 12 << 30

// maxPages is the page limit in force: MaxPages, except that the default one shrinks under
// --verify to what verifyBudget holds.
func (c *Config) maxPages() int {
	if !c.Verify || c.MaxPages != DefaultMaxPages || c.VerifyBlock == 0 {
		return c.MaxPages
	}
	perPage := 64 + 56*(c.PageSize/c.VerifyBlock)
	return int(min(uint64(c.MaxPages), verifyBudget/perPage))
}

// Choices lists the values each enumerated option of the driver accepts, by flag. --scheme
// is not among them: it takes the name of any scheme of the registry a run uses
// (scheme.Registry.Names), which is asked at use, so that a scheme registered at any time
// is listed. Nor are the paging options the driver passes on (--replace, --steal,
// --initial, --cow): their values are those of the schemes' Params (scheme.Param.Choices).
var Choices = map[string][]string{
	"memory":         strs(Memories),
	"scope":          strs(Scopes),
	"failure":        strs(Failures),
	"io":             strs(IOModes),
	"format":         {"auto", "rw", "lackey", "din", "xdin", "vmt", "champsim", "champsim-cloudsuite", "pin", "drmemtrace"},
	"cache-flush":    strs(CacheFlushes),
	"tlb-checkpoint": strs(TLBCheckpoints),
	"schedule":       strs(schedule.Policies),
}

// Validate checks the configuration, its scheme one of the process-wide registry
// (scheme.Default), and returns every problem found.
func (c *Config) Validate() error { return c.ValidateIn(nil) }

// ValidateIn checks the configuration, its scheme one of reg (nil: the process-wide
// registry), and returns every problem found.
func (c *Config) ValidateIn(reg *scheme.Registry) error {
	info, err := c.info(nil, reg)
	if err != nil {
		return err
	}
	return c.validate(info, reg)
}

// orDefault returns reg, or the process-wide registry when reg is nil.
func orDefault(reg *scheme.Registry) *scheme.Registry {
	if reg == nil {
		return scheme.Default()
	}
	return reg
}

// info returns the scheme to run: custom if not nil, else the one reg (nil: the
// process-wide registry) holds under c.Scheme.
func (c *Config) info(custom *scheme.Info, reg *scheme.Registry) (scheme.Info, error) {
	if custom != nil {
		if custom.New == nil {
			return scheme.Info{}, fmt.Errorf("scheme %q has no constructor", custom.Name)
		}
		return *custom, nil
	}
	reg = orDefault(reg)
	info, ok := reg.Lookup(c.Scheme)
	if !ok {
		return scheme.Info{}, fmt.Errorf("--scheme %q: want one of %v", c.Scheme, reg.Names())
	}
	return info, nil
}

// validate checks the configuration for scheme info; reg (nil: the process-wide registry)
// is where messages find the schemes a setting applies to.
func (c *Config) validate(info scheme.Info, reg *scheme.Registry) error {
	// flagged holds the flags with a problem already: each flag is reported once, with
	// the first problem found (a setting the scheme does not model before its value).
	var errs []string
	flagged := map[string]bool{}
	bad := func(flag, format string, args ...any) {
		if !flagged[flag] {
			flagged[flag] = true
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	def := DefaultConfig()
	for _, p := range machineParams {
		if p.value(c) != p.value(&def) && !info.Takes(p.flag) {
			bad(p.flag, "--%s %s: scheme %s %s, and --%s applies only to %s (leave it at its default, %s)",
				p.flag, p.value(c), info.Name, p.why, p.flag, takers(reg, func(i scheme.Info) string { return cond(i.Takes(p.flag), i.Name) }), p.value(&def))
		}
	}
	for _, s := range schemeSettings {
		if s.value(c) != s.value(&def) && !s.applies(info, c) {
			bad(s.flag, "--%s %s: scheme %s %s, and --%s applies only to %s (leave it at its default, %s)",
				s.flag, s.value(c), info.Name, s.why(info, c), s.flag, s.takers(c, reg), s.value(&def))
		}
	}
	if c.Memory == MemoryVolatile && !c.volatileApplies(info) {
		if info.RecoversTransient || info.RecoversCrash {
			bad("memory", "--memory volatile: volatile memory changes scheme %s only in a crash (add --failure crash, or leave --memory at its default, %s)",
				info.Name, def.Memory)
		} else {
			bad("memory", "--memory volatile: scheme %s keeps no checkpoints, and volatile memory changes nothing for it (leave --memory at its default, %s)",
				info.Name, def.Memory)
		}
	}
	for _, o := range []struct {
		flag string
		err  error
	}{
		{"memory", check(ParseMemory, c.Memory)}, {"scope", check(ParseScope, c.Scope)},
		{"failure", check(ParseFailure, c.Failure)}, {"io", check(ParseIOMode, c.IO)},
		{"cache-flush", check(ParseCacheFlush, c.CacheFlush)}, {"tlb-checkpoint", check(ParseTLBCheckpoint, c.TLBCheckpoint)},
		{"schedule", check(schedule.ParsePolicy, c.Schedule)},
	} {
		if o.err != nil {
			bad(o.flag, "%v", o.err)
		}
	}
	if !slices.Contains(Choices["format"], c.Format) {
		bad("format", "--format %q: want one of %v", c.Format, Choices["format"])
	}
	pow2 := func(x uint64) bool { return x != 0 && x&(x-1) == 0 }
	// The settings bounded by the page size are checked against it only when it is valid
	// itself, so that a bad --page-size is one problem, not several.
	pageOK := pow2(c.PageSize) && c.PageSize >= 16 && c.PageSize <= maxPageSize
	if !pageOK {
		bad("page-size", "--page-size %d: want a power of two from 16 to %d", c.PageSize, maxPageSize)
	}
	if c.Warmup < 0 {
		bad("warmup", "--warmup %d: want 0 (none) or a number of accesses", c.Warmup)
	}
	if c.Skip < 0 {
		bad("skip", "--skip %d: want 0 (none) or a number of accesses", c.Skip)
	}
	if c.MaxRefs < 0 {
		bad("max-refs", "--max-refs %d: want 0 (the whole trace) or a number of accesses", c.MaxRefs)
	}
	if c.Interval < 0 {
		bad("interval", "--interval %d: want 0 (never) or a positive number of accesses", c.Interval)
	}
	for _, i := range c.FailAt {
		if i < 1 {
			bad("fail-at", "--fail-at %d: access numbers start at 1", i)
		}
	}
	// Failures strike after accesses, at most one after each: a mean gap below one access
	// would put a failure after every access, and every recovery would replay from the
	// last checkpoint, again and again.
	if math.IsNaN(c.MTBF) || math.IsInf(c.MTBF, 0) {
		bad("mtbf", "--mtbf %v: want a finite mean number of accesses between failures", c.MTBF)
	} else if c.MTBF != 0 && c.MTBF < 1 {
		bad("mtbf", "--mtbf %v: want 0 (no random failures) or a mean of at least 1 access between failures", c.MTBF)
	}
	if c.Verify && (!pow2(c.VerifyBlock) || pageOK && (c.VerifyBlock > c.PageSize || c.PageSize/c.VerifyBlock > maxBlocks)) {
		bad("verify-block", "--verify-block %d: want a power of two no larger than the page size, and at most %d blocks a page", c.VerifyBlock, maxBlocks)
	}
	if c.MaxPages < 0 {
		bad("max-pages", "--max-pages %d: want 0 (no limit) or a positive number of pages", c.MaxPages)
	}
	// The granule bounds the blocks of the schemes that track granules.
	if !pow2(c.Granule) || c.Granule < 8 || pageOK && info.Granule.UsesGranule(c.CacheSize > 0) && c.Granule > c.PageSize {
		bad("granule", "--granule %d: want a power of two from 8 to the page size (%d)", c.Granule, c.PageSize)
	}
	if c.CacheSize > 0 {
		if err := c.cacheGeometry().Validate(); err != nil {
			bad("cache-size", "%v", err)
		} else if c.Verify && c.VerifyBlock > c.CacheLine {
			bad("verify-block", "--verify-block %d: want at most the cache line (%d) when a cache is modeled", c.VerifyBlock, c.CacheLine)
		}
		if info.Level == scheme.LevelMemory && c.CacheFlush == CacheNoFlush {
			bad("cache-flush", "--cache-flush none: scheme %s needs memory consistent at a checkpoint (want invalidate or clean)", info.Name)
		}
	}
	if err := c.tlbGeometry().Validate(); err != nil {
		bad("tlb-entries", "%v", err)
	}
	c.validateCores(bad)
	if c.failures() {
		if err := c.recoverable(info); err != nil {
			bad("failure", "%v: drop --fail-at/--mtbf or use a scheme that recovers", err)
		}
	}
	// The scheme's own check of its settings, those the driver passes on included; the
	// settings bounded by the page size only when it is valid.
	if p, err := c.params(info); err != nil {
		bad("params", "%v", err)
	} else if info.CheckParams != nil && pageOK {
		if err := info.CheckParams(c.machine(), p); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	// One line: a usage error is printed as one line, and sweep prefixes it with its point.
	return errors.New(strings.Join(errs, "; "))
}

// params returns the settings of scheme info: Config.Params with the defaults filled in,
// and the machine params it declares from their fields.
func (c *Config) params(info scheme.Info) (scheme.Params, error) {
	set := make(map[string]string, len(c.Params)+len(machineParams))
	for k, v := range c.Params {
		if slices.ContainsFunc(machineParams, func(p machineParam) bool { return p.flag == k }) {
			return nil, fmt.Errorf("--%s is a setting of the machine, not one of Params: give it in its own field", k)
		}
		set[k] = v
	}
	for _, p := range machineParams {
		if info.Takes(p.flag) {
			set[p.flag] = p.value(c)
		}
	}
	return info.Resolve(set)
}

// volatileApplies says whether --memory volatile changes anything for scheme info under c:
// its checkpoints write to storage with volatile memory, or it recovers from crashes of
// the configured kind.
func (c *Config) volatileApplies(info scheme.Info) bool {
	return info.VolatileCheckpoints || c.Failure == FailureCrash && (info.RecoversTransient || info.RecoversCrash)
}

// cond returns s if ok, else "".
func cond(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

// check parses v with parse and returns its error.
func check[T ~string](parse func(string) (T, error), v T) error {
	_, err := parse(string(v))
	return err
}

// validateCores checks the multi-core settings, reporting each problem by bad (under the
// flag it is about): --cores from 1 to coherence.MaxCores, and above 1 only with a cache
// (the cores' private caches); --schedule and --quantum, which only more than one core
// has, given (set to other than their defaults) only then; --quantum, which only
// round-robin has, at least 1 and given only under it.
func (c *Config) validateCores(bad func(flag, format string, args ...any)) {
	def := DefaultConfig()
	switch {
	case c.Cores < 1 || c.Cores > coherence.MaxCores:
		bad("cores", "--cores %d: want 1 to %d", c.Cores, coherence.MaxCores)
	case c.Cores > 1 && c.CacheSize == 0:
		bad("cores", "--cores %d: the cores' private caches need a cache model: give --cache-size (above 0), or --cores 1", c.Cores)
	}
	if c.Cores == 1 {
		if c.Schedule != def.Schedule {
			bad("schedule", "--schedule %s: one core (--cores 1) has no schedule (give --cores above 1, or leave --schedule at its default, %s)", c.Schedule, def.Schedule)
		}
		if c.Quantum != def.Quantum {
			bad("quantum", "--quantum %d: one core (--cores 1) has no schedule (give --cores above 1, or leave --quantum at its default, %d)", c.Quantum, def.Quantum)
		}
	}
	switch {
	case c.Quantum < 1:
		bad("quantum", "--quantum %d: want a quantum of 1 access or more", c.Quantum)
	case c.Schedule == schedule.Recorded && c.Quantum != def.Quantum:
		bad("quantum", "--quantum %d: only --schedule round-robin has a quantum, --schedule recorded follows the trace's cpus (leave --quantum at its default, %d)", c.Quantum, def.Quantum)
	}
}
