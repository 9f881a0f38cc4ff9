package traces

// pageSet numbers distinct (address space, page) pairs densely, in order of first sight,
// at about 20 to 30 bytes a pair whatever the pattern of pages: the keys in two slices,
// and an open-addressing (linear probing) index of id+1.
type pageSet struct {
	asids []ASID
	pages []uint64
	// index holds id+1 (0: empty). Invariant: len(index) is a power of two at least
	// 2*len(pages); each id is in it once, at or after the slot its key hashes to.
	index     []uint32
	indexBits uint
}

func newPageSet() *pageSet {
	return &pageSet{index: make([]uint32, 1<<10), indexBits: 10}
}

// Len is the number of distinct pairs.
func (s *pageSet) Len() int { return len(s.pages) }

func (s *pageSet) slot(asid ASID, page uint64) uint64 {
	h := (page ^ uint64(asid)<<48 ^ uint64(asid)>>16) * 0x9E3779B97F4A7C15
	return h >> (64 - s.indexBits)
}

// id returns the pair's number, adding it when new (added reports that).
// Precondition: Len() < 2^32-1.
func (s *pageSet) id(asid ASID, page uint64) (id int, added bool) {
	mask := uint64(len(s.index) - 1)
	i := s.slot(asid, page)
	for ; s.index[i] != 0; i = (i + 1) & mask {
		if j := s.index[i] - 1; s.pages[j] == page && s.asids[j] == asid {
			return int(j), false
		}
	}
	id = len(s.pages)
	s.pages = append(s.pages, page)
	s.asids = append(s.asids, asid)
	s.index[i] = uint32(id + 1)
	if 2*len(s.pages) > len(s.index) {
		s.indexBits++
		s.index = make([]uint32, 1<<s.indexBits)
		mask = uint64(len(s.index) - 1)
		for j := range s.pages {
			k := s.slot(s.asids[j], s.pages[j])
			for s.index[k] != 0 {
				k = (k + 1) & mask
			}
			s.index[k] = uint32(j + 1)
		}
	}
	return id, true
}

// find returns the pair's number without adding it.
func (s *pageSet) find(asid ASID, page uint64) (id int, found bool) {
	mask := uint64(len(s.index) - 1)
	for i := s.slot(asid, page); s.index[i] != 0; i = (i + 1) & mask {
		if j := s.index[i] - 1; s.pages[j] == page && s.asids[j] == asid {
			return int(j), true
		}
	}
	return 0, false
}
