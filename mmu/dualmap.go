package mmu

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/pagetable"
	"github.com/vmsim/vmsim/record"
)

// DualMap is the virtual-checkpoint scheme (docs/machine.md, section 2).
type DualMap struct{ *machine }

// Access reads or writes page (asid, vpn).
//
// A read, and a write to a page already written since the last checkpoint (v == V), use
// the current mapping m[l], faulting it in if needed. A first write (v != V) is a
// protection event: see firstWrite.
func (s *DualMap) Access(asid record.ASID, vpn pagetable.VPN, write bool, nextUse int64) {
	p := s.pt.Lookup(asid, vpn)
	e := s.pt.PTE(p)
	if nextUse >= 0 {
		e.NextUse = nextUse
	}
	if !write || e.V == s.pt.Domain(e.Domain).V {
		s.use(p, e, write)
		return
	}
	s.firstWrite(p, e)
}

// firstWrite handles a page's first write since the last checkpoint (or rollback).
//
// The current version m[cur] becomes the checkpoint version and stays intact. Whatever
// m[tgt] = m[1-cur] holds is obsolete: its slot is freed and its frame, if any, is
// reused as the new version's frame. The new current version is built in m[tgt]:
//   - remap, m[cur] resident and clean: m[cur]'s frame moves to m[tgt]; the checkpoint
//     version is then m[cur]'s slot (or the initial content, if it has none);
//   - m[cur] resident: a frame for m[tgt] (m[cur]'s pinned meanwhile), and a page copy;
//   - m[cur] not resident: a page fault; m[tgt]'s frame is filled from m[cur]'s slot,
//     or with the initial content.
//
// Then l = tgt, v = V (the page joins the modified list) and the new frame is dirty.
func (s *DualMap) firstWrite(p pagetable.PageID, e *pagetable.PTE) {
	s.firstWrites++
	cur, tgt := e.L, 1-e.L
	src := e.M[cur].Frame
	s.pg.FreeSlot(p, tgt)
	var f frames.FrameID
	keptCkptFrame := false
	switch {
	case s.cfg.Remap && src != frames.NoFrame && !s.ft.Dirty(src):
		s.pg.Drop(p, tgt)
		f = src
		e.M[cur].Frame = frames.NoFrame
		e.M[tgt].Frame = f
		s.ft.SetOwner(f, pagetable.Owner(p, tgt))
		s.remaps++
	case src != frames.NoFrame:
		f = s.reuseOrGetFrame(p, e, tgt, src)
		copy(s.ft.Stamps(f), s.ft.Stamps(src))
		s.ft.Rekey(src, frames.NeverUsed)
		s.pageCopies++
		keptCkptFrame = true
	default:
		s.pageFaults++
		f = s.reuseOrGetFrame(p, e, tgt, frames.NoFrame)
		s.pg.Fill(f, e.M[cur].Slot)
	}
	e.L = tgt
	s.pt.SetModified(p)
	if keptCkptFrame {
		s.pt.AddCheckpointFrames(e.Domain, 1)
		s.ckptFramesPeak = max(s.ckptFramesPeak, s.pt.CheckpointFrames())
	}
	s.ft.SetDirty(f, true)
	s.ft.Touch(f, e.NextUse)
	s.lastF = f
	s.pt.MarkWritten(p)
}

// reuseOrGetFrame returns mapping tgt's obsolete frame, reloaded in place, or a new one.
func (s *DualMap) reuseOrGetFrame(p pagetable.PageID, e *pagetable.PTE, tgt uint8, pinned frames.FrameID) frames.FrameID {
	if f := e.M[tgt].Frame; f != frames.NoFrame {
		s.ft.SetDirty(f, false)
		s.ft.Reload(f)
		return f
	}
	return s.pg.Frame(p, tgt, pinned)
}

// Checkpoint takes a checkpoint of domain d.
//
// Non-volatile memory: V = V+1, nothing else (O(1) but for the list reset).
// Volatile memory: first every page on the modified list whose current frame is dirty is
// written to its current mapping's slot, then every page-table page holding a PTE of a
// modified page, then one commit record; then V = V+1.
// In both, the checkpoint versions of the modified pages become obsolete, and a V that
// would pass 2^k-1 wraps to 1 with a sweep setting every v of the domain to 0.
func (s *DualMap) Checkpoint(d pagetable.DomainID) {
	dom := s.pt.Domain(d)
	if s.cfg.Volatile {
		pts := make([]pagetable.PTPage, 0, len(dom.Modified))
		for _, p := range dom.Modified {
			s.pg.WriteBack(p, s.pt.PTE(p).L)
			pts = append(pts, s.pt.PTPageOf(p, s.cfg.PTEsPerPTPage))
		}
		slices.SortFunc(pts, func(a, b pagetable.PTPage) int {
			if a.ASID != b.ASID {
				return int(a.ASID) - int(b.ASID)
			}
			return cmpU64(a.Index, b.Index)
		})
		s.dk.IO.PTPages += int64(len(slices.Compact(pts)))
		s.dk.IO.CommitWrites++
	}
	for _, p := range dom.Modified {
		if f := s.pt.PTE(p).Other().Frame; f != frames.NoFrame {
			s.pg.NoteObsolete(f)
		}
	}
	if s.pt.Advance(d) {
		s.wrapSweeps++
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Rollback discards, for every page on domain d's modified list, the current version
// (its frame, and its slot, which was allocated for this version), and makes the
// checkpoint version current again: l = 1-l, v = 0. Its cost is proportional to the
// pages written since the checkpoint.
func (s *DualMap) Rollback(d pagetable.DomainID) {
	for _, p := range s.pt.Domain(d).Modified {
		e := s.pt.PTE(p)
		s.pg.Drop(p, e.L)
		s.pg.FreeSlot(p, e.L)
		e.L = 1 - e.L
		e.V = 0
		if f := e.M[e.L].Frame; f != frames.NoFrame {
			s.ft.Rekey(f, e.NextUse)
		}
	}
	s.pt.ClearModified(d)
}

// Crash loses volatile memory: every domain's versions written since its last checkpoint
// are discarded (their slots too) and every frame is dropped without I/O. What is left
// is the last committed page table: each current version is in its slot, or is the
// page's initial content. Pages fault back in on demand.
// Precondition: volatile memory.
func (s *DualMap) Crash() {
	if !s.cfg.Volatile {
		panic("mmu: Crash with non-volatile memory (a crash is a rollback there)")
	}
	for d := range s.pt.Domains() {
		s.Rollback(pagetable.DomainID(d))
	}
	s.pg.DropAll()
}

// Check verifies the page-table invariants and, in volatile memory, that every current
// version of a page not written since the last checkpoint is on disk: its frame, if any,
// is clean (so a crash loses nothing committed).
func (s *DualMap) Check() error {
	if err := s.machine.Check(); err != nil {
		return err
	}
	if !s.cfg.Volatile {
		return nil
	}
	for i := range s.pt.Len() {
		p := pagetable.PageID(i)
		e := s.pt.PTE(p)
		if s.pt.Modified(p) {
			continue
		}
		if f := e.Current().Frame; f != frames.NoFrame && s.ft.Dirty(f) {
			return fmt.Errorf("volatile memory: page %d is not modified but its current frame %d is dirty", p, f)
		}
	}
	return nil
}
