package sweep

import (
	"io"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// withoutFails returns an opener of the records open yields less its fail records: the
// trace a baseline reads. A baseline is failure-free by definition (BaselineConfig), and
// scheme none cannot recover from a failure, so the fail records a trace carries for the
// scheme under study are not the baseline's; every other record reaches it unchanged.
func withoutFails(open sim.Opener) sim.Opener {
	return func() (traces.Reader, error) {
		r, err := open()
		if err != nil {
			return nil, err
		}
		if b, ok := r.(inPlaceReader); ok {
			return &failFreeInPlace{failFree: failFree{r: r}, in: b}, nil
		}
		return &failFree{r: r}, nil
	}
}

// inPlaceReader is a reader that hands out its records in place (a traces.DecodedReader),
// as sim.Run takes them.
type inPlaceReader interface {
	NextAccesses() (recs []traces.Record, allAccesses bool, err error)
}

// failFree reads the records of r less the fail records.
type failFree struct {
	r traces.Reader
}

// Read fills recs with the next records of r that are not fail records.
func (f *failFree) Read(recs []traces.Record) (int, error) {
	for {
		n, err := f.r.Read(recs)
		k := 0
		for _, rec := range recs[:n] {
			if rec.Kind != traces.Fail {
				recs[k] = rec
				k++
			}
		}
		if k > 0 || n == 0 || err != nil {
			return k, err
		}
		// Only fail records: read on rather than return nothing.
	}
}

// SkippedLines is r's (a lenient reader's), or 0.
func (f *failFree) SkippedLines() int64 {
	if s, ok := f.r.(traces.LineSkipper); ok {
		return s.SkippedLines()
	}
	return 0
}

// Close closes r if it is a Closer.
func (f *failFree) Close() error {
	if c, ok := f.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// failFreeInPlace is failFree for a reader that hands out its records in place: a batch
// without a fail record is handed out in place too, one with a fail record as a copy
// without it (valid until the next call, as a traces.Prefetcher's batches are).
type failFreeInPlace struct {
	failFree
	in inPlaceReader
	// buf holds the last batch that had fail records, less them.
	buf []traces.Record
}

func (f *failFreeInPlace) NextAccesses() ([]traces.Record, bool, error) {
	for {
		recs, all, err := f.in.NextAccesses()
		if all {
			return recs, all, err
		}
		fails := 0
		for _, rec := range recs {
			if rec.Kind == traces.Fail {
				fails++
			}
		}
		if fails == 0 {
			return recs, all, err
		}
		f.buf = f.buf[:0]
		for _, rec := range recs {
			if rec.Kind != traces.Fail {
				f.buf = append(f.buf, rec)
			}
		}
		if len(f.buf) > 0 || err != nil {
			return f.buf, false, err
		}
	}
}

// RunBaseline runs the baseline of a run of configuration c (BaselineConfig: scheme none
// on the same trace, machine, paging and cache, without checkpoints or failures) on the
// trace that open yields less its fail records, with the schemes of reg (nil: the
// built-ins). Its counters are what cost.Overhead takes as the baseline's.
func RunBaseline(c sim.Config, reg *scheme.Registry, open sim.Opener) (*sim.Result, error) {
	return sim.RunWith(BaselineConfig(c), withoutFails(open), sim.Options{Registry: registryOr(reg)})
}
