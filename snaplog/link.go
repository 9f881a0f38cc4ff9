package snaplog

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// Page names a page of an address space (scheme.Page).
type Page = scheme.Page

// Entry is one record of the input log: an input of Size bytes on Channel, made by address
// space ASID just after access N of the trace. Bytes is what the entry takes in the log and
// on the link: the header (--log-header) plus Size.
type Entry struct {
	ASID    record.ASID
	Channel uint64
	Size    uint32
	N       int64
	Bytes   int64
}

// Link is the link to the backup machine and the backup's store, as the primary uses it.
//
// The log is shipped entry by entry as inputs are made (Ship). A snapshot of domain d sends
// every page written since d's last snapshot (Send), then Commit: the backup applies the
// pages and drops the entries of d's log shipped before the Commit, which the snapshot
// covers. A recovery reads pages back (Fetch) and the log since the snapshot (Replay).
type Link interface {
	// Send, Commit and Fetch are the backup's (scheme.Backup): Send transfers page p of
	// domain d's incremental snapshot (data nil when not verifying; the backup must not
	// keep it); Commit ends domain d's snapshot: the backup applies every page of d sent
	// since the last Commit of d and truncates d's log; Fetch copies into dst the backup's
	// committed copy of p, or zeros (the initial content) when it never received p, and is
	// only called when verifying.
	scheme.Backup
	// Ship appends one entry to domain d's log on the backup.
	Ship(d scheme.Domain, e Entry)
	// Replay returns the number of entries and the bytes of domain d's log since its last
	// Commit with N < before. A recovery replays every entry shipped before the failure,
	// and asks with before one past the last access performed: an input after the failing
	// access and before a fail record was made, and shipped, before the failure.
	Replay(d scheme.Domain, before int64) (entries, bytes int64)
}

// MemBackup is the default Link: the backup's memory as a scheme.BackupImage of pages
// (kept only when verifying) and, per domain, its log since the last snapshot. The trace
// gives the sizes of inputs, not their data, so the log is kept as its totals plus those
// of its last entries (the ones with the highest access number), which is all a Replay
// needs: memory grows with the pages sent, never with the trace.
//
// Invariant: for every log, 0 <= tailEntries <= entries and 0 <= tailBytes <= bytes.
type MemBackup struct {
	pageBytes int64
	img       *scheme.BackupImage // the pages sent, committed per snapshot
	logs      map[scheme.Domain]*memLog

	// BytesReceived counts the page bytes Send received; LogBytesReceived the entry bytes
	// Ship received; Commits the Commit calls.
	BytesReceived, LogBytesReceived, Commits int64
}

// memLog is a domain's log since its last snapshot: entries and bytes in all, and of the
// entries with the highest access number (tailN).
type memLog struct {
	entries, bytes         int64
	tailN                  int64
	tailEntries, tailBytes int64
}

// NewMemBackup returns an empty backup for pages of pageBytes bytes carrying blocks stamps
// each (0 when not verifying).
func NewMemBackup(pageBytes uint64, blocks int) *MemBackup {
	return &MemBackup{pageBytes: int64(pageBytes), img: scheme.NewBackupImage(blocks), logs: map[scheme.Domain]*memLog{}}
}

// Send receives one page into domain d's pending snapshot.
func (b *MemBackup) Send(d scheme.Domain, p Page, data []uint64) {
	b.BytesReceived += b.pageBytes
	b.img.Stage(d, p, data)
}

// Commit applies domain d's pending snapshot and truncates its log.
func (b *MemBackup) Commit(d scheme.Domain) {
	b.Commits++
	b.img.Commit(d)
	if l := b.logs[d]; l != nil {
		*l = memLog{}
	}
}

// Ship appends e to domain d's log. Precondition: entries arrive in trace order (N does not
// decrease).
func (b *MemBackup) Ship(d scheme.Domain, e Entry) {
	b.LogBytesReceived += e.Bytes
	l := b.logs[d]
	if l == nil {
		l = &memLog{}
		b.logs[d] = l
	}
	if e.N != l.tailN || l.tailEntries == 0 {
		l.tailN, l.tailEntries, l.tailBytes = e.N, 0, 0
	}
	l.entries++
	l.bytes += e.Bytes
	l.tailEntries++
	l.tailBytes += e.Bytes
}

// Fetch copies the committed copy of p into dst.
func (b *MemBackup) Fetch(_ scheme.Domain, p Page, dst []uint64) { b.img.Fetch(p, dst) }

// Replay returns the entries and bytes of d's log with N < before.
func (b *MemBackup) Replay(d scheme.Domain, before int64) (entries, bytes int64) {
	l := b.logs[d]
	if l == nil {
		return 0, 0
	}
	if l.tailEntries > 0 && l.tailN >= before {
		return l.entries - l.tailEntries, l.bytes - l.tailBytes
	}
	return l.entries, l.bytes
}

// Log returns the entries and bytes of domain d's log since its last snapshot.
func (b *MemBackup) Log(d scheme.Domain) (entries, bytes int64) {
	if l := b.logs[d]; l != nil {
		return l.entries, l.bytes
	}
	return 0, 0
}

// Pages returns the pages the backup holds a committed copy of, in order (when verifying).
func (b *MemBackup) Pages() []Page {
	out := b.img.Units()
	slices.SortFunc(out, Page.Compare)
	return out
}

// check verifies the backup's invariants: nothing pending between snapshots, pages of the
// right size, logs whose tails fit in them.
func (b *MemBackup) check() error {
	if err := b.img.Check(); err != nil {
		return fmt.Errorf("snaplog: backup: %w", err)
	}
	for d, l := range b.logs {
		if l.tailEntries < 0 || l.tailEntries > l.entries || l.tailBytes < 0 || l.tailBytes > l.bytes {
			return fmt.Errorf("snaplog: backup log of domain %d: %+v", d, *l)
		}
	}
	return nil
}
