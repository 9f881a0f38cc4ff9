package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepKeySpellings: sweep's --set and --base take a key's one spelling, and its old
// (hyphenated) one with a deprecation note; an unknown or ill-typed key is a usage error
// with the closest key or the type it takes, never a Go decoder's message.
func TestSweepKeySpellings(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"one spelling", []string{"--base", "cache_size=4K"}, 0, "2 points"},
		{"old spelling", []string{"--base", "cache-size=4K"}, 0, `vmsim: deprecated: setting "cache-size" is spelled "cache_size" now`},
		{"old scheme setting", []string{"--set", "scheme=bitmap2", "--base", "copy-rate=5"}, 0, `vmsim: deprecated: setting "copy-rate" is spelled "copy_rate" now`},
		{"misspelt", []string{"--base", "intervall=5"}, 2, `base: no setting "intervall": did you mean "interval"?`},
		{"one value for a list", []string{"--base", "fail_at=5"}, 2, "fail_at: want a list of integers (as [5]), not 5"},
		{"string for a number", []string{"--set", "interval=often"}, 2, `interval: want an integer, not the string "often"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"sweep", "--trace", "corpus:sort", "--csv", filepath.Join(dir, c.name+".csv")}, c.args...)
			if c.code == 0 {
				args = append(args, "--set", "interval=1000,100000")
			}
			code, stdout, stderr := runCLI(args...)
			if code != c.code || stdout != "" || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, c.code, c.want)
			}
			if strings.Contains(stderr, "json:") {
				t.Errorf("a Go decoder's message: %s", stderr)
			}
		})
	}
}
