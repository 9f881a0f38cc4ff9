package sweep

import (
	"bytes"
	"fmt"
	"github.com/vmsim/vmsim/cost"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lackeyTrace returns a small lackey trace; traces of other kinds differ in their
// results, and in their size.
func lackeyTrace(kind int) []byte {
	var b strings.Builder
	for i := range 2000 + 500*kind {
		fmt.Fprintf(&b, " S %x,8\n L %x,4\n", 0x10000+i*64*(kind+1), 0x20000+(i%(97+kind))*4096)
	}
	return []byte(b.String())
}

// changePoints writes trace kind 0 at path and returns six points over it.
func changePoints(t *testing.T, path string) ([]Point, cost.Set) {
	t.Helper()
	if err := os.WriteFile(path, lackeyTrace(0), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Spec{Traces: []string{path}, Base: map[string]any{"format": "lackey"},
		Vary: map[string][]any{"scheme": {"dualmap", "shadow", "undo"}, "interval": {1000, 5000}}, Version: "test"}
	points, costs, err := s.Points()
	if err != nil {
		t.Fatal(err)
	}
	return points, costs
}

// runCSV runs points into a fresh CSV file and returns its bytes and Run's error.
func runCSV(t *testing.T, points []Point, opt Options) ([]byte, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.csv")
	f, err := OpenCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	_, runErr := Run(points, opt, f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, runErr
}

// TestTraceChangedUnderSweep replaces a trace file, or rewrites it in place, after the
// sweep's points were made (and hashed it), either before the run or once the first point
// is written: every row written is one the original trace gives, under its hash and ID,
// and a run that would read other bytes fails with an error naming the file. A trace
// renamed over while the runs read it does not matter (they read the file they opened),
// nor does any change once the trace is decoded into memory, or copied into a trace cache.
func TestTraceChangedUnderSweep(t *testing.T) {
	renameOver := func(path string, b []byte) error {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
	inPlace := func(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
	for _, c := range []struct {
		name    string
		during  bool // change it after the first point is written, else before the run
		change  func(path string, b []byte) error
		opt     Options
		wantErr bool
	}{
		{"renamed over before the run", false, renameOver, Options{DecodeMemory: -1}, true},
		{"rewritten in place before the run", false, inPlace, Options{DecodeMemory: -1}, true},
		{"renamed over during the run", true, renameOver, Options{DecodeMemory: -1}, false},
		{"rewritten in place during the run", true, inPlace, Options{DecodeMemory: -1}, true},
		{"rewritten in place during the run, decoded", true, inPlace, Options{}, false},
		{"renamed over before the run, trace cache", false, renameOver, Options{DecodeMemory: -1, TraceCache: "cache"}, true},
		{"rewritten in place during the run, trace cache", true, inPlace, Options{DecodeMemory: -1, TraceCache: "cache"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "t.lackey")
			points, costs := changePoints(t, path)
			opt := c.opt
			opt.Jobs, opt.Costs, opt.Version = 1, costs, "test"
			if opt.TraceCache != "" {
				opt.TraceCache = TraceCache(filepath.Join(dir, string(opt.TraceCache)))
			}
			want, err := runCSV(t, points, Options{Jobs: 1, Costs: costs, Version: "test", DecodeMemory: -1})
			if err != nil {
				t.Fatal(err)
			}
			if c.during {
				// With one job, every point after the second opens the trace after this.
				opt.Progress = func(done, total int) {
					if done == 1 {
						if err := c.change(path, lackeyTrace(1)); err != nil {
							t.Error(err)
						}
					}
				}
			} else if err := c.change(path, lackeyTrace(1)); err != nil {
				t.Fatal(err)
			}
			got, err := runCSV(t, points, opt)
			if c.wantErr != (err != nil) || err != nil && !(strings.Contains(err.Error(), path) && strings.Contains(err.Error(), "changed")) {
				t.Errorf("Run: %v; want an error naming %s and saying it changed: %v", err, path, c.wantErr)
			}
			wantRows := strings.SplitAfter(string(want), "\n")
			for _, row := range strings.SplitAfter(string(got), "\n") {
				if !strings.Contains(string(want), row) {
					t.Errorf("row not of the original trace:\n%s\nwant one of:\n%s", row, want)
				}
			}
			if !c.wantErr && !bytes.Equal(got, want) {
				t.Errorf("rows:\n%s\nwant %d:\n%s", got, len(wantRows), want)
			}
		})
	}
}
