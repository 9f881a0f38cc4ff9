//go:build !linux

package traces

import "syscall"

// recordProcAttr puts valgrind in a process group of its own.
func recordProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
