package disk

import "fmt"

// SlotID names a disk slot.
type SlotID int32

// NoSlot is the SlotID of a mapping without a slot.
const NoSlot SlotID = -1

// IO counts page-sized disk operations.
type IO struct {
	Reads        int64 // pages read: from a slot, or a page's initial image
	Writes       int64 // data pages written to a slot
	PTPages      int64 // page-table pages written by volatile checkpoints
	CommitWrites int64 // commit records written by volatile checkpoints
}

// Disk is the set of slots.
type Disk struct {
	// Invariant: every SlotID below next is either in free (once) or in use; used ==
	// next - len(free).
	free  []SlotID
	inUse []bool
	next  SlotID
	used  int

	// blocks is the number of stamps a slot carries; 0 when verification is off.
	// Invariant: with blocks > 0, len(stamps) == next and each has length blocks.
	blocks int
	stamps [][]uint64
	// slab is what is left of the latest allocation of slots' stamps, handed out slot by
	// slot (slabSlots slots at a time, so that they lie together).
	slab []uint64

	IO IO
}

const slabSlots = 64

// New returns an empty disk whose slots carry blocks stamps each (0: no stamps).
func New(blocks int) *Disk { return &Disk{blocks: blocks} }

// Alloc returns a free slot, reusing the most recently freed one first.
func (d *Disk) Alloc() SlotID {
	var s SlotID
	if n := len(d.free); n > 0 {
		s = d.free[n-1]
		d.free = d.free[:n-1]
	} else {
		s = d.next
		d.next++
		d.inUse = append(d.inUse, false)
		if d.blocks > 0 {
			if len(d.slab) < d.blocks {
				d.slab = make([]uint64, slabSlots*d.blocks)
			}
			d.stamps = append(d.stamps, d.slab[:d.blocks:d.blocks])
			d.slab = d.slab[d.blocks:]
		}
	}
	d.inUse[s] = true
	d.used++
	return s
}

// Free releases slot s. Precondition: s is in use.
func (d *Disk) Free(s SlotID) {
	if s < 0 || s >= d.next || !d.inUse[s] {
		panic(fmt.Sprintf("disk: free of slot %d that is not in use", s))
	}
	d.inUse[s] = false
	d.free = append(d.free, s)
	d.used--
}

// Used is the number of slots in use.
func (d *Disk) Used() int { return d.used }

// InUse reports whether slot s is allocated.
func (d *Disk) InUse(s SlotID) bool { return s >= 0 && s < d.next && d.inUse[s] }

// Stamps returns slot s's stamps (nil when verification is off).
func (d *Disk) Stamps(s SlotID) []uint64 {
	if d.blocks == 0 {
		return nil
	}
	return d.stamps[s]
}

// Write counts one page written to slot s and stores src's stamps there.
func (d *Disk) Write(s SlotID, src []uint64) {
	d.IO.Writes++
	if d.blocks > 0 {
		copy(d.stamps[s], src)
	}
}

// Read counts one page read from slot s into dst's stamps.
func (d *Disk) Read(s SlotID, dst []uint64) {
	d.IO.Reads++
	if d.blocks > 0 {
		copy(dst, d.stamps[s])
	}
}

// ReadImage counts one read of a page's initial image (which holds stamp 0 throughout).
func (d *Disk) ReadImage(dst []uint64) {
	d.IO.Reads++
	clear(dst)
}

// Check verifies the slot accounting from scratch.
func (d *Disk) Check() error {
	seen := make([]bool, d.next)
	for _, s := range d.free {
		if s < 0 || s >= d.next || seen[s] || d.inUse[s] {
			return fmt.Errorf("disk: free list holds slot %d twice or in use", s)
		}
		seen[s] = true
	}
	used := 0
	for _, u := range d.inUse {
		if u {
			used++
		}
	}
	if used != d.used || used+len(d.free) != int(d.next) {
		return fmt.Errorf("disk: %d slots in use, counted %d, %d free, %d total", used, d.used, len(d.free), d.next)
	}
	return nil
}
