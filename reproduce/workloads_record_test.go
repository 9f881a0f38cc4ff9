package reproduce

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// buildVmsim builds cmd/vmsim into a temporary folder and makes the recordings use it.
func buildVmsim(t *testing.T) {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "vmsim")
	if out, err := exec.Command("go", "build", "-o", exe, "github.com/vmsim/vmsim/cmd/vmsim").CombinedOutput(); err != nil {
		t.Fatalf("building vmsim: %v\n%s", err, out)
	}
	old := vmsimExe
	vmsimExe = func() (string, error) { return exe, nil }
	t.Cleanup(func() { vmsimExe = old })
}

// TestRecordWorkloads records the workloads that VMSIM_RECORD_WORKLOADS names (comma
// separated, or "all") into VMSIM_WORKLOAD_CACHE (default: DefaultLongCache()), and logs
// each recording's counts. It takes minutes: it runs only when asked, and needs valgrind.
func TestRecordWorkloads(t *testing.T) {
	names := os.Getenv("VMSIM_RECORD_WORKLOADS")
	if names == "" {
		t.Skip("VMSIM_RECORD_WORKLOADS unset: recording the workloads takes minutes")
	}
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("no valgrind")
	}
	var ws []Workload
	for _, w := range Workloads {
		if names == "all" || slices.Contains(strings.Split(names, ","), w.Name) {
			ws = append(ws, w)
		}
	}
	cache := os.Getenv("VMSIM_WORKLOAD_CACHE")
	if cache == "" {
		cache = DefaultLongCache()
	}
	buildVmsim(t)
	// The version vmsim reproduce writes into the manifests (cli's version): the
	// recordings made here are those it reuses.
	recs, err := ensureAll(context.Background(), cache, "0.3.0", tlog{t}, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		m := r.Manifest
		t.Logf("%-10s %13d accesses %7d pages touched (%6.1f MB) %7d written %6.0f s %5.0f MB vmt", m.Name, m.Accesses,
			m.PagesTouched, float64(m.PagesTouched*PageSize)/1e6, m.PagesWritten, m.RecordSeconds, float64(m.TraceBytes)/1e6)
	}
}

type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(strings.TrimSpace(string(p))); return len(p), nil }

// TestRecordingsFolderPrivate: a recording whose manifest matches is reused unread, so
// the recordings' folder must be the user's alone, and there is no shared fallback
// (such as /tmp) when the user has no cache folder.
func TestRecordingsFolderPrivate(t *testing.T) {
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, cache, want string }{
		{"no cache folder", "", "give one with --cache DIR"},
		{"anyone can write", open, "others can write to it"},
		{"a symbolic link", link, "a symbolic link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ensureAll(context.Background(), tt.cache, "test", io.Discard, Workloads[:1])
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ensureAll(%q) = %v, want an error with %q", tt.cache, err, tt.want)
			}
		})
	}
	t.Run("default without HOME", func(t *testing.T) {
		t.Setenv("HOME", "")
		t.Setenv("XDG_CACHE_HOME", "")
		if d := DefaultLongCache(); d != "" {
			t.Fatalf("DefaultLongCache() = %q without a home, want \"\"", d)
		}
	})
}
