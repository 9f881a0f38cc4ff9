package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oneErrorLine fails unless stderr is exactly one line, "vmsim: " and a message, ending in
// a newline.
func oneErrorLine(t *testing.T, stderr string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "vmsim: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q: want one line \"vmsim: ...\\n\"", stderr)
	}
}

// TestUsageErrorsOfConfiguration: settings a scheme does not model, an MTBF below one
// access and a bad page size are refused before the run, each with one line naming it.
func TestUsageErrorsOfConfiguration(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n3000 W\n"))
	for _, tt := range []struct {
		name string
		args []string
		want string
		not  string // a message that must not appear ("" for none)
	}{
		{"frames for remus", []string{"--scheme", "remus", "--frames", "16", "--json"}, "--frames 16: scheme remus models no paging", ""},
		{"opt for remus", []string{"--scheme", "remus", "--replace", "opt"}, "--replace opt: scheme remus models no paging", "changed"},
		{"opt for incremental", []string{"--scheme", "incremental", "--replace", "opt"}, "--replace opt: scheme incremental models no paging", "changed"},
		{"opt for snaplog", []string{"--scheme", "snaplog", "--replace", "opt"}, "--replace opt: scheme snaplog models no paging", "changed"},
		{"initial for bitmap", []string{"--scheme", "bitmap", "--initial", "zero"}, "--initial zero: scheme bitmap models no paging", ""},
		{"vbits for none", []string{"--scheme", "none", "--vbits", "4"}, "--vbits 4: scheme none keeps no virtual checkpoints", ""},
		{"granule for dualmap", []string{"--granule", "8192"}, "--granule 8192: scheme dualmap does not track memory in granules", ""},
		{"page size 1", []string{"--page-size", "1"}, "--page-size 1: want a power of two", "--pte-bytes"},
		{"mtbf 0.001", []string{"--mtbf", "0.001"}, "--mtbf 0.001: want 0 (no random failures) or a mean of at least 1", ""},
		{"mtbf 1e-300", []string{"--mtbf", "1e-300"}, "--mtbf 1e-300", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append(append([]string{"run"}, tt.args...), trace)...)
			if code != exitBad || stdout != "" || !strings.Contains(stderr, tt.want) || tt.not != "" && strings.Contains(stderr, tt.not) {
				t.Fatalf("exit %d, stdout %q, stderr %q: want exit 2, nothing on stdout and %q", code, stdout, stderr, tt.want)
			}
			oneErrorLine(t, stderr)
		})
	}
	// A flag repeating its default is not given.
	if code, _, stderr := runCLI("run", "--scheme", "remus", "--frames", "0", "--replace", "clock", "--interval", "2", trace); code != 0 {
		t.Errorf("defaults given to remus: exit %d: %s", code, stderr)
	}
}

// TestSweepRefusesSettingsOfOtherSchemes: a sweep giving a paging setting to a scheme that
// does not page stops before running any point, naming the point, and writes nothing.
func TestSweepRefusesSettingsOfOtherSchemes(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n3000 W\n"))
	out := filepath.Join(t.TempDir(), "out.csv")
	code, stdout, stderr := runCLI("sweep", "--trace", trace, "--set", "scheme=dualmap,remus", "--base", "frames=16", "--csv", out)
	if code != exitBad || stdout != "" || !strings.Contains(stderr, "point frames=16 scheme=remus: --frames 16: scheme remus models no paging") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	oneErrorLine(t, stderr)
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused sweep left %s: %v", out, err)
	}
}

// TestFailureWarningAtStart: the warning about replays comes before the run, so that it
// shows even when the run never ends (or, here, stops at a bad line).
func TestFailureWarningAtStart(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n3000 W\nbogus\n"))
	code, _, stderr := runCLI("run", "--fail-at", "2", trace)
	lines := strings.Split(stderr, "\n")
	if code != exitBad || len(lines) != 3 || !strings.HasPrefix(lines[0], "vmsim: warning: ") ||
		!strings.Contains(lines[0], "every recovery replays the trace from its start") || !strings.Contains(lines[1], ":4:") || lines[2] != "" {
		t.Fatalf("exit %d, stderr %q: want the warning, then the error at line 4", code, stderr)
	}
}

// TestPrintError: every line of an error is a line of its own, prefixed, printed once.
func TestPrintError(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"one", errors.New("bad"), "vmsim: bad\n"},
		{"joined", errors.Join(errors.New("a"), errors.New("b")), "vmsim: a\nvmsim: b\n"},
		{"trailing newline", errors.New("c\n"), "vmsim: c\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			printError(&b, tt.err)
			if b.String() != tt.want {
				t.Errorf("%q, want %q", b.String(), tt.want)
			}
		})
	}
}
