package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vmsim/vmsim/traces"
)

func newTraceCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Convert, describe and look into trace files",
	}
	cmd.AddCommand(newConvertCmd(stderr), newStatsCmd(stdout), newHeadCmd(stdout))
	return cmd
}

// inputFlags are the flags every command reading a trace takes.
type inputFlags struct {
	format  string
	lenient bool
}

func (in *inputFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&in.format, "format", "auto", fmt.Sprintf("input format (%s); auto sniffs it from the content", formatList(traces.Formats)))
	cmd.Flags().BoolVar(&in.lenient, "lenient", false, "lackey: skip malformed lines instead of failing")
}

func (in *inputFlags) open(path string) (*traces.File, error) {
	f, err := traces.ParseFormat(in.format)
	if err != nil {
		return nil, fmt.Errorf("--format: %w", err)
	}
	return openInput(path, traces.Options{Format: f, Lenient: in.lenient})
}

func formatList(fs []traces.Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, "|")
}

// outBuffer is how much of trace head's output is held before it is written.
const outBuffer = 1 << 20

func newHeadCmd(w io.Writer) *cobra.Command {
	var in inputFlags
	var n int
	var from uint64
	cmd := &cobra.Command{
		Use:   "head [flags] TRACE",
		Short: "Print the first records of a trace (or those from an access on), decoded",
		Long: `Print what vmsim reads from TRACE: its format and compression (and a vmt file's
metadata, a drmemtrace trace's threads, version and page size), then -n records, one a
line: the access number, address space, kind, address, size in bytes and thread (0 in a
format without thread ids); a write the kernel made (a version 3 vmt file, as vmsim record
writes them) shows as kind k-write. Accesses are numbered from 1, as everywhere in vmsim (run
--fail-at N strikes just after access N); a control record shows "-".

--from N starts at access N: control records between accesses N-1 and N come first, then
access N. A vmt file jumps there with its index; other formats are decoded from the
start. TRACE "-" is standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return fmt.Errorf("-n %d: want 0 or more records", n)
			}
			f, err := in.open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			// Output goes through a buffer of outBuffer bytes: an error within the first
			// records prints nothing; past that, what was printed stays, and the error
			// follows on standard error (memory stays bounded whatever -n).
			out := bufio.NewWriterSize(w, outBuffer)
			stdout := out
			fmt.Fprintf(stdout, "# %s: format %s, compression %s\n", args[0], f.Format, f.Compression)
			if v, ok := f.Reader.(*traces.VMTReader); ok {
				h := v.Header()
				fmt.Fprintf(stdout, "# vmt version %d, zstd blocks %v, %d records a block, metadata %s\n", h.Version, h.Compressed, h.BlockRecords, h.Meta)
			}
			if d, ok := f.Reader.(*traces.DrmemtraceReader); ok {
				fmt.Fprintf(stdout, "# %s\n", describeDrmemtrace(d.Info()))
			}
			if from < 1 {
				return fmt.Errorf("--from %d: access numbers start at 1", from)
			}
			var src traces.Reader = f
			if v, ok := f.Reader.(*traces.VMTReader); ok {
				if _, total, ok := v.Records(); ok && from > total {
					return fmt.Errorf("--from %d: access %d is past the end (%d accesses)", from, from, total)
				}
			}
			if skip := from - 1; skip > 0 {
				if err := f.SeekAccess(skip); err == nil {
					fmt.Fprintf(stdout, "# jumped to access %d with the vmt index\n", from)
				} else if errors.Is(err, traces.ErrNotSeekable) {
					if src, err = skipAccesses(f, skip); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "# decoded from the start to access %d\n", from)
				} else {
					return err
				}
			}
			fmt.Fprintf(stdout, "%10s %6s %-10s %18s %6s %8s\n", "#access", "asid", "kind", "address", "size", "thread")
			buf := make([]traces.Record, min(max(n, 1), 4096))
			acc := from
			for i := 0; i < n; {
				k, err := src.Read(buf[:min(len(buf), n-i)])
				for _, r := range buf[:k] {
					if r.Kind.IsAccess() {
						kind := r.Kind.String()
						if r.Kernel {
							kind = "k-write"
						}
						fmt.Fprintf(stdout, "%10d %6d %-10s %#18x %6d %8d\n", acc, r.ASID, kind, r.Addr, r.Size, r.Thread)
						acc++
					} else {
						fmt.Fprintf(stdout, "%10s %6d %-10s %18s %6s %8d\n", "-", r.ASID, r.Kind, "-", "-", r.Thread)
					}
					i++
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
			}
			return out.Flush()
		},
	}
	countVar(cmd.Flags(), &from, "from", "", 1, "start at this access (the first access is 1)")
	in.add(cmd)
	countVar(cmd.Flags(), &n, "records", "n", 10, "number of records to print")
	return cmd
}

// describeDrmemtrace says what a drmemtrace trace is, for trace head.
func describeDrmemtrace(info traces.DrmemtraceInfo) string {
	order := "timestamp order (no serial schedule)"
	if info.Schedule != "" {
		order = "the order of " + filepath.Base(info.Schedule)
	}
	return fmt.Sprintf("drmemtrace version %d, file type %#x, %d threads of processes %v, page size %d; threads in %s",
		info.Version, info.FileType, info.Threads, info.Processes, info.PageSize, order)
}

// skipAccesses reads and drops the first n accesses of r (and the control records among
// them), and returns a reader of the rest (the records it read past that point first).
// It is an error for r to have no record after them.
func skipAccesses(r traces.Reader, n uint64) (traces.Reader, error) {
	buf := make([]traces.Record, 4096)
	var acc uint64
	for {
		k, err := r.Read(buf)
		for i, rec := range buf[:k] {
			if acc == n {
				rest := slices.Clone(buf[i:k])
				return &prefixed{head: rest, r: r, err: err}, nil
			}
			if rec.Kind.IsAccess() {
				acc++
			}
		}
		if err == io.EOF {
			return nil, fmt.Errorf("--from %d: access %d is past the end (%d accesses)", n+1, n+1, acc)
		}
		if err != nil {
			return nil, err
		}
	}
}

// prefixed reads head, then (unless err ended the stream) r.
type prefixed struct {
	head []traces.Record
	r    traces.Reader
	err  error
}

func (p *prefixed) Read(out []traces.Record) (int, error) {
	if len(p.head) > 0 {
		k := copy(out, p.head)
		p.head = p.head[k:]
		return k, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(out)
}
