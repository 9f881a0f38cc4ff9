package frames

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// NeverUsed is the next-use time of a frame whose page is not referenced again (and of
// checkpoint and obsolete versions, which the program never reads).
const NeverUsed int64 = math.MaxInt64

// Policy chooses which frame to steal. The frame table tells it of every frame that gets
// a page (Loaded), is referenced (Hit) or is freed (Removed).
type Policy interface {
	Loaded(f FrameID)
	Hit(f FrameID, nextUse int64)
	Removed(f FrameID)
	// Rekey changes f's next-use time without counting a reference (opt only).
	Rekey(f FrameID, nextUse int64)
	// Victim returns a frame in use other than pinned. Precondition: all frames are in
	// use and at least one is not pinned.
	Victim(pinned FrameID) FrameID
}

// PolicyName names a replacement policy (the values of --replace).
type PolicyName string

// The replacement policies.
const (
	PolicyClock  PolicyName = "clock"
	PolicyLRU    PolicyName = "lru"
	PolicyFIFO   PolicyName = "fifo"
	PolicyOPT    PolicyName = "opt"
	PolicyRandom PolicyName = "random"
)

// Policies lists the replacement policies by name.
var Policies = []PolicyName{PolicyClock, PolicyLRU, PolicyFIFO, PolicyOPT, PolicyRandom}

// ParsePolicyName returns the policy named s, or an error that quotes s and lists the
// choices; the caller prefixes the setting's name (--replace).
func ParsePolicyName(s string) (PolicyName, error) {
	if p := PolicyName(s); slices.Contains(Policies, p) {
		return p, nil
	}
	return "", fmt.Errorf("%q: want one of %v", s, Policies)
}

// NewPolicy returns the named policy for n frames; seed drives random.
func NewPolicy(name PolicyName, n int, seed uint64) (Policy, error) {
	switch name {
	case PolicyClock:
		return &Clock{ref: make([]bool, n)}, nil
	case PolicyLRU:
		return newList(n, true), nil
	case PolicyFIFO:
		return newList(n, false), nil
	case PolicyOPT:
		return newOPT(n), nil
	case PolicyRandom:
		return &Random{n: n, rng: rand.New(rand.NewPCG(seed, 0x766d73696d))}, nil
	}
	return nil, fmt.Errorf("unknown replacement policy %q (want one of %v)", name, Policies)
}

// Clock is the second-chance clock: a loaded frame and every hit set the reference bit;
// the hand starts at frame 0, clears set bits as it passes, takes the first clear frame
// and stops just past it.
type Clock struct {
	// Invariant: 0 <= hand < len(ref).
	ref  []bool
	hand int
}

func (c *Clock) Loaded(f FrameID)       { c.ref[f] = true }
func (c *Clock) Hit(f FrameID, _ int64) { c.ref[f] = true }
func (c *Clock) Removed(f FrameID)      { c.ref[f] = false }

func (c *Clock) Victim(pinned FrameID) FrameID {
	for {
		f := FrameID(c.hand)
		c.hand++
		if c.hand == len(c.ref) {
			c.hand = 0
		}
		if f == pinned {
			continue
		}
		if !c.ref[f] {
			return f
		}
		c.ref[f] = false
	}
}

// List is LRU (hits move a frame to the front) or FIFO (they do not): the victim is the
// frame at the back, the least recently used or the earliest loaded.
type List struct {
	// Invariant: prev/next link exactly the frames in use, front to back; -1 ends.
	prev, next  []FrameID
	front, back FrameID
	lru         bool
}

func newList(n int, lru bool) *List {
	l := &List{prev: make([]FrameID, n), next: make([]FrameID, n), front: NoFrame, back: NoFrame, lru: lru}
	return l
}

func (l *List) pushFront(f FrameID) {
	l.prev[f], l.next[f] = NoFrame, l.front
	if l.front != NoFrame {
		l.prev[l.front] = f
	} else {
		l.back = f
	}
	l.front = f
}

func (l *List) unlink(f FrameID) {
	p, n := l.prev[f], l.next[f]
	if p != NoFrame {
		l.next[p] = n
	} else {
		l.front = n
	}
	if n != NoFrame {
		l.prev[n] = p
	} else {
		l.back = p
	}
}

func (l *List) Loaded(f FrameID)     { l.pushFront(f) }
func (l *List) Removed(f FrameID)    { l.unlink(f) }
func (l *List) Rekey(FrameID, int64) {}

func (l *List) Hit(f FrameID, _ int64) {
	if l.lru && l.front != f {
		l.unlink(f)
		l.pushFront(f)
	}
}

func (l *List) Victim(pinned FrameID) FrameID {
	f := l.back
	if f == pinned {
		f = l.prev[f]
	}
	return f
}

// OPT is Belady's MIN: the victim is the frame whose page is used again furthest in the
// future (NeverUsed first); among equals, the lowest-numbered frame.
type OPT struct {
	// heap is a max-heap of frames in use by (key, -frame); pos[f] is f's index in it
	// or -1. Invariant: pos and heap agree.
	heap []FrameID
	pos  []int32
	key  []int64
}

func newOPT(n int) *OPT {
	o := &OPT{pos: make([]int32, n), key: make([]int64, n)}
	for i := range o.pos {
		o.pos[i] = -1
	}
	return o
}

func (o *OPT) above(a, b FrameID) bool {
	if o.key[a] != o.key[b] {
		return o.key[a] > o.key[b]
	}
	return a < b
}

func (o *OPT) swap(i, j int) {
	h := o.heap
	h[i], h[j] = h[j], h[i]
	o.pos[h[i]], o.pos[h[j]] = int32(i), int32(j)
}

func (o *OPT) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !o.above(o.heap[i], o.heap[p]) {
			return
		}
		o.swap(i, p)
		i = p
	}
}

func (o *OPT) down(i int) {
	n := len(o.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && o.above(o.heap[c+1], o.heap[c]) {
			c++
		}
		if !o.above(o.heap[c], o.heap[i]) {
			return
		}
		o.swap(i, c)
		i = c
	}
}

func (o *OPT) Loaded(f FrameID) {
	o.key[f] = NeverUsed
	o.pos[f] = int32(len(o.heap))
	o.heap = append(o.heap, f)
	o.up(len(o.heap) - 1)
}

func (o *OPT) Hit(f FrameID, nextUse int64) {
	old := o.key[f]
	o.key[f] = nextUse
	i := int(o.pos[f])
	if nextUse > old {
		o.up(i)
	} else {
		o.down(i)
	}
}

func (o *OPT) Rekey(f FrameID, nextUse int64) { o.Hit(f, nextUse) }

func (o *OPT) Removed(f FrameID) {
	i := int(o.pos[f])
	last := len(o.heap) - 1
	if i != last {
		o.swap(i, last)
	}
	o.heap = o.heap[:last]
	o.pos[f] = -1
	if i != last {
		o.down(i)
		o.up(i)
	}
}

func (o *OPT) Victim(pinned FrameID) FrameID {
	top := o.heap[0]
	if top != pinned {
		return top
	}
	// The pinned frame is on top: the better of its children is the next best.
	best := NoFrame
	for _, c := range []int{1, 2} {
		if c < len(o.heap) && (best == NoFrame || o.above(o.heap[c], best)) {
			best = o.heap[c]
		}
	}
	return best
}

// Random steals a uniformly chosen frame other than the pinned one.
type Random struct {
	n   int
	rng *rand.Rand
}

func (r *Random) Loaded(FrameID)     {}
func (r *Random) Hit(FrameID, int64) {}
func (r *Random) Removed(FrameID)    {}
func (r *Random) Victim(pinned FrameID) FrameID {
	for {
		if f := FrameID(r.rng.IntN(r.n)); f != pinned {
			return f
		}
	}
}

func (c *Clock) Rekey(FrameID, int64)  {}
func (r *Random) Rekey(FrameID, int64) {}
