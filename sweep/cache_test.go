package sweep

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the user that owns what another user planted, in the tests run as root.
const nobody = 65534

// TestTraceCacheUntrusted plays another user of the node, or a stale cache: it plants
// things in the trace cache under the name of a trace's copy (DIR/SHA256/BASENAME), or
// of its directory, before a sweep runs through the cache. The sweep's rows are those of
// the trace itself, every time; the copy is then a regular file of the user with the
// trace's bytes; nothing is created or changed where a symbolic link points; and the
// cache directories vmsim makes are private (mode 0700).
func TestTraceCacheUntrusted(t *testing.T) {
	root := os.Geteuid() == 0
	for _, c := range []struct {
		name string
		// plant puts something at copy (the copy's path) or dir (its directory), given
		// the trace, another trace, and outside, a directory out of the cache.
		plant    func(t *testing.T, copy, dir, trace, other, outside string)
		rootOnly bool
	}{
		{"nothing", func(t *testing.T, copy, dir, trace, other, outside string) {}, false},
		{"a file of other content", func(t *testing.T, copy, dir, trace, other, outside string) {
			mustWrite(t, copy, lackeyTrace(1), 0o600)
		}, false},
		{"a symbolic link to another trace", func(t *testing.T, copy, dir, trace, other, outside string) {
			mustSymlink(t, other, copy)
		}, false},
		{"a symbolic link to the trace itself", func(t *testing.T, copy, dir, trace, other, outside string) {
			mustSymlink(t, trace, copy)
		}, false},
		{"a dangling symbolic link out of the cache", func(t *testing.T, copy, dir, trace, other, outside string) {
			mustSymlink(t, filepath.Join(outside, "created"), copy)
		}, false},
		{"a file others can write to, of the right content", func(t *testing.T, copy, dir, trace, other, outside string) {
			mustWrite(t, copy, lackeyTrace(0), 0o666)
			os.Chmod(copy, 0o666)
		}, false},
		{"a directory", func(t *testing.T, copy, dir, trace, other, outside string) {
			if err := os.Mkdir(copy, 0o700); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"the directory a symbolic link out of the cache", func(t *testing.T, copy, dir, trace, other, outside string) {
			os.Remove(dir)
			mustSymlink(t, outside, dir)
		}, false},
		{"the directory a dangling symbolic link", func(t *testing.T, copy, dir, trace, other, outside string) {
			os.Remove(dir)
			mustSymlink(t, filepath.Join(outside, "created"), dir)
		}, false},
		{"another user's file of other content", func(t *testing.T, copy, dir, trace, other, outside string) {
			mustWrite(t, copy, lackeyTrace(1), 0o644)
			mustChown(t, copy, nobody)
		}, true},
		{"another user's file of the right content", func(t *testing.T, copy, dir, trace, other, outside string) {
			mustWrite(t, copy, lackeyTrace(0), 0o644)
			mustChown(t, copy, nobody)
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.rootOnly && !root {
				t.Skip("needs root, to plant another user's file")
			}
			dir := t.TempDir()
			trace := filepath.Join(dir, "t.lackey")
			points, costs := changePoints(t, trace)
			other := filepath.Join(dir, "other.lackey")
			mustWrite(t, other, lackeyTrace(1), 0o644)
			outside := filepath.Join(dir, "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			want, err := runCSV(t, points, Options{Jobs: 1, Costs: costs, Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			cache := filepath.Join(dir, "cache")
			hashDir := filepath.Join(cache, points[0].TraceHash)
			copy := filepath.Join(hashDir, "t.lackey")
			if err := os.MkdirAll(hashDir, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chmod(cache, 0o700)
			c.plant(t, copy, hashDir, trace, other, outside)

			got, err := runCSV(t, points, Options{Jobs: 1, Costs: costs, Version: "test", TraceCache: TraceCache(cache)})
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("through the cache: %v\n%s\nwant the trace's rows:\n%s", err, got, want)
			}
			for _, p := range []string{hashDir, copy} {
				fi, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if int(st.Uid) != os.Geteuid() || fi.Mode().Perm()&0o077 != 0 || (p == copy) != fi.Mode().IsRegular() || (p == hashDir) != fi.IsDir() {
					t.Errorf("%s: %v of user %d; want a private %s of user %d", p, fi.Mode(), st.Uid, map[bool]string{true: "file", false: "directory"}[p == copy], os.Geteuid())
				}
			}
			if b, _ := os.ReadFile(copy); !bytes.Equal(b, lackeyTrace(0)) {
				t.Errorf("the copy does not hold the trace's bytes")
			}
			if es, _ := os.ReadDir(outside); len(es) != 0 {
				t.Errorf("created %v outside the cache, where a symbolic link pointed", es)
			}
			if b, _ := os.ReadFile(other); !bytes.Equal(b, lackeyTrace(1)) {
				t.Errorf("the other trace, a symbolic link's target, changed")
			}
			if b, _ := os.ReadFile(trace); !bytes.Equal(b, lackeyTrace(0)) {
				t.Errorf("the trace, a symbolic link's target, changed")
			}
		})
	}
}

// TestTraceCacheDirectory: a cache directory that vmsim makes is private (mode 0700, the
// directories above it too); one that others can write to, another user's, or a symbolic
// link is refused, with an error naming it, and nothing is read from it or written to it.
func TestTraceCacheDirectory(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.lackey")
	points, costs := changePoints(t, trace)
	t.Run("made private", func(t *testing.T) {
		cache := filepath.Join(dir, "new", "cache")
		if _, err := runCSV(t, points, Options{Jobs: 1, Costs: costs, Version: "test", TraceCache: TraceCache(cache)}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{filepath.Dir(cache), cache, filepath.Join(cache, points[0].TraceHash)} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v, %v; want mode 0700", p, fi.Mode(), err)
			}
		}
	})
	root := os.Geteuid() == 0
	for _, c := range []struct {
		name     string
		make     func(t *testing.T, cache, elsewhere string)
		want     string
		rootOnly bool
	}{
		{"world-writable", func(t *testing.T, cache, elsewhere string) { mustMkdir(t, cache, 0o777) }, "others can write", false},
		{"group-writable", func(t *testing.T, cache, elsewhere string) { mustMkdir(t, cache, 0o770) }, "others can write", false},
		{"sticky and world-writable, like /tmp", func(t *testing.T, cache, elsewhere string) {
			mustMkdir(t, cache, 0o777|os.ModeSticky)
		}, "others can write", false},
		{"a symbolic link to a private directory", func(t *testing.T, cache, elsewhere string) {
			mustMkdir(t, elsewhere, 0o700)
			mustSymlink(t, elsewhere, cache)
		}, "symbolic link", false},
		{"a dangling symbolic link", func(t *testing.T, cache, elsewhere string) {
			mustSymlink(t, elsewhere, cache)
		}, "symbolic link", false},
		{"another user's", func(t *testing.T, cache, elsewhere string) {
			mustMkdir(t, cache, 0o755)
			mustChown(t, cache, nobody)
		}, "owned by user 65534", true},
		{"a file", func(t *testing.T, cache, elsewhere string) { mustWrite(t, cache, nil, 0o600) }, "not a directory", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.rootOnly && !root {
				t.Skip("needs root, to make another user's directory")
			}
			d := t.TempDir()
			cache, elsewhere := filepath.Join(d, "cache"), filepath.Join(d, "elsewhere")
			c.make(t, cache, elsewhere)
			// A planted copy of other content, which a trusting cache would read.
			if fi, err := os.Stat(cache); err == nil && fi.IsDir() {
				hashDir := filepath.Join(cache, points[0].TraceHash)
				mustMkdir(t, hashDir, 0o700)
				mustWrite(t, filepath.Join(hashDir, "t.lackey"), lackeyTrace(1), 0o600)
			}
			before := listTree(t, d)
			got, err := runCSV(t, points, Options{Jobs: 1, Costs: costs, Version: "test", TraceCache: TraceCache(cache)})
			if err == nil || !strings.HasPrefix(err.Error(), "trace cache "+cache+": ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Run: %v; want an error naming %s and saying %q, before any point runs", err, cache, c.want)
			}
			if bytes.Count(got, []byte("\n")) > 1 {
				t.Errorf("rows written:\n%s", got)
			}
			if after := listTree(t, d); after != before {
				t.Errorf("the cache changed:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

// listTree describes the files under dir (their paths, kinds and sizes), for comparing.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			b.WriteString(p + " " + fi.Mode().String() + " " + itoa(fi.Size()) + "\n")
		}
		return nil
	})
	return b.String()
}

func mustWrite(t *testing.T, path string, b []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, perm); err != nil {
		t.Fatal(err)
	}
}

func mustMkdir(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, to, link string) {
	t.Helper()
	if err := os.Symlink(to, link); err != nil {
		t.Fatal(err)
	}
}

func mustChown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Lchown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// TestTraceCacheFetch: sweeps fetching a trace at once each get a copy with its bytes,
// and leave no temporary file behind; a trace whose bytes are not the hash asked for is
// refused with an error naming it, and leaves no copy.
func TestTraceCacheFetch(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.lackey")
	mustWrite(t, trace, lackeyTrace(0), 0o644)
	hash, err := TraceHash(trace)
	if err != nil {
		t.Fatal(err)
	}
	cache := TraceCache(filepath.Join(dir, "cache"))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			f, path, err := cache.Fetch(trace, hash)
			if err == nil {
				b, _ := io.ReadAll(f)
				f.Close()
				if !bytes.Equal(b, lackeyTrace(0)) || path != filepath.Join(string(cache), hash, "t.lackey") {
					err = fmt.Errorf("copy at %s without the trace's bytes", path)
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if es, _ := os.ReadDir(filepath.Join(string(cache), hash)); len(es) != 1 {
		t.Errorf("the cache holds %v, want the copy alone", es)
	}
	mustWrite(t, filepath.Join(dir, "o"), lackeyTrace(1), 0o644)
	other, _ := TraceHash(filepath.Join(dir, "o"))
	if _, _, err := cache.Fetch(trace, other); err == nil || !strings.Contains(err.Error(), trace) || !strings.Contains(err.Error(), "changed") {
		t.Errorf("fetched %s for another hash: %v", trace, err)
	}
	if es, _ := os.ReadDir(filepath.Join(string(cache), other)); len(es) != 0 {
		t.Errorf("the cache holds %v for a trace it refused", es)
	}
	if _, _, err := cache.Fetch(trace, "../../x"); err == nil {
		t.Error("fetched under a hash that is not one")
	}
}
