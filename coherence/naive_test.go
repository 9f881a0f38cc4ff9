package coherence

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/cache"
	"github.com/vmsim/vmsim/record"
)

// This file is a deliberately naive MSI model, written apart from the package for the
// tests to compare against: each core's cache is a map from line to state plus, per set,
// a plain list of its lines, most recently used first; there is no directory, a miss asks
// every other core in turn.

// nstate is a line's state in one core.
type nstate int

const (
	nShared nstate = iota + 1
	nModified
)

type ncore struct {
	state                             map[cache.Line]nstate
	lru                               map[uint64][]cache.Line // by set: most recently used first
	refs, misses, writebacks, flushed int64
}

type naive struct {
	cores           []*ncore
	sets            uint64
	ways            int
	inv, down, xfer int64
	log             []string
}

func newNaive(cores int, g cache.Geometry) *naive {
	n := &naive{sets: g.Size / g.Line / uint64(g.Ways), ways: g.Ways}
	for range cores {
		n.cores = append(n.cores, &ncore{state: map[cache.Line]nstate{}, lru: map[uint64][]cache.Line{}})
	}
	return n
}

func (n *naive) logf(format string, a ...any) { n.log = append(n.log, fmt.Sprintf(format, a...)) }

// remove takes l out of core c's cache.
func (n *naive) remove(c int, l cache.Line) {
	k := n.cores[c]
	delete(k.state, l)
	s := l.N % n.sets
	k.lru[s] = slices.DeleteFunc(k.lru[s], func(x cache.Line) bool { return x == l })
}

func (n *naive) access(c int, l cache.Line, write bool) (hit bool) {
	k := n.cores[c]
	k.refs++
	s := l.N % n.sets
	if st, ok := k.state[l]; ok {
		i := slices.Index(k.lru[s], l)
		k.lru[s] = append([]cache.Line{l}, slices.Delete(k.lru[s], i, i+1)...)
		if write && st == nShared {
			for o := range n.cores {
				if o != c && n.cores[o].state[l] != 0 {
					n.remove(o, l)
					n.inv++
					n.logf("inv %d<-%d %d:%d S", o, c, l.ASID, l.N)
				}
			}
			k.state[l] = nModified
		}
		return true
	}
	k.misses++
	if list := k.lru[s]; len(list) == n.ways {
		v := list[len(list)-1]
		if k.state[v] == nModified {
			k.writebacks++
			n.logf("wb %d %d:%d", c, v.ASID, v.N)
		}
		n.remove(c, v)
	}
	owner := -1
	for o := range n.cores {
		if o != c && n.cores[o].state[l] == nModified {
			owner = o
		}
	}
	switch {
	case owner >= 0 && write:
		n.xfer++
		n.inv++
		n.remove(owner, l)
		n.logf("inv %d<-%d %d:%d M", owner, c, l.ASID, l.N)
	case owner >= 0:
		n.xfer++
		n.down++
		n.logf("wb %d %d:%d", owner, l.ASID, l.N)
		n.cores[owner].state[l] = nShared
		n.logf("down %d<-%d %d:%d", owner, c, l.ASID, l.N)
	default:
		if write {
			for o := range n.cores {
				if o != c && n.cores[o].state[l] != 0 {
					n.remove(o, l)
					n.inv++
					n.logf("inv %d<-%d %d:%d S", o, c, l.ASID, l.N)
				}
			}
		}
		n.logf("fill %d %d:%d", c, l.ASID, l.N)
	}
	k.state[l] = nShared
	if write {
		k.state[l] = nModified
	}
	k.lru[s] = append([]cache.Line{l}, k.lru[s]...)
	return false
}

// flush flushes core c's cache; its write-backs are logged sorted (the real cache writes
// them in set and way order, which this model does not have).
func (n *naive) flush(c int, invalidate bool) int64 {
	k := n.cores[c]
	var wbs []string
	for l, st := range k.state {
		if st == nModified {
			wbs = append(wbs, fmt.Sprintf("wb %d %d:%d", c, l.ASID, l.N))
			k.state[l] = nShared
		}
		if invalidate {
			n.remove(c, l)
		}
	}
	slices.Sort(wbs)
	n.log = append(n.log, wbs...)
	k.writebacks += int64(len(wbs))
	k.flushed += int64(len(wbs))
	return int64(len(wbs))
}

func (n *naive) discard(c int, keep func(record.ASID) bool) {
	for l := range n.cores[c].state {
		if keep == nil || !keep(l.ASID) {
			n.remove(c, l)
		}
	}
}

func (n *naive) dirty(c int) int64 {
	var d int64
	for _, st := range n.cores[c].state {
		if st == nModified {
			d++
		}
	}
	return d
}
