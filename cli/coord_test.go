package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/coord"
)

// TestRunCoord: vmsim run takes the coordinated schemes, verified under failures on two
// cores (the embedded sample's one thread moving between them every quantum), and global
// rolls every core back at every failure.
func TestRunCoord(t *testing.T) {
	for _, scheme := range []string{"global", "rebound"} {
		t.Run(scheme, func(t *testing.T) {
			st := jsonStats(t, "--scheme", scheme, "--cores", "2", "--quantum", "700", "--cache-size", "4K",
				"--interval", "5000", "--mtbf", "20000", "--seed", "3", "--verify")
			if st["verify_checks"] == 0 || st["verify_mismatches"] != 0 || st["orphans"] != 0 {
				t.Errorf("verify: %d checks, %d mismatches, %d orphans", st["verify_checks"], st["verify_mismatches"], st["orphans"])
			}
			if st["checkpoints"] == 0 || st["rollbacks"] == 0 || st["lost_accesses"] == 0 {
				t.Errorf("%d checkpoints, %d rollbacks, %d lost accesses: want some of each", st["checkpoints"], st["rollbacks"], st["lost_accesses"])
			}
			if scheme == "global" && (st["cores_per_rollback"] != 2*st["rollbacks"] || st["cores_per_checkpoint"] != 2*st["checkpoints"]) {
				t.Errorf("global: %d cores in %d rollbacks, %d in %d checkpoints: want every core in each",
					st["cores_per_rollback"], st["rollbacks"], st["cores_per_checkpoint"], st["checkpoints"])
			}
		})
	}
}

// TestRunCoordText: the table, the means per checkpoint and rollback, and the overhead
// over the baseline run.
func TestRunCoordText(t *testing.T) {
	code, stdout, stderr := runCLI("run", "--scheme", "rebound", "--cores", "2", "--cache-size", "4K", "--interval", "5000", "--fail-at", "12000", "--fail-core", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"scheme rebound (coordinated), interval 5000\n", "cores 2, schedule round-robin, quantum 10000", "dependence_edges", "cores per rollback", "baseline (no checkpoints or failures)", "overhead "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
}

// TestRunCoordBadFlags: settings a coordinated run does not model, and bad coordinated
// settings, exit 2 naming the flag, with nothing on stdout.
func TestRunCoordBadFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"recorded on a trace without cpus (the default quantum is round-robin's)", []string{"--scheme", "rebound", "--cores", "2", "--cache-size", "4K", "--schedule", "recorded"}, "has no recorded cpu"},
		{"a quantum under recorded", []string{"--scheme", "rebound", "--cores", "2", "--cache-size", "4K", "--schedule", "recorded", "--quantum", "50"}, "only --schedule round-robin has a quantum"},
		{"frames", []string{"--scheme", "global", "--cache-size", "4K", "--frames", "64"}, "--frames does not apply"},
		{"no cache", []string{"--scheme", "rebound", "--cores", "2"}, "need a --cache-size"},
		{"a failing core beyond the machine", []string{"--scheme", "rebound", "--cores", "2", "--cache-size", "4K", "--interval", "100", "--fail-at", "50", "--fail-core", "2"}, "--fail-core 2"},
		{"failures without checkpoints", []string{"--scheme", "global", "--cores", "2", "--cache-size", "4K", "--interval", "0", "--fail-at", "50"}, "--interval 0 takes no checkpoint"},
		{"a scope", []string{"--scheme", "global", "--cache-size", "4K", "--scope", "asid", "--warmup", "10"}, "--scope, --warmup do not apply"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"run", "--no-baseline"}, tt.args...)...)
			if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestSchemesListsCoord: vmsim schemes lists the coordinated schemes after the registered
// ones, with the flags they take.
func TestSchemesListsCoord(t *testing.T) {
	code, stdout, stderr := runCLI("schemes")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"\nglobal\n  coordinated:", "\nrebound\n  coordinated:", "--max-age (docs/coordinated.md)", "cores_per_rollback"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in vmsim schemes", want)
		}
	}
}

// TestRunCoordJSONConfig: a coordinated run's --json configuration has run's keys (not Go
// field names), every field of coord.Config and coord.Costs, and vmsim diff compares two
// such outputs, a counter a core included.
func TestRunCoordJSONConfig(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, scheme := range []string{"global", "rebound"} {
		code, out, stderr := runCLI("run", "--json", "--scheme", scheme, "--cores", "2", "--cache-size", "4K", "--interval", "5000")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", scheme, code, stderr)
		}
		var top struct {
			Config map[string]any `json:"config"`
		}
		if err := json.Unmarshal([]byte(out), &top); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"scheme", "cores", "cache_size", "cache_ways", "cache_line", "schedule", "quantum", "interval", "fail_at", "mtbf", "seed", "costs"} {
			if _, ok := top.Config[k]; !ok {
				t.Errorf("%s: config has no %q: %v", scheme, k, top.Config)
			}
		}
		if top.Config["scheme"] != scheme || top.Config["cores"] != 2.0 {
			t.Errorf("%s: config %v", scheme, top.Config)
		}
		p := filepath.Join(dir, scheme+".json")
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// Every field is in the JSON: coord.Config's Cache is three keys.
	if n, m := reflect.TypeFor[coord.Config]().NumField()-1+2, reflect.TypeFor[coordConfigJSON]().NumField(); n != m {
		t.Errorf("coord.Config has %d settings, its JSON %d keys: a field is missing from coordConfigJSON", n, m)
	}
	if n, m := reflect.TypeFor[coord.Costs]().NumField(), reflect.TypeFor[coordCostsJSON]().NumField(); n != m {
		t.Errorf("coord.Costs has %d fields, its JSON %d: a cost is missing from coordCostsJSON", n, m)
	}
	code, out, stderr := runCLI("diff", paths[0], paths[1])
	if code != 0 || !strings.Contains(out, "rebound") {
		t.Errorf("diff of two coordinated runs: exit %d\n%s%s", code, out, stderr)
	}
}
