package traces

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
)

// Summary describes a trace: what `vmsim trace stats` prints.
type Summary struct {
	Records  int64 `json:"records"`  // every record, control records included
	Accesses int64 `json:"accesses"` // access records
	Reads    int64 `json:"reads"`    // loads (rw R, lackey L, din 0 and 3)
	Writes   int64 `json:"writes"`   // stores (rw W, lackey S, din 1)
	Modifies int64 `json:"modifies"` // lackey M: one access that reads and writes
	Fetches  int64 `json:"fetches"`  // instruction fetches
	// Checkpoints and Fails count the control records.
	Checkpoints int64 `json:"checkpoints"`
	Fails       int64 `json:"fails"`
	// Inputs and Outputs count the I/O records (vmt, or lackey with system calls); they
	// are not accesses and touch no page.
	Inputs  int64 `json:"inputs"`
	Outputs int64 `json:"outputs"`
	// AddressSpaces is the number of distinct address space ids among the accesses.
	AddressSpaces int    `json:"address_spaces"`
	PageSize      uint64 `json:"page_size"`
	IgnoreSize    bool   `json:"ignore_size"`
	// PagesTouched and PagesWritten count distinct (address space, page) pairs, as
	// vmsim run's pages_touched and pages_written.
	PagesTouched int64 `json:"pages_touched"`
	PagesWritten int64 `json:"pages_written"`
	// WriteFraction is (Writes+Modifies)/Accesses; 0 for no accesses.
	WriteFraction float64 `json:"write_fraction"`
	// FootprintBytes is PagesTouched × PageSize.
	FootprintBytes uint64 `json:"footprint_bytes"`
	// Intervals holds, for each checkpoint interval asked for, the distinct pages
	// written per interval.
	Intervals []IntervalWrites `json:"intervals"`
}

// IntervalWrites is the number of distinct pages written in each checkpoint interval of
// a given length, over the whole trace taken as one domain with no failures.
type IntervalWrites struct {
	Interval int64 `json:"interval"` // accesses per interval
	// Count is the number of intervals: ceil(Accesses/Interval), the last maybe partial.
	Count int64 `json:"count"`
	// PageWrites is the number of (interval, page) pairs in which the page is written:
	// what vmsim run counts as first_writes with the same --interval (and the whole
	// system as one domain, no failures).
	PageWrites int64 `json:"page_writes"`
	// Mean is PageWrites/Count; Max is the most pages written in one interval.
	Mean float64 `json:"mean"`
	Max  int64   `json:"max"`
}

// SummaryOptions says how to summarise a trace.
type SummaryOptions struct {
	PageSize   uint64  // a power of two
	IgnoreSize bool    // an access touches only the page of its address
	Intervals  []int64 // checkpoint intervals, in accesses; each >= 1
	// MaxPages bounds the distinct pages (0: no bound): past it Summarize fails with an
	// error wrapping ErrTooManyPages rather than exhaust memory.
	MaxPages int
}

// Page sizes Summarize accepts (those vmsim run accepts).
const (
	MinPageSize = 16
	MaxPageSize = 1 << 30
)

// ErrTooManyPages is wrapped by Summarize's error when a trace touches more pages than
// SummaryOptions.MaxPages.
var ErrTooManyPages = errors.New("too many pages")

// Summarize reads r to the end and describes it. Its memory grows with the pages the
// trace touches, not with its length.
func Summarize(r Reader, opt SummaryOptions) (*Summary, error) {
	if opt.PageSize < MinPageSize || opt.PageSize > MaxPageSize || opt.PageSize&(opt.PageSize-1) != 0 {
		return nil, fmt.Errorf("--page-size %d: want a power of two from %d to %d", opt.PageSize, MinPageSize, MaxPageSize)
	}
	if opt.MaxPages < 0 {
		return nil, fmt.Errorf("--max-pages %d: want 0 (no limit) or more", opt.MaxPages)
	}
	for _, n := range opt.Intervals {
		if n < 1 {
			return nil, fmt.Errorf("interval %d: want at least 1 access", n)
		}
	}
	shift := uint(bits.TrailingZeros64(opt.PageSize))
	s := &Summary{PageSize: opt.PageSize, IgnoreSize: opt.IgnoreSize}
	ints := slices.Clone(opt.Intervals)
	slices.Sort(ints)
	ints = slices.Compact(ints)
	k := len(ints)
	iw := make([]IntervalWrites, k)
	cur := make([]int64, k)    // pages written in the current interval of each length
	curIdx := make([]int64, k) // the current interval's number
	// pages maps a page to its id; written[id] tells whether it was written; last[id*k+j]
	// is 1 + the number of the last interval of length ints[j] in which it was written.
	pages := newPageSet()
	var written []bool
	var last []int64
	asids := map[ASID]struct{}{}
	buf := make([]Record, 4096)
	for {
		n, err := r.Read(buf)
		for _, rec := range buf[:n] {
			s.Records++
			switch rec.Kind {
			case Checkpoint:
				s.Checkpoints++
				continue
			case Fail:
				s.Fails++
				continue
			case Input:
				s.Inputs++
				continue
			case Output:
				s.Outputs++
				continue
			case Read:
				s.Reads++
			case Write:
				s.Writes++
			case Modify:
				s.Modifies++
			case Fetch:
				s.Fetches++
			}
			acc := s.Accesses
			s.Accesses++
			asids[rec.ASID] = struct{}{}
			for j := range k {
				if idx := acc / ints[j]; idx != curIdx[j] {
					iw[j].Max = max(iw[j].Max, cur[j])
					cur[j], curIdx[j] = 0, idx
				}
			}
			first, lastPage := rec.PageSpan(shift, opt.IgnoreSize)
			for p := first; ; p++ {
				if n := pages.Len(); (opt.MaxPages > 0 && n >= opt.MaxPages) || n == 1<<31-1 {
					if _, found := pages.find(rec.ASID, p); !found {
						return nil, fmt.Errorf("%w: the trace touches more than %d distinct pages (--max-pages %d); raise --max-pages if the machine has the memory, or use a larger --page-size",
							ErrTooManyPages, n, n)
					}
				}
				id, added := pages.id(rec.ASID, p)
				if added {
					written = append(written, false)
					for range k {
						last = append(last, 0)
					}
				}
				if rec.Kind.Writes() {
					written[id] = true
					for j := range k {
						if l := &last[int(id)*k+j]; *l != curIdx[j]+1 {
							*l = curIdx[j] + 1
							cur[j]++
							iw[j].PageWrites++
						}
					}
				}
				if p == lastPage {
					break
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	s.AddressSpaces = len(asids)
	s.PagesTouched = int64(pages.Len())
	for _, w := range written {
		if w {
			s.PagesWritten++
		}
	}
	if s.Accesses > 0 {
		s.WriteFraction = float64(s.Writes+s.Modifies) / float64(s.Accesses)
	}
	s.FootprintBytes = uint64(s.PagesTouched) * opt.PageSize
	for j, n := range ints {
		iw[j].Interval = n
		iw[j].Count = (s.Accesses + n - 1) / n
		iw[j].Max = max(iw[j].Max, cur[j])
		if iw[j].Count > 0 {
			iw[j].Mean = float64(iw[j].PageWrites) / float64(iw[j].Count)
		}
	}
	s.Intervals = iw
	return s, nil
}
