package incremental

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// Settings are incremental's own parameters.
type Settings struct {
	// MergeEvery merges the chain when it holds this many incremental checkpoints (0:
	// never by count).
	MergeEvery int
	// MergeChainBytes merges the chain when its incremental checkpoints hold at least this
	// many bytes of pages (0: never by size).
	MergeChainBytes int64
	// MirrorCache is the destination server's cache in bytes (0: no mirror; else at least
	// one page).
	MirrorCache int64
	// MirrorFlushEvery flushes the mirror's cache when the trace reaches every multiple of
	// this many accesses (0: only when full).
	MirrorFlushEvery int64
}

// Incremental is scheme incremental (docs/incremental.md).
type Incremental struct {
	set      Settings
	pageSize int64
	shift    uint
	blocks   int // stamps per page, 0 when not verifying
	doms     scheme.Domains
	state    map[scheme.Domain]*domState
	pages    scheme.PageSet
	dev      Storage
	store    *Store // dev when it is the default
	mem      *scheme.PageData
	scratch  []uint64
	list     []Page

	// stored is the number of (page) copies on storage over all domains: full + chain.
	// Invariant: stored == sum over domains of fullPages + chainPages.
	stored int64
	// union is the pages a restore of every domain reads.
	// Invariant: union == sum over domains of unionPages.
	union int64

	c counts
}

// domState is one domain's checkpoint chain, as metadata.
//
// Invariant: dirty holds the pages written since the domain's last checkpoint or recovery.
// Invariant: len(where) == stored.Len(); fullPages == |{i: where[i]&inFull}|, unionPages
// == stored.Len() (every page has a flag), chainPages >= |{i: where[i]&inChain}| and
// chainPages == 0 iff chainLen == 0 or every incremental was empty.
type domState struct {
	dirty scheme.DirtySet
	// stored numbers the pages the domain's checkpoints hold; where gives, by number, the
	// checkpoints holding each: inFull | inChain.
	stored     scheme.PageIndex
	where      []uint8
	fullPages  int64
	chainPages int64 // page copies in the chain's incrementals, with repetitions
	unionPages int64
	chainLen   int
}

const (
	inFull  uint8 = 1
	inChain uint8 = 2
)

type counts struct {
	traps, toStorage, recovery                    int64
	incrementals, merges, mergeRead, mergeWrite   int64
	chainPeak, storagePeak, restorePeak, restores int64
}

// Counts are incremental's own counters (scheme.Info.Own), each declared by its tags.
type Counts struct {
	Incrementals         int64 `json:"incrementals" doc:"incremental checkpoints written (one per checkpoint, empty ones included)"`
	Merges               int64 `json:"merges" doc:"merges of a domain's full checkpoint and chain into a new full checkpoint"`
	MergeReadBytes       int64 `json:"merge_read_bytes" doc:"bytes merges read: at each, the full checkpoint's pages plus every page copy of every incremental in the chain, × page size"`
	MergeWriteBytes      int64 `json:"merge_write_bytes" doc:"bytes merges write: at each, the distinct pages of the full checkpoint and the chain (the new full checkpoint), × page size"`
	ChainPeakBytes       int64 `json:"chain_peak_bytes" kind:"peak" doc:"the most bytes the incremental chains of all domains held at once, sampled after each checkpoint"`
	StoragePeakBytes     int64 `json:"storage_peak_bytes" kind:"peak" doc:"the most bytes of checkpoints on storage at once (full + chains, all domains), sampled after each checkpoint and during each merge (old full + chain + new full)"`
	RestoreReadBytes     int64 `json:"restore_read_bytes" kind:"end" doc:"bytes a restore of every domain would read at the end of the run: the newest copy of each page on storage, × page size"`
	RestoreReadPeakBytes int64 `json:"restore_read_peak_bytes" kind:"peak" doc:"the largest restore_read_bytes over the run, sampled after each checkpoint"`
	Restores             int64 `json:"restores" doc:"restores from storage: one per crash of volatile memory"`
	MirrorFlushes        int64 `json:"mirror_flushes" doc:"mirror cache flushes that wrote at least one page to the disk (0 without --mirror-cache)"`
	MirrorAbsorbedBytes  int64 `json:"mirror_absorbed_bytes" doc:"bytes of page copies overwritten in the mirror cache by a newer copy before reaching the disk"`
	MirrorDiskBytes      int64 `json:"mirror_disk_bytes" doc:"bytes the mirror wrote from its cache to its disk"`
	MirrorPeakBytes      int64 `json:"mirror_peak_bytes" kind:"peak" doc:"the most bytes the mirror cache held at once"`
}

// New returns incremental for machine m with settings set, writing to dev (nil: a Store
// built from set; a *Store given here supplies the mirror counters, and its own mirror
// settings apply).
func New(m scheme.Machine, set Settings, dev Storage) (*Incremental, error) {
	if set.MergeEvery < 0 || set.MergeChainBytes < 0 || set.MirrorCache < 0 || set.MirrorFlushEvery < 0 {
		return nil, fmt.Errorf("incremental: negative setting in %+v", set)
	}
	if set.MirrorCache > 0 && set.MirrorCache < int64(m.PageSize) {
		return nil, fmt.Errorf("--mirror-cache %d: want 0 (no mirror) or at least one page (%d bytes)", set.MirrorCache, m.PageSize)
	}
	s := &Incremental{
		set:      set,
		pageSize: int64(m.PageSize),
		shift:    uint(bits.TrailingZeros64(m.PageSize)),
		doms:     scheme.Domains{PerASID: m.PerASID},
		state:    map[scheme.Domain]*domState{},
	}
	s.pages.SetMax(m.MaxPages)
	if m.VerifyBlock > 0 {
		s.blocks = int(m.PageSize / m.VerifyBlock)
		s.mem = scheme.NewPageData(m.PageSize, m.VerifyBlock)
		s.scratch = make([]uint64, s.blocks)
	}
	if dev == nil {
		dev = NewStore(m.PageSize, s.blocks, int(set.MirrorCache/int64(m.PageSize)), set.MirrorFlushEvery)
	}
	s.store, _ = dev.(*Store)
	s.dev = dev
	return s, nil
}

// DomainOf returns the domain of an address space.
func (s *Incremental) DomainOf(asid record.ASID) scheme.Domain { return s.doms.Of(asid) }

func (s *Incremental) dom(d scheme.Domain) *domState {
	st := s.state[d]
	if st == nil {
		st = &domState{}
		s.state[d] = st
	}
	return st
}

// Access performs the run's accesses: a write to a page not written since the checkpoint
// traps once (write protection) and marks it dirty. An access past Machine.MaxPages does
// nothing more than set Err.
func (s *Incremental) Access(run scheme.Run) int {
	for i := range run.Recs {
		s.access(&run.Recs[i], run.N+int64(i)+1)
		if run.Verify != nil {
			run.Verify(i)
		}
	}
	return len(run.Recs)
}

// access performs access n, a.
func (s *Incremental) access(a *record.Record, n int64) {
	s.dev.Tick(n)
	first, last := a.Addr>>s.shift, (a.Addr+uint64(a.Size)-1)>>s.shift
	write := a.Kind.Writes()
	if !s.pages.Add(uint32(a.ASID), first, last, write, n) {
		return
	}
	if !write {
		return
	}
	st := s.dom(s.DomainOf(a.ASID))
	s.c.traps += st.dirty.MarkPages(a.ASID, first, last)
}

// Checkpoint writes domain d's dirty pages, in address order, as an incremental
// checkpoint, seals it, and merges the chain when a trigger says so.
func (s *Incremental) Checkpoint(d scheme.Domain) {
	st := s.dom(d)
	s.list = st.dirty.Sorted(s.list)
	list := s.list
	for _, p := range list {
		var data []uint64
		if s.blocks > 0 {
			data = s.scratch
			s.mem.Read(p, data)
		}
		s.dev.Send(d, p, data)
		id, added := st.stored.Add(p)
		if added {
			st.where = append(st.where, 0)
			st.unionPages++
			s.union++
		}
		st.where[id] |= inChain
	}
	s.dev.Commit(d)
	n := int64(len(list))
	s.c.toStorage += n * s.pageSize
	st.chainPages += n
	st.chainLen++
	s.stored += n
	s.c.incrementals++
	st.dirty.Reset()
	s.c.chainPeak = max(s.c.chainPeak, s.chainTotal()*s.pageSize)
	s.c.storagePeak = max(s.c.storagePeak, s.stored*s.pageSize)
	s.c.restorePeak = max(s.c.restorePeak, s.union*s.pageSize)
	if s.set.MergeEvery > 0 && st.chainLen >= s.set.MergeEvery ||
		s.set.MergeChainBytes > 0 && st.chainPages*s.pageSize >= s.set.MergeChainBytes {
		s.merge(d, st)
	}
}

func (s *Incremental) chainTotal() int64 {
	var n int64
	for _, st := range s.state {
		n += st.chainPages
	}
	return n
}

// merge reads domain d's full checkpoint and chain and writes the new full checkpoint; the
// old ones are deleted once it is written.
func (s *Incremental) merge(d scheme.Domain, st *domState) {
	s.c.merges++
	s.c.mergeRead += (st.fullPages + st.chainPages) * s.pageSize
	s.c.mergeWrite += st.unionPages * s.pageSize
	s.c.storagePeak = max(s.c.storagePeak, (s.stored+st.unionPages)*s.pageSize)
	s.dev.Merge(d)
	for i := range st.where {
		st.where[i] = inFull
	}
	s.stored += st.unionPages - st.fullPages - st.chainPages
	st.fullPages, st.chainPages, st.chainLen = st.unionPages, 0, 0
}

// Rollback reads domain d's pages dirtied since its checkpoint back from storage.
func (s *Incremental) Rollback(d scheme.Domain) {
	st := s.dom(d)
	s.list = st.dirty.Sorted(s.list)
	list := s.list
	if s.blocks > 0 {
		for _, p := range list {
			s.dev.Fetch(d, p, s.mem.Page(p))
		}
	}
	s.c.recovery += int64(len(list)) * s.pageSize
	st.dirty.Reset()
}

// Crash loses memory: every domain is restored from storage, reading the newest copy of
// each page its checkpoints hold; every other page is back to its initial content.
func (s *Incremental) Crash() {
	if s.blocks > 0 {
		s.mem.Clear()
	}
	for d, st := range s.state {
		if s.blocks > 0 {
			for _, p := range st.stored.Pages() {
				s.dev.Fetch(d, p, s.mem.Page(p))
			}
		}
		st.dirty.Reset()
	}
	s.c.recovery += s.union * s.pageSize
	s.c.restores++
}

// Image returns the stamps of page n of asid in memory (scheme.Scheme).
func (s *Incremental) Image(asid record.ASID, n uint64, create bool) []uint64 {
	return s.mem.Image(asid, n, create)
}

// Counters adds incremental's counts to c.
func (s *Incremental) Counters(c *scheme.Tally) {
	c.PagesTouched += s.pages.Touched()
	c.PagesWritten += s.pages.Written()
	c.BytesToStorage += s.c.toStorage
	c.CheckpointStallBytes += s.c.toStorage
	c.Traps += s.c.traps
	c.RecoveryBytes += s.c.recovery
	o := scheme.Own[Counts](c)
	o.Incrementals += s.c.incrementals
	o.Merges += s.c.merges
	o.MergeReadBytes += s.c.mergeRead
	o.MergeWriteBytes += s.c.mergeWrite
	o.ChainPeakBytes += s.c.chainPeak
	o.StoragePeakBytes += s.c.storagePeak
	o.RestoreReadBytes += s.union * s.pageSize
	o.RestoreReadPeakBytes += s.c.restorePeak
	o.Restores += s.c.restores
	if s.store != nil {
		m := s.store.Mirror
		o.MirrorFlushes += m.Flushes
		o.MirrorAbsorbedBytes += m.AbsorbedBytes
		o.MirrorDiskBytes += m.DiskBytes
		o.MirrorPeakBytes += m.PeakBytes
	}
}

// Check verifies the invariants from scratch.
func (s *Incremental) Check() error {
	var stored, union int64
	for d, st := range s.state {
		if err := st.stored.Check(); err != nil {
			return fmt.Errorf("incremental: domain %d's stored pages: %w", d, err)
		}
		if len(st.where) != st.stored.Len() {
			return fmt.Errorf("incremental: domain %d: %d flags for %d stored pages", d, len(st.where), st.stored.Len())
		}
		var full, chain int64
		for id, w := range st.where {
			p := st.stored.Key(int32(id))
			if w == 0 || w&^(inFull|inChain) != 0 {
				return fmt.Errorf("incremental: page %+v of domain %d has flags %d", p, d, w)
			}
			if s.DomainOf(p.ASID) != d {
				return fmt.Errorf("incremental: page %+v stored in domain %d", p, d)
			}
			if w&inFull != 0 {
				full++
			}
			if w&inChain != 0 {
				chain++
			}
		}
		if full != st.fullPages || int64(st.stored.Len()) != st.unionPages || chain > st.chainPages {
			return fmt.Errorf("incremental: domain %d counts full %d union %d chain %d; flags say %d %d %d",
				d, st.fullPages, st.unionPages, st.chainPages, full, st.stored.Len(), chain)
		}
		if s.set.MergeEvery > 0 && st.chainLen >= s.set.MergeEvery {
			return fmt.Errorf("incremental: domain %d's chain holds %d incrementals, merge every %d", d, st.chainLen, s.set.MergeEvery)
		}
		if err := st.dirty.Check(d, s.DomainOf); err != nil {
			return fmt.Errorf("incremental: %w", err)
		}
		stored += st.fullPages + st.chainPages
		union += st.unionPages
	}
	if err := s.pages.Check(); err != nil {
		return fmt.Errorf("incremental: %w", err)
	}
	if stored != s.stored || union != s.union {
		return fmt.Errorf("incremental: stored %d union %d, domains sum to %d %d", s.stored, s.union, stored, union)
	}
	if s.store != nil {
		if s.store.BytesWritten != s.c.toStorage {
			return fmt.Errorf("incremental: wrote %d bytes, the store received %d", s.c.toStorage, s.store.BytesWritten)
		}
		if s.blocks > 0 && int64(s.store.newest.Len()) != s.union {
			return fmt.Errorf("incremental: the store holds %d pages, the chains %d", s.store.newest.Len(), s.union)
		}
		return s.store.check()
	}
	return nil
}

// Err returns the error that ended the run: more pages than Machine.MaxPages.
func (s *Incremental) Err() error { return s.pages.Err() }
