package scheme

import "fmt"

// Machine is the emulated machine a scheme is built for: the settings common to every
// scheme. A scheme ignores what does not concern it. The settings that only some schemes
// model (paging: --frames, --replace, --steal, --initial, --pte-bytes, --vbits, --cow) are
// not here: a scheme that models them declares them as its Params (Info.Params), and the
// driver passes the flags of those names on to it.
type Machine struct {
	PageSize uint64 // bytes, a power of two
	// Granule is the block size (bytes, a power of two from 8 to PageSize) at which
	// block-granular schemes track memory (--granule).
	Granule uint64
	// CacheLine is the cache's line size in bytes, 0 when there is no cache: a
	// memory-level scheme then sees program accesses directly.
	CacheLine uint64
	// Volatile: memory is lost in a crash (--memory volatile).
	Volatile bool
	// PerASID: one checkpoint domain per address space (--scope asid).
	PerASID bool
	// Seed seeds every random choice a scheme makes.
	Seed uint64
	// VerifyBlock is the block size of the stamps Image deals in (PageSize/VerifyBlock
	// stamps a page), 0 when not verifying.
	VerifyBlock uint64
	// MaxPages bounds the distinct pages a scheme may create state for (0: no bound).
	// Once an access needs more, the scheme creates state for no further page and Err
	// returns a *TooManyPagesError (which is ErrTooManyPages) naming the budget and the
	// access. PageIndex enforces it (SetMax) for the schemes that number their pages
	// with one, and PageSet for those that count them with one; the driver refuses an access that alone covers more pages than the budget before any
	// scheme sees it.
	MaxPages int
	// RequestCheckpoint asks the driver for a checkpoint of domain d as soon as the
	// current access (or the current checkpoint) is done, as a scheme does when a log it
	// keeps is full. The driver takes it like a scheduled one (it counts in checkpoints and
	// restarts the domain's interval); the scheme counts its own requests. Never nil.
	RequestCheckpoint func(d Domain)
	// Oracle is what the driver knows of the run ahead, which a scheme may ask for while
	// it is built (in Info.New); nil when the scheme is built without a driver.
	Oracle Oracle
}

// Oracle is a service of the driver that knows the trace ahead of the run.
type Oracle interface {
	// NextUse reads the whole trace once more, ahead of the run, and returns a function
	// that gives the time of the next reference of the page a scheme is about to
	// reference, one call per page reference in trace order (every page of every access,
	// in address order); -1 means unknown (during a replay). The next-use times of opt
	// replacement (mmu's --replace opt). Its error is the driver's: a trace that cannot be
	// read again, or one that touches more pages than Machine.MaxPages (ErrTooManyPages);
	// a scheme returns it from Info.New as it is (wrapped with %w).
	NextUse() (func() int64, error)
}

// TooManyPagesError is the error of a run that needs state for more distinct pages than
// Machine.MaxPages (--max-pages): every scheme's Err, and the driver for an access too
// large on its own, reports the budget with it, in the same words. It is ErrTooManyPages
// (errors.Is).
type TooManyPagesError struct {
	Max    int   // the budget, Machine.MaxPages
	Access int64 // the number of the access that needed more (Run.N+i+1)
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
