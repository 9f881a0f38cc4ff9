// Package mmu is the emulated memory-management unit: address translation and the
// checkpoint schemes behind one interface, [Scheme].
//
//   - [None]: plain demand paging, one mapping per page, no checkpoint support; the
//     baseline for every overhead figure.
//   - [DualMap]: virtual checkpoints. Each page has two mappings, a switch bit l naming
//     the current one, and a k-bit copy v of its domain's checkpoint number V. A
//     checkpoint increments V; a page's first write after it (a protection event) keeps
//     the current version as the checkpoint version and builds the new current version
//     in the other mapping; a rollback discards the versions written since.
//
// A scheme works on pages. Splitting accesses into pages, scheduling checkpoints and
// failures, and verification are the driver's (package sim). The adapters that run None
// and DualMap as scheme.Scheme split accesses into pages in their access loops
// (access_gen.go), one copy a scheme and variant generated from one template
// (access.go.tmpl) by `go generate ./mmu`, so that no page pays a branch on which scheme
// it is or an interface call.
package mmu
