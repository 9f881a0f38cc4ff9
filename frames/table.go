package frames

import (
	"fmt"

	"github.com/vmsim/vmsim/internal/grow"
)

// FrameID names a real frame.
type FrameID int32

// NoFrame is the FrameID of a mapping without a frame.
const NoFrame FrameID = -1

// Owner is an opaque reference to the mapping a frame belongs to, encoded by the page
// table. NoOwner marks a free frame.
type Owner int32

// NoOwner is the owner of a free frame.
const NoOwner Owner = -1

// Table is the frame table.
type Table struct {
	// Invariant: owner[f] == NoOwner iff f is free; the free frames are exactly those in
	// free; used == number of frames with an owner.
	owner []Owner
	// dirty is the change bit c: the frame's data differs from its mapping's disk slot
	// (or initial image). Invariant: dirty[f] implies owner[f] != NoOwner.
	dirty []bool
	free  freeHeap
	used  int
	peak  int

	// limit is the number of frames, or 0 for as many as are asked for.
	// Invariant: limit == 0 or len(owner) == limit.
	limit int

	// blocks is the number of stamps a frame carries (0: verification off).
	blocks int
	stamps [][]uint64
	// slab is what is left of the latest allocation of frames' stamps under unlimited
	// frames, handed out frame by frame (slabFrames at a time, so that they lie together).
	slab []uint64

	policy Policy
	// clockRef is the reference bits of policy when it is a *Clock (else nil), which Touch,
	// the hot path, sets directly rather than through the interface. Invariant: clockRef is
	// the policy's ref itself (a Clock never reallocates it).
	clockRef []bool
}

const slabFrames = 64

// New returns a frame table of limit frames (0: unlimited) replaced by policy (which may
// be nil when limit is 0), whose frames carry blocks stamps each (0: none).
func New(limit int, policy Policy, blocks int) *Table {
	t := &Table{limit: limit, policy: policy, blocks: blocks}
	if c, ok := policy.(*Clock); ok {
		t.clockRef = c.ref
	}
	if limit > 0 {
		if policy == nil {
			panic("frames: finite frames need a replacement policy")
		}
		t.owner = make([]Owner, limit)
		t.dirty = make([]bool, limit)
		t.free = make(freeHeap, limit)
		for i := range limit {
			t.owner[i] = NoOwner
			t.free[i] = FrameID(i)
		}
		if blocks > 0 {
			// One allocation for all frames' stamps, frame after frame.
			all := make([]uint64, limit*blocks)
			t.stamps = make([][]uint64, limit)
			for i := range t.stamps {
				t.stamps[i] = all[i*blocks : (i+1)*blocks : (i+1)*blocks]
			}
		}
	}
	return t
}

// Limit is the number of frames, 0 when unlimited.
func (t *Table) Limit() int { return t.limit }

// Used is the number of frames holding a page.
func (t *Table) Used() int { return t.used }

// Peak is the largest Used seen.
func (t *Table) Peak() int { return t.peak }

// Owner returns the owner of frame f (NoOwner when free).
func (t *Table) Owner(f FrameID) Owner { return t.owner[f] }

// Dirty returns f's change bit.
func (t *Table) Dirty(f FrameID) bool { return t.dirty[f] }

// SetDirty sets or clears f's change bit.
func (t *Table) SetDirty(f FrameID, c bool) { t.dirty[f] = c }

// Stamps returns f's stamps (nil when verification is off).
func (t *Table) Stamps(f FrameID) []uint64 {
	if t.blocks == 0 {
		return nil
	}
	return t.stamps[f]
}

// Alloc gives a free frame to o, the lowest-numbered free frame first, and reports
// false when every frame is in use. The frame starts clean; its stamps are stale.
func (t *Table) Alloc(o Owner) (FrameID, bool) {
	var f FrameID
	switch {
	case len(t.free) > 0:
		f = t.free.pop()
	case t.limit == 0:
		f = FrameID(len(t.owner))
		t.owner = grow.Append(t.owner, NoOwner)
		t.dirty = grow.Append(t.dirty, false)
		if t.blocks > 0 {
			if len(t.slab) < t.blocks {
				t.slab = make([]uint64, slabFrames*t.blocks)
			}
			t.stamps = append(t.stamps, t.slab[:t.blocks:t.blocks])
			t.slab = t.slab[t.blocks:]
		}
	default:
		return NoFrame, false
	}
	t.owner[f] = o
	t.dirty[f] = false
	t.used++
	t.peak = max(t.peak, t.used)
	if t.policy != nil {
		t.policy.Loaded(f)
	}
	return f, true
}

// Free returns f to the pool. Precondition: f is in use.
func (t *Table) Free(f FrameID) {
	if t.owner[f] == NoOwner {
		panic(fmt.Sprintf("frames: free of frame %d that is free", f))
	}
	t.owner[f] = NoOwner
	t.dirty[f] = false
	t.used--
	t.free.push(f)
	if t.policy != nil {
		t.policy.Removed(f)
	}
}

// SetOwner moves frame f, in use, to another owner (a remap); the policy sees a load.
func (t *Table) SetOwner(f FrameID, o Owner) {
	if t.owner[f] == NoOwner || o == NoOwner {
		panic(fmt.Sprintf("frames: SetOwner(%d, %d) on a free frame", f, o))
	}
	t.owner[f] = o
}

// Touch records a reference to f. nextUse is when f's page is next referenced, for the
// opt policy (NeverUsed if not known to be used again); other policies ignore it.
func (t *Table) Touch(f FrameID, nextUse int64) {
	if t.policy != nil {
		if t.clockRef != nil {
			t.clockRef[f] = true // Clock.Hit, without a call
		} else {
			t.policy.Hit(f, nextUse)
		}
	}
}

// Rekey changes f's next-use time (opt) without counting a reference: use NeverUsed for
// a frame that now holds a version the program will not reference.
func (t *Table) Rekey(f FrameID, nextUse int64) {
	if t.policy != nil {
		t.policy.Rekey(f, nextUse)
	}
}

// Reload tells the policy that f, in use, now holds a newly loaded version (a frame
// reused in place without going back to the pool).
func (t *Table) Reload(f FrameID) {
	if t.policy != nil {
		t.policy.Removed(f)
		t.policy.Loaded(f)
	}
}

// Victim asks the policy for a frame to steal, never pinned (pass NoFrame to pin
// nothing). Precondition: every frame is in use, and at least one is not pinned.
func (t *Table) Victim(pinned FrameID) FrameID {
	if t.limit == 0 || t.used != t.limit {
		panic("frames: Victim with free frames or unlimited frames")
	}
	return t.policy.Victim(pinned)
}

// Check verifies the frame accounting from scratch.
func (t *Table) Check() error {
	used := 0
	isFree := make([]bool, len(t.owner))
	for _, f := range t.free {
		if f < 0 || int(f) >= len(t.owner) || isFree[f] {
			return fmt.Errorf("frames: free pool holds frame %d twice or out of range", f)
		}
		isFree[f] = true
	}
	for f, o := range t.owner {
		if (o == NoOwner) != isFree[f] {
			return fmt.Errorf("frames: frame %d has owner %d but free=%v", f, o, isFree[f])
		}
		if o != NoOwner {
			used++
		} else if t.dirty[f] {
			return fmt.Errorf("frames: free frame %d has its change bit set", f)
		}
	}
	if used != t.used || used+len(t.free) != len(t.owner) {
		return fmt.Errorf("frames: %d used, counted %d, %d free, %d total", used, t.used, len(t.free), len(t.owner))
	}
	if t.limit > 0 && len(t.owner) != t.limit {
		return fmt.Errorf("frames: %d frames, limit %d", len(t.owner), t.limit)
	}
	return nil
}

// freeHeap is a min-heap of free frames, so that free frames are used lowest first.
type freeHeap []FrameID

func (h *freeHeap) push(f FrameID) {
	*h = append(*h, f)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] <= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h *freeHeap) pop() FrameID {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a[c+1] < a[c] {
			c++
		}
		if a[i] <= a[c] {
			break
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
	*h = a
	return top
}
