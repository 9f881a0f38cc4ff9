package traces

import (
	"io"
	"sort"
)

// Decoded is a trace decoded into memory once, to be replayed many times, by concurrent
// runs too: its readers hand out its records in place, with no copy and no decoding. It
// costs 24 bytes a record, so it suits traces that fit in memory many times over
// (a sweep's points over a corpus trace, benchmarks); a long trace is streamed instead.
type Decoded struct {
	recs []Record
	// controls are the indices of the records that are not accesses, increasing.
	controls []int
}

// NewDecoded wraps records already in memory. The Decoded does not copy them: they must
// not change while it is in use.
func NewDecoded(recs []Record) *Decoded {
	d := &Decoded{recs: recs}
	for i := range recs {
		if !recs[i].Kind.IsAccess() {
			d.controls = append(d.controls, i)
		}
	}
	return d
}

// Decode reads r to its end into memory.
func Decode(r Reader) (*Decoded, error) {
	recs, err := ReadAll(r)
	if err != nil {
		return nil, err
	}
	return NewDecoded(recs), nil
}

// Len returns the number of records.
func (d *Decoded) Len() int { return len(d.recs) }

// Open returns a reader from the first record.
func (d *Decoded) Open() *DecodedReader { return &DecodedReader{d: d} }

// decodedBatch is how many records a DecodedReader hands out at a time.
const decodedBatch = 64 << 10

// DecodedReader reads a Decoded. It is not safe for concurrent use; open one per run.
type DecodedReader struct {
	d   *Decoded
	pos int
}

// Read copies records into out (the Reader interface).
func (r *DecodedReader) Read(out []Record) (int, error) {
	if r.pos == len(r.d.recs) {
		return 0, io.EOF
	}
	n := copy(out, r.d.recs[r.pos:])
	r.pos += n
	return n, nil
}

// NextAccesses returns the next records in place (valid as long as the Decoded is), and
// whether all of them are accesses; io.EOF at the end. It is the Prefetcher's method of
// the same name, for a trace already in memory.
func (r *DecodedReader) NextAccesses() (recs []Record, allAccesses bool, err error) {
	if r.pos == len(r.d.recs) {
		return nil, false, io.EOF
	}
	end := min(len(r.d.recs), r.pos+decodedBatch)
	c := sort.SearchInts(r.d.controls, r.pos)
	all := c == len(r.d.controls) || r.d.controls[c] >= end
	recs, r.pos = r.d.recs[r.pos:end], end
	return recs, all, nil
}

// SeekAccess moves to access number n (0-based: n accesses are skipped), so that the next
// record read is the one after the n-th access, control records before the next access
// included, as the vmt index does.
func (r *DecodedReader) SeekAccess(n uint64) error {
	// The n-th access is at index n-1 plus the control records before it.
	lo := int(n)
	for i := 0; i < len(r.d.controls) && r.d.controls[i] < lo; i++ {
		lo++
	}
	if lo > len(r.d.recs) {
		return io.ErrUnexpectedEOF
	}
	r.pos = lo
	return nil
}
