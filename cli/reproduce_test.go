package cli

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestReproduceArgs: the command a README records leaves out --jobs and --resume, which do
// not change the results, so that a resumed run writes the same README as a whole one.
func TestReproduceArgs(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"none", nil, nil},
		{"jobs and resume only", []string{"--jobs", "2", "--resume"}, nil},
		{"dir and corpus kept", []string{"--resume", "--dir", "x", "--corpus", "--jobs", "1"}, []string{"--dir=x", "--corpus"}},
		{"a trace", []string{"--resume", "t.vmt"}, []string{"t.vmt"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newReproduceCmd(io.Discard)
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			got := reproduceArgs(cmd)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("reproduceArgs(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// TestLongProgressNotTerminal: the long study, its output not a terminal, prints one line
// a finished point with the time left, not nothing.
func TestLongProgressNotTerminal(t *testing.T) {
	var b bytes.Buffer
	p := longProgress(&b)
	if p == nil {
		t.Fatal("no progress for a writer that is not a terminal")
	}
	for i := 1; i <= 3; i++ {
		p(i, 3)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), b.String())
	}
	for i, l := range lines {
		want := fmt.Sprintf("reproduce --long: point %d/3 done; ", i+1)
		if !strings.HasPrefix(l, want) || !strings.Contains(l, "elapsed, about") || strings.Contains(l, "\r") {
			t.Errorf("line %d = %q, want it to start %q and give the time left", i+1, l, want)
		}
	}
}
