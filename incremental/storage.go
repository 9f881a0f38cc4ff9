package incremental

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/scheme"
)

// Page names a page of an address space (scheme.Page).
type Page = scheme.Page

// Storage is the storage device (or the destination server) checkpoints are written to: a
// scheme.Backup whose epochs are incremental checkpoints, plus merges and the mirror's
// clock.
//
// A checkpoint of domain d writes every page of its incremental checkpoint (Send), then
// Commit makes it durable as the newest link of d's chain; until Commit the previous
// checkpoint is what a restore reads. Merge folds d's full checkpoint and chain into a new
// full checkpoint (same content). Fetch returns a page as a restore of d's last committed
// checkpoint gets it.
type Storage interface {
	// Send stores page p of domain d's incremental checkpoint (data nil when not
	// verifying; Storage must not keep it); Commit makes domain d's incremental checkpoint
	// durable; Fetch copies into dst the newest committed copy of p in domain d's
	// checkpoints, or zeros (the initial content) if none holds p, and is only called when
	// verifying.
	scheme.Backup
	// Merge merges domain d's full checkpoint and chain into a new full checkpoint.
	Merge(d scheme.Domain)
	// Tick tells the device that access n of the trace happened (the mirror's clock).
	Tick(n int64)
}

// MirrorCounts are what the mirror's cache did.
type MirrorCounts struct {
	Flushes       int64 // flushes that wrote at least one page to disk
	AbsorbedBytes int64 // page copies overwritten in the cache before reaching the disk
	DiskBytes     int64 // bytes written from the cache to the disk
	PeakBytes     int64 // the most bytes the cache held at once
}

// Store is the default Storage: it keeps, when verifying, the newest committed copy of
// every page (a scheme.BackupImage) (a restore reads only those, and a merge keeps only those, so older copies are never
// read); with a mirror cache it models the destination server's cache in front of its disk.
//
// Invariant: cached.Len() <= mirrorPages.
type Store struct {
	pageBytes int64
	newest    *scheme.BackupImage // pages written, committed per checkpoint

	mirrorPages int   // cache capacity in pages; 0: no mirror
	flushEvery  int64 // accesses between time-triggered flushes; 0: only when full
	nextFlush   int64
	cached      scheme.PageIndex // the pages in the mirror's cache

	// BytesWritten counts the bytes of every Send.
	BytesWritten int64
	Mirror       MirrorCounts
}

// NewStore returns an empty store for pages of pageBytes bytes with blocks stamps each (0
// when not verifying), with a mirror cache of mirrorPages pages (0: none) flushed every
// flushEvery accesses (0: only when full).
func NewStore(pageBytes uint64, blocks, mirrorPages int, flushEvery int64) *Store {
	return &Store{
		pageBytes: int64(pageBytes), newest: scheme.NewBackupImage(blocks),
		mirrorPages: mirrorPages, flushEvery: flushEvery, nextFlush: flushEvery,
	}
}

// Send receives a page of domain d's incremental checkpoint.
func (s *Store) Send(d scheme.Domain, p Page, data []uint64) {
	s.BytesWritten += s.pageBytes
	if s.mirrorPages > 0 {
		if s.cached.Find(p) >= 0 {
			s.Mirror.AbsorbedBytes += s.pageBytes
		} else {
			if s.cached.Len() == s.mirrorPages {
				s.flush()
			}
			s.cached.Add(p)
			s.Mirror.PeakBytes = max(s.Mirror.PeakBytes, int64(s.cached.Len())*s.pageBytes)
		}
	}
	s.newest.Stage(d, p, data)
}

// flush writes every cached page to the disk and empties the cache.
func (s *Store) flush() {
	if s.cached.Len() == 0 {
		return
	}
	s.Mirror.Flushes++
	s.Mirror.DiskBytes += int64(s.cached.Len()) * s.pageBytes
	s.cached.Clear()
}

// Commit applies domain d's pending pages.
func (s *Store) Commit(d scheme.Domain) { s.newest.Commit(d) }

// Merge changes nothing the store keeps: the new full checkpoint holds the newest copy of
// every page, which is what newest holds.
func (s *Store) Merge(scheme.Domain) {}

// Fetch copies the newest committed copy of p.
func (s *Store) Fetch(_ scheme.Domain, p Page, dst []uint64) { s.newest.Fetch(p, dst) }

// Tick flushes the mirror's cache when access n reaches the next multiple of flushEvery.
func (s *Store) Tick(n int64) {
	if s.flushEvery == 0 || n < s.nextFlush {
		return
	}
	s.flush()
	s.nextFlush = (n/s.flushEvery + 1) * s.flushEvery
}

// CachedBytes returns the bytes the mirror's cache holds now (not yet on the disk).
func (s *Store) CachedBytes() int64 { return int64(s.cached.Len()) * s.pageBytes }

// Pages returns the pages the store holds a copy of, in order (when verifying).
func (s *Store) Pages() []Page {
	out := s.newest.Units()
	slices.SortFunc(out, Page.Compare)
	return out
}

func (s *Store) check() error {
	if err := s.newest.Check(); err != nil {
		return fmt.Errorf("incremental: store: %w", err)
	}
	if err := s.cached.Check(); err != nil {
		return fmt.Errorf("incremental: the mirror's cache: %w", err)
	}
	if s.mirrorPages > 0 && s.cached.Len() > s.mirrorPages || s.mirrorPages == 0 && s.cached.Len() > 0 {
		return fmt.Errorf("incremental: the mirror caches %d pages, capacity %d", s.cached.Len(), s.mirrorPages)
	}
	if s.mirrorPages > 0 && s.Mirror.DiskBytes+s.Mirror.AbsorbedBytes+s.CachedBytes() != s.BytesWritten {
		return fmt.Errorf("incremental: the mirror received %d bytes but wrote %d, absorbed %d and holds %d",
			s.BytesWritten, s.Mirror.DiskBytes, s.Mirror.AbsorbedBytes, s.CachedBytes())
	}
	return nil
}
