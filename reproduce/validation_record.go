package reproduce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/vmsim/vmsim/internal/lazy"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/vgrecord"
)

// runOutput is what a recorded run printed: its checksum and where its checkpointed
// region lies (under valgrind).
type runOutput struct {
	checksum string
	// region is the region's bytes [lo, hi).
	lo, hi uint64
}

var (
	checksumField = lazy.Regexp(`\bchecksum=([0-9a-f]+)\b`)
	regionField   = lazy.Regexp(`\bregion_pages=([0-9]+) region=0x([0-9a-f]+)\b`)
)

// parseRunOutput reads the checksum and the region from a program's result line.
func parseRunOutput(out string) (runOutput, error) {
	m, r := checksumField().FindStringSubmatch(out), regionField().FindStringSubmatch(out)
	if m == nil || r == nil {
		return runOutput{}, fmt.Errorf("the program printed no checksum or region: %.500q", out)
	}
	pages, err1 := strconv.ParseUint(r[1], 10, 64)
	lo, err2 := strconv.ParseUint(r[2], 16, 64)
	if err := errors.Join(err1, err2); err != nil || lo+pages*PageSize < lo {
		return runOutput{}, fmt.Errorf("the program's region %q: want pages and an address", r[0])
	}
	return runOutput{checksum: m[1], lo: lo, hi: lo + pages*PageSize}, nil
}

// regionReader keeps, of the records r reads, the accesses to bytes [lo, hi) and the
// checkpoint records: what the library checkpoints (its region, between guard pages, so
// that no access crosses its edge), not the stack, the globals or the C library.
type regionReader struct {
	r      traces.Reader
	lo, hi uint64
}

func (g *regionReader) Read(recs []traces.Record) (int, error) {
	for {
		n, err := g.r.Read(recs)
		k := 0
		for _, x := range recs[:n] {
			if x.Kind == traces.Checkpoint || (x.Kind.IsAccess() && x.Addr >= g.lo && x.Addr < g.hi) {
				recs[k] = x
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// Close closes the reader underneath, if it closes.
func (g *regionReader) Close() error {
	if c, ok := g.r.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// recordRun records exe args under vmtrace (data accesses only) into the vmt file path.
func recordRun(ctx context.Context, exe, toolDir, path string, args []string) (*vgrecord.RecordResult, runOutput, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, runOutput{}, err
	}
	defer f.Close()
	w, err := traces.NewVMTWriter(f, traces.VMTOptions{Compress: true})
	if err != nil {
		return nil, runOutput{}, err
	}
	var stdout, stderr bytes.Buffer
	res, err := vgrecord.RecordProgram(ctx, w, vgrecord.RecordOptions{
		Program: exe, Args: args, DataOnly: true, Tracer: vgrecord.TracerVMTrace, ToolDir: toolDir,
		Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return nil, runOutput{}, fmt.Errorf("recording: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, runOutput{}, fmt.Errorf("recording: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, runOutput{}, fmt.Errorf("recording: %w", err)
	}
	if res.ExitCode != 0 || res.Truncated {
		return nil, runOutput{}, fmt.Errorf("recording: the program exited with status %d under valgrind: %.500s", res.ExitCode, stderr.String())
	}
	out, err := parseRunOutput(stdout.String())
	if err != nil {
		return nil, runOutput{}, fmt.Errorf("recording: %w", err)
	}
	return res, out, nil
}
