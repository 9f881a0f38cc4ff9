package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vmsim/vmsim/sim"
)

// TestMain lets a test run the CLI as a child process (for signals): with
// VMSIM_TEST_MAIN set, the test binary is vmsim, its arguments after "--".
func TestMain(m *testing.M) {
	if os.Getenv("VMSIM_TEST_MAIN") != "" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"vmsim"}, os.Args[i+1:]...)
				break
			}
		}
		Execute(nil)
	}
	os.Exit(m.Run())
}

// bigRW writes an rw trace of n accesses over a few thousand pages.
func bigRW(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.rw")
	f, _ := os.Create(path)
	w := bufio.NewWriter(f)
	x := uint64(1)
	for i := range n {
		x = x*6364136223846793005 + 1442695040888963407
		kind := "R"
		if i%3 == 0 {
			kind = "W"
		}
		fmt.Fprintf(w, "%x %s\n", (x>>40)&^7, kind)
	}
	w.Flush()
	f.Close()
	return path
}

// pipeOf returns a path reading path's bytes through a pipe.
func pipeOf(t *testing.T, path string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		data, _ := os.ReadFile(path)
		w.Write(data)
		w.Close()
	}()
	return fmt.Sprintf("/proc/self/fd/%d", r.Fd())
}

func runStats(t *testing.T, args ...string) sim.Stats {
	t.Helper()
	code, out, errOut := runCLI(append([]string{"run", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	var res struct{ Stats sim.Stats }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	return res.Stats
}

// TestPipeCountsMatchFile: a replay reaching back past the replay buffer, and opt's
// pre-pass, reopen the trace; through a pipe they must count what the file gives.
func TestPipeCountsMatchFile(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	path := bigRW(t, 1_200_000)
	tests := []struct {
		name string
		args []string
	}{
		{"replay past the buffer", []string{"--format", "rw", "--fail-at", "1150000"}},
		{"opt pre-pass", []string{"--format", "rw", "--frames", "64", "--replace", "opt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := runStats(t, append(tt.args, path)...)
			got := runStats(t, append(tt.args, pipeOf(t, path))...)
			if got != want || got.Refs != 1_200_000 {
				t.Errorf("through a pipe %+v\nfrom the file %+v", got, want)
			}
		})
	}
}

// fullWriter fails every write as a full disk does.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

func TestWriteErrorsExit2(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n"))
	tests := [][]string{
		{"run", "--json", trace},
		{"run", trace},
		{"trace", "stats", trace},
		{"trace", "stats", "--json", trace},
		{"trace", "head", trace},
	}
	for _, args := range tests {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			var errb strings.Builder
			if code := Main(args, nil, fullWriter{}, &errb); code != exitBad || !strings.Contains(errb.String(), "no space left") {
				t.Errorf("exit %d: %q", code, errb.String())
			}
		})
	}
}

func TestBadInputsExit2(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n"))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"mtbf NaN", []string{"run", "--mtbf", "NaN", trace}, "--mtbf"},
		{"mtbf Inf", []string{"run", "--mtbf", "+Inf", trace}, "--mtbf"},
		{"negative max pages", []string{"run", "--max-pages", "-1", trace}, "--max-pages"},
		{"stats page size 1", []string{"trace", "stats", "--page-size", "1", trace}, "--page-size"},
		{"stats page size 2^40", []string{"trace", "stats", "--page-size", "1099511627776", trace}, "--page-size"},
		{"stats max pages", []string{"trace", "stats", "--max-pages", "1", trace}, "--max-pages 1"},
		{"head negative", []string{"trace", "head", "-n", "-1", trace}, "-1 is negative"},
		{"sweep trace setting", []string{"sweep", "--trace", trace, "--set", "trace=x", "--csv", filepath.Join(t.TempDir(), "o.csv")}, "trace is not a setting"},
		{"sweep fifo trace", []string{"sweep", "--trace", "/dev/zero", "--csv", filepath.Join(t.TempDir(), "o.csv")}, "not a regular file"},
		{"run directory", []string{"run", t.TempDir()}, "directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(tt.args...)
			if code != exitBad || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d: %q, want %q", code, errOut, tt.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n3000 W\n"))
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"interval longer than the trace", []string{"run", "--interval", "1000", trace}, "no checkpoint was taken"},
		{"failures without checkpoints", []string{"run", "--fail-at", "2", trace}, "every recovery replays the trace from its start"},
		{"convert name against --to", []string{"trace", "convert", "--to", "rw", trace, filepath.Join(dir, "x.vmt")}, "ends in .vmt but --to is rw"},
		{"convert name against --compress", []string{"trace", "convert", "--to", "rw", trace, filepath.Join(dir, "x.rw.gz")}, "--compress is none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(tt.args...)
			if code != 0 || !strings.Contains(errOut, "warning: ") || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d: %q, want a warning %q", code, errOut, tt.want)
			}
		})
	}
	if _, _, errOut := runCLI("run", "--interval", "1", trace); strings.Contains(errOut, "warning") {
		t.Errorf("a plain run warned: %q", errOut)
	}
}

// TestConvertNeverReplacesSpecialFiles: a device or fifo is written in place, a symbolic
// link followed.
func TestConvertNeverReplacesSpecialFiles(t *testing.T) {
	trace := writeFile(t, "t.rw", []byte("1000 R\n2000 W\n"))
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip(err)
	}
	got := make(chan []byte)
	go func() { b, _ := os.ReadFile(fifo); got <- b }()
	if code, _, errOut := runCLI("trace", "convert", "--to", "rw", trace, fifo); code != 0 {
		t.Fatalf("to a fifo: exit %d: %s", code, errOut)
	}
	if b := <-got; string(b) != "00001000 R\n00002000 W\n" {
		t.Errorf("the fifo carried %q", b)
	}
	if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Error("the fifo was replaced")
	}
	if code, _, errOut := runCLI("trace", "convert", "--to", "rw", trace, os.DevNull); code != 0 {
		t.Fatalf("to %s: exit %d: %s", os.DevNull, code, errOut)
	}
	if fi, _ := os.Stat(os.DevNull); fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is no longer a device", os.DevNull)
	}
	real, link := filepath.Join(dir, "real.rw"), filepath.Join(dir, "link.rw")
	os.WriteFile(real, []byte("old"), 0o644)
	os.Symlink("real.rw", link)
	if code, _, errOut := runCLI("trace", "convert", "--to", "rw", trace, link); code != 0 {
		t.Fatalf("to a link: exit %d: %s", code, errOut)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
	if b, _ := os.ReadFile(real); string(b) != "00001000 R\n00002000 W\n" {
		t.Errorf("the link's target holds %q", b)
	}
	if code, _, _ := runCLI("trace", "convert", "--to", "rw", trace, dir); code != exitBad {
		t.Error("converting onto a directory did not fail")
	}
}

func TestSweepOutputs(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.rw")
	os.WriteFile(trace, []byte("1000 R\n2000 W\n3000 W\n"), 0o644)
	sweep := func(out string, extra ...string) (int, string) {
		code, _, errOut := runCLI(append([]string{"sweep", "--trace", trace, "--set", "interval=1,2", "--jsonl", out}, extra...)...)
		return code, errOut
	}
	t.Run("foreign file refused untouched", func(t *testing.T) {
		for _, content := range []string{"my notes\nand more", "{\"id\":\"x\"}\n", "a,b\n1,2"} {
			out := filepath.Join(dir, "notes.jsonl")
			os.WriteFile(out, []byte(content), 0o644)
			if code, errOut := sweep(out); code != exitBad || !strings.Contains(errOut, "refusing") {
				t.Errorf("exit %d: %s", code, errOut)
			}
			if b, _ := os.ReadFile(out); string(b) != content {
				t.Errorf("the file was changed to %q", b)
			}
		}
	})
	t.Run("locked file refused", func(t *testing.T) {
		out := filepath.Join(dir, "locked.jsonl")
		f, _ := os.Create(out)
		defer f.Close()
		syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if code, errOut := sweep(out); code != exitBad || !strings.Contains(errOut, "another vmsim sweep") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
	t.Run("replaced trace runs again", func(t *testing.T) {
		out := filepath.Join(dir, "r.jsonl")
		if code, errOut := sweep(out); code != 0 || !strings.Contains(errOut, "2 run now") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if _, errOut := sweep(out); !strings.Contains(errOut, "0 run now") {
			t.Fatalf("rerun: %s", errOut)
		}
		os.WriteFile(trace, []byte("1000 W\n2000 W\n3000 W\n4000 W\n"), 0o644)
		if code, errOut := sweep(out); code != 0 || !strings.Contains(errOut, "2 run now") {
			t.Errorf("after the trace changed: exit %d: %s", code, errOut)
		}
	})
	t.Run("failing point keeps the others", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.rw")
		os.WriteFile(bad, []byte("1000 R\nnot a record\n"), 0o644)
		out := filepath.Join(dir, "f.jsonl")
		code, errOut := sweep(out, "--trace", bad)
		if code != exitBad || !strings.Contains(errOut, "2 of 4 points failed") {
			t.Errorf("exit %d: %s", code, errOut)
		}
		if b, _ := os.ReadFile(out); strings.Count(string(b), "\n") != 2 {
			t.Errorf("the finished points were not kept:\n%s", b)
		}
	})
}

// startCLI runs vmsim (this test binary) as a child with args, its stderr to a file.
func startCLI(t *testing.T, dir string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return startCLIEnv(t, dir, nil, args...)
}

// startCLIEnv is startCLI with env added to the child's environment.
func startCLIEnv(t *testing.T, dir string, env []string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(append(os.Environ(), "VMSIM_TEST_MAIN=1"), env...)
	cmd.Dir = dir
	errPath := filepath.Join(t.TempDir(), "stderr")
	ef, _ := os.Create(errPath)
	cmd.Stderr = ef
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); ef.Close() })
	return cmd, errPath
}

// waitSignaled waits for cmd and checks it died of sig.
func waitSignaled(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("ended with %v", err)
		}
		if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
			t.Errorf("status %v, want death by %v", ws, sig)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not end")
	}
}

// onlyFiles checks that dir holds exactly the names given.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

// TestSignals interrupts each long-running command mid-way: no temporary file and no
// partial output may remain, and vmsim dies of the signal.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	tests := []struct {
		name string
		// setup returns the arguments, given a work directory and a fifo that feeds the
		// input and is never closed (so the command is mid-way when signalled).
		args  func(t *testing.T, dir, fifo string) []string
		sig   syscall.Signal
		after func(t *testing.T, dir string)
	}{
		{"convert", func(t *testing.T, dir, fifo string) []string {
			return []string{"trace", "convert", "--format", "rw", "--to", "vmt", fifo, "out.vmt"}
		}, syscall.SIGINT, func(t *testing.T, dir string) { onlyFiles(t, dir, "fifo") }},
		{"run opt", func(t *testing.T, dir, fifo string) []string {
			return []string{"run", "--format", "rw", "--frames", "4", "--replace", "opt", fifo}
		}, syscall.SIGTERM, func(t *testing.T, dir string) { onlyFiles(t, dir, "fifo") }},
		{"sweep", func(t *testing.T, dir, fifo string) []string {
			trace := bigRW(t, 300_000)
			return []string{"sweep", "--trace", trace, "--set", "interval=1,2,3,4,5,6,7,8,9,10,11,12", "--base", "verify=true", "--base", "verify_block=16", "--jobs", "1", "--jsonl", "r.jsonl"}
		}, syscall.SIGTERM, func(t *testing.T, dir string) {
			onlyFiles(t, dir, "fifo", "r.jsonl")
			b, _ := os.ReadFile(filepath.Join(dir, "r.jsonl"))
			if len(b) > 0 && b[len(b)-1] != '\n' {
				t.Errorf("a partial line: %q", b)
			}
		}},
		{"reproduce", func(t *testing.T, dir, fifo string) []string {
			return []string{"reproduce", "--corpus", "--dir", "res", "--jobs", "1"}
		}, syscall.SIGINT, func(t *testing.T, dir string) {
			es, _ := os.ReadDir(filepath.Join(dir, "res"))
			for _, e := range es {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Errorf("temporary %s left", e.Name())
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Skip(err)
			}
			cmd, errPath := startCLI(t, dir, tt.args(t, dir, fifo)...)
			// Feed the fifo a little and keep it open.
			fw, err := os.OpenFile(fifo, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer fw.Close()
			fmt.Fprint(fw, strings.Repeat("1000 W\n2000 R\n", 1000))
			time.Sleep(700 * time.Millisecond)
			cmd.Process.Signal(tt.sig)
			waitSignaled(t, cmd, tt.sig)
			tt.after(t, dir)
			if b, _ := os.ReadFile(errPath); strings.Contains(string(b), "panic") {
				t.Errorf("stderr: %s", b)
			}
		})
	}
}

// TestRecordKilled stops `vmsim record --children` while a traced process (a sleep the
// shell started in the background, not valgrind's own process) runs: SIGTERM, which vmsim
// handles, and SIGKILL, which it cannot. Either way the traced process ends, nothing of
// its trace reaches vmsim's standard error; after SIGTERM nothing is left behind, and
// after SIGKILL the next recording of the same output removes what was (the temporary
// output, the socket folder). The test waits on the program (its pid through a fifo), not
// on time, and looks only at its own processes.
func TestRecordKilled(t *testing.T) {
	needVMTrace(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir, tmp := t.TempDir(), t.TempDir()
			env := []string{"TMPDIR=" + tmp}
			cmd, errPath, pid := tracedChild(t, dir, env)
			st, ok := procStat(fmt.Sprintf("/proc/%d/stat", pid))
			if !ok {
				t.Fatalf("no process %d", pid)
			}
			cmd.Process.Signal(sig)
			waitSignaled(t, cmd, sig)
			waitGone(t, pid, st.startTime)
			if b, _ := os.ReadFile(errPath); regexp.MustCompile(`(?m)^(I  | [LSM] )[0-9a-f]+,`).Match(b) {
				t.Errorf("the trace went to vmsim's standard error:\n%.500s", b)
			}
			if sig == syscall.SIGTERM {
				onlyFiles(t, dir, "pid")
				onlyFiles(t, tmp)
				return
			}
			again, errPath := startCLIEnv(t, dir, env, "record", "-o", "out.vmt", "--", "true")
			if err := again.Wait(); err != nil {
				b, _ := os.ReadFile(errPath)
				t.Fatalf("the next recording: %v\n%s", err, b)
			}
			if b, _ := os.ReadFile(errPath); !strings.Contains(string(b), "left by a recording that was killed") {
				t.Errorf("the next recording did not say what it removed:\n%s", b)
			}
			onlyFiles(t, dir, "out.vmt", "pid")
			onlyFiles(t, tmp)
		})
	}
}
