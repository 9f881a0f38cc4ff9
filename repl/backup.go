package repl

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/scheme"
)

// Unit names one unit of replicated memory: a page (remus) or a cache line (cacheline) of
// an address space, by number (address / unit size). It is scheme.Page, whose order
// (Page.Compare: address space, then number) is the order in which a checkpoint sends.
type Unit = scheme.Page

// Backup is the link to the backup machine and the backup's memory, as a primary uses it:
// scheme.Backup, the backup interface of every scheme that sends pages to one.
type Backup = scheme.Backup

// MemBackup is the default Backup: the backup's memory (a scheme.BackupImage of units),
// counting what it receives. It holds data only when verifying (blocks > 0).
type MemBackup struct {
	unitBytes int64
	img       *scheme.BackupImage // the units sent, committed per domain epoch

	// BytesReceived counts unit bytes received by Send; Commits counts Commit calls.
	BytesReceived, Commits int64
}

// NewMemBackup returns an empty backup for units of unitBytes bytes carrying blocks
// stamps each (0 when not verifying).
func NewMemBackup(unitBytes uint64, blocks int) *MemBackup {
	return &MemBackup{unitBytes: int64(unitBytes), img: scheme.NewBackupImage(blocks)}
}

// Send receives one unit into domain d's pending epoch.
func (b *MemBackup) Send(d scheme.Domain, u Unit, data []uint64) {
	b.BytesReceived += b.unitBytes
	b.img.Stage(d, u, data)
}

// Commit applies domain d's pending epoch.
func (b *MemBackup) Commit(d scheme.Domain) {
	b.Commits++
	b.img.Commit(d)
}

// Fetch copies the committed content of u into dst.
func (b *MemBackup) Fetch(_ scheme.Domain, u Unit, dst []uint64) { b.img.Fetch(u, dst) }

// Units returns the units the backup holds, in order (for tests and Check).
func (b *MemBackup) Units() []Unit {
	out := b.img.Units()
	slices.SortFunc(out, scheme.Page.Compare)
	return out
}

// check verifies the backup's invariants: nothing is pending between checkpoints.
func (b *MemBackup) check() error {
	if err := b.img.Check(); err != nil {
		return fmt.Errorf("repl: backup: %w", err)
	}
	return nil
}
