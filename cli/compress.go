package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vmsim/vmsim/traces"
)

// The values of --compress: of trace convert (the whole output stream, or vmt's blocks),
// and of record (vmt's blocks).
var (
	convertCompressions = []traces.Compression{traces.None, traces.Gzip, traces.Zstd, traces.XZ}
	recordCompressions  = []traces.Compression{traces.Zstd, traces.None}
)

// parseCompression returns the compression s names when it is one of choices, else an
// error naming --compress and the choices.
func parseCompression(s string, choices []traces.Compression) (traces.Compression, error) {
	if c := traces.Compression(s); slices.Contains(choices, c) {
		return c, nil
	}
	names := compressionNames(choices)
	list := names[0]
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	return "", fmt.Errorf("--compress %q: want %s", s, list)
}

// compressionNames returns the names of cs.
func compressionNames(cs []traces.Compression) []string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = string(c)
	}
	return names
}
