package traces

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Parallel decoding of a vmt file: blocks decode on their own (FORMAT.md), so a reader
// goroutine reads blocks as stored, workers decompress and decode them into records, and
// an orderer hands the decoded blocks on in file order, checking the index and footer as
// the sequential reader does. The Prefetcher uses it for a vmt source.

// vmtJob is one block on its way through the pipeline.
type vmtJob struct {
	h           vmtBlockHeader // n == 0: the end block (or err)
	payloadOff  int64
	firstRecord uint64
	stored      []byte // the payload as stored

	// Set by the worker before it closes done.
	recs     []Record // the decoded records (all of them, or those before err)
	accesses uint64
	controls int
	err      error // a bad block (after recs), or the reader's error (end == true)
	done     chan struct{}
}

// vmtPipeline decodes the blocks of a VMTReader on workers.
type vmtPipeline struct {
	v       *VMTReader
	jobs    chan *vmtJob
	order   chan *vmtJob // jobs in file order
	free    chan []Record
	stored  chan []byte // payload buffers the workers are done with
	stop    chan struct{}
	workers sync.WaitGroup
}

// startVMTPipeline decodes v's blocks from where v stands with the given number of
// workers, sending batches (one per block) to out, in order, and closing it after the
// batch that carries the end (io.EOF) or an error. free recycles record buffers. Closing
// stop makes every goroutine return; wait returns once none uses v any more.
//
// Precondition: v is not used by anyone else until wait returns.
func startVMTPipeline(v *VMTReader, workers int, out chan<- batch, free chan []Record, stop chan struct{}) (wait func()) {
	p := &vmtPipeline{
		v:      v,
		jobs:   make(chan *vmtJob),
		order:  make(chan *vmtJob, workers),
		free:   free,
		stored: make(chan []byte, workers+2),
		stop:   stop,
	}
	var fetcher sync.WaitGroup
	fetcher.Add(1)
	p.workers.Add(workers)
	for range workers {
		go p.work()
	}
	go func() {
		defer fetcher.Done()
		defer close(p.jobs)
		p.fetch()
	}()
	ordered := make(chan struct{})
	go func() {
		defer close(ordered)
		defer close(out)
		p.deliver(out)
	}()
	return func() {
		fetcher.Wait()
		p.workers.Wait()
		<-ordered
	}
}

// fetch reads the blocks' headers and payloads in file order and hands them to the
// workers, and the end block (or an error) to the orderer.
func (p *vmtPipeline) fetch() {
	v := p.v
	first := v.recs + uint64(v.left)
	if v.left > 0 {
		// A reader stopped inside a block (SeekAccess) finishes it here, in order.
		j := &vmtJob{done: make(chan struct{}), firstRecord: v.recs}
		j.recs = p.buffer(int(v.left))[:v.left]
		m, err := v.decode(j.recs)
		j.recs, j.err = j.recs[:m], err
		j.countRecords()
		// v.decode counted them already: the orderer must not count them again.
		j.h.n, j.accesses = uint32(m), 0
		j.firstRecord = ^uint64(0)
		close(j.done)
		if !p.send(j) || err != nil {
			return
		}
	}
	for {
		h, err := v.readBlockHeader()
		j := &vmtJob{h: h, firstRecord: first, done: make(chan struct{})}
		if err == nil && h.n != 0 {
			j.payloadOff = v.off
			select {
			case b := <-p.stored:
				j.stored = grow(b, int(h.stored))
			default:
				j.stored = make([]byte, h.stored)
			}
			err = v.readFull(j.stored, "reading a block")
		}
		if err != nil || h.n == 0 {
			j.h.n, j.err = 0, err
			close(j.done)
			p.send(j)
			return
		}
		first += uint64(h.n)
		if !p.send(j) {
			return
		}
		select {
		case p.jobs <- j:
		case <-p.stop:
			return
		}
	}
}

// send queues j for the orderer; false when stopped.
func (p *vmtPipeline) send(j *vmtJob) bool {
	select {
	case p.order <- j:
		return true
	case <-p.stop:
		return false
	}
}

// buffer returns a record buffer of at least n records.
func (p *vmtPipeline) buffer(n int) []Record {
	select {
	case b := <-p.free:
		if cap(b) >= n {
			return b[:n]
		}
	default:
	}
	return make([]Record, n)
}

// work decodes blocks: each worker has a VMTReader of its own over the block's payload.
func (p *vmtPipeline) work() {
	defer p.workers.Done()
	w := &VMTReader{name: p.v.name, hdr: p.v.hdr}
	if w.hdr.Compressed {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(4*uint64(w.hdr.maxRecordBytes())*vmtMaxBlockRecords))
		if err != nil {
			panic(err) // the options are fixed and valid
		}
		w.zdec = d
		defer w.Close()
	}
	for j := range p.jobs {
		w.blockOff, w.recs, w.accesses = j.h.off, j.firstRecord, 0
		if !w.hdr.Compressed {
			w.raw = j.stored
		}
		j.err = w.loadPayload(j.h, j.payloadOff, j.stored)
		if j.err == nil {
			w.pos, w.left = 0, j.h.n
			w.st.reset()
			j.recs = p.buffer(int(j.h.n))
			m, err := w.decode(j.recs)
			j.recs, j.err, j.accesses = j.recs[:m], err, w.accesses
			if err == nil && w.pos != len(w.raw) {
				j.err = w.errorf(j.h.off, nil, "block holds %d bytes after its last record", len(w.raw)-w.pos)
			}
			j.countRecords()
		}
		if !w.hdr.Compressed {
			w.raw = nil
		}
		select {
		case p.stored <- j.stored:
		default:
		}
		j.stored = nil
		close(j.done)
	}
}

// countRecords counts the records of j that are not accesses.
func (j *vmtJob) countRecords() {
	for i := range j.recs {
		if !j.recs[i].Kind.IsAccess() {
			j.controls++
		}
	}
}

// deliver sends the decoded blocks to out in file order, keeping the reader's counts
// and checking the index and the footer at the end as the sequential reader does.
func (p *vmtPipeline) deliver(out chan<- batch) {
	v := p.v
	for {
		var j *vmtJob
		select {
		case j = <-p.order:
		case <-p.stop:
			return
		}
		select {
		case <-j.done:
		case <-p.stop:
			return
		}
		b := batch{recs: j.recs, err: j.err, controls: j.controls}
		switch {
		case j.h.n == 0 && j.err == nil:
			// The end block: the reader goroutine has returned, v is ours.
			v.blockOff, v.left, v.raw, v.pos = j.h.off, 0, nil, 0
			b.err = v.readEnd(j.h.stored, j.h.rawLen, j.h.crc)
		case j.firstRecord != ^uint64(0) && j.h.n != 0:
			if err := v.countBlock(v.recs, v.accesses, j.h.off); err != nil {
				// As the sequential reader: a misplaced block gives no record.
				b = batch{err: err}
				break
			}
			v.recs += uint64(len(j.recs))
			v.accesses += j.accesses
		}
		if b.err != nil && b.err != io.EOF {
			v.err = b.err
		}
		select {
		case out <- b:
		case <-p.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}
