package repl

import (
	"fmt"
	"slices"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// Unit names one unit of replicated memory: a page (remus) or a cache line (cacheline) of
// an address space, by number (address / unit size).
type Unit struct {
	ASID traces.ASID
	N    uint64
}

// less orders units by address space, then number: the order in which a checkpoint sends.
func (u Unit) less(v Unit) bool { return u.ASID < v.ASID || u.ASID == v.ASID && u.N < v.N }

func compareUnits(a, b Unit) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// Backup is the link to the backup machine and the backup's memory, as a primary uses it.
//
// A checkpoint of domain d sends every unit of the epoch (Send), then Commit: the backup
// holds the last committed epoch of each domain, never part of one. Fetch reads the
// backup's committed copy of a unit, for recovery.
type Backup interface {
	// Send transfers unit u of domain d's epoch. data is its content, one stamp per
	// verification block, or nil when not verifying. The backup must not keep data.
	Send(d scheme.Domain, u Unit, data []uint64)
	// Commit ends domain d's epoch: the backup applies every unit sent since the last
	// Commit of d, in order, and acknowledges.
	Commit(d scheme.Domain)
	// Fetch copies into dst the backup's committed content of u: what it received last
	// for u, or zeros (the initial content) when it never received u. dst has one stamp
	// per verification block; Fetch is not called when not verifying.
	Fetch(u Unit, dst []uint64)
}

// MemBackup is the default Backup: the backup's memory as a map of units, counting what
// it receives. It holds data only when verifying (blocks > 0).
//
// Invariant: every slice in mem and pending has length blocks.
type MemBackup struct {
	unitBytes int64
	blocks    int
	mem       map[Unit][]uint64
	pending   map[scheme.Domain][]sent // units sent and not yet committed, per domain
	free      [][]uint64               // recycled pending buffers

	// BytesReceived counts unit bytes received by Send; Commits counts Commit calls.
	BytesReceived, Commits int64
}

type sent struct {
	u    Unit
	data []uint64
}

// NewMemBackup returns an empty backup for units of unitBytes bytes carrying blocks
// stamps each (0 when not verifying).
func NewMemBackup(unitBytes uint64, blocks int) *MemBackup {
	return &MemBackup{unitBytes: int64(unitBytes), blocks: blocks, mem: map[Unit][]uint64{}, pending: map[scheme.Domain][]sent{}}
}

// Send receives one unit into domain d's pending epoch.
func (b *MemBackup) Send(d scheme.Domain, u Unit, data []uint64) {
	b.BytesReceived += b.unitBytes
	if b.blocks == 0 {
		return
	}
	if len(data) != b.blocks {
		panic(fmt.Sprintf("repl: Send of %d stamps to a backup of %d per unit", len(data), b.blocks))
	}
	var buf []uint64
	if n := len(b.free); n > 0 {
		buf, b.free = b.free[n-1], b.free[:n-1]
	} else {
		buf = make([]uint64, b.blocks)
	}
	copy(buf, data)
	b.pending[d] = append(b.pending[d], sent{u, buf})
}

// Commit applies domain d's pending epoch.
func (b *MemBackup) Commit(d scheme.Domain) {
	b.Commits++
	for _, s := range b.pending[d] {
		dst := b.mem[s.u]
		if dst == nil {
			dst = make([]uint64, b.blocks)
			b.mem[s.u] = dst
		}
		copy(dst, s.data)
		b.free = append(b.free, s.data)
	}
	b.pending[d] = b.pending[d][:0]
}

// Fetch copies the committed content of u into dst.
func (b *MemBackup) Fetch(u Unit, dst []uint64) {
	if src := b.mem[u]; src != nil {
		copy(dst, src)
	} else {
		clear(dst)
	}
}

// Units returns the units the backup holds, in order (for tests and Check).
func (b *MemBackup) Units() []Unit {
	out := make([]Unit, 0, len(b.mem))
	for u := range b.mem {
		out = append(out, u)
	}
	slices.SortFunc(out, compareUnits)
	return out
}

// check verifies the backup's invariants: nothing is pending between checkpoints.
func (b *MemBackup) check() error {
	for d, p := range b.pending {
		if len(p) > 0 {
			return fmt.Errorf("repl: backup holds %d uncommitted units of domain %d between checkpoints", len(p), d)
		}
	}
	for u, s := range b.mem {
		if len(s) != b.blocks {
			return fmt.Errorf("repl: backup unit %+v holds %d stamps, want %d", u, len(s), b.blocks)
		}
	}
	return nil
}

// image is a memory of units: unit -> stamps, absent units holding zeros. It is used only
// when verifying.
type image map[Unit][]uint64

// block returns the stamps of u, creating them (zeros) if asked.
func (m image) unit(u Unit, blocks int, create bool) []uint64 {
	s := m[u]
	if s == nil && create {
		s = make([]uint64, blocks)
		m[u] = s
	}
	return s
}
