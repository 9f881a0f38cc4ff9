package traces

import "io"

// Prefetcher reads ahead of its consumer on another goroutine, so that decoding and
// simulation overlap on two cores. Records come out in the same order, with the same
// error at the same place, as from the underlying reader. Close it when done (it also
// closes the underlying reader if that is an io.Closer).
type Prefetcher struct {
	src  Reader
	full chan batch
	free chan []Record
	done chan struct{}
	cur  batch
	off  int
	err  error
}

type batch struct {
	recs     []Record
	err      error
	controls int // records in recs that are not accesses
}

const (
	prefetchBatch = 32 << 10
	prefetchDepth = 3
)

// NewPrefetcher starts reading r ahead.
func NewPrefetcher(r Reader) *Prefetcher {
	p := &Prefetcher{
		src:  r,
		full: make(chan batch, prefetchDepth),
		free: make(chan []Record, prefetchDepth+1),
		done: make(chan struct{}),
	}
	for range prefetchDepth + 1 {
		p.free <- make([]Record, prefetchBatch)
	}
	go p.loop()
	return p
}

func (p *Prefetcher) loop() {
	defer close(p.full)
	for {
		var buf []Record
		select {
		case buf = <-p.free:
		case <-p.done:
			return
		}
		n, err := p.src.Read(buf[:cap(buf)])
		recs, controls := buf[:n], 0
		for i := range recs {
			if !recs[i].Kind.IsAccess() {
				controls++
			}
		}
		select {
		case p.full <- batch{recs, err, controls}:
		case <-p.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *Prefetcher) Read(out []Record) (int, error) {
	n := 0
	for n < len(out) && p.advance() {
		k := copy(out[n:], p.cur.recs[p.off:])
		n += k
		p.off += k
	}
	if n > 0 {
		return n, nil
	}
	return 0, p.end()
}

// Next returns the next batch of records in place, without copying: the slice is valid
// until the next call of Next or Read. At the end it returns nil and io.EOF; after the
// records before an error, it returns nil and the error, as Read does.
func (p *Prefetcher) Next() ([]Record, error) {
	if !p.advance() {
		return nil, p.end()
	}
	b := p.cur.recs[p.off:]
	p.off = len(p.cur.recs)
	return b, nil
}

// NextAccesses is Next, and also says whether every record of the batch is an access
// (counted on the read-ahead goroutine, so that the consumer need not look).
func (p *Prefetcher) NextAccesses() (recs []Record, allAccesses bool, err error) {
	if !p.advance() {
		return nil, false, p.end()
	}
	all := p.cur.controls == 0
	recs = p.cur.recs[p.off:]
	p.off = len(p.cur.recs)
	return recs, all, nil
}

// advance makes sure the current batch has unread records, fetching the next batch when
// it is used up; it reports false at the end of the stream.
func (p *Prefetcher) advance() bool {
	for p.off == len(p.cur.recs) {
		if p.cur.err != nil || p.err != nil {
			return false
		}
		if p.cur.recs != nil {
			p.free <- p.cur.recs[:0]
		}
		b, ok := <-p.full
		if !ok {
			p.err = io.ErrClosedPipe
			return false
		}
		p.cur, p.off = b, 0
	}
	return true
}

// end is the error that ended the stream.
func (p *Prefetcher) end() error {
	if p.cur.err != nil {
		return p.cur.err
	}
	return p.err
}

// SkippedLines reports the underlying reader's count once it has been read to the end.
func (p *Prefetcher) SkippedLines() int64 {
	if s, ok := p.src.(LineSkipper); ok {
		return s.SkippedLines()
	}
	return 0
}

// Close stops the read-ahead and closes the underlying reader.
func (p *Prefetcher) Close() error {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	for range p.full { // wait for the goroutine to stop using src
	}
	if c, ok := p.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
