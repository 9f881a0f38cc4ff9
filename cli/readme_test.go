package cli

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExamples runs, as written, every example command of the README that works on
// the repository alone (the embedded trace or the bundled corpus): no recording (valgrind),
// no pipes, no files the reader makes first, no sweeps or studies (long; tested elsewhere).
func TestReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README example")
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("..")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		cmd, ok := strings.CutPrefix(line, "    vmsim ")
		if !ok {
			continue
		}
		if i := strings.Index(cmd, "  #"); i >= 0 {
			cmd = cmd[:i]
		}
		args := strings.Fields(cmd)
		switch {
		case strings.ContainsAny(cmd, "|\\<>"), args[0] == "record", args[0] == "sweep", args[0] == "reproduce",
			args[0] == "completion", strings.HasSuffix(cmd, " -"), strings.Contains(cmd, "ls.vmt"):
			continue
		}
		n++
		t.Run(cmd, func(t *testing.T) {
			out := t.TempDir()
			for i, a := range args { // outputs go to a temporary folder
				if !strings.HasPrefix(a, "-") && !strings.Contains(a, "/") && strings.Contains(a, ".") && i == len(args)-1 && args[0] == "trace" {
					args[i] = out + "/" + a
				}
			}
			code, stdout, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d README examples found", n)
	}
}
