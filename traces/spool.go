package traces

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/vmsim/vmsim/internal/atomicfile"
)

// Source is a trace that can be read from its start any number of times, as a run must
// (opt's pre-pass, and replays that reach back past the replay buffer, open it again).
//
// A regular file is opened once and every Open reads that same open file from its start,
// so that a file renamed or replaced during a run cannot change the records under it.
// Anything else (a pipe, /dev/stdin, a fifo, a character device) can be read only once,
// so a Source spools it: the bytes read from it are kept in an unlinked temporary file
// (in $TMPDIR; nothing is left behind however vmsim ends), and every Open reads that
// file, pulling more from the input only as a reader gets past what is spooled. An input
// that is never read to its end is never spooled whole. A spool that cannot be written
// (a full disk) is an error naming the input, never a shorter trace.
//
// A directory is a drmemtrace trace (OpenDrmemtrace; --format auto or drmemtrace), and so
// is a zip file (one thread's chunks): every Open opens its files again by name, and
// reads its threads as a stream, so that memory does not grow with the trace.
type Source struct {
	name string
	opt  Options
	// fh is the open file. Invariant: nil exactly when drmemtrace is set.
	fh *os.File
	// size is a regular file's size when opened; -1 for a spooled input and a
	// drmemtrace one.
	size  int64
	spool *spool // nil for a regular file
	// drmemtrace is set for a drmemtrace directory or zip thread file, which Open opens
	// by name (OpenDrmemtrace).
	drmemtrace bool
}

// NewSource opens the trace at path for repeated reading. A directory must be a
// drmemtrace trace directory (it is checked to hold thread files); asked for in another
// format than auto or drmemtrace, it is an error.
func NewSource(path string, opt Options) (*Source, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if fi.IsDir() {
		fh.Close()
		if err := dirFormat(path, opt); err != nil {
			return nil, err
		}
		if _, _, err := drThreadFiles(path); err != nil {
			return nil, err
		}
		return &Source{name: path, opt: opt, size: -1, drmemtrace: true}, nil
	}
	if fi.Mode().IsRegular() && (opt.Format == FormatAuto || opt.Format == "" || opt.Format == FormatDrmemtrace) {
		var head [4]byte
		if n, _ := fh.ReadAt(head[:], 0); bytes.Equal(head[:n], zipMagic) {
			fh.Close()
			return &Source{name: path, opt: opt, size: -1, drmemtrace: true}, nil
		}
	}
	s := &Source{name: path, opt: opt, fh: fh, size: fi.Size()}
	if !fi.Mode().IsRegular() {
		tmp, err := atomicfile.TempFile("", "vmsim-spool-*")
		if err != nil {
			fh.Close()
			return nil, fmt.Errorf("%s is not a regular file and must be spooled to be read more than once, but: %w", path, err)
		}
		s.size = -1
		s.spool = &spool{name: path, src: fh, f: tmp}
	}
	return s, nil
}

// Name is the trace's path.
func (s *Source) Name() string { return s.name }

// Spooled reports whether the input is spooled (it is not a regular file).
func (s *Source) Spooled() bool { return s.spool != nil }

// Open returns a fresh reader of the trace from its start. Close it when done; the
// Source stays open.
func (s *Source) Open() (*File, error) {
	if s.drmemtrace {
		return openDrmemtraceFile(s.name)
	}
	if s.spool != nil {
		return NewFile(&spoolReader{s: s.spool}, s.name, s.opt)
	}
	return OpenAt(s.fh, s.size, s.name, s.opt)
}

// OpenAt reads the trace in the first size bytes of ra (an open file) from its start, as
// Open reads a file: a vmt file that is not wrapped in another compression is opened
// seekable. Many readers may read ra at once; closing one leaves ra open.
func OpenAt(ra io.ReaderAt, size int64, name string, opt Options) (*File, error) {
	if opt.Format == FormatAuto || opt.Format == "" || opt.Format == FormatVMT {
		var head [8]byte
		n, _ := ra.ReadAt(head[:], 0)
		if bytes.Equal(head[:n], vmtMagic) {
			v, err := OpenVMT(ra, size, name)
			if err != nil {
				return nil, err
			}
			return &File{Reader: v, Name: name, Format: FormatVMT, Compression: None, closeAll: func() { v.Close() }}, nil
		}
	}
	return NewFile(io.NewSectionReader(ra, 0, size), name, opt)
}

// Hash returns the SHA-256 of the trace's bytes as stored (compressed or not), in hex.
// It reads the whole input (spooling all of it, for a spooled one). A drmemtrace
// directory's is HashDrmemtrace's.
func (s *Source) Hash() (string, error) {
	if s.drmemtrace {
		return HashDrmemtrace(s.name)
	}
	h := sha256.New()
	var r io.Reader = io.NewSectionReader(s.fh, 0, s.size)
	if s.spool != nil {
		r = &spoolReader{s: s.spool}
	}
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("%s: %w", s.name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Close releases the input and the spool.
func (s *Source) Close() error {
	if s.fh == nil {
		return nil
	}
	if s.spool != nil {
		s.spool.f.Close()
	}
	return s.fh.Close()
}

// spoolChunk is how much a spool pulls from its input at a time.
const spoolChunk = 256 << 10

// spool keeps what was read from a one-time input in a temporary file.
type spool struct {
	name string
	mu   sync.Mutex
	// src is the input. Invariant: nil once it has ended (EOF or an error).
	src io.Reader
	f   *os.File
	// n is how many bytes of the input f holds. Invariant: f's first n bytes are the
	// input's first n bytes.
	n int64
	// err is the input's error, if it ended in one, sticky.
	err error
	buf []byte
}

// readAt reads the input at off, spooling more of it as needed.
func (s *spool) readAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for off+int64(len(p)) > s.n && s.src != nil {
		if s.buf == nil {
			s.buf = make([]byte, spoolChunk)
		}
		k, err := io.ReadFull(s.src, s.buf)
		if k > 0 {
			if _, werr := s.f.WriteAt(s.buf[:k], s.n); werr != nil {
				s.src, s.err = nil, fmt.Errorf("%s: spooling the input (not a regular file) to a temporary file: %w", s.name, werr)
				break
			}
			s.n += int64(k)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			s.src = nil
		} else if err != nil {
			s.src, s.err = nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if off >= s.n {
		if s.err != nil {
			return 0, s.err
		}
		return 0, io.EOF
	}
	want := min(int64(len(p)), s.n-off)
	k, err := s.f.ReadAt(p[:want], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return k, fmt.Errorf("%s: reading the spool: %w", s.name, err)
	}
	if int64(k) < int64(len(p)) {
		if s.err != nil {
			return k, s.err
		}
		if s.src == nil {
			return k, io.EOF
		}
	}
	return k, nil
}

// spoolReader reads a spool sequentially from its start.
type spoolReader struct {
	s   *spool
	off int64
}

func (r *spoolReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	k, err := r.s.readAt(p, r.off)
	r.off += int64(k)
	if k > 0 && errors.Is(err, io.EOF) {
		err = nil // the next Read reports it
	}
	return k, err
}
