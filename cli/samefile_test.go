package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputsNotInputs: an output that is the input, or another output, is refused before
// anything is written, and the input is left as it was.
func TestOutputsNotInputs(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.rw")
	data := []byte("1000 R\n1004 W\n2000 R\n")
	if err := os.WriteFile(trace, data, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.rw")
	if err := os.Symlink(trace, link); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"run -o the trace", []string{"run", trace, "-o", trace}, "-o " + trace + ": the same file as the input"},
		{"run -o a link to the trace", []string{"run", trace, "-o", link}, "the same file as the input"},
		{"stats over the trace", []string{"run", trace, "--stats-every", "1", "--stats-out", trace}, "--stats-out " + trace + ": the same file as the input"},
		{"stats and output one file", []string{"run", trace, "--stats-every", "1", "--stats-out", out, "-o", out}, "-o and --stats-out name the same file"},
		{"convert in place", []string{"trace", "convert", "--to", "rw", "--lossy", trace, link}, "the output " + link + ": the same file as the input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, %q; want 2 and %q", code, stderr, tc.want)
			}
			if b, _ := os.ReadFile(trace); string(b) != string(data) {
				t.Fatalf("the trace changed: %q", b)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s written despite the refusal", out)
			}
		})
	}
	// A device takes both: --stats-out - and -o /dev/null.
	if code, _, stderr := runCLI("run", trace, "--stats-every", "1", "--stats-out", "/dev/null", "-o", "/dev/null"); code != 0 {
		t.Errorf("/dev/null for both outputs: exit %d, %s", code, stderr)
	}
}

// TestEmptyValuesRefused: an empty value given (a script's unset variable) is not taken
// as the default, where the default starts long work.
func TestEmptyValuesRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"reproduce --study", []string{"reproduce", "--dir", dir, "--study", ""}, `--study "": want all, paper`},
		{"calibrate --probe", []string{"calibrate", "--probe", "", filepath.Join(dir, "c.json")}, `--probe "": want one or more of`},
		{"reproduce --calibration missing", []string{"reproduce", "--dir", dir, "--study", "validation", "--calibration", filepath.Join(dir, "none.json")}, "--calibration: stat "},
		{"reproduce --drmemtrace a file", []string{"reproduce", "--dir", dir, "--study", "multicore", "--drmemtrace", "/dev/null"}, "--drmemtrace /dev/null: not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files written despite the refusals: %v", ents)
	}
}
