package memctl

import (
	"fmt"

	"github.com/vmsim/vmsim/scheme"
)

// Strategy is one of the six ways the controller checkpoints.
type Strategy uint8

const (
	// Shadow keeps a local shadow image; a checkpoint copies every touched granule into it.
	Shadow Strategy = iota
	// ShadowRemote keeps the shadow image on a backup computer; a checkpoint sends every
	// touched granule over the link.
	ShadowRemote
	// Bitmap marks granules written since the checkpoint; a checkpoint copies those into
	// the shadow, the program stopped.
	Bitmap
	// Bitmap2 alternates two bitmaps; a checkpoint hands the marked granules to a
	// background copier and the program goes on.
	Bitmap2
	// BlockState keeps two physical copies of every granule and state bits; a checkpoint
	// changes state bits only.
	BlockState
	// Undo logs the pre-image of the first write-back to a granule since the checkpoint;
	// a rollback restores the log in reverse.
	Undo
	numStrategies
)

var strategyNames = [numStrategies]string{"shadow", "shadow-remote", "bitmap", "bitmap2", "blockstate", "undo"}

// newStrategy builds each strategy's own state for controller c (whose geometry is set).
var newStrategy = [numStrategies]func(c *Controller, o Options) strategy{
	Shadow:       func(c *Controller, _ Options) strategy { return newShadow(c) },
	ShadowRemote: func(c *Controller, o Options) strategy { return newShadowRemote(c, o.Link) },
	Bitmap:       func(c *Controller, _ Options) strategy { return newBitmap(c) },
	Bitmap2:      func(c *Controller, o Options) strategy { return newBitmap2(c, o.CopyRate) },
	BlockState:   func(c *Controller, _ Options) strategy { return newBlockState(c) },
	Undo:         func(c *Controller, _ Options) strategy { return newUndo(c) },
}

func (s Strategy) String() string {
	if s < numStrategies {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// Strategies returns the six strategies in their order.
func Strategies() []Strategy {
	out := make([]Strategy, numStrategies)
	for i := range out {
		out[i] = Strategy(i)
	}
	return out
}

// DefaultCopyRate is bitmap2's default background copy rate in bytes per program access
// (docs/memctl.md gives its source).
const DefaultCopyRate = 3

// Options are the strategies' own settings.
type Options struct {
	// CopyRate is bitmap2's background copy rate, in bytes per program access (--copy-rate).
	CopyRate uint64
	// Link is where shadow-remote sends granules; nil: straight to the controller's own
	// Backup. A Link given here must deliver to Backup() for recoveries to be right.
	Link Link
}

// strategy is what differs between the strategies: the state each keeps beside the
// controller's shared pages and domains, and what it does at a checkpoint and a rollback.
// The controller (core.go) performs the accesses, keeps the touched and written granules
// and pages, the marks of the strategies that are markers, and the common channels
// (Controller.ch) the strategies add to.
type strategy interface {
	// addDomain is called once for each domain, when the controller creates it.
	addDomain(d *domain)
	// addPage is called once for each page, when the controller creates it (after its
	// domain). Pages come in the order of their numbers, p.id = 0, 1, 2, ...
	addPage(p *page)
	// checkpoint takes a checkpoint of d; the cache was flushed before it. The controller
	// clears d's marks after it.
	checkpoint(d *domain)
	// rollback returns d to its last checkpoint. The controller clears d's marks after it.
	rollback(d *domain)
	// counters adds MemOverheadPeakBytes and the strategy's own counters (k.Own, of the
	// type its Info.Own points to) to k; the controller adds the rest.
	counters(k *scheme.Tally)
	// check verifies the invariants of the strategy's own state from scratch; the
	// controller has verified its own first.
	check() error
}

// marker is a strategy that keeps marks (page.marks): the granules written since their
// domain's last checkpoint or rollback. firstWrite is called at the first write to granule
// i of p since then, before the controller marks it; full: the write replaces the whole
// granule without reading it (a plain write covering it).
type marker interface {
	strategy
	firstWrite(p *page, i uint64, full bool)
}

// clock is a strategy that works between the program's accesses (bitmap2's copier):
// advance is called before the access numbered n (scheme.Run numbering) while Controller.n is
// still the number of the access before.
type clock interface {
	advance(n int64)
}

// crashRecoverer is a strategy that recovers a crash of volatile memory (its Info says
// RecoversCrash): crash loses memory and recovers every domain.
type crashRecoverer interface {
	crash()
}
