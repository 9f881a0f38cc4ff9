// Package snaplog holds scheme snaplog: fault tolerance by periodic incremental snapshots
// plus a log of the program's non-deterministic events (its inputs), both kept on a backup
// machine.
//
// Write protection finds the pages written since a domain's last snapshot (one trap per page
// per interval); at a checkpoint those pages are sent to the backup as an incremental
// snapshot and committed there. Every input record of the trace (scheme.IOAware) is logged
// — a fixed header (--log-header bytes) plus its data — and shipped to the backup at once.
// A commit truncates the domain's log: only the inputs since the last snapshot are kept. A
// recovery restores memory from the backup's snapshot and replays the log: the driver
// re-executes the accesses since the snapshot, and the inputs among them come from the log.
//
// The scheme talks to the backup through [Link], the narrow interface of the link and the
// backup's memory; [MemBackup] is the default. The exact semantics and every counter are in
// docs/snaplog.md.
package snaplog
