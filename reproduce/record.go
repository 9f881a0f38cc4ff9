package reproduce

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// LongProgram is one program of the long study: since issue 24, one of the study's
// Workloads.
type LongProgram = Workload

// LongPrograms are the programs of the long study: every workload, whose recordings the
// long study replays whole (the paper's and the comparative study replay a window).
var LongPrograms = Workloads

// genText writes n bytes (whole lines; the last may be cut) of text lines made of words
// from a fixed list and a number, from a xorshift64 generator seeded with seed.
func genText(w io.Writer, n int, seed uint64) error {
	words := []string{"alpha", "beta", "gamma", "delta", "checkpoint", "memory", "page", "trace", "virtual", "rollback",
		"interval", "failure", "recovery", "shadow", "bitmap", "granule"}
	x := seed*0x9E3779B97F4A7C15 | 1
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	var b strings.Builder
	for b.Len() < n {
		for i := range 8 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[next()%uint64(len(words))])
		}
		fmt.Fprintf(&b, " %d\n", next()%1_000_000)
	}
	_, err := io.WriteString(w, b.String()[:n])
	return err
}

// RecordingManifest says how a cached recording was made; a recording is reused only when
// every field but those filled in after the recording matches.
type RecordingManifest struct {
	Name           string   `json:"name"`
	Program        string   `json:"program"`
	ProgramVersion string   `json:"program_version"`
	Args           []string `json:"args"`
	// Env is the environment the program ran in (cleanEnv; VALGRIND_LIB, which names a
	// local folder, left out).
	Env          []string `json:"env,omitempty"`
	InputSHA256  string   `json:"input_sha256"`
	DataOnly     bool     `json:"data_only"`
	Syscalls     bool     `json:"syscalls,omitempty"`
	Valgrind     string   `json:"valgrind"`
	Tracer       string   `json:"tracer"` // the valgrind tool: vmtrace or lackey
	VmsimVersion string   `json:"vmsim_version"`
	// Filled in after the recording (not compared). PagesTouched and PagesWritten count
	// 4 KiB pages, and WriteFraction is the writes' and modifies' share of the accesses,
	// as vmsim trace stats gives them; TraceBytes is the vmt file's size.
	Accesses      int64   `json:"accesses"`
	PagesTouched  int64   `json:"pages_touched,omitempty"`
	PagesWritten  int64   `json:"pages_written,omitempty"`
	WriteFraction float64 `json:"write_fraction,omitempty"`
	TraceBytes    int64   `json:"trace_bytes,omitempty"`
	RecordSeconds float64 `json:"record_seconds,omitempty"`
	SHA256        string  `json:"trace_sha256"`
}

// key is what must match for a recording to be reused: the manifest without the fields
// filled in after the recording.
func (m RecordingManifest) key() string {
	m.Accesses, m.PagesTouched, m.PagesWritten, m.WriteFraction, m.TraceBytes, m.RecordSeconds, m.SHA256 = 0, 0, 0, 0, 0, 0, ""
	b, _ := json.Marshal(m)
	return string(b)
}

// Recording is a recorded trace in the cache.
type Recording struct {
	Manifest RecordingManifest
	Path     string // the vmt file
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
