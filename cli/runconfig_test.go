package cli

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/sweep"
)

// runConfigJSON runs vmsim run with args and returns its JSON's "config".
func runConfigJSON(t *testing.T, args ...string) (json.RawMessage, string) {
	t.Helper()
	code, stdout, stderr := runCLI(append([]string{"run", "--json", "--no-baseline"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var out struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	return out.Config, stderr
}

// TestRunConfig: run --config FILE is the same run as its settings given as flags; a
// flag on the command line overrides the file; an old spelling gets a note.
func TestRunConfig(t *testing.T) {
	cfg := writeFile(t, "c.yaml", []byte("scheme: bitmap2\ncopy_rate: 5\ninterval: 1e4\nfail_at: [5000, 9000]\ncache_size: 32K\nverify: true\n"))
	flags, _ := runConfigJSON(t, "--scheme", "bitmap2", "--copy-rate", "5", "--interval", "10000", "--fail-at", "5000,9000", "--cache-size", "32K", "--verify")
	file, stderr := runConfigJSON(t, "--config", cfg)
	if string(file) != string(flags) {
		t.Errorf("--config:\n%s\nthe flags:\n%s", file, flags)
	}
	if stderr != "" {
		t.Errorf("stderr %q for the one spelling", stderr)
	}
	over, _ := runConfigJSON(t, "--config", cfg, "--interval", "77", "--copy-rate", "2")
	if !strings.Contains(string(over), `"interval":77`) || !strings.Contains(string(over), `"copy-rate":"2"`) {
		t.Errorf("the command line does not override the file: %s", over)
	}
	old := writeFile(t, "old.yaml", []byte("scheme: bitmap2\ncopy-rate: 5\n"))
	_, stderr = runConfigJSON(t, "--config", old)
	if !strings.Contains(stderr, `old.yaml:2: setting "copy-rate" is spelled "copy_rate" now`) {
		t.Errorf("no deprecation note for copy-rate: %q", stderr)
	}
}

// TestRunConfigRefusals: a bad config file is a usage error (exit 2, nothing on stdout)
// naming the file and line, never a Go decoder's message.
func TestRunConfigRefusals(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"misspelt key", "scheme: none\nintervall: 5\n", `:2: no setting "intervall": did you mean "interval"?`},
		{"far key", "zzzzzzzzz: 5\n", `:1: no setting "zzzzzzzzz"; the settings are: format, scheme,`},
		{"not a number", "interval: often\n", `:1: interval: "often" is not a number`},
		{"not a boolean", "verify: maybe\n", `:1: verify: want true or false, not "maybe"`},
		{"NaN for a number", "mtbf: .nan\n", `:1: mtbf: want a number, not ".nan"`},
		{"negative for a seed", "seed: -1\n", `:1: seed: want a whole number, 0 or more, not "-1"`},
		{"out of range", "cores: 99999999999999999999\n", `:1: cores: 99999999999999999999 is out of range`},
		{"a list for a value", "interval: [1, 2]\n", ":1: interval: want one value, not a list"},
		{"a mapping for a value", "interval: {a: 1}\n", ":1: interval: want a value, not a mapping"},
		{"null", "interval:\n", ":1: interval: null is not a value"},
		{"twice", "cache_size: 0\ncache-size: 0\n", ":2: cache_size is given twice (first at line 1)"},
		{"trace", "trace: x\n", ":1: trace is not a setting"},
		{"syntax", "a: [\n", ":1: did not find expected node content"},
		{"empty", "", ": an empty config"},
		{"not a mapping", "- interval\n", ":1: want a mapping of settings"},
		{"two documents", "interval: 5\n---\ninterval: 6\n", ":2: a second YAML document"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "c.yaml", []byte(c.yaml))
			code, stdout, stderr := runCLI("run", "--config", path)
			if code != 2 || stdout != "" || !strings.Contains(stderr, path+c.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, path+c.want)
			}
			if strings.Contains(stderr, "json:") || strings.Contains(stderr, "strconv.") || strings.Contains(stderr, " yaml: ") {
				t.Errorf("a Go decoder's message: %s", stderr)
			}
		})
	}
	if code, _, stderr := runCLI("run", "--config", "/nonexistent/c.yaml"); code != 2 || !strings.Contains(stderr, "/nonexistent/c.yaml") {
		t.Errorf("a missing file: exit %d, %q", code, stderr)
	}
}

// TestRunConfigKeysAreFlags: every key of a sweep spec's base is a key of run --config:
// a flag of vmsim run, its name with hyphens.
func TestRunConfigKeysAreFlags(t *testing.T) {
	reg := builtin.Registry()
	cmd := newRunCmd(reg, io.Discard, io.Discard)
	for _, k := range sweep.SettingKeys(reg) {
		if cmd.Flags().Lookup(sweep.FlagName(k)) == nil {
			t.Errorf("setting %s: no flag --%s of vmsim run", k, sweep.FlagName(k))
		}
	}
}
