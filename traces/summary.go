package traces

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/vmsim/vmsim/scheme"
)

// Summary describes a trace: what `vmsim trace stats` prints.
type Summary struct {
	Records  int64 `json:"records"`  // every record, control records included
	Accesses int64 `json:"accesses"` // access records
	Reads    int64 `json:"reads"`    // loads (rw R, lackey L, din 0 and 3)
	Writes   int64 `json:"writes"`   // stores (rw W, lackey S, din 1), the kernel's included
	Modifies int64 `json:"modifies"` // lackey M: one access that reads and writes
	Fetches  int64 `json:"fetches"`  // instruction fetches
	// Checkpoints and Fails count the control records.
	Checkpoints int64 `json:"checkpoints"`
	Fails       int64 `json:"fails"`
	// KernelWrites counts the writes marked as the kernel's (Record.Kernel: a system
	// call's output, a signal frame; vmt version 3), among Writes. KernelPagesWritten
	// counts the distinct pages the kernel wrote, and KernelOnlyPages those of them the
	// program itself never wrote (nor modified): the pages a trace without the kernel's
	// writes would not show as written. All three are 0 for a trace without the mark.
	KernelWrites       int64 `json:"kernel_writes,omitempty"`
	KernelPagesWritten int64 `json:"kernel_pages_written,omitempty"`
	KernelOnlyPages    int64 `json:"kernel_only_pages,omitempty"`
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
	// Threads describes each (address space, thread) pair that made an access, sorted by
	// address space then thread, for a trace with a thread id other than 0; it is nil for
	// a trace without thread ids (every record of thread 0), whose threads are its
	// address spaces.
	Threads []ThreadSummary `json:"threads,omitempty"`
}

// ThreadSummary describes the accesses of one thread of one address space. Its counts
// are the trace's counts restricted to the thread's accesses: the sums over threads of
// accesses, reads, writes, modifies and fetches are the trace's; a page two threads touch
// counts once for each.
type ThreadSummary struct {
	ASID         ASID  `json:"asid"`
	Thread       TID   `json:"thread"`
	Accesses     int64 `json:"accesses"`
	Reads        int64 `json:"reads"`
	Writes       int64 `json:"writes"`
	Modifies     int64 `json:"modifies"`
	Fetches      int64 `json:"fetches"`
	PagesTouched int64 `json:"pages_touched"` // distinct pages of its address space the thread touched
	PagesWritten int64 `json:"pages_written"` // and wrote
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
	// MaxPages bounds the distinct pages (0: no bound), and the distinct (thread, page)
	// pairs of a trace with several threads: past it Summarize fails with an error
	// wrapping ErrTooManyPages rather than exhaust memory.
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
	pages := &scheme.PageIndex{}
	pages.SetMax(maxPageIDs(opt.MaxPages))
	var written []bool
	var last []int64
	// kw[id] has bit 0 set when the kernel wrote the page, bit 1 when the program did.
	var kw []uint8
	asids := map[ASID]struct{}{}
	var lastASID ASID // the address space of the last access, in asids
	th := newThreadCounter(opt.MaxPages)
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
				if rec.Kernel {
					s.KernelWrites++
				}
			case Modify:
				s.Modifies++
			case Fetch:
				s.Fetches++
			}
			acc := s.Accesses
			s.Accesses++
			if rec.ASID != lastASID || s.Accesses == 1 {
				asids[rec.ASID] = struct{}{}
				lastASID = rec.ASID
			}
			ts := th.access(&rec, pages, written)
			for j := range k {
				if idx := acc / ints[j]; idx != curIdx[j] {
					iw[j].Max = max(iw[j].Max, cur[j])
					cur[j], curIdx[j] = 0, idx
				}
			}
			first, lastPage := rec.PageSpan(shift, opt.IgnoreSize)
			for p := first; ; p++ {
				id32, added := pages.Add(scheme.Page{ASID: rec.ASID, N: p})
				if id32 < 0 { // the page index's budget
					n := pages.Len()
					return nil, fmt.Errorf("%w: the trace touches more than %d distinct pages (--max-pages %d); raise --max-pages if the machine has the memory, or use a larger --page-size",
						ErrTooManyPages, n, n)
				}
				id := int(id32)
				if added {
					written = append(written, false)
					kw = append(kw, 0)
					for range k {
						last = append(last, 0)
					}
				}
				if err := th.page(ts, id, rec.Kind.Writes()); err != nil {
					return nil, err
				}
				if rec.Kind.Writes() {
					if rec.Kernel {
						kw[id] |= 1
					} else {
						kw[id] |= 2
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
	for _, b := range kw {
		if b&1 != 0 {
			s.KernelPagesWritten++
			if b&2 == 0 {
				s.KernelOnlyPages++
			}
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
	s.Threads = th.summaries(pages, written)
	return s, nil
}

// threadCounter keeps Summarize's counts per (address space, thread) pair.
//
// Pages per thread cost a second page set, of (thread, page) pairs; a trace with one
// thread (most traces) does without it: while only one pair has been seen, every page
// touched so far is that pair's, so the set is built (from the pages so far) only when
// a second pair appears.
type threadCounter struct {
	index    map[threadKey]int
	threads  []ThreadSummary // in order of first sight
	last     threadKey       // the pair of the previous access, at threads[lastIdx]
	lastIdx  int
	anyID    bool // some access has a thread id other than 0
	maxPairs int  // the bound on (thread, page) pairs; 0 for none
	// pairs numbers (thread index, page id) pairs, nil while there is one thread; its
	// keys are (ASID(thread index), page id). Invariant: pairWritten[i] tells whether
	// pair i was written, and len(pairWritten) == pairs.Len().
	pairs       *scheme.PageIndex
	pairWritten []bool
}

type threadKey struct {
	asid   ASID
	thread TID
}

func newThreadCounter(maxPages int) *threadCounter {
	return &threadCounter{index: map[threadKey]int{}, lastIdx: -1, maxPairs: maxPages}
}

// access counts an access and returns its thread's index. pages and written are the
// trace's page set and written flags so far (the current access's pages not yet added).
func (c *threadCounter) access(r *Record, pages *scheme.PageIndex, written []bool) int {
	k := threadKey{r.ASID, r.Thread}
	if k != c.last || c.lastIdx < 0 {
		i, ok := c.index[k]
		if !ok {
			i = len(c.threads)
			c.index[k] = i
			c.threads = append(c.threads, ThreadSummary{ASID: r.ASID, Thread: r.Thread})
			if i == 1 {
				// A second pair: until now every page was the first pair's.
				c.pairs = &scheme.PageIndex{}
				c.pairs.SetMax(maxPageIDs(c.maxPairs))
				for id := range pages.Len() {
					c.pairs.Add(scheme.Page{ASID: 0, N: uint64(id)})
				}
				c.pairWritten = append(c.pairWritten, written...)
			}
		}
		c.last, c.lastIdx = k, i
		c.anyID = c.anyID || r.Thread != 0
	}
	t := &c.threads[c.lastIdx]
	t.Accesses++
	switch r.Kind {
	case Read:
		t.Reads++
	case Write:
		t.Writes++
	case Modify:
		t.Modifies++
	case Fetch:
		t.Fetches++
	}
	return c.lastIdx
}

// page notes that thread i touched (and wrote, if write) the page of id id.
func (c *threadCounter) page(i, id int, write bool) error {
	if c.pairs == nil {
		return nil
	}
	p, added := c.pairs.Add(scheme.Page{ASID: ASID(i), N: uint64(id)})
	if p < 0 { // the page index's budget
		n := c.pairs.Len()
		return fmt.Errorf("%w: the trace's threads touch more than %d distinct (thread, page) pairs (--max-pages %d); raise --max-pages if the machine has the memory, or use a larger --page-size",
			ErrTooManyPages, n, n)
	}
	if added {
		c.pairWritten = append(c.pairWritten, false)
	}
	if write {
		c.pairWritten[p] = true
	}
	return nil
}

// summaries returns the per-thread summaries, sorted, or nil for a trace without thread
// ids. pages and written are the trace's at its end.
func (c *threadCounter) summaries(pages *scheme.PageIndex, written []bool) []ThreadSummary {
	if !c.anyID {
		return nil
	}
	out := slices.Clone(c.threads)
	if c.pairs == nil {
		// One thread: its pages are the trace's.
		out[0].PagesTouched = int64(pages.Len())
		for _, w := range written {
			if w {
				out[0].PagesWritten++
			}
		}
	} else {
		for p, w := range c.pairWritten {
			t := &out[c.pairs.Key(int32(p)).ASID]
			t.PagesTouched++
			if w {
				t.PagesWritten++
			}
		}
	}
	slices.SortFunc(out, func(a, b ThreadSummary) int {
		if a.ASID != b.ASID {
			return cmp.Compare(a.ASID, b.ASID)
		}
		return cmp.Compare(a.Thread, b.Thread)
	})
	return out
}

// maxPageIDs is the budget of a page index of Summarize: max (--max-pages), or 2^31-1
// without one, the most pages an index numbers (its numbers are int32).
func maxPageIDs(max int) int {
	if max > 0 {
		return max
	}
	return 1<<31 - 1
}
