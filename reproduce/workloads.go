package reproduce

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Workload is one program of the study: a program found on a Debian machine (or a C source
// of the corpus, compiled with gcc at record time), run under `vmsim record` in a folder
// holding its inputs, which are generated here deterministically. EnsureWorkloads records
// it at first use and caches the recording.
type Workload struct {
	Name string // short name, for tables and file names
	// Program is the command, looked up on PATH; Locate, when set, is a command printing
	// its path instead (cc1 is not on PATH: `gcc -print-prog-name=cc1`). With Source,
	// Program is the name of the binary gcc makes in the input folder.
	Program string
	Locate  []string
	// Source is a C source of traces/corpus/src, compiled with `gcc -O2` into the input
	// folder before recording; the gcc version is then the program's version.
	Source string
	// Args are the program's arguments; they name input files relative to the input folder.
	Args []string
	// VersionArgs make Program print its version on the first line of its standard output
	// or error.
	VersionArgs []string
	// Input is what the input is, for the README.
	Input string
	// Gen writes the inputs into dir, or is nil. Invariant: the same bytes every call.
	Gen func(dir string) error
	// Drive, for a server-like workload, talks to the program once it runs: stdin is the
	// write end of its standard input (a pipe), closed after Drive returns; dir is the
	// input folder (where a server's Unix socket is). Drive returns when the program has
	// been told to finish. Nil: the standard input is /dev/null.
	Drive func(ctx context.Context, dir string, stdin io.Writer) error
	// Syscalls records the I/O system calls (vmsim record --syscalls); DataOnly leaves out
	// the instruction fetches.
	Syscalls, DataOnly bool
	// Footprint and Pattern describe the workload for the README and docs ("256 MB",
	// "write-heavy random"); Accesses is the order of its accesses as declared (measured
	// once; the manifest holds the recording's own count).
	Footprint, Pattern string
	Accesses           int64
	// Apt are the Debian packages it needs (reproduce/setup.sh installs them).
	Apt []string
	// Why it is in the set, for the docs.
	Why string
}

// The study's workloads. Accesses and Footprint (pages touched × 4 KiB) are those measured
// on Debian 12 (bookworm) with valgrind 3.19 and vmtrace (docs/study.md has the table);
// a recording's manifest holds its own.
var Workloads = []Workload{
	{Name: "gzip", Program: "gzip", Args: []string{"-6", "-c", "input.txt"}, VersionArgs: []string{"--version"},
		Input: "5.5 MB of generated text lines (words from a fixed list, xorshift seed 1)",
		Gen:   textFile("input.txt", 5_500_000, 1), Footprint: "1.2 MB", Pattern: "read-heavy streaming", Accesses: 1_190_000_000,
		Apt: []string{"gzip"}, Why: "a compressor with a small, hot footprint: the page-level schemes' best case"},
	{Name: "sort", Program: "sort", Args: []string{"--parallel=1", "-S", "512M", "input.txt"}, VersionArgs: []string{"--version"},
		Input: "34 MB of generated text lines (words from a fixed list, xorshift seed 2), LC_ALL=C",
		Gen:   textFile("input.txt", 34_000_000, 2), Footprint: "60 MB", Pattern: "mixed, streaming then random", Accesses: 1_160_000_000,
		Apt: []string{"coreutils"}, Why: "reads its input into a large buffer, then sorts pointers to its lines: a growing footprint"},
	{Name: "memupdate", Program: "memkernel", Source: "memkernel.c", Args: []string{"update", "256", "50000000", "1"},
		Input: "none: 256 MiB filled, then 5 × 10^7 random updates of a word (xorshift seed 1)", Footprint: "269 MB",
		Pattern: "write-heavy random", Accesses: 1_050_000_000, Apt: []string{"gcc", "libc6-dev"},
		Why: "the largest footprint, written all over at random: the worst case of every scheme that copies pages"},
	{Name: "memstream", Program: "memkernel", Source: "memkernel.c", Args: []string{"stream", "96", "3"},
		Input: "none: three arrays of 32 MiB, three passes of the STREAM triad", Footprint: "101 MB",
		Pattern: "write-heavy streaming", Accesses: 200_000_000, Apt: []string{"gcc", "libc6-dev"},
		Why: "writes a large footprint in order: every page dirty in every long interval"},
	{Name: "sqlite", Program: "sqlite3", Args: []string{"kv.db"}, VersionArgs: []string{"--version"},
		Input: "SQL requests on a pipe: 4,000 inserts of random keys, updates and range queries in transactions of 500 (xorshift seed 5)",
		Gen:   sqlRequests("requests.sql", 4_000, 5), Drive: pipeFile("requests.sql"), Syscalls: true,
		Footprint: "3.2 MB", Pattern: "random, read-mostly pages, with I/O (a pipe)", Accesses: 300_000_000, Apt: []string{"sqlite3"},
		Why: "a database serving requests on a pipe, its file written through system calls (recorded with --syscalls)"},
	{Name: "redis", Program: "redis-server", VersionArgs: []string{"--version"},
		Args: []string{"--port", "0", "--unixsocket", "redis.sock", "--save", "", "--appendonly", "no", "--daemonize", "no",
			"--io-threads", "1", "--loglevel", "warning", "--hz", "1"},
		Input: "requests over a Unix socket: SET of 15,000 keys with values of 64 to 4,096 bytes, then GET, INCR and DEL at random (xorshift seed 6), pipelined by 50",
		Gen:   redisRequests("requests.txt", 15_000, 6), Drive: redisDriver("redis.sock", "requests.txt", 50), Syscalls: true,
		Footprint: "31 MB", Pattern: "random, most pages written, with I/O (a socket)", Accesses: 320_000_000, Apt: []string{"redis-server"},
		Why: "a key-value server answering requests on a socket (recorded with --syscalls), the kind of program Remus protects"},
	{Name: "python", Program: "/usr/bin/python3", Args: []string{"-S", "-B", "-P", "work.py"}, VersionArgs: []string{"--version"},
		Input: "a Python script (work.py) building a dict of 4,500 records, sorting, grouping and serialising them (seed 7)",
		Gen:   writeText("work.py", func() string { return pythonScript(4_500, 7) }), Footprint: "9.8 MB", Pattern: "random (objects on a heap)",
		Accesses: 270_000_000, Apt: []string{"python3"},
		Why: "a scripting runtime: objects scattered on a heap, reference counts written on every read"},
	{Name: "perl", Program: "perl", Args: []string{"wc.pl", "input.txt"}, VersionArgs: []string{"-e", "print \"perl $^V\\n\""},
		Input: "a Perl script counting words and bigrams in 350 kB of generated text (xorshift seed 8)",
		Gen:   multi(writeFile("wc.pl", perlScript), textFile("input.txt", 350_000, 8)), Footprint: "4.8 MB",
		Pattern: "mixed streaming", Accesses: 300_000_000, Apt: []string{"perl"},
		Why: "text processing: a stream read once, a small table updated"},
	{Name: "cc1", Program: "cc1", Locate: []string{"gcc", "-print-prog-name=cc1"}, Args: []string{"-quiet", "-O2", "prog.c", "-o", "prog.s"},
		VersionArgs: []string{"-version", "-o", "/dev/null", "/dev/null"},
		Input:       "a generated C file of 2 functions (loops, switches, arithmetic; seed 9), compiled with -O2",
		Gen:         writeText("prog.c", func() string { return cProgram(2, 9) }), Footprint: "21 MB", Pattern: "mixed random, allocation-heavy",
		Accesses: 510_000_000, Apt: []string{"gcc"},
		Why: "a compiler: a large code footprint and many short-lived allocations"},
	{Name: "xz", Program: "xz", Args: []string{"-6", "-T1", "-c", "input.txt"}, VersionArgs: []string{"--version"},
		Input: "110 kB of generated text lines (xorshift seed 10)", Gen: textFile("input.txt", 110_000, 10),
		Footprint: "7.3 MB", Pattern: "read-heavy random (match finder)", Accesses: 250_000_000, Apt: []string{"xz-utils"},
		Why: "a compressor with a large dictionary searched at random, beside gzip's small window"},
}

// WorkloadByName returns the workload of that name.
func WorkloadByName(name string) (Workload, error) {
	var names []string
	for _, w := range Workloads {
		if w.Name == name {
			return w, nil
		}
		names = append(names, w.Name)
	}
	return Workload{}, fmt.Errorf("no workload %q (workloads: %s)", name, strings.Join(names, ", "))
}

// textFile writes n bytes of genText's lines, seeded with seed, into dir/name.
func textFile(name string, n int, seed uint64) func(string) error {
	return func(dir string) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := genText(f, n, seed); err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		return f.Close()
	}
}

func writeFile(name, text string) func(string) error {
	return writeText(name, func() string { return text })
}

// writeText is writeFile with the text made when the file is written (not when vmsim
// starts).
func writeText(name string, text func() string) func(string) error {
	return func(dir string) error { return os.WriteFile(filepath.Join(dir, name), []byte(text()), 0o644) }
}

func multi(gens ...func(string) error) func(string) error {
	return func(dir string) error {
		for _, g := range gens {
			if err := g(dir); err != nil {
				return err
			}
		}
		return nil
	}
}

// xorshift is the generators' xorshift64, seeded as genText seeds it.
type xorshift uint64

func newXorshift(seed uint64) *xorshift { x := xorshift(seed*0x9E3779B97F4A7C15 | 1); return &x }

func (x *xorshift) next() uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return uint64(*x)
}
