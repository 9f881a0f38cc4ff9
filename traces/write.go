package traces

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Writer writes records in some trace format. Close flushes what is buffered and
// finishes the file (it does not close the underlying io.Writer).
type Writer interface {
	Write(recs []Record) error
	Close() error
}

// WriterFormats lists the formats a trace can be written in.
var WriterFormats = []Format{FormatVMT, FormatRW, FormatDin, FormatXDin, FormatLackey}

// Losses counts what a text writer could not carry over from the records it was given.
// Records with an address space other than 0, records of a thread other than 0, writes
// marked as the kernel's, and control records, change what a simulation of the trace
// does (or what it reports); a writer refuses them unless it was made lossy.
type Losses struct {
	Sizes   int64 // accesses wider than one byte written as one byte (rw, din)
	Kinds   int64 // accesses written as another kind: modify as write (all), fetch as read (rw)
	ASIDs   int64 // accesses of an address space other than 0, written as address space 0
	Threads int64 // accesses of a thread other than 0, written without their thread id
	Kernel  int64 // the kernel's writes (Record.Kernel), written as the program's
	Control int64 // checkpoint and fail records dropped
}

// Any reports whether anything was lost.
func (l Losses) Any() bool { return l != Losses{} }

// LossError is a strict text writer's refusal of a record its format cannot carry
// without loss (WriterOptions.Lossy lets it drop what it cannot carry instead).
// Accesses are numbered from 1, as everywhere in vmsim.
type LossError struct{ What string }

func (e *LossError) Error() string { return e.What + "; write vmt, or write lossily" }

// LossyWriter is a Writer that may drop what its format cannot carry.
type LossyWriter interface {
	Writer
	Losses() Losses
}

// WriterOptions says how to write a trace.
type WriterOptions struct {
	VMT VMTOptions // for vmt
	// Lossy lets a text writer merge address spaces into one, drop thread ids, write the
	// kernel's writes as plain writes and drop control records instead of failing on them.
	Lossy bool
}

// NewWriter returns a writer of format f onto w.
func NewWriter(w io.Writer, f Format, opt WriterOptions) (Writer, error) {
	switch f {
	case FormatVMT:
		return NewVMTWriter(w, opt.VMT)
	case FormatRW, FormatDin, FormatXDin, FormatLackey:
		return &textWriter{w: bufio.NewWriterSize(w, 1<<20), f: f, lossy: opt.Lossy}, nil
	}
	return nil, fmt.Errorf("cannot write trace format %q (want one of %v)", f, WriterFormats)
}

// textWriter writes one line a record in rw, din, extended din or lackey form.
type textWriter struct {
	w      *bufio.Writer
	f      Format
	lossy  bool
	line   []byte
	n      int64 // accesses written (control records are not numbered: as everywhere in vmsim)
	losses Losses
	err    error
}

func (t *textWriter) Losses() Losses { return t.losses }

func (t *textWriter) Write(recs []Record) error {
	for _, r := range recs {
		if t.err != nil {
			return t.err
		}
		if !r.Kind.IsAccess() {
			if r.Kind >= numKinds {
				return fmt.Errorf("%s writer: a record after access %d: unknown kind %d", t.f, t.n, r.Kind)
			}
			if !t.lossy {
				t.err = &LossError{fmt.Sprintf("%s cannot carry %s records (the first is after access %d)", t.f, r.Kind, t.n)}
				return t.err
			}
			t.losses.Control++
			continue
		}
		if r.ASID != 0 {
			if !t.lossy {
				t.err = &LossError{fmt.Sprintf("%s cannot carry address space ids (access %d is in address space %d)", t.f, t.n+1, r.ASID)}
				return t.err
			}
			t.losses.ASIDs++
		}
		if r.Thread != 0 {
			if !t.lossy {
				t.err = &LossError{fmt.Sprintf("%s cannot carry thread ids (access %d is of thread %d)", t.f, t.n+1, r.Thread)}
				return t.err
			}
			t.losses.Threads++
		}
		if r.Kernel {
			if !t.lossy {
				t.err = &LossError{fmt.Sprintf("%s cannot mark the kernel's writes (access %d is one)", t.f, t.n+1)}
				return t.err
			}
			t.losses.Kernel++
		}
		b := t.line[:0]
		switch t.f {
		case FormatRW:
			b = appendHex8(b, r.Addr)
			if r.Kind.Writes() {
				b = append(b, " W\n"...)
			} else {
				b = append(b, " R\n"...)
			}
			if r.Kind == Modify || r.Kind == Fetch {
				t.losses.Kinds++
			}
			if r.Size != 1 {
				t.losses.Sizes++
			}
		case FormatDin:
			b = append(b, "0 1 2 1"[2*dinLabel(r.Kind)], ' ')
			b = strconv.AppendUint(b, r.Addr, 16)
			b = append(b, '\n')
			if r.Kind == Modify {
				t.losses.Kinds++
			}
			if r.Size != 1 {
				t.losses.Sizes++
			}
		case FormatXDin:
			b = append(b, "rwwi"[r.Kind], ' ')
			b = strconv.AppendUint(b, r.Addr, 16)
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(r.Size), 16)
			b = append(b, '\n')
			if r.Kind == Modify {
				t.losses.Kinds++
			}
		case FormatLackey:
			b = append(b, [...]string{" L ", " S ", " M ", "I  "}[r.Kind]...)
			b = appendHex8(b, r.Addr)
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(r.Size), 10)
			b = append(b, '\n')
		}
		t.line = b
		_, t.err = t.w.Write(b)
		t.n++
	}
	return t.err
}

// dinLabel is the traditional din label of an access kind.
func dinLabel(k Kind) int {
	switch k {
	case Write, Modify:
		return 1
	case Fetch:
		return 2
	}
	return 0
}

// appendHex8 appends v in lower-case hex, zero-padded to at least 8 digits, as valgrind
// prints addresses.
func appendHex8(b []byte, v uint64) []byte {
	var tmp [16]byte
	i := len(tmp)
	for v != 0 || i > len(tmp)-8 {
		i--
		tmp[i] = "0123456789abcdef"[v&15]
		v >>= 4
	}
	return append(b, tmp[i:]...)
}

func (t *textWriter) Close() error {
	if t.err != nil {
		return t.err
	}
	t.err = t.w.Flush()
	return t.err
}
