package sim

import (
	"fmt"
	"io"

	"github.com/vmsim/vmsim/traces"
)

// window wraps Opener open so that every reader it yields is the trace seen through
// --skip and --max-refs (Config.Skip, Config.MaxRefs): the first skip accesses, and the
// control records among and before them, are read past without being handed out (a trace
// that can jump, a vmt file with its index, jumps past them instead); the records after
// access skip are handed out, up to and including access skip+maxRefs, after which the
// reader ends as if the trace ended there (the control records that follow that access
// are not read). Every pass over the trace (the run, opt's pre-pass, a replay's re-read,
// the baseline) sees the same window, its accesses numbered from 1. Without either
// setting open is returned unchanged.
func window(open Opener, skip, maxRefs int64) Opener {
	if skip <= 0 && maxRefs <= 0 {
		return open
	}
	return func() (traces.Reader, error) {
		src, err := open()
		if err != nil {
			return nil, err
		}
		w := &windowReader{src: src, skip: skip, max: maxRefs}
		if _, ok := src.(interface{ CPU() int }); ok {
			return &windowCPUReader{w}, nil
		}
		return w, nil
	}
}

// windowReader is a reader of window.
//
// Invariant: skipped <= skip; passed counts the accesses handed out (or jumped to by
// SeekAccess) since the window's start, at most max when max > 0; done once max accesses
// have been handed out.
type windowReader struct {
	src       traces.Reader
	skip, max int64
	skipped   int64 // accesses of the first skip read past so far
	started   bool  // the skip is done (jumped, or read past)
	passed    int64
	done      bool
}

// Read hands out the records of one Read of the trace under it, those of the window, so
// that a CPU the reader under it reports is that of every record returned.
func (w *windowReader) Read(recs []traces.Record) (int, error) {
	if w.done {
		return 0, io.EOF
	}
	if !w.started {
		w.started = true
		if s, ok := w.src.(accessSeeker); ok && w.skip > 0 {
			if s.SeekAccess(uint64(w.skip)) == nil {
				w.skipped = w.skip
			} else {
				// Past the end (read past from the start, to count the accesses), or a
				// trace that cannot jump, whose failed seek changed nothing: a broken
				// index is the next Read's error.
				_ = s.SeekAccess(0)
			}
		}
	}
	for {
		n, err := w.src.Read(recs)
		k := 0 // records kept, moved to the front
		for i := 0; i < n; i++ {
			rec := recs[i]
			if w.skipped < w.skip {
				if rec.Kind.IsAccess() {
					w.skipped++
				}
				continue
			}
			recs[k] = rec
			k++
			if rec.Kind.IsAccess() {
				w.passed++
				if w.max > 0 && w.passed == w.max {
					w.done = true
					return k, nil
				}
			}
		}
		if err == io.EOF && w.skipped < w.skip {
			return k, fmt.Errorf("%w: --skip %d is beyond the end of the trace (%d accesses)", ErrUsage, w.skip, w.skipped)
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// SeekAccess jumps to access n of the window (0-based: n accesses skipped) when the trace
// under it can jump.
func (w *windowReader) SeekAccess(n uint64) error {
	s, ok := w.src.(accessSeeker)
	if !ok {
		return traces.ErrNotSeekable
	}
	if w.max > 0 && int64(n) >= w.max {
		return fmt.Errorf("access %d is past the window's end (--max-refs %d)", n, w.max)
	}
	if err := s.SeekAccess(uint64(w.skip) + n); err != nil {
		return err
	}
	w.started, w.skipped, w.passed, w.done = true, w.skip, int64(n), false
	return nil
}

// SkippedLines is the reader's under it (a lenient one's).
func (w *windowReader) SkippedLines() int64 {
	if s, ok := w.src.(traces.LineSkipper); ok {
		return s.SkippedLines()
	}
	return 0
}

// Close closes the reader under it.
func (w *windowReader) Close() error {
	if c, ok := w.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// windowCPUReader is a windowReader over a reader that reports its records' cpu.
type windowCPUReader struct{ *windowReader }

// CPU is the reader's under it: that of the records of the last Read.
func (w *windowCPUReader) CPU() int { return w.src.(interface{ CPU() int }).CPU() }

// Window is window for other packages: open seen through the window of Config.Skip and
// Config.MaxRefs, as a run with those settings sees it (a study summarises the window it
// replays).
func Window(open Opener, skip, maxRefs int64) Opener { return window(open, skip, maxRefs) }
