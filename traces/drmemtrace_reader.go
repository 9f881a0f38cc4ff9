package traces

// The drmemtrace reader: the threads of a trace interleaved, a segment at a time
// (DRMEMTRACE.md, "Interleaving the threads").

import (
	"container/heap"
	"fmt"
	"io"
	"os"
	"slices"
)

// DrmemtraceReader reads a drmemtrace trace: its threads' records, interleaved in the
// order of the trace's serial schedule, or of the timestamps when it has none
// (DRMEMTRACE.md). Memory does not grow with the trace: each thread is a stream with a
// buffer of its own.
type DrmemtraceReader struct {
	name    string
	threads []*drThread
	// The threads stopped at a segment boundary: by drKey without a schedule, by thread
	// id with one. Invariant: a thread is in one of them, or is cur, or is done.
	waiting drHeap
	parked  map[uint64]*drThread
	cur     *drThread // the thread whose segment is being read
	prev    *drThread // the thread of the last segment started
	sched   *drSchedule
	counts  DrmemtraceCounts
	info    DrmemtraceInfo
	// compression is the first thread file's (None for a stream).
	compression Compression
	err         error
	// cpu is the cpu the records of the last Read ran on (CPU), -1 before any.
	// Invariant: every record the last Read returned is of a thread whose cpuNow was
	// cpu when the reader decoded it.
	cpu int
}

type drHeap []*drThread

func (h drHeap) Len() int           { return len(h) }
func (h drHeap) Less(i, j int) bool { return h[i].next.less(h[j].next) }
func (h drHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *drHeap) Push(x any)        { *h = append(*h, x.(*drThread)) }
func (h *drHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// NewDrmemtraceReader reads one thread's records from r, already decompressed (the
// content of a .gz thread file, or of a plain one); name is used in error messages.
func NewDrmemtraceReader(r io.Reader, name string) (*DrmemtraceReader, error) {
	d := &DrmemtraceReader{name: name, cpu: -1}
	t, err := openThread(name, &streamChunks{r: r}, &d.counts)
	if err != nil {
		return nil, err
	}
	d.add(t)
	d.info.Threads = 1
	d.setInfo()
	return d, nil
}

// OpenDrmemtrace opens a drmemtrace trace: a directory (drmemtrace.APP.PID.NNNN.dir, or
// its trace/ subdirectory) of thread files, or one thread's file (.zip, .gz or plain).
// A directory's threads are checked against its schedule files, when it has them, before
// any record is read.
func OpenDrmemtrace(path string) (*DrmemtraceReader, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	d := &DrmemtraceReader{name: path, cpu: -1}
	if !fi.IsDir() {
		t, err := openThreadFile(path, &d.counts)
		if err != nil {
			return nil, err
		}
		d.add(t)
		d.info.Threads = 1
		d.setInfo()
		return d, nil
	}
	dir, files, err := drThreadFiles(path)
	if err != nil {
		return nil, err
	}
	tids := map[uint64]string{}
	for _, f := range files {
		t, err := openThreadFile(f, &d.counts)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.threads = append(d.threads, t)
		if other, dup := tids[t.tid]; dup && t.tidSeen {
			d.Close()
			return nil, &Error{File: f, Offset: -1, Reason: fmt.Sprintf("thread %d has a second file: %s is its file too", t.tid, other)}
		}
		if t.tidSeen {
			tids[t.tid] = f
		}
	}
	d.info.Threads = len(files)
	d.setInfo()
	sched, err := openSchedule(dir, tids)
	if err != nil {
		d.Close()
		return nil, err
	}
	if sched != nil {
		d.sched = sched
		d.info.Schedule = sched.name
		d.parked = map[uint64]*drThread{}
	}
	for _, t := range d.threads {
		d.park(t)
	}
	return d, nil
}

// add makes t the reader's only thread.
func (d *DrmemtraceReader) add(t *drThread) {
	d.threads = append(d.threads, t)
	d.park(t)
}

// park puts t, stopped at a segment boundary, among the waiting threads (unless it is
// done).
func (d *DrmemtraceReader) park(t *drThread) {
	switch {
	case t.done:
	case d.parked != nil:
		d.parked[t.tid] = t
	default:
		heap.Push(&d.waiting, t)
	}
}

// nextSegment takes the thread whose segment comes next off the waiting threads: the
// schedule's next entry's thread, or the thread of the smallest drKey. At the end of
// the trace it returns io.EOF (after checking that no schedule entry is left).
func (d *DrmemtraceReader) nextSegment() (*drThread, error) {
	if d.sched == nil {
		if len(d.waiting) == 0 {
			return nil, io.EOF
		}
		return heap.Pop(&d.waiting).(*drThread), nil
	}
	if len(d.parked) == 0 {
		if err := d.sched.end(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	t, err := d.sched.pick(d.parked, d.prev)
	if err != nil {
		return nil, err
	}
	delete(d.parked, t.tid)
	return t, nil
}

func (d *DrmemtraceReader) setInfo() {
	pids := map[ASID]bool{}
	for _, t := range d.threads {
		if t.pidSeen && !pids[ASID(t.pid)] {
			pids[ASID(t.pid)] = true
			d.info.Processes = append(d.info.Processes, ASID(t.pid))
		}
	}
	slices.Sort(d.info.Processes)
	d.compression = None
	if len(d.threads) > 0 {
		t := d.threads[0]
		d.info.Version, d.info.FileType, d.info.PageSize = t.version, t.filetype, t.pageSize
		if t.comp != "" {
			d.compression = t.comp
		}
	}
}

// Info describes the trace.
func (d *DrmemtraceReader) Info() DrmemtraceInfo { return d.info }

// Counts returns what the reader decoded so far: the whole trace's counts once Read has
// returned io.EOF.
func (d *DrmemtraceReader) Counts() DrmemtraceCounts {
	c := d.counts
	for _, t := range d.threads {
		c.RecordCount += t.rec
	}
	return c
}

// Threads reports that the records carry thread ids: a drmemtrace trace's tids.
func (d *DrmemtraceReader) Threads() bool { return true }

// Read implements Reader.
func (d *DrmemtraceReader) Read(recs []Record) (int, error) {
	n := 0
	for n < len(recs) && d.err == nil {
		if d.cur == nil {
			t, err := d.nextSegment()
			if err != nil {
				d.err = err
				break
			}
			d.cur, d.prev = t, t
		}
		// The records of one Read all ran on one cpu: stop where it changes.
		cpu := d.cur.cpuNow()
		if n > 0 && cpu != d.cpu {
			break
		}
		d.cpu = cpu
		m, stop, err := d.cur.read(recs[n:])
		n += m
		if err != nil {
			d.err = err
			break
		}
		if stop == drBoundary || stop == drEnd {
			d.park(d.cur)
			d.cur = nil
		}
	}
	if n > 0 && d.err == io.EOF {
		return n, nil
	}
	return n, d.err
}

// CPU reports the cpu on which the records the last Read returned ran, as drmemtrace's
// cpu markers record it: their thread's last cpu marker before them (a segment's, or one
// inside it). Read returns early where the cpu changes, so that all of its records ran on
// this one cpu. It is -1 when their thread had no cpu marker yet, or a marker's value
// above 2^31-1, and before any Read.
func (d *DrmemtraceReader) CPU() int { return d.cpu }

// ThreadCPUs returns, for each thread, the cpus its cpu markers named in what was read
// so far (all of them once Read has returned io.EOF), increasing; a thread with none has
// an empty list.
func (d *DrmemtraceReader) ThreadCPUs() map[TID][]int {
	m := make(map[TID][]int, len(d.threads))
	for _, t := range d.threads {
		m[TID(t.tid)] = slices.Clone(t.cpus)
		if m[TID(t.tid)] == nil {
			m[TID(t.tid)] = []int{}
		}
	}
	return m
}

// Close releases the thread files.
func (d *DrmemtraceReader) Close() error {
	for _, t := range d.threads {
		t.src.close()
	}
	if d.sched != nil {
		d.sched.close()
	}
	d.threads, d.waiting, d.parked, d.cur = nil, nil, nil, nil
	return nil
}
