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
	recs []Record
	err  error
}

const (
	prefetchBatch = 8192
	prefetchDepth = 4
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
		select {
		case p.full <- batch{buf[:n], err}:
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
	for n < len(out) {
		if p.off == len(p.cur.recs) {
			if p.cur.err != nil || p.err != nil {
				break
			}
			if p.cur.recs != nil {
				p.free <- p.cur.recs[:0]
			}
			b, ok := <-p.full
			if !ok {
				p.err = io.ErrClosedPipe
				break
			}
			p.cur, p.off = b, 0
			continue
		}
		k := copy(out[n:], p.cur.recs[p.off:])
		n += k
		p.off += k
	}
	if n > 0 {
		return n, nil
	}
	if p.cur.err != nil {
		return 0, p.cur.err
	}
	return 0, p.err
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
