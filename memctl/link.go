package memctl

import (
	"math/bits"

	"github.com/vmsim/vmsim/record"
	"github.com/vmsim/vmsim/scheme"
)

// Link is shadow-remote's connection to the backup computer, scheme.Backup with granules
// for units: a checkpoint of domain d sends through it every granule the domain has
// touched (Send, the unit Page{asid, g} for granule number g, byte address g × granule,
// of asid; data one stamp per verification block, nil when not verifying, valid only
// during the call), then Commit(d). Recoveries read the backup computer itself (Fetch of
// the Backup behind the link). It is what the controller consumes, so that tests can
// watch what a checkpoint sends.
type Link = scheme.Backup

// Backup is the backup computer of shadow-remote: its memory holds the image of every
// granule sent at checkpoints, and counts the bytes it received. It is the controller's
// default Link. A backup starts holding the initial content of memory (stamp 0).
type Backup struct {
	granule   uint64
	gshift    uint
	perPage   uint   // log2 granules per page
	unitsPerG uint64 // verification blocks per granule; 0 when not verifying
	// pages holds, per (asid, page), the stamps of the page's units (nil when not
	// verifying).
	pages *scheme.PageData
	// Received is the number of bytes sent to the backup: granules × granule size.
	Received int64
}

// NewBackup returns an empty backup for granules of granule bytes on pages of pageSize
// bytes, keeping unitsPerGranule stamps per granule (0: no data, counting only).
// Precondition: granule and pageSize are powers of two, granule <= pageSize.
func NewBackup(granule, pageSize, unitsPerGranule uint64) *Backup {
	gs := uint(bits.TrailingZeros64(granule))
	b := &Backup{granule: granule, gshift: gs, perPage: uint(bits.TrailingZeros64(pageSize)) - gs, unitsPerG: unitsPerGranule}
	if unitsPerGranule > 0 {
		b.pages = scheme.NewPageData(pageSize, granule/unitsPerGranule)
	}
	return b
}

// Send stores the image of granule u.N of u.ASID (see Link): the backup applies a granule
// as it arrives.
func (b *Backup) Send(_ scheme.Domain, u scheme.Page, data []uint64) {
	b.Received += int64(b.granule)
	if data == nil || b.unitsPerG == 0 {
		return
	}
	st := b.pages.Page(scheme.Page{ASID: u.ASID, N: u.N >> b.perPage})
	i := (u.N & (1<<b.perPage - 1)) * b.unitsPerG
	copy(st[i:i+b.unitsPerG], data)
}

// Commit acknowledges domain d's checkpoint; every granule was applied when it arrived.
func (b *Backup) Commit(scheme.Domain) {}

// sendPage stores the granules of page vpn of asid marked in bm, from mem (the page's
// stamps, granule after granule): what a Send of each would store, and counts, in runs of
// consecutive granules. Precondition: the backup keeps data.
func (b *Backup) sendPage(asid record.ASID, vpn uint64, bm, mem []uint64) {
	st := b.pages.Page(scheme.Page{ASID: asid, N: vpn})
	u := b.unitsPerG
	eachRun(bm, func(lo, hi uint64) {
		copy(st[lo*u:hi*u], mem[lo*u:hi*u])
		b.Received += int64((hi - lo) * b.granule)
	})
}

// Fetch copies the image of granule u.N of u.ASID into dst (len: stamps per granule):
// what the backup holds, the initial content (0) for a granule never sent.
func (b *Backup) Fetch(_ scheme.Domain, u scheme.Page, dst []uint64) {
	var st []uint64
	if b.pages != nil {
		st = b.pages.Get(scheme.Page{ASID: u.ASID, N: u.N >> b.perPage})
	}
	if st == nil {
		clear(dst)
		return
	}
	i := (u.N & (1<<b.perPage - 1)) * b.unitsPerG
	copy(dst, st[i:i+b.unitsPerG])
}
