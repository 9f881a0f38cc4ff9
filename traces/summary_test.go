package traces

import (
	"errors"
	"math/rand/v2"
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

func TestSummarizeThreads(t *testing.T) {
	// Page size 16. Thread 1 reads page 0 and writes page 1; thread 2 writes pages 1 and
	// 2 (one access straddling them) and fetches page 4; address space 1's thread 1
	// writes its page 1 (another thread: address spaces have their own threads).
	recs := []Record{
		{Addr: 0x00, Size: 1, Kind: Read, Thread: 1},
		{Addr: 0x10, Size: 1, Kind: Write, Thread: 1},
		{Kind: Checkpoint, Thread: 2},
		{Addr: 0x1e, Size: 4, Kind: Modify, Thread: 2},
		{Addr: 0x40, Size: 2, Kind: Fetch, Thread: 2},
		{Addr: 0x18, Size: 1, Kind: Read, Thread: 1},
		{Addr: 0x10, Size: 1, Kind: Write, ASID: 1, Thread: 1},
	}
	for _, tt := range []struct {
		name string
		recs []Record
		want []ThreadSummary
	}{
		{"no thread ids", []Record{{Addr: 0, Size: 1}, {Addr: 0x10, Size: 1, ASID: 1, Kind: Write}}, nil},
		{"one thread", []Record{{Addr: 0, Size: 1, Thread: 9}, {Addr: 0x10, Size: 8, Kind: Write, Thread: 9}, {Addr: 0x18, Size: 1, Thread: 9}},
			[]ThreadSummary{{Thread: 9, Accesses: 3, Reads: 2, Writes: 1, PagesTouched: 2, PagesWritten: 1}}},
		{"threads sharing pages", recs, []ThreadSummary{
			{ASID: 0, Thread: 1, Accesses: 3, Reads: 2, Writes: 1, PagesTouched: 2, PagesWritten: 1},
			{ASID: 0, Thread: 2, Accesses: 2, Modifies: 1, Fetches: 1, PagesTouched: 3, PagesWritten: 2},
			{ASID: 1, Thread: 1, Accesses: 1, Writes: 1, PagesTouched: 1, PagesWritten: 1},
		}},
		{"thread 0 beside others", []Record{{Addr: 0, Size: 1}, {Addr: 0x10, Size: 1, Thread: 3, Kind: Write}, {Addr: 0, Size: 1, Kind: Write}},
			[]ThreadSummary{{Accesses: 2, Reads: 1, Writes: 1, PagesTouched: 1, PagesWritten: 1}, {Thread: 3, Accesses: 1, Writes: 1, PagesTouched: 1, PagesWritten: 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize(NewSliceReader(tt.recs), SummaryOptions{PageSize: 16})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Threads, tt.want) {
				t.Errorf("threads\n got %+v\nwant %+v", s.Threads, tt.want)
			}
		})
	}
	// The bound on (thread, page) pairs.
	many := []Record{{Addr: 0, Size: 1, Thread: 1}, {Addr: 0, Size: 1, Thread: 2}, {Addr: 0x10, Size: 1, Thread: 2}}
	if _, err := Summarize(NewSliceReader(many), SummaryOptions{PageSize: 16, MaxPages: 2}); !errors.Is(err, ErrTooManyPages) || !strings.Contains(err.Error(), "(thread, page) pairs") {
		t.Errorf("2 pages, 3 (thread, page) pairs, --max-pages 2: %v", err)
	}
}

// TestSummarizeThreadsAgainstNaive compares the per-thread counts with maps of sets, on
// random traces with threads and address spaces.
func TestSummarizeThreadsAgainstNaive(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		recs := randomThreadRecords(rand.New(rand.NewPCG(seed, 23)), 5000)
		for i := range recs {
			recs[i].Addr &= 0xfffff // pages that recur
			if recs[i].Kind.IsAccess() && recs[i].Size > 64 {
				recs[i].Size = 64
			}
		}
		s, err := Summarize(NewSliceReader(recs), SummaryOptions{PageSize: 256})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		type key struct {
			a ASID
			t TID
		}
		sums := map[key]*ThreadSummary{}
		touched, wrote := map[key]map[uint64]bool{}, map[key]map[uint64]bool{}
		for _, r := range recs {
			if !r.Kind.IsAccess() {
				continue
			}
			k := key{r.ASID, r.Thread}
			if sums[k] == nil {
				sums[k] = &ThreadSummary{ASID: r.ASID, Thread: r.Thread}
				touched[k], wrote[k] = map[uint64]bool{}, map[uint64]bool{}
			}
			x := sums[k]
			x.Accesses++
			switch r.Kind {
			case Read:
				x.Reads++
			case Write:
				x.Writes++
			case Modify:
				x.Modifies++
			case Fetch:
				x.Fetches++
			}
			for p := r.Addr >> 8; p <= (r.Addr+uint64(r.Size)-1)>>8; p++ {
				touched[k][p] = true
				if r.Kind.Writes() {
					wrote[k][p] = true
				}
			}
		}
		if len(s.Threads) != len(sums) {
			t.Fatalf("seed %d: %d threads, want %d", seed, len(s.Threads), len(sums))
		}
		for _, got := range s.Threads {
			k := key{got.ASID, got.Thread}
			want := *sums[k]
			want.PagesTouched, want.PagesWritten = int64(len(touched[k])), int64(len(wrote[k]))
			if got != want {
				t.Errorf("seed %d: thread %+v, want %+v", seed, got, want)
			}
		}
	}
}
