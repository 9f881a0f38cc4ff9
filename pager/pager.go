package pager

import (
	"fmt"

	"github.com/vmsim/vmsim/disk"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/pagetable"
)

// Options configure the pager.
type Options struct {
	// ZeroFill: a page's initial content is zeros (no I/O) rather than an image read
	// from disk (one disk read).
	ZeroFill bool
	// ObsoleteFirst: when stealing, take a frame holding an obsolete version, if any,
	// before asking the replacement policy.
	ObsoleteFirst bool
}

// Pager pages mappings of one page table in and out of one frame table and disk.
type Pager struct {
	PT     *pagetable.Table
	Frames *frames.Table
	Disk   *disk.Disk
	opt    Options

	// obsolete holds frames that may hold obsolete versions, pushed when a checkpoint
	// makes versions obsolete. Entries are checked when popped, so stale ones are harmless.
	// Invariant: stacked[f] iff f is in obsolete, so it holds each frame at most once.
	obsolete []frames.FrameID
	stacked  []bool

	// Steals counts frames taken from another mapping; ObsoleteSteals those of them that
	// held an obsolete version (dropped without I/O).
	Steals, ObsoleteSteals int64
}

// New returns a pager.
func New(pt *pagetable.Table, ft *frames.Table, dk *disk.Disk, opt Options) *Pager {
	return &Pager{PT: pt, Frames: ft, Disk: dk, opt: opt, stacked: make([]bool, ft.Limit())}
}

// Frame gives mapping m of page p a frame: a free one, or one stolen from another
// mapping (never pinned). The frame's content is stale; the caller fills it.
// Precondition: mapping m has no frame.
func (pg *Pager) Frame(p pagetable.PageID, m uint8, pinned frames.FrameID) frames.FrameID {
	e := pg.PT.PTE(p)
	if e.M[m].Frame != frames.NoFrame {
		panic(fmt.Sprintf("pager: page %d m[%d] already has frame %d", p, m, e.M[m].Frame))
	}
	f, ok := pg.Frames.Alloc(pagetable.Owner(p, m))
	if !ok {
		pg.evict(pg.victim(pinned))
		f, ok = pg.Frames.Alloc(pagetable.Owner(p, m))
		if !ok {
			panic("pager: no free frame after an eviction")
		}
	}
	e.M[m].Frame = f
	return f
}

// victim picks the frame to steal.
func (pg *Pager) victim(pinned frames.FrameID) frames.FrameID {
	if pg.opt.ObsoleteFirst {
		for len(pg.obsolete) > 0 {
			f := pg.obsolete[len(pg.obsolete)-1]
			pg.obsolete = pg.obsolete[:len(pg.obsolete)-1]
			pg.stacked[f] = false
			if f == pinned {
				continue
			}
			if o := pg.Frames.Owner(f); o != frames.NoOwner {
				if p, m := pagetable.FromOwner(o); pg.PT.Obsolete(p, m) {
					return f
				}
			}
		}
	}
	return pg.Frames.Victim(pinned)
}

// evict takes frame f from its mapping: an obsolete version is dropped without I/O; a
// needed version with its change bit set is written to its slot first.
func (pg *Pager) evict(f frames.FrameID) {
	p, m := pagetable.FromOwner(pg.Frames.Owner(f))
	pg.Steals++
	if pg.PT.Obsolete(p, m) {
		pg.ObsoleteSteals++
	} else {
		pg.WriteBack(p, m)
		e := pg.PT.PTE(p)
		if m != e.L { // a needed checkpoint version leaves memory
			pg.PT.AddCheckpointFrames(e.Domain, -1)
		}
	}
	pg.Drop(p, m)
}

// FaultIn gives mapping m of page p a frame holding its data: read from its slot, or its
// initial content (an image read, or zeros with ZeroFill). Precondition: m has no frame.
func (pg *Pager) FaultIn(p pagetable.PageID, m uint8, pinned frames.FrameID) frames.FrameID {
	f := pg.Frame(p, m, pinned)
	pg.Fill(f, pg.PT.PTE(p).M[m].Slot)
	return f
}

// Fill loads frame f with the data of a version whose slot is s: a disk read when s is
// a slot, otherwise the initial content.
func (pg *Pager) Fill(f frames.FrameID, s disk.SlotID) {
	switch {
	case s != disk.NoSlot:
		pg.Disk.Read(s, pg.Frames.Stamps(f))
	case pg.opt.ZeroFill:
		clear(pg.Frames.Stamps(f))
	default:
		pg.Disk.ReadImage(pg.Frames.Stamps(f))
	}
}

// WriteBack writes mapping m of page p to its slot (allocating one) if its frame's change
// bit is set, and clears the bit. It does nothing for a mapping without a frame.
func (pg *Pager) WriteBack(p pagetable.PageID, m uint8) {
	mp := &pg.PT.PTE(p).M[m]
	if mp.Frame == frames.NoFrame || !pg.Frames.Dirty(mp.Frame) {
		return
	}
	if mp.Slot == disk.NoSlot {
		mp.Slot = pg.Disk.Alloc()
	}
	pg.Disk.Write(mp.Slot, pg.Frames.Stamps(mp.Frame))
	pg.Frames.SetDirty(mp.Frame, false)
}

// Drop frees mapping m's frame, if any, without I/O.
func (pg *Pager) Drop(p pagetable.PageID, m uint8) {
	mp := &pg.PT.PTE(p).M[m]
	if mp.Frame != frames.NoFrame {
		pg.Frames.Free(mp.Frame)
		mp.Frame = frames.NoFrame
	}
}

// FreeSlot frees mapping m's slot, if any, without I/O.
func (pg *Pager) FreeSlot(p pagetable.PageID, m uint8) {
	mp := &pg.PT.PTE(p).M[m]
	if mp.Slot != disk.NoSlot {
		pg.Disk.Free(mp.Slot)
		mp.Slot = disk.NoSlot
	}
}

// NoteObsolete tells the pager that frame f now holds an obsolete version.
func (pg *Pager) NoteObsolete(f frames.FrameID) {
	if pg.opt.ObsoleteFirst && pg.Frames.Limit() > 0 && !pg.stacked[f] {
		pg.stacked[f] = true
		pg.obsolete = append(pg.obsolete, f)
	}
}

// DropAll frees every frame without I/O (the loss of volatile memory in a crash).
func (pg *Pager) DropAll() {
	for i := range pg.PT.Len() {
		p := pagetable.PageID(i)
		pg.Drop(p, 0)
		pg.Drop(p, 1)
	}
	for _, f := range pg.obsolete {
		pg.stacked[f] = false
	}
	pg.obsolete = pg.obsolete[:0]
}
