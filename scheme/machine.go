package scheme

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
	// MaxPages bounds the distinct pages a scheme may create state for (0: no bound);
	// beyond it Err reports ErrTooManyPages.
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
