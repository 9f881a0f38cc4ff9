package coord

import (
	"github.com/vmsim/vmsim/cache"
)

// This file is the memory behind the private caches: what both schemes keep at the memory
// controller (docs/coordinated.md, "The memory controller"). It is the
// coherence.Observer of the engine's machine.

// writer is the core that wrote a line's content and that core's epoch (its checkpoint
// interval's number) then. core < 0: the content is the initial one.
type writer struct {
	core  int
	epoch uint64
}

// logKey is what an undo log entry is the first write-back of: a line in an interval
// (global: core 0 for every core) or a line in one core's interval (rebound).
type logKey struct {
	line cache.Line
	core int
}

// logEntry is one undo log entry: line's content before the write-back that made it
// (memory.logData, with verification on), made by core, and, under rebound, the writer
// of that content.
type logEntry struct {
	line cache.Line
	core int
	old  writer
}

// memory is the memory controller.
//
// Invariant: logged holds exactly the keys of the entries of log, each once; len(logData)
// == len(log) × blocks; live == len(log) <= peak. Under rebound, lw[l] is the writer of
// memory's content of l (absent: the initial content), and every entry's core's epoch is
// the one it was made in (commits and undos remove a core's entries when its epoch
// ends). Under global, lw is empty.
type memory struct {
	e       *engine
	rebound bool
	blocks  int // stamps per line, 0 without verification
	// image is memory's content of each line written back so far (verification only).
	image   map[cache.Line][]uint64
	lw      map[cache.Line]writer
	log     []logEntry
	logData []uint64
	logged  map[logKey]struct{}
	// pending is a dirty line whose owner pendFrom lost it to another core's write miss
	// during the access under way: the engine writes it to memory once the access has
	// the data (transfer).
	pending  bool
	pendFrom int
	pendLine cache.Line
	// dropDowngrades is the broken tracker's test hook (Config.dropDowngradeEdges).
	dropDowngrades int
}

func newMemory(e *engine, rebound bool, blocks int) *memory {
	m := &memory{e: e, rebound: rebound, blocks: blocks, lw: map[cache.Line]writer{}, logged: map[logKey]struct{}{}}
	if blocks > 0 {
		m.image = map[cache.Line][]uint64{}
	}
	return m
}

// Fill gives core's cache memory's content of l; under rebound, core depends on the
// content's writer if that writer's interval is still open.
func (m *memory) Fill(core int, l cache.Line, data []uint64) {
	if data != nil {
		if img := m.image[l]; img != nil {
			copy(data, img)
		} else {
			clear(data)
		}
	}
	if m.rebound {
		if w, ok := m.lw[l]; ok && w.core != core && w.epoch == m.e.epoch[w.core] {
			m.e.depend(w.core, core)
		}
	}
}

// WriteBack writes core's dirty copy of l to memory.
func (m *memory) WriteBack(core int, l cache.Line, data []uint64) { m.write(core, l, data) }

// Invalidated: under rebound, by depends on from if from's copy was modified (its data
// moves to by), and that data is written to memory after the access (transfer).
func (m *memory) Invalidated(from, by int, l cache.Line, modified bool) {
	if !m.rebound || !modified {
		return
	}
	m.e.depend(from, by)
	m.pending, m.pendFrom, m.pendLine = true, from, l
}

// Downgraded: under rebound, by depends on from (from's data was written back first).
func (m *memory) Downgraded(from, by int, l cache.Line) {
	if !m.rebound {
		return
	}
	if m.dropDowngrades > 0 && m.e.prod[by]&(1<<from) == 0 {
		m.dropDowngrades--
		return
	}
	m.e.depend(from, by)
}

// transfer writes the line pending, now in core's cache, to memory as its old owner's
// write-back. Precondition: pending.
func (m *memory) transfer(core int) {
	m.pending = false
	m.e.C.TransferWritebacks++
	m.write(m.pendFrom, m.pendLine, m.e.m.Data(core, m.pendLine))
}

// write is a write-back of l by core: the first of the key's interval logs memory's
// content first.
func (m *memory) write(core int, l cache.Line, data []uint64) {
	k := logKey{line: l}
	if m.rebound {
		k.core = core
	}
	if _, ok := m.logged[k]; !ok {
		m.logged[k] = struct{}{}
		ent := logEntry{line: l, core: core, old: writer{core: -1}}
		if m.rebound {
			if w, ok := m.lw[l]; ok {
				ent.old = w
			}
		}
		m.log = append(m.log, ent)
		if m.blocks > 0 {
			n := len(m.logData)
			m.logData = append(m.logData, make([]uint64, m.blocks)...)
			if img := m.image[l]; img != nil {
				copy(m.logData[n:], img)
			}
		}
		m.e.C.LogEntries++
		m.e.logLive++
		m.e.logPeak = max(m.e.logPeak, m.e.logLive)
	}
	if m.blocks > 0 {
		img := m.image[l]
		if img == nil {
			img = make([]uint64, m.blocks)
			m.image[l] = img
		}
		copy(img, data)
	}
	if m.rebound {
		m.lw[l] = writer{core: core, epoch: m.e.epoch[core]}
	}
}

// commit discards the log entries of the cores of set: their intervals are committed.
func (m *memory) commit(set uint64) { m.remove(set) }

// undo restores, in reverse order, the log entries of the cores of set, then discards
// them; it returns how many it restored.
func (m *memory) undo(set uint64) int64 {
	var n int64
	for i := len(m.log) - 1; i >= 0; i-- {
		ent := &m.log[i]
		if set&(1<<ent.core) == 0 {
			continue
		}
		n++
		if m.blocks > 0 {
			img := m.image[ent.line]
			if img == nil {
				img = make([]uint64, m.blocks)
				m.image[ent.line] = img
			}
			copy(img, m.logData[i*m.blocks:(i+1)*m.blocks])
		}
		if m.rebound {
			if ent.old.core < 0 {
				delete(m.lw, ent.line)
			} else {
				m.lw[ent.line] = ent.old
			}
		}
	}
	m.remove(set)
	return n
}

// remove drops the entries of the cores of set, keeping the others in order.
func (m *memory) remove(set uint64) {
	k := 0
	for i, ent := range m.log {
		if set&(1<<ent.core) != 0 {
			key := logKey{line: ent.line}
			if m.rebound {
				key.core = ent.core
			}
			delete(m.logged, key)
			continue
		}
		if k != i {
			m.log[k] = ent
			if m.blocks > 0 {
				copy(m.logData[k*m.blocks:(k+1)*m.blocks], m.logData[i*m.blocks:(i+1)*m.blocks])
			}
		}
		k++
	}
	m.e.logLive -= int64(len(m.log) - k)
	m.log = m.log[:k]
	m.logData = m.logData[:k*m.blocks]
}
