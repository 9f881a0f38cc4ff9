package sweep

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/vmsim/vmsim/sim"
	"github.com/vmsim/vmsim/traces"
)

// recordBytes is what a decoded record costs in memory (24 bytes).
var recordBytes = int64(reflect.TypeFor[traces.Record]().Size())

// DefaultDecodeMemory returns the memory a sweep may spend on decoded traces when
// Options.DecodeMemory is 0: a quarter of the machine's memory, or of the cgroup's limit
// (a Slurm job's, a container's) when that is lower; 1 GiB when neither can be read.
func DefaultDecodeMemory() int64 {
	total := memTotal()
	if limit := cgroupLimit(); limit > 0 && (total <= 0 || limit < total) {
		total = limit
	}
	if total <= 0 {
		return 1 << 30
	}
	return total / 4
}

// memTotal reads MemTotal from /proc/meminfo, in bytes; 0 when it cannot.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cgroupLimit reads the memory limit of this process's cgroup (v2, then v1); 0 when
// there is none or it cannot be read.
func cgroupLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			continue // "max", or v1's "no limit"
		}
		return n
	}
	return 0
}

// traceKey identifies how points read a trace: the same file read with another format or
// leniency is another sequence of records.
type traceKey struct {
	name    string
	format  string
	lenient bool
}

func keyOf(c sim.Config) traceKey { return traceKey{c.Trace, c.Format, c.Lenient} }

// decodeStore holds the traces a sweep decoded into memory, each shared by every point
// (and baseline) that reads it, on every core, and dropped once its last point is done;
// and the trace files the sweep reads, each opened once (see traceFile) and closed after
// its last point.
type decodeStore struct {
	// cache, when set, holds the local copies of the trace files that the runs read.
	cache TraceCache
	// files are the trace files of the points, by name and content hash. Invariant: the
	// map does not change after newDecodeStore; a traceFile's users change under mu.
	files map[fileKey]*traceFile

	mu sync.Mutex
	// left is the memory, in bytes, that decoded traces may still take.
	// Invariant: left + the bytes of every entry's reservation == the budget; left >= 0.
	left    int64
	entries map[traceKey]*decodedTrace
}

// decodedTrace is one trace's entry in a decodeStore.
type decodedTrace struct {
	once sync.Once
	// d is the decoded trace; nil when the trace is streamed instead (it does not fit the
	// budget, it cannot be read whole, or a lenient reader skipped lines in it).
	// Invariant: nil once users is 0.
	d *traces.Decoded
	// reserved is the memory d holds against the budget. Invariant: 0 when d is nil.
	reserved int64
	// users is the number of points still to run that read the trace.
	users int
}

// fileKey identifies a trace file as points read it: the name, and the SHA-256 of the
// bytes they were made for.
type fileKey struct{ name, hash string }

// isFile says whether a point's trace is a file (not one of the corpus, built in).
func isFile(p Point) bool { return !strings.HasPrefix(p.Config.Trace, "corpus:") }

// newDecodeStore returns a store with budget bytes (none: every trace streams) for the
// points to run, which it counts by trace, reading trace files through cache if set.
func newDecodeStore(budget int64, points []Point, cache TraceCache) *decodeStore {
	s := &decodeStore{cache: cache, files: map[fileKey]*traceFile{}, left: max(budget, 0), entries: map[traceKey]*decodedTrace{}}
	for _, p := range points {
		k := keyOf(p.Config)
		e := s.entries[k]
		if e == nil {
			e = &decodedTrace{}
			s.entries[k] = e
		}
		e.users++
		if isFile(p) {
			fk := fileKey{p.Config.Trace, p.TraceHash}
			if s.files[fk] == nil {
				s.files[fk] = &traceFile{}
			}
			s.files[fk].users++
		}
	}
	return s
}

// acquire returns an opener of p's trace: its records in memory, decoded by the first
// point that asks, or a stream of the file; and, for a stream, a check to call after the
// runs, which fails if the file changed meanwhile (nil for records in memory, or a
// corpus trace). Precondition: p is one of the store's points, and release(p) is called
// once, after its runs.
func (s *decodeStore) acquire(p Point) (open sim.Opener, check func() error, err error) {
	stream, check, err := s.stream(p)
	if err != nil {
		return nil, nil, err
	}
	e := s.entries[keyOf(p.Config)]
	if e == nil {
		panic("sweep: acquire of a point the store does not count")
	}
	e.once.Do(func() { s.decode(keyOf(p.Config), e, stream, check) })
	s.mu.Lock()
	d := e.d
	s.mu.Unlock()
	if d == nil {
		return stream, check, nil
	}
	return func() (traces.Reader, error) { return d.Open(), nil }, nil, nil
}

// stream returns how to stream p's trace, and for a file, the check that it did not
// change: a trace file is opened once, by the first of its points, and checked to hold
// the bytes whose hash the points carry (see traceFile).
func (s *decodeStore) stream(p Point) (sim.Opener, func() error, error) {
	name := p.Config.Trace
	if !isFile(p) {
		open, err := Opener(name, p.Config)
		return open, nil, err
	}
	format, err := traces.ParseFormat(p.Config.Format)
	if err != nil {
		return nil, nil, err
	}
	t := s.files[fileKey{name, p.TraceHash}]
	t.once.Do(func() { t.bind(name, p.TraceHash, s.cache) })
	if t.err != nil {
		return nil, nil, t.err
	}
	return t.opener(name, traces.Options{Format: format, Lenient: p.Config.Lenient}), func() error { return t.check(name) }, nil
}

// release says that p's runs are done; the last point of a trace frees its records, and
// closes its file.
func (s *decodeStore) release(p Point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[keyOf(p.Config)]
	if e.users--; e.users == 0 {
		e.d = nil
		s.left += e.reserved
		e.reserved = 0
	}
	if isFile(p) {
		t := s.files[fileKey{p.Config.Trace, p.TraceHash}]
		if t.users--; t.users == 0 && t.f != nil {
			t.f.Close()
			t.f = nil
		}
	}
}

// reserve takes n bytes from the budget, when they are left.
func (s *decodeStore) reserve(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.left {
		return false
	}
	s.left -= n
	return true
}

func (s *decodeStore) giveBack(n int64) {
	s.mu.Lock()
	s.left += n
	s.mu.Unlock()
}

// decodeChunk is how many records decode gathers in a chunk before the final copy.
const decodeChunk = 256 << 10

// decode reads a trace whole into memory, within the budget, into e. On any trouble it
// leaves e.d nil (the points stream the trace, and a broken one reports its error as it
// always did).
//
// The records are read ahead on another goroutine (a traces.Prefetcher, as a streaming
// run reads them), gathered in chunks, then copied once into a slice of their exact
// size: while decoding, a trace holds up to twice its final size against the budget.
// check, when not nil, says whether the file still holds the bytes it held when opened:
// records read from a file that changed meanwhile are dropped.
func (s *decodeStore) decode(key traceKey, e *decodedTrace, open sim.Opener, check func() error) {
	r, err := open()
	if err != nil {
		return
	}
	p := traces.NewPrefetcher(r)
	defer p.Close()
	var chunks [][]traces.Record
	var n int
	var held int64 // reserved for the chunks
	defer func() { s.giveBack(held) }()
	for {
		batch, _, err := p.NextAccesses()
		for len(batch) > 0 {
			if len(chunks) == 0 || len(chunks[len(chunks)-1]) == decodeChunk {
				if !s.reserve(decodeChunk * recordBytes) {
					return
				}
				held += decodeChunk * recordBytes
				chunks = append(chunks, make([]traces.Record, 0, decodeChunk))
			}
			c := &chunks[len(chunks)-1]
			k := min(len(batch), decodeChunk-len(*c))
			*c = append(*c, batch[:k]...)
			batch = batch[k:]
			n += k
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return
		}
	}
	if p.SkippedLines() > 0 {
		return // the driver reports skipped lines from the stream it reads: stream
	}
	if check != nil && check() != nil {
		return // the points fail as they open the stream
	}
	size := int64(n) * recordBytes
	if !s.reserve(size) {
		return
	}
	recs := make([]traces.Record, 0, n)
	for _, c := range chunks {
		recs = append(recs, c...)
	}
	s.mu.Lock()
	e.d, e.reserved = traces.NewDecoded(recs), size
	s.mu.Unlock()
	if testDecoded != nil {
		testDecoded(key)
	}
}

// testDecoded, in tests, is called with each trace decoded.
var testDecoded func(traceKey)
