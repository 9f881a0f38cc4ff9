// Package schedule maps the threads of a trace to the cores of a multi-core machine
// (package coherence), access by access (docs/coherence.md, section "Schedules"):
//
//   - recorded: each access runs on the cpu its trace recorded (a drmemtrace cpu marker,
//     say): the distinct cpu ids, numbered 0, 1, ... in the order of their first access,
//     are dealt to cores in turn, cpu number k to core k mod N;
//   - round-robin: the threads (an address space and thread id), numbered 0, 1, ... in
//     the order of their first access, are dealt to cores in turn and rotated every
//     quantum: during quantum q (accesses q·Q to q·Q+Q-1 of the whole stream, counting
//     from 0), thread k runs on core (k+q) mod N. A thread keeps its core for a quantum
//     and then moves to the next; with no more threads than cores, no two threads share a
//     core at any time.
//
// Both are deterministic: the same trace gives the same cores.
package schedule

import (
	"fmt"

	"github.com/vmsim/vmsim/record"
)

// Policy names how threads are mapped to cores (the --schedule option).
type Policy string

// Policies.
const (
	Recorded   Policy = "recorded"
	RoundRobin Policy = "round-robin"
)

// Policies lists the policies, in the order the help text gives them.
var Policies = []Policy{Recorded, RoundRobin}

// ParsePolicy reads a policy a user wrote.
func ParsePolicy(s string) (Policy, error) {
	for _, p := range Policies {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("--schedule %q: want one of %v", s, Policies)
}

// String, Set and Type make a *Policy a command-line flag (pflag.Value).
func (p *Policy) String() string { return string(*p) }

// Set parses s into p.
func (p *Policy) Set(s string) error {
	v, err := ParsePolicy(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// Type names the flag's kind in help texts.
func (p *Policy) Type() string { return "policy" }

// Options configure a Scheduler.
type Options struct {
	Policy Policy
	// Cores is the number of cores, >= 1.
	Cores int
	// Quantum is the accesses a thread keeps its core under round-robin, >= 1; it must be
	// 0 (unset) under recorded, which does not use it.
	Quantum int64
}

// Validate checks the options, naming the command-line options.
func (o Options) Validate() error {
	if o.Cores < 1 {
		return fmt.Errorf("--cores %d: want 1 or more", o.Cores)
	}
	switch o.Policy {
	case RoundRobin:
		if o.Quantum < 1 {
			return fmt.Errorf("--quantum %d: --schedule round-robin wants a quantum of 1 access or more", o.Quantum)
		}
	case Recorded:
		if o.Quantum != 0 {
			return fmt.Errorf("--quantum %d: only --schedule round-robin has a quantum", o.Quantum)
		}
	default:
		_, err := ParsePolicy(string(o.Policy))
		return err
	}
	return nil
}

// Thread is a thread of a trace: thread ids are per address space.
type Thread struct {
	ASID record.ASID
	TID  record.TID
}

// NoCPU is the cpu of an access whose trace records none.
const NoCPU = -1

// Scheduler maps accesses to cores.
//
// Invariant: seen counts the threads (round-robin) or cpus (recorded) met, and ids holds
// the home core of each, its number in the order of first appearance mod Cores; rot is
// the rotation of the current quantum, q mod Cores (0 under recorded), and left the
// accesses left in it (> 0 under round-robin); last and lastHome are the key and home core
// of the previous call, a shortcut for runs of one thread (valid when seen > 0).
type Scheduler struct {
	o        Options
	ids      map[Thread]int // cpus are keyed Thread{TID: cpu}
	seen     int
	rot      int
	left     int64
	last     Thread
	lastHome int
}

// New returns a scheduler that has seen nothing yet.
func New(o Options) (*Scheduler, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{o: o, ids: map[Thread]int{}, left: o.Quantum}, nil
}

// Options returns the scheduler's options.
func (s *Scheduler) Options() Options { return s.o }

// Core returns the core of the next access of the stream, made by thread t on the cpu its
// trace recorded (NoCPU when none). Call it once per access, in trace order: round-robin
// counts the calls. Under recorded, an access without a cpu is an error (the caller adds
// where it is in the trace).
func (s *Scheduler) Core(t Thread, cpu int) (int, error) {
	key := t
	if s.o.Policy == Recorded {
		if cpu < 0 {
			return 0, noCPU(t)
		}
		key = Thread{TID: record.TID(cpu)}
	}
	if s.seen == 0 || key != s.last {
		s.switchTo(key)
	}
	core := s.lastHome + s.rot
	if core >= s.o.Cores {
		core -= s.o.Cores
	}
	if s.o.Policy == RoundRobin {
		if s.left--; s.left == 0 {
			s.left = s.o.Quantum
			if s.rot++; s.rot == s.o.Cores {
				s.rot = 0
			}
		}
	}
	return core, nil
}

func noCPU(t Thread) error {
	return fmt.Errorf("--schedule recorded: thread %d of address space %d has no recorded cpu", t.TID, t.ASID)
}

// switchTo makes key the current thread or cpu, numbering it if new.
func (s *Scheduler) switchTo(key Thread) {
	home, ok := s.ids[key]
	if !ok {
		home = s.seen % s.o.Cores
		s.ids[key] = home
		s.seen++
	}
	s.last, s.lastHome = key, home
}

// Seen returns how many threads (round-robin) or cpus (recorded) have had accesses.
func (s *Scheduler) Seen() int { return s.seen }
