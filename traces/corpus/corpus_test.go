package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// TestManifest checks every corpus trace against its manifest entry: the sha256 of the
// file, the accesses and 4 KiB pages it holds, the program and arguments in its metadata.
func TestManifest(t *testing.T) {
	es, err := Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) < 5 {
		t.Fatalf("%d traces in the corpus, want at least 5", len(es))
	}
	for _, e := range es {
		t.Run(e.Name, func(t *testing.T) {
			b, err := Bytes(e)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
				t.Errorf("sha256 %s, manifest says %s", got, e.SHA256)
			}
			f, err := Open(e)
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				Program string   `json:"program"`
				Args    []string `json:"args"`
			}
			json.Unmarshal(f.Reader.(*traces.VMTReader).Header().Meta, &meta)
			if meta.Program != e.Program || len(meta.Args) != len(e.Args) {
				t.Errorf("metadata %+v, manifest %s %v", meta, e.Program, e.Args)
			}
			s, err := traces.Summarize(f, traces.SummaryOptions{PageSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			if s.Accesses != e.Accesses || s.PagesTouched != e.PagesTouched4K || len(s.Threads) != e.Threads {
				t.Errorf("%d accesses, %d pages, %d threads; manifest says %d, %d, %d", s.Accesses, s.PagesTouched, len(s.Threads), e.Accesses, e.PagesTouched4K, e.Threads)
			}
			if s.Accesses < 1_000_000 {
				t.Errorf("only %d accesses", s.Accesses)
			}
		})
	}
}

// TestMultiThreaded checks the multi-threaded programs of the corpus: each has its main
// thread and 4 workers, numbered 1 to 5, every one making accesses of its own, and marks
// the kernel's writes (vmt version 3, as vmsim record writes with vmtrace).
func TestMultiThreaded(t *testing.T) {
	es, err := Manifest()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"stencil-mt": true, "reduce-mt": true}
	for _, e := range es {
		if !want[e.Name] {
			continue
		}
		delete(want, e.Name)
		t.Run(e.Name, func(t *testing.T) {
			f, err := Open(e)
			if err != nil {
				t.Fatal(err)
			}
			if v := f.Reader.(*traces.VMTReader).Header().Version; v != traces.VMTVersionKernel {
				t.Errorf("vmt version %d, want %d", v, traces.VMTVersionKernel)
			}
			s, err := traces.Summarize(f, traces.SummaryOptions{PageSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Threads) != 5 {
				t.Fatalf("%d threads, want 5 (main and 4 workers)", len(s.Threads))
			}
			for i, th := range s.Threads {
				if th.Thread != traces.TID(i+1) || th.Accesses < 100_000 {
					t.Errorf("thread %d: %+v, want thread %d with accesses of its own", i, th, i+1)
				}
			}
			if s.KernelWrites == 0 {
				t.Error("no kernel writes")
			}
		})
	}
	for n := range want {
		t.Errorf("no %s in the corpus", n)
	}
}
