package sweep

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/internal/lazy"
)

// TraceCache is a directory of local copies of trace files, for a sweep on a cluster:
// the traces live on a shared file system, and each node reads them from its own disk.
// A copy is named by the SHA-256 of its bytes (DIR/SHA256/BASENAME), so a cache can be
// shared by every sweep and shard of a user on a node, and a trace replaced by another
// file under the same name gets another copy. Results do not depend on the cache: a
// point's trace is still the name the spec gives.
//
// The cache trusts nothing it did not check. The directory must be the user's own and
// writable by no one else (vmsim makes it with mode 0700; a symbolic link, a directory
// of another user or one that others can write to is refused), since whoever can write
// there could put any bytes under a trace's name. A copy is used only when it is a
// regular file of the user whose bytes have the right SHA-256 (checked once for each
// identity of the file, by Fetch); anything else under its name (another file, a
// symbolic link, a dangling one) is replaced by a fresh copy, and no symbolic link in
// the cache is ever followed.
type TraceCache string

// sha256Hex is what a SHA-256 in hex looks like: the name of a directory of the cache.
var sha256Hex = lazy.Regexp(`^[0-9a-f]{64}$`)

// Fetch opens the cached copy of the trace file name whose bytes have the SHA-256 hash,
// copying it into the cache first when there is no copy to trust. The copy appears
// whole or not at all (so sweeps on a node may fetch the same trace at once: the last
// rename wins, with the same bytes; each reads the copy it opened). A trace whose bytes
// are not, or no longer, those of hash is refused, with an error naming it. It returns
// the copy's path too (DIR/SHA256/BASENAME), and the copy open at its start; the caller
// closes it.
func (c TraceCache) Fetch(name, hash string) (*os.File, string, error) {
	if !sha256Hex().MatchString(hash) {
		return nil, "", fmt.Errorf("trace cache: %q is not a SHA-256 in hex", hash)
	}
	base := filepath.Base(name)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		return nil, "", fmt.Errorf("trace cache: %s: not a file name", name)
	}
	root, err := c.open()
	if err != nil {
		return nil, "", err
	}
	defer root.Close()
	if err := c.makeDir(root, hash); err != nil {
		return nil, "", err
	}
	local := hash + "/" + base
	path := filepath.Join(string(c), hash, base)
	if f := c.trusted(root, local, hash); f != nil {
		return f, path, nil
	}
	f, err := c.copy(root, name, hash, local)
	if err != nil {
		return nil, "", err
	}
	return f, path, nil
}

// Check makes the cache directory if need be, and checks that it is one to use: a
// directory of this user's, not a symbolic link, that no one else can write to. Run checks
// it before any point runs; a caller that creates outputs checks it before creating them.
func (c TraceCache) Check() error {
	root, err := c.open()
	if err != nil {
		return err
	}
	return root.Close()
}

// open opens the cache directory, making it (mode 0700) if need be, and checks that it
// is private: a directory (not a symbolic link to one) of this user that no one else can
// write to.
func (c TraceCache) open() (*os.Root, error) {
	dir := string(c)
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("trace cache: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("trace cache: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("trace cache %s: a symbolic link; give the directory itself (vmsim follows no link into its cache)", dir)
	}
	if err := private(dir, fi); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("trace cache: %w", err)
	}
	rfi, err := root.Stat(".")
	if err == nil && !os.SameFile(fi, rfi) {
		err = errors.New("replaced while it was opened")
	}
	if err == nil {
		err = private(dir, rfi)
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("trace cache %s: %w", dir, err)
	}
	return root, nil
}

// private checks that fi, the Lstat of path, is a directory of this user that no one else
// can write to.
func private(path string, fi fs.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("trace cache %s: not a directory", path)
	}
	if uid, ok := owner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("trace cache %s: owned by user %d, not by you (%d): another user's directory could hold any bytes under a trace's name; give a directory of yours", path, uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("trace cache %s: others can write to it (mode %04o), and so put any bytes under a trace's name; chmod go-w it, or give a private directory", path, perm)
	}
	return nil
}

// owner returns the user that owns a file, when the system says.
func owner(fi fs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}

// makeDir makes the cache's directory dir (mode 0700), if need be: what is there under its
// name and is not a directory (a symbolic link, a file) is removed first, and a directory
// that is not private is refused.
func (c TraceCache) makeDir(root *os.Root, dir string) error {
	err := root.Mkdir(dir, 0o700)
	if !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return fmt.Errorf("trace cache: %w", err)
		}
		return nil
	}
	fi, err := root.Lstat(dir)
	if err != nil {
		return fmt.Errorf("trace cache: %w", err)
	}
	if fi.IsDir() {
		return private(filepath.Join(string(c), dir), fi)
	}
	if err := root.Remove(dir); err != nil {
		return fmt.Errorf("trace cache: %w", err)
	}
	if err := root.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("trace cache: %w", err)
	}
	return nil
}

// trusted opens the copy at local (a path in root) when it is one to use: a regular file
// of this user, writable by no one else, whose bytes have the SHA-256 hash. It returns
// nil otherwise (there is no copy, or one to replace).
func (c TraceCache) trusted(root *os.Root, local, hash string) *os.File {
	fi, err := root.Lstat(local)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o022 != 0 {
		return nil
	}
	if uid, ok := owner(fi); ok && uid != os.Geteuid() {
		return nil
	}
	f, err := root.OpenFile(local, os.O_RDONLY, 0)
	if err != nil {
		return nil
	}
	ffi, err := f.Stat()
	if err != nil || !os.SameFile(fi, ffi) {
		f.Close()
		return nil
	}
	if got, err := hashFile(f, ffi, f.Name()); err != nil || got != hash {
		f.Close()
		return nil
	}
	return f
}

// copy copies the trace file name into the cache at local (a path in root), checking its
// bytes against hash, and returns the copy, open. Whatever was at local is replaced (a
// rename replaces a symbolic link, and follows none).
func (c TraceCache) copy(root *os.Root, name, hash, local string) (_ *os.File, err error) {
	if fi, err := root.Lstat(local); err == nil && fi.IsDir() {
		if err := root.Remove(local); err != nil {
			return nil, fmt.Errorf("trace cache: %w", err)
		}
	}
	in, inInfo, err := openTrace(name)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	tmp := fmt.Sprintf("%s/.%s.%s.tmp", filepath.Dir(local), filepath.Base(local), rand.Text())
	// O_EXCL: a new file, never through a symbolic link.
	out, err := root.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("trace cache: %w", err)
	}
	untrack := atomicfile.Track(filepath.Join(string(c), tmp))
	defer func() {
		if err != nil {
			out.Close()
			root.Remove(tmp)
		}
		untrack()
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), io.NewSectionReader(in, 0, inInfo.Size())); err != nil {
		return nil, fmt.Errorf("copying %s to the trace cache: %w", name, err)
	}
	after, err := in.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if was, now := idOf(inInfo), idOf(after); now != was {
		return nil, fmt.Errorf("%s changed while it was copied to the trace cache (%s): run again once it stays as it is", name, was.change(now))
	}
	got := hex.EncodeToString(h.Sum(nil))
	rememberHash(idOf(inInfo), got)
	if got != hash {
		return nil, changedError(name, got, hash)
	}
	if err := out.Sync(); err != nil {
		return nil, fmt.Errorf("trace cache: %w", err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("trace cache: %w", err)
	}
	ofi, err := out.Stat()
	if err != nil {
		return nil, fmt.Errorf("trace cache: %w", err)
	}
	if err := root.Rename(tmp, local); err != nil {
		return nil, fmt.Errorf("trace cache: %w", err)
	}
	rememberHash(idOf(ofi), hash)
	return out, nil
}
