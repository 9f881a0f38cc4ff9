//go:build !linux

package vgrecord

import (
	"os"
	"syscall"
)

// recordProcAttr puts valgrind in a process group of its own.
func recordProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// growPipe does nothing here: only Linux resizes pipes.
func growPipe(*os.File, int) {}

// groupAlive reports whether process group pgid has a process (zombies included).
func groupAlive(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }
