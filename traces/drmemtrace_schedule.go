package traces

// drmemtrace's schedule files: the recorded order of the threads' segments, and the
// threads they name (DRMEMTRACE.md, "Interleaving the threads", "Checks and errors").

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// drSchedule is a serial schedule file (serial_schedule.bin, gzip-compressed or not):
// the recorded order of the threads' segments, which the reader follows entry by entry.
// DynamoRIO writes one entry a segment (a timestamp and cpu marker pair: the thread, the
// timestamp, the cpu, the thread's instructions before it) sorted by timestamp; older
// versions order the entries of one timestamp as they come, newer ones as drKey does and
// drop an entry whose thread is the one before's (the thread runs on). Both read.
type drSchedule struct {
	name    string
	r       io.Reader
	closeFn func()
	entry   int64 // entries read
	buf     [drScheduleEntrySize]byte
	peeked  bool // ahead holds the next entry, read but not checked
	ahead   drScheduleEntry
	aheadOK bool
}

type drScheduleEntry struct {
	tid, ts, cpu, instr uint64
}

// read returns the next entry; ok is false at the end of the file.
func (s *drSchedule) read() (e drScheduleEntry, ok bool, err error) {
	n, err := io.ReadFull(s.r, s.buf[:])
	switch {
	case err == io.EOF:
		return e, false, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return e, false, &Error{File: s.name, Offset: s.entry * drScheduleEntrySize,
			Reason: fmt.Sprintf("truncated: entry %d has %d of its %d bytes", s.entry, n, drScheduleEntrySize)}
	case err != nil:
		var te *Error
		if errors.As(err, &te) {
			return e, false, err
		}
		return e, false, &Error{File: s.name, Offset: s.entry * drScheduleEntrySize, Reason: "reading", Err: err}
	}
	le := binary.LittleEndian
	s.entry++
	return drScheduleEntry{le.Uint64(s.buf[0:]), le.Uint64(s.buf[8:]), le.Uint64(s.buf[16:]), le.Uint64(s.buf[24:])}, true, nil
}

// peek returns the next entry without taking it.
func (s *drSchedule) peek() (drScheduleEntry, bool, error) {
	if !s.peeked {
		e, ok, err := s.read()
		if err != nil {
			return e, false, err
		}
		s.ahead, s.aheadOK, s.peeked = e, ok, true
	}
	return s.ahead, s.aheadOK, nil
}

// pick returns the waiting thread whose segment comes next: the one the next entry
// names, which must stand at that entry's timestamp, cpu and instruction count; or prev,
// the thread of the segment before, running on through a boundary the schedule has no
// entry for (one that sorts before the next entry). waiting holds the threads stopped
// at a boundary, by thread id.
func (s *drSchedule) pick(waiting map[uint64]*drThread, prev *drThread) (*drThread, error) {
	e, ok, err := s.peek()
	if err != nil {
		return nil, err
	}
	at := s.entry - 1 // the entry peeked
	if !ok {
		at = s.entry
	}
	key := drKey{e.ts, e.cpu, e.tid, e.instr}
	runsOn := prev != nil && waiting[prev.tid] == prev
	switch t := waiting[e.tid]; {
	case !ok:
		if runsOn {
			// The schedule's last thread runs on to its end.
			return prev, nil
		}
	case runsOn && prev.next.ts < e.ts:
		// A boundary before the entry's time has no entry: the thread runs on.
		return prev, nil
	case t != nil && t.next == key:
		s.peeked = false
		return t, nil
	case runsOn && prev.next.less(key):
		// The same time: a schedule that drops a running thread's entries sorts them
		// as drKey does.
		return prev, nil
	}
	// The threads do not follow the schedule: say where the thread named stands.
	fail := func(format string, args ...any) error {
		return &Error{File: s.name, Offset: at * drScheduleEntrySize, Reason: fmt.Sprintf(format, args...)}
	}
	if !ok {
		var k drKey
		for _, t := range waiting {
			if k == (drKey{}) || t.next.less(k) {
				k = t.next
			}
		}
		return nil, fail("the schedule ends after %d entries; thread %d goes on at timestamp %d", s.entry, k.tid, k.ts)
	}
	want := fmt.Sprintf("entry %d puts thread %d at timestamp %d (cpu %d, instruction %d) next", at, e.tid, e.ts, e.cpu, e.instr)
	if t := waiting[e.tid]; t != nil {
		return nil, fail("%s; the thread's next timestamp marker is %d (cpu %d, instruction %d)", want, t.next.ts, t.next.cpu, t.next.instr)
	}
	return nil, fail("%s; the thread has no records left there (it ended, or runs at another place)", want)
}

// end checks that no entry is left.
func (s *drSchedule) end() error {
	e, ok, err := s.peek()
	if err != nil {
		return err
	}
	if ok {
		return &Error{File: s.name, Offset: (s.entry - 1) * drScheduleEntrySize,
			Reason: fmt.Sprintf("entry %d (thread %d at timestamp %d) is past the end of the trace", s.entry-1, e.tid, e.ts)}
	}
	return nil
}

func (s *drSchedule) close() {
	if s.closeFn != nil {
		s.closeFn()
		s.closeFn = nil
	}
}

// openSchedule opens dir's serial schedule, if any, and checks that every thread a
// schedule file names (the serial schedule, or else the cpu schedule) has a thread file:
// tids maps the threads that do to their files. It returns nil when dir has no serial
// schedule.
func openSchedule(dir string, tids map[uint64]string) (*drSchedule, error) {
	missing := func(file string, entry int64, tid uint64) error {
		return &Error{File: file, Offset: entry * drScheduleEntrySize,
			Reason: fmt.Sprintf("entry %d names thread %d, which has no thread file in %s: a thread file is missing", entry, tid, dir)}
	}
	open := func() (*drSchedule, error) {
		for _, name := range []string{"serial_schedule.bin.gz", "serial_schedule.bin"} {
			path := filepath.Join(dir, name)
			fh, err := os.Open(path)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			r, _, closeDec, err := Decompress(fh, path)
			if err != nil {
				fh.Close()
				return nil, err
			}
			return &drSchedule{name: path, r: r, closeFn: func() { closeDec(); fh.Close() }}, nil
		}
		return nil, nil
	}
	s, err := open()
	if err != nil || s == nil {
		if err == nil {
			err = checkCPUSchedule(filepath.Join(dir, "cpu_schedule.bin.zip"), tids, missing)
		}
		return nil, err
	}
	// A first pass for the threads it names, then the file again from its start.
	for {
		e, ok, err := s.read()
		if err != nil {
			s.close()
			return nil, err
		}
		if !ok {
			break
		}
		if _, ok := tids[e.tid]; !ok {
			s.close()
			return nil, missing(s.name, s.entry-1, e.tid)
		}
	}
	s.close()
	return open()
}

// checkCPUSchedule checks that every thread the cpu schedule (a zip of one entry a cpu)
// names has a thread file. A directory without one is not checked.
func checkCPUSchedule(path string, tids map[uint64]string, missing func(string, int64, uint64) error) error {
	z, err := zip.OpenReader(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{File: path, Offset: -1, Reason: "reading the zip file", Err: err}
	}
	defer z.Close()
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			return &Error{File: path, Offset: -1, Reason: "opening " + f.Name, Err: err}
		}
		s := &drSchedule{name: path + ":" + f.Name, r: r}
		for {
			e, ok, err := s.read()
			if err != nil {
				r.Close()
				return err
			}
			if !ok {
				break
			}
			if _, ok := tids[e.tid]; !ok {
				r.Close()
				return missing(s.name, s.entry-1, e.tid)
			}
		}
		r.Close()
	}
	return nil
}
