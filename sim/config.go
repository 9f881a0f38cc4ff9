package sim

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/mmu"
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
	FailAt      []int64 `json:"fail_at"`
	MTBF        float64 `json:"mtbf"`
	Failure     string  `json:"failure"`
	Seed        uint64  `json:"seed"`
	IgnoreSize  bool    `json:"ignore_size"`
	Lenient     bool    `json:"lenient"`
	Verify      bool    `json:"verify"`
	VerifyBlock uint64  `json:"verify_block"`
	// MaxPages bounds the distinct pages a run may touch (0: no bound), so that a trace
	// too large for the machine gets a message rather than an out-of-memory kill.
	MaxPages int `json:"max_pages"`
}

// DefaultConfig returns the defaults of DESIGN.md.
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
		VerifyBlock: 64,
		FailAt:      []int64{},
		MaxPages:    DefaultMaxPages,
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

// Choices lists the values each enumerated option accepts.
var Choices = map[string][]string{
	"scheme":  mmu.Schemes,
	"replace": frames.Policies,
	"steal":   {"obsolete-first", "policy"},
	"initial": {"image", "zero"},
	"memory":  {"nonvolatile", "volatile"},
	"cow":     {"copy", "remap"},
	"scope":   {"system", "asid"},
	"failure": {"transient", "crash"},
	"format":  {"auto", "rw", "lackey", "din", "xdin", "vmt"},
}

// Validate checks the configuration and returns every problem found.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, ch := range []struct{ name, val string }{
		{"scheme", c.Scheme}, {"replace", c.Replace}, {"steal", c.Steal}, {"initial", c.Initial},
		{"memory", c.Memory}, {"cow", c.Cow}, {"scope", c.Scope}, {"failure", c.Failure}, {"format", c.Format},
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
	if c.VBits < 1 || c.VBits > 31 {
		bad("--vbits %d: want 1 to 31", c.VBits)
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
	if c.Scheme == "none" && c.failures() {
		bad("scheme none keeps no checkpoints and cannot recover from failures: drop --fail-at/--mtbf or use --scheme dualmap")
	}
	return errors.Join(errs...)
}

func (c *Config) failures() bool { return len(c.FailAt) > 0 || c.MTBF > 0 }

func (c *Config) pageShift() uint { return uint(bits.TrailingZeros64(c.PageSize)) }

func (c *Config) mmuConfig() mmu.Config {
	mc := mmu.Config{
		Scheme:        c.Scheme,
		Frames:        c.Frames,
		Replace:       c.Replace,
		Seed:          c.Seed,
		ObsoleteFirst: c.Steal == "obsolete-first",
		ZeroFill:      c.Initial == "zero",
		VBits:         c.VBits,
		PerASID:       c.Scope == "asid",
		Volatile:      c.Memory == "volatile",
		Remap:         c.Cow == "remap",
		PTEsPerPTPage: c.PageSize / c.PTEBytes,
	}
	if c.Verify {
		mc.Blocks = int(c.PageSize / c.VerifyBlock)
	}
	return mc
}
