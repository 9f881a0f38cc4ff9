package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/internal/lazy"
	"github.com/vmsim/vmsim/scheme"
)

// Output names a results file and its format.
type Output struct {
	Path   string
	Format Format
}

// output is an Output being opened.
type output struct {
	Output
	f       *os.File
	created bool     // the file did not exist: OpenOutputs created it
	special bool     // not a regular file (a device, a fifo): written only, unlocked, unread
	lines   [][]byte // the complete lines the file held
	keep    int64    // the offset at which the file's last complete line ends
	size    int64
	file    *File
}

// OpenOutputs opens (or creates) results files for appending the results of points (a
// sweep's, whichever of them a run is to run), and returns them in order. A CSV file's
// columns are those of the points' registry (Point.Registry). An existing
// file must hold result lines of its format only (and, for CSV, the header of this
// vmsim's columns), each of which that is one of points' must say that point's
// configuration (every configuration column); the points it holds are not run again.
// A last line cut short (an interrupted write) is cut off.
//
// Nothing is created or changed until every output is known good: two outputs naming
// one file (the same cleaned absolute path, or os.SameFile), a file that is locked by
// another sweep, or one refused, is an error naming it, and then no file is created and
// none changed. A regular file is locked while open (flock).
func OpenOutputs(points []Point, outs ...Output) ([]*File, error) {
	opened := make([]*output, len(outs))
	for i, o := range outs {
		opened[i] = &output{Output: o}
	}
	closeAll := func() {
		for _, o := range opened {
			if o.f != nil {
				o.f.Close()
				o.f = nil
				if o.created {
					os.Remove(o.Path)
				}
			}
		}
	}
	if err := distinctOutputs(outs); err != nil {
		return nil, err
	}
	// Open, lock and check the files that exist; create none yet.
	for _, o := range opened {
		if err := o.openExisting(points); err != nil {
			closeAll()
			return nil, err
		}
	}
	// Create the others.
	for _, o := range opened {
		if o.f != nil {
			continue
		}
		f, err := os.OpenFile(o.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			closeAll()
			if errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("%s: created by someone else while the sweep opened its outputs (another sweep?)", o.Path)
			}
			return nil, err
		}
		if err := lock(f, o.Path); err != nil {
			f.Close() // created, but another sweep holds it now: not ours to remove
			closeAll()
			return nil, err
		}
		o.f, o.created = f, true
	}
	// Every output is good: cut off a last line cut short, and write the CSV header to an
	// empty CSV file.
	for _, o := range opened {
		if err := o.prepare(); err != nil {
			closeAll()
			return nil, err
		}
	}
	files := make([]*File, len(opened))
	for i, o := range opened {
		files[i] = o.file
	}
	return files, nil
}

// distinctOutputs refuses two outputs that name the same file.
func distinctOutputs(outs []Output) error {
	abs := make([]string, len(outs))
	infos := make([]os.FileInfo, len(outs))
	for i, o := range outs {
		a, err := filepath.Abs(o.Path)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Path, err)
		}
		abs[i] = a // cleaned
		infos[i], _ = os.Stat(o.Path)
		for j := range i {
			if abs[j] == abs[i] || infos[i] != nil && infos[j] != nil && os.SameFile(infos[i], infos[j]) {
				return fmt.Errorf("%s (%s) and %s (%s) are the same file: give each output a file of its own",
					outs[j].Path, outs[j].Format, o.Path, o.Format)
			}
		}
	}
	return nil
}

// lock locks f, the file at path, for this process, or says who holds it.
func lock(f *os.File, path string) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%s: another vmsim sweep is writing this file (it is locked); wait for it to finish or write elsewhere", path)
		}
		return fmt.Errorf("%s: locking: %w", path, err)
	}
	return nil
}

// openExisting opens o's file if it exists: a regular file is locked, read and checked
// (its format, and its result lines against points), and left as it is; any other is
// opened for writing only. A file that does not exist is left to OpenOutputs to create.
func (o *output) openExisting(points []Point) error {
	reg := registryOf(points)
	o.file = &File{path: o.Path, have: map[string]bool{}, cols: columns(reg)}
	switch o.Format {
	case CSV:
		own := ownColumns(reg)
		o.file.line = func(r *Result) ([]byte, error) {
			fields, err := row(r, own)
			return csvLine(fields), err
		}
	case JSONL:
		o.file.line = func(r *Result) ([]byte, error) {
			b, err := json.Marshal(r)
			return append(b, '\n'), err
		}
	default:
		return fmt.Errorf("%s: unknown results format %q", o.Path, o.Format)
	}
	if err := atomicfile.CheckPlanted(o.Path); err != nil {
		return err
	}
	fi, err := os.Stat(o.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%s: is a directory", o.Path)
	case !fi.Mode().IsRegular():
		o.special = true
		o.f, err = os.OpenFile(o.Path, os.O_WRONLY|os.O_APPEND, 0)
		return err
	}
	f, err := os.OpenFile(o.Path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	o.f = f
	if err := trusted(f, o.Path); err != nil {
		return err
	}
	if err := lock(f, o.Path); err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Path, err)
	}
	o.size = int64(len(data))
	o.keep = int64(bytes.LastIndexByte(data, '\n') + 1)
	for _, l := range bytes.SplitAfter(data[:o.keep], []byte("\n")) {
		if len(l) > 0 {
			o.lines = append(o.lines, l)
		}
	}
	check := checkJSONL
	if o.Format == CSV {
		check = checkCSV
	}
	if le := check(o.file, o.lines, data[o.keep:]); le != nil {
		return fmt.Errorf("%s:%d: %s; refusing to touch the file: write the results to a new one", o.Path, le.line, le.reason)
	}
	return o.file.verify(points)
}

// trusted refuses a results file that another user may have written: its lines count as
// results of points that are then not run, so a forged file (say, one put in /tmp under
// the name a sweep will be given) would pass for a sweep's results. It must be the user's,
// and others must not be able to write to it (its group may: a project's shared folder).
func trusted(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if uid, ok := owner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("%s: owned by user %d, not by you (%d): its lines would count as results of points not run; write the results to a file of yours", path, uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("%s: anyone can write to it (mode %04o): its lines would count as results of points not run; chmod o-w it, or write the results to a new file", path, fi.Mode().Perm())
	}
	return nil
}

// prepare makes o's file ready for appending: a last line cut short is cut off, and an
// empty CSV file (or a CSV output that is not a file: a device, a fifo) gets the header.
func (o *output) prepare() error {
	o.file.f = o.f
	if !o.special {
		if o.keep < o.size {
			if err := o.f.Truncate(o.keep); err != nil {
				return fmt.Errorf("%s: %w", o.Path, err)
			}
		}
		if _, err := o.f.Seek(o.keep, io.SeekStart); err != nil {
			return fmt.Errorf("%s: %w", o.Path, err)
		}
	}
	if o.Format == CSV && len(o.lines) == 0 {
		if _, err := o.f.Write(csvLine(o.file.cols)); err != nil {
			return fmt.Errorf("%s: %w", o.Path, err)
		}
	}
	return nil
}

// lineError says which line of a file is not what it should be.
type lineError struct {
	line   int
	reason string
}

// idPrefix matches the start of a result line: a point ID (16 hex digits).
var idPrefix = lazy.Regexp(`^[0-9a-f]{1,16}$`)

// checkCSV checks the lines of a CSV results file, and the start of a last line cut
// short (tail), recording the points it holds in s.
func checkCSV(s *File, lines [][]byte, tail []byte) *lineError {
	cols := s.cols
	header := csvLine(cols)
	if len(lines) == 0 {
		if len(tail) > 0 && !bytes.HasPrefix(header, tail) {
			return &lineError{1, "not a vmsim results file (not the CSV header)"}
		}
		return nil
	}
	if !bytes.Equal(lines[0], header) {
		return &lineError{1, "not a results file of this vmsim version (not its CSV header)"}
	}
	r := csv.NewReader(bytes.NewReader(bytes.Join(lines[1:], nil)))
	r.FieldsPerRecord = len(cols)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return &lineError{line + 1, "not a result line"}
		}
		if len(rec[0]) != 16 || !idPrefix().MatchString(rec[0]) {
			return &lineError{line + 1, "not a result line"}
		}
		s.have[rec[0]] = true
		s.rows = append(s.rows, fileRow{rec[0], line + 1, csvConfig(rec)})
	}
	if id, _, _ := strings.Cut(string(tail), ","); len(tail) > 0 && !idPrefix().MatchString(id) {
		return &lineError{len(lines) + 1, "not a result line"}
	}
	return nil
}

// checkJSONL checks the lines of a JSON-lines results file, and the start of a last line
// cut short (tail), recording the points it holds in s.
func checkJSONL(s *File, lines [][]byte, tail []byte) *lineError {
	for i, l := range lines {
		id, cfg, ok := jsonResultLine(l)
		if !ok {
			return &lineError{i + 1, "not a result line"}
		}
		s.have[id] = true
		s.rows = append(s.rows, fileRow{id, i + 1, cfg})
	}
	if len(tail) > 0 && !bytes.HasPrefix(tail, []byte(`{"id":"`)) && !bytes.HasPrefix([]byte(`{"id":"`), tail) {
		return &lineError{len(lines) + 1, "not a result line"}
	}
	return nil
}

// registryOf returns the registry of points (Point.Registry; nil when there are none,
// which stands for the built-in schemes). Precondition: every point has the same.
func registryOf(points []Point) *scheme.Registry {
	if len(points) == 0 {
		return nil
	}
	reg := points[0].Registry
	for _, p := range points {
		if p.Registry != reg {
			panic("sweep: points of one sweep with different registries")
		}
	}
	return reg
}
