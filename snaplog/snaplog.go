package snaplog

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// DefaultHeader is the default size in bytes of a log entry's header: the access number
// (8 bytes), the address space (2), the channel (2) and the input's size (4).
const DefaultHeader = 16

// Settings are snaplog's own parameters.
type Settings struct {
	// Header is the bytes each log entry takes besides the input's data (--log-header).
	Header int64
}

// Snaplog is scheme snaplog (docs/snaplog.md).
type Snaplog struct {
	header   int64
	pageSize int64
	shift    uint
	blocks   int // stamps per page, 0 when not verifying
	doms     scheme.Domains
	state    map[scheme.Domain]*domState
	pages    scheme.PageSet
	link     Link
	backup   *MemBackup // link when it is the default
	// mem is the primary's memory, by page, when verifying (nil otherwise).
	mem     *scheme.PageData
	scratch []uint64
	list    []Page
	// held is the set of pages the backup holds a committed copy of (all domains).
	held scheme.PageIndex
	// lastN is the highest access number seen: accesses numbered above it are made for the
	// first time, the others are replays.
	lastN int64
	// logHeld is the bytes of the logs since the last snapshots, all domains.
	// Invariant: logHeld == sum over domains of logBytes.
	logHeld int64

	c counts
}

// domState is one domain's state since its last snapshot.
//
// Invariant: dirty holds the pages of the domain written since its last snapshot or
// recovery. Invariant: since >= 0; logBytes >= logEntries × header.
type domState struct {
	dirty scheme.DirtySet
	// since is the accesses of the domain made for the first time since its last snapshot:
	// what a recovery re-executes.
	since                int64
	logEntries, logBytes int64
}

type counts struct {
	traps, snapshots, snapBytes, snapPeak       int64
	logEntries, logBytes, logHeldPeak           int64
	recoveries, replayAccesses, replayPeak      int64
	recLogEntries, recLogBytes, recSnap, window int64
}

// Counts are snaplog's own counters (scheme.Info.Own), each declared by its tags.
type Counts struct {
	Snapshots              int64 `json:"snapshots" doc:"incremental snapshots sent to the backup: one per checkpoint, empty ones included"`
	SnapshotBytes          int64 `json:"snapshot_bytes" doc:"bytes of snapshots sent: at each, the distinct pages the domain wrote since its last snapshot or recovery, × page size"`
	SnapshotPeakBytes      int64 `json:"snapshot_peak_bytes" kind:"peak" doc:"the largest single snapshot, in bytes"`
	LogEntries             int64 `json:"log_entries" doc:"input records logged (each once, when the program first makes it)"`
	LogBytes               int64 `json:"log_bytes" doc:"bytes of log written: per input record, --log-header + its size (= bytes_logged)"`
	LogShippedBytes        int64 `json:"log_shipped_bytes" doc:"bytes of log shipped to the backup; every entry is shipped when written, so = log_bytes"`
	LogHeldPeakBytes       int64 `json:"log_held_peak_bytes" kind:"peak" doc:"the most log bytes the backup held at once (the logs since each domain's last snapshot, all domains), sampled at each input"`
	Recoveries             int64 `json:"recoveries" doc:"recoveries: one per rollback (transient failure, or crash of non-volatile memory) and one per crash of volatile memory"`
	RecoveryReplayAccesses int64 `json:"recovery_replay_accesses" doc:"accesses recoveries re-execute: per recovery, the accesses of the recovered domains since their last snapshots, the failing one included (= replayed_refs)"`
	ReplayLengthPeak       int64 `json:"replay_length_peak" kind:"peak" doc:"the most accesses one recovery re-executed"`
	RecoveryLogEntries     int64 `json:"recovery_log_entries" doc:"log entries recoveries replay: per recovery, the recovered domains' inputs since their last snapshots that precede the failure"`
	RecoveryLogBytes       int64 `json:"recovery_log_bytes" doc:"the bytes of those entries"`
	RecoverySnapshotBytes  int64 `json:"recovery_snapshot_bytes" doc:"bytes the backup sends back: rollbacks, the pages the domain wrote since its snapshot × page size; crashes, every page the backup holds × page size"`
	ReplayWindowPeak       int64 `json:"replay_window_peak" kind:"peak" doc:"the most accesses of one domain since its last snapshot at any time: the longest replay a failure could have needed"`
}

// New returns snaplog for machine m with settings set, sending through link (nil: a
// MemBackup).
func New(m scheme.Machine, set Settings, link Link) (*Snaplog, error) {
	if set.Header < 0 {
		return nil, fmt.Errorf("snaplog: --log-header %d: want at least 0", set.Header)
	}
	s := &Snaplog{
		header:   set.Header,
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
	if link == nil {
		link = NewMemBackup(m.PageSize, s.blocks)
	}
	s.backup, _ = link.(*MemBackup)
	s.link = link
	return s, nil
}

// DomainOf returns the domain of an address space.
func (s *Snaplog) DomainOf(asid record.ASID) scheme.Domain { return s.doms.Of(asid) }

func (s *Snaplog) dom(d scheme.Domain) *domState {
	st := s.state[d]
	if st == nil {
		st = &domState{}
		s.state[d] = st
	}
	return st
}

// Access performs the run's accesses: a write to a page not written since the domain's
// snapshot traps once (write protection) and marks it dirty. An access numbered above
// every one before it is made for the first time; a replayed one keeps its number. An
// access past Machine.MaxPages does nothing more than set Err.
func (s *Snaplog) Access(run scheme.Run) int {
	for i := range run.Recs {
		s.access(&run.Recs[i], run.N+int64(i)+1)
		if run.Verify != nil {
			run.Verify(i)
		}
	}
	return len(run.Recs)
}

// access performs access n, a.
func (s *Snaplog) access(a *record.Record, n int64) {
	first, last := a.Addr>>s.shift, (a.Addr+uint64(a.Size)-1)>>s.shift
	write := a.Kind.Writes()
	if !s.pages.Add(uint32(a.ASID), first, last, write, n) {
		return
	}
	st := s.dom(s.DomainOf(a.ASID))
	if n > s.lastN {
		s.lastN = n
		st.since++
		s.c.window = max(s.c.window, st.since)
	}
	if !write {
		return
	}
	s.c.traps += st.dirty.MarkPages(a.ASID, first, last)
}

// IO logs an input record and ships the entry to the backup; outputs are not logged.
func (s *Snaplog) IO(a record.Record, n int64) {
	if a.Kind != record.Input {
		return
	}
	d := s.DomainOf(a.ASID)
	st := s.dom(d)
	e := Entry{ASID: a.ASID, Channel: a.Addr, Size: a.Size, N: n, Bytes: s.header + int64(a.Size)}
	s.link.Ship(d, e)
	st.logEntries++
	st.logBytes += e.Bytes
	s.logHeld += e.Bytes
	s.c.logEntries++
	s.c.logBytes += e.Bytes
	s.c.logHeldPeak = max(s.c.logHeldPeak, s.logHeld)
}

// Checkpoint sends domain d's pages written since its last snapshot to the backup, in
// address order, and commits them; the commit truncates d's log.
func (s *Snaplog) Checkpoint(d scheme.Domain) {
	st := s.dom(d)
	s.list = st.dirty.Sorted(s.list)
	list := s.list
	for _, p := range list {
		var data []uint64
		if s.blocks > 0 {
			data = s.scratch
			s.mem.Read(p, data)
		}
		s.link.Send(d, p, data)
		s.held.Add(p)
	}
	s.link.Commit(d)
	n := int64(len(list)) * s.pageSize
	s.c.snapshots++
	s.c.snapBytes += n
	s.c.snapPeak = max(s.c.snapPeak, n)
	s.logHeld -= st.logBytes
	st.logEntries, st.logBytes, st.since = 0, 0, 0
	st.dirty.Reset()
}

// Rollback restores domain d's pages written since its snapshot from the backup and reads
// back the log a replay needs; the driver then re-executes the accesses since the snapshot.
// That is all of d's log: every input shipped so far came before the failure, which
// strikes after the last access and the I/O records made since (a fail record after them),
// before any later record is made; hence s.lastN+1.
func (s *Snaplog) Rollback(d scheme.Domain) {
	st := s.dom(d)
	s.list = st.dirty.Sorted(s.list)
	list := s.list
	if s.blocks > 0 {
		for _, p := range list {
			s.link.Fetch(d, p, s.mem.Page(p))
		}
	}
	entries, bytes := s.link.Replay(d, s.lastN+1)
	s.recovered(st.since, entries, bytes, int64(len(list))*s.pageSize)
	st.dirty.Reset()
}

// Crash loses memory: every page is restored from the backup's snapshot (pages it does
// not hold are back to their initial content) and every domain's log is read back.
func (s *Snaplog) Crash() {
	if s.blocks > 0 {
		s.mem.Clear()
		s.list = s.held.Sorted(s.list)
		for _, p := range s.list {
			s.link.Fetch(s.DomainOf(p.ASID), p, s.mem.Page(p))
		}
	}
	ds := make([]scheme.Domain, 0, len(s.state))
	for d := range s.state {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	var replay, entries, bytes int64
	for _, d := range ds {
		st := s.state[d]
		e, b := s.link.Replay(d, s.lastN+1)
		replay += st.since
		entries += e
		bytes += b
		st.dirty.Reset()
	}
	s.recovered(replay, entries, bytes, int64(s.held.Len())*s.pageSize)
}

func (s *Snaplog) recovered(replay, entries, bytes, snap int64) {
	s.c.recoveries++
	s.c.replayAccesses += replay
	s.c.replayPeak = max(s.c.replayPeak, replay)
	s.c.recLogEntries += entries
	s.c.recLogBytes += bytes
	s.c.recSnap += snap
}

// Image returns the stamps of page n of asid in memory (scheme.Scheme).
func (s *Snaplog) Image(asid record.ASID, n uint64, create bool) []uint64 {
	return s.mem.Image(asid, n, create)
}

// Counters adds snaplog's counts to c.
func (s *Snaplog) Counters(c *scheme.Tally) {
	c.PagesTouched += s.pages.Touched()
	c.PagesWritten += s.pages.Written()
	c.BytesLogged += s.c.logBytes
	c.BytesToBackup += s.c.snapBytes + s.c.logBytes
	c.CheckpointStallBytes += s.c.snapBytes
	c.Traps += s.c.traps
	c.RecoveryBytes += s.c.recSnap + s.c.recLogBytes
	o := scheme.Own[Counts](c)
	o.Snapshots += s.c.snapshots
	o.SnapshotBytes += s.c.snapBytes
	o.SnapshotPeakBytes += s.c.snapPeak
	o.LogEntries += s.c.logEntries
	o.LogBytes += s.c.logBytes
	o.LogShippedBytes += s.c.logBytes
	o.LogHeldPeakBytes += s.c.logHeldPeak
	o.Recoveries += s.c.recoveries
	o.RecoveryReplayAccesses += s.c.replayAccesses
	o.ReplayLengthPeak += s.c.replayPeak
	o.RecoveryLogEntries += s.c.recLogEntries
	o.RecoveryLogBytes += s.c.recLogBytes
	o.RecoverySnapshotBytes += s.c.recSnap
	o.ReplayWindowPeak += s.c.window
}

// Check verifies the invariants from scratch.
func (s *Snaplog) Check() error {
	var held int64
	for d, st := range s.state {
		if err := st.dirty.Check(d, s.DomainOf); err != nil {
			return fmt.Errorf("snaplog: %w", err)
		}
		if st.since < 0 || st.since > s.c.window {
			return fmt.Errorf("snaplog: domain %d: %d accesses since its snapshot, window peak %d", d, st.since, s.c.window)
		}
		if st.logEntries < 0 || st.logBytes < st.logEntries*s.header {
			return fmt.Errorf("snaplog: domain %d's log holds %d entries in %d bytes", d, st.logEntries, st.logBytes)
		}
		held += st.logBytes
		if s.backup != nil {
			if e, b := s.backup.Log(d); e != st.logEntries || b != st.logBytes {
				return fmt.Errorf("snaplog: domain %d logged %d entries (%d bytes) since its snapshot, the backup holds %d (%d bytes)",
					d, st.logEntries, st.logBytes, e, b)
			}
		}
	}
	if err := s.pages.Check(); err != nil {
		return fmt.Errorf("snaplog: %w", err)
	}
	if err := s.held.Check(); err != nil {
		return fmt.Errorf("snaplog: pages held: %w", err)
	}
	if held != s.logHeld || held > s.c.logHeldPeak && held > 0 {
		return fmt.Errorf("snaplog: logs hold %d bytes, counted %d, peak %d", held, s.logHeld, s.c.logHeldPeak)
	}
	if s.mem != nil {
		if err := s.mem.Check(); err != nil {
			return fmt.Errorf("snaplog: %w", err)
		}
	}
	if b := s.backup; b != nil {
		if b.BytesReceived != s.c.snapBytes || b.LogBytesReceived != s.c.logBytes || b.Commits != s.c.snapshots {
			return fmt.Errorf("snaplog: sent %d snapshot bytes, %d log bytes, %d commits; the backup received %d, %d, %d",
				s.c.snapBytes, s.c.logBytes, s.c.snapshots, b.BytesReceived, b.LogBytesReceived, b.Commits)
		}
		if s.blocks > 0 && b.img.Len() != s.held.Len() {
			return fmt.Errorf("snaplog: the backup holds %d pages, the primary sent %d", b.img.Len(), s.held.Len())
		}
		return b.check()
	}
	return nil
}

// Err returns the error that ended the run: more pages than Machine.MaxPages.
func (s *Snaplog) Err() error { return s.pages.Err() }
