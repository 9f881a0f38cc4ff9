// Package record defines what a trace is made of: the Record (an access, a control record
// or an I/O record), its Kind, the address space (ASID) it belongs to and the thread (TID)
// of that address space that made it.
//
// It is a leaf: it imports nothing of vmsim's and nothing that does I/O, so that the
// machine's parts (the cache, the page table, the schemes) can name a record without
// pulling in the trace readers, their decompressors or the valgrind recorder (packages
// traces and vgrecord). Package traces re-exports these names as aliases.
package record
