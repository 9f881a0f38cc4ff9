package traces

// drmemtrace's files: a trace directory's thread files, and a thread file's chunks (zip
// entries, or one gzip or plain stream) (DRMEMTRACE.md, "Files").

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// streamChunks is a gzip or plain thread file: one chunk, with no name.
type streamChunks struct {
	r       io.Reader
	closeFn func()
	given   bool
}

func (s *streamChunks) next() (io.Reader, string, bool, error) {
	if s.given {
		return nil, "", false, nil
	}
	s.given = true
	return s.r, "", true, nil
}

func (s *streamChunks) following() string { return "" }

func (s *streamChunks) close() {
	if s.closeFn != nil {
		s.closeFn()
		s.closeFn = nil
	}
}

// zipChunks is a zip thread file: its entries are the chunks, chunk.0000 on, in order.
type zipChunks struct {
	z   *zip.ReadCloser
	i   int
	cur io.ReadCloser
}

func (c *zipChunks) next() (io.Reader, string, bool, error) {
	if c.cur != nil {
		c.cur.Close()
		c.cur = nil
	}
	if c.i >= len(c.z.File) {
		return nil, "", false, nil
	}
	f := c.z.File[c.i]
	if n, ok := strings.CutPrefix(f.Name, "chunk."); !ok || !allDigits(n) || atoiOr(n, -1) != c.i {
		return nil, f.Name, false, fmt.Errorf("zip entry %d is %q, not chunk.%04d: not a drmemtrace thread file, or its chunks are out of order", c.i, f.Name, c.i)
	}
	c.i++
	r, err := f.Open()
	if err != nil {
		return nil, f.Name, false, err
	}
	c.cur = r
	return r, f.Name, true, nil
}

func (c *zipChunks) following() string {
	if c.i < len(c.z.File) {
		return c.z.File[c.i].Name
	}
	return ""
}

func (c *zipChunks) close() {
	if c.cur != nil {
		c.cur.Close()
	}
	c.z.Close()
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func atoiOr(s string, or int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return or
	}
	return n
}

// zipMagic starts a zip file (a local file header).
var zipMagic = []byte("PK\x03\x04")

// isDrmemtraceHead reports whether head (decompressed) begins as a drmemtrace thread's
// records do: a header record holding a version vmsim reads, then a marker.
func isDrmemtraceHead(head []byte) bool {
	if len(head) < 2*drEntrySize {
		return false
	}
	e, m := decodeDrEntry(head), decodeDrEntry(head[drEntrySize:])
	return e.typ == drHeader && e.size == 0 && e.addr >= drMinVersion && e.addr <= drMaxVersion && m.typ == drMarker
}

// openDrmemtraceFile opens a drmemtrace trace at path (OpenDrmemtrace) as a File.
func openDrmemtraceFile(path string) (*File, error) {
	d, err := OpenDrmemtrace(path)
	if err != nil {
		return nil, err
	}
	return &File{Reader: d, Name: path, Format: FormatDrmemtrace, Compression: d.compression, closeAll: func() { d.Close() }}, nil
}

// openThreadFile opens a thread file by its name: .zip (chunks), .gz, or plain.
func openThreadFile(path string, counts *DrmemtraceCounts) (*drThread, error) {
	var head [4]byte
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	n, _ := io.ReadFull(fh, head[:])
	if bytes.Equal(head[:n], zipMagic) {
		fh.Close()
		z, err := zip.OpenReader(path)
		if err != nil {
			return nil, &Error{File: path, Offset: -1, Reason: "reading the zip file", Err: err}
		}
		c := &zipChunks{z: z}
		t, err := openThread(path, c, counts)
		if err != nil {
			c.close()
			return nil, err
		}
		t.comp = Zip
		return t, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		fh.Close()
		return nil, err
	}
	r, comp, closeDec, err := Decompress(fh, path)
	if err != nil {
		fh.Close()
		return nil, err
	}
	if comp != None && comp != Gzip {
		closeDec()
		fh.Close()
		return nil, &Error{File: path, Offset: 0, Reason: fmt.Sprintf("a %s-compressed thread file: DynamoRIO writes zip or gzip", comp)}
	}
	c := &streamChunks{r: r, closeFn: func() { closeDec(); fh.Close() }}
	t, err := openThread(path, c, counts)
	if err != nil {
		c.close()
		return nil, err
	}
	t.comp = comp
	return t, nil
}

// drThreadFiles lists the thread files of a trace directory, sorted by name, and the
// directory that holds them.
func drThreadFiles(path string) (dir string, files []string, err error) {
	dir = path
	if fi, err := os.Stat(filepath.Join(path, "trace")); err == nil && fi.IsDir() {
		dir = filepath.Join(path, "trace")
	} else if fi, err := os.Stat(filepath.Join(path, "raw")); err == nil && fi.IsDir() {
		return "", nil, &Error{File: path, Offset: -1, Reason: "a raw drmemtrace trace (raw/, no trace/): post-process it with DynamoRIO's drraw2trace first"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir(), strings.HasPrefix(name, "serial_schedule.bin"), strings.HasPrefix(name, "cpu_schedule.bin"):
		case strings.HasSuffix(name, ".trace.zip"), strings.HasSuffix(name, ".trace.gz"), strings.HasSuffix(name, ".trace"):
			files = append(files, filepath.Join(dir, name))
		case strings.Contains(name, ".trace."):
			return "", nil, &Error{File: filepath.Join(dir, name), Offset: -1,
				Reason: "a thread file compressed in a way vmsim does not read (it reads .trace.zip, .trace.gz and plain .trace files)"}
		}
	}
	if len(files) == 0 {
		return "", nil, &Error{File: dir, Offset: -1, Reason: "a directory with no drmemtrace thread files (*.trace.zip, *.trace.gz, *.trace)"}
	}
	slices.Sort(files)
	return dir, files, nil
}

// HashDrmemtrace returns, in hex, the SHA-256 of the drmemtrace trace at path as stored:
// for one thread's file, of its bytes; for a directory, of the files the reader reads
// (its thread files and its schedule files, serial_schedule.bin[.gz] and
// cpu_schedule.bin.zip) in the order of their names, each as its name, a NUL byte, its
// size (8 bytes, little-endian) and its bytes.
func HashDrmemtrace(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	add := func(file string, named bool) error {
		fh, err := os.Open(file)
		if err != nil {
			return err
		}
		defer fh.Close()
		fi, err := fh.Stat()
		if err != nil {
			return err
		}
		if named {
			h.Write([]byte(filepath.Base(file) + "\x00"))
			h.Write(binary.LittleEndian.AppendUint64(nil, uint64(fi.Size())))
		}
		if _, err := io.Copy(h, io.NewSectionReader(fh, 0, fi.Size())); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return nil
	}
	if !fi.IsDir() {
		if err := add(path, false); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	dir, files, err := drThreadFiles(path)
	if err != nil {
		return "", err
	}
	for _, name := range []string{"serial_schedule.bin.gz", "serial_schedule.bin", "cpu_schedule.bin.zip"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			files = append(files, filepath.Join(dir, name))
		}
	}
	slices.SortFunc(files, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	for _, f := range files {
		if err := add(f, true); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
