package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mechanism is a checkpointing mechanism of the C library (ckpt.h).
type Mechanism string

// The mechanisms.
const (
	None      Mechanism = "none"      // ckpt_checkpoint does nothing: the baseline
	WP        Mechanism = "wp"        // write protection and a SIGSEGV handler (remus, incremental)
	SoftDirty Mechanism = "softdirty" // the kernel's soft-dirty bits (remus, incremental)
	Full      Mechanism = "full"      // a copy of every touched page (shadow)
)

// Mechanisms lists the mechanisms, the baseline first.
var Mechanisms = []Mechanism{None, WP, SoftDirty, Full}

// ErrUnsupported is the error when the kernel cannot do a mechanism (softdirty without
// CONFIG_MEM_SOFT_DIRTY).
var ErrUnsupported = errors.New("mechanism unsupported on this machine")

// Program is one of the validation programs (validate/programs/).
type Program struct {
	Name string
	// Iteration says what one iteration, the unit of K, is.
	Iteration string
	// Iterations is the number of iterations of a run with the default size.
	Iterations int64
	// Ks are the default checkpoint intervals, in iterations: three decades.
	Ks []int64
	// Size describes the default size and the optional size arguments.
	Size string
}

// Programs are the validation programs.
var Programs = []Program{
	{Name: "stencil", Iteration: "one row of a Jacobi sweep (1022 a sweep)", Iterations: 51_100,
		Ks: []int64{100, 1000, 10000}, Size: "[N [SWEEPS]]: a 1024×1024 grid of doubles, two grids (16 MiB, all written), 50 sweeps"},
	{Name: "sort", Iteration: "512 keys (4 KiB) written by a merge pass (2048 a pass)", Iterations: 40_960,
		Ks: []int64{100, 1000, 10000}, Size: "[N]: 2^20 64-bit keys, two arrays (16 MiB, all written), 20 merge passes"},
	{Name: "kvstore", Iteration: "64 operations, 98% gets and 2% puts, at random over the table", Iterations: 32_768,
		Ks: []int64{100, 1000, 10000}, Size: "[BITS [OPS]]: a table of 2^20 16-byte slots (16 MiB) filled to 60%, 2^21 operations"},
	{Name: "stream", Iteration: "512 doubles (4 KiB) of the destination written (4096 a pass)", Iterations: 32_768,
		Ks: []int64{100, 1000, 10000}, Size: "[N [PASSES]]: 2^21 doubles, two arrays (32 MiB, half written after the start), 8 passes"},
}

// ProgramByName returns the program called name.
func ProgramByName(name string) (Program, bool) {
	for _, p := range Programs {
		if p.Name == name {
			return p, true
		}
	}
	return Program{}, false
}

// ProgramNames returns the programs' names.
func ProgramNames() []string {
	var names []string
	for _, p := range Programs {
		names = append(names, p.Name)
	}
	return names
}

// Sample is one native run of a program: its result line (programs/common.h).
type Sample struct {
	Elapsed     time.Duration // elapsed_ns: after ckpt_init to the end of the work
	Wall        time.Duration // the process's whole life, as the caller saw it
	Iterations  int64
	Checksum    string
	Checkpoints int64
	PagesCopied int64
	BytesCopied int64
	Traps       int64
	Mprotects   int64
	CkptTime    time.Duration // ckpt_ns: time inside ckpt_checkpoint
	MaxPages    int64
	RegionPages int64
	// Valgrind says whether the program was built with valgrind.h, so that its
	// checkpoints issue the client request.
	Valgrind bool
}

// Run runs program once natively with mechanism m, a checkpoint every k iterations (0:
// never) and the optional size arguments args, and returns its result. A run longer than
// timeout (0: no limit beyond ctx) is killed. The error names the program and wraps
// ErrUnsupported where the kernel cannot do m.
func (b *Build) Run(ctx context.Context, program string, m Mechanism, k int64, args []string, timeout time.Duration) (Sample, error) {
	what := fmt.Sprintf("%s %s K=%d", program, m, k)
	if !slices.Contains(Mechanisms, m) {
		return Sample{}, fmt.Errorf("%s: unknown mechanism %q", what, m)
	}
	if k < 0 {
		return Sample{}, fmt.Errorf("%s: K must not be negative", what)
	}
	if _, ok := ProgramByName(program); !ok {
		return Sample{}, fmt.Errorf("program %q: want one of %s", program, strings.Join(ProgramNames(), ", "))
	}
	path, err := b.Executable(ctx, program)
	if err != nil {
		return Sample{}, err
	}
	start := time.Now()
	out, err := runBounded(ctx, timeout, path, append([]string{string(m), strconv.FormatInt(k, 10)}, args...)...)
	wall := time.Since(start)
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w", what, err)
	}
	s, err := parseSample(out, program, m, k)
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w", what, err)
	}
	s.Wall = wall
	return s, nil
}

// maxOutput bounds what is kept of a child's standard output and error.
const maxOutput = 64 << 10

// boundedBuffer keeps the first maxOutput bytes written to it.
type boundedBuffer struct{ bytes.Buffer }

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// runBounded runs path with args, killed after timeout (when positive), and returns its
// standard output. A failure's error holds the end of its standard error; exit status 3
// (the programs' "unsupported") wraps ErrUnsupported.
func runBounded(ctx context.Context, timeout time.Duration, path string, args ...string) (string, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr boundedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); len(msg) > 2000 && i >= 0 {
		msg = "…" + msg[len(msg)-2000:]
	}
	switch {
	case err == nil:
		return stdout.String(), nil
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && timeout > 0:
		return "", fmt.Errorf("killed after %v (timeout): %w", timeout, ctx.Err())
	case ctx.Err() != nil:
		return "", ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 3 {
		return "", fmt.Errorf("%w: %s", ErrUnsupported, msg)
	}
	if msg != "" {
		return "", fmt.Errorf("%w: %s", err, msg)
	}
	return "", err
}

// parseSample reads a program's result line (the last line of out) and checks that it
// echoes program, m and k.
func parseSample(out, program string, m Mechanism, k int64) (Sample, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	line := lines[len(lines)-1]
	if line == "" {
		return Sample{}, errors.New("no result line on standard output")
	}
	kv := map[string]string{}
	for _, f := range strings.Fields(line) {
		key, val, ok := strings.Cut(f, "=")
		if !ok || key == "" {
			return Sample{}, fmt.Errorf("result line %q: field %q is not key=value", line, f)
		}
		if _, dup := kv[key]; dup {
			return Sample{}, fmt.Errorf("result line %q: %s twice", line, key)
		}
		kv[key] = val
	}
	for key, want := range map[string]string{"program": program, "mechanism": string(m), "k": strconv.FormatInt(k, 10)} {
		if kv[key] != want {
			return Sample{}, fmt.Errorf("result line %q: %s %q, want %q", line, key, kv[key], want)
		}
	}
	var s Sample
	var elapsed, ckpt, valgrind int64
	type field struct {
		key string
		dst *int64
	}
	ints := []field{
		{"iterations", &s.Iterations}, {"checkpoints", &s.Checkpoints}, {"pages_copied", &s.PagesCopied},
		{"bytes_copied", &s.BytesCopied}, {"traps", &s.Traps}, {"mprotects", &s.Mprotects},
		{"max_pages", &s.MaxPages}, {"region_pages", &s.RegionPages},
		{"elapsed_ns", &elapsed}, {"ckpt_ns", &ckpt}, {"valgrind", &valgrind},
	}
	for _, f := range ints {
		v, ok := kv[f.key]
		if !ok {
			return Sample{}, fmt.Errorf("result line %q: no %s", line, f.key)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return Sample{}, fmt.Errorf("result line %q: %s %q: want a whole number of 0 or more", line, f.key, v)
		}
		*f.dst = n
	}
	s.Elapsed, s.CkptTime, s.Valgrind = time.Duration(elapsed), time.Duration(ckpt), valgrind == 1
	s.Checksum = kv["checksum"]
	if len(s.Checksum) != 16 || strings.Trim(s.Checksum, "0123456789abcdef") != "" {
		return Sample{}, fmt.Errorf("result line %q: checksum %q: want 16 hexadecimal digits", line, s.Checksum)
	}
	if elapsed == 0 {
		return Sample{}, fmt.Errorf("result line %q: elapsed_ns 0", line)
	}
	return s, nil
}

// Supported returns nil if the kernel can do mechanism m, or an error wrapping
// ErrUnsupported that says why.
func (b *Build) Supported(ctx context.Context, m Mechanism) error {
	if !slices.Contains(Mechanisms, m) {
		return fmt.Errorf("unknown mechanism %q", m)
	}
	path, err := b.Executable(ctx, "test_ckpt")
	if err != nil {
		return err
	}
	if _, err := runBounded(ctx, time.Minute, path, string(m), "probe"); err != nil {
		return fmt.Errorf("%s: %w", m, err)
	}
	return nil
}

// CheckTracking runs the library's test driver (test_ckpt.c): checkpoints checkpoints of
// random writes and reads over pages pages, seeded by seed, under m (wp, softdirty or
// full), checking what each checkpoint copied against a plain reference. It returns the
// driver's summary line, or an error holding its FAIL lines (wrapping ErrUnsupported where
// the kernel cannot do m).
func (b *Build) CheckTracking(ctx context.Context, m Mechanism, seed uint64, checkpoints, pages int, timeout time.Duration) (string, error) {
	if m == None || !slices.Contains(Mechanisms, m) {
		return "", fmt.Errorf("mechanism %q: want wp, softdirty or full", m)
	}
	path, err := b.Executable(ctx, "test_ckpt")
	if err != nil {
		return "", err
	}
	args := []string{string(m), strconv.FormatUint(seed, 10), strconv.Itoa(checkpoints), strconv.Itoa(pages)}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var out boundedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	text := strings.TrimSpace(out.String())
	var ee *exec.ExitError
	switch {
	case err == nil:
		return text, nil
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		return "", fmt.Errorf("test_ckpt %s: %w: %s", m, ErrUnsupported, text)
	default:
		return "", fmt.Errorf("test_ckpt %s seed %d: %w\n%s", m, seed, err, text)
	}
}

// Summarize returns the median of xs and its spread, the interquartile range over the
// median (quartiles interpolated linearly between order statistics, as R's type 7); the
// spread is 0 when the median is. Precondition: xs is not empty.
func Summarize(xs []float64) (median, spread float64) {
	if len(xs) == 0 {
		panic("validate.Summarize of no values")
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	median = quantile(s, 0.5)
	if median == 0 {
		return 0, 0
	}
	return median, (quantile(s, 0.75) - quantile(s, 0.25)) / math.Abs(median)
}

// quantile returns the q-quantile of sorted s by linear interpolation (type 7).
func quantile(s []float64, q float64) float64 {
	h := q * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// Measurement is the repeated native runs of one program under one mechanism at one K.
type Measurement struct {
	Program   string
	Mechanism Mechanism
	K         int64
	Samples   []Sample
	// Median is the median of the samples' Elapsed; Spread its interquartile range over
	// the median.
	Median time.Duration
	Spread float64
}

// Point is a measurement beside its baseline (mechanism none at the same K).
type Point struct {
	Measurement
	Baseline Measurement
	// Overhead is Median / Baseline.Median − 1.
	Overhead float64
	// OverheadSpread is the overhead's uncertainty: (1 + Overhead) × (Spread +
	// Baseline.Spread), the first-order width of a ratio of two medians each known to
	// within its relative spread.
	OverheadSpread float64
}

// Options controls Measure.
type Options struct {
	// Repeats is the number of runs of each (mechanism, K); 5 when 0.
	Repeats int
	// Timeout bounds each run; 5 minutes when 0.
	Timeout time.Duration
	// Progress, when not nil, receives a line per run.
	Progress io.Writer
}

// Measure runs program natively under mechanism none and each of mechs at each K in ks,
// opt.Repeats times, with the size arguments args, and returns a point per (mechanism of
// mechs, K) in that order: rounds of one run of every (mechanism, K) follow each other, so
// that a slow spell of a shared machine falls on all alike. Every run must print the same
// checksum (a mechanism must not change the program's result) and, at one K, take the
// same checkpoints. A mechanism the kernel cannot do is an error wrapping ErrUnsupported
// (check first with Supported).
func (b *Build) Measure(ctx context.Context, program string, args []string, mechs []Mechanism, ks []int64, opt Options) ([]Point, error) {
	if opt.Repeats == 0 {
		opt.Repeats = 5
	}
	if opt.Timeout == 0 {
		opt.Timeout = 5 * time.Minute
	}
	if opt.Repeats < 0 {
		return nil, fmt.Errorf("%s: %d repeats: want at least 1", program, opt.Repeats)
	}
	if len(ks) == 0 || len(mechs) == 0 {
		return nil, fmt.Errorf("%s: no mechanisms or no K to measure", program)
	}
	all := []Mechanism{None}
	for _, m := range mechs {
		if !slices.Contains(Mechanisms, m) {
			return nil, fmt.Errorf("%s: unknown mechanism %q", program, m)
		}
		if !slices.Contains(all, m) {
			all = append(all, m)
		}
	}
	type key struct {
		m Mechanism
		k int64
	}
	got := map[key]*Measurement{}
	checksum, from := "", ""
	for round := 1; round <= opt.Repeats; round++ {
		for _, k := range ks {
			for _, m := range all {
				s, err := b.Run(ctx, program, m, k, args, opt.Timeout)
				if err != nil {
					return nil, err
				}
				here := fmt.Sprintf("%s K=%d", m, k)
				if checksum == "" {
					checksum, from = s.Checksum, here
				} else if s.Checksum != checksum {
					return nil, fmt.Errorf("%s: checksum %s under %s differs from %s under %s: the mechanism changed the program's result",
						program, s.Checksum, here, checksum, from)
				}
				mm := got[key{m, k}]
				if mm == nil {
					mm = &Measurement{Program: program, Mechanism: m, K: k}
					got[key{m, k}] = mm
				}
				if base := got[key{None, k}]; base != nil && len(base.Samples) > 0 && s.Checkpoints != base.Samples[0].Checkpoints {
					return nil, fmt.Errorf("%s: %d checkpoints under %s, %d under none", program, s.Checkpoints, here, base.Samples[0].Checkpoints)
				}
				mm.Samples = append(mm.Samples, s)
				if opt.Progress != nil {
					fmt.Fprintf(opt.Progress, "validate: %s %s K=%d run %d/%d: %.3f s\n", program, m, k, round, opt.Repeats, s.Elapsed.Seconds())
				}
			}
		}
	}
	var points []Point
	for _, m := range mechs {
		for _, k := range ks {
			mm, base := got[key{m, k}], got[key{None, k}]
			mm.summarize()
			base.summarize()
			p := Point{Measurement: *mm, Baseline: *base}
			ratio := float64(mm.Median) / float64(base.Median)
			p.Overhead = ratio - 1
			p.OverheadSpread = ratio * (mm.Spread + base.Spread)
			points = append(points, p)
		}
	}
	return points, nil
}

// summarize sets Median and Spread from the samples.
func (m *Measurement) summarize() {
	xs := make([]float64, len(m.Samples))
	for i, s := range m.Samples {
		xs[i] = float64(s.Elapsed)
	}
	med, spread := Summarize(xs)
	m.Median, m.Spread = time.Duration(math.Round(med)), spread
}
