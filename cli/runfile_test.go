package cli

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunStatsEvery checks run --stats-every: one JSON line per interval, whose refs add
// up to the run's and whose last time_ns is the run's modeled time; and its usage errors,
// which write nothing anywhere.
func TestRunStatsEvery(t *testing.T) {
	dir := t.TempDir()
	lines := filepath.Join(dir, "stats.jsonl")
	code, stdout, stderr := runCLI("run", "--stats-every", "100000", "--stats-out", lines, "--interval", "30000", "--fail-at", "150000", "--no-baseline", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var run struct {
		Stats struct{ Refs, Checkpoints, Rollbacks int64 }
		Cost  struct {
			Time struct {
				Total float64 `json:"total_ns"`
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &run); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(lines)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs, ckpts, fails, n int64
	var last float64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l struct {
			From, To, Checkpoints, Failures int64
			TimeNs                          float64 `json:"time_ns"`
			Delta                           struct{ Refs int64 }
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		if l.From != refs || l.Delta.Refs != l.To-l.From || l.TimeNs < last {
			t.Errorf("line %d: %s", n+1, sc.Text())
		}
		refs, ckpts, fails, last, n = l.To, ckpts+l.Checkpoints, fails+l.Failures, l.TimeNs, n+1
	}
	if n != 6 || refs != run.Stats.Refs || ckpts != run.Stats.Checkpoints || fails != 1 || fails != run.Stats.Rollbacks {
		t.Errorf("%d lines: %d refs, %d checkpoints, %d failures; the run %+v", n, refs, ckpts, fails, run.Stats)
	}
	if math.Abs(last-run.Cost.Time.Total) > 1e-6*last {
		t.Errorf("the last line's time_ns %v, the run's modeled time %v", last, run.Cost.Time.Total)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no stats-out", []string{"--stats-every", "1000"}, "--stats-every 1000: give --stats-out FILE"},
		{"no stats-every", []string{"--stats-out", filepath.Join(dir, "x.jsonl")}, "give --stats-every N"},
		{"the run fails", []string{"--stats-every", "1000", "--stats-out", filepath.Join(dir, "y.jsonl"), "--fail-at", "999999999", "--interval", "10"}, "beyond the end of the trace"},
		{"the run fails, standard output", []string{"--stats-every", "1000", "--stats-out", "-", "--fail-at", "999999999", "--interval", "10"}, "beyond the end of the trace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"run", "--no-baseline"}, tc.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, stdout, stderr, tc.want)
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 1 {
		t.Errorf("files left behind: %v", left)
	}
}

// TestRunOutputFile checks run -o: the text or JSON output in the file, with what
// identifies the run, nothing on standard output; no file after a usage error.
func TestRunOutputFile(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "run.txt")
	code, stdout, stderr := runCLI("run", "--max-refs", "10000", "-o", text)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`(?m)^vmsim \d+\.\d+\.\d+$`, `(?m)^config \{"trace":.*"max_refs":10000,`, `(?m)^trace sha256 [0-9a-f]{64} \(format lackey\)$`,
		`(?m)^cost set default \{"access_ns":`, `(?m)^host .+, \w+/\w+, .+, \d+ cores$`, `(?m)^wall time \d+\.\d+ s$`, `refs +│ +10000 │`, `(?m)^overhead `} {
		if !regexp.MustCompile(re).Match(b) {
			t.Errorf("no %s in\n%s", re, b)
		}
	}
	js := filepath.Join(dir, "run.json")
	if code, stdout, stderr := runCLI("run", "--max-refs", "10000", "--json", "-o", js); code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, stderr)
	}
	var out struct {
		Config      map[string]any
		Stats       struct{ Refs int64 }
		TraceSHA256 string         `json:"trace_sha256"`
		Version     string         `json:"vmsim_version"`
		Cost        map[string]any `json:"cost"`
		Host        struct {
			Hostname, OS, Arch, CPU string
			Cores                   int
		}
		WallSeconds *float64 `json:"wall_seconds"`
	}
	b, err = os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Stats.Refs != 10000 || len(out.TraceSHA256) != 64 || out.Version == "" || out.Cost["set"] == nil ||
		out.Host.OS == "" || out.Host.Arch == "" || out.Host.Cores < 1 || out.Host.Hostname == "" || out.WallSeconds == nil || out.Config["max_refs"] != 10000.0 {
		t.Errorf("incomplete: %s", b)
	}
	bad := filepath.Join(dir, "bad.txt")
	if code, stdout, _ := runCLI("run", "--fail-at", "999999999", "--interval", "10", "-o", bad); code != 2 || stdout != "" {
		t.Errorf("a failed run: exit %d, stdout %q", code, stdout)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s (%v)", bad, err)
	}
	// Without -o, --json carries neither host nor wall time: two runs print the same.
	if _, stdout, _ := runCLI("run", "--max-refs", "100", "--json", "--no-baseline"); strings.Contains(stdout, `"host"`) || strings.Contains(stdout, "wall_seconds") {
		t.Errorf("--json without -o: %s", stdout)
	}
}

// TestRunTableShowsWhatApplies checks that run's table shows the counters that apply to
// the scheme and the configuration (and those not zero), and every counter with --all.
func TestRunTableShowsWhatApplies(t *testing.T) {
	row := func(out, key string) bool {
		return regexp.MustCompile(`(?m)^│ ` + regexp.QuoteMeta(key) + ` +│`).MatchString(out)
	}
	for _, tc := range []struct {
		name      string
		args      []string
		want, not []string
	}{
		{"dualmap", []string{"--interval", "5000"}, []string{"refs", "checkpoints", "first_writes", "wrap_sweeps", "bytes_copied"},
			[]string{"rollbacks", "replayed_refs", "cache_refs", "tlb_refs", "verify_checks", "io_inputs", "skipped_lines", "coh_transfers", "bytes_logged"}},
		{"undo with failures and a cache", []string{"--scheme", "undo", "--interval", "10000", "--fail-at", "5000", "--cache-size", "32K"},
			[]string{"rollbacks", "crashes", "replayed_refs", "recovery_bytes", "cache_refs", "cache_dirty_at_end", "bytes_logged"},
			[]string{"first_writes", "wrap_sweeps", "tlb_refs", "coh_transfers"}},
		{"tlb, verify, io hold", []string{"--scheme", "none", "--tlb-entries", "64", "--verify", "--io", "hold", "--lenient"},
			[]string{"tlb_refs", "tlb_flushes", "verify_mismatches", "io_held_at_end", "skipped_lines", "first_writes"},
			[]string{"tlb_stale_writes", "rollbacks", "cache_refs"}},
		{"all", []string{"--all"}, []string{"rollbacks", "cache_refs", "tlb_stale_writes", "io_held_at_end", "coh_transfers", "bytes_logged"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"run", "--no-baseline", "--max-refs", "100000"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, k := range tc.want {
				if !row(stdout, k) {
					t.Errorf("no %s in\n%s", k, stdout)
				}
			}
			for _, k := range tc.not {
				if row(stdout, k) {
					t.Errorf("%s in\n%s", k, stdout)
				}
			}
		})
	}
}
