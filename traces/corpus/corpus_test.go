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
			if s.Accesses != e.Accesses || s.PagesTouched != e.PagesTouched4K {
				t.Errorf("%d accesses, %d pages; manifest says %d, %d", s.Accesses, s.PagesTouched, e.Accesses, e.PagesTouched4K)
			}
			if s.Accesses < 1_000_000 {
				t.Errorf("only %d accesses", s.Accesses)
			}
		})
	}
}
