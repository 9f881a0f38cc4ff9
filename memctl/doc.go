// Package memctl is the memory controller that checkpoints: six strategies a controller
// can be set to (shadow, shadow-remote, bitmap, bitmap2, blockstate, undo), each a
// memory-level scheme of the substrate (package scheme), registered under its name. The
// controller sees what reaches memory — the cache's fills and write-backs, or every access
// without a cache — and tracks memory in granules of Machine.Granule bytes. A checkpoint
// has already flushed the cache (the driver does it), so memory holds the state at the
// checkpoint. docs/memctl.md gives each strategy's exact semantics, counters, parameters
// and the failures it survives.
//
// # Layout
//
// The Controller (core.go) is what every strategy shares: a scheme.PageIndex (its budget
// Machine.MaxPages) from (address space, page) to a page holding the bitmaps of its granules touched and, for the
// strategies that mark them, written since the checkpoint (the marks), and, when verifying,
// the stamps of memory; per domain its pages and its pages with marks; the common counters.
// It performs the accesses (the only loop over an access's granules), drives checkpoints,
// rollbacks and crashes, and checks its invariants. Each strategy is a type in its own file
// (shadow.go, shadowremote.go, bitmap.go, bitmap2.go, blockstate.go, undo.go) implementing
// the unexported interface strategy (strategy.go): its own state, in slices indexed by page
// or domain number (a second image of memory, bitmap2's waiting bitmaps and copier,
// blockstate's state bits, undo's logs), what it does at a checkpoint and a rollback, its
// counters and the check of its own invariants. Two optional interfaces give the hot path
// what differs in it: a marker's firstWrite at the first write to a granule since the
// checkpoint, and a clock's advance before each access (bitmap2's copier); the controller
// finds them once, at New, and tests them against nil per access. bitmap2 embeds bitmap:
// it is bitmap (marks, shadow, rollback) plus a background copier. Data that keeps a
// checkpoint moves through a dataPath (data.go), which tests replace with one that loses
// data (export_test.go). bits.go has the bitmap helpers, link.go shadow-remote's Link and
// Backup, register.go the registry entries.
//
// Nothing grows with the trace's length: all state grows with the pages touched, and an
// undo log holds one entry per granule first written since the checkpoint.
//
// # Adding a strategy
//
// Add a constant before numStrategies and its name in strategyNames, a file with a type
// implementing strategy (and marker, clock or crashRecoverer as it needs), its constructor
// in newStrategy, and its registry entry (Doc, counters, parameters, RecoversCrash) in
// register.go; document it in docs/memctl.md. Its own per-page state is a slice indexed by
// page.id grown in addPage, its per-domain state one indexed by domain.id grown in
// addDomain; every invariant is written on its field and verified by its check. The tests
// that run every strategy (Strategies) then cover it: the reference model in ref_test.go
// needs its volumes.
package memctl
