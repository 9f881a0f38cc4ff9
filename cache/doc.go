// Package cache is vmsim's model of one level of write-back cache between the program and
// memory: unified, set-associative, LRU, write-allocate, write-back, with lines tagged by
// address space. It is the cache that the schemes at the memory or cache controller sit
// behind: they see the lines it fills and writes back, and a checkpoint that needs memory
// consistent flushes it first (Flush, like x86 WBINVD or WBNOINVD).
//
// With no checkpoints its counts are those of Dinero IV with the same geometry (-l1-usize,
// -l1-ubsize, -l1-uassoc, -l1-urepl l, -l1-uwalloc a, -l1-uwback a); a reference that spans
// lines is one reference to each line it covers, as Dinero IV splits it.
//
// Package coherence keeps several such caches coherent: their memory is a Snooper, which
// also hears of every replacement and of every write to a clean line, and it cleans or
// drops single lines with Demote.
//
// When verification is on, each line carries the stamps of its blocks, so that the data a
// program reads can come from the cache and what reaches memory is exactly what was written
// back.
package cache
