package vgrecord

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVMTraceMatchesLackey runs gzip under vmtrace and under lackey, both with system
// calls traced and in the same environment, and compares their lines: the same events
// in the same order at the same instruction addresses, the system-call lines in the same
// places; process ids and data addresses (see below) are left out of the comparison.
func TestVMTraceMatchesLackey(t *testing.T) {
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		t.Skip("valgrind not installed")
	}
	gzip, err := exec.LookPath("gzip")
	if err != nil {
		t.Skip("gzip not installed")
	}
	dir, err := BuildVMTrace("")
	if err != nil {
		t.Skipf("vmtrace cannot be built here: %v", err)
	}
	work := t.TempDir()
	in := filepath.Join(work, "in.txt")
	if err := os.WriteFile(in, bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 300), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(tool ...string) []byte {
		t.Helper()
		log := filepath.Join(work, "log")
		f, err := os.Create(log)
		if err != nil {
			t.Fatal(err)
		}
		args := append(append([]string{}, tool...), "--trace-syscalls=yes", "--log-fd=3", gzip, "-1", "-c", in)
		cmd := exec.Command(valgrind, args...)
		cmd.ExtraFiles = []*os.File{f}
		if tool[0] == "--tool=vmtrace" {
			cmd.ExtraFiles = append(cmd.ExtraFiles, f) // fd 4, which vmtrace moves out of the program's way
		}
		cmd.Env = append(os.Environ(), "VALGRIND_LIB="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("valgrind %v: %v\n%.2000s", tool, err, out)
		}
		f.Close()
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		// Valgrind's own lines differ (the tool's banner, lackey's counts); process ids in
		// the system-call lines do too.
		b = regexp.MustCompile(`(?m)^==\d+==.*\n`).ReplaceAll(b, nil)
		b = regexp.MustCompile(`SYSCALL\[\d+,`).ReplaceAll(b, []byte("SYSCALL[PID,"))
		b = regexp.MustCompile(`(sys_set_tid_address|sys_getpid) (.*)Success\(0x[0-9a-f]+\)`).ReplaceAll(b, []byte("$1 ${2}Success(PID)"))
		// A few loads index tables by the random bytes the kernel gives every process
		// (AT_RANDOM), so data addresses differ from run to run even under one tool.
		return regexp.MustCompile(`(?m)^ ([LSM]) [0-9a-f]+,`).ReplaceAll(b, []byte(" $1 ADDR,"))
	}
	lackey := run("--tool=lackey", "--trace-mem=yes")
	vmtrace := run("--tool=vmtrace", "--vmtrace-fd=4")
	if len(lackey) < 100000 || !bytes.Contains(lackey, []byte("SYSCALL[")) {
		t.Fatalf("lackey's output is too short or has no system calls (%d bytes)", len(lackey))
	}
	if !bytes.Equal(lackey, vmtrace) {
		la, va := bytes.Split(lackey, []byte("\n")), bytes.Split(vmtrace, []byte("\n"))
		for i := range min(len(la), len(va)) {
			if !bytes.Equal(la[i], va[i]) {
				t.Fatalf("line %d: lackey %q, vmtrace %q (%d and %d lines)", i+1, la[i], va[i], len(la), len(va))
			}
		}
		t.Fatalf("lackey has %d lines, vmtrace %d", len(la), len(va))
	}
}

// TestElf32 checks the test that sends 32-bit programs to lackey.
func TestElf32(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		head []byte
		want bool
	}{
		{"elf32", []byte("\x7fELF\x01\x01\x01"), true},
		{"elf64", []byte("\x7fELF\x02\x01\x01"), false},
		{"script", []byte("#!/bin/sh\n"), false},
		{"short", []byte("\x7fE"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, tt.head, 0o755); err != nil {
				t.Fatal(err)
			}
			if got := elf32(p); got != tt.want {
				t.Errorf("elf32 = %v, want %v", got, tt.want)
			}
		})
	}
	if elf32(filepath.Join(dir, "missing")) {
		t.Error("a missing program is 32-bit")
	}
}

// TestVMTraceFolderPrivate: vmtrace is built in, and run from, a folder no one else can
// write to; a cache folder others can write to is refused before anything is reused.
func TestVMTraceFolderPrivate(t *testing.T) {
	if _, err := exec.LookPath("valgrind"); err != nil {
		t.Skip("valgrind not installed")
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	root := filepath.Join(cache, "vmsim", "vgtool")
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := BuildVMTrace("")
	if err == nil {
		t.Fatal("BuildVMTrace used a build folder anyone can write to")
	}
	if !strings.Contains(err.Error(), "vmtrace's build folder") {
		// It stopped earlier, for want of valgrind's headers or a compiler.
		t.Skipf("vmtrace cannot be built here: %v", err)
	}
	if !strings.Contains(err.Error(), "others can write to it") {
		t.Fatalf("error %q does not say why", err)
	}
}
