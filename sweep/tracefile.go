package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// fileID identifies the bytes of a file as far as its metadata can: the same file (device
// and inode), of the same size, last modified at the same time. A file written in place
// gets another modification time, one replaced by another under its name another inode.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64 // nanoseconds since 1970
}

func idOf(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), uint64(st.Ino)
	}
	return id
}

// change says how a file's identity changed from was to now, for messages.
func (was fileID) change(now fileID) string {
	switch {
	case now.dev != was.dev || now.ino != was.ino:
		return "another file is under its name"
	case now.size != was.size:
		return fmt.Sprintf("its size went from %d to %d bytes", was.size, now.size)
	default:
		return fmt.Sprintf("it was modified at %s", time.Unix(0, now.mtime).Format(time.RFC3339Nano))
	}
}

// hashes remembers the SHA-256 of the files hashed so far, by identity, so that a study
// hashes each trace once and a sweep can tell a file it opens again from another.
var hashes struct {
	mu sync.Mutex
	m  map[fileID]string
}

func knownHash(id fileID) (string, bool) {
	hashes.mu.Lock()
	defer hashes.mu.Unlock()
	h, ok := hashes.m[id]
	return h, ok
}

func rememberHash(id fileID, h string) {
	hashes.mu.Lock()
	defer hashes.mu.Unlock()
	if hashes.m == nil {
		hashes.m = map[fileID]string{}
	}
	hashes.m[id] = h
}

// openTrace opens a trace file for a sweep, which reads it many times: a regular file.
// It checks the name before opening it (opening a fifo would wait for a writer), and
// the file it opened.
func openTrace(name string) (*os.File, os.FileInfo, error) {
	if err := regularTrace(name); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(name)
	}
	return f, fi, nil
}

// hashFile returns the SHA-256 of the bytes of f, open on the file name, whose Stat is
// fi; it reads f only when no file of its identity was hashed before, and refuses a file
// that changed while it was read.
func hashFile(f *os.File, fi os.FileInfo, name string) (string, error) {
	id := idOf(fi)
	if h, ok := knownHash(id); ok {
		return h, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, id.size)); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	after, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if now := idOf(after); now != id {
		return "", fmt.Errorf("%s changed while it was read (%s): run again once it stays as it is", name, id.change(now))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rememberHash(id, sum)
	return sum, nil
}

// changedError says that the trace file name no longer holds the bytes a sweep's points
// were made for.
func changedError(name, now, want string) error {
	return fmt.Errorf("%s changed since the sweep's points were made (its SHA-256 is now %.16s…, theirs %.16s…): "+
		"run the sweep again to run them on what it holds now", name, now, want)
}

// traceFile is a trace file that the runs of a sweep read, opened once for all the
// points that read it and checked against the content hash they carry (their IDs and
// rows name those bytes): every run reads that content, through the one open file,
// whatever happens to the name meanwhile, or fails.
type traceFile struct {
	once sync.Once
	// f is the open file: the trace, or its copy in the trace cache. Invariant: while f's
	// identity is id, its bytes hash to the points' TraceHash.
	f    *os.File
	id   fileID
	path string // f's name
	err  error  // why the trace could not be opened, or is not the points' content
	// users is the number of points still to run that read it; f is closed at 0.
	users int
}

// bind opens the trace file name, or its copy in cache, and checks that it holds the
// bytes whose SHA-256 is hash.
func (t *traceFile) bind(name, hash string, cache TraceCache) {
	if cache != "" {
		f, path, err := cache.Fetch(name, hash)
		if err != nil {
			t.err = err
			return
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			t.err = fmt.Errorf("%s: %w", path, err)
			return
		}
		t.f, t.id, t.path = f, idOf(fi), path
		return
	}
	f, fi, err := openTrace(name)
	if err != nil {
		t.err = err
		return
	}
	got, err := hashFile(f, fi, name)
	if err == nil && got != hash {
		err = changedError(name, got, hash)
	}
	if err != nil {
		f.Close()
		t.err = err
		return
	}
	t.f, t.id, t.path = f, idOf(fi), name
}

// check says whether the file still has the identity it had when its content was
// checked: the bytes the runs read are still those. name is the trace's, for messages.
// Precondition: bind succeeded and the file is open (a point that reads it is running).
func (t *traceFile) check(name string) error {
	fi, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if now := idOf(fi); now != t.id {
		where := name
		if t.path != name {
			where = fmt.Sprintf("%s (the copy of %s in the trace cache)", t.path, name)
		}
		return fmt.Errorf("%s changed while the sweep read it (%s): run the sweep again", where, t.id.change(now))
	}
	return nil
}

// opener returns how to open the trace for a run: from its start, through the open file,
// after a check that it did not change. Precondition: as for check.
func (t *traceFile) opener(name string, opt traces.Options) sim.Opener {
	return func() (traces.Reader, error) {
		if err := t.check(name); err != nil {
			return nil, err
		}
		return traces.OpenAt(t.f, t.id.size, name, opt)
	}
}
