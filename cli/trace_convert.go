package cli

// vmsim trace convert.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/spf13/cobra"
	"github.com/ulikunitz/xz"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/traces"
)

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
thread ids, the kernel's mark on a write or checkpoint and fail records: converting a
trace that has them fails unless --lossy, which merges every address space into 0, drops
thread ids, writes the kernel's writes as plain writes and drops control records. Whatever is lost is reported on standard error. vmt carries
everything: X -> vmt -> X gives X's records back. A trace whose format carries thread
ids (drmemtrace, version 2 vmt) is written as version 2 vmt, with them; one that may
mark the kernel's writes (version 3 vmt, as vmsim record writes) as version 3; any other
as version 1, byte for byte as before threads (traces/FORMAT.md).

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
				compress = string(traces.None)
				if format == traces.FormatVMT {
					compress = string(traces.Zstd)
				}
			}
			comp, err := parseCompression(compress, convertCompressions)
			if err != nil {
				return err
			}
			zl, ok := zstdLevels[level]
			if !ok {
				return fmt.Errorf("--zstd-level %q: want fastest, default, better or best", level)
			}
			if err := checkOutputs(args[:1], output{"the output", args[1]}); err != nil {
				return err
			}
			if w := extWarning(args[1], format, comp); w != "" {
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
				n, losses, err := convert(src, w, format, comp, zl, block, lossy, src.Threads(), src.Kernel(), meta)
				if le := (*traces.LossError)(nil); errors.As(err, &le) {
					return fmt.Errorf("%s: %s: convert to vmt, or give --lossy to drop what %s cannot carry", args[0], le.What, format)
				}
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
	f.BoolVar(&lossy, "lossy", false, "text outputs: merge address spaces, drop thread ids, kernel marks and control records instead of failing")
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
	if l.Kernel > 0 {
		parts = append(parts, fmt.Sprintf("%d kernel writes written as the program's", l.Kernel))
	}
	if l.Control > 0 {
		parts = append(parts, fmt.Sprintf("%d control records dropped", l.Control))
	}
	return strings.Join(parts, "; ")
}

// convert copies src to w in format, compressed as asked; threads says that src's
// records may carry thread ids (a vmt output is then version 2), kernel that its writes
// may be marked as the kernel's (version 3).
func convert(src traces.Reader, w io.Writer, format traces.Format, compress traces.Compression, level zstd.EncoderLevel, block int, lossy, threads, kernel bool, meta map[string]any) (int64, traces.Losses, error) {
	out, closeOut, err := compressor(w, compress, format == traces.FormatVMT)
	if err != nil {
		return 0, traces.Losses{}, err
	}
	opt := traces.WriterOptions{Lossy: lossy, VMT: traces.VMTOptions{
		Compress: format == traces.FormatVMT && compress == traces.Zstd, Level: level, BlockRecords: block, Meta: meta, Threads: threads, Kernel: kernel}}
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

// compressor wraps w in the compression asked for (one of convertCompressions). For vmt,
// zstd is done per block by the vmt writer, so it is no wrapper here.
func compressor(w io.Writer, compress traces.Compression, vmt bool) (io.Writer, func() error, error) {
	nop := func() error { return nil }
	switch compress {
	case traces.None:
		return w, nop, nil
	case traces.Gzip:
		z := gzip.NewWriter(w)
		return z, z.Close, nil
	case traces.Zstd:
		if vmt {
			return w, nop, nil
		}
		z, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	case traces.XZ:
		z, err := xz.NewWriter(w)
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	}
	_, err := parseCompression(string(compress), convertCompressions)
	return nil, nil, err
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
func extWarning(out string, format traces.Format, compress traces.Compression) string {
	if out == "-" {
		return ""
	}
	name := strings.ToLower(filepath.Base(out))
	comp := map[string]traces.Compression{".gz": traces.Gzip, ".zst": traces.Zstd, ".xz": traces.XZ}
	ext := filepath.Ext(name)
	if c, ok := comp[ext]; ok {
		if c != compress {
			return fmt.Sprintf("%s ends in %s but --compress is %s", out, ext, compress)
		}
		name = strings.TrimSuffix(name, ext)
		ext = filepath.Ext(name)
	} else if compress != traces.None && format != traces.FormatVMT {
		return fmt.Sprintf("%s is %s-compressed but its name does not say so", out, compress)
	}
	if f, ok := extFormats[ext]; ok && f != format && !(f == traces.FormatDin && format == traces.FormatXDin) {
		return fmt.Sprintf("%s ends in %s but --to is %s", out, ext, format)
	}
	return ""
}
