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

// ShadowCounts are the own counters (scheme.Info.Own) of shadow and shadow-remote.
type ShadowCounts struct {
	TouchedGranules int64 `json:"touched_granules" doc:"distinct (address space, granule) pairs the controller has seen accessed (read or written): what a checkpoint copies"`
}

// Bitmap2Counts are bitmap2's own counters (scheme.Info.Own).
type Bitmap2Counts struct {
	BackgroundBytes int64 `json:"background_bytes" doc:"bytes the background copier copied into the shadow"`
	ForcedCopies    int64 `json:"forced_copies" doc:"granules copied into the shadow before a write-back because their background copy had not reached them"`
	ForcedBytes     int64 `json:"forced_bytes" doc:"forced_copies × granule"`
	PendingBytes    int64 `json:"pending_bytes" kind:"end" doc:"bytes still awaiting their background copy when the run ended"`
}

// BlockStateCounts are blockstate's own counters (scheme.Info.Own).
type BlockStateCounts struct {
	CheckpointFlips int64 `json:"checkpoint_flips" doc:"granules whose state bits checkpoints changed (written since the previous checkpoint)"`
	RollbackFlips   int64 `json:"rollback_flips" doc:"granules whose current copy rollbacks switched back to the checkpoint copy"`
	Merges          int64 `json:"merges" doc:"first writes since a checkpoint that did not cover their whole granule, so copied the checkpoint copy into the other copy first"`
}

// UndoCounts are undo's own counters (scheme.Info.Own).
type UndoCounts struct {
	LogEntries   int64 `json:"log_entries" doc:"log entries written: first write-backs to a granule since its domain's checkpoint"`
	LogPeakBytes int64 `json:"log_peak_bytes" kind:"peak" doc:"the most log data held at once over all domains: live entries × granule"`
}

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
		i.Own = new(ShadowCounts)
	case Bitmap2:
		i.Params = []scheme.Param{{Name: "copy-rate", Default: strconv.Itoa(DefaultCopyRate),
			Doc: "bitmap2's background copy rate, bytes per program access (0: no background copy)"}}
		i.Own = new(Bitmap2Counts)
	case BlockState:
		i.Own = new(BlockStateCounts)
	case Undo:
		i.Own = new(UndoCounts)
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
