package sim

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
)

// TestPagingSettingsRefused: each setting the driver passes on to the schemes that page
// (MachineParams), given to a scheme that does not declare it, is refused naming the
// flag, the scheme and the schemes it applies to.
func TestPagingSettingsRefused(t *testing.T) {
	settings := []struct {
		flag, value string
		set         func(c *Config)
		takers      string
	}{
		{"frames", "16", func(c *Config) { c.Frames = 16 }, "dualmap and none"},
		{"replace", "opt", func(c *Config) { c.Replace = "opt" }, "dualmap and none"},
		{"steal", "policy", func(c *Config) { c.Steal = "policy" }, "dualmap and none"},
		{"initial", "zero", func(c *Config) { c.Initial = "zero" }, "dualmap and none"},
		{"pte-bytes", "8", func(c *Config) { c.PTEBytes = 8 }, "dualmap"},
		{"vbits", "4", func(c *Config) { c.VBits = 4 }, "dualmap"},
		{"cow", "remap", func(c *Config) { c.Cow = "remap" }, "dualmap"},
	}
	for _, name := range []string{"remus", "undo", "snaplog", "cacheline", "incremental", "none"} {
		info, ok := scheme.Lookup(name)
		if !ok {
			t.Fatalf("no scheme %s", name)
		}
		for _, s := range settings {
			if info.Takes(s.flag) {
				continue
			}
			t.Run(name+" "+s.flag, func(t *testing.T) {
				c := DefaultConfig()
				c.Scheme = name
				s.set(&c)
				want := "--" + s.flag + " " + s.value + ": scheme " + name + " "
				err := c.Validate()
				if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--"+s.flag+" applies only to "+s.takers+" (") {
					t.Errorf("Validate = %v, want %q ... applies only to %s", err, want, s.takers)
				}
			})
		}
	}
}

// TestSettingsWhereTheyDoNothing: --pte-bytes and --memory volatile are refused where they
// change nothing, and accepted where they do.
func TestSettingsWhereTheyDoNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(c *Config)
		want string // "" for accepted
	}{
		{"pte-bytes for dualmap, non-volatile", func(c *Config) { c.PTEBytes = 8 },
			"--pte-bytes 8: scheme dualmap writes page-table pages only at the checkpoints of volatile memory"},
		{"pte-bytes for dualmap, volatile", func(c *Config) { c.PTEBytes, c.Memory = 8, MemoryVolatile }, ""},
		{"pte-bytes at its default for dualmap", func(c *Config) { c.PTEBytes = 16 }, ""},
		{"pte-bytes not a power of two", func(c *Config) { c.PTEBytes, c.Memory = 24, MemoryVolatile }, "--pte-bytes 24: want a power of two"},
		{"pte-bytes above the page size", func(c *Config) { c.PTEBytes, c.Memory, c.PageSize = 8192, MemoryVolatile, 4096 }, "--pte-bytes 8192: want a power of two"},
		{"pte-bytes for none", func(c *Config) { c.Scheme, c.PTEBytes = "none", 8 }, "--pte-bytes 8: scheme none writes no page-table pages"},
		{"volatile for none", func(c *Config) { c.Scheme, c.Memory = "none", MemoryVolatile },
			"--memory volatile: scheme none keeps no checkpoints, and volatile memory changes nothing for it"},
		{"volatile for remus, transient failures", func(c *Config) { c.Scheme, c.Memory = "remus", MemoryVolatile },
			"--memory volatile: volatile memory changes scheme remus only in a crash (add --failure crash"},
		{"volatile for remus, crashes", func(c *Config) { c.Scheme, c.Memory, c.Failure = "remus", MemoryVolatile, FailureCrash }, ""},
		{"volatile for undo, crashes", func(c *Config) { c.Scheme, c.Memory, c.Failure = "undo", MemoryVolatile, FailureCrash }, ""},
		{"volatile for dualmap", func(c *Config) { c.Memory = MemoryVolatile }, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c)
			err := c.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestMachineParamDefaults: a scheme's Param named as a setting the driver passes on has
// the driver's default, so that a setting left at its default is the scheme's default.
func TestMachineParamDefaults(t *testing.T) {
	def := DefaultConfig()
	n := 0
	for _, info := range scheme.All() {
		for _, p := range info.Params {
			for _, m := range machineParams {
				if m.flag == p.Name {
					n++
					if p.Default != m.value(&def) {
						t.Errorf("scheme %s: --%s defaults to %s, the driver's to %s", info.Name, p.Name, p.Default, m.value(&def))
					}
				}
			}
		}
	}
	if n != 11 { // none: 4, dualmap: 7
		t.Errorf("%d paging settings declared, want 11", n)
	}
	if got := strings.Join(MachineParams(), " "); got != "frames replace steal initial pte-bytes vbits cow" {
		t.Errorf("MachineParams = %s", got)
	}
	for _, own := range OwnParamNames(nil) {
		if info, _ := scheme.Lookup("dualmap"); info.Takes(own) {
			t.Errorf("OwnParamNames holds %s, a setting the driver passes on", own)
		}
	}
}

// TestMachineParamsNotInParams: a setting the driver passes on, put among Config.Params,
// is refused (it has its own field, which its JSON shows).
func TestMachineParamsNotInParams(t *testing.T) {
	c := DefaultConfig()
	c.Params = map[string]string{"frames": strconv.Itoa(8)}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--frames is a setting of the machine") {
		t.Errorf("Validate = %v", err)
	}
}

// TestParseOptions: each enumerated option of the driver parses its values to its
// constants and refuses any other value, naming the flag and the choices.
func TestParseOptions(t *testing.T) {
	for _, tt := range []struct {
		name  string
		parse func(string) (string, error)
		good  []string
		want  string
	}{
		{"memory", wrap(ParseMemory), []string{"nonvolatile", "volatile"}, `--memory "x": want one of [nonvolatile volatile]`},
		{"scope", wrap(ParseScope), []string{"system", "asid"}, `--scope "x": want one of [system asid]`},
		{"failure", wrap(ParseFailure), []string{"transient", "crash"}, `--failure "x": want one of [transient crash]`},
		{"io", wrap(ParseIOMode), []string{"none", "hold"}, `--io "x": want one of [none hold]`},
		{"cache-flush", wrap(ParseCacheFlush), []string{"invalidate", "clean", "none"}, `--cache-flush "x": want one of [invalidate clean none]`},
		{"tlb-checkpoint", wrap(ParseTLBCheckpoint), []string{"flush", "tag"}, `--tlb-checkpoint "x": want one of [flush tag]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, g := range tt.good {
				if v, err := tt.parse(g); err != nil || v != g {
					t.Errorf("parse(%q) = %q, %v", g, v, err)
				}
			}
			if got := strings.Join(Choices[tt.name], " "); got != strings.Join(tt.good, " ") {
				t.Errorf("Choices[%s] = %s", tt.name, got)
			}
			for _, bad := range []string{"x", "", "Volatile"} {
				_, err := tt.parse(bad)
				want := strings.Replace(tt.want, `"x"`, strconv.Quote(bad), 1)
				if err == nil || err.Error() != want {
					t.Errorf("parse(%q) = %v, want %s", bad, err, want)
				}
			}
			c := DefaultConfig()
			set(&c, tt.name, "x")
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %s", err, tt.want)
			}
		})
	}
}

func wrap[T ~string](parse func(string) (T, error)) func(string) (string, error) {
	return func(s string) (string, error) {
		v, err := parse(s)
		return string(v), err
	}
}

// set sets the option of flag name to v.
func set(c *Config, name, v string) {
	switch name {
	case "memory":
		c.Memory = Memory(v)
	case "scope":
		c.Scope = Scope(v)
	case "failure":
		c.Failure = Failure(v)
	case "io":
		c.IO = IOMode(v)
	case "cache-flush":
		c.CacheFlush = CacheFlush(v)
	case "tlb-checkpoint":
		c.TLBCheckpoint = TLBCheckpoint(v)
	}
}
