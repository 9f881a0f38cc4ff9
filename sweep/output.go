package sweep

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/sim"
)

// Columns are the CSV columns: the point id, then the configuration, the counters and
// the modeled times, each under its JSON key (cost fields prefixed "cost_" and
// "baseline_"), then the overhead.
func Columns() []string {
	cols := []string{"id"}
	cols = append(cols, fieldNames(sim.Config{}, "")...)
	cols = append(cols, fieldNames(sim.Stats{}, "")...)
	cols = append(cols, fieldNames(sim.Cost{}, "cost_")...)
	cols = append(cols, fieldNames(sim.Cost{}, "baseline_")...)
	return append(cols, "overhead")
}

func row(r *Result) []string {
	out := []string{r.ID}
	out = append(out, fieldValues(r.Config)...)
	out = append(out, fieldValues(r.Stats)...)
	out = append(out, fieldValues(r.Cost)...)
	out = append(out, fieldValues(r.Baseline)...)
	return append(out, formatFloat(r.Overhead))
}

func fieldNames(v any, prefix string) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, prefix+name)
	}
	return names
}

func fieldValues(v any) []string {
	rv := reflect.ValueOf(v)
	var out []string
	for i := range rv.NumField() {
		f := rv.Field(i)
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
		case reflect.Struct: // a scheme's own counters: k=v;k=v in their order
			s, ok := f.Interface().(fmt.Stringer)
			if !ok {
				panic(fmt.Sprintf("sweep: no CSV form for %s", f.Type()))
			}
			out = append(out, s.String())
		default:
			panic(fmt.Sprintf("sweep: no CSV form for %s", f.Kind()))
		}
	}
	return out
}

// formatFloat writes a float the same way every time: the shortest repr that reads back.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// File is a results file (CSV or JSON lines): a Sink that appends a line a result after
// the lines it already holds.
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

// Close closes the file.
func (s *File) Close() error { return s.f.Close() }

// openAppend opens path for appending, creating it if need be, and returns its complete
// lines: a last line without its newline (a write cut short) is cut off the file.
func openAppend(path string) (*os.File, [][]byte, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	keep := bytes.LastIndexByte(data, '\n') + 1
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
	var lines [][]byte
	for _, l := range bytes.SplitAfter(data[:keep], []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return f, lines, nil
}

// OpenCSV opens (or creates) a CSV results file. An existing file must have the same
// header; the points it holds are not run again.
func OpenCSV(path string) (*File, error) {
	f, lines, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	cols := Columns()
	s := &File{f: f, path: path, have: map[string]bool{}}
	s.line = func(r *Result) ([]byte, error) {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(row(r))
		w.Flush()
		return b.Bytes(), w.Error()
	}
	if len(lines) == 0 {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(cols)
		w.Flush()
		if _, err := f.Write(b.Bytes()); err != nil {
			f.Close()
			return nil, err
		}
		return s, nil
	}
	r := csv.NewReader(bytes.NewReader(bytes.Join(lines, nil)))
	r.FieldsPerRecord = len(cols)
	for i := 0; ; i++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w (a results file of another vmsim version? write to a new file)", path, err)
		}
		if i == 0 {
			if strings.Join(rec, ",") != strings.Join(cols, ",") {
				f.Close()
				return nil, fmt.Errorf("%s:1: the columns differ from this vmsim's; write to a new file", path)
			}
			continue
		}
		s.have[rec[0]] = true
	}
	return s, nil
}

// OpenJSONL opens (or creates) a JSON-lines results file: one Result object a line. The
// points it holds are not run again.
func OpenJSONL(path string) (*File, error) {
	f, lines, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	s := &File{f: f, path: path, have: map[string]bool{}}
	s.line = func(r *Result) ([]byte, error) {
		b, err := json.Marshal(r)
		return append(b, '\n'), err
	}
	for i, l := range lines {
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(l, &r); err != nil || r.ID == "" {
			f.Close()
			return nil, fmt.Errorf("%s:%d: not a result line", path, i+1)
		}
		s.have[r.ID] = true
	}
	return s, nil
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
