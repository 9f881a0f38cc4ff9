// Package pager does demand paging on one mapping at a time: it finds a frame for a
// mapping (a free one, or one stolen from another mapping), fills it from the mapping's
// disk slot, the page's initial image or zeros, writes dirty frames back, and drops the
// frames and slots of versions that are discarded.
//
// The pager knows which versions are obsolete (from the page table) so that stealing can
// prefer them and never writes them back; what a version is for is otherwise the
// checkpoint scheme's business (package mmu).
package pager
