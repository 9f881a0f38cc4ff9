// Package repl holds the replication schemes: checkpoints kept on a backup machine rather
// than locally, so that the loss of the primary (a crash) is survived by failing over.
//
//   - remus (CPU level): epoch-based replication at page granularity. Write protection
//     (log-dirty mode) finds the pages written in each epoch, one trap per page per
//     epoch; at a checkpoint the program stops while the dirty pages are copied to a
//     staging buffer, resumes, and the buffer is sent to the backup, which applies the
//     epoch when it has all of it.
//   - cacheline (memory level): failover by cache-line logging. The memory controller
//     appends the address of every line written back to memory to a circular log
//     (--log-entries); a full log forces a checkpoint; at a checkpoint, after the cache
//     flush, the logged lines are read from memory and sent to the backup.
//
// Both send through a [Backup], the narrow interface to the backup machine; [MemBackup]
// is the default, an in-memory backup that counts what it receives. The exact semantics
// and every counter are in docs/repl.md.
package repl
