package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// jsonStats runs vmsim run --json with args and returns its stats object.
func jsonStats(t *testing.T, args ...string) map[string]int64 {
	t.Helper()
	code, stdout, stderr := runCLI(append([]string{"run", "--json", "--no-baseline"}, args...)...)
	if code != 0 {
		t.Fatalf("vmsim run %v: exit %d: %s", args, code, stderr)
	}
	var out struct {
		Stats map[string]any `json:"stats"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	st := map[string]int64{}
	for k, v := range out.Stats {
		if f, ok := v.(float64); ok {
			st[k] = int64(f)
		}
	}
	return st
}

// TestRunOneCoreIsTheDefault: --cores 1 is the machine without --cores, count for count,
// on several schemes, with and without a cache and failures; its coherence counts are 0.
func TestRunOneCoreIsTheDefault(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"dualmap", []string{"--interval", "1e4", "--mtbf", "3e4", "--verify"}},
		{"dualmap with a cache", []string{"--cache-size", "8K", "--interval", "1e4", "--verify"}},
		{"undo", []string{"--scheme", "undo", "--cache-size", "8K", "--interval", "1e4", "--mtbf", "3e4", "--verify"}},
		{"bitmap, clean flushes", []string{"--scheme", "bitmap", "--cache-size", "4K", "--cache-flush", "clean", "--interval", "5000", "--mtbf", "2e4", "--verify"}},
		{"cacheline", []string{"--scheme", "cacheline", "--cache-size", "16K", "--interval", "1e4", "--verify"}},
		{"incremental, per address space", []string{"--scheme", "incremental", "--scope", "asid", "--cache-size", "8K", "--interval", "1e4", "--mtbf", "3e4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plain := jsonStats(t, tt.args...)
			one := jsonStats(t, append([]string{"--cores", "1"}, tt.args...)...)
			for k, v := range plain {
				if one[k] != v {
					t.Errorf("%s: %d with --cores 1, %d without", k, one[k], v)
				}
			}
			for _, k := range []string{"coh_invalidations", "coh_downgrades", "coh_transfers"} {
				if v, ok := one[k]; !ok || v != 0 {
					t.Errorf("%s: %d (present %v), want 0 with one core", k, v, ok)
				}
			}
		})
	}
}

// TestRunCoresTable: the table shows the cores and the coherence counters with more than
// one core, and neither with one (the one-cache machine's table, as before).
func TestRunCoresTable(t *testing.T) {
	code, stdout, stderr := runCLI("run", "--no-baseline", "--scheme", "undo", "--cache-size", "8K", "--interval", "1e4")
	if code != 0 || strings.Contains(stdout, "coh_") || strings.Contains(stdout, "cores") {
		t.Errorf("one core: exit %d, %s\n%s", code, stderr, stdout)
	}
	code, stdout, stderr = runCLI("run", "--no-baseline", "--scheme", "undo", "--cache-size", "8K", "--interval", "1e4", "--cores", "4", "--quantum", "1000")
	if code != 0 || !strings.Contains(stdout, "cores 4, each with a private cache as above, schedule round-robin, quantum 1000\n") {
		t.Fatalf("four cores: exit %d, %s\n%s", code, stderr, stdout)
	}
	for _, k := range []string{"coh_invalidations", "coh_downgrades", "coh_transfers"} {
		if !strings.Contains(stdout, k) {
			t.Errorf("four cores: no %s in\n%s", k, stdout)
		}
	}
}

// TestRunCoresBadFlags: bad multi-core settings exit 2 with a message naming the flags,
// and print nothing on stdout.
func TestRunCoresBadFlags(t *testing.T) {
	vmt := filepath.Join("..", "traces", "corpus", "sort.vmt")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no cores", []string{"--cores", "0"}, "--cores 0: want 1 to 64"},
		{"too many cores", []string{"--cores", "65", "--cache-size", "8K"}, "--cores 65: want 1 to 64"},
		{"cores without a cache", []string{"--cores", "4"}, "--cores 4: the cores' private caches need a cache model: give --cache-size (above 0), or --cores 1"},
		{"an unknown schedule", []string{"--cores", "4", "--cache-size", "8K", "--schedule", "fair"}, `--schedule "fair": want one of [recorded round-robin]`},
		{"a quantum of zero", []string{"--cores", "4", "--cache-size", "8K", "--quantum", "0"}, "--quantum 0: want a quantum of 1 access or more"},
		{"a negative quantum", []string{"--cores", "4", "--cache-size", "8K", "--quantum", "-3"}, "--quantum"},
		{"a schedule with one core", []string{"--schedule", "recorded"}, "--schedule recorded: one core (--cores 1) has no schedule"},
		{"a quantum with one core", []string{"--quantum", "500", "--cache-size", "8K"}, "--quantum 500: one core (--cores 1) has no schedule"},
		{"a quantum under recorded", []string{"--cores", "2", "--cache-size", "8K", "--schedule", "recorded", "--quantum", "500"}, "--quantum 500: only --schedule round-robin has a quantum"},
		{"recorded on a trace without cpus", []string{"--cores", "2", "--cache-size", "8K", "--schedule", "recorded", vmt},
			"access 1: --schedule recorded: thread 0 of address space 0 has no recorded cpu (only drmemtrace traces record cpus: use --schedule round-robin)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"run", "--no-baseline"}, tt.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming %q", code, stdout, stderr, tt.want)
			}
		})
	}
}
