package memctl

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/scheme"
)

// logIndexBytes is the size of one undo log entry's index: the granule's address.
const logIndexBytes = 8

// undo logs the pre-image of the first write to a granule since the checkpoint (the
// logged granules are the controller's marks); a checkpoint discards the log, a rollback
// restores it in reverse.
type undo struct {
	c *Controller
	// logs holds each domain's log, by domain number.
	// Invariant: len(logs) == len(Controller.doms).
	logs []*undoLog
	// live counts the live log entries of all domains, livePeak their peak; entries
	// counts every entry ever logged. Invariant: live == Σ len(logs[d].entries) <=
	// livePeak.
	live, livePeak, entries int64
}

// undoLog is one domain's log: entry i is granule entries[i].g of page entries[i].p, its
// pre-image in data[i*upg:(i+1)*upg] when verifying.
type undoLog struct {
	// Invariant: len(entries) == the domain's marked; each marked granule has exactly
	// one entry, of a page of the domain.
	entries []logEntry
	// Invariant: len(data) == len(entries) × Controller.upg.
	data []uint64
}

type logEntry struct {
	p *page
	g uint32
}

func newUndo(c *Controller) *undo { return &undo{c: c} }

func (u *undo) addDomain(*domain) { u.logs = append(u.logs, &undoLog{}) }

func (u *undo) addPage(*page) {}

// firstWrite logs the granule's pre-image.
func (u *undo) firstWrite(p *page, i uint64, _ bool) {
	c := u.c
	l := u.logs[p.dom.id]
	l.entries = append(l.entries, logEntry{p, uint32(i)})
	if c.upg > 0 {
		n := len(l.data)
		l.data = slices.Grow(l.data, int(c.upg))[:n+int(c.upg)]
		c.data.copyGranule(l.data[n:], c.units(p.mem, i))
	}
	c.ch.logged += int64(c.m.Granule)
	u.entries++
	u.live++
	u.livePeak = max(u.livePeak, u.live)
}

// checkpoint discards d's log.
func (u *undo) checkpoint(d *domain) { u.drop(u.logs[d.id]) }

// rollback restores d's log in reverse, then discards it.
func (u *undo) rollback(d *domain) {
	c := u.c
	l := u.logs[d.id]
	c.ch.recovery += int64(len(l.entries)) * int64(c.m.Granule)
	if c.upg > 0 {
		for k := len(l.entries) - 1; k >= 0; k-- {
			e := l.entries[k]
			copy(c.units(e.p.mem, uint64(e.g)), l.data[uint64(k)*c.upg:uint64(k+1)*c.upg])
		}
	}
	u.drop(l)
}

func (u *undo) drop(l *undoLog) {
	u.live -= int64(len(l.entries))
	clear(l.entries) // drop page pointers
	l.entries, l.data = l.entries[:0], l.data[:0]
}

// counters: the peak of the log, data and index; own log_entries, log_peak_bytes.
func (u *undo) counters(k *scheme.Tally) {
	G := int64(u.c.m.Granule)
	k.MemOverheadPeakBytes += u.livePeak * (G + logIndexBytes)
	o := scheme.Own[UndoCounts](k)
	o.LogEntries += u.entries
	o.LogPeakBytes += u.livePeak * G
}

func (u *undo) check() error {
	c := u.c
	if len(u.logs) != len(c.doms) {
		return fmt.Errorf("%d undo logs for %d domains", len(u.logs), len(c.doms))
	}
	var live int64
	for di, d := range c.doms {
		l := u.logs[di]
		if int64(len(l.entries)) != d.marked {
			return fmt.Errorf("domain %d: %d log entries for %d logged granules", d.id, len(l.entries), d.marked)
		}
		if uint64(len(l.data)) != uint64(len(l.entries))*c.upg {
			return fmt.Errorf("domain %d: log data of %d stamps for %d entries", d.id, len(l.data), len(l.entries))
		}
		seen := make(map[logEntry]bool, len(l.entries))
		for _, e := range l.entries {
			if e.p.dom != d || e.p.marks[e.g>>6]&(1<<(e.g&63)) == 0 {
				return fmt.Errorf("domain %d: log entry for an unmarked granule", d.id)
			}
			if seen[e] {
				return fmt.Errorf("domain %d: page %v granule %d logged twice", d.id, e.p.key, e.g)
			}
			seen[e] = true
		}
		live += int64(len(l.entries))
	}
	if live != u.live || u.live > u.livePeak {
		return fmt.Errorf("%d live log entries, counted %d (peak %d)", live, u.live, u.livePeak)
	}
	return nil
}
