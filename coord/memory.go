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

// lineMeta is what the controller keeps of a line: which cores have a live log entry of
// it (global: bit 0 for the interval's entry, whichever core made it), and under rebound
// the writer of memory's content (lw.core < 0: the initial content).
type lineMeta struct {
	logged uint64
	lw     writer
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
// Invariant: lines[l].logged has bit c (global: bit 0) exactly when log holds an entry of
// l made by core c (global: by any core), and then exactly one; a line of lines has bits
// in logged or (rebound) a writer; len(logData) == len(log) × blocks; e.logLive ==
// len(log) <= e.logPeak. Under rebound, lines[l].lw is the writer of memory's content of l, and every
// entry was made in its core's current epoch (commits and undos remove a core's entries
// when its epoch ends).
type memory struct {
	e       *engine
	rebound bool
	blocks  int // stamps per line, 0 without verification
	// image is memory's content of each line written back so far (verification only).
	image   map[cache.Line][]uint64
	lines   lineTable
	log     []logEntry
	logData []uint64
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
	m := &memory{e: e, rebound: rebound, blocks: blocks, lines: newLineTable()}
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
		if meta := m.lines.lookup(l); meta != nil && meta.lw.core >= 0 && meta.lw.core != core && meta.lw.epoch == m.e.epoch[meta.lw.core] {
			w := meta.lw
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

// write is a write-back of l by core: the first of l in the interval (global) or in
// core's interval (rebound) logs memory's content first.
func (m *memory) write(core int, l cache.Line, data []uint64) {
	meta := *m.lines.ref(l, lineMeta{lw: writer{core: -1}})
	bit := uint64(1)
	if m.rebound {
		bit <<= core
	}
	if meta.logged&bit == 0 {
		meta.logged |= bit
		m.log = append(m.log, logEntry{line: l, core: core, old: meta.lw})
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
		meta.lw = writer{core: core, epoch: m.e.epoch[core]}
	}
	*m.lines.lookup(l) = meta
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
			m.lines.lookup(ent.line).lw = ent.old
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
			meta := m.lines.lookup(ent.line)
			if m.rebound {
				meta.logged &^= 1 << ent.core
			} else {
				meta.logged = 0
			}
			if meta.logged == 0 && meta.lw.core < 0 {
				m.lines.remove(ent.line)
			}
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
