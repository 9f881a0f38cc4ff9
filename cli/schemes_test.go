package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/sweep"
)

func TestSchemesCommand(t *testing.T) {
	code, out, errOut := runCLI("schemes")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range scheme.All() {
		if !strings.Contains(out, s.Name+"\n  "+s.Doc) {
			t.Errorf("vmsim schemes does not list %s with its description:\n%s", s.Name, out)
		}
		for _, p := range s.Params {
			if !strings.Contains(out, "--"+p.Name) {
				t.Errorf("vmsim schemes does not list --%s of %s", p.Name, s.Name)
			}
		}
	}
}

func TestRunCacheAndTLBFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"cache with suffix", []string{"run", "--json", "--scheme", "none", "--cache-size", "32K", "--cache-ways", "4", "--interval", "10000"}, 0, `"cache_size":32768`},
		{"tlb", []string{"run", "--json", "--tlb-entries", "64", "--interval", "10000"}, 0, `"tlb_entries":64`},
		{"bad suffix", []string{"run", "--cache-size", "32Q"}, 2, "--cache-size"},
		{"bad geometry", []string{"run", "--cache-size", "3000"}, 2, "--cache-size"},
		{"bad tlb", []string{"run", "--tlb-entries", "48"}, 2, "--tlb-entries"},
		{"unknown scheme", []string{"run", "--scheme", "nope"}, 2, "--scheme"},
		{"bad flush mode", []string{"run", "--cache-flush", "sometimes"}, 2, "--cache-flush"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, want %d with %q\n%s\n%s", code, tt.code, tt.want, out, errOut)
			}
			if code == 0 {
				var res struct {
					Stats map[string]any `json:"stats"`
				}
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatal(err)
				}
				key := "cache_misses"
				if strings.Contains(tt.name, "tlb") {
					key = "tlb_misses"
				}
				if v, _ := res.Stats[key].(float64); v <= 0 {
					t.Errorf("%s = %v, want > 0", key, res.Stats[key])
				}
			}
		})
	}
}

func TestSchemesJSON(t *testing.T) {
	code, out, errOut := runCLI("schemes", "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []schemeJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	all := scheme.All()
	if len(got) != len(all) {
		t.Fatalf("%d schemes, want %d", len(got), len(all))
	}
	columns := sweep.OwnColumns()
	for i, s := range all {
		g := got[i]
		t.Run(s.Name, func(t *testing.T) {
			if g.Name != s.Name || g.Doc != s.Doc || g.Level != s.Level.String() {
				t.Errorf("got %q %q %q, want %q %q %q", g.Name, g.Doc, g.Level, s.Name, s.Doc, s.Level)
			}
			if want := s.RecoversTransient || s.RecoversCrash; (len(g.Recovers) > 0) != want {
				t.Errorf("recovers %v, want some: %v", g.Recovers, want)
			}
			for _, r := range g.Recovers {
				if !slices.Contains(sim.Choices["failure"], r) {
					t.Errorf("recovers %q, not a --failure", r)
				}
			}
			if len(g.Models) != len(sim.SchemeSettings(s)) {
				t.Errorf("models %v, want %v", g.Models, sim.SchemeSettings(s))
			}
			if len(g.Params) != len(s.Params) {
				t.Fatalf("params %v, want %v", g.Params, s.Params)
			}
			for k, p := range s.Params {
				gp := g.Params[k]
				if gp.Name != p.Name || gp.Default != p.Default || gp.Doc != p.Doc || !slices.Equal(gp.Choices, p.Choices) && len(p.Choices) > 0 {
					t.Errorf("param %+v, want %+v", gp, p)
				}
			}
			defs := s.OwnDefs()
			if len(g.Counters) != len(defs) {
				t.Fatalf("counters %v, want %v", g.Counters, defs)
			}
			for k, c := range defs {
				gc := g.Counters[k]
				if gc.Key != c.Key || gc.Doc != c.Doc || !slices.Contains([]string{"total", "peak", "end"}, gc.Kind) || !slices.Contains(columns, gc.Column) {
					t.Errorf("counter %+v, want %+v (column among the sweep's)", gc, c)
				}
			}
		})
	}
	if _, again, _ := runCLI("schemes", "--json"); again != out {
		t.Error("two runs of schemes --json differ")
	}
	// The sweep key of a driver's setting is the sweep's, which a sweep accepts.
	if !strings.Contains(out, `"sweep_key": "pte_bytes"`) {
		t.Error(`no "sweep_key": "pte_bytes" for dualmap's --pte-bytes`)
	}
}

func TestSchemesBadUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"argument", []string{"schemes", "--json", "dualmap"}, "unknown command"},
		{"bad flag", []string{"schemes", "--jsn"}, "unknown flag: --jsn"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != exitBad || out != "" || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q, want 2 with %q", code, out, errOut, tt.want)
			}
		})
	}
}
