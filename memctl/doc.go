// Package memctl is the memory controller that checkpoints: six strategies a controller
// can be set to (shadow, shadow-remote, bitmap, bitmap2, blockstate, undo), each a
// memory-level scheme of the substrate (package scheme), registered under its name. The
// controller sees what reaches memory — the cache's fills and write-backs, or every access
// without a cache — and tracks memory in granules of Machine.Granule bytes. A checkpoint
// has already flushed the cache (the driver does it), so memory holds the state at the
// checkpoint. docs/memctl.md gives each strategy's exact semantics, counters, parameters
// and the failures it survives.
//
// State is kept in flat arrays per page of granules: a map from (address space, page) to a
// page holding the page's bitmaps and, when verifying, the stamps of its memory and of its
// second image (shadow, or the second physical copy). An undo log holds one entry per
// granule first written since the checkpoint. Nothing grows with the trace's length.
package memctl
