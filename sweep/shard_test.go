package sweep

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Shard
		ok   bool
	}{
		{"0/1", Shard{0, 1}, true},
		{"3/4", Shard{3, 4}, true},
		{"4/4", Shard{}, false},
		{"-1/4", Shard{}, false},
		{"1/0", Shard{}, false},
		{"1", Shard{}, false},
		{"a/b", Shard{}, false},
		{"", Shard{}, false},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseShard(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("ParseShard(%q) = %v, %v", c.in, got, err)
			}
			if c.ok && got.String() != c.in {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
}

// TestShardPartition: for any number of shards, the shards' points are disjoint, their
// union is every point, they are the same on every call, in point order, and their
// sizes (in distinct IDs) differ by at most one.
func TestShardPartition(t *testing.T) {
	points, _, err := testSpec().Points()
	if err != nil {
		t.Fatal(err)
	}
	// Points of one ID (a spec refuses a value given twice, but a program may build such
	// a list, as reproduce's studies do): one shard has both.
	one := &Spec{Traces: []string{"corpus:sort"}, Vary: map[string][]any{"interval": {1000, 2000, 3000}}}
	onePoints, _, err := one.Points()
	if err != nil {
		t.Fatal(err)
	}
	dupPoints := []Point{onePoints[0], onePoints[1], onePoints[0], onePoints[2]}
	for _, c := range []struct {
		name   string
		points []Point
		n      int
	}{
		{"one shard", points, 1},
		{"two", points, 2},
		{"three", points, 3},
		{"more shards than points", points, 11},
		{"duplicate ids", dupPoints, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := map[string]int{} // ID -> shard
			var sizes []int
			total := 0
			for i := range c.n {
				s := Shard{i, c.n}
				got := s.Points(c.points)
				if again := s.Points(c.points); !slices.EqualFunc(got, again, func(a, b Point) bool { return a.ID == b.ID }) {
					t.Errorf("shard %v differs between calls", s)
				}
				ids := map[string]bool{}
				last := -1
				for _, p := range got {
					k := slices.IndexFunc(c.points[last+1:], func(q Point) bool { return q.ID == p.ID })
					if k < 0 {
						t.Errorf("shard %v: %s out of point order", s, p.ID)
					}
					last += k + 1
					if sh, ok := seen[p.ID]; ok && sh != i {
						t.Errorf("point %s in shards %d and %d", p.ID, sh, i)
					}
					seen[p.ID] = i
					ids[p.ID] = true
				}
				total += len(got)
				sizes = append(sizes, len(ids))
			}
			if total != len(c.points) {
				t.Errorf("shards hold %d points, the sweep %d", total, len(c.points))
			}
			if slices.Max(sizes)-slices.Min(sizes) > 1 {
				t.Errorf("shard sizes %v", sizes)
			}
		})
	}
}

// runShards runs each shard of points into its own CSV and JSONL in dir, returning
// their paths.
func runShards(t *testing.T, dir string, points []Point, opt Options, n int) (csvs, jsonls []string) {
	t.Helper()
	for i := range n {
		c, j := filepath.Join(dir, fmt.Sprintf("s%d.csv", i)), filepath.Join(dir, fmt.Sprintf("s%d.jsonl", i))
		cf, err := OpenCSV(c)
		if err != nil {
			t.Fatal(err)
		}
		jf, err := OpenJSONL(j)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Run(Shard{i, n}.Points(points), opt, cf, jf); err != nil {
			t.Fatal(err)
		}
		cf.Close()
		jf.Close()
		csvs, jsonls = append(csvs, c), append(jsonls, j)
	}
	return csvs, jsonls
}

// TestMerge runs a sweep whole and in three shards, and merges the shards (given in
// any order) into the same bytes; then merges that must be refused are.
func TestMerge(t *testing.T) {
	points, costs, err := testSpec().Points()
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Jobs: 2, Costs: costs}
	wholeCSV, wholeJSON := runFiles(t, points, opt)
	dir := t.TempDir()
	csvs, jsonls := runShards(t, dir, points, opt, 3)
	merge := func(f Format, shards []string) ([]byte, error) {
		var b bytes.Buffer
		err := Merge(&b, f, points, shards)
		return b.Bytes(), err
	}
	for _, c := range []struct {
		name   string
		f      Format
		shards []string
		want   []byte
	}{
		{"csv", CSV, csvs, wholeCSV},
		{"csv reversed", CSV, []string{csvs[2], csvs[1], csvs[0]}, wholeCSV},
		{"jsonl", JSONL, jsonls, wholeJSON},
		{"jsonl reversed", JSONL, []string{jsonls[1], jsonls[2], jsonls[0]}, wholeJSON},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := merge(c.f, c.shards)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.want) {
				t.Errorf("merged:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}

	// Refusals. A shard of another spec: the same points under other costs.
	other := testSpec()
	other.Costs = map[string]any{"access_ns": 1}
	otherPoints, otherCosts, _ := other.Points()
	otherDir := t.TempDir()
	otherCSVs, _ := runShards(t, otherDir, otherPoints[:1], Options{Costs: otherCosts}, 1)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	s0, _ := os.ReadFile(csvs[0])
	j0, _ := os.ReadFile(jsonls[0])
	for _, c := range []struct {
		name   string
		f      Format
		shards []string
		want   string
	}{
		{"missing shard", CSV, csvs[:2], "in none of the 2 shard outputs"},
		{"shard twice", CSV, append(slices.Clone(csvs), csvs[1]), "each point must be in one shard output"},
		{"another spec", CSV, append(slices.Clone(csvs), otherCSVs[0]), "not one of this sweep's"},
		{"cut short", CSV, append(slices.Clone(csvs[1:]), write("cut.csv", s0[:len(s0)-5])), "cut.csv:"},
		{"not a results file", CSV, append(slices.Clone(csvs[1:]), write("other.csv", []byte("a,b\n1,2\n"))), "other.csv:1: not a results file"},
		{"bad row", CSV, append(slices.Clone(csvs[1:]), write("bad.csv", append(bytes.Clone(s0), "zz,1\n"...))), "bad.csv:"},
		{"jsonl as csv", CSV, jsonls, "not a results file"},
		{"bad jsonl line", JSONL, append(slices.Clone(jsonls[1:]), write("bad.jsonl", append(bytes.Clone(j0), "{}\n"...))), "bad.jsonl:"},
		{"no such shard", CSV, append(slices.Clone(csvs), filepath.Join(dir, "none.csv")), "none.csv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := merge(c.f, c.shards)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one with %q", err, c.want)
			}
			if len(got) != 0 {
				t.Errorf("wrote %d bytes despite the error", len(got))
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	for _, c := range []struct {
		path string
		want Format
	}{{"a.csv", CSV}, {"d/a.jsonl", JSONL}, {"a.json", JSONL}, {"a.txt", ""}} {
		t.Run(c.path, func(t *testing.T) {
			got, err := FormatOf(c.path)
			if got != c.want || (err == nil) != (c.want != "") {
				t.Errorf("FormatOf(%q) = %q, %v", c.path, got, err)
			}
		})
	}
}

// FuzzParseShard: any accepted shard is valid and reads back from its String.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-1/2", "1/0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			return
		}
		if sh.Index < 0 || sh.Index >= sh.Count {
			t.Fatalf("%q: invalid %+v accepted", s, sh)
		}
		if again, err := ParseShard(sh.String()); err != nil || again != sh {
			t.Fatalf("%q: %v reads back as %v, %v", s, sh, again, err)
		}
	})
}

// FuzzReadResultLines: a shard output of any bytes is read or refused, never a panic,
// and every line read has a point ID and ends in a newline.
func FuzzReadResultLines(f *testing.F) {
	header := csvLine(Columns())
	f.Add(header, false)
	f.Add(append(bytes.Clone(header), "0123456789abcdef,x\n"...), false)
	f.Add([]byte(`{"id":"0123456789abcdef","config":{}}`+"\n"), true)
	f.Add([]byte("{}\n"), true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		path := filepath.Join(dir, "shard")
		os.WriteFile(path, data, 0o644)
		format := CSV
		if jsonl {
			format = JSONL
		}
		lines, err := readResultLines(path, format, Columns())
		if err != nil {
			return
		}
		for _, l := range lines {
			if len(l.id) != 16 || !bytes.HasSuffix(l.data, []byte("\n")) {
				t.Fatalf("line %q (id %q) accepted", l.data, l.id)
			}
		}
	})
}
