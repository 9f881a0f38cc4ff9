package repl

import (
	"fmt"
	"math/bits"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// Remus is epoch-based replication of a virtual machine to a backup at page granularity
// (scheme remus; docs/repl.md).
type Remus struct {
	pageSize  int64
	shift     uint // log2 page size
	blocks    int  // verification stamps per page; 0 when not verifying
	perShift  uint // log2 blocks per page
	doms      scheme.Domains
	pages     scheme.PageSet
	backup    Backup
	mb        *MemBackup       // backup when it is the default, else nil
	mem       *scheme.PageData // the primary's memory (in pages), when verifying
	staging   []uint64         // the staging buffer's data, when verifying (reused)
	stageList []Unit           // scratch: the pages of the epoch being checkpointed

	// dirty holds, per domain, the pages written since its last checkpoint (or recovery).
	// Invariant: a page is in dirty[d] iff it was written since d's last checkpoint or
	// recovery, and each entry cost exactly one trap (write protection, log-dirty mode).
	dirty map[scheme.Domain]*scheme.DirtySet

	c remusCounts
}

type remusCounts struct {
	traps, pagesSent, copied, stall, toBackup, stagingPeak, recovery int64
	epochs, rollbacks, rollbackPages, failovers                      int64
}

// RemusCounts are remus's own counters (scheme.Info.Own), each declared by its tags.
type RemusCounts struct {
	Epochs        int64 `json:"epochs" doc:"checkpoints taken (epochs sent to the backup and committed), empty ones included"`
	PagesSent     int64 `json:"pages_sent" doc:"pages sent to the backup: the dirty pages of every epoch (bytes_to_backup / page size)"`
	RollbackPages int64 `json:"rollback_pages" doc:"pages restored from the backup by rollbacks: the pages dirtied since the domain's checkpoint"`
	Failovers     int64 `json:"failovers" doc:"crashes of the primary, each recovered by running on the backup's image"`
}

// NewRemus returns remus for machine m, sending to backup (nil: a MemBackup).
func NewRemus(m scheme.Machine, backup Backup) *Remus {
	r := &Remus{
		pageSize: int64(m.PageSize),
		shift:    uint(bits.TrailingZeros64(m.PageSize)),
		doms:     scheme.Domains{PerASID: m.PerASID},
		dirty:    map[scheme.Domain]*scheme.DirtySet{},
	}
	r.pages.SetMax(m.MaxPages)
	if m.VerifyBlock > 0 {
		r.blocks = int(m.PageSize / m.VerifyBlock)
		r.perShift = uint(bits.TrailingZeros64(uint64(r.blocks)))
		r.mem = scheme.NewPageData(m.PageSize, m.VerifyBlock)
	}
	if backup == nil {
		r.mb = NewMemBackup(m.PageSize, r.blocks)
		backup = r.mb
	}
	r.backup = backup
	return r
}

// Access performs the run's accesses: a write to a page not yet written in the epoch
// traps once and marks the page dirty. An access past Machine.MaxPages does nothing more
// than set Err.
func (r *Remus) Access(run scheme.Run) int {
	for i := range run.Recs {
		a := &run.Recs[i]
		r.access(a, run.N+int64(i)+1)
		if run.Verify != nil {
			run.Verify(i)
		}
	}
	return len(run.Recs)
}

// access performs access n, a.
func (r *Remus) access(a *record.Record, n int64) {
	first, last := a.Addr>>r.shift, (a.Addr+uint64(a.Size)-1)>>r.shift
	write := a.Kind.Writes()
	if !r.pages.Add(uint32(a.ASID), first, last, write, n) {
		return
	}
	if !write {
		return
	}
	d := r.doms.Of(a.ASID)
	set := r.dirty[d]
	if set == nil {
		set = &scheme.DirtySet{}
		r.dirty[d] = set
	}
	r.c.traps += set.MarkPages(a.ASID, first, last)
}

// DomainOf returns the domain of an address space.
func (r *Remus) DomainOf(asid record.ASID) scheme.Domain { return r.doms.Of(asid) }

// sortedDirty returns domain d's dirty pages in address order, in r.stageList.
func (r *Remus) sortedDirty(d scheme.Domain) []Unit {
	r.stageList = r.stageList[:0]
	if set := r.dirty[d]; set != nil {
		r.stageList = set.Sorted(r.stageList)
	}
	return r.stageList
}

// Checkpoint ends domain d's epoch: stopped, the dirty pages are copied to the staging
// buffer; resumed, the buffer is sent to the backup in address order, then committed.
func (r *Remus) Checkpoint(d scheme.Domain) {
	list := r.sortedDirty(d)
	n := int64(len(list))
	if r.blocks > 0 {
		if need := len(list) * r.blocks; cap(r.staging) < need {
			r.staging = make([]uint64, need)
		}
		r.staging = r.staging[:len(list)*r.blocks]
		for i, u := range list {
			dst := r.staging[i*r.blocks : (i+1)*r.blocks]
			if src := r.mem.Get(u); src != nil {
				copy(dst, src)
			} else {
				clear(dst)
			}
		}
	}
	r.c.copied += n * r.pageSize
	r.c.stall += n * r.pageSize
	r.c.stagingPeak = max(r.c.stagingPeak, n*r.pageSize)
	// The program runs again; the staging buffer goes to the backup.
	for i, u := range list {
		var data []uint64
		if r.blocks > 0 {
			data = r.staging[i*r.blocks : (i+1)*r.blocks]
		}
		r.backup.Send(d, u, data)
	}
	r.backup.Commit(d)
	r.c.pagesSent += n
	r.c.toBackup += n * r.pageSize
	r.c.epochs++
	if set := r.dirty[d]; set != nil {
		set.Reset()
	}
}

// Rollback restores domain d's pages dirtied since its checkpoint from the backup.
func (r *Remus) Rollback(d scheme.Domain) {
	list := r.sortedDirty(d)
	if r.blocks > 0 {
		for _, u := range list {
			r.backup.Fetch(d, u, r.mem.Page(u))
		}
	}
	n := int64(len(list))
	r.c.recovery += n * r.pageSize
	r.c.rollbackPages += n
	r.c.rollbacks++
	if set := r.dirty[d]; set != nil {
		set.Reset()
	}
}

// Crash loses the primary: the program fails over to the backup, whose image (the last
// committed epoch of every domain) it runs on from then.
func (r *Remus) Crash() {
	if r.blocks > 0 {
		r.mem.All(func(p scheme.Page, s []uint64) { r.backup.Fetch(r.doms.Of(p.ASID), p, s) })
	}
	r.c.recovery += r.pages.Touched() * r.pageSize
	r.c.failovers++
	for _, set := range r.dirty {
		set.Reset()
	}
}

// Image returns the stamps of page n of asid in the primary's memory (scheme.Scheme).
func (r *Remus) Image(asid record.ASID, n uint64, create bool) []uint64 {
	return r.mem.Image(asid, n, create)
}

// Counters adds remus's counts to c.
func (r *Remus) Counters(c *scheme.Tally) {
	c.PagesTouched += r.pages.Touched()
	c.PagesWritten += r.pages.Written()
	c.BytesCopied += r.c.copied
	c.BytesToBackup += r.c.toBackup
	c.Traps += r.c.traps
	c.CheckpointStallBytes += r.c.stall
	c.MemOverheadPeakBytes += r.c.stagingPeak
	c.RecoveryBytes += r.c.recovery
	o := scheme.Own[RemusCounts](c)
	o.Epochs += r.c.epochs
	o.PagesSent += r.c.pagesSent
	o.RollbackPages += r.c.rollbackPages
	o.Failovers += r.c.failovers
}

// Check verifies remus's invariants from scratch.
func (r *Remus) Check() error {
	for d, set := range r.dirty {
		if err := set.Check(d, r.doms.Of); err != nil {
			return fmt.Errorf("remus: %w", err)
		}
	}
	if err := r.pages.Check(); err != nil {
		return fmt.Errorf("remus: %w", err)
	}
	if r.c.copied != r.c.toBackup || r.c.stall != r.c.copied || r.c.pagesSent*r.pageSize != r.c.toBackup {
		return fmt.Errorf("remus: copied %d, stalled %d, sent %d bytes (%d pages) disagree", r.c.copied, r.c.stall, r.c.toBackup, r.c.pagesSent)
	}
	if r.mb != nil {
		if r.mb.BytesReceived != r.c.toBackup {
			return fmt.Errorf("remus: sent %d bytes, the backup received %d", r.c.toBackup, r.mb.BytesReceived)
		}
		if err := r.mb.check(); err != nil {
			return err
		}
	}
	if r.mem != nil {
		if err := r.mem.Check(); err != nil {
			return fmt.Errorf("remus: memory: %w", err)
		}
	}
	return nil
}

// Err returns the error that ended the run: more pages than Machine.MaxPages.
func (r *Remus) Err() error { return r.pages.Err() }
