package traces

import "syscall"

// recordProcAttr puts valgrind in a process group of its own and has the kernel kill it
// if vmsim dies first, however it dies (even SIGKILL), so that no traced program goes on
// running and writing to the terminal after vmsim.
func recordProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
