package validate

import (
	"context"
	"errors"
	"github.com/vmsim/vmsim/internal/testseed"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testSeed returns a random seed, or VMSIM_TEST_SEED's, and logs it.
func testSeed(t *testing.T) uint64 { return testseed.Seed(t) }

// shared is the build the tests share (each program compiled once), made by the first
// test that needs it and removed by TestMain.
var shared struct {
	once sync.Once
	b    *Build
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.b != nil {
		shared.b.Close()
	}
	os.Exit(code)
}

// newBuild returns the shared build, or skips the test without a C compiler.
func newBuild(t *testing.T) *Build {
	t.Helper()
	shared.once.Do(func() { shared.b, shared.err = NewBuild("") })
	if errors.Is(shared.err, ErrNoCompiler) {
		t.Skip("no C compiler (gcc or cc) on PATH: the C library is not tested")
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.b
}

// skipUnsupported skips the test when err says the kernel cannot do the mechanism.
func skipUnsupported(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("skipped on this machine: %v", err)
	}
}

// TestDirtyTracking runs the library's test driver (test_ckpt.c): random writes and reads
// between checkpoints, each checkpoint's copied pages and their content checked against a
// plain reference (the pages written in the interval for wp and softdirty, every page
// touched for full).
func TestDirtyTracking(t *testing.T) {
	b := newBuild(t)
	seed := testSeed(t)
	tests := []struct {
		name        string
		m           Mechanism
		checkpoints int
		pages       int
	}{
		{"wp small region", WP, 300, 64},
		{"wp large region", WP, 100, 3000},
		{"softdirty small region", SoftDirty, 300, 64},
		{"softdirty large region", SoftDirty, 100, 3000},
		{"full small region", Full, 300, 64},
		{"full large region", Full, 60, 3000},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := b.CheckTracking(t.Context(), tc.m, seed+uint64(i), tc.checkpoints, tc.pages, 2*time.Minute)
			skipUnsupported(t, err)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out, "ok mechanism="+string(tc.m)) {
				t.Fatalf("test_ckpt said %q", out)
			}
			t.Log(out)
		})
	}
}

// TestFaultNotOurs: a fault outside the region (here the guard page below it) is not
// swallowed by the wp handler: the program dies of SIGSEGV, as without the library.
func TestFaultNotOurs(t *testing.T) {
	b := newBuild(t)
	path, err := b.Executable(t.Context(), "test_ckpt")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Mechanism{None, WP, Full} {
		t.Run(string(m), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, path, string(m), "crash").CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("want death by SIGSEGV, got %v: %s", err, out)
			}
			ws, ok := ee.Sys().(syscall.WaitStatus)
			if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGSEGV {
				t.Fatalf("want death by SIGSEGV, got %v: %s", err, out)
			}
		})
	}
}

// TestBuildsClean: the library, its driver and every program compile without a warning
// under -Wall -Wextra.
func TestBuildsClean(t *testing.T) {
	b := newBuild(t)
	for _, name := range append(ProgramNames(), "test_ckpt") {
		t.Run(name, func(t *testing.T) {
			if _, err := b.Executable(t.Context(), name); err != nil {
				t.Fatal(err)
			}
			if w := b.Warnings(name); w != "" {
				t.Errorf("compiler warnings:\n%s", w)
			}
		})
	}
}

// small are size arguments that make each program run in milliseconds.
var small = map[string][]string{
	"stencil": {"64", "3"},    // 62 rows a sweep: 186 iterations
	"sort":    {"8192"},       // 16 iterations a pass, 13 passes: 208
	"kvstore": {"12", "8192"}, // 128 iterations
	"stream":  {"8192", "4"},  // 16 iterations a pass: 64
}

// TestProgramsAgree runs every program at a small size under every mechanism at several
// K: the checksum never depends on the mechanism or K, a checkpoint comes every K
// iterations, and the counts are those of the mechanism.
func TestProgramsAgree(t *testing.T) {
	b := newBuild(t)
	_, haveValgrind := os.Stat("/usr/include/valgrind/valgrind.h")
	for _, p := range Programs {
		t.Run(p.Name, func(t *testing.T) {
			checksum := ""
			var iterations int64
			for _, m := range Mechanisms {
				for _, k := range []int64{0, 1, 7, 100} {
					s, err := b.Run(t.Context(), p.Name, m, k, small[p.Name], time.Minute)
					if errors.Is(err, ErrUnsupported) {
						t.Logf("%s skipped: %v", m, err)
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if checksum == "" {
						checksum, iterations = s.Checksum, s.Iterations
					}
					if s.Checksum != checksum || s.Iterations != iterations {
						t.Errorf("%s K=%d: checksum %s after %d iterations, want %s after %d", m, k, s.Checksum, s.Iterations, checksum, iterations)
					}
					want := int64(0)
					if k > 0 {
						want = iterations / k
					}
					if s.Checkpoints != want {
						t.Errorf("%s K=%d: %d checkpoints, want %d", m, k, s.Checkpoints, want)
					}
					if s.BytesCopied != s.PagesCopied*4096 {
						t.Errorf("%s K=%d: %d bytes copied for %d pages", m, k, s.BytesCopied, s.PagesCopied)
					}
					switch m {
					case None:
						if s.PagesCopied != 0 || s.Traps != 0 || s.CkptTime != 0 {
							t.Errorf("none K=%d: %+v: want nothing copied, no traps, no time", k, s)
						}
					case WP:
						// Every page written traps at least once (the region starts clean);
						// a page is copied at most once for each trap.
						if s.Traps < s.RegionPages || s.PagesCopied > s.Traps || s.Mprotects < s.Traps {
							t.Errorf("wp K=%d: %d traps, %d pages copied, %d mprotects, region %d pages", k, s.Traps, s.PagesCopied, s.Mprotects, s.RegionPages)
						}
					case Full:
						// Each checkpoint copies every page touched so far: at most the
						// region, all of it once the program has touched it all (by its
						// last checkpoint, after its first pass), and no trap.
						if s.PagesCopied > s.Checkpoints*s.RegionPages || s.Checkpoints > 0 && s.MaxPages != s.RegionPages || s.Traps != 0 {
							t.Errorf("full K=%d: %d pages copied, at most %d a checkpoint, %d traps; want at most %d × %d, %d, none",
								k, s.PagesCopied, s.MaxPages, s.Traps, s.Checkpoints, s.RegionPages, s.RegionPages)
						}
					}
					if haveValgrind == nil && !s.Valgrind {
						t.Errorf("%s K=%d: valgrind=0, but valgrind.h is installed: the checkpoints issue no client request", m, k)
					}
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	b := newBuild(t)
	tests := []struct {
		name    string
		program string
		m       Mechanism
		k       int64
		args    []string
		timeout time.Duration
		want    string
	}{
		{"unknown program", "grep", WP, 1, nil, time.Minute, `program "grep": want one of stencil, sort, kvstore, stream`},
		{"unknown mechanism", "sort", "cow", 1, nil, time.Minute, `sort cow K=1: unknown mechanism "cow"`},
		{"negative K", "sort", WP, -1, nil, time.Minute, "sort wp K=-1: K must not be negative"},
		{"bad size", "stencil", None, 1, []string{"two"}, time.Minute, `stencil none K=1: exit status 2: stencil: N "two": want a whole number`},
		{"size too small", "stencil", None, 1, []string{"2"}, time.Minute, "stencil: N 2: want at least 3"},
		{"extra argument", "sort", None, 1, []string{"100", "200"}, time.Minute, "usage: sort none|wp|softdirty|full K [N]"},
		{"timeout", "stencil", None, 1, []string{"4096", "1000000"}, 200 * time.Millisecond, "stencil none K=1: killed after 200ms (timeout)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.Run(t.Context(), tc.program, tc.m, tc.k, tc.args, tc.timeout)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseSample(t *testing.T) {
	const good = "program=sort mechanism=wp k=10 iterations=208 checksum=0123456789abcdef elapsed_ns=5000 checkpoints=20 pages_copied=30 bytes_copied=122880 traps=40 mprotects=60 ckpt_ns=700 max_pages=3 region_pages=17 valgrind=1"
	tests := []struct {
		name string
		out  string
		want string // an error's text; "" for none
	}{
		{"good", good + "\n", ""},
		{"good after other output", "hello\n" + good + "\n", ""},
		{"empty", "", "no result line"},
		{"not key=value", good + " junk", `field "junk" is not key=value`},
		{"duplicate", good + " traps=1", "traps twice"},
		{"wrong program", strings.Replace(good, "program=sort", "program=stream", 1), `program "stream", want "sort"`},
		{"wrong K", strings.Replace(good, "k=10", "k=11", 1), `k "11", want "10"`},
		{"missing field", strings.Replace(good, " traps=40", "", 1), "no traps"},
		{"negative", strings.Replace(good, "traps=40", "traps=-4", 1), `traps "-4": want a whole number`},
		{"bad checksum", strings.Replace(good, "checksum=0123456789abcdef", "checksum=xyz", 1), `checksum "xyz"`},
		{"no time", strings.Replace(good, "elapsed_ns=5000", "elapsed_ns=0", 1), "elapsed_ns 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSample(tc.out, "sort", WP, 10)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Sample{Elapsed: 5000, Iterations: 208, Checksum: "0123456789abcdef", Checkpoints: 20, PagesCopied: 30,
				BytesCopied: 122880, Traps: 40, Mprotects: 60, CkptTime: 700, MaxPages: 3, RegionPages: 17, Valgrind: true}
			if s != want {
				t.Fatalf("got %+v\nwant %+v", s, want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name        string
		xs          []float64
		median, iqr float64
	}{
		{"one", []float64{4}, 4, 0},
		{"two", []float64{2, 4}, 3, 1},                    // quartiles 2.5 and 3.5
		{"five unsorted", []float64{5, 1, 3, 2, 4}, 3, 2}, // quartiles 2 and 4
		{"four", []float64{1, 2, 3, 10}, 2.5, 3},          // quartiles 1.75 and 4.75
		{"all zero", []float64{0, 0, 0}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.xs...)
			med, spread := Summarize(tc.xs)
			wantSpread := 0.0
			if tc.median != 0 {
				wantSpread = tc.iqr / tc.median
			}
			if math.Abs(med-tc.median) > 1e-12 || math.Abs(spread-wantSpread) > 1e-12 {
				t.Fatalf("Summarize(%v) = %v, %v; want %v, %v", tc.xs, med, spread, tc.median, wantSpread)
			}
			for i := range in {
				if in[i] != tc.xs[i] {
					t.Fatalf("Summarize changed its input: %v, was %v", tc.xs, in)
				}
			}
		})
	}
}

// TestMeasure measures two small programs three times: the points' overhead is their
// median over the baseline's minus one, with the baseline at the same K.
func TestMeasure(t *testing.T) {
	b := newBuild(t)
	var progress strings.Builder
	points, err := b.Measure(t.Context(), "sort", small["sort"], []Mechanism{WP, Full}, []int64{1, 10}, Options{Repeats: 3, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 4 {
		t.Fatalf("%d points, want 4", len(points))
	}
	for i, want := range []struct {
		m Mechanism
		k int64
	}{{WP, 1}, {WP, 10}, {Full, 1}, {Full, 10}} {
		p := points[i]
		if p.Mechanism != want.m || p.K != want.k || p.Baseline.Mechanism != None || p.Baseline.K != want.k {
			t.Errorf("point %d: %s K=%d against %s K=%d, want %s K=%d against none", i, p.Mechanism, p.K, p.Baseline.Mechanism, p.Baseline.K, want.m, want.k)
		}
		if len(p.Samples) != 3 || len(p.Baseline.Samples) != 3 {
			t.Errorf("point %d: %d and %d samples, want 3", i, len(p.Samples), len(p.Baseline.Samples))
		}
		if got := float64(p.Median)/float64(p.Baseline.Median) - 1; math.Abs(got-p.Overhead) > 1e-12 {
			t.Errorf("point %d: overhead %v, want %v", i, p.Overhead, got)
		}
		if p.Spread < 0 || p.OverheadSpread < 0 {
			t.Errorf("point %d: negative spread", i)
		}
	}
	if n := strings.Count(progress.String(), "\n"); n != 3*2*3 {
		t.Errorf("%d progress lines, want 18:\n%s", n, progress.String())
	}
	if _, err := b.Measure(t.Context(), "sort", small["sort"], nil, []int64{1}, Options{}); err == nil {
		t.Error("Measure with no mechanism: no error")
	}
}

func TestPrivateDir(t *testing.T) {
	parent := t.TempDir()
	dir, err := PrivateDir(parent, "p-")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dir); err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
		t.Fatalf("%s: %v %v", dir, fi.Mode(), err)
	}
	link := filepath.Join(parent, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(parent, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"private", dir, ""},
		{"symbolic link", link, "not a directory"},
		{"readable by others", open, "permissions 0755, want 0700"},
		{"missing", filepath.Join(parent, "none"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPrivate(tc.dir)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("checkPrivate(%s) = %v, want %q", tc.dir, err, tc.want)
			}
		})
	}
}

// TestSupported: none, wp and full work on every Linux; softdirty is either supported or
// refused with the reason.
func TestSupported(t *testing.T) {
	b := newBuild(t)
	for _, m := range Mechanisms {
		t.Run(string(m), func(t *testing.T) {
			err := b.Supported(t.Context(), m)
			if m == SoftDirty && errors.Is(err, ErrUnsupported) {
				if !strings.Contains(err.Error(), "softdirty: unsupported") {
					t.Errorf("refused without a reason: %v", err)
				}
				t.Logf("softdirty is not supported here: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	if err := b.Supported(t.Context(), "cow"); err == nil {
		t.Error("Supported(cow): no error")
	}
}
