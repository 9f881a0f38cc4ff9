package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cli"
)

// vmsim runs this program's command line in-process, on a registry of its own.
func vmsim(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Main(args, registry(), &out, &errb)
	return code, out.String(), errb.String()
}

// TestSchemes: vmsim schemes lists cowpage, its setting and its counters, beside the
// built-in schemes.
func TestSchemes(t *testing.T) {
	code, out, stderr := vmsim("schemes")
	for _, want := range []string{"cowpage\n  page-granular copy on first write", "--max-saved (default 0; sweep key max_saved)", "counter pages_saved:", "\ndualmap\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("exit %d, want %q in\n%s%s", code, want, out, stderr)
		}
	}
}

// TestRunVerify: vmsim run --verify runs cowpage on the embedded trace with transient
// failures: every read and every recovery agrees with the golden model, and its own
// counters are in the output. With --max-saved it asks for checkpoints.
func TestRunVerify(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		forced bool
	}{
		{"interval", nil, false},
		{"max-saved", []string{"--max-saved", "16"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--json", "--scheme", "cowpage", "--verify", "--interval", "20000", "--mtbf", "60000", "--seed", "1"}, tt.args...)
			code, out, stderr := vmsim(args...)
			var res struct {
				Stats struct {
					Checkpoints      int64            `json:"checkpoints"`
					Rollbacks        int64            `json:"rollbacks"`
					VerifyChecks     int64            `json:"verify_checks"`
					VerifyMismatches int64            `json:"verify_mismatches"`
					Scheme           map[string]int64 `json:"scheme"`
				} `json:"stats"`
			}
			if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
				t.Fatalf("exit %d\n%s%s", code, out, stderr)
			}
			s := res.Stats
			if s.Rollbacks == 0 || s.VerifyChecks == 0 || s.VerifyMismatches != 0 || s.Scheme["pages_saved"] == 0 || s.Scheme["pages_restored"] == 0 {
				t.Errorf("stats %+v", s)
			}
			if forced := s.Scheme["forced_checkpoints"] > 0; forced != tt.forced {
				t.Errorf("forced_checkpoints %d", s.Scheme["forced_checkpoints"])
			}
		})
	}
}

// TestSweep: vmsim sweep runs cowpage beside a built-in scheme, its setting a key, each
// point with its baseline; the CSV has columns for its counters.
func TestSweep(t *testing.T) {
	csvPath := filepath.Join(t.TempDir(), "out.csv")
	code, _, stderr := vmsim("sweep", "--trace", "corpus:sort", "--set", "scheme=cowpage,remus", "--set", "interval=10000,100000", "--csv", csvPath)
	if code != 0 || !strings.Contains(stderr, "4 points, 4 run now") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], ",scheme_pages_saved,") || !strings.Contains(lines[1], ",cowpage,") {
		t.Errorf("CSV:\n%s", data)
	}
	code, _, stderr = vmsim("sweep", "--trace", "corpus:sort", "--set", "scheme=cowpage", "--set", "max-saved=-1", "--csv", filepath.Join(t.TempDir(), "bad.csv"))
	if code != 2 || !strings.Contains(stderr, "--max-saved") {
		t.Errorf("a bad setting: exit %d: %s", code, stderr)
	}
}
