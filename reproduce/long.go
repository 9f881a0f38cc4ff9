package reproduce

import (
	"context"
	"github.com/vmsim/vmsim/cost"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// DefaultLongCache is the cache folder of the long study's recordings, under the user's
// cache directory (~/.cache on Linux), or "" when the user has none ($HOME and
// $XDG_CACHE_HOME unset). It is never a shared folder such as /tmp: vmsim reuses what
// it finds there.
func DefaultLongCache() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "vmsim", "long")
}

// RecordLong makes sure the cache holds a recording of every workload (LongPrograms) and
// a data-only recording of the first, recording what is missing, two at a time.
func RecordLong(ctx context.Context, cache, version string, log io.Writer) (full, dataOnly []*Recording, err error) {
	data := LongPrograms[0]
	data.DataOnly = true
	recs, err := ensureAll(ctx, cache, version, log, append(slices.Clone(LongPrograms), data))
	if err != nil {
		return nil, nil, err
	}
	return recs[:len(LongPrograms)], recs[len(LongPrograms):], nil
}

type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// LongOptions says how to run the long study.
type LongOptions struct {
	Dir   string // results, e.g. "results/long"
	Cache string // the recordings' folder ("" : DefaultLongCache())
	Jobs  int
	// Warmup is the accesses excluded from every counter (0: LongWarmup).
	Warmup   int64
	Costs    cost.Set
	Progress func(done, total int)
	// Report, when set, receives the study's progress step by step (Progress).
	Report *Progress
	Log    io.Writer
	// Command and Version are written into the README.
	Command, Version string
}

// RunLong records the long programs (or reuses the cache) and runs the long study.
func RunLong(ctx context.Context, opt LongOptions) error {
	if opt.Cache == "" {
		opt.Cache = DefaultLongCache()
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	// Refuse, before recording anything, data files that vmsim did not write.
	if err := checkData(filepath.Join(opt.Dir, "data")); err != nil {
		return err
	}
	full, data, err := RecordLong(ctx, opt.Cache, opt.Version, opt.Log)
	if err != nil {
		return err
	}
	return runLongStudy(opt, full, data)
}
