package memctl

import (
	"fmt"
	"strconv"

	"github.com/vmsim/vmsim/scheme"
)

func init() {
	for _, s := range Strategies() {
		scheme.Register(s.Info())
	}
}

var strategyDocs = [numStrategies]string{
	"memory controller: a checkpoint copies every granule touched so far into a local shadow memory",
	"memory controller: a checkpoint sends every granule touched so far to the shadow memory of a backup computer",
	"memory controller: one bit per granule marks writes; a checkpoint copies the marked granules to a shadow, program stopped",
	"memory controller: two alternating bitmaps; marked granules are copied to the shadow in the background after a checkpoint",
	"memory controller: two physical copies per granule and state bits; a checkpoint changes state bits only",
	"memory controller: the first write-back to a granule since the checkpoint logs its old contents; rollback undoes the log",
}

var touchedCounter = scheme.CounterDef{Key: "touched_granules", Doc: "distinct (address space, granule) pairs the controller has seen accessed (read or written): what a checkpoint copies"}

// Info returns the registry entry of strategy s.
func (s Strategy) Info() scheme.Info {
	i := scheme.Info{
		Name:              s.String(),
		Doc:               strategyDocs[s],
		Level:             scheme.LevelMemory,
		RecoversTransient: true,
		RecoversCrash:     s == ShadowRemote,
		Granule:           scheme.GranuleAlways,
	}
	switch s {
	case Shadow, ShadowRemote:
		i.Counters = []scheme.CounterDef{touchedCounter}
	case Bitmap2:
		i.Params = []scheme.Param{{Name: "copy-rate", Default: strconv.Itoa(DefaultCopyRate),
			Doc: "bitmap2's background copy rate, bytes per program access (0: no background copy)"}}
		i.Counters = []scheme.CounterDef{
			{Key: "background_bytes", Doc: "bytes the background copier copied into the shadow"},
			{Key: "forced_copies", Doc: "granules copied into the shadow before a write-back because their background copy had not reached them"},
			{Key: "forced_bytes", Doc: "forced_copies × granule"},
			{Key: "pending_bytes", Doc: "bytes still awaiting their background copy when the run ended"},
		}
	case BlockState:
		i.Counters = []scheme.CounterDef{
			{Key: "checkpoint_flips", Doc: "granules whose state bits checkpoints changed (written since the previous checkpoint)"},
			{Key: "rollback_flips", Doc: "granules whose current copy rollbacks switched back to the checkpoint copy"},
			{Key: "merges", Doc: "first writes since a checkpoint that did not cover their whole granule, so copied the checkpoint copy into the other copy first"},
		}
	case Undo:
		i.Counters = []scheme.CounterDef{
			{Key: "log_entries", Doc: "log entries written: first write-backs to a granule since its domain's checkpoint"},
			{Key: "log_peak_bytes", Doc: "the most log data held at once over all domains: live entries × granule"},
		}
	}
	i.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		var o Options
		if s == Bitmap2 {
			r, err := strconv.ParseUint(p["copy-rate"], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--copy-rate %q: want a whole number of bytes per access", p["copy-rate"])
			}
			o.CopyRate = r
		}
		c, err := New(s, m, o)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return i
}
