package mmu

import (
	"errors"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/frames"
	"github.com/vmsim/vmsim/scheme"
)

// TestParseChoices: each enumerated paging option parses its values to its constants and
// refuses any other, naming the flag and the choices.
func TestParseChoices(t *testing.T) {
	for _, tt := range []struct {
		name  string
		parse func(string) (string, error)
		good  []string
		want  string
	}{
		{"steal", wrap(ParseSteal), []string{"obsolete-first", "policy"}, `--steal "lru": want one of [obsolete-first policy]`},
		{"initial", wrap(ParseInitial), []string{"image", "zero"}, `--initial "lru": want one of [image zero]`},
		{"cow", wrap(ParseCow), []string{"copy", "remap"}, `--cow "lru": want one of [copy remap]`},
		{"replace", wrap(frames.ParsePolicyName), []string{"clock", "lru", "fifo", "opt", "random"}, `"lfu": want one of [clock lru fifo opt random]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, g := range tt.good {
				if v, err := tt.parse(g); err != nil || v != g {
					t.Errorf("parse(%q) = %q, %v", g, v, err)
				}
			}
			bad := "lru"
			if tt.name == "replace" {
				bad = "lfu"
			}
			if _, err := tt.parse(bad); err == nil || err.Error() != tt.want {
				t.Errorf("parse(%q) = %v, want %s", bad, err, tt.want)
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

// params returns the settings of info with set applied.
func params(t *testing.T, info scheme.Info, set map[string]string) scheme.Params {
	t.Helper()
	p, err := info.Resolve(set)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPagingParams: none and dualmap check their paging settings, each problem named by
// its flag, in CheckParams and in New alike.
func TestPagingParams(t *testing.T) {
	m := scheme.Machine{PageSize: 4096}
	for _, tt := range []struct {
		name     string
		info     scheme.Info
		set      map[string]string
		volatile bool
		want     []string // nil: accepted
	}{
		{"defaults of none", NoneInfo(), nil, false, nil},
		{"defaults of dualmap", DualMapInfo(), nil, false, nil},
		{"everything for dualmap", DualMapInfo(), map[string]string{"frames": "8", "replace": "lru", "steal": "policy", "initial": "zero", "vbits": "3", "cow": "remap", "pte-bytes": "8"}, true, nil},
		{"negative frames", NoneInfo(), map[string]string{"frames": "-4"}, false, []string{"--frames -4: want 0 (unlimited) or 1 to 67108864"}},
		{"frames not a number", NoneInfo(), map[string]string{"frames": "many"}, false, []string{`--frames "many": want a whole number`}},
		{"one frame for dualmap", DualMapInfo(), map[string]string{"frames": "1"}, false, []string{"--frames 1: dualmap needs at least 2 frames"}},
		{"one frame for none", NoneInfo(), map[string]string{"frames": "1"}, false, nil},
		{"bad policy", NoneInfo(), map[string]string{"replace": "lfu"}, false, []string{`--replace "lfu": want one of [clock lru fifo opt random]`}},
		{"vbits 0", DualMapInfo(), map[string]string{"vbits": "0"}, false, []string{"--vbits 0: want 1 to 31"}},
		{"pte-bytes without volatile memory", DualMapInfo(), map[string]string{"pte-bytes": "8"}, false,
			[]string{"--pte-bytes 8: scheme dualmap writes page-table pages only at the checkpoints of volatile memory"}},
		{"pte-bytes above the page", DualMapInfo(), map[string]string{"pte-bytes": "8192"}, true, []string{"--pte-bytes 8192: want a power of two no larger than the page size"}},
		{"three problems", DualMapInfo(), map[string]string{"steal": "x", "initial": "y", "cow": "z"}, false,
			[]string{`--steal "x": want one of`, `--initial "y": want one of`, `--cow "z": want one of`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := m
			m.Volatile = tt.volatile
			p := params(t, tt.info, tt.set)
			check := tt.info.CheckParams(m, p)
			_, err := tt.info.New(m, p)
			if tt.want == nil {
				if check != nil || err != nil {
					t.Fatalf("CheckParams = %v, New = %v", check, err)
				}
				return
			}
			for _, e := range []error{check, err} {
				if e == nil {
					t.Fatal("accepted")
				}
				parts := strings.Split(e.Error(), "; ")
				if len(parts) != len(tt.want) {
					t.Fatalf("%q: want %d problems", e, len(tt.want))
				}
				for i, w := range tt.want {
					if !strings.HasPrefix(parts[i], w) {
						t.Errorf("problem %d: %q, want %q", i, parts[i], w)
					}
				}
			}
		})
	}
}

// oracle is a scheme.Oracle that counts its calls.
type oracle struct {
	calls int
	err   error
}

func (o *oracle) NextUse() (func() int64, error) {
	o.calls++
	return func() int64 { return -1 }, o.err
}

// TestOptAsksTheOracle: --replace opt with finite frames asks the driver's next-use times
// once, through Machine.Oracle, and only then; without an oracle, or when it fails, New
// says so.
func TestOptAsksTheOracle(t *testing.T) {
	for _, info := range []scheme.Info{NoneInfo(), DualMapInfo()} {
		for _, tt := range []struct {
			name  string
			set   map[string]string
			calls int
		}{
			{"opt", map[string]string{"frames": "4", "replace": "opt"}, 1},
			{"opt, unlimited frames", map[string]string{"replace": "opt"}, 0},
			{"lru", map[string]string{"frames": "4", "replace": "lru"}, 0},
		} {
			t.Run(info.Name+" "+tt.name, func(t *testing.T) {
				o := &oracle{}
				m := scheme.Machine{PageSize: 4096, Oracle: o}
				if _, err := info.New(m, params(t, info, tt.set)); err != nil || o.calls != tt.calls {
					t.Errorf("New: %v, %d calls of NextUse, want %d", err, o.calls, tt.calls)
				}
			})
		}
		opt := params(t, info, map[string]string{"frames": "4", "replace": "opt"})
		if _, err := info.New(scheme.Machine{PageSize: 4096}, opt); err == nil || !strings.Contains(err.Error(), "Oracle") {
			t.Errorf("%s: opt without an oracle: %v", info.Name, err)
		}
		failed := errors.New("the trace changed")
		if _, err := info.New(scheme.Machine{PageSize: 4096, Oracle: &oracle{err: failed}}, opt); !errors.Is(err, failed) {
			t.Errorf("%s: a failed oracle: %v", info.Name, err)
		}
	}
}
