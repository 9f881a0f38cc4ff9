package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCreate(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to write
		// check inspects the result after a Commit of "new".
		check func(t *testing.T, dir, path string)
	}{
		{"new file", func(t *testing.T, dir string) string { return filepath.Join(dir, "out") },
			func(t *testing.T, dir, path string) { wantContent(t, path, "new") }},
		{"existing file keeps its mode", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "out")
			os.WriteFile(p, []byte("old"), 0o600)
			return p
		}, func(t *testing.T, dir, path string) {
			wantContent(t, path, "new")
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
		}},
		{"symlink followed", func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "real"), []byte("old"), 0o644)
			os.Symlink("real", filepath.Join(dir, "link"))
			return filepath.Join(dir, "link")
		}, func(t *testing.T, dir, path string) {
			if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link was replaced: %v, %v", fi, err)
			}
			wantContent(t, filepath.Join(dir, "real"), "new")
		}},
		{"dangling symlink creates its target", func(t *testing.T, dir string) string {
			os.Symlink("made", filepath.Join(dir, "link"))
			return filepath.Join(dir, "link")
		}, func(t *testing.T, dir, path string) { wantContent(t, filepath.Join(dir, "made"), "new") }},
		{"fifo written in place", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Skip(err)
			}
			go func() { // a reader, so that opening the fifo for writing does not block
				os.ReadFile(p)
			}()
			return p
		}, func(t *testing.T, dir, path string) {
			if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
				t.Errorf("the fifo was replaced: %v, %v", fi, err)
			}
		}},
		{"device written in place", func(t *testing.T, dir string) string { return os.DevNull },
			func(t *testing.T, dir, path string) {
				if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
					t.Errorf("%s is no longer a device: %v, %v", os.DevNull, fi, err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			if err := WriteFile(path, []byte("new")); err != nil {
				t.Fatal(err)
			}
			tt.check(t, dir, path)
			noTemps(t, dir)
		})
	}
}

func wantContent(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Errorf("%s holds %q, %v; want %q", path, b, err, want)
	}
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if len(Temps()) != 0 {
		t.Errorf("registry still holds %v", Temps())
	}
}

func TestFailedWriteLeavesTarget(t *testing.T) {
	tests := []struct {
		name string
		old  bool
	}{{"no old file", false}, {"old file", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "out")
			if tt.old {
				os.WriteFile(p, []byte("old"), 0o644)
			}
			err := Write(p, func(w io.Writer) error {
				w.Write([]byte("partial"))
				return errors.New("boom")
			})
			if err == nil {
				t.Fatal("Write succeeded")
			}
			if tt.old {
				wantContent(t, p, "old")
			} else if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("partial output under the final name: %v", err)
			}
			noTemps(t, dir)
		})
	}
}

func TestDirectoryRefused(t *testing.T) {
	if err := WriteFile(t.TempDir(), []byte("x")); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("WriteFile on a directory: %v", err)
	}
}

func TestFullDevice(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	if err := WriteFile("/dev/full", []byte("x")); err == nil {
		t.Error("writing /dev/full succeeded")
	}
}

// TestSignalRemovesTemps runs a child that writes an output and waits; SIGTERM must
// leave no temporary file and kill the child with that signal, after the hooks ran.
func TestSignalRemovesTemps(t *testing.T) {
	if dir := os.Getenv("ATOMICFILE_CHILD_DIR"); dir != "" {
		CatchSignals()
		OnSignal(func() { os.WriteFile(filepath.Join(dir, "hook-ran"), nil, 0o644) })
		f, err := Create(filepath.Join(dir, "out"))
		if err != nil {
			os.Exit(3)
		}
		f.Write([]byte("partial"))
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(4)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestSignalRemovesTemps$")
			cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD_DIR="+dir)
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 6)
			if _, err := out.Read(buf); err != nil {
				t.Fatal(err)
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("child ended with %v", err)
			}
			if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("child status %v, want killed by %v", ws, sig)
			}
			if _, err := os.Stat(filepath.Join(dir, "hook-ran")); err != nil {
				t.Error("the hook did not run")
			}
			es, _ := os.ReadDir(dir)
			for _, e := range es {
				if e.Name() != "hook-ran" {
					t.Errorf("%s left behind", e.Name())
				}
			}
		})
	}
}

func TestTempFileUnlinked(t *testing.T) {
	dir := t.TempDir()
	f, err := TempFile(dir, "scratch-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("scratch file visible: %v", es)
	}
	if _, err := f.Write([]byte("ok")); err != nil {
		t.Error(err)
	}
}

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	err := Write(filepath.Join(dir, "fig.csv"), func(w io.Writer) error {
		_, err := fmt.Fprintln(w, "x,y")
		return err
	})
	b, _ := os.ReadFile(filepath.Join(dir, "fig.csv"))
	fmt.Print(err, " ", string(b))
	// Output: <nil> x,y
}

// TestPlantedRefused: in a sticky folder everyone can write to, a symbolic link or a
// fifo of another user's is not written through (it could send the output over the
// user's own files, or to that user); the user's own are.
func TestPlantedRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a link and a fifo to another user")
	}
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	const other = 65534
	theirLink := filepath.Join(shared, "their-link")
	ownLink := filepath.Join(shared, "own-link")
	theirFifo := filepath.Join(shared, "their-fifo")
	for _, l := range []string{theirLink, ownLink} {
		if err := os.Symlink(victim, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(theirFifo, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{theirLink, theirFifo} {
		if err := os.Lchown(p, other, other); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, path, want string }{
		{"another user's link", theirLink, "a symbolic link of user 65534's in the shared folder"},
		{"another user's fifo", theirFifo, "a fifo of user 65534's in the shared folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Create(tc.path)
			if err == nil {
				f.Abort()
				t.Fatalf("Create(%s) wrote through it", tc.path)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Create(%s) = %v, want %q", tc.path, err, tc.want)
			}
		})
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the link's target changed: %q", b)
	}
	t.Run("own link", func(t *testing.T) {
		if err := WriteFile(ownLink, []byte("new")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "new" {
			t.Fatalf("the user's own link was not followed: %q", b)
		}
	})
}

// TestPipeByDescriptor: an output named by a descriptor's link to a pipe (-o /dev/stdout
// piped into another program, -o >(…)) is written into the pipe: the link's target
// ("pipe:[123]") is not a path to follow.
func TestPipeByDescriptor(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		t.Run(dir, func(t *testing.T) {
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("no %s", dir)
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := make(chan []byte)
			go func() { b, _ := io.ReadAll(r); got <- b }()
			err = WriteFile(fmt.Sprintf("%s/%d", dir, w.Fd()), []byte("through the pipe"))
			w.Close()
			if err != nil {
				t.Fatalf("WriteFile into a pipe by its descriptor: %v", err)
			}
			if b := <-got; string(b) != "through the pipe" {
				t.Fatalf("the pipe got %q", b)
			}
		})
	}
}

// TestMissingFolder: an output whose folder does not exist is named as given, not by the
// temporary file the user never named.
func TestMissingFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-folder", "out.csv")
	_, err := Create(path)
	if err == nil || !strings.Contains(err.Error(), path+": cannot create it in ") || strings.Contains(err.Error(), ".tmp") {
		t.Fatalf("Create(%s) = %v", path, err)
	}
}
