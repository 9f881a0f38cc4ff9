package sim

import (
	"math"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
)

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *Config)
		want string
	}{
		{"mtbf NaN", func(c *Config) { c.MTBF = math.NaN() }, "--mtbf"},
		{"mtbf +Inf", func(c *Config) { c.MTBF = math.Inf(1) }, "--mtbf"},
		{"mtbf -Inf", func(c *Config) { c.MTBF = math.Inf(-1) }, "--mtbf"},
		{"max pages negative", func(c *Config) { c.MaxPages = -1 }, "--max-pages"},
		{"mtbf below one access", func(c *Config) { c.MTBF = 0.001 }, "--mtbf 0.001: want 0 (no random failures) or a mean of at least 1"},
		{"mtbf 1e-300", func(c *Config) { c.MTBF = 1e-300 }, "--mtbf 1e-300"},
		{"mtbf negative", func(c *Config) { c.MTBF = -5 }, "--mtbf -5"},
		// Settings of the machine given to a scheme that does not model them.
		{"frames for remus", func(c *Config) { c.Scheme, c.Frames = "remus", 16 }, "--frames 16: scheme remus models no paging, and --frames applies only to dualmap and none"},
		{"replace opt for remus", func(c *Config) { c.Scheme, c.Replace = "remus", "opt" }, "--replace opt: scheme remus models no paging"},
		{"replace opt for incremental", func(c *Config) { c.Scheme, c.Replace = "incremental", "opt" }, "--replace opt: scheme incremental models no paging"},
		{"replace opt for snaplog", func(c *Config) { c.Scheme, c.Replace = "snaplog", "opt" }, "--replace opt: scheme snaplog models no paging"},
		{"steal for cacheline", func(c *Config) { c.Scheme, c.Steal = "cacheline", "policy" }, "--steal policy: scheme cacheline models no paging"},
		{"initial for bitmap", func(c *Config) { c.Scheme, c.Initial = "bitmap", "zero" }, "--initial zero: scheme bitmap models no paging"},
		{"frames for a memory-level scheme", func(c *Config) { c.Scheme, c.Frames = "undo", 8 }, "--frames 8: scheme undo models no paging"},
		{"vbits for none", func(c *Config) { c.Scheme, c.VBits = "none", 4 }, "--vbits 4: scheme none keeps no virtual checkpoints, and --vbits applies only to dualmap"},
		{"cow for remus", func(c *Config) { c.Scheme, c.Cow = "remus", "remap" }, "--cow remap: scheme remus keeps no virtual checkpoints"},
		{"granule for dualmap", func(c *Config) { c.Granule = 8192 }, "--granule 8192: scheme dualmap does not track memory in granules"},
		{"granule for cacheline behind a cache", func(c *Config) { c.Scheme, c.CacheSize, c.Granule = "cacheline", 4096, 128 },
			"--granule 128: scheme cacheline tracks cache lines, not granules, behind a cache"},
		{"tlb tags for none", func(c *Config) { c.Scheme, c.TLBEntries, c.TLBCheckpoint = "none", 16, "tag" }, "--tlb-checkpoint tag: scheme none does not write-protect"},
		{"a setting of another scheme", func(c *Config) { c.Params = map[string]string{"log-entries": "5"} }, "--log-entries is not a setting of scheme dualmap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if c := DefaultConfig(); c.Validate() != nil || c.MaxPages != DefaultMaxPages {
		t.Errorf("defaults: %v, max pages %d", c.Validate(), c.MaxPages)
	}
}

// TestValidateAccepts: a setting at its default is not given, whatever the scheme, and a
// scheme takes the settings it models.
func TestValidateAccepts(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(c *Config)
	}{
		{"paging defaults for remus", func(c *Config) {
			c.Scheme, c.Frames, c.Replace, c.Initial, c.Steal = "remus", 0, "clock", "image", "obsolete-first"
		}},
		{"opt for none", func(c *Config) { c.Scheme, c.Frames, c.Replace = "none", 8, "opt" }},
		{"everything for dualmap", func(c *Config) {
			c.Frames, c.Replace, c.Steal, c.Initial, c.VBits, c.Cow, c.TLBEntries, c.TLBCheckpoint = 8, "lru", "policy", "zero", 3, "remap", 16, "tag"
		}},
		{"granule for bitmap", func(c *Config) { c.Scheme, c.Granule = "bitmap", 256 }},
		{"granule for cacheline without a cache", func(c *Config) { c.Scheme, c.Granule = "cacheline", 256 }},
		{"tlb tags for remus", func(c *Config) { c.Scheme, c.TLBEntries, c.TLBCheckpoint = "remus", 16, "tag" }},
		{"mtbf of one access", func(c *Config) { c.MTBF, c.Interval = 1, 2 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate = %v", err)
			}
		})
	}
}

// TestValidateOneLine: the problems of a configuration make one line, each flag named
// once, and a bad page size does not also condemn the settings bounded by it.
func TestValidateOneLine(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(c *Config)
		want []string // each once, in this order
	}{
		{"page size 1", func(c *Config) { c.PageSize = 1 }, []string{"--page-size 1"}},
		{"page size 1 with a bad granule", func(c *Config) { c.Scheme, c.PageSize, c.Granule = "bitmap", 1, 3 }, []string{"--page-size 1", "--granule 3"}},
		{"two settings remus does not model", func(c *Config) { c.Scheme, c.Frames, c.Replace = "remus", 16, "lfu" },
			[]string{"--frames 16", "--replace lfu: scheme remus models no paging"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || len(strings.Split(msg, "; ")) != len(tt.want) {
				t.Fatalf("%q: want one line of %d problems", msg, len(tt.want))
			}
			for i, part := range strings.Split(msg, "; ") {
				if !strings.HasPrefix(part, tt.want[i]) {
					t.Errorf("problem %d: %q, want %q", i, part, tt.want[i])
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(c *Config)
		want string // "" for none
	}{
		{"no failures", func(c *Config) {}, ""},
		{"failures and an interval", func(c *Config) { c.FailAt, c.Interval = []int64{5}, 100 }, ""},
		{"failures and no interval", func(c *Config) { c.FailAt = []int64{5} }, "every recovery replays the trace from its start"},
		{"mtbf and no interval", func(c *Config) { c.MTBF = 1000 }, "no --interval"},
		{"mtbf half the interval", func(c *Config) { c.MTBF, c.Interval = 500, 1000 }, ""},
		{"mtbf short against the interval", func(c *Config) { c.MTBF, c.Interval = 1, 100000 }, "--mtbf 1 is less than half of --interval 100000: each failure replays up to an interval, about 5e+04 times"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c)
			w := c.Warnings()
			if tt.want == "" && len(w) != 0 || tt.want != "" && (len(w) != 1 || !strings.Contains(w[0], tt.want)) {
				t.Errorf("Warnings = %q, want %q", w, tt.want)
			}
		})
	}
}

func TestSchemeSettingsListed(t *testing.T) {
	for _, tt := range []struct{ scheme, want string }{
		{"dualmap", "--frames --replace --steal --initial --vbits --cow --tlb-checkpoint"},
		{"none", "--frames --replace --steal --initial"},
		{"remus", "--tlb-checkpoint"},
		{"undo", "--granule"},
		{"cacheline", "--granule (without a cache)"},
	} {
		info, ok := scheme.Lookup(tt.scheme)
		if got := strings.Join(SchemeSettings(info), " "); !ok || got != tt.want {
			t.Errorf("%s: %q, want %q", tt.scheme, got, tt.want)
		}
	}
}
