package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepSlurmRefusesControlCharacters: a value with a control character, which could
// end a line of the script and start a command, is a usage error naming its flag (exit
// 2), nothing on standard output, no script file. (sweep.TestSlurmScriptHostile runs the
// scripts of the values that are taken.)
func TestSweepSlurmRefusesControlCharacters(t *testing.T) {
	spec := []string{"sweep", "slurm", "--trace", "corpus:sort", "--shards", "2"}
	for _, c := range []struct {
		name string
		args []string
		flag string
	}{
		{"csv with newlines", []string{"--csv", "r\ntouch PWNED\n#.csv"}, "--csv"},
		{"jsonl with a carriage return", []string{"--jsonl", "r\rtouch PWNED.jsonl"}, "--jsonl"},
		{"vmsim with a newline", []string{"--csv", "r.csv", "--vmsim", "vmsim\ntouch PWNED"}, "--vmsim"},
		{"trace cache with a NUL", []string{"--csv", "r.csv", "--trace-cache", "c\x00d"}, "--trace-cache"},
		{"set with a newline", []string{"--csv", "r.csv", "--set", "interval=1\ntouch PWNED"}, "sweep argument"},
		{"job name with a newline", []string{"--csv", "r.csv", "--job-name", "j\ntouch PWNED"}, "--job-name"},
		{"vmsim like an option", []string{"--csv", "r.csv", "--vmsim", "-c"}, "--vmsim"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, out := range []string{"", filepath.Join(dir, "s.sh")} {
				args := append(append([]string{}, spec...), c.args...)
				if out != "" {
					args = append(args, "-o", out)
				}
				code, stdout, stderr := runCLI(args...)
				if code != 2 || stdout != "" || !strings.Contains(stderr, c.flag) {
					t.Errorf("-o %q: exit %d, stdout %q, stderr %q; want 2, nothing, an error naming %s", out, code, stdout, stderr, c.flag)
				}
			}
			if es, _ := os.ReadDir(dir); len(es) != 0 {
				t.Errorf("left %v behind", es)
			}
		})
	}
}
