package corpus

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/vmsim/vmsim/traces"
)

//go:embed MANIFEST.json *.vmt
var files embed.FS

// Entry describes one trace of the corpus, as MANIFEST.json does.
type Entry struct {
	Name     string   `json:"name"`
	File     string   `json:"file"`
	Program  string   `json:"program"`
	Version  string   `json:"version"`
	Args     []string `json:"args"`
	Input    string   `json:"input"`
	Accesses int64    `json:"accesses"`
	// PagesTouched4K is the number of distinct 4 KiB pages the trace touches.
	PagesTouched4K int64 `json:"pages_touched_4k"`
	// Threads is the number of (address space, thread) pairs that made accesses, in a
	// trace recorded with thread ids (the multi-threaded programs); 0 for a trace without
	// them (every record of thread 0).
	Threads int    `json:"threads,omitempty"`
	SHA256  string `json:"sha256"`
}

// Manifest returns the corpus's entries, in manifest order.
func Manifest() ([]Entry, error) {
	b, err := files.ReadFile("MANIFEST.json")
	if err != nil {
		return nil, err
	}
	var es []Entry
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, fmt.Errorf("corpus MANIFEST.json: %w", err)
	}
	return es, nil
}

// Bytes returns the content of a corpus trace file.
func Bytes(e Entry) ([]byte, error) { return files.ReadFile(e.File) }

// Open opens a corpus trace. The name in messages is "corpus/" + the file name.
func Open(e Entry) (*traces.File, error) {
	b, err := Bytes(e)
	if err != nil {
		return nil, err
	}
	return traces.NewFile(bytes.NewReader(b), "corpus/"+e.File, traces.Options{Format: traces.FormatVMT})
}
