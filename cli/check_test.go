package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestRunCheck: --check checks every invariant after every event and changes nothing of
// the output, on a run with checkpoints, failures, a cache, a TLB and --verify.
func TestRunCheck(t *testing.T) {
	var b strings.Builder
	for i := range 600 {
		kind := "RW"[i%3/2 : i%3/2+1]
		fmt.Fprintf(&b, "%x %s\n", 0x1000+(i*7919)%(1<<16), kind)
	}
	path := writeFile(t, "t.trace", []byte(b.String()))
	args := []string{"run", "--json", "--verify", "--interval", "50", "--fail-at", "120,333",
		"--cache-size", "1K", "--cache-ways", "2", "--tlb-entries", "8", "--tlb-ways", "2", path}
	code, want, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("without --check: exit %d: %s", code, errOut)
	}
	code, got, errOut := runCLI(append([]string{"run", "--check"}, args[1:]...)...)
	if code != 0 || got != want || errOut != "" {
		t.Fatalf("with --check: exit %d, stderr %q\ngot  %s\nwant %s", code, errOut, got, want)
	}
	if code, out, _ := runCLI("run", "--help"); code != 0 || !strings.Contains(out, "--check") {
		t.Errorf("run --help (exit %d) does not document --check", code)
	}
}
