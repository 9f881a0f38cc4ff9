package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepTraceCacheRefused: a --trace-cache that others can write to is a usage
// error naming it (exit 2), nothing on standard output, no row written.
func TestSweepTraceCacheRefused(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.lackey")
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, " S %x,8\n L %x,4\n", 0x10000+i*64, 0x20000+(i%7)*4096)
	}
	if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache")
	if err := os.Mkdir(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cache, 0o777)
	out := filepath.Join(dir, "r.csv")
	args := []string{"sweep", "--trace", trace, "--set", "interval=10,20", "--csv", out, "--trace-cache"}
	if code, _, stderr := runCLI(append(args, filepath.Join(dir, "private"))...); code != 0 {
		t.Fatalf("through a private cache: exit %d: %s", code, stderr)
	}
	os.Remove(out)
	code, stdout, stderr := runCLI(append(args, cache)...)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "trace cache "+cache+": others can write") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, an error naming %s", code, stdout, stderr, cache)
	}
	if data, err := os.ReadFile(out); err == nil {
		t.Errorf("%s created by a refused sweep:\n%s", out, data)
	}
}
