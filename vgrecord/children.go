package vgrecord

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmsim/vmsim/traces"
)

// recordChildren records every process of the program, each on a connection of its own.
func (rec *recording) recordChildren(ctx context.Context, valgrind string) (*RecordResult, error) {
	opt := rec.opt
	ch, err := openChannel()
	if err != nil {
		return nil, err
	}
	defer ch.close()
	args := []string{"--tool=vmtrace", "-q", "--vgdb=no", "--trace-children=yes",
		"--vmtrace-socket=" + ch.sock, "--vmtrace-key=" + ch.keyPath, "--vmtrace-fixed-random=yes"}
	if opt.Syscalls {
		args = append(args, "--vmtrace-syscalls=yes")
	}
	args = append(args, opt.vmtraceArgs()...)
	cmd := rec.command(ctx, valgrind, append(args, append([]string{"--", opt.Program}, opt.Args...)...))
	cmd.Env = append(os.Environ(), "VALGRIND_LIB="+opt.ToolDir)
	t := &tracees{rec: rec, ch: ch, pending: map[*net.UnixConn]struct{}{}}
	t.cond = sync.NewCond(&t.mu)
	if err := rec.start(cmd); err != nil {
		return nil, err
	}
	accepting := make(chan struct{})
	go func() { defer close(accepting); t.accept() }()
	done := make(chan struct{})
	return rec.finish(cmd, done, func() {
		// The program has exited. The recording ends when no process of it is left:
		// none connected, and none alive in the process group (one that is executing
		// another program has closed its connection and not yet opened the next).
		t.mu.Lock()
		for {
			for t.open > 0 {
				t.cond.Wait()
			}
			if !groupAlive(cmd.Process.Pid) {
				break
			}
			t.mu.Unlock()
			time.Sleep(groupPoll)
			t.mu.Lock()
		}
		t.mu.Unlock()
		ch.ln.Close()
		<-accepting
		// Whatever connected and has not yet shown the key is no tracee (every tracee
		// shows it at once): it gets a moment, not the power to hold the recording.
		t.mu.Lock()
		for c := range t.pending {
			c.SetReadDeadline(time.Now().Add(lastKeyWait))
		}
		t.mu.Unlock()
		t.wg.Wait()
		close(done)
	})
}

// errThreadsLackey says why threads and the kernel's writes need vmtrace.
var errThreadsLackey = errors.New("lackey cannot record thread ids or the kernel's writes (it tells a tool of neither): they need the vmtrace tracer")

// errChildrenLackey says why --children needs vmtrace.
var errChildrenLackey = errors.New("--children needs the vmtrace tracer: lackey can send each process's output only to a TCP port, which any local user could connect to")

// Timing of the connections of Children.
const (
	// keyWait bounds the wait for a connection's key. A tracee sends it as soon as it
	// connects: the bound only stops a stranger from holding up the numbering.
	keyWait = 10 * time.Second
	// lastKeyWait is the wait for the key of a connection still silent when every
	// process of the recording is gone.
	lastKeyWait = 200 * time.Millisecond
	// groupPoll is how often the end of a recording looks for processes still alive
	// but not connected (in the middle of an exec).
	groupPoll = 20 * time.Millisecond
)

// tracees receives the connections of a recording with Children.
type tracees struct {
	rec *recording
	ch  *channel
	mu  sync.Mutex
	// cond is signalled when open changes.
	cond *sync.Cond
	// open counts the authenticated connections not yet read to their end.
	open int
	// pending holds the connections accepted whose key is not yet read.
	pending map[*net.UnixConn]struct{}
	// next is the next address space. Invariant: address spaces are given in the order
	// the connections were accepted, to tracees only, with no gap.
	next traces.ASID
	// wg counts the goroutines serving connections.
	wg sync.WaitGroup
}

// accept serves every connection until the listener closes. Each waits for the one
// accepted before it to be numbered (or refused) before it is numbered itself.
func (t *tracees) accept() {
	prev := make(chan struct{})
	close(prev)
	for {
		c, err := t.ch.ln.AcceptUnix()
		if err != nil {
			return
		}
		mine := make(chan struct{})
		t.mu.Lock()
		t.pending[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Add(1)
		go t.serve(c, prev, mine)
		prev = mine
	}
}

// serve checks a connection's key, numbers it after prev, closes numbered, and reads
// the process's trace.
func (t *tracees) serve(c *net.UnixConn, prev <-chan struct{}, numbered chan<- struct{}) {
	defer t.wg.Done()
	defer c.Close()
	once := sync.OnceFunc(func() { close(numbered) })
	defer once()
	c.SetReadDeadline(time.Now().Add(keyWait))
	got := make([]byte, len(t.ch.hello))
	_, err := io.ReadFull(c, got)
	ok := err == nil && subtle.ConstantTimeCompare(got, t.ch.hello) == 1
	t.mu.Lock()
	delete(t.pending, c)
	if ok {
		t.open++
	}
	t.mu.Unlock()
	if !ok {
		<-prev
		return // not a tracee: refused, nothing read from it kept
	}
	defer func() {
		t.mu.Lock()
		t.open--
		t.cond.Broadcast()
		t.mu.Unlock()
	}()
	c.SetReadDeadline(time.Time{})
	br := bufio.NewReaderSize(c, 64<<10)
	line, err := br.ReadString('\n')
	<-prev
	if err != nil {
		if line != "" {
			t.rec.fail(fmt.Errorf("vmtrace: a process's connection ended in its first line %q", line))
		}
		return // a connection made for a fork that failed
	}
	p, err := parseProcessLine(strings.TrimSuffix(line, "\n"))
	if err != nil {
		t.rec.fail(err)
		return
	}
	t.mu.Lock()
	p.ASID = t.next
	t.next++
	t.mu.Unlock()
	t.rec.mu.Lock()
	t.rec.res.Processes = append(t.rec.res.Processes, p)
	t.rec.mu.Unlock()
	once()
	t.rec.consume(br, p.ASID, fmt.Sprintf("vmtrace output of process %d", p.PID))
}

// parseProcessLine parses vmtrace's "process PID PPID FORKED COMMAND".
func parseProcessLine(line string) (TracedProcess, error) {
	var p TracedProcess
	f := strings.SplitN(line, " ", 5)
	if len(f) < 4 || f[0] != "process" {
		return p, fmt.Errorf("vmtrace: want \"process PID PPID FORKED COMMAND\" after the key, got %q", line)
	}
	var err error
	if p.PID, err = strconv.Atoi(f[1]); err == nil {
		p.Parent, err = strconv.Atoi(f[2])
	}
	if err != nil || (f[3] != "0" && f[3] != "1") {
		return p, fmt.Errorf("vmtrace: malformed process line %q", line)
	}
	p.Forked = f[3] == "1"
	if len(f) == 5 {
		p.Command = f[4]
	}
	return p, nil
}
