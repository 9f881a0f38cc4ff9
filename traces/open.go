package traces

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Format names a trace format.
type Format string

// Trace formats. FormatAuto sniffs the format from the content.
const (
	FormatAuto   Format = "auto"
	FormatRW     Format = "rw"
	FormatLackey Format = "lackey"
	FormatDin    Format = "din"  // Dinero's traditional din; the reader takes extended din too
	FormatXDin   Format = "xdin" // Dinero IV's extended din (with sizes); read by the din reader
	FormatVMT    Format = "vmt"  // vmsim's binary format (FORMAT.md)
)

// Formats lists the formats a reader can be asked for, auto first.
var Formats = []Format{FormatAuto, FormatRW, FormatLackey, FormatDin, FormatXDin, FormatVMT, FormatChampSim, FormatChampSimCloudSuite, FormatPin, FormatDrmemtrace}

// ParseFormat checks a format name given by a user.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown trace format %q (want one of %v)", s, Formats)
}

// Compression names a compression detected from the content.
type Compression string

// Compressions recognised by their magic numbers.
const (
	None Compression = "none"
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
	XZ   Compression = "xz"
	// Zip is a drmemtrace thread file's: a zip archive of chunks (Open only).
	Zip Compression = "zip"
)

var magics = []struct {
	c     Compression
	magic []byte
}{
	{Gzip, []byte{0x1f, 0x8b}},
	{Zstd, zstdMagic},
	{XZ, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
}

// decompressPeek is how many bytes Decompress may look at to tell the compression: the
// size of its buffer.
const decompressPeek = 64 << 10

// detectCompression tells the compression of a stream from its first bytes, which peek
// returns (up to n of them; fewer only at the end of the stream), reading no further than
// it must: a pipe's writer need not have written more. A zstd stream may begin with
// skippable frames (RFC 8878 §3.1.2; pzstd writes one before every frame): it is zstd if
// its first frame that is not skippable has the zstd magic, or if the skippable frames
// run past what peek may return or to the end of the stream (the decoder then checks
// what follows, or finds no data). Skippable frames followed by anything else are no
// compression vmsim knows (lz4 frames may begin the same way).
func detectCompression(peek func(n int) []byte) Compression {
	head := peek(8)
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.c
		}
	}
	for off := int64(0); ; {
		rest := head[off:]
		if !isZstdSkippable(rest) {
			if off > 0 && bytes.HasPrefix(rest, zstdMagic) {
				return Zstd
			}
			return None
		}
		if len(rest) < 8 {
			return Zstd // cut inside the frame's header: the decoder says so
		}
		off += 8 + int64(binary.LittleEndian.Uint32(rest[4:]))
		if off+8 > decompressPeek {
			return Zstd
		}
		if head = peek(int(off) + 8); int64(len(head)) <= off {
			return Zstd // the stream ends at or inside the skippable frames
		}
	}
}

// zstdMagic starts every zstd data frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// isZstdSkippable reports whether b starts with the magic of a zstd skippable frame,
// 0x184D2A50 to 0x184D2A5F, little-endian.
func isZstdSkippable(b []byte) bool {
	return len(b) >= 4 && b[0]&0xf0 == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18
}

// Decompress detects gzip, zstd or xz from the first bytes of r and returns a reader of
// the decompressed content (r itself when it is not compressed). Errors inside the
// compressed stream surface later, from the returned reader's Read. Call close when done.
func Decompress(r io.Reader, name string) (out io.Reader, c Compression, close func(), err error) {
	in := &countingReader{r: r}
	br := bufio.NewReaderSize(in, decompressPeek)
	c = detectCompression(func(n int) []byte {
		b, _ := br.Peek(n)
		return b
	})
	open := func(e error) (io.Reader, Compression, func(), error) {
		return nil, c, nil, &Error{File: name, Offset: 0, Reason: fmt.Sprintf("bad %s header", c), Err: e}
	}
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return open(err)
		}
		return &streamReader{r: zr, name: name, c: c, in: in}, c, func() { zr.Close() }, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return open(err)
		}
		return &streamReader{r: zr, name: name, c: c, in: in}, c, zr.Close, nil
	case XZ:
		xr, err := xz.NewReader(br)
		if err != nil {
			return open(err)
		}
		return &streamReader{r: xr, name: name, c: c, in: in}, c, func() {}, nil
	}
	return br, c, func() {}, nil
}

// countingReader counts the bytes read from r: the compressed bytes a decompressor (and
// the read-ahead before it) has taken from the file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// streamReader turns a decompressor's errors into *Error values that say where in the
// file and in the decompressed stream they struck. Their Offset is -1: an offset alone
// would not say which of the two it counts.
type streamReader struct {
	r    io.Reader
	name string
	c    Compression
	in   *countingReader // the compressed file
	off  int64           // decompressed bytes delivered
}

func (s *streamReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.off += int64(n)
	if err != nil && err != io.EOF {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, &Error{File: s.name, Offset: -1, Reason: fmt.Sprintf("truncated %s stream: the file ends at byte %d, %d bytes into the decompressed trace", s.c, s.in.n, s.off)}
		}
		// The read-ahead makes the file's offset an upper bound.
		return n, &Error{File: s.name, Offset: -1, Reason: fmt.Sprintf("corrupt %s stream at or before byte %d of the file, %d bytes into the decompressed trace", s.c, s.in.n, s.off), Err: err}
	}
	return n, err
}

// Options says how to read a trace.
type Options struct {
	Format  Format // FormatAuto (the zero value counts as auto) sniffs it
	Lenient bool   // lackey: skip and count malformed lines instead of failing
}

// File is an open trace file: a Reader over its decompressed records.
type File struct {
	Reader
	Name        string
	Format      Format
	Compression Compression
	closeAll    func()
}

// Close releases the file and its decompressor.
func (f *File) Close() error {
	if f.closeAll != nil {
		f.closeAll()
		f.closeAll = nil
	}
	return nil
}

// SkippedLines is the number of malformed lines a lenient reader skipped so far.
func (f *File) SkippedLines() int64 {
	if s, ok := f.Reader.(LineSkipper); ok {
		return s.SkippedLines()
	}
	return 0
}

// Threads reports whether the trace's records may carry thread ids (Record.Thread): a vmt
// file of version 2 (VMTHeader.Threads). Records of every other trace have thread 0.
func (f *File) Threads() bool {
	if t, ok := f.Reader.(interface{ Threads() bool }); ok {
		return t.Threads()
	}
	return false
}

// Kernel reports whether the trace's writes may be marked as the kernel's (Record.Kernel):
// a vmt file of version 3 (VMTHeader.Kernel). No other trace marks them.
func (f *File) Kernel() bool {
	if k, ok := f.Reader.(interface{ Kernel() bool }); ok {
		return k.Kernel()
	}
	return false
}

// CPU reports the cpu on which the records the last Read returned ran, for a trace that
// records it (drmemtrace: DrmemtraceReader.CPU); -1 for every other trace.
func (f *File) CPU() int {
	if c, ok := f.Reader.(interface{ CPU() int }); ok {
		return c.CPU()
	}
	return -1
}

// ErrNotSeekable is returned by SeekAccess on a trace that cannot jump.
var ErrNotSeekable = errors.New("trace is not seekable (only a vmt file not wrapped in another compression is)")

// SeekAccess positions the trace just after access n-1, as VMTReader.SeekAccess does, if
// the trace is seekable; otherwise it returns ErrNotSeekable and changes nothing.
func (f *File) SeekAccess(n uint64) error {
	if s, ok := f.Reader.(interface{ SeekAccess(uint64) error }); ok {
		return s.SeekAccess(n)
	}
	return ErrNotSeekable
}

// Open opens the trace at path, detecting compression and (for FormatAuto) the format.
// A vmt file that is not wrapped in another compression is opened seekable: its Reader
// is a *VMTReader that can SeekAccess. A directory, and a zip file, are drmemtrace traces
// (OpenDrmemtrace): a directory of thread files, and one thread's chunks.
func Open(path string, opt Options) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	auto := opt.Format == FormatAuto || opt.Format == ""
	if fi, err := fh.Stat(); err == nil && fi.IsDir() {
		fh.Close()
		if err := dirFormat(path, opt); err != nil {
			return nil, err
		}
		return openDrmemtraceFile(path)
	}
	if auto || opt.Format == FormatDrmemtrace {
		var head [4]byte
		n, _ := fh.ReadAt(head[:], 0)
		if bytes.Equal(head[:n], zipMagic) || opt.Format == FormatDrmemtrace {
			fh.Close()
			return openDrmemtraceFile(path)
		}
	}
	if opt.Format == FormatAuto || opt.Format == "" || opt.Format == FormatVMT {
		var head [8]byte
		n, _ := fh.ReadAt(head[:], 0)
		if bytes.Equal(head[:n], vmtMagic) {
			fi, err := fh.Stat()
			if err != nil {
				fh.Close()
				return nil, err
			}
			v, err := OpenVMT(fh, fi.Size(), path)
			if err != nil {
				fh.Close()
				return nil, err
			}
			return &File{Reader: v, Name: path, Format: FormatVMT, Compression: None, closeAll: func() { v.Close(); fh.Close() }}, nil
		}
	}
	f, err := NewFile(fh, path, opt)
	if err != nil {
		fh.Close()
		return nil, err
	}
	inner := f.closeAll
	f.closeAll = func() { inner(); fh.Close() }
	return f, nil
}

// dirFormat checks that the directory path may be read in opt's format: only a
// drmemtrace trace is a directory.
func dirFormat(path string, opt Options) error {
	if opt.Format != FormatAuto && opt.Format != "" && opt.Format != FormatDrmemtrace {
		return fmt.Errorf("%s is a directory: only a drmemtrace trace is one (--format drmemtrace or auto), not %s", path, opt.Format)
	}
	return nil
}

// NewFile reads a trace from r; name is used in error messages.
func NewFile(r io.Reader, name string, opt Options) (*File, error) {
	dr, c, closeDec, err := Decompress(r, name)
	if err != nil {
		return nil, err
	}
	format := opt.Format
	if format == "" {
		format = FormatAuto
	}
	br := bufio.NewReaderSize(dr, 64<<10)
	if format == FormatAuto {
		head, err := br.Peek(8 << 10)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			closeDec()
			return nil, err
		}
		if len(head) == 0 {
			closeDec()
			return nil, &Error{File: name, Offset: 0, Reason: "empty trace"}
		}
		format, err = Sniff(head)
		var se *sniffError
		switch {
		case errors.As(err, &se) && se.likely != "":
			// The text looks like one format that its reader rejects: the reader says
			// why, naming the line. (A lenient lackey reader skips what it rejects.)
			if _, err := ReadAll(newTextReader(se.likely, bytes.NewReader(head[:se.end]), name, opt)); err != nil {
				closeDec()
				return nil, err
			}
			format = se.likely
		case se != nil:
			closeDec()
			return nil, &Error{File: name, Line: int64(se.line), Offset: -1, Reason: "--format auto", Err: err}
		case err != nil:
			closeDec()
			return nil, &Error{File: name, Offset: -1, Reason: "--format auto", Err: err}
		}
	}
	f := &File{Name: name, Format: format, Compression: c, closeAll: closeDec}
	switch format {
	case FormatRW, FormatLackey, FormatDin, FormatXDin, FormatPin:
		f.Reader = newTextReader(format, br, name, opt)
	case FormatChampSim, FormatChampSimCloudSuite:
		f.Reader = NewChampSimReader(br, name, format)
	case FormatVMT:
		v, err := NewVMTReader(br, name)
		if err != nil {
			closeDec()
			return nil, err
		}
		f.Reader = v
		f.closeAll = func() { v.Close(); closeDec() }
	case FormatDrmemtrace:
		d, err := NewDrmemtraceReader(br, name)
		if err != nil {
			closeDec()
			return nil, err
		}
		f.Reader = d
	default:
		closeDec()
		return nil, fmt.Errorf("unknown trace format %q", format)
	}
	return f, nil
}

// newTextReader returns the reader of a text format.
//
// Precondition: f is rw, lackey, din, xdin or pin.
func newTextReader(f Format, r io.Reader, name string, opt Options) Reader {
	switch f {
	case FormatRW:
		return NewRWReader(r, name)
	case FormatLackey:
		return NewLackeyReader(r, name, opt.Lenient)
	case FormatDin, FormatXDin:
		return NewDinReader(r, name)
	case FormatPin:
		return NewPinReader(r, name)
	}
	panic("newTextReader: not a text format: " + string(f))
}
