package validate

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// sources are the C files: the library, its test driver and the programs.
//
//go:embed ckpt.c ckpt.h test_ckpt.c programs/common.h programs/*.c
var sources embed.FS

// ErrNoCompiler is the error when no C compiler is on PATH.
var ErrNoCompiler = errors.New("no C compiler (gcc or cc) on PATH")

// CFlags are the flags every C file is compiled with.
var CFlags = []string{"-O2", "-std=gnu11", "-Wall", "-Wextra"}

// FindCompiler returns the path of gcc, or of cc without it, or an error wrapping
// ErrNoCompiler.
func FindCompiler() (string, error) {
	for _, name := range []string{"gcc", "cc"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoCompiler
}

// PrivateDir makes a fresh directory under parent (os.TempDir() when empty) that only the
// user can enter, and checks that it is one: a directory, not a symbolic link, owned by
// the user, with permissions 0700. Remove it (os.RemoveAll) when done.
func PrivateDir(parent, prefix string) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", fmt.Errorf("making a private directory: %w", err)
	}
	if err := checkPrivate(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// checkPrivate checks that dir is a directory (not a link to one) of the user's with
// permissions 0700.
func checkPrivate(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("private directory: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return fmt.Errorf("private directory %s: not a directory", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		return fmt.Errorf("private directory %s: permissions %#o, want 0700", dir, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("private directory %s: owned by uid %d, not by this user (%d)", dir, st.Uid, os.Geteuid())
	}
	return nil
}

// Compile writes files (name → content; names may hold one level of folder) into dir and
// compiles the C files among mains together into the executable dir/out with cc and
// CFlags plus extra. It returns the executable's path and the compiler's messages
// (warnings), or an error naming out with the compiler's messages. Precondition: dir is
// private (PrivateDir).
func Compile(ctx context.Context, cc, dir, out string, files map[string][]byte, mains []string, extra ...string) (path, warnings string, err error) {
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return "", "", fmt.Errorf("building %s: %w", out, err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return "", "", fmt.Errorf("building %s: %w", out, err)
		}
	}
	path = filepath.Join(dir, out)
	args := append(append([]string{}, CFlags...), extra...)
	args = append(args, "-o", path)
	for _, m := range mains {
		args = append(args, filepath.Join(dir, filepath.FromSlash(m)))
	}
	msg, err := exec.CommandContext(ctx, cc, args...).CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("building %s with %s: %w\n%s", out, cc, err, strings.TrimSpace(string(msg)))
	}
	return path, string(msg), nil
}

// Build holds the library's test driver and the programs compiled into a private
// directory of their own, each built on first use. Close removes them.
type Build struct {
	cc string
	// dir is the private directory. Invariant: checkPrivate(dir) held at creation.
	dir string

	mu sync.Mutex
	// bins maps a program's name (or "test_ckpt") to its executable, once built.
	bins map[string]string
	// warnings are the compiler's messages, by program.
	warnings map[string]string
	closed   bool
}

// NewBuild makes a private directory under parent (os.TempDir() when empty) for the
// executables. It needs a C compiler (an error wrapping ErrNoCompiler otherwise).
func NewBuild(parent string) (*Build, error) {
	cc, err := FindCompiler()
	if err != nil {
		return nil, err
	}
	dir, err := PrivateDir(parent, "vmsim-validate-")
	if err != nil {
		return nil, err
	}
	return &Build{cc: cc, dir: dir, bins: map[string]string{}, warnings: map[string]string{}}, nil
}

// Dir is the directory holding the executables.
func (b *Build) Dir() string { return b.dir }

// Close removes the executables and their directory.
func (b *Build) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return os.RemoveAll(b.dir)
}

// Warnings returns what the compiler said while building name (a program, or
// "test_ckpt"); "" for a clean build or one not made yet.
func (b *Build) Warnings(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.warnings[name]
}

// Executable builds name (a program of Programs, or "test_ckpt") if not built yet and
// returns its path.
func (b *Build) Executable(ctx context.Context, name string) (string, error) {
	main := ""
	if name == "test_ckpt" {
		main = "test_ckpt.c"
	} else if _, ok := ProgramByName(name); ok {
		main = "programs/" + name + ".c"
	} else {
		return "", fmt.Errorf("program %q: want one of %s", name, strings.Join(ProgramNames(), ", "))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", fmt.Errorf("building %s: the build is closed", name)
	}
	if p, ok := b.bins[name]; ok {
		return p, nil
	}
	if err := checkPrivate(b.dir); err != nil {
		return "", err
	}
	files := map[string][]byte{}
	for _, f := range []string{"ckpt.c", "ckpt.h", "programs/common.h", main} {
		data, err := sources.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("building %s: %w", name, err) // an embedded file: cannot fail
		}
		files[f] = data
	}
	p, warn, err := Compile(ctx, b.cc, b.dir, name, files, []string{main, "ckpt.c"})
	if err != nil {
		return "", err
	}
	b.bins[name], b.warnings[name] = p, warn
	return p, nil
}

// Source returns the embedded C source file name ("ckpt.h", "programs/sort.c"), for
// readers and for builds elsewhere.
func Source(name string) ([]byte, error) { return sources.ReadFile(name) }
