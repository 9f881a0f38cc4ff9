// Package tlb is vmsim's model of a translation lookaside buffer: set-associative, LRU,
// entries tagged by address space and page, and optionally by the checkpoint number of the
// domain when the entry was filled. It answers what a checkpoint does to address
// translation: a scheme that write-protects pages at a checkpoint (or, like dualmap, tests
// v == V in the translation) must either flush the TLB at every checkpoint or tag entries
// with the checkpoint number, so that the first write through an entry filled before the
// checkpoint walks the page table again.
package tlb
