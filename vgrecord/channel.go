package vgrecord

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vmsim/vmsim/internal/lazy"
)

// channel is how the processes of a recording with Children reach vmsim: a Unix socket
// in a folder that only the user can enter (no other user can connect), and a secret key
// that every connection must show first (a process of the user's that is not a tracee
// cannot pass for one). The key is in a file of that folder, which vmsim keeps locked
// while the recording lives: a folder whose key nobody locks is left over from a
// recording that was killed outright, and RemoveStaleRecordings removes it.
type channel struct {
	dir, sock, keyPath string
	// hello is the first line every tracee sends: "vmtrace1 KEY\n".
	hello []byte
	lock  *os.File // the key file, locked (flock) until close
	ln    *net.UnixListener
}

// channelPrefix names a recording's folder in the temporary folder: channelPrefix and
// digits. A folder being set up is named "." + channelPrefix + "new-" and digits.
const channelPrefix = "vmsim-record-"

var channelName = lazy.Regexp(`^\.?` + channelPrefix + `(new-)?[0-9]+$`)

// maxSockPath is the longest path a Unix socket can have (sun_path, less its NUL).
const maxSockPath = 107

// channelBase is the folder recordings make their socket folders in: the temporary
// folder, or /tmp where that one's name is too long for a socket's path.
func channelBase() string {
	base := os.TempDir()
	if len(filepath.Join(base, channelPrefix+"0123456789", "sock")) > maxSockPath {
		base = "/tmp"
	}
	return base
}

// openChannel makes a recording's folder, key and socket. The folder appears under its
// final name only with its key locked, so that a cleanup never takes a live one for a
// leftover.
func openChannel() (_ *channel, err error) {
	base := channelBase()
	tmp, err := os.MkdirTemp(base, "."+channelPrefix+"new-*") // mode 0700
	if err != nil {
		return nil, fmt.Errorf("a folder for the recording's socket: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("the recording's key: %w", err)
	}
	key := hex.EncodeToString(secret)
	kf, err := os.OpenFile(filepath.Join(tmp, "key"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("the recording's key: %w", err)
	}
	defer func() {
		if err != nil {
			kf.Close()
		}
	}()
	if _, err := kf.WriteString(key + "\n"); err != nil {
		return nil, fmt.Errorf("the recording's key: %w", err)
	}
	if err := syscall.Flock(int(kf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, fmt.Errorf("locking the recording's key: %w", err)
	}
	dir := filepath.Join(base, channelPrefix+strings.TrimPrefix(filepath.Base(tmp), "."+channelPrefix+"new-"))
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("the recording's socket folder: %w", err)
	}
	tmp = dir // removed on error from here
	c := &channel{dir: dir, sock: filepath.Join(dir, "sock"), keyPath: filepath.Join(dir, "key"),
		hello: []byte("vmtrace1 " + key + "\n"), lock: kf}
	if len(c.sock) > maxSockPath {
		return nil, fmt.Errorf("%s: too long for a Unix socket; set TMPDIR to a shorter folder", c.sock)
	}
	if c.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: c.sock, Net: "unix"}); err != nil {
		return nil, fmt.Errorf("listening for the recorded processes: %w", err)
	}
	return c, nil
}

// close stops listening and removes the folder, then unlocks.
func (c *channel) close() {
	c.ln.Close()
	os.RemoveAll(c.dir)
	c.lock.Close()
}

// staleAge is how old a recording's folder without a key must be to count as left over
// (a recording killed while setting it up).
const staleAge = time.Minute

// RemoveStaleRecordings removes the socket folders that recordings killed outright
// (SIGKILL, the OOM killer) left in the temporary folder, and returns their paths. It
// removes only folders named as vmsim names them, owned by the user, and whose key no
// live recording holds locked.
func RemoveStaleRecordings() []string {
	var removed []string
	bases := []string{os.TempDir()}
	if b := channelBase(); b != bases[0] {
		bases = append(bases, b)
	}
	for _, base := range bases {
		es, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range es {
			if !channelName().MatchString(e.Name()) {
				continue
			}
			dir := filepath.Join(base, e.Name())
			if staleChannel(dir) && os.RemoveAll(dir) == nil {
				removed = append(removed, dir)
			}
		}
	}
	return removed
}

// staleChannel reports whether dir is a recording's folder of the user's that no live
// recording holds.
func staleChannel(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || !ownedByUser(fi) {
		return false
	}
	kf, err := os.OpenFile(filepath.Join(dir, "key"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return time.Since(fi.ModTime()) > staleAge
	}
	if err != nil {
		return false
	}
	defer kf.Close()
	kfi, err := kf.Stat()
	if err != nil || !kfi.Mode().IsRegular() || !ownedByUser(kfi) {
		return false
	}
	// The lock is released when we close kf, before the folder goes: a recording
	// cannot take it again (it locks its key once, before naming its folder).
	return syscall.Flock(int(kf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

// ownedByUser reports whether the file is the user's.
func ownedByUser(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
