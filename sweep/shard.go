package sweep

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Shard is one share of a sweep's points, for running a sweep on many machines: the
// shards 0/N ... N-1/N of a sweep together run each of its points exactly once.
//
// The share is by point ID: the sweep's distinct IDs, sorted, are dealt out in turn, the
// one at position i going to shard i mod N. So shards differ in size by at most one
// point, and each gets a mix of every trace and setting (IDs are hashes), whatever the
// shape of the spec; and a shard's points depend only on the spec, the vmsim version and
// N. Points with the same ID (a value listed twice) go to the same shard.
type Shard struct {
	// Index is the shard's number. Invariant: 0 <= Index < Count.
	Index int
	// Count is the number of shards. Invariant: Count >= 1.
	Count int
}

// ParseShard reads a shard as I/N (0 <= I < N), as Slurm numbers array tasks from 0.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N, as 0/4 for the first of four", s)
	}
	if count < 1 || index < 0 || index >= count {
		return Shard{}, fmt.Errorf("shard %q: want 0 <= I < N", s)
	}
	return Shard{Index: index, Count: count}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Points returns the shard's points, in their order in points.
// Precondition: s is valid (see its invariants), as ParseShard returns.
func (s Shard) Points(points []Point) []Point {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		panic(fmt.Sprintf("sweep: invalid shard %d/%d", s.Index, s.Count))
	}
	ids := make([]string, 0, len(points))
	for _, p := range points {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	mine := map[string]bool{}
	for i := s.Index; i < len(ids); i += s.Count {
		mine[ids[i]] = true
	}
	var out []Point
	for _, p := range points {
		if mine[p.ID] {
			out = append(out, p)
		}
	}
	return out
}

// Format is a results file's format.
type Format string

// The results file formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// FormatOf returns the format a results file's name says: .csv, or .jsonl (or .json).
func FormatOf(path string) (Format, error) {
	switch {
	case strings.HasSuffix(path, ".csv"):
		return CSV, nil
	case strings.HasSuffix(path, ".jsonl"), strings.HasSuffix(path, ".json"):
		return JSONL, nil
	}
	return "", fmt.Errorf("%s: name a results file *.csv or *.jsonl (or give its format)", path)
}

// resultLine is one result of a shard's output: its ID and its bytes as written.
type resultLine struct {
	id   string
	data []byte
	// where names the line, as file:line.
	where string
	// cfg is what the line says of its point's configuration.
	cfg rowConfig
}

// Merge writes to w exactly what one sweep of points, unsharded and uninterrupted,
// writes to a results file of format f, from the outputs of its shards (of any number
// of shards, in any order). Each of points must be in exactly one shard's output, and
// nothing else: a result of another spec, vmsim version or cost model, a line whose
// configuration columns are not its point's (checkRow: edited, or claiming another
// version or trace), a point in two shards or in none, a line cut short (an interrupted
// shard) or a file not of results is an error naming the file and line; nothing is
// written then.
func Merge(w io.Writer, f Format, points []Point, shards []string) error {
	cols := columns(registryOf(points))
	want := map[string]*Point{}
	for i := range points {
		want[points[i].ID] = &points[i]
	}
	got := map[string]resultLine{}
	for _, path := range shards {
		lines, err := readResultLines(path, f, cols)
		if err != nil {
			return err
		}
		for _, l := range lines {
			p := want[l.id]
			if p == nil {
				return fmt.Errorf("%s: point %s is not one of this sweep's: a shard of another spec, vmsim version or cost model?", l.where, l.id)
			}
			if err := checkRow(l.where, l.cfg, p); err != nil {
				return err
			}
			if prev, ok := got[l.id]; ok {
				return fmt.Errorf("%s: point %s is also at %s: each point must be in one shard output, once (a shard given twice, or shards of another count?)", l.where, l.id, prev.where)
			}
			got[l.id] = l
		}
	}
	var missing []string
	for _, p := range points {
		if _, ok := got[p.ID]; !ok && !slices.Contains(missing, p.ID) {
			missing = append(missing, p.ID)
		}
	}
	if len(missing) > 0 {
		shown := missing[:min(len(missing), maxReported)]
		return fmt.Errorf("%d of the sweep's points are in none of the %d shard outputs (%s%s): run the missing shards, or rerun a shard whose points failed",
			len(missing), len(shards), strings.Join(shown, ", "), map[bool]string{true: ", ...", false: ""}[len(missing) > len(shown)])
	}
	var out bytes.Buffer
	if f == CSV {
		out.Write(csvLine(cols))
	}
	written := map[string]bool{}
	for _, p := range points {
		if !written[p.ID] {
			written[p.ID] = true
			out.Write(got[p.ID].data)
		}
	}
	_, err := w.Write(out.Bytes())
	return err
}

// readResultLines reads a results file of format f (with CSV columns cols) into its lines.
func readResultLines(path string, f Format, cols []string) ([]resultLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		line := bytes.Count(data, []byte("\n")) + 1
		return nil, fmt.Errorf("%s:%d: the last line is cut short (the shard was interrupted): rerun that shard to complete its output", path, line)
	}
	var out []resultLine
	switch f {
	case CSV:
		header := csvLine(cols)
		if !bytes.HasPrefix(data, header) {
			return nil, fmt.Errorf("%s:1: not a results file of this vmsim version (not its CSV header)", path)
		}
		body := data[len(header):]
		r := csv.NewReader(bytes.NewReader(body))
		r.FieldsPerRecord = len(cols)
		for {
			start := r.InputOffset()
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
				return nil, fmt.Errorf("%s:%d: not a result line: %v", path, line+1, err)
			}
			if len(rec[0]) != 16 || !idPrefix().MatchString(rec[0]) {
				return nil, fmt.Errorf("%s:%d: not a result line (no point ID)", path, line+1)
			}
			out = append(out, resultLine{id: rec[0], data: body[start:r.InputOffset()], where: fmt.Sprintf("%s:%d", path, line+1), cfg: csvConfig(rec)})
		}
	case JSONL:
		for i, l := range bytes.SplitAfter(data, []byte("\n")) {
			if len(l) == 0 {
				continue
			}
			id, cfg, ok := jsonResultLine(l)
			if !ok {
				return nil, fmt.Errorf("%s:%d: not a result line", path, i+1)
			}
			out = append(out, resultLine{id: id, data: l, where: fmt.Sprintf("%s:%d", path, i+1), cfg: cfg})
		}
	default:
		return nil, fmt.Errorf("%s: unknown results format %q", path, f)
	}
	return out, nil
}
