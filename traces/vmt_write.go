package traces

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/zstd"
)

// VMTOptions says how to write a vmt trace.
type VMTOptions struct {
	// Compress makes every block a zstd frame.
	Compress bool
	// Level is the zstd level when compressing (zero means zstd.SpeedBetterCompression).
	Level zstd.EncoderLevel
	// BlockRecords is the number of records a block holds, and so the spacing of the
	// seek index (zero means VMTDefaultBlockRecords).
	BlockRecords int
	// Meta is written into the header as a JSON object (keys sorted), for example the
	// program a trace was recorded from. Nil writes "{}".
	Meta map[string]any
	// Threads writes version 2, whose records carry thread ids (Record.Thread). Without
	// it the writer writes version 1, byte for byte what vmsim wrote before threads, and
	// refuses a record whose thread id is not 0. A writer must know before its first
	// record: the header, version included, is written first and a stream cannot go
	// back to it.
	Threads bool
	// Kernel writes version 3: version 2 (thread ids) whose writes may be marked as the
	// kernel's (Record.Kernel). Without it a write so marked is refused.
	Kernel bool
}

// VMTWriter writes a vmt trace. Write records with Write, then Close to write the last
// block, the index and the footer: a file that was not closed is not a valid vmt trace.
type VMTWriter struct {
	w        *bufio.Writer
	off      int64
	opt      VMTOptions
	raw      []byte // the current block's payload
	n        uint32 // records in it
	blockAcc uint64 // accesses in the blocks before it
	st       vmtState
	index    []byte // the encoded index entries so far
	recs     uint64
	accesses uint64
	zenc     *zstd.Encoder
	stored   []byte
	err      error // sticky
	closed   bool
}

// NewVMTWriter writes the header of a vmt trace to w and returns a writer for its
// records. The writer buffers; it never closes w.
func NewVMTWriter(w io.Writer, opt VMTOptions) (*VMTWriter, error) {
	if opt.BlockRecords == 0 {
		opt.BlockRecords = VMTDefaultBlockRecords
	}
	if opt.Kernel {
		opt.Threads = true // version 3 is version 2 and the kernel's mark
	}
	if opt.BlockRecords < 1 || opt.BlockRecords > vmtMaxBlockRecords {
		return nil, fmt.Errorf("vmt block size %d records (want 1 to %d)", opt.BlockRecords, vmtMaxBlockRecords)
	}
	meta := []byte("{}")
	if opt.Meta != nil {
		var err error
		if meta, err = json.Marshal(opt.Meta); err != nil {
			return nil, fmt.Errorf("vmt metadata: %w", err)
		}
	}
	if len(meta) > vmtMaxMeta {
		return nil, fmt.Errorf("vmt metadata of %d bytes (at most %d)", len(meta), vmtMaxMeta)
	}
	vw := &VMTWriter{w: bufio.NewWriterSize(w, 1<<20), opt: opt}
	if opt.Compress {
		level := opt.Level
		if level == 0 {
			level = zstd.SpeedBetterCompression
		}
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		vw.zenc = enc
	}
	var flags uint16
	if opt.Compress {
		flags |= vmtFlagZstd
	}
	version := uint16(VMTVersion)
	if opt.Threads {
		version = VMTVersionThreads
	}
	if opt.Kernel {
		version = VMTVersionKernel
	}
	h := append([]byte(nil), vmtMagic...)
	h = binary.LittleEndian.AppendUint16(h, version)
	h = binary.LittleEndian.AppendUint16(h, flags)
	h = binary.LittleEndian.AppendUint32(h, uint32(opt.BlockRecords))
	h = binary.LittleEndian.AppendUint32(h, uint32(len(meta)))
	vw.write(append(h, meta...))
	vw.st.reset()
	return vw, vw.err
}

func (vw *VMTWriter) write(b []byte) {
	if vw.err != nil {
		return
	}
	n, err := vw.w.Write(b)
	vw.off += int64(n)
	vw.err = err
}

// Write appends records to the trace. A record that is not a valid Record (an unknown
// kind, an access of size 0, a control record with an address or size) is an error, and
// so is a thread id other than 0 in a writer made without VMTOptions.Threads (or Kernel),
// and a record marked as the kernel's that is not a write or in a writer made without
// VMTOptions.Kernel.
func (vw *VMTWriter) Write(recs []Record) error {
	if vw.closed {
		return errors.New("vmt: write after Close")
	}
	for i := range recs {
		if vw.err != nil {
			return vw.err
		}
		r := &recs[i]
		k := r.Kind
		if k >= numKinds {
			return fmt.Errorf("vmt: record %d: unknown kind %d", vw.recs, k)
		}

		t := byte(k)
		if r.ASID != vw.st.asid {
			t |= vmtTagASID
		}
		if r.Thread != vw.st.thread {
			if !vw.opt.Threads {
				return fmt.Errorf("vmt: record %d: thread id %d in a trace written without thread ids (version %d; VMTOptions.Threads writes version %d)",
					vw.recs, r.Thread, VMTVersion, VMTVersionThreads)
			}
			t |= vmtTagThread
		}
		if r.Kernel {
			switch {
			case k != Write:
				return fmt.Errorf("vmt: record %d: a %s record marked as the kernel's (only a write can be)", vw.recs, k)
			case !vw.opt.Kernel:
				return fmt.Errorf("vmt: record %d: a kernel write in a trace written without the kernel's mark (version %d; VMTOptions.Kernel writes version %d)",
					vw.recs, vw.version(), VMTVersionKernel)
			}
			t |= vmtTagKernel
		}
		if k.IsIO() {
			vw.appendTag(t, r)
			vw.raw = binary.AppendUvarint(vw.raw, uint64(r.Size))
			vw.raw = binary.AppendUvarint(vw.raw, r.Addr)
		} else if !k.IsAccess() {
			if r.Addr != 0 || r.Size != 0 {
				return fmt.Errorf("vmt: record %d: a %s record with an address or size", vw.recs, k)
			}
			vw.appendTag(t, r)
		} else {
			if r.Size == 0 {
				return fmt.Errorf("vmt: record %d: an access of size 0", vw.recs)
			}
			if r.Addr+uint64(r.Size-1) < r.Addr {
				return fmt.Errorf("vmt: record %d: access runs past the end of the address space", vw.recs)
			}
			s := stream(k)
			if r.Size != vw.st.size[s] {
				t |= vmtTagSize
			}
			vw.appendTag(t, r)
			if t&vmtTagSize != 0 {
				vw.raw = binary.AppendUvarint(vw.raw, uint64(r.Size))
				vw.st.size[s] = r.Size
			}
			d := int64(r.Addr - vw.st.addr[s])
			vw.raw = binary.AppendUvarint(vw.raw, uint64(d<<1^d>>63))
			vw.st.addr[s] = r.Addr
			vw.accesses++
		}
		vw.recs++
		if vw.n++; vw.n == uint32(vw.opt.BlockRecords) {
			vw.flushBlock()
		}
	}
	return vw.err
}

// version is the version the writer writes.
func (vw *VMTWriter) version() int {
	switch {
	case vw.opt.Kernel:
		return VMTVersionKernel
	case vw.opt.Threads:
		return VMTVersionThreads
	}
	return VMTVersion
}

// appendTag appends a record's tag t and the address space and thread ids it says
// follow, and makes them the state's.
func (vw *VMTWriter) appendTag(t byte, r *Record) {
	vw.raw = append(vw.raw, t)
	if t&vmtTagASID != 0 {
		vw.raw = binary.AppendUvarint(vw.raw, uint64(r.ASID))
		vw.st.asid = r.ASID
	}
	if t&vmtTagThread != 0 {
		vw.raw = binary.AppendUvarint(vw.raw, uint64(r.Thread))
		vw.st.thread = r.Thread
	}
}

// flushBlock writes the current block and starts the next.
func (vw *VMTWriter) flushBlock() {
	if vw.n == 0 || vw.err != nil {
		return
	}
	e := vmtIndexEntry{vw.recs - uint64(vw.n), vw.blockAcc, vw.off}
	vw.index = e.append(vw.index)
	payload := vw.raw
	if vw.zenc != nil {
		vw.stored = vw.zenc.EncodeAll(vw.raw, vw.stored[:0])
		payload = vw.stored
	}
	var bh [vmtBlockHeaderSize]byte
	binary.LittleEndian.PutUint32(bh[0:], vw.n)
	binary.LittleEndian.PutUint32(bh[4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(bh[8:], uint32(len(vw.raw)))
	binary.LittleEndian.PutUint32(bh[12:], crc32.Checksum(vw.raw, castagnoli))
	vw.write(bh[:])
	vw.write(payload)
	vw.raw, vw.n, vw.blockAcc = vw.raw[:0], 0, vw.accesses
	vw.st.reset()
}

// Records returns the number of records and accesses written so far.
func (vw *VMTWriter) Records() (records, accesses uint64) { return vw.recs, vw.accesses }

// Close writes the last block, the end block with the index, and the footer, and flushes.
// It does not close the underlying writer.
func (vw *VMTWriter) Close() error {
	if vw.closed {
		return vw.err
	}
	vw.closed = true
	vw.flushBlock()
	endOff := vw.off
	var bh [vmtBlockHeaderSize]byte
	binary.LittleEndian.PutUint32(bh[4:], uint32(len(vw.index)))
	binary.LittleEndian.PutUint32(bh[8:], uint32(len(vw.index)))
	binary.LittleEndian.PutUint32(bh[12:], crc32.Checksum(vw.index, castagnoli))
	vw.write(bh[:])
	vw.write(vw.index)
	f := binary.LittleEndian.AppendUint64(nil, vw.recs)
	f = binary.LittleEndian.AppendUint64(f, vw.accesses)
	f = binary.LittleEndian.AppendUint64(f, uint64(endOff))
	vw.write(append(f, vmtEndMagic...))
	if vw.err == nil {
		vw.err = vw.w.Flush()
	}
	if vw.zenc != nil {
		vw.zenc.Close()
	}
	return vw.err
}
