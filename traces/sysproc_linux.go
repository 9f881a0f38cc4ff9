package traces

import (
	"os"
	"syscall"
)

// recordProcAttr puts valgrind in a process group of its own and has the kernel kill it
// if vmsim dies first, however it dies (even SIGKILL), so that no traced program goes on
// running and writing to the terminal after vmsim.
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
