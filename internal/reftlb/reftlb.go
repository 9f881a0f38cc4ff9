package reftlb

import "slices"

type entry struct {
	asid uint32
	vpn  uint64
	tag  uint64
}

// TLB is the naive model.
type TLB struct {
	sets   map[uint64][]entry
	nsets  uint64
	ways   int
	Misses int64
	Stale  int64
}

// New returns an empty TLB of entries entries and ways ways.
func New(entries, ways int) *TLB {
	return &TLB{sets: map[uint64][]entry{}, nsets: uint64(entries / ways), ways: ways}
}

// Lookup translates (asid, vpn) in a domain at checkpoint number tag.
func (t *TLB) Lookup(asid uint32, vpn, tag uint64, write bool) {
	s := vpn % t.nsets
	set := t.sets[s]
	for i, e := range set {
		if e.asid == asid && e.vpn == vpn {
			if write && e.tag != tag {
				t.Misses++
				t.Stale++
				e.tag = tag
			}
			t.sets[s] = append([]entry{e}, slices.Delete(set, i, i+1)...)
			return
		}
	}
	t.Misses++
	if len(set) == t.ways {
		set = set[:len(set)-1]
	}
	t.sets[s] = append([]entry{{asid, vpn, tag}}, set...)
}

// Flush drops every entry.
func (t *TLB) Flush() { clear(t.sets) }
