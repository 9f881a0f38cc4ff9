package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

// runJSONCost is the "cost" object of run --json.
type runJSONCost struct {
	Stats sim.Stats `json:"stats"`
	Cost  struct {
		Set      cost.Set        `json:"set"`
		Time     *cost.Breakdown `json:"time"`
		Baseline *cost.Breakdown `json:"baseline"`
		Overhead *float64        `json:"overhead"`
	} `json:"cost"`
}

// TestRunOverhead: vmsim run prints the modeled time, the baseline's and the overhead (as
// the overhead rule gives them, from a second pass of none), in text and in --json, with
// the cost set used; --no-baseline leaves the baseline and the overhead out.
func TestRunOverhead(t *testing.T) {
	path := writeFile(t, "t.trace", []byte("1000 W\n2000 W\n1000 W\n3000 R\n1000 W\n2000 W\n"))
	args := []string{"--scheme", "dualmap", "--interval", "2", path}
	code, out, errOut := runCLI(append([]string{"run", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r runJSONCost
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	c := r.Cost
	if c.Set != cost.DefaultSet() || c.Time == nil || c.Baseline == nil || c.Overhead == nil {
		t.Fatalf("cost %+v", c)
	}
	// The same as the rule gives from the counters of the run and of its baseline.
	cfg := sim.DefaultConfig()
	cfg.Scheme, cfg.Interval, cfg.Trace = "dualmap", 2, path
	o, err := sweep.Opener(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	base, err := sweep.RunBaseline(cfg, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	want := cost.Compare(cost.Default(), r.Stats, base.Stats, cfg)
	if *c.Time != want.Run || *c.Baseline != want.Baseline || *c.Overhead != want.Overhead || want.Overhead <= 0 {
		t.Errorf("cost %+v %+v %v,\nwant %+v", *c.Time, *c.Baseline, *c.Overhead, want)
	}

	code, out, errOut = runCLI(append([]string{"run"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{"modeled time ", "(cost set default)", "baseline (none) ", "overhead "} {
		if !strings.Contains(out, w) {
			t.Errorf("the table lacks %q:\n%s", w, out)
		}
	}

	code, out, errOut = runCLI(append([]string{"run", "--json", "--no-baseline"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r = runJSONCost{}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if raw := cost.Default().Time(r.Stats, cfg); r.Cost.Baseline != nil || r.Cost.Overhead != nil || r.Cost.Time == nil || *r.Cost.Time != raw {
		t.Errorf("--no-baseline: cost %+v, want the time %+v alone", r.Cost, raw)
	}
}

// TestCostFile: --cost FILE prices by the file's values, on run, sweep and reproduce, and
// every output says which set; a bad file is a usage error naming the file and the key,
// with nothing on standard output and nothing written.
func TestCostFile(t *testing.T) {
	dir := t.TempDir()
	trace := writeFile(t, "t.trace", []byte("1000 W\n2000 W\n1000 W\n"))
	good := filepath.Join(dir, "mine.json")
	os.WriteFile(good, []byte(`{"trap_ns": 69000}`), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"trap_ns": 69000, "trap_us": 69}`), 0o644)

	code, out, errOut := runCLI("run", "--json", "--cost", good, "--cost", "access_ns=2", "--scheme", "dualmap", "--interval", "1", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r runJSONCost
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if s := r.Cost.Set; s.Name != "mine.json (modified)" || s.Model.TrapNs != 69000 || s.Model.AccessNs != 2 {
		t.Errorf("cost set %+v", s)
	}
	if want := float64(r.Stats.Traps) * 69000; r.Cost.Time.Traps != want {
		t.Errorf("traps %v ns, want %v", r.Cost.Time.Traps, want)
	}

	csv := filepath.Join(dir, "out.csv")
	code, _, errOut = runCLI("sweep", "--trace", trace, "--set", "scheme=dualmap", "--base", "interval=1", "--cost", good, "--csv", csv)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, errOut)
	}
	data, _ := os.ReadFile(csv)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	cols, row := strings.Split(lines[0], ","), strings.Split(lines[1], ",")
	for i, c := range cols {
		switch c {
		case "cost_set":
			if row[i] != "mine.json" {
				t.Errorf("cost_set %q", row[i])
			}
		case "model_trap_ns":
			if row[i] != "69000" {
				t.Errorf("model_trap_ns %q", row[i])
			}
		}
	}
	if !strings.Contains(lines[0], ",cost_set,model_access_ns,") {
		t.Errorf("columns %s", lines[0])
	}

	for _, tt := range []struct {
		name string
		args []string
		out  string // a file that must not be created
	}{
		{"run", []string{"run", "--cost", bad, trace}, ""},
		{"sweep", []string{"sweep", "--trace", trace, "--cost", bad, "--csv", filepath.Join(dir, "no.csv")}, filepath.Join(dir, "no.csv")},
		{"reproduce", []string{"reproduce", "--cost", bad, "--dir", filepath.Join(dir, "no")}, filepath.Join(dir, "no")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, "bad.json") || !strings.Contains(errOut, `"trap_us"`) {
				t.Errorf("exit %d, stdout %q, stderr %q: want 2, nothing, an error naming bad.json and trap_us", code, out, errOut)
			}
			if tt.out != "" {
				if _, err := os.Stat(tt.out); err == nil {
					t.Errorf("%s was written", tt.out)
				}
			}
		})
	}
}
