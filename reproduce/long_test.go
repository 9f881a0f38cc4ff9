package reproduce

import (
	"bytes"
	"github.com/vmsim/vmsim/cost"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenText(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		seed uint64
	}{{"small", 100, 1}, {"lines", 10_000, 2}} {
		t.Run(c.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := genText(&a, c.n, c.seed); err != nil {
				t.Fatal(err)
			}
			genText(&b, c.n, c.seed)
			if a.Len() != c.n || !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%d bytes (want %d), same twice: %v", a.Len(), c.n, bytes.Equal(a.Bytes(), b.Bytes()))
			}
			var o bytes.Buffer
			genText(&o, c.n, c.seed+1)
			if bytes.Equal(a.Bytes(), o.Bytes()) {
				t.Error("another seed gives the same text")
			}
		})
	}
}

func TestManifestKey(t *testing.T) {
	m := RecordingManifest{Name: "gzip", Program: "/usr/bin/gzip", ProgramVersion: "gzip 1.12", Args: []string{"-6"}, InputSHA256: "ab", Valgrind: "valgrind-3.19.0", VmsimVersion: "0.3.0"}
	done := m
	done.Accesses, done.PagesTouched, done.PagesWritten, done.WriteFraction, done.TraceBytes, done.RecordSeconds, done.SHA256 = 1e9, 300, 200, 0.2, 3e8, 90, "cd"
	if m.key() != done.key() {
		t.Error("the recording's own results change its key")
	}
	for name, change := range map[string]func(*RecordingManifest){
		"version":  func(x *RecordingManifest) { x.ProgramVersion = "gzip 1.13" },
		"input":    func(x *RecordingManifest) { x.InputSHA256 = "ff" },
		"vmsim":    func(x *RecordingManifest) { x.VmsimVersion = "0.4.0" },
		"args":     func(x *RecordingManifest) { x.Args = []string{"-9"} },
		"dataonly": func(x *RecordingManifest) { x.DataOnly = true },
		"valgrind": func(x *RecordingManifest) { x.Valgrind = "valgrind-3.20.0" },
		"syscalls": func(x *RecordingManifest) { x.Syscalls = true },
		"tracer":   func(x *RecordingManifest) { x.Tracer = "lackey" },
	} {
		t.Run(name, func(t *testing.T) {
			x := m
			change(&x)
			if x.key() == m.key() {
				t.Errorf("a change of %s keeps the key: the old recording would be reused", name)
			}
		})
	}
}

// TestLongStudyShort runs the long study's analysis on tiny traces standing in for the
// recordings, with short intervals and warm-up: every file is written, points past the
// trace are marked, and the README names the recordings' versions.
func TestLongStudyShort(t *testing.T) {
	li := LongIntervals
	LongIntervals = []int64{1000, 10_000, 1_000_000}
	t.Cleanup(func() { LongIntervals = li })
	full := &Recording{Path: tinyTrace(t, 50_000, 32), Manifest: RecordingManifest{Name: "gzip", Program: "/usr/bin/gzip",
		ProgramVersion: "gzip 1.12", Args: []string{"-6", "-c", "INPUT"}, InputSHA256: strings.Repeat("a", 64), Valgrind: "valgrind-3.19.0",
		VmsimVersion: "test", Accesses: 50_000, SHA256: strings.Repeat("b", 64)}}
	data := &Recording{Path: tinyTrace(t, 20_000, 32), Manifest: full.Manifest}
	data.Manifest.Name, data.Manifest.DataOnly = "gzip-data", true
	dir := t.TempDir()
	opt := LongOptions{Dir: dir, Warmup: 5000, Costs: cost.DefaultSet(), Command: "vmsim reproduce --long (test)", Version: "test"}
	if err := runLongStudy(opt, []*Recording{full}, []*Recording{data}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range []string{"long-table1", "long-table2"} {
		want = append(want, n+".txt", n+".md", n+".csv", n+".tex")
	}
	want = append(want, "long-fig1.svg", "long-fig1.png", "long-fig1.pdf", "long-fig1.csv", "README.md", "data/points.csv", "data/points.jsonl")
	for _, f := range want {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", f, err, len(b))
		}
	}
	t2, _ := os.ReadFile(filepath.Join(dir, "long-table2.csv"))
	for _, want := range []string{"gzip,1000000,0,,no ckpt", "gzip-data,1000000,0,,no ckpt"} {
		if !strings.Contains(string(t2), want+"\n") {
			t.Errorf("the 10^6 interval, past the trace, is not marked %q:\n%s", want, t2)
		}
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	for _, w := range []string{"gzip 1.12", "valgrind-3.19.0", "warm-up", "first 5000 accesses", "5.5 MB of generated text"} {
		if !bytes.Contains(readme, []byte(w)) {
			t.Errorf("README lacks %q", w)
		}
	}
	// Rerunning reuses the points: the same files.
	before, _ := os.ReadFile(filepath.Join(dir, "long-table2.md"))
	if err := runLongStudy(opt, []*Recording{full}, []*Recording{data}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "long-table2.md"))
	if !bytes.Equal(before, after) {
		t.Error("a rerun changed Table L2")
	}
}
