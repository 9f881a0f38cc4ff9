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
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// Columns are the CSV columns, each name once: the point id, the trace's content hash
// and the vmsim version, then the configuration and the counters, each under its JSON
// key; then the schemes' own counters (the JSON's "stats": {"scheme": {...}}), each
// under its key prefixed "scheme_" (OwnColumns); then the modeled times, their keys
// prefixed "cost_" and "baseline_"; then the overhead.
func Columns() []string {
	cols := []string{"id", "trace_sha256", "vmsim_version"}
	cols = append(cols, fieldNames(sim.Config{}, "")...)
	cols = append(cols, fieldNames(sim.Stats{}, "")...)
	cols = append(cols, OwnColumns()...)
	cols = append(cols, fieldNames(sim.Cost{}, "cost_")...)
	cols = append(cols, fieldNames(sim.Cost{}, "baseline_")...)
	cols = append(cols, "overhead")
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c] {
			panic(fmt.Sprintf("sweep: CSV column %q twice", c))
		}
		seen[c] = true
	}
	return cols
}

// ownPrefix prefixes the CSV column of a scheme's own counter.
const ownPrefix = "scheme_"

// OwnColumns are the CSV columns of the schemes' own counters: one for each key of a
// registered scheme's counters (scheme.Info.Counters), prefixed "scheme_", in the order of
// the schemes' names and then of each scheme's counters. Schemes that report a counter of
// the same key share its column; a row leaves empty the columns of counters its scheme
// does not report.
func OwnColumns() []string {
	var cols []string
	for _, i := range scheme.All() {
		for _, c := range i.Counters {
			if col := ownPrefix + c.Key; !slices.Contains(cols, col) {
				cols = append(cols, col)
			}
		}
	}
	return cols
}

// row returns r's CSV fields, in the order of Columns(); own is OwnColumns().
func row(r *Result, own []string) ([]string, error) {
	out := []string{r.ID, r.TraceHash, r.Version}
	out = append(out, fieldValues(r.Config)...)
	out = append(out, fieldValues(r.Stats)...)
	counters := make([]string, len(own))
	for _, k := range r.Stats.Scheme.Keys() {
		i := slices.Index(own, ownPrefix+k)
		if i < 0 {
			return nil, fmt.Errorf("point %s: scheme %s's counter %q has no CSV column (a scheme not registered?)", r.ID, r.Config.Scheme, k)
		}
		v, _ := r.Stats.Scheme.Get(k)
		counters[i] = strconv.FormatInt(v, 10)
	}
	out = append(out, counters...)
	out = append(out, fieldValues(r.Cost)...)
	out = append(out, fieldValues(r.Baseline)...)
	return append(out, formatFloat(r.Overhead)), nil
}

// ownCounters is the type of sim.Stats.Scheme, which has columns of its own (OwnColumns).
var ownCounters = reflect.TypeFor[sim.OwnCounters]()

// fieldNames returns the JSON keys of v's fields, prefixed, but for a scheme's own
// counters.
func fieldNames(v any, prefix string) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		if t.Field(i).Type == ownCounters {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, prefix+name)
	}
	return names
}

// fieldValues returns the CSV form of v's fields, in the order of fieldNames.
func fieldValues(v any) []string {
	rv := reflect.ValueOf(v)
	var out []string
	for i := range rv.NumField() {
		f := rv.Field(i)
		if f.Type() == ownCounters {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			out = append(out, f.String())
		case reflect.Bool:
			out = append(out, strconv.FormatBool(f.Bool()))
		case reflect.Int, reflect.Int64:
			out = append(out, strconv.FormatInt(f.Int(), 10))
		case reflect.Uint, reflect.Uint64:
			out = append(out, strconv.FormatUint(f.Uint(), 10))
		case reflect.Float64:
			out = append(out, formatFloat(f.Float()))
		case reflect.Slice:
			var parts []string
			for j := range f.Len() {
				parts = append(parts, fmt.Sprint(f.Index(j).Interface()))
			}
			out = append(out, strings.Join(parts, ";"))
		case reflect.Map: // settings by name: k=v;k=v in key order
			keys := f.MapKeys()
			sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s=%v", k.String(), f.MapIndex(k).Interface()))
			}
			out = append(out, strings.Join(parts, ";"))
		default:
			panic(fmt.Sprintf("sweep: no CSV form for %s", f.Type()))
		}
	}
	return out
}

// formatFloat writes a float the same way every time: the shortest repr that reads back.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// File is a results file (CSV or JSON lines): a Sink that appends a line a result after
// the lines it already holds. A regular file is locked (flock) while open, so that two
// sweeps cannot write one file; one that holds anything but results of this format is
// refused, untouched.
type File struct {
	f    *os.File
	path string
	have map[string]bool
	line func(r *Result) ([]byte, error)
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

// openAppend opens path for appending, creating it if need be, locks it, and returns its
// complete lines after check accepted them and the start of a last line cut short (a
// write interrupted). check sees the complete lines and that tail before anything is
// changed; when it accepts them, the tail is cut off the file. A file that exists and
// is not regular (a device, a fifo) is opened for writing only, unlocked and unread.
func openAppend(path string, check func(lines [][]byte, tail []byte) *lineError) (*os.File, [][]byte, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, nil, fmt.Errorf("%s: is a directory", path)
	} else if err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		return f, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, fmt.Errorf("%s: another vmsim sweep is writing this file (it is locked); wait for it to finish or write elsewhere", path)
		}
		return nil, nil, fmt.Errorf("%s: locking: %w", path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	keep := bytes.LastIndexByte(data, '\n') + 1
	var lines [][]byte
	for _, l := range bytes.SplitAfter(data[:keep], []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	if le := check(lines, data[keep:]); le != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s:%d: %s; refusing to touch the file: write the results to a new one", path, le.line, le.reason)
	}
	if keep < len(data) {
		if err := f.Truncate(int64(keep)); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	if _, err := f.Seek(int64(keep), io.SeekStart); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, lines, nil
}

// lineError says which line of a file is not what it should be.
type lineError struct {
	line   int
	reason string
}

// idPrefix matches the start of a result line: a point ID (16 hex digits).
var idPrefix = regexp.MustCompile(`^[0-9a-f]{1,16}$`)

// OpenCSV opens (or creates) a CSV results file. An existing file must have the same
// header; the points it holds are not run again.
func OpenCSV(path string) (*File, error) {
	cols, own := Columns(), OwnColumns()
	header := csvLine(cols)
	have := map[string]bool{}
	check := func(lines [][]byte, tail []byte) *lineError {
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
		for i := 2; ; i++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil || len(rec[0]) != 16 || !idPrefix.MatchString(rec[0]) {
				return &lineError{i, "not a result line"}
			}
			have[rec[0]] = true
		}
		if id, _, _ := strings.Cut(string(tail), ","); len(tail) > 0 && !idPrefix.MatchString(id) {
			return &lineError{len(lines) + 1, "not a result line"}
		}
		return nil
	}
	f, lines, err := openAppend(path, check)
	if err != nil {
		return nil, err
	}
	s := &File{f: f, path: path, have: have}
	s.line = func(r *Result) ([]byte, error) {
		fields, err := row(r, own)
		return csvLine(fields), err
	}
	if len(lines) == 0 {
		if _, err := f.Write(header); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return s, nil
}

func csvLine(fields []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(fields)
	w.Flush()
	return b.Bytes()
}

// OpenJSONL opens (or creates) a JSON-lines results file: one Result object a line. The
// points it holds are not run again.
func OpenJSONL(path string) (*File, error) {
	have := map[string]bool{}
	check := func(lines [][]byte, tail []byte) *lineError {
		for i, l := range lines {
			var r struct {
				ID     string          `json:"id"`
				Config json.RawMessage `json:"config"`
			}
			if err := json.Unmarshal(l, &r); err != nil || len(r.ID) != 16 || !idPrefix.MatchString(r.ID) || r.Config == nil {
				return &lineError{i + 1, "not a result line"}
			}
			have[r.ID] = true
		}
		if len(tail) > 0 && !bytes.HasPrefix(tail, []byte(`{"id":"`)) && !bytes.HasPrefix([]byte(`{"id":"`), tail) {
			return &lineError{len(lines) + 1, "not a result line"}
		}
		return nil
	}
	f, _, err := openAppend(path, check)
	if err != nil {
		return nil, err
	}
	s := &File{f: f, path: path, have: have}
	s.line = func(r *Result) ([]byte, error) {
		b, err := json.Marshal(r)
		return append(b, '\n'), err
	}
	return s, nil
}

// WriteCSV writes a whole CSV results file (header and rows) to w.
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
