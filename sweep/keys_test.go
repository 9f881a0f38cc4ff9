package sweep

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSettingKeyErrors: an unknown or ill-typed setting is refused with the closest key
// or the list of keys, and the type the key takes; never a Go decoder's message.
func TestSettingKeyErrors(t *testing.T) {
	tr := []string{"corpus:sort"}
	for _, c := range []struct {
		name string
		spec Spec
		want []string
	}{
		{"misspelt base key", Spec{Traces: tr, Base: map[string]any{"intervall": 5}}, []string{`base: no setting "intervall": did you mean "interval"?`}},
		{"misspelt vary key", Spec{Traces: tr, Vary: map[string][]any{"cache_sise": {1}}}, []string{`vary: no setting "cache_sise": did you mean "cache_size"?`}},
		{"far key", Spec{Traces: tr, Base: map[string]any{"zzzzzzzz": 5}}, []string{`no setting "zzzzzzzz"; the settings are: format, scheme, page_size`, "copy_rate"}},
		{"number for a list", Spec{Traces: tr, Base: map[string]any{"fail_at": 5}}, []string{"base fail_at: want a list of integers (as [5]), not 5"}},
		{"string for an integer", Spec{Traces: tr, Base: map[string]any{"interval": "often"}}, []string{`base interval: want an integer, not the string "often"`}},
		{"string for a boolean", Spec{Traces: tr, Vary: map[string][]any{"verify": {"yes"}}}, []string{`vary verify: want true or false, not the string "yes"`}},
		{"named as the program gave them", Spec{Traces: tr, Base: map[string]any{"interval": 5}, Vary: map[string][]any{"verify": {true, "yes"}}, BaseName: "--base", VaryName: "--set"},
			[]string{`--set verify: want true or false, not the string "yes"`}},
		{"a base value named as given", Spec{Traces: tr, Base: map[string]any{"interval": "x"}, BaseName: "--base", VaryName: "--set"},
			[]string{`--base interval: want an integer`}},
		{"a value twice", Spec{Traces: tr, Vary: map[string][]any{"interval": {1000, 2000, 1000}}}, []string{"vary interval: 1000 and 1000 are one value: give it once"}},
		{"a value in two spellings", Spec{Traces: tr, Vary: map[string][]any{"interval": {1000, 1e3}}}, []string{"vary interval: 1000 and 1000 are one value"}},
		{"two spellings", Spec{Traces: tr, Base: map[string]any{"cache_size": 64, "cache-size": 64}}, []string{`setting "cache_size" is given twice`}},
		{"misspelt cost", Spec{Traces: tr, Costs: map[string]any{"trap_nss": 1}}, []string{`costs: no cost "trap_nss": did you mean "trap_ns"?`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := c.spec.Points()
			if err == nil {
				t.Fatalf("Points: no error; want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Points: %v; want an error with %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "json:") || strings.Contains(err.Error(), "Go struct") {
				t.Errorf("Points: %v: a Go decoder's message", err)
			}
		})
	}
}

// TestOldSpellings: a key spelt with hyphens (cache-size, copy-rate) is the key with
// underscores, with a deprecation note; the points are the same, IDs and all.
func TestOldSpellings(t *testing.T) {
	tr := []string{"corpus:sort"}
	for _, c := range []struct {
		name     string
		old, now map[string]any
		note     string
	}{
		{"config key", map[string]any{"cache-size": "4K", "page-size": 4096}, map[string]any{"cache_size": "4K", "page_size": 4096}, `setting "cache-size" is spelled "cache_size" now`},
		{"scheme setting", map[string]any{"scheme": "bitmap2", "copy-rate": 3}, map[string]any{"scheme": "bitmap2", "copy_rate": 3}, `setting "copy-rate" is spelled "copy_rate" now`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var notes []string
			old := Spec{Traces: tr, Base: c.old, Deprecated: func(n string) { notes = append(notes, n) }}
			po, _, err := old.Points()
			if err != nil {
				t.Fatal(err)
			}
			now := Spec{Traces: tr, Base: c.now, Deprecated: func(n string) { t.Errorf("a note for the one spelling: %s", n) }}
			pn, _, err := now.Points()
			if err != nil {
				t.Fatal(err)
			}
			if len(po) != 1 || len(pn) != 1 || po[0].ID != pn[0].ID {
				t.Errorf("points of the old spelling %+v, of the new %+v: want the same", po, pn)
			}
			if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, c.note) }) {
				t.Errorf("notes %q; want one with %q", notes, c.note)
			}
		})
	}
	// In vary too, and in a spec file, whose check of keys takes the old spelling.
	path := filepath.Join(t.TempDir(), "e.yaml")
	if err := os.WriteFile(path, []byte("traces: [corpus:sort]\nvary: {cache-size: [0, 4096]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	s.Deprecated = func(n string) { notes = append(notes, n) }
	ps, _, err := s.Points()
	if err != nil || len(ps) != 2 || ps[1].Config.CacheSize != 4096 || len(notes) != 1 {
		t.Errorf("vary cache-size: points %d, err %v, notes %q; want 2 points, the second with a 4096-byte cache, one note", len(ps), err, notes)
	}
}

// TestSpecFileMisspelt: a misspelt key of a spec file is refused at its line, with the
// closest key.
func TestSpecFileMisspelt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.yaml")
	if err := os.WriteFile(path, []byte("traces: [corpus:sort]\nbase:\n  intervall: 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadSpec(path)
	if want := path + `:3: base: no setting "intervall": did you mean "interval"?`; err == nil || err.Error() != want {
		t.Errorf("ReadSpec: %v; want %s", err, want)
	}
	// An ill-typed value, at its line, in base and in vary.
	for _, c := range []struct{ yaml, want string }{
		{"traces: [corpus:sort]\nbase:\n  fail_at: 5\n", ":3: base fail_at: want a list of integers (as [5]), not 5"},
		{"traces: [corpus:sort]\nvary:\n  interval:\n    - 1000\n    - often\n", `:5: vary interval: want an integer, not the string "often"`},
		{"traces: [corpus:sort]\nbase: {verify: yes please}\n", `:2: base verify: want true or false, not the string "yes please"`},
	} {
		if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSpec(path); err == nil || err.Error() != path+c.want {
			t.Errorf("ReadSpec of %q: %v; want %s", c.yaml, err, path+c.want)
		}
	}
}
