// Package incremental holds scheme incremental: process checkpoints to storage at page
// granularity. Write protection finds the pages written since the last checkpoint (one trap
// per page per interval); a checkpoint writes them to storage as an incremental checkpoint;
// incremental checkpoints form a chain on top of a full checkpoint and are merged into a new
// full checkpoint every --merge-every incrementals or when the chain reaches
// --merge-chain-bytes. A mirror variant (--mirror-cache) puts a destination server's cache in
// front of the storage's disk, flushed when full or every --mirror-flush-every accesses.
//
// The scheme writes through [Storage], the narrow interface to the storage device; [Store]
// is the default, which keeps the newest copy of each stored page and models the mirror.
// The exact semantics and every counter are in docs/incremental.md.
package incremental
