package traces

import (
	"reflect"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	// Page size 16. Accesses (0-based): 0 R 0x00, 1 W 0x10, 2 W 0x18 (same page as 1),
	// 3 checkpoint, an input and an output (not accesses, no pages: their Addr is a
	// channel), 3 W 0x1e size 4 (pages 1 and 2), 4 I 0x40, 5 W 0x10 in asid 1.
	recs := []Record{
		{Addr: 0x00, Size: 1, Kind: Read},
		{Addr: 0x10, Size: 1, Kind: Write},
		{Addr: 0x18, Size: 8, Kind: Modify},
		{Kind: Checkpoint},
		{Addr: 0, Size: 4096, Kind: Input},
		{Addr: 0x60, Size: 100, Kind: Output},
		{Addr: 0x1e, Size: 4, Kind: Write},
		{Addr: 0x40, Size: 2, Kind: Fetch},
		{Addr: 0x10, Size: 1, Kind: Write, ASID: 1},
	}
	s, err := Summarize(NewSliceReader(recs), SummaryOptions{PageSize: 16, Intervals: []int64{2, 1, 100, 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Records: 9, Accesses: 6, Reads: 1, Writes: 3, Modifies: 1, Fetches: 1, Checkpoints: 1, Inputs: 1, Outputs: 1,
		AddressSpaces: 2, PageSize: 16, PagesTouched: 5, PagesWritten: 3, WriteFraction: 4.0 / 6, FootprintBytes: 80}
	got := *s
	got.Intervals = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n got %+v\nwant %+v", got, want)
	}
	// Intervals are sorted and deduplicated. Interval 1: writes at accesses 1, 2, 3 (two
	// pages), 5 -> 5 page writes. Interval 2: [0,1] page 1; [2,3] pages 1, 2; [4,5] asid 1
	// page 1 -> 4. Interval 100: pages 1, 2 and (1, page 1) -> 3.
	wantI := []IntervalWrites{
		{Interval: 1, Count: 6, PageWrites: 5, Mean: 5.0 / 6, Max: 2},
		{Interval: 2, Count: 3, PageWrites: 4, Mean: 4.0 / 3, Max: 2},
		{Interval: 100, Count: 1, PageWrites: 3, Mean: 3, Max: 3},
	}
	if len(s.Intervals) != len(wantI) {
		t.Fatalf("intervals %+v", s.Intervals)
	}
	for i := range wantI {
		if s.Intervals[i] != wantI[i] {
			t.Errorf("interval %d: got %+v, want %+v", i, s.Intervals[i], wantI[i])
		}
	}
	s, _ = Summarize(NewSliceReader(recs), SummaryOptions{PageSize: 16, IgnoreSize: true})
	if s.PagesTouched != 4 || s.PagesWritten != 2 {
		t.Errorf("ignore size: touched %d written %d", s.PagesTouched, s.PagesWritten)
	}
	for _, bad := range []SummaryOptions{{PageSize: 3}, {PageSize: 16, Intervals: []int64{0}}} {
		if _, err := Summarize(NewSliceReader(recs), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	_, err = Summarize(NewRWReader(strings.NewReader("10 R\nxx\n"), "s.trace"), SummaryOptions{PageSize: 16})
	if err == nil || !strings.Contains(err.Error(), "s.trace:2") {
		t.Errorf("bad trace: %v", err)
	}
}
