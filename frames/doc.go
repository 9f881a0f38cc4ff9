// Package frames emulates real memory: page frames with their owner record, change bit
// (c) and contents (stamps, when verification is on), the free-frame pool, and the
// replacement policies that choose a frame to steal (clock, lru, fifo, opt, random).
//
// The frame table knows nothing of versions or page tables: a frame's owner is an opaque
// [Owner] that the page table encodes. The pager decides what to do with a victim.
package frames
