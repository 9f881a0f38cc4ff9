package cli

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestReadmeExamples runs, as written, every example command of the README that works on
// the repository alone (the embedded trace or the bundled corpus): no recording (valgrind),
// no pipes, no files the reader makes first, no sweeps or studies (long; tested elsewhere)
// but the small ones that write into $out. $out is the temporary folder the README's
// examples write into (out=$(mktemp -d)); "CMD > FILE" writes CMD's standard output to
// FILE. The examples leave nothing in the clone.
func TestReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README example")
	}
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("..")
	out := t.TempDir()
	before := cloneFiles(t)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		cmd, ok := strings.CutPrefix(line, "    vmsim ")
		if !ok {
			continue
		}
		if i := strings.Index(cmd, "  #"); i >= 0 {
			cmd = cmd[:i]
		}
		cmd, redirect, _ := strings.Cut(cmd, " > ")
		args := strings.Fields(cmd)
		switch {
		case strings.ContainsAny(cmd, "|\\<>") || strings.ContainsAny(redirect, "|\\<> "), args[0] == "record",
			args[0] == "sweep" && !strings.Contains(cmd, "$out/"), args[0] == "reproduce",
			args[0] == "completion", strings.HasSuffix(cmd, " -"), strings.Contains(cmd, "ls.vmt"):
			continue
		}
		n++
		t.Run(line[len("    vmsim "):], func(t *testing.T) {
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "$out", out)
			}
			code, stdout, stderr := runCLI(args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if redirect != "" {
				if err := os.WriteFile(strings.ReplaceAll(strings.TrimSpace(redirect), "$out", out), []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if n < 10 {
		t.Fatalf("only %d README examples found", n)
	}
	for _, f := range cloneFiles(t) {
		if !slices.Contains(before, f) {
			t.Errorf("the examples left %s in the clone", f)
		}
	}
}

// cloneFiles lists the files of the working folder (the clone's root) and of the folders
// the README's examples name.
func cloneFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{".", "traces/corpus", "results"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			out = append(out, dir+"/"+e.Name())
		}
	}
	return out
}

// The README names the program of the embedded trace as traces/sample/README.md does.
func TestReadmeEmbeddedTrace(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../traces/sample/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(sample), "GNU `")
	prog, _, ok2 := strings.Cut(rest, "`")
	if !ok || !ok2 {
		t.Fatal("traces/sample/README.md does not name the program as GNU `PROGRAM`")
	}
	if want := "embedded in the binary (a valgrind trace of `" + prog + "`"; !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), want) {
		t.Errorf("README.md lacks %q", want)
	}
}
