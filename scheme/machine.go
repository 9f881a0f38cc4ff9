package scheme

import "fmt"

// Machine is the emulated machine a scheme is built for: the settings common to every
// scheme. A scheme ignores what does not concern it.
type Machine struct {
	PageSize uint64 // bytes, a power of two
	// Granule is the block size (bytes, a power of two from 8 to PageSize) at which
	// block-granular schemes track memory (--granule).
	Granule uint64
	// CacheLine is the cache's line size in bytes, 0 when there is no cache: a
	// memory-level scheme then sees program accesses directly.
	CacheLine uint64
	// Frames is the number of real frames, 0 for unlimited (paging schemes).
	Frames int
	// Replace is the replacement policy with finite frames: clock, lru, fifo, opt, random.
	Replace string
	// ObsoleteFirst: stealing prefers frames holding obsolete versions (--steal).
	ObsoleteFirst bool
	// ZeroFill: a page's first touch zero-fills it instead of reading its image (--initial).
	ZeroFill bool
	// Volatile: memory is lost in a crash (--memory volatile).
	Volatile bool
	// PerASID: one checkpoint domain per address space (--scope asid).
	PerASID bool
	// PTEBytes is the size of one page-table entry (--pte-bytes).
	PTEBytes uint64
	// VBits is the width k of the checkpoint numbers V and v (dualmap, --vbits).
	VBits int
	// Remap: a first write moves a clean resident frame instead of copying it (dualmap,
	// --cow remap).
	Remap bool
	// Seed seeds every random choice a scheme makes.
	Seed uint64
	// VerifyBlock is the block size of the stamps Load and Store deal in, 0 when not
	// verifying.
	VerifyBlock uint64
	// MaxPages bounds the distinct pages a scheme may create state for (0: no bound).
	// Once an access needs more, the scheme creates state for no further page and Err
	// returns a *TooManyPagesError (which is ErrTooManyPages) naming the budget and the
	// access. PageSet enforces it for the schemes that count their pages with one; the
	// driver refuses an access that alone covers more pages than the budget before any
	// scheme sees it.
	MaxPages int
	// RequestCheckpoint asks the driver for a checkpoint of domain d as soon as the
	// current access (or the current checkpoint) is done, as a scheme does when a log it
	// keeps is full. The driver takes it like a scheduled one (it counts in checkpoints and
	// restarts the domain's interval); the scheme counts its own requests. Never nil.
	RequestCheckpoint func(d Domain)
	// NextUse, with --replace opt, returns the time of the next reference of the page that
	// a paging scheme is about to reference, one call per page reference in trace order;
	// -1 means unknown (during a replay). nil otherwise.
	NextUse func() int64
}

// TooManyPagesError is the error of a run that needs state for more distinct pages than
// Machine.MaxPages (--max-pages): every scheme's Err, and the driver for an access too
// large on its own, reports the budget with it, in the same words. It is ErrTooManyPages
// (errors.Is).
type TooManyPagesError struct {
	Max    int   // the budget, Machine.MaxPages
	Access int64 // the number of the access that needed more (Access.N)
	// Pages is the number of pages the access covers when they alone are more than Max
	// (refused before any of them was touched), 0 otherwise.
	Pages uint64
}

func (e *TooManyPagesError) Error() string {
	what := fmt.Sprintf("access %d takes the run past %d distinct pages", e.Access, e.Max)
	if e.Pages > 0 {
		what = fmt.Sprintf("access %d covers %d pages, more than %d", e.Access, e.Pages, e.Max)
	}
	return fmt.Sprintf("%v: %s, the limit (--max-pages %d); raise --max-pages if the machine has the memory, or use a larger --page-size",
		ErrTooManyPages, what, e.Max)
}

// Is makes a TooManyPagesError ErrTooManyPages.
func (e *TooManyPagesError) Is(target error) bool { return target == ErrTooManyPages }

// SpanExceeds reports whether pages first..last are more than max (0: no bound): an
// access over them needs more pages than the budget on its own. Precondition: first <=
// last.
func SpanExceeds(max int, first, last uint64) bool {
	return max > 0 && last-first >= uint64(max)
}
