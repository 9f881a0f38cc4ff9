package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCurrent fails when a generated section of the README or docs/counters.md
// is not what the counters' tags make now.
func TestGeneratedCurrent(t *testing.T) {
	for _, name := range Files {
		t.Run(name, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join("..", "..", name))
			if err != nil {
				t.Fatal(err)
			}
			updated, err := Update(name, old)
			if err != nil {
				t.Fatal(err)
			}
			if string(updated) != string(old) {
				t.Errorf("%s: a generated counter table is not current: run `go generate ./docs`", name)
			}
			if n := strings.Count(string(old), "<!-- generated: "); n == 0 {
				t.Errorf("%s has no generated section", name)
			}
		})
	}
}

// TestUpdate: a section is replaced between its markers and nothing else is touched; a
// marker without its end, or of an unknown section, is an error naming the file and line.
func TestUpdate(t *testing.T) {
	const begin, end = "<!-- generated: tlb-counters (go generate ./docs) -->\n", "<!-- end: tlb-counters -->\n"
	table := sections()["tlb-counters"]
	for _, tt := range []struct {
		name, in, want, err string
	}{
		{"stale", "a\n\n" + begin + "| old |\n" + end + "\nb\n", "a\n\n" + begin + table + end + "\nb\n", ""},
		{"current", begin + table + end, begin + table + end, ""},
		{"none", "text\n", "text\n", ""},
		{"no end", "a\nb\n" + begin + "| old |\n", "", "f.md:3: section \"tlb-counters\" has no line"},
		{"unknown", "a\n" + begin + end + "<!-- generated: nothing (go generate ./docs) -->\n", "", "f.md:4: unknown generated section \"nothing\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Update("f.md", []byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Update: %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("Update = %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}

func TestCode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"of cache_writebacks, the lines (--cache-flush)", "of `cache_writebacks`, the lines (`--cache-flush`)"},
		{"--io hold: outputs", "`--io hold`: outputs"},
		{"per record, --log-header + its size", "per record, `--log-header` + its size"},
		{"a | b", `a \| b`},
		{"plain words", "plain words"},
	} {
		if got := code(tt.in); got != tt.want {
			t.Errorf("code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
