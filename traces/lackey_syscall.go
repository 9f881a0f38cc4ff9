package traces

import (
	"bytes"
)

// parseSyscall parses a line of valgrind's --trace-syscalls=yes:
//
//	SYSCALL[pid,tid](sysno) name ( args ) --> [async] ...          a call starts
//	SYSCALL[pid,tid](sysno) ... [async] --> Success(0xRESULT)      and completes
//	SYSCALL[pid,tid](sysno) name ( args )[sync] --> Success(0x..)  one line
//	SYSCALL[pid,tid](sysno) name ( args ) --> [pre-success] Success(0x..)
func (p *lackeyParser) parseSyscall(line []byte) (rec Record, reason string) {
	i := len(syscallPrefix)
	pid, k, ok := parseDec64(line[i:])
	if !ok || i+k >= len(line) || line[i+k] != ',' {
		return rec, "want SYSCALL[pid,tid](number)"
	}
	i += k + 1
	tid, k, ok := parseDec64(line[i:])
	if !ok || i+k+1 >= len(line) || line[i+k] != ']' || line[i+k+1] != '(' {
		return rec, "want SYSCALL[pid,tid](number)"
	}
	i += k + 2
	sysno, k, ok := parseDec64(line[i:])
	if !ok || i+k+1 >= len(line) || line[i+k] != ')' || line[i+k+1] != ' ' {
		return rec, "want SYSCALL[pid,tid](number)"
	}
	i += k + 2
	th := lackeyThread{pid, tid}
	body := line[i:]
	var thread TID
	if p.sawThread && tid <= 1<<32-1 {
		thread = TID(tid)
	}
	if bytes.HasPrefix(body, syscallAsyncDone) {
		calls := p.pending[th]
		k := len(calls) - 1
		for k >= 0 && calls[k].sysno != sysno {
			k--
		}
		if k < 0 {
			return rec, "the completion of a system call that did not start"
		}
		call := calls[k]
		if k == 0 {
			delete(p.pending, th)
		} else {
			p.pending[th] = calls[:k]
		}
		return p.complete(call, body[len(syscallAsyncDone):])
	}
	// "name ( first, ..." or "name( first ...": the name, then the first argument.
	j := 0
	for j < len(body) && body[j] != ' ' && body[j] != '(' {
		j++
	}
	name := body[:j]
	call := pendingCall{sysno: sysno, thread: thread}
	if kind, ok := ioSyscalls[string(bytes.TrimPrefix(name, []byte("sys_")))]; ok {
		j = skipSpace(body, j)
		if j >= len(body) || body[j] != '(' {
			return rec, "want ( and the arguments after the system call's name"
		}
		j = skipSpace(body, j+1)
		fd, _, ok := parseDec64(body[j:])
		if !ok {
			return rec, "want a file descriptor as the first argument of an I/O system call"
		}
		call.kind, call.channel = kind, fd
	}
	a := bytes.LastIndex(body, syscallArrow)
	if a < 0 {
		if !call.kind.IsIO() {
			// A call valgrind does not know prints its failure on the next line; fork
			// prints a note; execve's line is ended by the new program's first record.
			p.skippedSyscalls++
			if r, ok := gluedRecord(body); ok {
				return r, ""
			}
			return rec, skipLine
		}
		return rec, "want --> and the outcome of the system call"
	}
	outcome := body[a+len(syscallArrow):]
	if bytes.HasPrefix(outcome, syscallAsyncStart) {
		// Every call is kept, I/O or not, so that its completion is recognised.
		if p.pending == nil {
			p.pending = map[lackeyThread][]pendingCall{}
		}
		calls := append(p.pending[th], call)
		if len(calls) > maxPending {
			calls = append(calls[:0], calls[len(calls)-maxPending:]...)
		}
		p.pending[th] = calls
		return rec, skipLine
	}
	// "[pre-success] Success(...)": skip the bracketed note.
	if len(outcome) > 0 && outcome[0] == '[' {
		if e := bytes.IndexByte(outcome, ']'); e >= 0 {
			outcome = outcome[skipSpace(outcome, e+1):]
		}
	}
	return p.complete(call, outcome)
}

// gluedRecord finds a lackey access at the end of a system call's line (execve's).
func gluedRecord(body []byte) (Record, bool) {
	for j := len(body) - 3; j >= 0; j-- {
		if (body[j] == 'I' && body[j+1] == ' ' && body[j+2] == ' ') ||
			(body[j] == ' ' && (body[j+1] == 'L' || body[j+1] == 'S' || body[j+1] == 'M') && body[j+2] == ' ') {
			if r, reason := parseLackey(body[j:]); reason == "" {
				return r, true
			}
		}
	}
	return Record{}, false
}

// complete turns a call's outcome ("Success(0x340)" or "Failure(0x2)") into its record.
func (p *lackeyParser) complete(call pendingCall, outcome []byte) (rec Record, reason string) {
	outcome = bytes.TrimRight(outcome, " \t")
	switch {
	case bytes.HasPrefix(outcome, syscallFailure) || bytes.Equal(outcome, syscallNoResult):
		p.skippedSyscalls++
		return rec, skipLine
	case !bytes.HasPrefix(outcome, syscallSuccess):
		return rec, "want Success(0x...) or Failure(0x...) as the outcome of the system call"
	}
	v, k, ok := parseHex(outcome[len(syscallSuccess):])
	if !ok || len(syscallSuccess)+k >= len(outcome) || outcome[len(syscallSuccess)+k] != ')' {
		return rec, "want a hex result in Success(0x...)"
	}
	if !call.kind.IsIO() {
		p.skippedSyscalls++
		return rec, skipLine
	}
	if v > 1<<32-1 {
		return rec, "an I/O system call of more than 4 GiB"
	}
	return Record{Kind: call.kind, Addr: call.channel, Size: uint32(v), Thread: call.thread}, ""
}

// parseDec64 parses a decimal number of at most 19 digits at the start of b.
func parseDec64(b []byte) (v uint64, n int, ok bool) {
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		if n == 19 {
			return 0, n, false
		}
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n, n > 0
}
