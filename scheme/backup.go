package scheme

import "fmt"

// Backup is the backup machine, or the storage device, a scheme's checkpoints send pages
// to, as the scheme uses it: the one backup interface. remus and cacheline use it as it is;
// snaplog's Link and incremental's Storage add the calls of their own protocols (the input
// log; merges and the mirror's clock). A "page" is the scheme's unit: a page, or a cache
// line (cacheline), of an address space by number.
//
// A checkpoint of domain d sends every unit of the epoch (Send), then Commit: the backup
// holds the last committed epoch of each domain, never part of one. Fetch reads the
// backup's committed copy of a unit, for recovery.
type Backup interface {
	// Send transfers unit p of domain d's epoch. data is its content, one stamp per
	// verification block, or nil when not verifying. The backup must not keep data.
	Send(d Domain, p Page, data []uint64)
	// Commit ends domain d's epoch: the backup applies every unit sent since the last
	// Commit of d, in order, and acknowledges.
	Commit(d Domain)
	// Fetch copies into dst the backup's committed content of p, of domain d: what it
	// received last for p, or zeros (the initial content) when it never received p. dst
	// has one stamp per verification block; Fetch is not called when not verifying.
	Fetch(d Domain, p Page, dst []uint64)
}

// BackupImage is the memory image a backup holds, the one image type of the backups: the
// verification stamps of every unit (page, cache line) committed, in a PageData, updated in
// epochs: what is staged for a domain (Stage) reaches the image only when the domain
// commits (Commit), as a backup machine applies a checkpoint once all of it has arrived. A
// unit never committed reads as the initial content (zeros). With 0 blocks a unit (not
// verifying) it holds nothing.
type BackupImage struct {
	blocks int
	// image holds the committed units' stamps; nil when blocks == 0.
	// Invariant: image == nil iff blocks == 0; every unit holds blocks stamps (PageData's).
	image *PageData
	// pending holds, per domain, the units staged since its last Commit, in order.
	// Invariant: every pending slice has length blocks.
	pending map[Domain][]stagedUnit
	free    [][]uint64 // recycled pending buffers
}

type stagedUnit struct {
	p    Page
	data []uint64
}

// NewBackupImage returns an empty image of units of blocks stamps each. Precondition:
// blocks is 0 or a power of two.
func NewBackupImage(blocks int) *BackupImage {
	b := &BackupImage{blocks: blocks, pending: map[Domain][]stagedUnit{}}
	if blocks > 0 {
		b.image = NewPageData(uint64(blocks), 1)
	}
	return b
}

// Stage copies data, unit p's stamps, into domain d's pending epoch. Precondition:
// len(data) is the image's blocks a unit (unless that is 0, when Stage does nothing).
func (s *BackupImage) Stage(d Domain, p Page, data []uint64) {
	if s.blocks == 0 {
		return
	}
	if len(data) != s.blocks {
		panic(fmt.Sprintf("scheme: Stage of %d stamps into an image of %d a unit", len(data), s.blocks))
	}
	var buf []uint64
	if n := len(s.free); n > 0 {
		buf, s.free = s.free[n-1], s.free[:n-1]
	} else {
		buf = make([]uint64, s.blocks)
	}
	copy(buf, data)
	s.pending[d] = append(s.pending[d], stagedUnit{p, buf})
}

// Commit applies domain d's pending epoch to the image, in the order it was staged.
func (s *BackupImage) Commit(d Domain) {
	for _, u := range s.pending[d] {
		copy(s.image.Page(u.p), u.data)
		s.free = append(s.free, u.data)
	}
	s.pending[d] = s.pending[d][:0]
}

// Fetch copies into dst the committed stamps of unit p, or zeros when it has none.
func (s *BackupImage) Fetch(p Page, dst []uint64) {
	if s.image == nil {
		clear(dst)
		return
	}
	s.image.Read(p, dst)
}

// Len returns the number of units the image holds.
func (s *BackupImage) Len() int {
	if s.image == nil {
		return 0
	}
	return s.image.Len()
}

// Units returns the units the image holds, in no particular order (a new slice).
func (s *BackupImage) Units() []Page {
	if s.image == nil {
		return nil
	}
	return append([]Page(nil), s.image.pages.Pages()...)
}

// Check verifies the invariants, and that no epoch is pending (which holds between
// checkpoints).
func (s *BackupImage) Check() error {
	for d, p := range s.pending {
		if len(p) > 0 {
			return fmt.Errorf("%d uncommitted units of domain %d between checkpoints", len(p), d)
		}
	}
	if (s.image == nil) != (s.blocks == 0) {
		return fmt.Errorf("an image of %d blocks a unit with image %v", s.blocks, s.image != nil)
	}
	if s.image != nil {
		if s.image.Blocks() != s.blocks {
			return fmt.Errorf("an image of %d blocks a unit holds units of %d", s.blocks, s.image.Blocks())
		}
		if err := s.image.Check(); err != nil {
			return err
		}
	}
	return nil
}
