package mmu

import (
	"errors"
	"fmt"
	"github.com/vmsim/vmsim/internal/choice"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/scheme"
)

// Steal says which frame a page fault steals when every frame is in use (--steal).
type Steal string

// The stealing modes.
const (
	// StealObsoleteFirst prefers frames holding obsolete versions.
	StealObsoleteFirst Steal = "obsolete-first"
	// StealPolicy follows the replacement policy strictly.
	StealPolicy Steal = "policy"
)

// Steals lists the stealing modes.
var Steals = []Steal{StealObsoleteFirst, StealPolicy}

// ParseSteal returns the stealing mode s names, or an error naming --steal and its choices.
func ParseSteal(s string) (Steal, error) { return choice.Parse("steal", s, Steals) }

// Initial is a page's content at its first touch (--initial).
type Initial string

// The initial contents.
const (
	// InitialImage: an image on disk, loading it is one disk read.
	InitialImage Initial = "image"
	// InitialZero: zeros, loading it costs no I/O.
	InitialZero Initial = "zero"
)

// Initials lists the initial contents.
var Initials = []Initial{InitialImage, InitialZero}

// ParseInitial returns the initial content s names, or an error naming --initial and its
// choices.
func ParseInitial(s string) (Initial, error) { return choice.Parse("initial", s, Initials) }

// Cow is what dualmap does at a page's first write since a checkpoint (--cow).
type Cow string

// The first-write modes.
const (
	// CowCopy copies the page into a second frame.
	CowCopy Cow = "copy"
	// CowRemap moves a clean resident frame to the other mapping and keeps the checkpoint
	// version on disk.
	CowRemap Cow = "remap"
)

// Cows lists the first-write modes.
var Cows = []Cow{CowCopy, CowRemap}

// ParseCow returns the first-write mode s names, or an error naming --cow and its choices.
func ParseCow(s string) (Cow, error) { return choice.Parse("cow", s, Cows) }

// Paging is the settings of the paging schemes none and dualmap: their Params, which the
// driver fills from its flags of the same names (--frames, --replace, --steal, --initial,
// and for dualmap --pte-bytes, --vbits and --cow).
type Paging struct {
	Frames   int // real frames, 0 for unlimited
	Replace  frames.PolicyName
	Steal    Steal
	Initial  Initial
	PTEBytes uint64 // bytes per page-table entry (dualmap; none: DefaultPTEBytes)
	VBits    int    // width of dualmap's checkpoint numbers (none: DefaultVBits)
	Cow      Cow    // dualmap's first write (none: CowCopy)
}

// The defaults of the paging settings (those of the command line).
const (
	DefaultPTEBytes = 16
	DefaultVBits    = 8
	// MaxFrames bounds --frames, so that a typo gets a message rather than an
	// out-of-memory crash.
	MaxFrames = 1 << 26
)

// DefaultPaging returns the default paging settings.
func DefaultPaging() Paging {
	return Paging{Replace: frames.PolicyClock, Steal: StealObsoleteFirst, Initial: InitialImage,
		PTEBytes: DefaultPTEBytes, VBits: DefaultVBits, Cow: CowCopy}
}

// pagingParams returns the Params of scheme kind.
func pagingParams(kind Kind) []scheme.Param {
	d := DefaultPaging()
	ps := []scheme.Param{
		{Name: "frames", Default: strconv.Itoa(d.Frames), Doc: "real frames; 0 for unlimited"},
		{Name: "replace", Default: string(d.Replace), Doc: "replacement policy with finite frames (opt reads the trace twice)",
			Choices: names(frames.Policies)},
		{Name: "steal", Default: string(d.Steal), Doc: "when stealing a frame, prefer frames holding obsolete versions, or follow the policy strictly",
			Choices: names(Steals)},
		{Name: "initial", Default: string(d.Initial), Doc: "a page's first touch reads its initial image from disk (one disk read) or zero-fills it (no I/O)",
			Choices: names(Initials)},
	}
	if kind == KindDualMap {
		ps = append(ps,
			scheme.Param{Name: "pte-bytes", Default: strconv.Itoa(DefaultPTEBytes),
				Doc: "bytes per PTE; a page-table page holds page-size/pte-bytes PTEs; the checkpoints of volatile memory write page-table pages (--memory volatile only)"},
			scheme.Param{Name: "vbits", Default: strconv.Itoa(d.VBits), Doc: "bits k of the checkpoint numbers V and v (1..31); V cycles through 1..2^k-1"},
			scheme.Param{Name: "cow", Default: string(d.Cow), Doc: "a first write copies the page, or remaps a clean resident frame and keeps the checkpoint version on disk",
				Choices: names(Cows)})
	}
	return ps
}

func names[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}

// parsePaging reads the paging settings of scheme kind from p, on machine m, and checks
// them: it returns every problem found, one line, each naming its flag. A setting absent
// from p keeps its default (none has no --pte-bytes, --vbits or --cow).
func parsePaging(kind Kind, m scheme.Machine, p scheme.Params) (Paging, error) {
	g := DefaultPaging()
	var errs []error
	bad := func(err error) { errs = append(errs, err) }
	number := func(flag string, dst *int) bool {
		s, ok := p[flag]
		if !ok {
			return false
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			bad(fmt.Errorf("--%s %q: want a whole number", flag, s))
			return false
		}
		*dst = n
		return true
	}
	if number("frames", &g.Frames) {
		switch {
		case g.Frames < 0 || g.Frames > MaxFrames:
			bad(fmt.Errorf("--frames %d: want 0 (unlimited) or 1 to %d", g.Frames, MaxFrames))
		case kind == KindDualMap && g.Frames == 1:
			bad(fmt.Errorf("--frames 1: %s needs at least 2 frames (a first write copies a page into a second frame)", kind))
		}
	}
	if s, ok := p["replace"]; ok {
		r, err := frames.ParsePolicyName(s)
		if err != nil {
			bad(fmt.Errorf("--replace %w", err))
		}
		g.Replace = r
	}
	choice := func(flag string, parse func(string) error) {
		if s, ok := p[flag]; ok {
			if err := parse(s); err != nil {
				bad(err)
			}
		}
	}
	choice("steal", func(s string) (err error) { g.Steal, err = ParseSteal(s); return })
	choice("initial", func(s string) (err error) { g.Initial, err = ParseInitial(s); return })
	choice("cow", func(s string) (err error) { g.Cow, err = ParseCow(s); return })
	if number("vbits", &g.VBits) && (g.VBits < 1 || g.VBits > 31) {
		bad(fmt.Errorf("--vbits %d: want 1 to 31", g.VBits))
	}
	if s, ok := p["pte-bytes"]; ok {
		n, err := strconv.ParseUint(s, 10, 64)
		switch {
		case err != nil || n == 0 || n&(n-1) != 0 || n > m.PageSize:
			bad(fmt.Errorf("--pte-bytes %s: want a power of two no larger than the page size", s))
		case n != DefaultPTEBytes && !m.Volatile:
			bad(fmt.Errorf("--pte-bytes %d: scheme %s writes page-table pages only at the checkpoints of volatile memory, and --pte-bytes applies only with --memory volatile (leave it at its default, %d)",
				n, kind, DefaultPTEBytes))
		}
		g.PTEBytes = n
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return g, errors.New(strings.Join(msgs, "; "))
	}
	return g, nil
}

// config returns the page-level configuration of scheme kind on machine m.
func (g Paging) config(kind Kind, m scheme.Machine) Config {
	return Config{
		Scheme:        kind,
		Frames:        g.Frames,
		Replace:       g.Replace,
		Seed:          m.Seed,
		ObsoleteFirst: g.Steal == StealObsoleteFirst,
		ZeroFill:      g.Initial == InitialZero,
		VBits:         g.VBits,
		PerASID:       m.PerASID,
		Volatile:      m.Volatile,
		Remap:         g.Cow == CowRemap,
		PTEsPerPTPage: m.PageSize / g.PTEBytes,
	}
}

// needsNextUse says whether the settings replace by opt, which needs the next-use times.
func (g Paging) needsNextUse() bool { return g.Replace == frames.PolicyOPT && g.Frames > 0 }
