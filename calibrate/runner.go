package calibrate

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vmsim/vmsim/validate"
)

//go:embed probe.c
var probeSource []byte

// ProbeRunner runs the probe program (probe.c), compiled into a private directory of its
// own. Close removes it.
type ProbeRunner struct {
	// dir holds the executable path. Invariant: a private directory (validate.PrivateDir).
	dir, path string
	// Timeout bounds each run (2 minutes by NewProbeRunner).
	Timeout time.Duration
}

// NewProbeRunner compiles the probe with gcc (or cc) into a fresh private directory under
// os.TempDir(). It needs Linux and a C compiler (an error wrapping
// validate.ErrNoCompiler without one).
func NewProbeRunner(ctx context.Context) (*ProbeRunner, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("calibrate measures Linux machines only, not %s", runtime.GOOS)
	}
	cc, err := validate.FindCompiler()
	if err != nil {
		return nil, err
	}
	dir, err := validate.PrivateDir("", "vmsim-calibrate-")
	if err != nil {
		return nil, err
	}
	path, _, err := validate.Compile(ctx, cc, dir, "probe", map[string][]byte{"probe.c": probeSource}, []string{"probe.c"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &ProbeRunner{dir: dir, path: path, Timeout: 2 * time.Minute}, nil
}

// Close removes the probe and its directory.
func (p *ProbeRunner) Close() error { return os.RemoveAll(p.dir) }

// Run runs the probe once and parses its line of key=value numbers.
func (p *ProbeRunner) Run(ctx context.Context, probe string, args ...string) (map[string]float64, error) {
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, p.path, append([]string{probe}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("killed after %v (timeout)", p.Timeout)
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	}
	return ParseLine(stdout.String())
}

// ParseLine parses a probe's output, one line of key=number pairs.
func ParseLine(out string) (map[string]float64, error) {
	line := strings.TrimSpace(out)
	if line == "" || strings.Contains(line, "\n") {
		return nil, fmt.Errorf("output %q: want one line of key=value numbers", out)
	}
	raw := map[string]float64{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("output %q: field %q is not key=value", line, f)
		}
		if _, dup := raw[k]; dup {
			return nil, fmt.Errorf("output %q: %s twice", line, k)
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("output %q: %s %q is not a number", line, k, v)
		}
		raw[k] = n
	}
	return raw, nil
}
