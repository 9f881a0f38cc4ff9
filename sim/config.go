package sim

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/tlb"
)

// Config is everything that determines a run. Its JSON form is the "config" object of
// `vmsim run --json`.
type Config struct {
	Trace       string  `json:"trace"`
	Format      string  `json:"format"`
	Scheme      string  `json:"scheme"`
	PageSize    uint64  `json:"page_size"`
	Frames      int     `json:"frames"`
	Replace     string  `json:"replace"`
	Steal       string  `json:"steal"`
	Initial     string  `json:"initial"`
	Memory      string  `json:"memory"`
	Cow         string  `json:"cow"`
	VBits       int     `json:"vbits"`
	Scope       string  `json:"scope"`
	PTEBytes    uint64  `json:"pte_bytes"`
	Interval    int64   `json:"interval"`
	Warmup      int64   `json:"warmup"`
	FailAt      []int64 `json:"fail_at"`
	MTBF        float64 `json:"mtbf"`
	Failure     string  `json:"failure"`
	IO          string  `json:"io"`
	Seed        uint64  `json:"seed"`
	IgnoreSize  bool    `json:"ignore_size"`
	Lenient     bool    `json:"lenient"`
	Verify      bool    `json:"verify"`
	VerifyBlock uint64  `json:"verify_block"`
	// Granule is the block size block-granular schemes track (--granule).
	Granule uint64 `json:"granule"`
	// The cache model (--cache-size 0: none).
	CacheSize  uint64 `json:"cache_size"`
	CacheWays  int    `json:"cache_ways"`
	CacheLine  uint64 `json:"cache_line"`
	CacheFlush string `json:"cache_flush"`
	// The TLB model (--tlb-entries 0: none).
	TLBEntries    int    `json:"tlb_entries"`
	TLBWays       int    `json:"tlb_ways"`
	TLBCheckpoint string `json:"tlb_checkpoint"`
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
		Memory:      "nonvolatile",
		Cow:         "copy",
		VBits:       8,
		Scope:       "system",
		PTEBytes:    16,
		Failure:     "transient",
		IO:          "none",
		VerifyBlock: 64,
		FailAt:      []int64{},
		MaxPages:    DefaultMaxPages,
		Granule:     64,
		CacheWays:   8,
		CacheLine:   64,
		CacheFlush:  "invalidate",

		TLBWays:       4,
		TLBCheckpoint: "flush",
	}
}

// Limits on sizes a user gives, so that a typo gets a message rather than an
// out-of-memory crash.
const (
	maxPageSize = 1 << 30 // bytes
	maxFrames   = 1 << 26 // frames
	maxBlocks   = 1 << 16 // --verify stamps per page
)

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

// Choices lists the values each enumerated option accepts. "scheme" lists the schemes
// registered when this package was initialised; a scheme registered later (from a package
// that imports sim) is accepted too.
var Choices = map[string][]string{
	"scheme":         scheme.Names(),
	"replace":        frames.Policies,
	"steal":          {"obsolete-first", "policy"},
	"initial":        {"image", "zero"},
	"memory":         {"nonvolatile", "volatile"},
	"cow":            {"copy", "remap"},
	"scope":          {"system", "asid"},
	"failure":        {"transient", "crash"},
	"io":             {"none", "hold"},
	"format":         {"auto", "rw", "lackey", "din", "xdin", "vmt", "champsim", "champsim-cloudsuite", "pin"},
	"cache-flush":    {"invalidate", "clean", "none"},
	"tlb-checkpoint": {"flush", "tag"},
}

// Validate checks the configuration and returns every problem found.
func (c *Config) Validate() error {
	info, err := c.info(nil)
	if err != nil {
		return err
	}
	return c.validate(info)
}

// info returns the scheme to run: custom if not nil, else the registered one.
func (c *Config) info(custom *scheme.Info) (scheme.Info, error) {
	if custom != nil {
		if custom.New == nil {
			return scheme.Info{}, fmt.Errorf("scheme %q has no constructor", custom.Name)
		}
		return *custom, nil
	}
	info, ok := scheme.Lookup(c.Scheme)
	if !ok {
		return scheme.Info{}, fmt.Errorf("--scheme %q: want one of %v", c.Scheme, scheme.Names())
	}
	return info, nil
}

func (c *Config) validate(info scheme.Info) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, ch := range []struct{ name, val string }{
		{"replace", c.Replace}, {"steal", c.Steal}, {"initial", c.Initial},
		{"memory", c.Memory}, {"cow", c.Cow}, {"scope", c.Scope}, {"failure", c.Failure}, {"io", c.IO}, {"format", c.Format},
		{"cache-flush", c.CacheFlush}, {"tlb-checkpoint", c.TLBCheckpoint},
	} {
		if !slices.Contains(Choices[ch.name], ch.val) {
			bad("--%s %q: want one of %v", ch.name, ch.val, Choices[ch.name])
		}
	}
	pow2 := func(x uint64) bool { return x != 0 && x&(x-1) == 0 }
	if !pow2(c.PageSize) || c.PageSize < 16 || c.PageSize > maxPageSize {
		bad("--page-size %d: want a power of two from 16 to %d", c.PageSize, maxPageSize)
	}
	if !pow2(c.PTEBytes) || c.PTEBytes > c.PageSize {
		bad("--pte-bytes %d: want a power of two no larger than the page size", c.PTEBytes)
	}
	if c.Frames < 0 || c.Frames > maxFrames {
		bad("--frames %d: want 0 (unlimited) or 1 to %d", c.Frames, maxFrames)
	}
	if c.Scheme == "dualmap" && c.Frames == 1 {
		bad("--frames 1: dualmap needs at least 2 frames (a first write copies a page into a second frame)")
	}
	if info.Level == scheme.LevelMemory && c.Frames != 0 {
		bad("--frames %d: scheme %s sits at the memory controller and does no paging (want --frames 0)", c.Frames, info.Name)
	}
	if c.VBits < 1 || c.VBits > 31 {
		bad("--vbits %d: want 1 to 31", c.VBits)
	}
	if c.Warmup < 0 {
		bad("--warmup %d: want 0 (none) or a number of accesses", c.Warmup)
	}
	if c.Interval < 0 {
		bad("--interval %d: want 0 (never) or a positive number of accesses", c.Interval)
	}
	for _, i := range c.FailAt {
		if i < 1 {
			bad("--fail-at %d: access numbers start at 1", i)
		}
	}
	if math.IsNaN(c.MTBF) || math.IsInf(c.MTBF, 0) {
		bad("--mtbf %v: want a finite mean number of accesses between failures", c.MTBF)
	} else if c.MTBF < 0 {
		bad("--mtbf %v: want a positive mean number of accesses between failures", c.MTBF)
	}
	if c.Verify && (!pow2(c.VerifyBlock) || c.VerifyBlock > c.PageSize || c.PageSize/c.VerifyBlock > maxBlocks) {
		bad("--verify-block %d: want a power of two no larger than the page size, and at most %d blocks a page", c.VerifyBlock, maxBlocks)
	}
	if c.MaxPages < 0 {
		bad("--max-pages %d: want 0 (no limit) or a positive number of pages", c.MaxPages)
	}
	// The granule matters to the block-granular schemes, at the memory controller.
	if !pow2(c.Granule) || c.Granule < 8 || info.Level == scheme.LevelMemory && c.Granule > c.PageSize {
		bad("--granule %d: want a power of two from 8 to the page size (%d)", c.Granule, c.PageSize)
	}
	if c.CacheSize > 0 {
		if err := c.cacheGeometry().Validate(); err != nil {
			errs = append(errs, err)
		} else if c.Verify && c.VerifyBlock > c.CacheLine {
			bad("--verify-block %d: want at most the cache line (%d) when a cache is modeled", c.VerifyBlock, c.CacheLine)
		}
		if info.Level == scheme.LevelMemory && c.CacheFlush == "none" {
			bad("--cache-flush none: scheme %s needs memory consistent at a checkpoint (want invalidate or clean)", info.Name)
		}
	}
	if err := c.tlbGeometry().Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.failures() {
		if err := c.recoverable(info); err != nil {
			bad("%v: drop --fail-at/--mtbf or use a scheme that recovers", err)
		}
	}
	return errors.Join(errs...)
}

// recoverable says whether the scheme survives the configured kind of failure.
func (c *Config) recoverable(info scheme.Info) error {
	if c.Failure == "crash" && c.Memory == "volatile" {
		if !info.RecoversCrash {
			return fmt.Errorf("scheme %s cannot recover from a crash of volatile memory", info.Name)
		}
		return nil
	}
	if !info.RecoversTransient {
		return fmt.Errorf("scheme %s keeps no checkpoints and cannot recover from failures", info.Name)
	}
	return nil
}

func (c *Config) failures() bool { return len(c.FailAt) > 0 || c.MTBF > 0 }

func (c *Config) pageShift() uint { return uint(bits.TrailingZeros64(c.PageSize)) }

func (c *Config) cacheGeometry() cache.Geometry {
	return cache.Geometry{Size: c.CacheSize, Ways: c.CacheWays, Line: c.CacheLine}
}

func (c *Config) tlbGeometry() tlb.Geometry {
	return tlb.Geometry{Entries: c.TLBEntries, Ways: c.TLBWays}
}

// machine returns the machine the scheme is built for.
func (c *Config) machine() scheme.Machine {
	m := scheme.Machine{
		PageSize:      c.PageSize,
		Granule:       c.Granule,
		Frames:        c.Frames,
		Replace:       c.Replace,
		ObsoleteFirst: c.Steal == "obsolete-first",
		ZeroFill:      c.Initial == "zero",
		Volatile:      c.Memory == "volatile",
		PerASID:       c.Scope == "asid",
		PTEBytes:      c.PTEBytes,
		VBits:         c.VBits,
		Remap:         c.Cow == "remap",
		Seed:          c.Seed,
		MaxPages:      c.maxPages(),
	}
	if c.CacheSize > 0 {
		m.CacheLine = c.CacheLine
	}
	if c.Verify {
		m.VerifyBlock = c.VerifyBlock
	}
	return m
}
