package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/sim"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gz(data string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(data))
	w.Close()
	return b.Bytes()
}

func halve(b []byte) []byte { return b[:len(b)/2] }

func TestRunEmbedded(t *testing.T) {
	code, out, errOut := runCLI("run")
	if code != 0 || !strings.Contains(out, "refs") || !strings.Contains(out, "545288") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestRunJSON(t *testing.T) {
	path := writeFile(t, "t.trace", []byte("1000 R\n1004 W\n2000 W\n"))
	code, out, errOut := runCLI("run", "--json", "--interval", "2", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Config map[string]any `json:"config"`
		Stats  sim.Stats      `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if res.Stats.Refs != 3 || res.Stats.Writes != 2 || res.Stats.Checkpoints != 1 || res.Config["trace"] != path {
		t.Errorf("unexpected result %s", out)
	}
	_, again, _ := runCLI("run", "--json", "--interval", "2", path)
	if again != out {
		t.Errorf("two runs differ:\n%s\n%s", out, again)
	}
}

func TestRunErrors(t *testing.T) {
	good := writeFile(t, "good.trace", []byte("1000 R\n1004 W\n"))
	bad := writeFile(t, "bad.trace", []byte("1000 R\n1004 X\n"))
	trunc := writeFile(t, "trunc.gz", halve(gz(strings.Repeat("1000 R\n1004 W\n", 5000))))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"seed not a number", []string{"run", "--seed", "abc", good}, `invalid argument "abc" for "--seed" flag: want a whole number, 0 or more (see 'vmsim run --help')`},
		{"seed too large", []string{"run", "--seed", "99999999999999999999", good}, `"--seed" flag: out of range: too large for the flag`},
		{"bool flag", []string{"run", "--verify=maybe", good}, `"--verify" flag: want true or false`},
		{"unknown scheme", []string{"run", "--scheme", "foo", good}, `--scheme "foo": want one of [bitmap`},
		{"unknown scheme names the coordinated ones", []string{"run", "--scheme", "foo", good}, `or a coordinated multi-core scheme ([global rebound])`},
		{"unknown flag", []string{"run", "--nope", good}, "unknown flag: --nope"},
		{"bad number", []string{"run", "--frames", "many", good}, "--frames"},
		{"page size", []string{"run", "--page-size", "1000", good}, "--page-size 1000"},
		{"missing file", []string{"run", "/no/such/trace"}, "/no/such/trace"},
		{"malformed trace", []string{"run", "--json", bad}, bad + ":2:"},
		{"truncated gzip", []string{"run", "--json", trunc}, trunc},
		{"failure beyond the trace", []string{"run", "--json", "--fail-at", "3", good}, "--fail-at 3 is beyond the end of the trace (2 accesses)"},
		{"too many arguments", []string{"run", good, good}, "accepts at most 1 arg"},
		{"dualmap with 1 frame", []string{"run", "--frames", "1", good}, "at least 2 frames"},
		{"bad format", []string{"run", "--format", "csv", good}, `--format "csv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != exitBad {
				t.Errorf("exit %d, want %d", code, exitBad)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			if !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "goroutine") {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.want)
			}
		})
	}
}

func TestHelpDocumentsEverything(t *testing.T) {
	code, out, _ := runCLI("run", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range sim.CounterDefs() {
		if !strings.Contains(out, c.Key) || !strings.Contains(out, c.Doc) {
			t.Errorf("help lacks counter %s", c.Key)
		}
	}
	for _, flag := range []string{"--scheme", "--memory", "--cow", "--frames", "--replace", "--seed", "--steal",
		"--initial", "--vbits", "--scope", "--pte-bytes", "--page-size", "--format", "--ignore-size", "--lenient",
		"--interval", "--fail-at", "--mtbf", "--failure", "--verify", "--verify-block", "--json"} {
		if !strings.Contains(out, flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
}

// The README's counter table must say what the code says.
func TestReadmeCounters(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sim.CounterDefs() {
		row := "| `" + c.Key + "` | " + strings.ReplaceAll(c.Doc, "|", `\|`) + " |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %s", row)
		}
	}
	if !strings.Contains(string(readme), "go test ./...") {
		t.Error("README.md does not give the test command")
	}
}

func TestRunLenient(t *testing.T) {
	path := writeFile(t, "mixed.lackey", []byte("==1== x\nI  0400,4\nsome program output\n L 1000,8\n S 2ffe,4\n"))
	if code, out, errOut := runCLI("run", "--json", path); code != exitBad || out != "" || !strings.Contains(errOut, path+":3:") {
		t.Fatalf("strict: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut := runCLI("run", "--json", "--lenient", path)
	var res struct{ Stats sim.Stats }
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("lenient: exit %d, %s %s", code, out, errOut)
	}
	if s := res.Stats; s.Refs != 3 || s.SkippedLines != 1 || s.PagesTouched != 4 || s.FirstWrites != 2 {
		t.Errorf("lenient stats %+v", s)
	}
}

// TestReproduceRefusesNegativeJobs: --jobs below 0 is a usage error, before anything runs
// or is written, as for sweep.
func TestReproduceRefusesNegativeJobs(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI("reproduce", "--jobs", "-5", "--dir", dir)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "--jobs -5") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 2, nothing, an error naming --jobs -5", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%s holds %d entries after a refused run", dir, len(entries))
	}
}

// TestRunSkipMaxRefs checks that run --skip and --max-refs reach the run: the embedded
// trace (not seekable) read past, the refs counted those of the window.
func TestRunSkipMaxRefs(t *testing.T) {
	code, stdout, stderr := runCLI("run", "--skip", "1000", "--max-refs", "5000", "--no-baseline", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"refs":5000,`) || !strings.Contains(stdout, `"skip":1000,"max_refs":5000`) {
		t.Errorf("want 5000 refs and the window in the configuration:\n%s", stdout)
	}
	if code, stdout, stderr := runCLI("run", "--skip", "1000000000", "--no-baseline"); code != 2 || stdout != "" || !strings.Contains(stderr, "--skip 1000000000 is beyond the end of the trace") {
		t.Errorf("--skip beyond the end: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
