package sweep

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// File is a results file (CSV or JSON lines): a Sink that appends a line a result after
// the lines it already holds. A regular file is locked (flock) while open, so that two
// sweeps cannot write one file; one that holds anything but results of this format, or
// a result line whose configuration is not its point's, is refused, untouched.
type File struct {
	f    *os.File
	path string
	have map[string]bool
	// rows are the result lines the file held when opened, for verify.
	rows []fileRow
	line func(r *Result) ([]byte, error)
	// cols are the CSV columns (those of the registry of the points it is opened for).
	cols []string
}

// fileRow is a result line of a file: its point's ID, its line number and what it says
// of its point's configuration.
type fileRow struct {
	id   string
	line int
	cfg  rowConfig
}

func (s *File) Has(id string) bool { return s.have[id] }

func (s *File) Write(r *Result) error {
	b, err := s.line(r)
	if err != nil {
		return err
	}
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	s.have[r.ID] = true
	return nil
}

// verify checks that every result line the file held when opened whose ID is one of
// points' says that point's configuration (checkRow): resuming must not take a line
// edited, or claiming another vmsim version or trace, for the point's result.
func (s *File) verify(points []Point) error {
	byID := make(map[string]*Point, len(points))
	for i := range points {
		byID[points[i].ID] = &points[i]
	}
	for _, r := range s.rows {
		if p := byID[r.id]; p != nil {
			if err := checkRow(fmt.Sprintf("%s:%d", s.path, r.line), r.cfg, p); err != nil {
				return fmt.Errorf("%w; refusing to touch the file: write the results to a new one", err)
			}
		}
	}
	return nil
}

// Close syncs and closes the file, releasing its lock.
func (s *File) Close() error {
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f = nil
	serr := f.Sync()
	if errors.Is(serr, syscall.EINVAL) || errors.Is(serr, syscall.ENOTSUP) {
		serr = nil // a device or fifo: nothing to sync
	}
	cerr := f.Close()
	if serr != nil {
		return fmt.Errorf("%s: %w", s.path, serr)
	}
	if cerr != nil {
		return fmt.Errorf("%s: %w", s.path, cerr)
	}
	return nil
}

// OpenCSV opens (or creates) a CSV results file: OpenOutputs of it alone, with no points
// to check its lines against (Run checks those of its points), for the built-in schemes'
// columns.
func OpenCSV(path string) (*File, error) {
	fs, err := OpenOutputs(nil, Output{path, CSV})
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

func csvLine(fields []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(fields)
	w.Flush()
	return b.Bytes()
}

// OpenJSONL opens (or creates) a JSON-lines results file, one Result object a line:
// OpenOutputs of it alone, with no points to check its lines against (Run checks those
// of its points).
func OpenJSONL(path string) (*File, error) {
	fs, err := OpenOutputs(nil, Output{path, JSONL})
	if err != nil {
		return nil, err
	}
	return fs[0], nil
}

// WriteCSV writes a whole CSV results file (header and rows) to w, with the built-in
// schemes' columns.
func WriteCSV(w io.Writer, rs []*Result) error {
	own := OwnColumns()
	if _, err := w.Write(csvLine(Columns())); err != nil {
		return err
	}
	for _, r := range rs {
		fields, err := row(r, own)
		if err != nil {
			return err
		}
		if _, err := w.Write(csvLine(fields)); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSONL writes a whole JSON-lines results file to w.
func WriteJSONL(w io.Writer, rs []*Result) error {
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// ReadJSONL reads every result of a JSON-lines results file.
func ReadJSONL(path string) ([]*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*Result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, &r)
	}
	return out, sc.Err()
}
