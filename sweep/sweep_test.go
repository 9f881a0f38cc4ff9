package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"github.com/vmsim/vmsim/cost"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/traces/corpus"
)

func testSpec() *Spec {
	return &Spec{
		Traces: []string{"corpus:sort", "corpus:awk"},
		Base:   map[string]any{"initial": "zero"},
		Vary:   map[string][]any{"interval": {10000, 1000000}, "memory": {"nonvolatile", "volatile"}},
	}
}

func TestPoints(t *testing.T) {
	points, costs, err := testSpec().Points()
	if err != nil {
		t.Fatal(err)
	}
	if costs != cost.DefaultSet() {
		t.Errorf("costs %+v", costs)
	}
	// Traces outermost, then keys in sorted order, the last fastest.
	want := []string{"sort 10000 nonvolatile", "sort 10000 volatile", "sort 1000000 nonvolatile", "sort 1000000 volatile",
		"awk 10000 nonvolatile", "awk 10000 volatile", "awk 1000000 nonvolatile", "awk 1000000 volatile"}
	ids := map[string]bool{}
	for i, p := range points {
		c := p.Config
		got := strings.TrimPrefix(c.Trace, "corpus:") + " " + itoa(c.Interval) + " " + string(c.Memory)
		if i >= len(want) || got != want[i] || c.Initial != "zero" {
			t.Errorf("point %d: %s (%s)", i, got, c.Initial)
		}
		ids[p.ID] = true
	}
	if len(points) != len(want) || len(ids) != len(want) {
		t.Errorf("%d points, %d ids", len(points), len(ids))
	}
	for _, bad := range []*Spec{
		{Traces: []string{"corpus:sort"}, Vary: map[string][]any{"no_such_key": {1}}},
		{Traces: []string{"corpus:sort"}, Vary: map[string][]any{"interval": {"ten"}}},
		{Traces: []string{"corpus:sort"}, Vary: map[string][]any{"scheme": {"nope"}}},
		{Traces: []string{"corpus:sort"}, Vary: map[string][]any{"interval": {}}},
		{Traces: []string{"corpus:sort"}, Costs: map[string]any{"access_ns": -1}},
		{},
	} {
		if _, _, err := bad.Points(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRunResumes runs a sweep, cuts its outputs short (one whole row and half of the
// next, as an interrupted run leaves them), and runs it again: only the missing points
// run, and the files come out byte for byte as from one uninterrupted run, whatever the
// number of jobs.
func TestRunResumes(t *testing.T) {
	points, costs, err := testSpec().Points()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(name string, jobs int) (csvData, jsonData []byte, ran int) {
		c, err := OpenCSV(filepath.Join(dir, name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		j, err := OpenJSONL(filepath.Join(dir, name+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(points, Options{Jobs: jobs, Costs: costs}, c, j)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		j.Close()
		a, _ := os.ReadFile(filepath.Join(dir, name+".csv"))
		b, _ := os.ReadFile(filepath.Join(dir, name+".jsonl"))
		return a, b, len(res)
	}
	fullCSV, fullJSON, ran := run("full", 2)
	if ran != len(points) {
		t.Fatalf("ran %d of %d", ran, len(points))
	}
	serialCSV, serialJSON, _ := run("serial", 1)
	if !bytes.Equal(fullCSV, serialCSV) || !bytes.Equal(fullJSON, serialJSON) {
		t.Fatal("one job and two jobs wrote different files")
	}
	// Cut: keep the header and 3 rows of the CSV plus half a row; 5 lines of the JSONL
	// plus half a line.
	cut := func(data []byte, lines int) []byte {
		n := 0
		for i, c := range data {
			if c == '\n' {
				if n++; n == lines {
					return append(bytes.Clone(data[:i+1]), data[i+1:i+20]...)
				}
			}
		}
		t.Fatal("too short")
		return nil
	}
	os.WriteFile(filepath.Join(dir, "cut.csv"), cut(fullCSV, 4), 0o644)
	os.WriteFile(filepath.Join(dir, "cut.jsonl"), cut(fullJSON, 5), 0o644)
	gotCSV, gotJSON, ran := run("cut", 2)
	if ran != len(points)-3 {
		t.Errorf("resumed run ran %d points, want %d", ran, len(points)-3)
	}
	if !bytes.Equal(gotCSV, fullCSV) || !bytes.Equal(gotJSON, fullJSON) {
		t.Errorf("resumed files differ from an uninterrupted run")
	}
	// Nothing left to do.
	if _, _, ran := run("cut", 2); ran != 0 {
		t.Errorf("a complete sweep ran %d points again", ran)
	}
	// Every result's overhead is its modeled time over its baseline's.
	res, err := ReadJSONL(filepath.Join(dir, "full.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Baseline.Total <= 0 || r.Overhead != r.Cost.Total/r.Baseline.Total-1 {
			t.Errorf("%s: overhead %v, times %v / %v", r.ID, r.Overhead, r.Cost.Total, r.Baseline.Total)
		}
		base, err := sim.Run(BaselineConfig(r.Config), mustOpener(t, r.Config))
		if err != nil {
			t.Fatal(err)
		}
		if got := costs.Model.Time(base.Stats, r.Config); got != r.Baseline {
			t.Errorf("%s: baseline %+v, recomputed %+v", r.ID, r.Baseline, got)
		}
	}
	// A file with other columns is refused.
	os.WriteFile(filepath.Join(dir, "other.csv"), []byte("a,b\n1,2\n"), 0o644)
	if _, err := OpenCSV(filepath.Join(dir, "other.csv")); err == nil {
		t.Error("a CSV with other columns was accepted")
	}
	os.WriteFile(filepath.Join(dir, "other.jsonl"), []byte("{\"id\":\"x\"}\nnot json\n"), 0o644)
	if _, err := OpenJSONL(filepath.Join(dir, "other.jsonl")); err == nil || !strings.Contains(err.Error(), "other.jsonl:1") {
		t.Errorf("bad JSONL: %v", err)
	}
}

func mustOpener(t *testing.T, c sim.Config) sim.Opener {
	o, err := Opener(c.Trace, c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestReadSpec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e.yaml")
	os.WriteFile(path, []byte("traces: [corpus]\nbase: {initial: zero}\nvary:\n  interval: [1000, 10000]\ncosts: {access_ns: 1}\n"), 0o644)
	s, err := ReadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	es, err := corpus.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	points, costs, err := s.Points()
	if err != nil || len(points) != 2*len(es) || costs.Model.AccessNs != 1 {
		t.Errorf("%d points, costs %+v, %v", len(points), costs, err)
	}
	os.WriteFile(path, []byte("traces: [corpus]\nvaryy: {}\n"), 0o644)
	if _, err := ReadSpec(path); err == nil {
		t.Error("unknown key accepted")
	}
}

// TestTraceHashCorpus checks that a corpus trace's hash is the SHA-256 of its embedded
// bytes, and that an unknown corpus name is an error.
func TestTraceHashCorpus(t *testing.T) {
	es, err := corpus.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := corpus.Bytes(e)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got, err := TraceHash("corpus:" + e.Name); err != nil || got != hex.EncodeToString(sum[:]) {
			t.Errorf("corpus:%s: hash %q, %v; want the SHA-256 of its bytes", e.Name, got, err)
		}
	}
	if _, err := TraceHash("corpus:nope"); err == nil {
		t.Error("corpus:nope has a hash")
	}
}

// writeVMT writes recs as a vmt trace in dir and returns its path.
func writeVMT(t *testing.T, dir, name string, recs []traces.Record) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := traces.NewVMTWriter(f, traces.VMTOptions{BlockRecords: 7})
	if err == nil {
		err = w.Write(recs)
	}
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// failTrace returns the records of a small trace with fail records (two in a row among
// them, and one first), and the same records without them.
func failTrace() (withFails, without []traces.Record) {
	fail := traces.Record{Kind: traces.Fail}
	withFails = append(withFails, fail)
	for i := range 60 {
		kind := traces.Read
		if i%3 == 0 {
			kind = traces.Write
		}
		withFails = append(withFails, traces.Record{Addr: uint64(i%9) * 4096, Size: 8, Kind: kind})
		if i == 25 || i == 40 {
			withFails = append(withFails, fail, fail)
		}
	}
	for _, r := range withFails {
		if r.Kind != traces.Fail {
			without = append(without, r)
		}
	}
	return withFails, without
}

// TestBaselineIgnoresFailRecords: a sweep runs a trace with fail records, its baseline
// (scheme none, failure-free) reads the trace less them, on either path (decoded into
// memory or streamed); a point that asks for scheme none on such a trace itself is refused
// with a message about the point, not its baseline.
func TestBaselineIgnoresFailRecords(t *testing.T) {
	dir := t.TempDir()
	withFails, without := failTrace()
	trace := writeVMT(t, dir, "fails.vmt", withFails)
	plain := writeVMT(t, dir, "plain.vmt", without)
	costs := cost.DefaultSet()
	// wantBase is the cost of c's baseline run on the trace without its fail records.
	wantBase := func(c sim.Config) cost.Breakdown {
		bc := BaselineConfig(c)
		bc.Trace = plain
		want, err := sim.Run(bc, mustOpener(t, bc))
		if err != nil {
			t.Fatal(err)
		}
		return costs.Model.Time(want.Stats, c)
	}
	for _, c := range []struct {
		name    string
		vary    map[string][]any
		memory  int64
		wantErr string // "" when the sweep must succeed
	}{
		{"decoded", map[string][]any{"scheme": {"dualmap", "undo"}, "interval": {10}}, 0, ""},
		{"streamed", map[string][]any{"scheme": {"dualmap", "undo"}, "interval": {10}}, -1, ""},
		{"scheme none asked for", map[string][]any{"scheme": {"none"}}, 0, "the trace has a fail record but scheme none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			points, _, err := (&Spec{Traces: []string{trace}, Vary: c.vary}).Points()
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(points, Options{Jobs: 2, Costs: costs, DecodeMemory: c.memory})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "baseline") {
					t.Errorf("error %v; want one about the point, with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Stats.Rollbacks != 5 {
					t.Errorf("%s: %d rollbacks, want the trace's 5 fail records", r.Config.Scheme, r.Stats.Rollbacks)
				}
				if want := wantBase(r.Config); r.Baseline != want {
					t.Errorf("%s: baseline %+v, want none's on the trace without fail records, %+v", r.Config.Scheme, r.Baseline, want)
				}
			}
		})
	}
}

// onlyRead hides every method of a reader but Read.
type onlyRead struct{ r traces.Reader }

func (o onlyRead) Read(recs []traces.Record) (int, error) { return o.r.Read(recs) }

// TestWithoutFails: the baseline's reader yields exactly the records less the fail
// records, read in place or through Read with buffers of any size (one record: a read
// of fail records only must not end the stream).
func TestWithoutFails(t *testing.T) {
	withFails, want := failTrace()
	d := traces.NewDecoded(withFails)
	for _, c := range []struct {
		name    string
		open    sim.Opener
		inPlace bool
		buf     int
	}{
		{"in place", func() (traces.Reader, error) { return d.Open(), nil }, true, 0},
		{"Read, 1 record", func() (traces.Reader, error) { return onlyRead{d.Open()}, nil }, false, 1},
		{"Read, 2 records", func() (traces.Reader, error) { return onlyRead{d.Open()}, nil }, false, 2},
		{"Read, 1000 records", func() (traces.Reader, error) { return onlyRead{d.Open()}, nil }, false, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := withoutFails(c.open)()
			if err != nil {
				t.Fatal(err)
			}
			var got []traces.Record
			b, inPlace := r.(inPlaceReader)
			if inPlace != c.inPlace {
				t.Fatalf("in place: %v, want %v", inPlace, c.inPlace)
			}
			for {
				var recs []traces.Record
				var err error
				if inPlace {
					recs, _, err = b.NextAccesses()
				} else {
					buf := make([]traces.Record, c.buf)
					var n int
					n, err = r.Read(buf)
					recs = buf[:n]
					if n == 0 && err == nil {
						t.Fatal("Read returned nothing, and no error")
					}
				}
				got = append(got, recs...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("read %d records, want the %d of the trace less its fail records", len(got), len(want))
			}
		})
	}
}

// TestReadSpecRefusals: what a YAML decoder would let through silently is an error
// naming the file and line: a second document, a key of another case (JSON matches keys
// whatever their case), a null (which would stand for the default).
func TestReadSpecRefusals(t *testing.T) {
	const head = "traces: [corpus:sort]\n"
	for _, c := range []struct {
		name, yaml string
		want       string // after "e.yaml"; "" when the spec must be read
	}{
		{"one document", head + "base: {interval: 1000}\n", ""},
		{"document markers", "---\n" + head + "...\n", ""},
		{"JSON", `{"traces": ["corpus:sort"], "vary": {"interval": [1000, 2000]}}`, ""},
		{"merge key", head + "base:\n  <<: {initial: zero}\n  interval: 1000\n", ""},
		{"second document", head + "---\ntraces: [corpus:awk]\n", ":2: a second YAML document"},
		{"empty second document", head + "vary: {interval: [1000]}\n---\n", ":3: a second YAML document"},
		{"empty", "# nothing\n", ": an empty spec"},
		{"base key case", head + "base:\n  initial: zero\n  Interval: 5\n", `:4: base: no setting "Interval": keys are case-sensitive; did you mean "interval"?`},
		{"vary key case", head + "vary:\n  MEMORY: [volatile]\n", `:3: vary: no setting "MEMORY": keys are case-sensitive; did you mean "memory"?`},
		{"costs key case", head + "costs: {Access_NS: 1}\n", `:2: costs: no cost "Access_NS": keys are case-sensitive; did you mean "access_ns"?`},
		{"merged key case", head + "base:\n  <<: {Initial: zero}\n", `:3: base: no setting "Initial"`},
		{"unknown key", head + "base: {intervall: 5}\n", `:2: base: no setting "intervall"`},
		{"trace as a setting", head + "vary: {trace: [a, b]}\n", ":2: vary: trace is not a setting"},
		{"params as a setting", head + "base: {params: {copy-rate: 3}}\n", ":2: base: params is not a setting"},
		{"base null", head + "base:\n  initial: zero\n  interval: null\n", ":4: base.interval: null is not a value"},
		{"base empty value", head + "base:\n  interval:\n", ":3: base.interval: null is not a value"},
		{"base tilde", head + "base: {interval: ~}\n", ":2: base.interval: null"},
		{"null in a list", head + "base: {fail_at: [5, null]}\n", ":2: base.fail_at[1]: null"},
		{"vary null value", head + "vary:\n  interval:\n    - 1000\n    - null\n", ":5: vary.interval[1]: null"},
		{"vary null", head + "vary:\n", ":2: vary: null"},
		{"costs null", head + "costs: {access_ns: null}\n", ":2: costs.access_ns: null"},
		{"traces null", "traces: [corpus:sort, null]\n", ":1: traces[1]: null"},
		{"unknown top-level key", head + "Vary: {interval: [1]}\n", `:2: "Vary" is not a key of a spec: it has traces, base, vary and costs`},
		{"one trace, not a list", "traces: a.rw\n", ":1: traces: want a list of trace files, as [a.rw], not one value"},
		{"NaN in vary", head + "vary: {mtbf: [.nan]}\n", ":2: vary.mtbf[0]: .nan is not a value: want a finite number"},
		{"infinity in base", head + "base: {mtbf: .inf}\n", ":2: base.mtbf: .inf is not a value: want a finite number"},
		{"NaN in costs", head + "costs: {trap_ns: .NaN}\n", ":2: costs.trap_ns: .NaN is not a value"},
		{"syntax", head + "base:\n\tinterval: 5\n", ":3: found character that cannot start any token"},
		{"vary not a list", head + "vary: {interval: 5}\n", ":2: vary.interval: want a list of values, as [5], not one value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "e.yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := ReadSpec(path)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.Points(); err != nil {
					t.Errorf("points: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), path+c.want) {
				t.Errorf("ReadSpec: %v; want an error with %q", err, "e.yaml"+c.want)
			}
		})
	}
}

// TestPointsRefusals: a spec made from flags (--set, --base, --cost) is held to the same
// keys and values as a spec file.
func TestPointsRefusals(t *testing.T) {
	tr := []string{"corpus:sort"}
	for _, c := range []struct {
		name string
		spec Spec
		want string
	}{
		{"base key case", Spec{Traces: tr, Base: map[string]any{"Interval": 5}}, `base: no setting "Interval": keys are case-sensitive`},
		{"vary key case", Spec{Traces: tr, Vary: map[string][]any{"Memory": {"volatile"}}}, `vary: no setting "Memory": keys are case-sensitive`},
		{"cost key case", Spec{Traces: tr, Costs: map[string]any{"TRAP_NS": 1}}, `costs: no cost "TRAP_NS": keys are case-sensitive`},
		{"base null", Spec{Traces: tr, Base: map[string]any{"interval": nil}}, "base: interval: null is not a value"},
		{"vary null", Spec{Traces: tr, Vary: map[string][]any{"interval": {1000, nil}}}, "vary: interval: null is not a value"},
		{"null in a list", Spec{Traces: tr, Base: map[string]any{"fail_at": []any{5, nil}}}, "base: fail_at: null is not a value"},
		{"scheme setting null", Spec{Traces: tr, Base: map[string]any{"scheme": "bitmap2", "copy-rate": nil}}, "base: copy_rate: null is not a value"},
		{"cost null", Spec{Traces: tr, Costs: map[string]any{"trap_ns": nil}}, "costs: trap_ns: null is not a value"},
		{"trace", Spec{Traces: tr, Base: map[string]any{"trace": "x"}}, "trace is not a setting"},
		{"params", Spec{Traces: tr, Base: map[string]any{"params": map[string]any{}}}, "params is not a setting"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := c.spec.Points(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Points: %v; want an error with %q", err, c.want)
			}
		})
	}
}
