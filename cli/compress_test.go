package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// TestParseCompression: --compress takes the compressions of its command, as constants,
// and refuses any other value naming them.
func TestParseCompression(t *testing.T) {
	for _, tt := range []struct {
		name    string
		s       string
		choices []traces.Compression
		want    traces.Compression
		err     string
	}{
		{"convert gzip", "gzip", convertCompressions, traces.Gzip, ""},
		{"convert none", "none", convertCompressions, traces.None, ""},
		{"convert lz4", "lz4", convertCompressions, "", `--compress "lz4": want none, gzip, zstd or xz`},
		{"convert zip", "zip", convertCompressions, "", `--compress "zip": want none, gzip, zstd or xz`},
		{"record zstd", "zstd", recordCompressions, traces.Zstd, ""},
		{"record gzip", "gzip", recordCompressions, "", `--compress "gzip": want zstd or none`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCompression(tt.s, tt.choices)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
				t.Errorf("parseCompression(%q) = %q, %v; want %q, %s", tt.s, got, err, tt.want, tt.err)
			}
		})
	}
}

// TestConvertRefusesCompression: trace convert refuses an unknown --compress before it
// reads anything: exit 2, no warning about the output's name, no output file.
func TestConvertRefusesCompression(t *testing.T) {
	in := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n"))
	out := filepath.Join(t.TempDir(), "t.din")
	code, stdout, stderr := runCLI("trace", "convert", "--to", "din", "--compress", "lz4", in, out)
	if code != exitBad || stdout != "" || !strings.Contains(stderr, `--compress "lz4": want none, gzip, zstd or xz`) || strings.Contains(stderr, "warning") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output left behind: %v", err)
	}
}
