package atomicfile

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// registry holds the temporary files to remove and the hooks to run at a signal.
var registry struct {
	mu sync.Mutex
	// temps are the temporary files that exist now. Invariant: each is removed before it
	// leaves the set, or renamed to its final name.
	temps map[string]struct{}
	hooks map[int]func()
	next  int
}

func register(path string) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.temps == nil {
		registry.temps = map[string]struct{}{}
	}
	registry.temps[path] = struct{}{}
}

func unregister(path string) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	delete(registry.temps, path)
}

// Temps lists the temporary files that exist now (for tests).
func Temps() []string {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	var out []string
	for p := range registry.temps {
		out = append(out, p)
	}
	return out
}

// OnSignal registers fn to run when SIGINT or SIGTERM arrives, before the temporary
// files are removed (say, to kill traced programs). fn must return promptly; it gets
// at most hookTimeout. Call the returned function to unregister fn.
func OnSignal(fn func()) (remove func()) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.hooks == nil {
		registry.hooks = map[int]func(){}
	}
	id := registry.next
	registry.next++
	registry.hooks[id] = fn
	return func() {
		registry.mu.Lock()
		defer registry.mu.Unlock()
		delete(registry.hooks, id)
	}
}

// hookTimeout bounds the time the hooks get at a signal.
const hookTimeout = 5 * time.Second

// Cleanup runs the hooks and removes every registered temporary file.
func Cleanup() {
	registry.mu.Lock()
	hooks := make([]func(), 0, len(registry.hooks))
	for _, h := range registry.hooks {
		hooks = append(hooks, h)
	}
	registry.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for _, h := range hooks {
			wg.Add(1)
			go func() { defer wg.Done(); h() }()
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(hookTimeout):
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for p := range registry.temps {
		os.Remove(p)
		delete(registry.temps, p)
	}
}

var catchOnce sync.Once

// signalled is closed when a signal is being handled.
var signalled = make(chan struct{})

// Exit ends the process with code, unless a signal is being handled: then the process
// is about to die of it (after the cleanup), and Exit waits for that, so that the exit
// status tells of the signal rather than of the error the interruption caused.
func Exit(code int) {
	select {
	case <-signalled:
		select {} // die() ends the process
	default:
		os.Exit(code)
	}
}

// CatchSignals installs the process's SIGINT and SIGTERM handler: at the first of
// them it runs Cleanup and then dies of that signal (exit status 128+signal for the
// shell). Call it once, early in main.
func CatchSignals() {
	catchOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			sig := <-ch
			close(signalled)
			Cleanup()
			die(sig.(syscall.Signal))
		}()
	})
}

// die ends the process with sig's default action, or exit status 128+sig if it survives.
func die(sig syscall.Signal) {
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}

// Track registers path, a temporary file made other than by Create (say, in an os.Root),
// to be removed at a signal as Create's temporary files are. Call untrack once the file
// is renamed to its final name or removed.
func Track(path string) (untrack func()) {
	register(path)
	return func() { unregister(path) }
}
