package vgrecord

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// recordProcAttr puts valgrind in a process group of its own and has the kernel kill it
// if vmsim dies first, however it dies (even SIGKILL). The processes valgrind starts do
// not inherit that; the recording's guard kills their group (see startGuard).
func recordProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// growPipe asks the kernel for a pipe buffer of size bytes (F_SETPIPE_SZ), so that
// valgrind can write ahead while vmsim waits to read in large pieces. It is a hint: an
// error (a limit in /proc/sys/fs/pipe-max-size) leaves the pipe as it was.
func growPipe(f *os.File, size int) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		const fSetPipeSz = 1031 // F_SETPIPE_SZ
		syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(size))
	})
}

// groupAlive reports whether a process of process group pgid is alive: running,
// sleeping or stopped, not a zombie waiting for its parent (or for an init that does
// not reap) to collect it.
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// "pid (comm) state ppid pgrp ...": comm may hold anything, up to its last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 3 {
			continue
		}
		if pg, err := strconv.Atoi(string(f[2])); err == nil && pg == pgid && f[0][0] != 'Z' && f[0][0] != 'X' {
			return true
		}
	}
	return false
}
