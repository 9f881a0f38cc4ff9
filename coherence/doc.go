// Package coherence is vmsim's multi-core cache model: one private write-back cache per
// core (package cache's model, each of the same geometry) kept coherent by a directory
// with MSI states at line granularity (docs/coherence.md).
//
// A line held by a core is Modified (M) when it is dirty in that core's cache, and then
// no other cache holds it, or Shared (S) when it is clean there; a line no cache holds is
// Invalid everywhere. The directory records, for each line some cache holds, the cores
// that hold it and whether the one holder has it in M. The protocol, for an access of
// core c to line l:
//
//   - a read hit or a write hit on an M line: the cache alone (LRU);
//   - a write hit on an S line (an upgrade): every other core's copy is invalidated;
//   - a miss: the cache replaces its victim (written back to memory if dirty) and then
//     gets l: from the core that holds it in M (a transfer), which on a read downgrades
//     its copy to S, writing it back to memory, and on a write invalidates it; else from
//     memory, a write first invalidating every other core's S copy.
//
// What reaches memory (fills from memory and write-backs to memory, each with the core
// that makes it) goes to a Memory, so that a memory-level scheme can sit behind the
// caches as it sits behind the one cache of sim's hierarchy; an Observer, when the Memory
// is one, also hears of every coherence action between cores. With one core, every count
// and every fill and write-back are those of a single cache.Cache.
package coherence
