package vgrecord

import (
	"os"
	"os/signal"
	"syscall"
)

// inheritable are the asynchronous signals a process may start with ignored: nohup
// ignores SIGHUP; a non-interactive shell starts a background job with SIGINT and SIGQUIT
// ignored; a parent may ignore SIGPIPE or SIGCHLD.
var inheritable = []syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGPIPE, syscall.SIGALRM,
	syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGCHLD, syscall.SIGTSTP,
	syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGURG, syscall.SIGXCPU, syscall.SIGXFSZ,
	syscall.SIGVTALRM, syscall.SIGPROF, syscall.SIGWINCH, syscall.SIGIO,
}

// defaultSignals catches (and drops), until the function it returns is called, the
// signals of inheritable that this process ignores, so that a process started meanwhile
// starts with every signal's default action: at exec Go's runtime resets the signals it
// catches to their default and leaves the ignored ones ignored. Valgrind and the traced
// program then start the same whatever started vmsim, and a program that looks at its
// signals at start runs, and records, the same: xz installs its handlers only for the
// signals not ignored, and its recording under nohup had 93 accesses fewer.
func defaultSignals() (restore func()) {
	var ignored []os.Signal
	for _, s := range inheritable {
		if signal.Ignored(s) {
			ignored = append(ignored, s)
		}
	}
	if len(ignored) == 0 {
		return func() {}
	}
	sink := make(chan os.Signal, 1)
	signal.Notify(sink, ignored...)
	return func() { signal.Stop(sink) }
}
