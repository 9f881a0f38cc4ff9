package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/sim"
)

// TraceCache is a directory of local copies of trace files, for a sweep on a cluster:
// the traces live on a shared file system, and each node reads them from its own disk.
// A copy is named by the SHA-256 of its bytes (DIR/SHA256/BASENAME), so a cache can be
// shared by every sweep and shard on a node, and a trace replaced by another file under
// the same name gets another copy. Results do not depend on the cache: a point's trace
// is still the name the spec gives.
type TraceCache string

// Opener returns how to open a trace (as Opener does) from its copy in the cache,
// copying it there first if need be. Corpus traces are not copied (they are in vmsim).
func (c TraceCache) Opener(name string, cfg sim.Config) (sim.Opener, error) {
	if c == "" || strings.HasPrefix(name, "corpus:") {
		return Opener(name, cfg)
	}
	local, err := c.Fetch(name)
	if err != nil {
		return nil, err
	}
	return Opener(local, cfg)
}

// Fetch returns the path of the cached copy of the trace file name, copying it into the
// cache when it is not there yet. The copy is checked against the SHA-256 of the
// original, and appears whole or not at all (so concurrent sweeps on a node may fetch
// the same trace: the last rename wins, with the same bytes).
func (c TraceCache) Fetch(name string) (string, error) {
	hash, err := TraceHash(name)
	if err != nil {
		return "", err
	}
	local := filepath.Join(string(c), hash, filepath.Base(name))
	if fi, err := os.Stat(local); err == nil && fi.Mode().IsRegular() {
		return local, nil
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return "", fmt.Errorf("trace cache: %w", err)
	}
	in, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer in.Close()
	err = atomicfile.Write(local, func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), in); err != nil {
			return fmt.Errorf("copying %s to the trace cache: %w", name, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != hash {
			return fmt.Errorf("%s changed while it was copied to the trace cache (sha256 %s, was %s)", name, got, hash)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return local, nil
}
