package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/sim"
)

// runJSONFile writes the output of vmsim run --json with args on the trace to a file.
func runJSONFile(t *testing.T, name string, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(append([]string{"run", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("vmsim run %v: exit %d: %s", args, code, errOut)
	}
	return writeFile(t, name, []byte(out))
}

func TestDiff(t *testing.T) {
	tr := writeFile(t, "t.trace", []byte(strings.Repeat("1000 R\n1004 W\n2000 W\n3000 W\n", 50)))
	a := runJSONFile(t, "a.json", "--interval", "10", tr)
	b := runJSONFile(t, "b.json", "--interval", "20", tr)
	own := runJSONFile(t, "own.json", "--interval", "20", "--scheme", "undo", tr)
	nobase := runJSONFile(t, "nobase.json", "--interval", "20", "--no-baseline", tr)
	// Two lines of a sweep's JSON lines, each in a file.
	jsonl := filepath.Join(t.TempDir(), "s.jsonl")
	if code, _, errOut := runCLI("sweep", "--trace", tr, "--set", "interval=10,20", "--jsonl", jsonl); code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, errOut)
	}
	lines, _ := os.ReadFile(jsonl)
	line1, line2, _ := strings.Cut(string(lines), "\n")
	sweep1, sweep2 := writeFile(t, "1.json", []byte(line1)), writeFile(t, "2.json", []byte(line2))
	// dualmap's counters: the common ones and the modeled times (run's and the
	// baseline's terms, and the overhead).
	counters := len(sim.CounterDefs()) + 2*reflect.TypeFor[cost.Breakdown]().NumField() + 1
	for _, tt := range []struct {
		name      string
		args      []string
		want, not []string
		order     []string // rows in this order
	}{
		{"same", []string{a, a}, []string{"configuration: the same", fmt.Sprintf("counters and modeled time: all %d the same", counters)}, []string{"│"}, nil},
		{"interval", []string{a, b}, []string{"configuration: 1 setting differs", "│ interval │ 10 │ 20 │", "│ checkpoints ", "-50.00% │", "│ cost.time.total_ns "}, []string{"│ refs "}, nil},
		{"all", []string{"--all", a, b}, []string{"│ trace_sha256 ", "│ refs ", "│ checkpoints "}, nil, nil},
		{"own counters", []string{b, own}, []string{"│ scheme ", "│ dualmap │ undo │", "│ scheme.log_entries ", "- │", "n/a"}, nil, []string{"│ first_writes ", "│ scheme.log_peak_bytes ", "│ cost.time.traps_ns "}},
		{"sweep lines", []string{sweep1, sweep2}, []string{"configuration: 2 settings differ", "│ interval │", "│ id       │", "│ checkpoints ", "│ cost.time.total_ns ", "│ cost.overhead "}, []string{"│ refs ", "cost.baseline"}, nil},
		{"run against a sweep line", []string{b, sweep2}, []string{"│ trace_format │ rw", "│ id "}, []string{"cost.", "│ interval "}, nil},
		{"no baseline", []string{b, nobase}, []string{"│ cost.baseline.total_ns ", "│ cost.overhead "}, []string{"cost.time.total_ns"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(append([]string{"diff"}, tt.args...)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for i := 1; i < len(tt.order); i++ {
				if strings.Index(out, tt.order[i-1]) > strings.Index(out, tt.order[i]) {
					t.Errorf("%q after %q:\n%s", tt.order[i-1], tt.order[i], out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestDiffJSON(t *testing.T) {
	tr := writeFile(t, "t.trace", []byte(strings.Repeat("1000 R\n1004 W\n2000 W\n3000 W\n", 50)))
	a := runJSONFile(t, "a.json", "--interval", "10", tr)
	b := runJSONFile(t, "b.json", "--interval", "20", "--scheme", "undo", tr)
	code, out, errOut := runCLI("diff", "--json", a, b)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d struct {
		A, B   string
		Config []struct {
			Key  string
			A, B json.RawMessage
		}
		Counters []struct {
			Key      string
			A, B     *float64
			Change   *float64
			Relative *float64
		}
		Differing int
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if d.A != a || d.B != b || len(d.Config) != 2 || d.Config[0].Key != "scheme" || string(d.Config[1].B) != "20" {
		t.Errorf("config %+v", d.Config)
	}
	if d.Differing != len(d.Counters) || d.Differing == 0 {
		t.Errorf("differing %d, listed %d", d.Differing, len(d.Counters))
	}
	found := 0
	for _, c := range d.Counters {
		switch c.Key {
		case "checkpoints":
			found++
			if *c.A != 20 || *c.B != 10 || *c.Change != -10 || *c.Relative != -0.5 {
				t.Errorf("checkpoints %v %v %v %v", *c.A, *c.B, *c.Change, *c.Relative)
			}
		case "scheme.log_entries":
			found++
			if c.A != nil || c.B == nil || c.Change != nil || c.Relative != nil {
				t.Errorf("scheme.log_entries, B's alone: %+v", c)
			}
		case "first_writes":
			found++
			if *c.B != 0 || *c.Relative != -1 {
				t.Errorf("first_writes %+v", c)
			}
		}
		if c.A != nil && c.B != nil && *c.A == 0 && c.Relative != nil {
			t.Errorf("%s: a relative change from 0", c.Key)
		}
	}
	if found != 3 {
		t.Errorf("found %d of checkpoints, first_writes and scheme.log_entries:\n%s", found, out)
	}
	_, all, _ := runCLI("diff", "--json", "--all", a, a)
	if err := json.Unmarshal([]byte(all), &d); err != nil || d.Differing != 0 || len(d.Counters) != len(sim.CounterDefs())+2*reflect.TypeFor[cost.Breakdown]().NumField()+1 || len(d.Config) < 30 {
		t.Errorf("--all of a file with itself: %v, %d differing, %d counters, %d settings", err, d.Differing, len(d.Counters), len(d.Config))
	}
}

func TestDiffBadInput(t *testing.T) {
	tr := writeFile(t, "t.trace", []byte("1000 R\n1004 W\n"))
	good := runJSONFile(t, "good.json", tr)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodText, _ := os.ReadFile(good)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"missing", []string{"diff", good, filepath.Join(dir, "none.json")}, "none.json: no such file"},
		{"one file", []string{"diff", good}, "accepts 2 arg(s)"},
		{"empty", []string{"diff", file("empty.json", ""), good}, "empty.json: not JSON"},
		{"syntax", []string{"diff", good, file("syntax.json", "{\"config\": {},\n\"stats\": {\"refs\": 1,}}")}, "syntax.json:2: not JSON"},
		{"array", []string{"diff", file("array.json", "[1, 2]"), good}, "array.json: the file is not a JSON object"},
		{"two values", []string{"diff", file("two.json", string(goodText)+string(goodText)), good}, "two.json: more than one JSON value"},
		{"no stats", []string{"diff", file("nostats.json", `{"config": {}}`), good}, `nostats.json: not an output of vmsim run --json: no "stats" object`},
		{"not a number", []string{"diff", good, file("nan.json", `{"config": {}, "stats": {"refs": "12"}}`)}, `nan.json: not an output of vmsim run --json: refs is "12", not a number`},
		{"stats not an object", []string{"diff", good, file("statsarr.json", `{"config": {}, "stats": [1]}`)}, `statsarr.json: not an output of vmsim run --json: stats is not a JSON object`},
		{"duplicate key", []string{"diff", good, file("dup.json", `{"config": {}, "stats": {"refs": 1, "refs": 2}}`)}, `dup.json: not an output of vmsim run --json: stats has the key "refs" twice`},
		{"sweep CSV", []string{"diff", good, file("s.csv", "id,trace\n1,x\n")}, "s.csv:1: not JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != exitBad || out != "" || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "goroutine") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 with %q", code, out, errOut, tt.want)
			}
		})
	}
}
