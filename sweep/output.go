package sweep

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/vmsim/vmsim/cost"
	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/sim"
)

// Columns are the CSV columns, each name once: the point id, the trace's content hash
// and the vmsim version, then the configuration and the counters, each under its JSON
// key; then the schemes' own counters (the JSON's "stats": {"scheme": {...}}), each
// under its key prefixed "scheme_" (OwnColumns); then the cost set, its name (cost_set)
// and each value under its key prefixed "model_"; then the modeled times, their keys
// prefixed "cost_" and "baseline_"; then the overhead. These are the columns of a sweep
// of the built-in schemes; one of other schemes (Point.Registry) has their counters' own.
func Columns() []string { return columns(nil) }

// columns are the CSV columns of a sweep of the schemes of reg (nil: the built-ins).
func columns(reg *scheme.Registry) []string {
	cols := []string{"id", "trace_sha256", "vmsim_version"}
	cols = append(cols, fieldNames(sim.Config{}, "")...)
	for _, d := range sim.CounterDefs() {
		cols = append(cols, d.Key)
	}
	cols = append(cols, ownColumns(reg)...)
	cols = append(cols, "cost_set")
	for _, k := range cost.Keys() {
		cols = append(cols, costSetPrefix+k)
	}
	cols = append(cols, fieldNames(cost.Breakdown{}, "cost_")...)
	cols = append(cols, fieldNames(cost.Breakdown{}, "baseline_")...)
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

// costSetPrefix prefixes the CSV column of a value of the cost set.
const costSetPrefix = "model_"

// ownPrefix prefixes the CSV column of a scheme's own counter.
const ownPrefix = "scheme_"

// OwnColumns are the CSV columns of the schemes' own counters: one for each key of a
// built-in scheme's counters (scheme.Info.OwnDefs), prefixed "scheme_", in the order of
// the schemes' names and then of each scheme's counters. Schemes that report a counter of
// the same key share its column; a row leaves empty the columns of counters its scheme
// does not report. A sweep of other schemes (Point.Registry) has a column for each key of
// theirs.
func OwnColumns() []string { return ownColumns(nil) }

// ownColumns are OwnColumns for the schemes of reg (nil: the built-ins).
func ownColumns(reg *scheme.Registry) []string {
	var cols []string
	for _, i := range registryOr(reg).All() {
		for _, c := range i.OwnDefs() {
			if col := ownPrefix + c.Key; !slices.Contains(cols, col) {
				cols = append(cols, col)
			}
		}
	}
	return cols
}

// row returns r's CSV fields, in the order of the columns whose own counters' part is own
// (ownColumns).
func row(r *Result, own []string) ([]string, error) {
	out := []string{r.ID, r.TraceHash, r.Version}
	out = append(out, fieldValues(r.Config)...)
	for _, f := range r.Stats.Fields()[:len(sim.CounterDefs())] {
		out = append(out, strconv.FormatInt(f.Value, 10))
	}
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
	out = append(out, r.CostSet.Name)
	out = append(out, fieldValues(r.CostSet.Model)...)
	out = append(out, fieldValues(r.Cost)...)
	out = append(out, fieldValues(r.Baseline)...)
	return append(out, formatFloat(r.Overhead)), nil
}

// fieldNames returns the JSON keys of v's fields (a struct of settings or costs), prefixed.
func fieldNames(v any, prefix string) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := range t.NumField() {
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

// configColumns are the columns of a result line that say which point it is the result
// of, besides its ID (which hashes them and the cost model): the trace's content hash,
// the vmsim version and every configuration setting.
func configColumns() []string {
	return append([]string{"trace_sha256", "vmsim_version"}, fieldNames(sim.Config{}, "")...)
}

// rowConfig is what a result line says of its point: its configuration columns, by
// name, in their CSV form; or, when the line's configuration cannot be read as one,
// why not (under the key "").
type rowConfig map[string]string

// pointConfig returns the configuration columns of p's result.
func pointConfig(p *Point) rowConfig {
	m := rowConfig{"trace_sha256": p.TraceHash, "vmsim_version": p.Version}
	vals := fieldValues(p.Config)
	for i, name := range fieldNames(sim.Config{}, "") {
		m[name] = vals[i]
	}
	return m
}

// checkRow checks that a result line, at where (file:line), says its point p's
// configuration in every configuration column.
func checkRow(where string, got rowConfig, p *Point) error {
	if why, bad := got[""]; bad {
		return fmt.Errorf("%s: point %s: %s", where, p.ID, why)
	}
	want := pointConfig(p)
	for _, c := range configColumns() {
		if got[c] != want[c] {
			return fmt.Errorf("%s: point %s: %s is %q, but the point's is %q: not this point's result (a line edited, or of another vmsim version or trace)", where, p.ID, c, got[c], want[c])
		}
	}
	return nil
}

// csvConfig returns the configuration columns of a CSV result record (Columns order).
func csvConfig(rec []string) rowConfig {
	m := rowConfig{}
	for i, c := range configColumns() {
		m[c] = rec[1+i]
	}
	return m
}

// jsonResultLine reads a JSON result line's point ID and configuration columns; ok is
// false when it is not a result line at all. Keys are matched exactly (JSON decoding
// would match them whatever their case).
func jsonResultLine(line []byte) (id string, cfg rowConfig, ok bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(line, &top) != nil {
		return "", nil, false
	}
	if json.Unmarshal(top["id"], &id) != nil || len(id) != 16 || !idPrefix.MatchString(id) || top["config"] == nil {
		return "", nil, false
	}
	return id, jsonConfig(top), true
}

// jsonConfig returns the configuration columns of a JSON result line's top-level keys.
func jsonConfig(top map[string]json.RawMessage) rowConfig {
	bad := func(format string, args ...any) rowConfig { return rowConfig{"": fmt.Sprintf(format, args...)} }
	m := rowConfig{}
	for _, k := range []string{"trace_sha256", "vmsim_version"} {
		var v *string
		if json.Unmarshal(top[k], &v) != nil || v == nil {
			return bad("no %s (a string)", k)
		}
		m[k] = *v
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(top["config"], &keys) != nil || keys == nil {
		return bad("its config is not a JSON object")
	}
	names := fieldNames(sim.Config{}, "")
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !slices.Contains(names, k) {
			return bad("config key %q is not a setting", k)
		}
		if string(keys[k]) == "null" {
			return bad("config %s is null", k)
		}
	}
	for _, k := range names {
		if _, ok := keys[k]; !ok && k != "params" { // params is omitted when empty
			return bad("config has no %s", k)
		}
	}
	var c sim.Config
	if err := json.Unmarshal(top["config"], &c); err != nil {
		return bad("config: %v", err)
	}
	vals := fieldValues(c)
	for i, name := range names {
		m[name] = vals[i]
	}
	return m
}

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
var idPrefix = regexp.MustCompile(`^[0-9a-f]{1,16}$`)

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
		if len(rec[0]) != 16 || !idPrefix.MatchString(rec[0]) {
			return &lineError{line + 1, "not a result line"}
		}
		s.have[rec[0]] = true
		s.rows = append(s.rows, fileRow{rec[0], line + 1, csvConfig(rec)})
	}
	if id, _, _ := strings.Cut(string(tail), ","); len(tail) > 0 && !idPrefix.MatchString(id) {
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
