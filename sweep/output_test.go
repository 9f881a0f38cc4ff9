package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// denseTrace returns a small trace that makes the schemes count: writes and reads over
// 40 pages, several to a page and a cache line.
func denseTrace() []traces.Record {
	var recs []traces.Record
	for i := range 3000 {
		kind := traces.Read
		if i%4 != 3 {
			kind = traces.Write
		}
		page := uint64(i*7%40) * 4096
		recs = append(recs, traces.Record{Addr: page + uint64(i%64)*64, Size: 8, Kind: kind})
	}
	return recs
}

// TestCSVColumns: every CSV header a sweep writes, for each registered scheme alone and
// for a sweep of them all, names each column once; read back with encoding/csv into a map
// from column to value, each row holds its configured scheme under "scheme" and each of
// that scheme's own counters under "scheme_KEY" (the others empty), as its JSON line does.
func TestCSVColumns(t *testing.T) {
	trace := writeVMT(t, t.TempDir(), "dense.vmt", denseTrace())
	type schemes struct {
		name  string
		names []string
	}
	var cases []schemes
	for _, n := range scheme.Names() {
		cases = append(cases, schemes{n, []string{n}})
	}
	cases = append(cases, schemes{"mixed", scheme.Names()})
	// Every registered scheme's own counters have a column (those of a key have one).
	var ownCols []string
	for _, i := range scheme.All() {
		for _, c := range i.Counters {
			ownCols = append(ownCols, "scheme_"+c.Key)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var vs []any
			for _, n := range c.names {
				vs = append(vs, n)
			}
			spec := &Spec{Traces: []string{trace}, Version: "test", Base: map[string]any{"interval": 100, "cache_size": "4K"}, Vary: map[string][]any{"scheme": vs}}
			points, costs, err := spec.Points()
			if err != nil {
				t.Fatal(err)
			}
			csvData, jsonData := runFiles(t, points, Options{Jobs: 2, Costs: costs, Version: "test"})
			recs, err := csv.NewReader(bytes.NewReader(csvData)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			header := recs[0]
			at := map[string]int{}
			for i, col := range header {
				if j, dup := at[col]; dup {
					t.Fatalf("column %q at %d and %d", col, j, i)
				}
				at[col] = i
			}
			for _, col := range ownCols {
				if _, ok := at[col]; !ok {
					t.Fatalf("no column %q", col)
				}
			}
			var results []*Result
			for _, l := range bytes.Split(bytes.TrimSpace(jsonData), []byte("\n")) {
				r, err := readResult(l)
				if err != nil {
					t.Fatal(err)
				}
				results = append(results, r)
			}
			if len(recs)-1 != len(results) || len(results) != len(c.names) {
				t.Fatalf("%d CSV rows, %d JSON lines, %d schemes", len(recs)-1, len(results), len(c.names))
			}
			nonzero := 0 // own counters above 0: the test compares numbers, not only blanks
			for i, r := range results {
				row := map[string]string{}
				for col, j := range at {
					row[col] = recs[i+1][j]
				}
				for col, want := range map[string]string{"id": r.ID, "trace_sha256": r.TraceHash, "vmsim_version": "test",
					"scheme": c.names[i], "overhead": formatFloat(r.Overhead), "cost_total_ns": formatFloat(r.Cost.Total)} {
					if row[col] != want {
						t.Errorf("row %d: %s = %q, want %q", i+1, col, row[col], want)
					}
				}
				info, _ := scheme.Lookup(c.names[i])
				if r.Stats.Scheme.Len() != len(info.Counters) {
					t.Errorf("%s: %d own counters in the JSON, %d registered", c.names[i], r.Stats.Scheme.Len(), len(info.Counters))
				}
				for _, col := range ownCols {
					want := ""
					if v, ok := r.Stats.Scheme.Get(strings.TrimPrefix(col, "scheme_")); ok {
						want = strconv.FormatInt(v, 10)
					}
					if row[col] != want {
						t.Errorf("%s: %s = %q, want %q", c.names[i], col, row[col], want)
					}
					if want != "" && want != "0" {
						nonzero++
					}
				}
			}
			var whole bytes.Buffer
			if err := WriteCSV(&whole, results); err != nil || !bytes.Equal(whole.Bytes(), csvData) {
				t.Errorf("WriteCSV wrote other bytes than the sweep (%v)", err)
			}
			if c.name == "mixed" && nonzero < 10 {
				t.Errorf("only %d own counters above 0: the trace does not exercise the schemes", nonzero)
			}
		})
	}
}

// readResult reads one JSON line of results.
func readResult(line []byte) (*Result, error) {
	var r Result
	err := json.Unmarshal(line, &r)
	return &r, err
}
