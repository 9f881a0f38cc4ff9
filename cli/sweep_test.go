package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestSweepCLI(t *testing.T) {
	dir := t.TempDir()
	csvPath, jsonPath, spec := filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.jsonl"), filepath.Join(dir, "e.yaml")
	os.WriteFile(spec, []byte("traces: [corpus:sort]\nbase: {initial: zero}\nvary: {memory: [nonvolatile, volatile]}\n"), 0o644)
	args := []string{"sweep", "--spec", spec, "--set", "interval=1000,100000", "--cost", "trap_ns=1000", "--csv", csvPath, "--jsonl", jsonPath}
	code, _, stderr := runCLI(args...)
	if code != 0 || !strings.Contains(stderr, "4 points, 4 run now") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first, _ := os.ReadFile(csvPath)
	if n := strings.Count(string(first), "\n"); n != 5 || !strings.Contains(string(first), "corpus:sort") {
		t.Errorf("CSV has %d lines:\n%s", n, first)
	}
	code, _, stderr = runCLI(args...)
	if code != 0 || !strings.Contains(stderr, "0 run now, 4 already done") {
		t.Errorf("rerun: exit %d: %s", code, stderr)
	}
	again, _ := os.ReadFile(csvPath)
	if string(again) != string(first) {
		t.Error("a rerun changed the CSV")
	}
	for _, bad := range [][]string{
		{"sweep", "--trace", "corpus:sort", "--set", "interval=1000"},
		{"sweep", "--trace", "corpus:sort", "--set", "intervall=1000", "--csv", csvPath},
		{"sweep", "--trace", "corpus:nope", "--csv", filepath.Join(dir, "x.csv")},
		{"sweep", "--trace", "corpus:sort", "--set", "nokey", "--csv", csvPath},
		{"sweep", "--trace", "corpus:sort", "--cost", "trap_ns=-5", "--csv", csvPath},
		{"reproduce", "--cost", "no_such_cost=1", "--dir", filepath.Join(dir, "res")},
	} {
		if code, _, stderr := runCLI(bad...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, stderr)
		}
	}
	if code, stdout, _ := runCLI("--version"); code != 0 || !strings.Contains(stdout, version) {
		t.Errorf("--version: %d %q", code, stdout)
	}
}

// TestSweepRefusals: a flag value out of range or a bad spec file is a usage error (exit
// 2, nothing on stdout, the spec's file and line named), and no output file is created.
func TestSweepRefusals(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		spec string // the --spec file's content, when not ""
		want string
	}{
		{"negative jobs", []string{"--jobs", "-5"}, "", "--jobs -5"},
		{"two spec documents", nil, "traces: [corpus:sort]\n---\ntraces: [corpus:awk]\n", "e.yaml:2: a second YAML document"},
		{"spec key case", nil, "traces: [corpus:sort]\nbase: {Interval: 5}\n", `e.yaml:2: base: no setting "Interval": keys are case-sensitive`},
		{"spec null", nil, "traces: [corpus:sort]\nbase:\n  interval: null\n", "e.yaml:3: base.interval: null is not a value"},
		{"flag key case", []string{"--base", "Initial=zero"}, "", `no setting "Initial": keys are case-sensitive`},
		{"flag null", []string{"--base", "initial=null"}, "", "initial: null is not a value"},
		{"flag key misspelt", []string{"--set", "intervl=5"}, "", `--set: no setting "intervl": did you mean "interval"?`},
		{"flag value", []string{"--base", "interval=often"}, "", `--base interval: want an integer, not the string "often"`},
		{"flag with a spec", []string{"--set", "verify=yes"}, "traces: [corpus:sort]\n", `vary or --set verify: want true or false`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "r.csv")
			args := []string{"sweep", "--csv", out}
			if c.spec != "" {
				spec := filepath.Join(dir, "e.yaml")
				if err := os.WriteFile(spec, []byte(c.spec), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--spec", spec)
			} else {
				args = append(args, "--trace", "corpus:sort", "--set", "interval=100000")
			}
			code, stdout, stderr := runCLI(append(args, c.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, and %q", code, stdout, stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s created despite the refusal", out)
			}
		})
	}
}

// TestSweepOutputsTogether: vmsim sweep checks and locks every output before it creates
// any: --csv and --jsonl naming one file is refused as such, and a --jsonl another sweep
// holds leaves no --csv behind. Exit 2, nothing on stdout.
func TestSweepOutputsTogether(t *testing.T) {
	sweepArgs := []string{"sweep", "--trace", "corpus:sort", "--set", "interval=100000"}
	for _, c := range []struct {
		name    string
		outputs func(dir string) (csvPath, jsonlPath string)
		want    string
	}{
		{"same path", func(dir string) (string, string) {
			return filepath.Join(dir, "r.out"), filepath.Join(dir, "r.out")
		}, "are the same file"},
		{"same path spelled twice", func(dir string) (string, string) {
			return filepath.Join(dir, "r.out"), dir + "/./r.out"
		}, "are the same file"},
		{"jsonl locked", func(dir string) (string, string) {
			p := filepath.Join(dir, "r.jsonl")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "r.csv"), p
		}, "r.jsonl: another vmsim sweep is writing this file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			csvPath, jsonlPath := c.outputs(dir)
			_, jsonlBefore := os.Stat(jsonlPath)
			code, stdout, stderr := runCLI(append(sweepArgs, "--csv", csvPath, "--jsonl", jsonlPath)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, and %q", code, stdout, stderr, c.want)
			}
			if _, err := os.Stat(csvPath); err == nil {
				t.Errorf("%s created despite the refusal", csvPath)
			}
			if _, err := os.Stat(jsonlPath); err == nil && jsonlBefore != nil {
				t.Errorf("%s created despite the refusal", jsonlPath)
			}
		})
	}
}
