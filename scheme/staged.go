package scheme

import "fmt"

// StagedImage is a memory image of verification stamps, one slice per unit (a page, a
// cache line), updated in epochs: what is staged for a domain (Stage) reaches the image
// only when the domain commits (Commit), as a backup machine applies a checkpoint once all
// of it has arrived. A unit never committed reads as the initial content (zeros). With 0
// blocks a unit (not verifying) it holds nothing.
//
// Invariant: every slice in image and pending has length blocks.
type StagedImage[K comparable] struct {
	blocks  int
	image   map[K][]uint64
	pending map[Domain][]stagedUnit[K]
	free    [][]uint64 // recycled pending buffers
}

type stagedUnit[K comparable] struct {
	k    K
	data []uint64
}

// NewStagedImage returns an empty image of units of blocks stamps each.
func NewStagedImage[K comparable](blocks int) *StagedImage[K] {
	return &StagedImage[K]{blocks: blocks, image: map[K][]uint64{}, pending: map[Domain][]stagedUnit[K]{}}
}

// Stage copies data, unit k's stamps, into domain d's pending epoch. Precondition:
// len(data) is the image's blocks a unit (unless that is 0, when Stage does nothing).
func (s *StagedImage[K]) Stage(d Domain, k K, data []uint64) {
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
	s.pending[d] = append(s.pending[d], stagedUnit[K]{k, buf})
}

// Commit applies domain d's pending epoch to the image, in the order it was staged.
func (s *StagedImage[K]) Commit(d Domain) {
	for _, u := range s.pending[d] {
		dst := s.image[u.k]
		if dst == nil {
			dst = make([]uint64, s.blocks)
			s.image[u.k] = dst
		}
		copy(dst, u.data)
		s.free = append(s.free, u.data)
	}
	s.pending[d] = s.pending[d][:0]
}

// Fetch copies into dst the committed stamps of unit k, or zeros when it has none.
func (s *StagedImage[K]) Fetch(k K, dst []uint64) {
	if src := s.image[k]; src != nil {
		copy(dst, src)
	} else {
		clear(dst)
	}
}

// Len returns the number of units the image holds.
func (s *StagedImage[K]) Len() int { return len(s.image) }

// Units returns the units the image holds, in no particular order.
func (s *StagedImage[K]) Units() []K {
	out := make([]K, 0, len(s.image))
	for k := range s.image {
		out = append(out, k)
	}
	return out
}

// Check verifies the invariant, and that no epoch is pending (which holds between
// checkpoints).
func (s *StagedImage[K]) Check() error {
	for d, p := range s.pending {
		if len(p) > 0 {
			return fmt.Errorf("%d uncommitted units of domain %d between checkpoints", len(p), d)
		}
	}
	for k, st := range s.image {
		if len(st) != s.blocks {
			return fmt.Errorf("unit %+v holds %d stamps, want %d", k, len(st), s.blocks)
		}
	}
	return nil
}
