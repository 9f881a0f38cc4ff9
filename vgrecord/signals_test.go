package vgrecord

import (
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// childIgnored is the mask of the signals a process started now ignores (Linux's
// /proc/PID/status, SigIgn).
func childIgnored(t *testing.T) uint64 {
	t.Helper()
	out, err := exec.Command("grep", "^SigIgn:", "/proc/self/status").Output()
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	f := strings.Fields(string(out))
	m, err := strconv.ParseUint(f[len(f)-1], 16, 64)
	if err != nil {
		t.Fatalf("SigIgn %q: %v", out, err)
	}
	return m
}

// TestDefaultSignals: a signal this process started with ignored (SIGHUP under nohup)
// is ignored by the processes it starts, but not by those started under defaultSignals;
// afterwards it is ignored again. The test runs itself in a process started with SIGHUP
// and SIGINT ignored (the two signals Go leaves ignored when a program starts so).
func TestDefaultSignals(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	bits := uint64(1)<<(syscall.SIGHUP-1) | uint64(1)<<(syscall.SIGINT-1)
	if os.Getenv("VGRECORD_SIGNALS_CHILD") == "" {
		signal.Ignore(syscall.SIGHUP, syscall.SIGINT)
		defer signal.Reset(syscall.SIGHUP, syscall.SIGINT)
		cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultSignals$", "-test.v")
		cmd.Env = append(os.Environ(), "VGRECORD_SIGNALS_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestDefaultSignals") {
			t.Errorf("in a process started with SIGHUP and SIGINT ignored: %v\n%s", err, out)
		}
		return
	}
	if m := childIgnored(t); m&bits != bits {
		t.Fatalf("a child of a process ignoring SIGHUP and SIGINT ignores %#x", m)
	}
	restore := defaultSignals()
	m := childIgnored(t)
	restore()
	if m&bits != 0 {
		t.Errorf("a child started under defaultSignals ignores %#x", m)
	}
	if m := childIgnored(t); m&bits != bits {
		t.Errorf("after restore a child ignores %#x", m)
	}
}
