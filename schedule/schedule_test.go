package schedule

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/vmsim/vmsim/internal/testseed"
	"github.com/vmsim/vmsim/record"
)

func TestParsePolicy(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Policy
		wantErr string
	}{
		{"recorded", Recorded, ""},
		{"round-robin", RoundRobin, ""},
		{"roundrobin", "", `--schedule "roundrobin": want one of [recorded round-robin]`},
		{"", "", `--schedule "": want one of`},
		{"Recorded", "", "want one of"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePolicy(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePolicy(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePolicy(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// A Policy is a flag of its own type, checked when parsed.
func TestPolicyFlag(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		want    Policy
		wantErr string
	}{
		{"default", nil, Recorded, ""},
		{"round-robin", []string{"--schedule", "round-robin"}, RoundRobin, ""},
		{"unknown", []string{"--schedule=fifo"}, "", `invalid argument "fifo" for "--schedule" flag: --schedule "fifo": want one of`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			fs.SetOutput(new(strings.Builder))
			p := Recorded
			fs.Var(&p, "schedule", "how threads map to cores")
			err := fs.Parse(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q): %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil || p != tt.want {
				t.Fatalf("Parse(%q): %q, %v; want %q", tt.args, p, err, tt.want)
			}
			if fs.Lookup("schedule").Value.Type() != "policy" {
				t.Error("the flag's type is not named policy")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"recorded", Options{Policy: Recorded, Cores: 4}, ""},
		{"round-robin", Options{Policy: RoundRobin, Cores: 16, Quantum: 1000}, ""},
		{"one core", Options{Policy: RoundRobin, Cores: 1, Quantum: 1}, ""},
		{"no cores", Options{Policy: Recorded}, "--cores 0: want 1 or more"},
		{"round-robin without a quantum", Options{Policy: RoundRobin, Cores: 2}, "--quantum 0: --schedule round-robin wants a quantum of 1 access or more"},
		{"negative quantum", Options{Policy: RoundRobin, Cores: 2, Quantum: -5}, "--quantum -5"},
		{"recorded with a quantum", Options{Policy: Recorded, Cores: 2, Quantum: 10}, "--quantum 10: only --schedule round-robin has a quantum"},
		{"no policy", Options{Cores: 2}, `--schedule "": want one of`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if _, nerr := New(tt.o); (err == nil) != (nerr == nil) {
				t.Errorf("Validate: %v, but New: %v", err, nerr)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%+v): %v", tt.o, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate(%+v): %v, want an error with %q", tt.o, err, tt.wantErr)
			}
		})
	}
}

// step is one access: its thread, its recorded cpu, and the core it must get.
type step struct {
	tid  uint32
	cpu  int
	core int
}

func TestCore(t *testing.T) {
	for _, tt := range []struct {
		name  string
		o     Options
		steps []step
	}{
		{"round-robin, quantum 2, 3 threads on 2 cores", Options{Policy: RoundRobin, Cores: 2, Quantum: 2}, []step{
			// quantum 0: thread k (order of first access) on core k mod 2
			{7, NoCPU, 0}, {9, NoCPU, 1},
			// quantum 1: rotated by one; thread 3 is the third to appear (k=2): (2+1) mod 2
			{3, NoCPU, 1}, {7, NoCPU, 1},
			// quantum 2
			{9, NoCPU, 1}, {3, NoCPU, 0},
			// quantum 3
			{7, NoCPU, 1}, {7, NoCPU, 1},
		}},
		{"round-robin, fewer threads than cores never share a core", Options{Policy: RoundRobin, Cores: 4, Quantum: 3}, []step{
			{1, NoCPU, 0}, {2, NoCPU, 1}, {1, NoCPU, 0},
			{2, NoCPU, 2}, {1, NoCPU, 1}, {2, NoCPU, 2},
			{1, NoCPU, 2}, {1, NoCPU, 2}, {1, NoCPU, 2},
			{2, NoCPU, 0},
		}},
		{"round-robin ignores the recorded cpu", Options{Policy: RoundRobin, Cores: 2, Quantum: 100}, []step{
			{1, 5, 0}, {2, 5, 1}, {1, 0, 0},
		}},
		{"one core", Options{Policy: RoundRobin, Cores: 1, Quantum: 1}, []step{
			{1, NoCPU, 0}, {2, NoCPU, 0}, {3, NoCPU, 0},
		}},
		{"recorded: cpus in order of first access, dealt to cores", Options{Policy: Recorded, Cores: 2}, []step{
			{1, 40, 0}, {1, 3, 1}, {2, 40, 0}, {1, 17, 0}, {3, 3, 1}, {3, 8, 1}, {3, 40, 0},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []int
			for _, st := range tt.steps {
				c, err := s.Core(Thread{ASID: 1, TID: record.TID(st.tid)}, st.cpu)
				if err != nil {
					t.Fatal(err)
				}
				got, want = append(got, c), append(want, st.core)
			}
			if !slices.Equal(got, want) {
				t.Errorf("cores %v, want %v", got, want)
			}
		})
	}
}

// Threads of different address spaces with the same thread id are different threads.
func TestThreadsPerAddressSpace(t *testing.T) {
	s, err := New(Options{Policy: RoundRobin, Cores: 4, Quantum: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, th := range []Thread{{1, 5}, {2, 5}, {1, 5}, {2, 6}} {
		want := []int{0, 1, 0, 2}[i]
		if c, _ := s.Core(th, NoCPU); c != want {
			t.Errorf("access %d by %+v: core %d, want %d", i, th, c, want)
		}
	}
	if s.Seen() != 3 {
		t.Errorf("Seen() = %d, want 3", s.Seen())
	}
}

// Under recorded, an access without a cpu is an error, and does not count.
func TestRecordedWithoutCPU(t *testing.T) {
	s, err := New(Options{Policy: Recorded, Cores: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Core(Thread{ASID: 3, TID: 4}, NoCPU); err == nil || !strings.Contains(err.Error(), "thread 4 of address space 3 has no recorded cpu") {
		t.Fatalf("Core without a cpu: %v", err)
	}
	if c, err := s.Core(Thread{ASID: 3, TID: 4}, 9); c != 0 || err != nil || s.Seen() != 1 {
		t.Errorf("Core after the error: %d, %v, %d seen; want core 0, one cpu seen", c, err, s.Seen())
	}
}

// The scheduler gives, on random streams, the cores its definition says: thread (or cpu)
// number k in order of first access, access number i from 0, core (k + i/Q) mod N under
// round-robin, k mod N under recorded.
func TestCoreDefinition(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	for trial := range 200 {
		o := Options{Policy: RoundRobin, Cores: 1 + rng.IntN(20), Quantum: 1 + rng.Int64N(50)}
		if trial%3 == 0 {
			o.Policy, o.Quantum = Recorded, 0
		}
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		number := map[Thread]int{}
		threads := 1 + rng.IntN(40)
		for i := range 2000 {
			th := Thread{ASID: record.ASID(rng.IntN(2)), TID: record.TID(rng.IntN(threads))}
			cpu := rng.IntN(threads)
			key := th
			if o.Policy == Recorded {
				key = Thread{TID: record.TID(cpu)}
			}
			k, ok := number[key]
			if !ok {
				k = len(number)
				number[key] = k
			}
			want := k % o.Cores
			if o.Policy == RoundRobin {
				want = (k + i/int(o.Quantum)) % o.Cores
			}
			if got, err := s.Core(th, cpu); got != want || err != nil {
				t.Fatalf("seed %d trial %d %+v access %d by %+v on cpu %d: core %d, %v; want %d", seed, trial, o, i, th, cpu, got, err, want)
			}
		}
		if s.Seen() != len(number) {
			t.Fatalf("seed %d trial %d: Seen %d, want %d", seed, trial, s.Seen(), len(number))
		}
	}
}
