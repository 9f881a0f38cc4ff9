package reproduce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/internal/privdir"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
	"github.com/vmsim/vmsim/vgrecord"
)

// EnsureWorkloads records what the cache lacks (two at a time) and returns every
// recording, in Workloads' order; a workload whose program is missing is an error naming
// the Debian package to install.
func EnsureWorkloads(ctx context.Context, cache, version string, log io.Writer) ([]*Recording, error) {
	return ensureAll(ctx, cache, version, log, Workloads)
}

// ensureAll makes sure the cache holds a recording of every workload of ws, recording what
// is missing two at a time, and returns them in ws's order. Every workload's error is
// reported, joined.
func ensureAll(ctx context.Context, cache, version string, log io.Writer, ws []Workload) ([]*Recording, error) {
	// A recording whose manifest matches is reused unread: the folder must be the user's.
	if cache == "" {
		return nil, errors.New("no folder for the workloads' recordings: the user has no cache folder ($HOME and $XDG_CACHE_HOME unset); give one with --cache DIR")
	}
	if err := privdir.Ensure(cache, "the workloads' recordings folder"); err != nil {
		return nil, err
	}
	recs := make([]*Recording, len(ws))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := ensureWorkload(ctx, cache, w, version, &syncWriter{w: log, mu: &mu})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			recs[i] = r
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return recs, nil
}

// stem is the name of the workload's files in the cache: NAME.vmt, NAME.json and the
// input folder NAME.in.
func (w Workload) stem() string {
	if w.DataOnly && !strings.HasSuffix(w.Name, "-data") {
		return w.Name + "-data"
	}
	return w.Name
}

// missing is the error of a workload whose program (or compiler) is not installed.
func (w Workload) missing(prog string, err error) error {
	return fmt.Errorf("workload %s: %s not found: install the Debian package %s (sh reproduce/setup.sh installs every workload's): %w",
		w.Name, prog, strings.Join(w.Apt, " "), err)
}

// program returns the path of the workload's program (for a Source workload, of gcc).
func (w Workload) program(ctx context.Context) (string, error) {
	switch {
	case w.Source != "":
		p, err := exec.LookPath("gcc")
		if err != nil {
			return "", w.missing("gcc", err)
		}
		return p, nil
	case len(w.Locate) > 0:
		if _, err := exec.LookPath(w.Locate[0]); err != nil {
			return "", w.missing(w.Locate[0], err)
		}
		out, err := exec.CommandContext(ctx, w.Locate[0], w.Locate[1:]...).Output()
		p := strings.TrimSpace(string(out))
		if err == nil && !filepath.IsAbs(p) {
			err = errors.New("not an absolute path: " + p)
		}
		if err == nil {
			_, err = os.Stat(p)
		}
		if err != nil {
			return "", w.missing(w.Program+" ("+strings.Join(w.Locate, " ")+")", err)
		}
		return p, nil
	}
	p, err := exec.LookPath(w.Program)
	if err != nil {
		return "", w.missing(w.Program, err)
	}
	return p, nil
}

// versionLine returns the first non-empty line a command prints (standard output, then
// error: cc1 prints its version on the latter).
func versionLine(ctx context.Context, dir, prog string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir, cmd.Env = dir, cleanEnv
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", prog, strings.Join(args, " "), err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l, nil
		}
	}
	return "", fmt.Errorf("%s %s printed no version", prog, strings.Join(args, " "))
}

// vmsimExe is the vmsim binary that records (a test names one it built).
var vmsimExe = os.Executable

// cleanEnv is the environment the workloads run in, the same on every machine, so that a
// recording is too: /usr/bin's programs first (this machine may have others earlier on
// PATH); PWD empty (else os/exec sets it to the input folder's path, whose length, by the
// stack's layout, changes the count of a program's accesses: xz's by tens); and the hash
// seeds of python and perl fixed, which they otherwise draw at random at start, so that
// their hash tables' orders, and with them the accesses, differ from run to run (redis
// draws its seed from /dev/urandom with no setting to fix it).
var cleanEnv = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "PWD=", "PYTHONHASHSEED=0", "PERL_HASH_SEED=0", "PERL_PERTURB_KEYS=0"}

// inputHash is the sha256 of the files of dir, in name order: each file's name, a zero
// byte, its length in decimal, a zero byte, its bytes.
func inputHash(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// prepareInputs empties dir and writes the workload's inputs (and its C source) into it,
// returning their hash.
func (w Workload) prepareInputs(dir string) (string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if w.Gen != nil {
		if err := w.Gen(dir); err != nil {
			return "", fmt.Errorf("workload %s: generating its input: %w", w.Name, err)
		}
	}
	if w.Source != "" {
		src, err := corpus.Source(w.Source)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, w.Source), src, 0o644); err != nil {
			return "", err
		}
	}
	return inputHash(dir)
}

// ensureWorkload returns the cached recording of w, recording it when the cache holds
// none whose manifest matches. log gets one line per step.
func ensureWorkload(ctx context.Context, cache string, w Workload, version string, log io.Writer) (*Recording, error) {
	path, err := w.program(ctx)
	if err != nil {
		return nil, err
	}
	vg, err := vgrecord.ValgrindVersion("")
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w (install the Debian package valgrind; reproduce/setup.sh does)", w.Name, err)
	}
	stem := w.stem()
	dir := filepath.Join(cache, stem+".in")
	hash, err := w.prepareInputs(dir)
	if err != nil {
		return nil, err
	}
	var pv string
	if w.Source != "" {
		if pv, err = versionLine(ctx, dir, path, "--version"); err != nil {
			return nil, fmt.Errorf("workload %s: %w", w.Name, err)
		}
		pv += ", -O2"
		cc := exec.CommandContext(ctx, path, "-O2", "-o", w.Program, w.Source)
		cc.Dir, cc.Env = dir, cleanEnv
		if out, err := cc.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("workload %s: compiling %s: %w\n%s", w.Name, w.Source, err, out)
		}
		path = "./" + w.Program
	} else if pv, err = versionLine(ctx, dir, path, w.VersionArgs...); err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	// vmtrace where it builds (in the user's cache folder, which the recording's clean
	// environment cannot find: it is named to it in VALGRIND_LIB), else lackey.
	tracer, env := vgrecord.TracerLackey, slices.Clone(cleanEnv)
	if vdir, err := vgrecord.BuildVMTrace(""); err == nil {
		tracer, env = vgrecord.TracerVMTrace, append(env, "VALGRIND_LIB="+vdir)
	} else {
		fmt.Fprintf(log, "workloads: recording %s with lackey, which is slower: %v\n", stem, err)
	}
	m := RecordingManifest{Name: stem, Program: path, ProgramVersion: pv, Args: w.Args, Env: cleanEnv, InputSHA256: hash,
		DataOnly: w.DataOnly, Syscalls: w.Syscalls, Valgrind: vg, Tracer: tracer, VmsimVersion: version}
	rec := &Recording{Path: filepath.Join(cache, stem+".vmt")}
	mpath := filepath.Join(cache, stem+".json")
	if old, ok, err := reusable(mpath, rec.Path, m); err != nil {
		return nil, err
	} else if ok {
		if rec.Manifest, err = completed(mpath, rec.Path, old); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "workloads: reusing %s (%d accesses)\n", rec.Path, old.Accesses)
		return rec, nil
	}
	fmt.Fprintf(log, "workloads: recording %s %s into %s\n", path, strings.Join(w.Args, " "), rec.Path)
	start := time.Now()
	if err := w.record(ctx, dir, path, tracer, "../"+stem+".vmt", env, log); err != nil {
		return nil, err
	}
	m.RecordSeconds = time.Since(start).Round(time.Second).Seconds()
	if err := measure(rec.Path, &m); err != nil {
		return nil, err
	}
	if err := writeManifest(mpath, m); err != nil {
		return nil, err
	}
	rec.Manifest = m
	fmt.Fprintf(log, "workloads: recorded %s: %d accesses, %d pages touched, %d written, in %.0f s\n",
		stem, m.Accesses, m.PagesTouched, m.PagesWritten, m.RecordSeconds)
	return rec, nil
}

// reusable returns the manifest at mpath when it matches m and the trace is there.
func reusable(mpath, trace string, m RecordingManifest) (RecordingManifest, bool, error) {
	b, err := os.ReadFile(mpath)
	if errors.Is(err, os.ErrNotExist) {
		return RecordingManifest{}, false, nil
	} else if err != nil {
		return RecordingManifest{}, false, err
	}
	var old RecordingManifest
	if json.Unmarshal(b, &old) != nil || old.key() != m.key() {
		return RecordingManifest{}, false, nil
	}
	if fi, err := os.Stat(trace); err != nil || fi.Size() == 0 {
		return RecordingManifest{}, false, nil
	}
	return old, true, nil
}

// completed returns the manifest m of the trace at path with the counts filled in and
// written back to mpath when m was written before the manifest kept them.
func completed(mpath, path string, m RecordingManifest) (RecordingManifest, error) {
	if m.PagesTouched > 0 && m.WriteFraction > 0 {
		return m, nil
	}
	if err := measure(path, &m); err != nil {
		return m, err
	}
	return m, writeManifest(mpath, m)
}

// measure fills in the manifest's counts from the trace at path.
func measure(path string, m *RecordingManifest) error {
	tf, err := traces.Open(path, traces.Options{})
	if err != nil {
		return err
	}
	sum, err := traces.Summarize(tf, traces.SummaryOptions{PageSize: PageSize})
	tf.Close()
	if err != nil {
		return fmt.Errorf("workloads: %s: %w", path, err)
	}
	m.Accesses, m.PagesTouched, m.PagesWritten, m.WriteFraction = sum.Accesses, sum.PagesTouched, sum.PagesWritten, sum.WriteFraction
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	m.TraceBytes = fi.Size()
	m.SHA256, err = fileSHA256(path)
	return err
}

func writeManifest(path string, m RecordingManifest) error {
	b, _ := json.MarshalIndent(m, "", "  ")
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// record runs `vmsim record` on the workload in its input folder dir, with a clean
// environment, so that the arguments in the trace name no local path (out is relative
// to dir); the trace is written atomically. With Drive, the program's standard input is
// a pipe that Drive writes, and a Drive that fails stops the recording.
func (w Workload) record(ctx context.Context, dir, path, tracer, out string, env []string, log io.Writer) error {
	self, err := vmsimExe()
	if err != nil {
		return err
	}
	// Without the kernel's writes, which vmsim record adds by default since issue 23:
	// the study's counts keep their meaning.
	args := []string{"record", "--tracer", tracer, "--kernel-writes=false", "-o", out}
	if w.DataOnly {
		args = append(args, "--data-only")
	}
	if w.Syscalls {
		args = append(args, "--syscalls")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, append(append(args, "--", path), w.Args...)...)
	// Interrupted, vmsim record is asked to stop (it then kills the traced program and
	// removes its temporary output), and killed only if it has not within a minute.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, io.Discard, log
	fail := func(err error) error {
		return fmt.Errorf("workload %s: recording (%s): %w", w.Name, strings.Join(cmd.Args, " "), err)
	}
	if w.Drive == nil {
		if err := cmd.Run(); err != nil {
			return fail(err)
		}
		return nil
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	// The driver's context ends when the recording does, so that it stops waiting for a
	// program that failed.
	dctx, dcancel := context.WithCancel(ctx)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait(); dcancel() }()
	derr := w.Drive(dctx, dir, stdin)
	stdin.Close()
	if derr != nil {
		cancel()
		<-waited
		return fail(fmt.Errorf("driving it: %w", derr))
	}
	if err := <-waited; err != nil {
		return fail(err)
	}
	return nil
}
