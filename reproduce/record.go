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
	"strings"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/vgrecord"
)

// LongProgram is one program of the long study: a program found on a fresh Debian machine,
// run under `vmsim record` on an input generated here, deterministically.
type LongProgram struct {
	Name    string   // short name, for tables and file names
	Program string   // the command, looked up on PATH
	Args    []string // its arguments; "INPUT" stands for the generated input file
	// VersionArgs make Program print its version on its first line of output.
	VersionArgs []string
	// Input is the input's description, for the README.
	Input string
	// Gen writes the input. Invariant: the same bytes every call.
	Gen func(w io.Writer) error
	// Env is the environment the program runs in (a clean one: no local paths in the trace).
	Env []string
}

// LongPrograms are the programs of the long study, each >= 10^9 accesses with its input
// (measured: gzip -6 makes about 216 accesses an input byte, 1.19 × 10^9 on 5.5 MB; GNU
// sort about 32 a byte on 16 MB, 5.2 × 10^8, so 34 MB for 10^9 and more).
var LongPrograms = []LongProgram{
	{Name: "gzip", Program: "gzip", Args: []string{"-6", "-c", "INPUT"}, VersionArgs: []string{"--version"},
		Input: "5.5 MB of generated text lines (words from a fixed list, xorshift seed 1)",
		Gen:   func(w io.Writer) error { return genText(w, 5_500_000, 1) }},
	{Name: "sort", Program: "sort", Args: []string{"--parallel=1", "-S", "512M", "INPUT"}, VersionArgs: []string{"--version"},
		Input: "34 MB of generated text lines (words from a fixed list, xorshift seed 2), LC_ALL=C",
		Gen:   func(w io.Writer) error { return genText(w, 34_000_000, 2) }},
}

// genText writes n bytes (whole lines; the last may be cut) of text lines made of words
// from a fixed list and a number, from a xorshift64 generator seeded with seed.
func genText(w io.Writer, n int, seed uint64) error {
	words := []string{"alpha", "beta", "gamma", "delta", "checkpoint", "memory", "page", "trace", "virtual", "rollback",
		"interval", "failure", "recovery", "shadow", "bitmap", "granule"}
	x := seed*0x9E3779B97F4A7C15 | 1
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	var b strings.Builder
	for b.Len() < n {
		for i := range 8 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[next()%uint64(len(words))])
		}
		fmt.Fprintf(&b, " %d\n", next()%1_000_000)
	}
	_, err := io.WriteString(w, b.String()[:n])
	return err
}

// RecordingManifest says how a cached recording was made; a recording is reused only when
// every field matches.
type RecordingManifest struct {
	Name           string   `json:"name"`
	Program        string   `json:"program"`
	ProgramVersion string   `json:"program_version"`
	Args           []string `json:"args"`
	InputSHA256    string   `json:"input_sha256"`
	DataOnly       bool     `json:"data_only"`
	Valgrind       string   `json:"valgrind"`
	Tracer         string   `json:"tracer"` // the valgrind tool: vmtrace or lackey
	VmsimVersion   string   `json:"vmsim_version"`
	// Filled in after the recording (not compared).
	Accesses int64  `json:"accesses"`
	SHA256   string `json:"trace_sha256"`
}

func (m RecordingManifest) key() string {
	m.Accesses, m.SHA256 = 0, ""
	b, _ := json.Marshal(m)
	return string(b)
}

// Recording is a recorded long trace in the cache.
type Recording struct {
	Manifest RecordingManifest
	Path     string // the vmt file
}

// ensureRecording returns the cached recording of p (data-only or not), recording it when
// the cache holds none whose manifest matches. log gets one line per step.
func ensureRecording(ctx context.Context, cache string, p LongProgram, dataOnly bool, version string, log io.Writer) (*Recording, error) {
	path, err := exec.LookPath(p.Program)
	if err != nil {
		return nil, fmt.Errorf("long study: program %s not found (run reproduce/long-setup.sh, or install it): %w", p.Program, err)
	}
	vg, err := vgrecord.ValgrindVersion("")
	if err != nil {
		return nil, fmt.Errorf("long study: %w (reproduce/long-setup.sh installs it)", err)
	}
	out, err := exec.CommandContext(ctx, path, p.VersionArgs...).Output()
	if err != nil {
		return nil, fmt.Errorf("long study: %s %s: %w", path, strings.Join(p.VersionArgs, " "), err)
	}
	pv, _, _ := strings.Cut(string(out), "\n")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	in := filepath.Join(cache, p.Name+".input")
	h := sha256.New()
	if err := atomicfile.Write(in, func(w io.Writer) error { return p.Gen(io.MultiWriter(w, h)) }); err != nil {
		return nil, err
	}
	stem := p.Name
	if dataOnly {
		stem += "-data"
	}
	// vmtrace where it builds (in the user's cache folder, which the recording's clean
	// environment cannot find: it is named to it in VALGRIND_LIB), else lackey.
	tracer, env := vgrecord.TracerLackey, []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	if dir, err := vgrecord.BuildVMTrace(""); err == nil {
		tracer, env = vgrecord.TracerVMTrace, append(env, "VALGRIND_LIB="+dir)
	} else {
		fmt.Fprintf(log, "long study: recording with lackey, which is slower: %v\n", err)
	}
	m := RecordingManifest{Name: stem, Program: path, ProgramVersion: strings.TrimSpace(pv), Args: p.Args,
		InputSHA256: hex.EncodeToString(h.Sum(nil)), DataOnly: dataOnly, Valgrind: vg, Tracer: tracer, VmsimVersion: version}
	rec := &Recording{Path: filepath.Join(cache, stem+".vmt")}
	mpath := filepath.Join(cache, stem+".json")
	if b, err := os.ReadFile(mpath); err == nil {
		var old RecordingManifest
		if json.Unmarshal(b, &old) == nil && old.key() == m.key() {
			if fi, err := os.Stat(rec.Path); err == nil && fi.Size() > 0 {
				rec.Manifest = old
				fmt.Fprintf(log, "long study: reusing %s (%d accesses)\n", rec.Path, old.Accesses)
				return rec, nil
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	args := make([]string, len(p.Args))
	for i, a := range p.Args {
		if a == "INPUT" {
			a = filepath.Base(in)
		}
		args[i] = a
	}
	fmt.Fprintf(log, "long study: recording %s %s into %s\n", p.Program, strings.Join(args, " "), rec.Path)
	// `vmsim record` runs in the cache folder with a clean environment, so that the
	// arguments in the trace name no local path; its output is written atomically.
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	// Without the kernel's writes, which vmsim record adds by default since issue 23:
	// the study's counts keep their meaning.
	cargs := []string{"record", "--tracer", tracer, "--kernel-writes=false", "-o", filepath.Base(rec.Path)}
	if dataOnly {
		cargs = append(cargs, "--data-only")
	}
	cmd := exec.CommandContext(ctx, self, append(append(cargs, "--", path), args...)...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = cache, env, io.Discard, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("long study: recording %s (%s): %w", stem, strings.Join(cmd.Args, " "), err)
	}
	tf, err := traces.Open(rec.Path, traces.Options{})
	if err != nil {
		return nil, err
	}
	sum, err := traces.Summarize(tf, traces.SummaryOptions{PageSize: PageSize})
	tf.Close()
	if err != nil {
		return nil, fmt.Errorf("long study: %s: %w", rec.Path, err)
	}
	m.Accesses = sum.Accesses
	if m.SHA256, err = fileSHA256(rec.Path); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := atomicfile.WriteFile(mpath, append(b, '\n')); err != nil {
		return nil, err
	}
	rec.Manifest = m
	fmt.Fprintf(log, "long study: recorded %s: %d accesses\n", stem, m.Accesses)
	return rec, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
