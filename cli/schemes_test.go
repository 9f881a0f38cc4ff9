package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
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
