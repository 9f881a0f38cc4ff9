package incremental_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vmsim/vmsim/schemetest"
	"github.com/vmsim/vmsim/traces"
)

// The helpers the scheme packages' tests share.
var (
	opener      = schemetest.Opener
	randomTrace = schemetest.RandomTrace
	mustRun     = schemetest.MustRun
	own         = schemetest.Own
)

// gccHead returns the first n records of the real gcc trace kept beside the repository, or
// skips the test without it.
func gccHead(t testing.TB, n int) []traces.Record {
	path := filepath.Join("..", "..", "shared", "traces", "gcc.trace.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no real trace: %v", err)
	}
	return schemetest.TraceHead(t, path, n)
}
