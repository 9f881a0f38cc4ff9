package repl

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// Unit names one unit of replicated memory: a page (remus) or a cache line (cacheline) of
// an address space, by number (address / unit size).
type Unit struct {
	ASID record.ASID
	N    uint64
}

// less orders units by address space, then number: the order in which a checkpoint sends.
func (u Unit) less(v Unit) bool { return u.ASID < v.ASID || u.ASID == v.ASID && u.N < v.N }

func compareUnits(a, b Unit) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// Backup is the link to the backup machine and the backup's memory, as a primary uses it.
//
// A checkpoint of domain d sends every unit of the epoch (Send), then Commit: the backup
// holds the last committed epoch of each domain, never part of one. Fetch reads the
// backup's committed copy of a unit, for recovery.
type Backup interface {
	// Send transfers unit u of domain d's epoch. data is its content, one stamp per
	// verification block, or nil when not verifying. The backup must not keep data.
	Send(d scheme.Domain, u Unit, data []uint64)
	// Commit ends domain d's epoch: the backup applies every unit sent since the last
	// Commit of d, in order, and acknowledges.
	Commit(d scheme.Domain)
	// Fetch copies into dst the backup's committed content of u: what it received last
	// for u, or zeros (the initial content) when it never received u. dst has one stamp
	// per verification block; Fetch is not called when not verifying.
	Fetch(u Unit, dst []uint64)
}

// MemBackup is the default Backup: the backup's memory as a map of units, counting what
// it receives. It holds data only when verifying (blocks > 0).
type MemBackup struct {
	unitBytes int64
	img       *scheme.StagedImage[Unit] // the units sent, committed per domain epoch

	// BytesReceived counts unit bytes received by Send; Commits counts Commit calls.
	BytesReceived, Commits int64
}

// NewMemBackup returns an empty backup for units of unitBytes bytes carrying blocks
// stamps each (0 when not verifying).
func NewMemBackup(unitBytes uint64, blocks int) *MemBackup {
	return &MemBackup{unitBytes: int64(unitBytes), img: scheme.NewStagedImage[Unit](blocks)}
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
func (b *MemBackup) Fetch(u Unit, dst []uint64) { b.img.Fetch(u, dst) }

// Units returns the units the backup holds, in order (for tests and Check).
func (b *MemBackup) Units() []Unit {
	out := b.img.Units()
	slices.SortFunc(out, compareUnits)
	return out
}

// check verifies the backup's invariants: nothing is pending between checkpoints.
func (b *MemBackup) check() error {
	if err := b.img.Check(); err != nil {
		return fmt.Errorf("repl: backup: %w", err)
	}
	return nil
}
