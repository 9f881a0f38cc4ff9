package repl

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// LogEntryBytes is the size of one entry of the cache-line log: a line address.
const LogEntryBytes = 8

// Cacheline is failover by cache-line logging (scheme cacheline; docs/repl.md): the
// memory controller logs the address of every line written to memory, and a checkpoint
// sends the logged lines to the backup.
type Cacheline struct {
	lineBytes  int64
	lineShift  uint // log2 line size
	pageShift  uint
	capacity   int  // log entries before the log is full (--log-entries)
	blocks     int  // verification stamps per line; 0 when not verifying
	perPage    uint // log2 lines a page
	doms       scheme.Domains
	pages      scheme.PageSet
	backup     Backup
	mb         *MemBackup
	mem        *scheme.PageData // memory, in pages, when verifying
	scratch    []uint64
	request    func(scheme.Domain)
	logs       map[scheme.Domain]*lineLog
	touched    scheme.PageIndex // lines that reached memory (filled or written), all domains
	logEntries int64            // entries in all logs now

	c lineCounts
}

// lineLog is one domain's log of line addresses since its last checkpoint.
//
// Invariant: lines holds exactly the distinct lines of entries, and dups == len(entries) -
// lines.Len(); every entry's line belongs to the log's domain.
type lineLog struct {
	entries []Unit
	lines   scheme.DirtySet // the lines of entries, each once
	dups    int64           // entries whose line had an earlier entry in this log
}

type lineCounts struct {
	logged, duplicates, forced, overflow, sentLines, dupSent, recoveryLines, logPeak, checkpoints int64
}

// CachelineCounts are cacheline's own counters (scheme.Info.Own), each declared by its tags.
type CachelineCounts struct {
	LogEntries         int64 `json:"log_entries" doc:"line addresses appended to the logs: one per line of every write reaching memory (bytes_logged / 8)"`
	DuplicateLines     int64 `json:"duplicate_lines" doc:"log entries whose line already had an entry in its domain's log since the last checkpoint or recovery"`
	ForcedCheckpoints  int64 `json:"forced_checkpoints" doc:"times a domain's log became full (reached --log-entries entries), each asking the driver for a checkpoint"`
	LogOverflowEntries int64 `json:"log_overflow_entries" doc:"entries appended to a full log before the checkpoint emptied it (rest of the access, or the flush before the checkpoint)"`
	LinesSent          int64 `json:"lines_sent" doc:"lines sent to the backup by checkpoints: one per log entry, duplicates included (bytes_to_backup / line size)"`
	DuplicateLinesSent int64 `json:"duplicate_lines_sent" doc:"of lines_sent, the duplicates: a controller sending each logged line once would send (lines_sent - duplicate_lines_sent) lines"`
	LogPeakEntries     int64 `json:"log_peak_entries" kind:"peak" doc:"the most entries held by all logs at once"`
}

// NewCacheline returns cacheline for machine m with logs of capacity entries, sending to
// backup (nil: a MemBackup).
func NewCacheline(m scheme.Machine, capacity int, backup Backup) (*Cacheline, error) {
	line := m.CacheLine
	if line == 0 {
		line = m.Granule
	}
	if line == 0 || line&(line-1) != 0 || line > m.PageSize {
		return nil, fmt.Errorf("cacheline: line size %d: want a power of two no larger than the page size", line)
	}
	if capacity < 1 {
		return nil, fmt.Errorf("--log-entries %d: want at least 1", capacity)
	}
	c := &Cacheline{
		lineBytes: int64(line),
		lineShift: uint(bits.TrailingZeros64(line)),
		pageShift: uint(bits.TrailingZeros64(m.PageSize)),
		capacity:  capacity,
		doms:      scheme.Domains{PerASID: m.PerASID},
		request:   m.RequestCheckpoint,
		logs:      map[scheme.Domain]*lineLog{},
	}
	if c.request == nil {
		c.request = func(scheme.Domain) {}
	}
	c.pages.SetMax(m.MaxPages)
	if m.VerifyBlock > 0 {
		if m.VerifyBlock > line {
			return nil, fmt.Errorf("--verify-block %d: scheme cacheline wants at most its line size (%d: the cache line, or --granule without a cache)", m.VerifyBlock, line)
		}
		c.blocks = int(line / m.VerifyBlock)
		c.perPage = c.pageShift - c.lineShift
		c.mem = scheme.NewPageData(m.PageSize, m.VerifyBlock)
		c.scratch = make([]uint64, c.blocks)
	}
	if backup == nil {
		c.mb = NewMemBackup(line, c.blocks)
		backup = c.mb
	}
	c.backup = backup
	return c, nil
}

func (c *Cacheline) log(d scheme.Domain) *lineLog {
	l := c.logs[d]
	if l == nil {
		l = &lineLog{}
		c.logs[d] = l
	}
	return l
}

// Access sees the run's accesses reaching memory: a fill or a program read touches its
// lines; a write-back or a program store appends each line it covers to its domain's log.
// An access that fills a log asks for a checkpoint and ends the run (the rest of its
// lines still go to the log, counted as overflow). An access past Machine.MaxPages does
// nothing more than set Err.
func (c *Cacheline) Access(run scheme.Run) int {
	for i := range run.Recs {
		forced := c.access(&run.Recs[i], run.N+int64(i)+1)
		if run.Verify != nil {
			run.Verify(i)
		}
		if forced {
			return i + 1
		}
	}
	return len(run.Recs)
}

// access performs access n, a, and reports whether it asked for a checkpoint.
func (c *Cacheline) access(a *record.Record, n int64) (forced bool) {
	write := a.Kind.Writes()
	first, last := a.Addr>>c.lineShift, (a.Addr+uint64(a.Size)-1)>>c.lineShift
	if !c.pages.Add(uint32(a.ASID), a.Addr>>c.pageShift, (a.Addr+uint64(a.Size)-1)>>c.pageShift, write, n) {
		return false
	}
	var lg *lineLog
	var d scheme.Domain
	if write {
		d = c.doms.Of(a.ASID)
		lg = c.log(d)
	}
	for l := first; ; l++ {
		u := Unit{ASID: a.ASID, N: l}
		c.touched.Add(u)
		if write {
			if !lg.lines.Mark(u) {
				c.c.duplicates++
				lg.dups++
			}
			lg.entries = append(lg.entries, u)
			c.c.logged++
			c.logEntries++
			c.c.logPeak = max(c.c.logPeak, c.logEntries)
			switch {
			case len(lg.entries) == c.capacity:
				c.c.forced++
				c.request(d)
				forced = true
			case len(lg.entries) > c.capacity:
				c.c.overflow++
			}
		}
		if l == last {
			return forced
		}
	}
}

// DomainOf returns the domain of an address space.
func (c *Cacheline) DomainOf(asid record.ASID) scheme.Domain { return c.doms.Of(asid) }

// Checkpoint sends domain d's logged lines (the cache already flushed), in log order, one
// per entry, then commits, and empties the log.
func (c *Cacheline) Checkpoint(d scheme.Domain) {
	lg := c.log(d)
	for _, u := range lg.entries {
		var data []uint64
		if c.blocks > 0 {
			data = c.scratch
			if src := c.lineStamps(u, false); src != nil {
				copy(data, src)
			} else {
				clear(data)
			}
		}
		c.backup.Send(d, u, data)
	}
	c.backup.Commit(d)
	c.c.sentLines += int64(len(lg.entries))
	c.c.dupSent += lg.dups
	c.c.checkpoints++
	c.drop(lg)
}

func (c *Cacheline) drop(lg *lineLog) {
	c.logEntries -= int64(len(lg.entries))
	lg.entries = lg.entries[:0]
	lg.dups = 0
	lg.lines.Reset()
}

// Rollback restores every line in domain d's log from the backup, one read per entry, and
// empties the log.
func (c *Cacheline) Rollback(d scheme.Domain) {
	lg := c.log(d)
	if c.blocks > 0 {
		for _, u := range lg.entries {
			c.backup.Fetch(d, u, c.lineStamps(u, true))
		}
	}
	c.c.recoveryLines += int64(len(lg.entries))
	c.drop(lg)
}

// Crash loses memory: the backup takes over with its image of every line that reached
// memory; every log is lost.
func (c *Cacheline) Crash() {
	if c.blocks > 0 {
		c.mem.All(func(p scheme.Page, s []uint64) {
			for i := range uint64(1) << c.perPage {
				c.backup.Fetch(c.doms.Of(p.ASID), Unit{ASID: p.ASID, N: p.N<<c.perPage + i}, s[i*uint64(c.blocks):(i+1)*uint64(c.blocks)])
			}
		})
	}
	c.c.recoveryLines += int64(c.touched.Len())
	for _, lg := range c.logs {
		c.drop(lg)
	}
}

// lineStamps returns the stamps of line u in memory (the memory's own), creating its page
// if create, else nil when memory holds no version of its page (it reads as stamp 0).
func (c *Cacheline) lineStamps(u Unit, create bool) []uint64 {
	p := scheme.Page{ASID: u.ASID, N: u.N >> c.perPage}
	var st []uint64
	if create {
		st = c.mem.Page(p)
	} else if st = c.mem.Get(p); st == nil {
		return nil
	}
	off := (u.N & (1<<c.perPage - 1)) * uint64(c.blocks)
	return st[off : off+uint64(c.blocks)]
}

// Image returns the stamps of page n of asid in memory (scheme.Scheme).
func (c *Cacheline) Image(asid record.ASID, n uint64, create bool) []uint64 {
	return c.mem.Image(asid, n, create)
}

// Counters adds cacheline's counts to c.
func (c *Cacheline) Counters(s *scheme.Tally) {
	s.PagesTouched += c.pages.Touched()
	s.PagesWritten += c.pages.Written()
	s.BytesLogged += c.c.logged * LogEntryBytes
	s.BytesToBackup += c.c.sentLines * c.lineBytes
	s.CheckpointStallBytes += c.c.sentLines * c.lineBytes
	s.MemOverheadPeakBytes += c.c.logPeak * LogEntryBytes
	s.RecoveryBytes += c.c.recoveryLines * c.lineBytes
	o := scheme.Own[CachelineCounts](s)
	o.LogEntries += c.c.logged
	o.DuplicateLines += c.c.duplicates
	o.ForcedCheckpoints += c.c.forced
	o.LogOverflowEntries += c.c.overflow
	o.LinesSent += c.c.sentLines
	o.DuplicateLinesSent += c.c.dupSent
	o.LogPeakEntries += c.c.logPeak
}

// Check verifies cacheline's invariants from scratch.
func (c *Cacheline) Check() error {
	var total int64
	for d, lg := range c.logs {
		if err := lg.lines.Check(d, c.doms.Of); err != nil {
			return fmt.Errorf("cacheline: logged lines: %w", err)
		}
		distinct := map[Unit]bool{}
		for _, u := range lg.entries {
			if c.doms.Of(u.ASID) != d {
				return fmt.Errorf("cacheline: line %+v in domain %d's log", u, d)
			}
			if c.touched.Find(u) < 0 {
				return fmt.Errorf("cacheline: logged line %+v was never touched", u)
			}
			if !lg.lines.Has(u) {
				return fmt.Errorf("cacheline: line %+v is in domain %d's log but not in its set of lines", u, d)
			}
			distinct[u] = true
		}
		if len(distinct) != lg.lines.Len() {
			return fmt.Errorf("cacheline: domain %d's log holds %d distinct lines, its set %d", d, len(distinct), lg.lines.Len())
		}
		if want := int64(len(lg.entries) - len(distinct)); lg.dups != want {
			return fmt.Errorf("cacheline: domain %d's log counts %d duplicates, holds %d", d, lg.dups, want)
		}
		total += int64(len(lg.entries))
	}
	if err := c.pages.Check(); err != nil {
		return fmt.Errorf("cacheline: %w", err)
	}
	if total != c.logEntries || c.logEntries > c.c.logPeak {
		return fmt.Errorf("cacheline: %d entries in the logs, counted %d, peak %d", total, c.logEntries, c.c.logPeak)
	}
	if c.mb != nil {
		if c.mb.BytesReceived != c.c.sentLines*c.lineBytes {
			return fmt.Errorf("cacheline: sent %d lines, the backup received %d bytes", c.c.sentLines, c.mb.BytesReceived)
		}
		if err := c.mb.check(); err != nil {
			return err
		}
	}
	if c.mem != nil {
		if err := c.mem.Check(); err != nil {
			return fmt.Errorf("cacheline: memory: %w", err)
		}
	}
	return nil
}

// Err returns the error that ended the run: more pages than Machine.MaxPages.
func (c *Cacheline) Err() error { return c.pages.Err() }
