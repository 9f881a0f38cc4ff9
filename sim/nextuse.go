package sim

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// nextUse streams, for every page reference the run makes (in trace order, replays not
// included), the index of the next reference to the same page, for opt replacement.
//
// It is computed before the run in two passes that hold memory proportional to the pages
// touched, not to the trace: the first writes each reference's dense page number to a
// temporary file; the second reads that file backwards and writes the next-use indices
// (8 bytes each) to a second file, which the run then reads forwards.
type nextUse struct {
	f   *os.File
	r   *bufio.Reader
	err error // sticky: the stream ended before the run's references did
	b   [8]byte
}

// buildNextUse reads the whole trace once, every access referencing the pages pageRange
// gives, in order, and prepares the next-use stream. Past maxPages distinct pages (0: no
// limit), or at an access covering more pages on its own (before looking at them), it
// stops with a *scheme.TooManyPagesError.
func buildNextUse(open Opener, pageRange func(traces.Record) (first, last uint64), maxPages int) (*nextUse, error) {
	// Both scratch files are unlinked as soon as they exist: nothing is left behind
	// however the run ends (an error, a signal, a kill).
	ids, err := atomicfile.TempFile("", "vmsim-opt-pages-*")
	if err != nil {
		return nil, err
	}
	defer ids.Close()
	w := bufio.NewWriterSize(ids, 1<<20)
	var dense scheme.PageIndex // the pages by dense number; its budget is maxPages
	dense.SetMax(maxPages)
	var n int64
	var buf [4]byte
	var tooMany *scheme.TooManyPagesError
	if _, err := eachAccess(open, func(rec traces.Record, idx int64) bool {
		first, last := pageRange(rec)
		if scheme.SpanExceeds(maxPages, first, last) {
			tooMany = &scheme.TooManyPagesError{Max: maxPages, Access: idx, Pages: last - first + 1}
			return false
		}
		for vpn := first; ; vpn++ {
			id, _ := dense.Add(scheme.Page{ASID: rec.ASID, N: vpn})
			if id < 0 {
				tooMany = &scheme.TooManyPagesError{Max: maxPages, Access: idx}
				return false
			}
			binary.LittleEndian.PutUint32(buf[:], uint32(id))
			if _, werr := w.Write(buf[:]); werr != nil {
				return false // a full disk: Flush reports it
			}
			n++
			if vpn == last {
				return true
			}
		}
	}); err != nil {
		return nil, err
	}
	if tooMany != nil {
		return nil, fmt.Errorf("--replace opt's pre-pass: %w", tooMany)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("opt pre-pass: writing its scratch file: %w", err)
	}

	out, err := atomicfile.TempFile("", "vmsim-opt-next-*")
	if err != nil {
		return nil, err
	}
	last := make([]int64, dense.Len())
	for i := range last {
		last[i] = frames.NeverUsed
	}
	const chunk = 1 << 16
	in := make([]byte, 4*chunk)
	nx := make([]byte, 8*chunk)
	for end := n; end > 0; {
		start := max(0, end-chunk)
		c := int(end - start)
		if _, err := ids.ReadAt(in[:4*c], 4*start); err != nil {
			out.Close()
			return nil, fmt.Errorf("opt pre-pass: %w", err)
		}
		for j := c - 1; j >= 0; j-- {
			id := binary.LittleEndian.Uint32(in[4*j:])
			binary.LittleEndian.PutUint64(nx[8*j:], uint64(last[id]))
			last[id] = start + int64(j)
		}
		if _, err := out.WriteAt(nx[:8*c], 8*start); err != nil {
			out.Close()
			return nil, fmt.Errorf("opt pre-pass: %w", err)
		}
		end = start
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		out.Close()
		return nil, err
	}
	return &nextUse{f: out, r: bufio.NewReaderSize(out, 1<<20)}, nil
}

// eachAccess opens the trace and calls fn for each access record with its number
// (1-based; control records are skipped) until fn returns false or the trace ends. It
// returns how many accesses it passed to fn.
func eachAccess(open Opener, fn func(rec traces.Record, idx int64) bool) (int64, error) {
	return eachAccessAfter(open, 0, fn)
}

// accessSeeker is a trace that can jump to an access number: a seekable vmt file.
type accessSeeker interface {
	SeekAccess(n uint64) error
}

// eachAccessAfter is eachAccess from access number after+1 on: fn may or may not see the
// accesses up to after (a seekable trace jumps past them); the count returned includes
// them.
func eachAccessAfter(open Opener, after int64, fn func(rec traces.Record, idx int64) bool) (int64, error) {
	return eachRecordAfter(open, after, false, fn)
}

// eachRecordAfter is eachAccessAfter that, with withIO, also passes fn the I/O records,
// each with the number of the access it follows (0 before the first).
func eachRecordAfter(open Opener, after int64, withIO bool, fn func(rec traces.Record, idx int64) bool) (int64, error) {
	src, err := open()
	if err != nil {
		return 0, err
	}
	defer closeReader(src)
	var idx int64
	if s, ok := src.(accessSeeker); ok && after > 0 && s.SeekAccess(uint64(after)) == nil {
		idx = after
	}
	recs := make([]traces.Record, 4096)
	for {
		k, rerr := src.Read(recs)
		for _, rec := range recs[:k] {
			if !rec.Kind.IsAccess() {
				if withIO && rec.Kind.IsIO() && !fn(rec, idx) {
					return idx, nil
				}
				continue
			}
			if !fn(rec, idx+1) {
				return idx, nil
			}
			idx++
		}
		if rerr == io.EOF {
			return idx, nil
		}
		if rerr != nil {
			return idx, rerr
		}
	}
}

// next returns the next reference's next-use index. If the stream has ended (the trace
// changed between the passes) it returns NeverUsed and remembers the error.
func (u *nextUse) next() int64 {
	if _, err := io.ReadFull(u.r, u.b[:]); err != nil {
		u.err = errTraceChanged
		return frames.NeverUsed
	}
	return int64(binary.LittleEndian.Uint64(u.b[:]))
}

// finish reports whether the run used exactly the references the pre-pass saw.
func (u *nextUse) finish() error {
	if u.err != nil {
		return u.err
	}
	if _, err := u.r.ReadByte(); err != io.EOF {
		return errTraceChanged
	}
	return nil
}

func (u *nextUse) close() {
	if u != nil {
		u.f.Close()
	}
}

func closeReader(r traces.Reader) {
	if c, ok := r.(io.Closer); ok {
		c.Close()
	}
}

var errTraceChanged = errors.New("the trace changed while it was being read: opt needs to read it twice")

// oracle is the run's scheme.Oracle: the next-use times of the trace ahead, which a scheme
// asks for while it is built.
type oracle struct {
	r *runner
	// err is the error of the pre-pass, when it failed (the run's error).
	err error
}

// NextUse reads the trace once more (buildNextUse) and returns its next-use times, -1
// during a replay. Precondition: asked at most once, while the scheme is built.
func (o *oracle) NextUse() (func() int64, error) {
	r := o.r
	if r.nu != nil {
		return nil, errors.New("the next-use times of a run are given once")
	}
	nu, err := buildNextUse(r.open, r.pageRange, r.maxPages)
	if err != nil {
		o.err = err
		return nil, err
	}
	r.nu = nu
	return func() int64 {
		if r.replaying {
			return -1
		}
		return r.nu.next()
	}, nil
}
