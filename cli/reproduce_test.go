package cli

import (
	"io"
	"slices"
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
