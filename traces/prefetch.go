package traces

import (
	"io"
	"runtime"
)

// Prefetcher reads ahead of its consumer on another goroutine, so that decoding and
// simulation overlap on two cores. Records come out in the same order, with the same
// error at the same place, as from the underlying reader. Close it when done (it also
// closes the underlying reader if that is an io.Closer).
//
// With PrefetchWorkers > 0, a vmt source (a *VMTReader, or a *File over one) is decoded
// a block at a time on that many goroutines, each block on its own, and its batches are
// whole blocks.
type Prefetcher struct {
	src  Reader
	full chan batch
	free chan []Record
	done chan struct{}
	wait func() // waits until no goroutine of the read-ahead uses src
	cur  batch
	off  int
	err  error
}

// PrefetchWorkers is how many goroutines decode a vmt trace's blocks at once; 0 (the
// default) decodes none in parallel: the vmt reader reads ahead on one goroutine like any
// other reader. On the 2-core machine vmsim was measured on, parallel block decoding was
// slower than the single read-ahead goroutine, alone and under a consumer (see
// traces/PERFORMANCE.md): it is for machines with cores to spare.
var PrefetchWorkers = 0

// vmtSource returns the VMTReader under r, or nil.
func vmtSource(r Reader) *VMTReader {
	switch x := r.(type) {
	case *VMTReader:
		return x
	case *File:
		v, _ := x.Reader.(*VMTReader)
		return v
	}
	return nil
}

type batch struct {
	recs     []Record
	err      error
	controls int // records in recs that are not accesses
}

// A text or binary trace is read ahead in prefetchDepth+1 batches of prefetchBatch records
// (96 KiB each), used in turn: small enough that the buffers, 384 KiB in all, page in once
// and stay in the caches (a page's first touch costs 10-15 us on a virtual machine:
// batches of 32 Ki records, 3 MiB in all, cost a 1.7 M-access lackey run 800 page faults
// and a garbage collection), large enough that the hand-over between the two goroutines
// is rare (one per 4 Ki records).
const (
	prefetchBatch = 4 << 10
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
	if v := vmtSource(r); v != nil && v.err == nil && PrefetchWorkers > 0 {
		workers := min(PrefetchWorkers, 4*runtime.GOMAXPROCS(0))
		// Batches are blocks, up to 24 MiB of records each: hold few.
		p.full = make(chan batch, 1)
		p.wait = startVMTPipeline(v, workers, p.full, p.free, p.done)
		return p
	}
	for range prefetchDepth + 1 {
		p.free <- make([]Record, prefetchBatch)
	}
	loopDone := make(chan struct{})
	p.wait = func() { <-loopDone }
	go func() { defer close(loopDone); p.loop() }()
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
			select {
			case p.free <- p.cur.recs[:0]:
			default: // a vmt pipeline may hold more buffers than free has room for
			}
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
	for range p.full { // wait for the goroutines to stop using src
	}
	p.wait()
	if c, ok := p.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
