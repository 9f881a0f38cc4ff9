package mmu

import (
	"fmt"

	"github.com/vmsim/vmsim/disk"
	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/pager"
	"github.com/vmsim/vmsim/pagetable"
	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// Scheme is a way of checkpointing memory, driven one page access at a time.
type Scheme interface {
	// Access references page vpn of address space asid, reading or writing it. nextUse
	// is the time of the page's next reference (for opt replacement), or -1 to keep the
	// one last given.
	Access(asid record.ASID, vpn pagetable.VPN, write bool, nextUse int64)
	// DomainOf returns the checkpoint domain of an address space.
	DomainOf(asid record.ASID) pagetable.DomainID
	// Checkpoint takes a checkpoint of domain d.
	Checkpoint(d pagetable.DomainID)
	// Rollback returns domain d to its last checkpoint, memory intact.
	Rollback(d pagetable.DomainID)
	// Crash loses every frame and recovers every domain from its last committed
	// checkpoint on disk. Precondition: the scheme supports crashes (volatile memory).
	Crash()
	// Counters returns the scheme's counts so far.
	Counters() Counts
	// Check verifies the scheme's invariants from scratch.
	Check() error
	// Stamps returns the contents of the current version of page (asid, vpn).
	// Precondition: it is resident (as after Access); verification is on.
	Stamps(asid record.ASID, vpn pagetable.VPN) []uint64
	// PeekStamps returns the contents of the current version of (asid, vpn) wherever it
	// is, without side effects: nil for the initial content (stamp 0 throughout).
	PeekStamps(asid record.ASID, vpn pagetable.VPN) []uint64
}

// Counts are what a page-level scheme counts: the pages and paging counters it reports
// (declared, with their definitions, in package scheme), and the frames it stole, which no
// run reports. Paging.CheckpointDiskWrites is left 0: the adapter counts it.
type Counts struct {
	scheme.Pages
	scheme.Paging
	Steals int64
}

// Config describes the emulated machine.
type Config struct {
	Scheme        Kind
	Frames        int // number of frames; 0 for unlimited
	Replace       frames.PolicyName
	Seed          uint64 // for random replacement
	ObsoleteFirst bool   // steal frames holding obsolete versions first
	ZeroFill      bool   // initial content is zeros rather than an image read
	VBits         int    // bits of V and v, 1..31
	PerASID       bool   // one checkpoint domain per address space
	Volatile      bool   // memory is lost in a crash; checkpoints write to disk
	Remap         bool   // first writes move a clean resident frame instead of copying
	PTEsPerPTPage uint64 // PTEs in one page-table page (page size / PTE size)
	Blocks        int    // stamps per page for verification; 0 when off
}

// Kind names a page-level scheme.
type Kind string

// The page-level schemes.
const (
	KindNone    Kind = "none"
	KindDualMap Kind = "dualmap"
)

// Schemes lists the scheme names New accepts.
var Schemes = []Kind{KindNone, KindDualMap}

// New builds the named scheme on a fresh machine.
func New(c Config) (Scheme, error) {
	if c.VBits < 1 || c.VBits > 31 {
		return nil, fmt.Errorf("vbits %d out of range 1..31", c.VBits)
	}
	if c.Frames < 0 {
		return nil, fmt.Errorf("frames %d is negative", c.Frames)
	}
	if c.PTEsPerPTPage == 0 {
		return nil, fmt.Errorf("a page-table page must hold at least one PTE")
	}
	var policy frames.Policy
	if c.Frames > 0 {
		var err error
		if policy, err = frames.NewPolicy(c.Replace, c.Frames, c.Seed); err != nil {
			return nil, err
		}
	}
	m := &machine{
		pt:  pagetable.New(c.VBits, c.PerASID),
		ft:  frames.New(c.Frames, policy, c.Blocks),
		dk:  disk.New(c.Blocks),
		cfg: c,
	}
	m.pg = pager.New(m.pt, m.ft, m.dk, pager.Options{ZeroFill: c.ZeroFill, ObsoleteFirst: c.ObsoleteFirst})
	switch c.Scheme {
	case KindNone:
		return &None{m}, nil
	case KindDualMap:
		if c.Frames == 1 {
			return nil, fmt.Errorf("dualmap needs at least 2 frames (a first write copies a page into a second frame)")
		}
		return &DualMap{m}, nil
	}
	return nil, fmt.Errorf("unknown scheme %q (want one of %v)", c.Scheme, Schemes)
}

// machine is the state every scheme has: a page table, frames, a disk and a pager.
type machine struct {
	pt  *pagetable.Table
	ft  *frames.Table
	dk  *disk.Disk
	pg  *pager.Pager
	cfg Config

	pageFaults, firstWrites, pageCopies, remaps, wrapSweeps int64
	ckptFramesPeak                                          int
	// lastF is the frame of the current version of the page the latest Access referenced,
	// which every access leaves resident (for the verifier's hook: adapter.Image).
	lastF frames.FrameID
}

func (m *machine) DomainOf(asid record.ASID) pagetable.DomainID { return m.pt.DomainOf(asid) }

func (m *machine) Counters() Counts {
	return Counts{
		Pages: scheme.Pages{
			PagesTouched: int64(m.pt.Len()),
			PagesWritten: int64(m.pt.Written()),
		},
		Paging: scheme.Paging{
			FirstWrites:          m.firstWrites,
			PageCopies:           m.pageCopies,
			Remaps:               m.remaps,
			PageFaults:           m.pageFaults,
			DiskReads:            m.dk.IO.Reads,
			DiskWrites:           m.dk.IO.Writes,
			PTPagesWritten:       m.dk.IO.PTPages,
			CommitWrites:         m.dk.IO.CommitWrites,
			FramesPeak:           int64(m.ft.Peak()),
			CheckpointFramesPeak: int64(m.ckptFramesPeak),
			WrapSweeps:           m.wrapSweeps,
		},
		Steals: m.pg.Steals,
	}
}

func (m *machine) Check() error { return m.pt.Check(m.ft, m.dk) }

func (m *machine) Stamps(asid record.ASID, vpn pagetable.VPN) []uint64 {
	p, ok := m.pt.Find(asid, vpn)
	if !ok {
		panic(fmt.Sprintf("mmu: Stamps of untouched page (%d, %#x)", asid, vpn))
	}
	f := m.pt.PTE(p).Current().Frame
	if f == frames.NoFrame {
		panic(fmt.Sprintf("mmu: Stamps of page (%d, %#x) that is not resident", asid, vpn))
	}
	return m.ft.Stamps(f)
}

func (m *machine) PeekStamps(asid record.ASID, vpn pagetable.VPN) []uint64 {
	p, ok := m.pt.Find(asid, vpn)
	if !ok {
		return nil
	}
	return m.stampsOf(p)
}

// stampsOf returns the stamps of page p's current version, wherever it is; nil for the
// initial content.
func (m *machine) stampsOf(p pagetable.PageID) []uint64 {
	cur := m.pt.PTE(p).Current()
	switch {
	case cur.Frame != frames.NoFrame:
		return m.ft.Stamps(cur.Frame)
	case cur.Slot != disk.NoSlot:
		return m.dk.Stamps(cur.Slot)
	}
	return nil
}

// use makes the current version of page p resident (a page fault if it is not), records
// the reference and, for a write, sets the change bit.
func (m *machine) use(p pagetable.PageID, e *pagetable.PTE, write bool) {
	f := e.M[e.L].Frame
	if f == frames.NoFrame {
		m.pageFaults++
		f = m.pg.FaultIn(p, e.L, frames.NoFrame)
	}
	m.ft.Touch(f, e.NextUse)
	m.lastF = f
	if write {
		m.ft.SetDirty(f, true)
		m.pt.MarkWritten(p)
	}
}
