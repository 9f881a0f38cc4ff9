package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// File is an output being written. Write to it, then Commit or Abort; Abort after Commit
// does nothing, so `defer f.Abort()` is the way to use it.
type File struct {
	f *os.File
	// target is the path the output ends up at, symbolic links resolved.
	target string
	// tmp is the temporary file's path; "" when the target is written in place.
	// Invariant: tmp != "" iff the temporary file exists and is registered for cleanup.
	tmp  string
	mode os.FileMode
	uid  int // -1: leave the owner alone
	gid  int
	done bool
	// werr is the first write error, sticky: Commit refuses after one.
	werr error
}

// maxLinks bounds the symbolic links followed when resolving a target.
const maxLinks = 40

// resolve follows symbolic links from path, including a dangling last one (whose target
// is then created), and returns the final path.
func resolve(path string) (string, error) {
	for range maxLinks {
		fi, err := os.Lstat(path)
		if errors.Is(err, os.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return path, nil
		}
		if err := planted(path, fi); err != nil {
			return "", err
		}
		to, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(to) && inProc(path) {
			// A file descriptor's magic link to a pipe or socket ("pipe:[123]", as
			// /dev/stdout is in 'vmsim … -o /dev/stdout | jq'): no path to follow; opened
			// as it is, the kernel follows it.
			return path, nil
		}
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(path), to)
		}
		path = to
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// inProc reports whether path's folder is in /proc (/dev/fd and /dev/stdout lead there).
func inProc(path string) bool {
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	return err == nil && strings.HasPrefix(dir, "/proc/")
}

// planted refuses what another user may have put in a shared folder to catch an output:
// a symbolic link, fifo or device fi at path (its Lstat or Stat) in a sticky folder that
// everyone can write to (/tmp), owned by neither the user nor the folder's owner. It is
// the rule of Linux's fs.protected_symlinks and fs.protected_fifos, which vmsim cannot
// count on: it reads links itself, and opens a fifo without O_CREAT.
func planted(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	dst, ok := dir.Sys().(*syscall.Stat_t)
	if !ok || dir.Mode()&os.ModeSticky == 0 || dir.Mode().Perm()&0o002 == 0 {
		return nil
	}
	if int(st.Uid) == os.Geteuid() || st.Uid == dst.Uid {
		return nil
	}
	what := "a symbolic link"
	if fi.Mode()&os.ModeSymlink == 0 {
		what = "a " + fileKind(fi.Mode())
	}
	return fmt.Errorf("%s: %s of user %d's in the shared folder %s: another user's, so vmsim does not write through it; give another output path", path, what, st.Uid, filepath.Dir(path))
}

// CheckPlanted applies Create's rule to an output that is opened in place rather than
// through Create (a results file appended to): it refuses path if a symbolic link on the
// way to it, or the fifo or device it is, may have been planted by another user.
func CheckPlanted(path string) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(target)
	if err != nil || fi.Mode().IsRegular() || fi.IsDir() {
		return nil // a missing file is created exclusively; a regular one is the caller's
	}
	return planted(target, fi)
}

// fileKind names a file's type in planted's message.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "fifo"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "file"
}

// Create starts writing path. A regular or missing target is written under a temporary
// name beside it; a directory is refused; any other existing file (a device, a fifo) is
// opened for writing in place.
func Create(path string) (*File, error) {
	target, err := resolve(path)
	if err != nil {
		return nil, err
	}
	out := &File{target: target, mode: 0o644, uid: -1, gid: -1}
	fi, err := os.Stat(target)
	switch {
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("%s: is a directory", path)
	case err == nil && !fi.Mode().IsRegular():
		if err := planted(target, fi); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		out.f = f
		return out, nil
	case err == nil:
		out.mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			out.uid, out.gid = int(st.Uid), int(st.Gid)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		// The error names the temporary file, which the user never named.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: cannot create it in %s: %w", path, filepath.Dir(target), err)
	}
	out.f, out.tmp = f, f.Name()
	register(out.tmp)
	return out, nil
}

// Name is the path the output ends up at (symbolic links resolved).
func (f *File) Name() string { return f.target }

// TempName is the temporary file's path while the output is being written: "" when the
// target is written in place, and after Commit or Abort.
func (f *File) TempName() string { return f.tmp }

// Write writes to the output; the first error sticks and makes Commit fail.
func (f *File) Write(p []byte) (int, error) {
	if f.werr != nil {
		return 0, f.werr
	}
	n, err := f.f.Write(p)
	if err != nil {
		f.werr = err
	}
	return n, err
}

// Commit makes the output final: it syncs and closes the temporary file and renames it
// over the target (or, in place, just closes the target). After an error the target is
// as it was before Create (in place: as far as it was written).
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: Commit after Commit or Abort")
	}
	f.done = true
	if f.tmp == "" {
		err := f.f.Close()
		if f.werr != nil {
			return f.werr
		}
		return err
	}
	defer f.removeTmp()
	if f.werr != nil {
		f.f.Close()
		return f.werr
	}
	if err := f.f.Sync(); err != nil {
		f.f.Close()
		return fmt.Errorf("%s: %w", f.target, err)
	}
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("%s: %w", f.target, err)
	}
	if err := os.Chmod(f.tmp, f.mode); err != nil {
		return err
	}
	if f.uid >= 0 {
		// Best effort: keep a root-owned replacement from changing hands.
		_ = os.Chown(f.tmp, f.uid, f.gid)
	}
	if err := os.Rename(f.tmp, f.target); err != nil {
		return err
	}
	unregister(f.tmp)
	f.tmp = ""
	syncDir(filepath.Dir(f.target))
	return nil
}

// Abort drops the output: the temporary file is removed and the target left as it was.
// It does nothing after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	f.removeTmp()
}

func (f *File) removeTmp() {
	if f.tmp != "" {
		os.Remove(f.tmp)
		unregister(f.tmp)
		f.tmp = ""
	}
}

// syncDir makes a rename in dir durable, as far as the file system allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// WriteFile writes data to path atomically, as os.WriteFile would but whole or not at all.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write writes path through write, atomically: the output appears only when write
// returns nil and every byte reached the disk.
func Write(path string, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return err
	}
	return f.Commit()
}

// TempFile creates a scratch file in dir (os.TempDir() when ""), already unlinked where
// the system allows, so that nothing is left behind however the process ends; the open
// file lives until closed. Where unlinking an open file fails, the name is registered and
// removed on Close's caller's RemoveTemp, or at a signal.
func TempFile(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		register(f.Name())
	}
	return f, nil
}
