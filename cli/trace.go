package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
	"github.com/ulikunitz/xz"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/sim"
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

func newConvertCmd(stderr io.Writer) *cobra.Command {
	var in inputFlags
	var to, compress, level string
	var lossy bool
	var block int
	cmd := &cobra.Command{
		Use:   "convert [flags] IN OUT",
		Short: "Convert a trace to another format (vmt, rw, din, xdin, lackey)",
		Long: `Convert the trace IN (any format vmsim reads, compressed or not; a drmemtrace
directory too) to OUT in the format --to. OUT is written under a temporary name and
renamed when complete, so a failed conversion leaves no partial OUT; "-" writes to
standard output.

What the target format cannot carry: rw has no sizes, instruction fetches or modifies
(a fetch is written as R, a modify as W); din has no sizes and no modifies; xdin and
lackey carry every access field. None of the text formats carries address space ids,
thread ids or checkpoint and fail records: converting a trace that has them fails
unless --lossy, which merges every address space into 0, drops thread ids and drops
control records. Whatever is lost is reported on standard error. vmt carries
everything: X -> vmt -> X gives X's records back. A trace whose format carries thread
ids (drmemtrace, version 2 vmt) is written as version 2 vmt, with them; any other as
version 1, byte for byte as before threads (traces/FORMAT.md).

--compress zstd on a vmt output compresses each block inside the file, which stays
seekable; gzip, zstd (for text formats) and xz compress the whole output stream.
--zstd-level best makes a vmt file about 10% smaller than the default (better), at a
fifth of the speed or less: for traces written once and read many times.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := traces.ParseFormat(to)
			if err != nil || format == traces.FormatAuto {
				return fmt.Errorf("--to %q: want one of %s", to, formatList(traces.WriterFormats))
			}
			if !cmd.Flags().Changed("compress") {
				compress = "none"
				if format == traces.FormatVMT {
					compress = "zstd"
				}
			}
			zl, ok := zstdLevels[level]
			if !ok {
				return fmt.Errorf("--zstd-level %q: want fastest, default, better or best", level)
			}
			if w := extWarning(args[1], format, compress); w != "" {
				fmt.Fprintf(stderr, "vmsim: warning: %s\n", w)
			}
			src, err := in.open(args[0])
			if err != nil {
				return err
			}
			defer src.Close()
			meta := map[string]any{"source": filepath.Base(args[0]), "source_format": string(src.Format)}
			if v, ok := src.Reader.(*traces.VMTReader); ok {
				// vmt to vmt keeps the metadata.
				if err := json.Unmarshal(v.Header().Meta, &meta); err != nil {
					return err
				}
			}
			return writeAtomically(args[1], func(w io.Writer) error {
				n, losses, err := convert(src, w, format, compress, zl, block, lossy, src.Threads(), meta)
				if err != nil {
					return err
				}
				if losses.Any() {
					fmt.Fprintf(stderr, "vmsim: note: %s cannot carry everything in %s (%d records): %s\n", format, args[0], n, describeLosses(losses))
				}
				return nil
			})
		},
	}
	in.add(cmd)
	f := cmd.Flags()
	f.StringVar(&to, "to", "vmt", "output format ("+formatList(traces.WriterFormats)+")")
	f.StringVar(&compress, "compress", "", "none|gzip|zstd|xz (default zstd for vmt, none otherwise)")
	f.BoolVar(&lossy, "lossy", false, "text outputs: merge address spaces and drop thread ids and control records instead of failing")
	f.IntVar(&block, "block", traces.VMTDefaultBlockRecords, "vmt: records per block (the seek index spacing)")
	f.StringVar(&level, "zstd-level", "better", "vmt: zstd level of the blocks (fastest|default|better|best)")
	return cmd
}

// zstdLevels are the zstd encoder levels --zstd-level names.
var zstdLevels = map[string]zstd.EncoderLevel{
	"fastest": zstd.SpeedFastest, "default": zstd.SpeedDefault,
	"better": zstd.SpeedBetterCompression, "best": zstd.SpeedBestCompression,
}

func describeLosses(l traces.Losses) string {
	var parts []string
	if l.Sizes > 0 {
		parts = append(parts, fmt.Sprintf("%d accesses wider than a byte written as 1 byte", l.Sizes))
	}
	if l.Kinds > 0 {
		parts = append(parts, fmt.Sprintf("%d accesses written as another kind (modify as write, fetch as read)", l.Kinds))
	}
	if l.ASIDs > 0 {
		parts = append(parts, fmt.Sprintf("%d accesses moved to address space 0", l.ASIDs))
	}
	if l.Threads > 0 {
		parts = append(parts, fmt.Sprintf("%d accesses' thread ids dropped", l.Threads))
	}
	if l.Control > 0 {
		parts = append(parts, fmt.Sprintf("%d control records dropped", l.Control))
	}
	return strings.Join(parts, "; ")
}

// convert copies src to w in format, compressed as asked; threads says that src's
// records may carry thread ids (a vmt output is then version 2).
func convert(src traces.Reader, w io.Writer, format traces.Format, compress string, level zstd.EncoderLevel, block int, lossy, threads bool, meta map[string]any) (int64, traces.Losses, error) {
	out, closeOut, err := compressor(w, compress, format == traces.FormatVMT)
	if err != nil {
		return 0, traces.Losses{}, err
	}
	opt := traces.WriterOptions{Lossy: lossy, VMT: traces.VMTOptions{
		Compress: format == traces.FormatVMT && compress == "zstd", Level: level, BlockRecords: block, Meta: meta, Threads: threads}}
	tw, err := traces.NewWriter(out, format, opt)
	if err != nil {
		return 0, traces.Losses{}, err
	}
	var n int64
	buf := make([]traces.Record, 8192)
	for {
		k, rerr := src.Read(buf)
		if err := tw.Write(buf[:k]); err != nil {
			return n, traces.Losses{}, err
		}
		n += int64(k)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, traces.Losses{}, rerr
		}
	}
	if err := tw.Close(); err != nil {
		return n, traces.Losses{}, err
	}
	if err := closeOut(); err != nil {
		return n, traces.Losses{}, err
	}
	var losses traces.Losses
	if lw, ok := tw.(traces.LossyWriter); ok {
		losses = lw.Losses()
	}
	return n, losses, nil
}

// compressor wraps w in the compression asked for. For vmt, zstd is done per block by
// the vmt writer, so it is no wrapper here.
func compressor(w io.Writer, compress string, vmt bool) (io.Writer, func() error, error) {
	nop := func() error { return nil }
	switch compress {
	case "none":
		return w, nop, nil
	case "gzip":
		z := gzip.NewWriter(w)
		return z, z.Close, nil
	case "zstd":
		if vmt {
			return w, nop, nil
		}
		z, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	case "xz":
		z, err := xz.NewWriter(w)
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	}
	return nil, nil, fmt.Errorf("--compress %q: want none, gzip, zstd or xz", compress)
}

// writeAtomically writes path through write: whole or not at all (internal/atomicfile:
// a temporary file beside it, renamed over it when write succeeds; a device or fifo is
// written in place, a symbolic link followed). "-" is standard output.
func writeAtomically(path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(os.Stdout)
	}
	return atomicfile.Write(path, write)
}

// extFormats maps file name extensions to the format they suggest.
var extFormats = map[string]traces.Format{
	".vmt": traces.FormatVMT, ".rw": traces.FormatRW, ".din": traces.FormatDin,
	".xdin": traces.FormatXDin, ".lackey": traces.FormatLackey,
}

// extWarning says how out's name contradicts the output format and compression, or "".
func extWarning(out string, format traces.Format, compress string) string {
	if out == "-" {
		return ""
	}
	name := strings.ToLower(filepath.Base(out))
	comp := map[string]string{".gz": "gzip", ".zst": "zstd", ".xz": "xz"}
	ext := filepath.Ext(name)
	if c, ok := comp[ext]; ok {
		if c != compress && !(format == traces.FormatVMT && c == "zstd" && compress == "zstd") {
			return fmt.Sprintf("%s ends in %s but --compress is %s", out, ext, compress)
		}
		name = strings.TrimSuffix(name, ext)
		ext = filepath.Ext(name)
	} else if compress != "none" && format != traces.FormatVMT {
		return fmt.Sprintf("%s is %s-compressed but its name does not say so", out, compress)
	}
	if f, ok := extFormats[ext]; ok && f != format && !(f == traces.FormatDin && format == traces.FormatXDin) {
		return fmt.Sprintf("%s ends in %s but --to is %s", out, ext, format)
	}
	return ""
}

func newStatsCmd(stdout io.Writer) *cobra.Command {
	var in inputFlags
	var opt traces.SummaryOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats [flags] TRACE",
		Short: "Describe a trace: accesses by kind, pages touched and written, writes per interval",
		Long: `Describe TRACE: records and accesses by kind, address spaces, distinct pages touched
and written at --page-size (distinct (address space, page) pairs, as vmsim run counts
pages_touched and pages_written), the write fraction ((writes+modifies)/accesses), the
footprint (pages touched × page size), and for each interval in --intervals the distinct
pages written per interval: the number of intervals (the last may be partial), the sum of
distinct pages written over them (equal to vmsim run's first_writes with that --interval,
no failures, scope system), their mean and their maximum.

A trace with thread ids (drmemtrace, version 2 vmt) is also described per thread: each
(address space, thread) pair's accesses, reads, writes, modifies, fetches, and the
distinct pages it touched and wrote (a page two threads touch counts for each). A
drmemtrace trace also gets the counts DynamoRIO's basic_counts tool prints, those of
what vmsim drops included (non-fetched instructions, prefetches, flushes, markers).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := in.open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			s, err := traces.Summarize(f, opt)
			if err != nil {
				return err
			}
			var dr *traces.DrmemtraceCounts
			if d, ok := f.Reader.(*traces.DrmemtraceReader); ok {
				c := d.Counts()
				dr = &c
			}
			if asJSON {
				out, err := json.Marshal(struct {
					Trace  string `json:"trace"`
					Format string `json:"format"`
					*traces.Summary
					Drmemtrace *traces.DrmemtraceCounts `json:"drmemtrace,omitempty"`
				}{args[0], string(f.Format), s, dr})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(stdout, "%s\n", out)
				return err
			}
			return printSummary(stdout, args[0], f, s, dr)
		},
	}
	in.add(cmd)
	fl := cmd.Flags()
	fl.Uint64Var(&opt.PageSize, "page-size", 4096, "page size in bytes, a power of two")
	fl.BoolVar(&opt.IgnoreSize, "ignore-size", false, "an access touches only the page of its address")
	countsVar(fl, &opt.Intervals, "intervals", []int64{100, 1000, 10000, 100000, 1000000, 10000000}, "checkpoint intervals in accesses (comma-separated; 1e6 works)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
	fl.IntVar(&opt.MaxPages, "max-pages", sim.DefaultMaxPages, "stop with an error when the trace touches more than this many distinct pages (0: no limit)")
	return cmd
}

func printSummary(w io.Writer, name string, f *traces.File, s *traces.Summary, dr *traces.DrmemtraceCounts) error {
	fmt.Fprintf(w, "trace %s (format %s, compression %s)\n", name, f.Format, f.Compression)
	t := tablewriter.NewTable(w, tablewriter.WithAlignment(tw.Alignment{tw.AlignLeft, tw.AlignRight}))
	t.Header("measure", "value")
	rows := [][2]string{
		{"records", itoa(s.Records)}, {"accesses", itoa(s.Accesses)},
		{"reads", itoa(s.Reads)}, {"writes", itoa(s.Writes)}, {"modifies", itoa(s.Modifies)}, {"fetches", itoa(s.Fetches)},
		{"checkpoint records", itoa(s.Checkpoints)}, {"fail records", itoa(s.Fails)},
		{"input records", itoa(s.Inputs)}, {"output records", itoa(s.Outputs)},
		{"address spaces", strconv.Itoa(s.AddressSpaces)},
	}
	if s.Threads != nil {
		rows = append(rows, [2]string{"threads", strconv.Itoa(len(s.Threads))})
	}
	rows = append(rows, [][2]string{
		{"page size", fmt.Sprintf("%d B", s.PageSize)},
		{"pages touched", itoa(s.PagesTouched)}, {"pages written", itoa(s.PagesWritten)},
		{"write fraction", strconv.FormatFloat(s.WriteFraction, 'f', 4, 64)},
		{"footprint", fmt.Sprintf("%d B (%.1f MiB)", s.FootprintBytes, float64(s.FootprintBytes)/(1<<20))},
	}...)
	for _, r := range rows {
		if err := t.Append(r[0], r[1]); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if err := printThreads(w, s.Threads); err != nil {
		return err
	}
	if err := printDrmemtrace(w, dr); err != nil {
		return err
	}
	if len(s.Intervals) == 0 {
		return nil
	}
	fmt.Fprintln(w, "distinct pages written per checkpoint interval")
	t = tablewriter.NewTable(w, tablewriter.WithAlignment(tw.Alignment{tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}))
	t.Header("interval", "intervals", "page writes", "mean", "max")
	for _, iw := range s.Intervals {
		if err := t.Append(itoa(iw.Interval), itoa(iw.Count), itoa(iw.PageWrites), strconv.FormatFloat(iw.Mean, 'f', 2, 64), itoa(iw.Max)); err != nil {
			return err
		}
	}
	return t.Render()
}

// printThreads prints the per-thread table of a trace with thread ids.
func printThreads(w io.Writer, ts []traces.ThreadSummary) error {
	if len(ts) == 0 {
		return nil
	}
	fmt.Fprintln(w, "per thread")
	right := tw.Alignment{}
	for range 9 {
		right = append(right, tw.AlignRight)
	}
	t := tablewriter.NewTable(w, tablewriter.WithAlignment(right))
	t.Header("asid", "thread", "accesses", "reads", "writes", "modifies", "fetches", "pages touched", "pages written")
	for _, x := range ts {
		if err := t.Append(strconv.FormatUint(uint64(x.ASID), 10), strconv.FormatUint(uint64(x.Thread), 10), itoa(x.Accesses), itoa(x.Reads),
			itoa(x.Writes), itoa(x.Modifies), itoa(x.Fetches), itoa(x.PagesTouched), itoa(x.PagesWritten)); err != nil {
			return err
		}
	}
	return t.Render()
}

// printDrmemtrace prints a drmemtrace trace's counts, as DynamoRIO's basic_counts names
// them.
func printDrmemtrace(w io.Writer, c *traces.DrmemtraceCounts) error {
	if c == nil {
		return nil
	}
	fmt.Fprintln(w, "drmemtrace counts (as DynamoRIO's basic_counts; dropped: not records of vmsim's)")
	t := tablewriter.NewTable(w, tablewriter.WithAlignment(tw.Alignment{tw.AlignLeft, tw.AlignRight}))
	t.Header("count", "value")
	for _, r := range [][2]string{
		{"threads", itoa(c.Threads)},
		{"fetched instructions", itoa(c.Fetches)},
		{"non-fetched instructions (dropped)", itoa(c.NonFetched)},
		{"data loads", itoa(c.Loads)},
		{"data stores", itoa(c.Stores)},
		{"prefetches (dropped)", itoa(c.Prefetches)},
		{"icache flushes (dropped)", itoa(c.ICFlushes)},
		{"dcache flushes (dropped)", itoa(c.DCFlushes)},
		{"scheduling markers", itoa(c.SchedMarks)},
		{"transfer markers", itoa(c.XferMarks)},
		{"system call markers", itoa(c.Syscalls)},
		{"other markers", itoa(c.OtherMarks)},
		{"records (12 bytes)", itoa(c.RecordCount)},
	} {
		if err := t.Append(r[0], r[1]); err != nil {
			return err
		}
	}
	return t.Render()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

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
format without thread ids). Accesses are numbered from 1, as everywhere in vmsim (run
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
						fmt.Fprintf(stdout, "%10d %6d %-10s %#18x %6d %8d\n", acc, r.ASID, r.Kind, r.Addr, r.Size, r.Thread)
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
