package privdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Ensure makes the folder path (mode 0700, with any missing parents) when it does not
// exist, and then checks it with [Check]. what names the folder in errors ("the
// recordings' cache").
func Ensure(path, what string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(path, 0o700); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return Check(path, what)
}

// Check returns an error unless path is a directory (not a symbolic link to one) owned by
// the effective user, which neither its group nor others can write to.
func Check(path, what string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s %s: a symbolic link; give the folder itself (vmsim follows no link into a folder whose contents it trusts)", what, path)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s %s: not a folder", what, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s %s: owned by user %d, not by you (%d): another user's folder could hold anything under the names vmsim reuses; give a folder of yours", what, path, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s %s: others can write to it (mode %04o) and so put anything under the names vmsim reuses; chmod go-w it, or give a folder of yours", what, path, perm)
	}
	return nil
}
