package sim

import (
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// TestSummaryAgreesWithRun checks traces.Summarize, an independent pass over the trace,
// against the emulator: pages touched and written, and the distinct pages written per
// interval against first_writes with the same interval.
func TestSummaryAgreesWithRun(t *testing.T) {
	recs := sampleRecords(t)
	intervals := []int64{1, 1000, 100000}
	for _, ignore := range []bool{false, true} {
		sum, err := traces.Summarize(traces.NewSliceReader(recs), traces.SummaryOptions{PageSize: 4096, IgnoreSize: ignore, Intervals: intervals})
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range intervals {
			cfg := DefaultConfig()
			cfg.Interval, cfg.IgnoreSize = n, ignore
			res, err := Run(cfg, sliceOpener(recs))
			if err != nil {
				t.Fatal(err)
			}
			st := res.Stats
			if st.FirstWrites != sum.Intervals[i].PageWrites || st.PagesTouched != sum.PagesTouched ||
				st.PagesWritten != sum.PagesWritten || st.Refs != sum.Accesses || st.Writes != sum.Writes+sum.Modifies {
				t.Errorf("ignore-size %v interval %d: run %+v\nsummary %+v", ignore, n, st, sum)
			}
		}
	}
}

// sampleRecords returns the records of the embedded sample trace.
func sampleRecords(t *testing.T) []traces.Record {
	t.Helper()
	f, err := traces.OpenSample()
	if err != nil {
		t.Fatal(err)
	}
	recs, err := traces.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
