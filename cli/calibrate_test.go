package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/calibrate"
)

func TestCalibrateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, "plain", []byte("x"))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no runs", []string{"--repeat", "0"}, "--repeat 0: want at least 1"},
		{"scratch missing", []string{"--scratch", filepath.Join(dir, "none")}, "--scratch: stat " + filepath.Join(dir, "none")},
		{"scratch a file", []string{"--scratch", file}, "--scratch " + file + ": not a directory"},
		{"unknown probe", []string{"--probe", "copy,tlb"}, `--probe "tlb": want one or more of copy, fault, trap, disk, miss, walk`},
		{"two files", []string{filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")}, "accepts at most 1 arg(s)"},
		{"output directory missing", []string{filepath.Join(dir, "none", "c.json"), "--scratch", dir}, filepath.Join(dir, "none")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(append([]string{"calibrate"}, tc.args...)...)
			if code != exitBad || out != "" || !strings.Contains(errOut, tc.want) || !strings.HasPrefix(errOut, "vmsim: ") {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant exit 2, no output, an error with %q", code, out, errOut, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("left %d files in %s", len(entries), dir)
			}
		})
	}
}

// TestCalibrate measures two cheap probes once, into a file and to standard output: the
// cost file reads back, progress goes to standard error, a line a probe.
func TestCalibrate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the probes")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		if _, err := exec.LookPath("cc"); err != nil {
			t.Skip("no C compiler (gcc or cc) on PATH: vmsim calibrate cannot build its probe")
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "costs.json")
	code, out, errOut := runCLI("calibrate", "--repeat", "1", "--probe", "copy,trap", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", code, out, errOut)
	}
	for _, want := range []string{"calibrate: [1/2] page copy bandwidth, 1 runs: page_copy_bytes_per_sec", "calibrate: [2/2] write-protection trap and mprotect", "calibrate: wrote " + path} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := calibrate.Read(f, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Values) != 3 || c.Repeats != 1 || c.Machine.Date == "" {
		t.Errorf("cost file %+v: want 3 values of one run, dated", c)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the output directory, want the cost file alone", len(entries))
	}

	code, out, errOut = runCLI("calibrate", "--repeat", "1", "--probe", "copy", "--scratch", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c, err = calibrate.Read(strings.NewReader(out), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Value("page_copy_bytes_per_sec"); !ok || len(c.Values) != 1 {
		t.Errorf("stdout's cost file has %+v", c.Values)
	}
}
