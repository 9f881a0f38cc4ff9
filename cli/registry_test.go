package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/internal/minescheme"
	"github.com/vmsim/vmsim/scheme"
)

// mineRegistry returns a new registry of the built-in schemes and "mine", a scheme with
// settings and counters of its own (--mine-header; mine_snapshots, ...).
func mineRegistry() *scheme.Registry { return minescheme.Registry() }

// TestMainWithARegistry: Main runs every command on the schemes of the registry it is
// given, a registry the test makes and throws away: vmsim schemes lists the test's scheme,
// run --help offers it and its setting, run --verify runs it with its setting and reports
// its counters, completion and error messages name it, and sweep runs it (its setting a
// key, its counters columns). Given no registry, Main knows only the built-in schemes.
func TestMainWithARegistry(t *testing.T) {
	reg := mineRegistry()
	main := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(args, reg, &out, &errb)
		return code, out.String(), errb.String()
	}
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"schemes", []string{"schemes"}, []string{"mine\n  a test's own scheme", "--mine-header (default 24; sweep key mine_header)", "counter mine_snapshots:", "\ndualmap\n"}},
		{"run help", []string{"run", "--help"}, []string{"dualmap, incremental, mine, none", "--mine-header string"}},
		{"completion", []string{"__complete", "run", "--scheme", ""}, []string{"mine\n", "dualmap\n"}},
		{"sweep completion", []string{"__complete", "sweep", "--set", "scheme="}, []string{"scheme=mine"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := main(tt.args...)
			for _, w := range tt.want {
				if code != 0 || !strings.Contains(out, w) {
					t.Fatalf("exit %d, want %q in\n%s%s", code, w, out, stderr)
				}
			}
		})
	}

	code, out, stderr := main("run", "--json", "--scheme", "mine", "--mine-header", "8", "--verify", "--interval", "20000", "--mtbf", "60000", "--seed", "3")
	var res struct {
		Config struct {
			Scheme string            `json:"scheme"`
			Params map[string]string `json:"params"`
		} `json:"config"`
		Stats struct {
			Rollbacks        int64            `json:"rollbacks"`
			VerifyMismatches int64            `json:"verify_mismatches"`
			Scheme           map[string]int64 `json:"scheme"`
		} `json:"stats"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("run: exit %d\n%s%s", code, out, stderr)
	}
	if res.Config.Scheme != "mine" || res.Config.Params["mine-header"] != "8" || res.Stats.Rollbacks == 0 || res.Stats.VerifyMismatches != 0 || res.Stats.Scheme["mine_snapshots"] == 0 {
		t.Errorf("run: %s", out)
	}
	if code, out, stderr := main("run", "--scheme", "nope"); code != 2 || out != "" || !strings.Contains(stderr, "mine") {
		t.Errorf("unknown scheme: exit %d, stdout %q, stderr %q; want 2 and the registry's schemes", code, out, stderr)
	}

	dir := t.TempDir()
	csvPath := filepath.Join(dir, "r.csv")
	code, _, stderr = main("sweep", "--trace", "corpus:sort", "--set", "scheme=mine", "--set", "mine-header=8,16", "--base", "interval=100000", "--csv", csvPath)
	if code != 0 || !strings.Contains(stderr, "2 points, 2 run now") {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(csvPath)
	if header, _, _ := strings.Cut(string(data), "\n"); !strings.Contains(header, ",scheme_mine_snapshots,") || strings.Count(string(data), "\n") != 3 {
		t.Errorf("sweep CSV:\n%s", data)
	}

	// Without the registry: the built-in schemes only.
	if code, _, stderr := runCLI("run", "--scheme", "mine"); code != 2 || !strings.Contains(stderr, `--scheme "mine": want one of [bitmap`) {
		t.Errorf("built-ins: exit %d, %s", code, stderr)
	}
	if _, out, _ := runCLI("schemes"); strings.Contains(out, "mine") {
		t.Error("the built-in registry lists the test's scheme")
	}
}
