// Package pagetable holds the emulated page table: one PTE per (address space, virtual
// page), each with two mappings m[0] and m[1] (a frame and a disk slot each), the switch
// bit l naming the current one, and the k-bit checkpoint number v; and the checkpoint
// domains, each with its global checkpoint number V and its modified list.
//
// The page table is state and its invariants; the protocols that change it live in mmu
// (checkpoint schemes) and pager (demand paging). [Table.Check] verifies every invariant
// from scratch, together with the frame table and the disk.
package pagetable
