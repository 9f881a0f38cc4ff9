package traces

// The vmt format: vmsim's own binary trace format. traces/FORMAT.md is its specification;
// this file (the header, the index and the reader), vmt_block.go (a block: reading,
// checking and decoding it), vmt_seek.go (jumping to an access by the index) and
// vmt_write.go implement it. Keep them in step.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/zstd"
)

// vmtMagic starts every vmt file; vmtEndMagic ends it.
var (
	vmtMagic    = []byte{0x89, 'V', 'M', 'T', '\r', '\n', 0x1a, '\n'}
	vmtEndMagic = []byte{0x89, 'V', 'M', 'T', 'E', 'N', 'D', '\n'}
)

const (
	// VMTVersion is the version of the vmt format a writer writes for a trace without
	// thread ids: version 1, which every vmsim reads.
	VMTVersion = 1
	// VMTVersionThreads is the version that carries a thread id with every record
	// (VMTOptions.Threads; FORMAT.md).
	VMTVersionThreads = 2
	// VMTVersionKernel is version 2 with the kernel's writes marked (Record.Kernel; tag
	// bit 6; VMTOptions.Kernel). This package reads all three versions.
	VMTVersionKernel = 3

	vmtFlagZstd = 1 << 0 // block payloads are zstd frames

	vmtHeaderSize      = 20 // magic, version, flags, block records, metadata length
	vmtBlockHeaderSize = 16 // records, stored length, raw length, crc32c
	vmtIndexEntrySize  = 24 // first record, first access, offset
	vmtFooterSize      = 32 // records, accesses, end block offset, end magic

	// VMTDefaultBlockRecords is how many records a writer puts in a block unless told.
	VMTDefaultBlockRecords = 1 << 20
	// vmtMaxBlockRecords bounds a block, and with it a reader's memory.
	vmtMaxBlockRecords = 1 << 20
	// vmtMaxRecordBytes is the longest encoding of one record in version 1: a tag and
	// three varints (an address space, a size and a delta, or an address space, a byte
	// count and a channel).
	vmtMaxRecordBytes = 1 + 5 + 5 + 10
	// vmtMaxRecordBytesV2 is the longest in version 2: a thread id more.
	vmtMaxRecordBytesV2 = vmtMaxRecordBytes + 5
	// vmtMaxMeta bounds the metadata.
	vmtMaxMeta = 1 << 20

	// Tag bits of a record.
	vmtTagKind  = 0x07 // the record's Kind
	vmtTagSize  = 0x08 // a size follows (else the stream's previous size)
	vmtTagASID  = 0x10 // an address space id follows (else the previous record's)
	vmtTagSpare = 0xe0 // must be zero in version 1
	// Version 2.
	vmtTagThread  = 0x20 // a thread id follows (else the previous record's)
	vmtTagSpareV2 = 0xc0 // must be zero in version 2
	// Version 3.
	vmtTagKernel  = 0x40 // a write the kernel made (Record.Kernel); on a write only
	vmtTagSpareV3 = 0x80 // must be zero in version 3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// vmtState is the decoder's (and the encoder's) memory between records; it is reset at
// the start of every block, so that a block decodes on its own.
//
// Addresses and sizes are predicted per stream: stream 1 is instruction fetches, stream 0
// every other access.
type vmtState struct {
	addr   [2]uint64
	size   [2]uint32
	asid   ASID
	thread TID // version 2; always 0 in version 1
}

func (s *vmtState) reset() { *s = vmtState{size: [2]uint32{1, 1}} }

func stream(k Kind) int {
	if k == Fetch {
		return 1
	}
	return 0
}

// VMTHeader is what a vmt file says about itself.
type VMTHeader struct {
	Version      uint16          // VMTVersion, VMTVersionThreads or VMTVersionKernel
	Compressed   bool            // block payloads are zstd frames
	BlockRecords uint32          // the most records a block holds
	Meta         json.RawMessage // a JSON object (the writer's metadata); "{}" when none
}

// Threads reports whether the file's records carry thread ids (version 2 or 3).
func (h VMTHeader) Threads() bool { return h.Version >= VMTVersionThreads }

// Kernel reports whether the file's writes may be marked as the kernel's (version 3).
func (h VMTHeader) Kernel() bool { return h.Version >= VMTVersionKernel }

// maxRecordBytes is the longest encoding of one record in the file's version.
func (h VMTHeader) maxRecordBytes() uint32 {
	if h.Threads() {
		return vmtMaxRecordBytesV2
	}
	return vmtMaxRecordBytes
}

// VMTReader decodes a vmt trace. Over an io.Reader it streams; over an io.ReaderAt (see
// OpenVMT) it can also jump to an access number with SeekAccess, using the file's index.
type VMTReader struct {
	name string
	src  io.Reader // the stream, positioned at off
	off  int64     // offset in the (decompressed) file of the next byte of src
	hdr  VMTHeader

	// The current block.
	raw      []byte // its decoded payload
	pos      int    // next record's offset in raw
	left     uint32 // records not yet decoded
	blockOff int64  // file offset of its header
	st       vmtState

	stored   []byte // a compressed payload, before decoding
	zdec     *zstd.Decoder
	recs     uint64 // records decoded so far
	accesses uint64 // accesses decoded so far
	indexCRC uint32 // crc32c of the index entries the blocks so far call for
	blocks   uint64
	err      error // sticky

	// Seekable files only.
	ra    io.ReaderAt
	size  int64
	index []vmtIndexEntry
	// nextIdx is the index entry of the next data block the stream reaches.
	// Invariant: every data block read so far was checked against its index entry
	// (countBlock), and the next one is index[nextIdx] (none when nextIdx == len(index)).
	nextIdx int
	// seekChecked[i] is set once the block of index entry i was found to hold what
	// entries i and i+1 say (checkSeekBlock), so that later seeks into it skip the check.
	seekChecked []bool
}

type vmtIndexEntry struct {
	firstRecord, firstAccess uint64
	offset                   int64
}

func (e vmtIndexEntry) append(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, e.firstRecord)
	b = binary.LittleEndian.AppendUint64(b, e.firstAccess)
	return binary.LittleEndian.AppendUint64(b, uint64(e.offset))
}

// NewVMTReader reads a vmt trace from a stream; name is used in error messages.
func NewVMTReader(r io.Reader, name string) (*VMTReader, error) {
	v := &VMTReader{name: name, src: r}
	if err := v.readHeader(); err != nil {
		return nil, err
	}
	return v, nil
}

// OpenVMT opens a vmt trace that can be read at any offset (a file of the given size), so
// that SeekAccess can use its index. It checks the header, the footer and the index.
func OpenVMT(ra io.ReaderAt, size int64, name string) (*VMTReader, error) {
	v := &VMTReader{name: name, src: io.NewSectionReader(ra, 0, size), ra: ra, size: size}
	if err := v.readHeader(); err != nil {
		return nil, err
	}
	if err := v.readIndex(); err != nil {
		return nil, err
	}
	return v, nil
}

// Header returns what the file says about itself.
func (v *VMTReader) Header() VMTHeader { return v.hdr }

// Threads reports whether the file's records carry thread ids (version 2 or 3).
func (v *VMTReader) Threads() bool { return v.hdr.Threads() }

// Kernel reports whether the file's writes may be marked as the kernel's (version 3).
func (v *VMTReader) Kernel() bool { return v.hdr.Kernel() }

func (v *VMTReader) errorf(off int64, err error, format string, args ...any) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		return &Error{File: v.name, Offset: off, Reason: "truncated vmt file: " + fmt.Sprintf(format, args...)}
	}
	return &Error{File: v.name, Offset: off, Reason: fmt.Sprintf(format, args...), Err: err}
}

// readFull reads exactly len(b) bytes from the stream.
func (v *VMTReader) readFull(b []byte, what string) error {
	n, err := io.ReadFull(v.src, b)
	v.off += int64(n)
	if err != nil {
		return v.errorf(v.off, err, "%s", what)
	}
	return nil
}

func (v *VMTReader) readHeader() error {
	var h [vmtHeaderSize]byte
	if err := v.readFull(h[:], "reading the header"); err != nil {
		return err
	}
	if !bytes.Equal(h[:8], vmtMagic) {
		return v.errorf(0, nil, "not a vmt file (bad magic)")
	}
	v.hdr.Version = binary.LittleEndian.Uint16(h[8:])
	flags := binary.LittleEndian.Uint16(h[10:])
	v.hdr.BlockRecords = binary.LittleEndian.Uint32(h[12:])
	metaLen := binary.LittleEndian.Uint32(h[16:])
	switch {
	case v.hdr.Version < VMTVersion || v.hdr.Version > VMTVersionKernel:
		return v.errorf(8, nil, "vmt version %d; this vmsim reads versions %d to %d", v.hdr.Version, VMTVersion, VMTVersionKernel)
	case flags&^vmtFlagZstd != 0:
		return v.errorf(10, nil, "unknown vmt flags %#x", flags)
	case v.hdr.BlockRecords == 0 || v.hdr.BlockRecords > vmtMaxBlockRecords:
		return v.errorf(12, nil, "block size of %d records (want 1 to %d)", v.hdr.BlockRecords, vmtMaxBlockRecords)
	case metaLen > vmtMaxMeta:
		return v.errorf(16, nil, "metadata of %d bytes (at most %d)", metaLen, vmtMaxMeta)
	}
	v.hdr.Compressed = flags&vmtFlagZstd != 0
	meta := make([]byte, metaLen)
	if err := v.readFull(meta, "reading the metadata"); err != nil {
		return err
	}
	if metaLen == 0 {
		meta = []byte("{}")
	}
	var obj map[string]any
	if err := json.Unmarshal(meta, &obj); err != nil || obj == nil {
		return v.errorf(vmtHeaderSize, err, "metadata is not a JSON object")
	}
	v.hdr.Meta = meta
	if v.hdr.Compressed {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(4*uint64(v.hdr.maxRecordBytes())*vmtMaxBlockRecords))
		if err != nil {
			return v.errorf(0, err, "starting the zstd decoder")
		}
		v.zdec = d
	}
	return nil
}

// readIndex reads the footer and the index of a seekable file and checks them.
func (v *VMTReader) readIndex() error {
	if v.size < int64(vmtHeaderSize+len(v.hdr.Meta))+vmtBlockHeaderSize+vmtFooterSize {
		return v.errorf(v.size, io.ErrUnexpectedEOF, "no room for the end block and footer")
	}
	var f [vmtFooterSize]byte
	footOff := v.size - vmtFooterSize
	if _, err := v.ra.ReadAt(f[:], footOff); err != nil {
		return v.errorf(footOff, err, "reading the footer")
	}
	if !bytes.Equal(f[24:], vmtEndMagic) {
		return v.errorf(footOff+24, nil, "no vmt end marker: the file is truncated or was not closed")
	}
	endOff := int64(binary.LittleEndian.Uint64(f[16:]))
	if endOff < vmtHeaderSize || endOff > footOff-vmtBlockHeaderSize {
		return v.errorf(footOff+16, nil, "end block offset %d out of range", endOff)
	}
	var bh [vmtBlockHeaderSize]byte
	if _, err := v.ra.ReadAt(bh[:], endOff); err != nil {
		return v.errorf(endOff, err, "reading the end block")
	}
	n, stored, raw, crc := binary.LittleEndian.Uint32(bh[0:]), binary.LittleEndian.Uint32(bh[4:]), binary.LittleEndian.Uint32(bh[8:]), binary.LittleEndian.Uint32(bh[12:])
	if n != 0 || stored != raw || stored%vmtIndexEntrySize != 0 || endOff+vmtBlockHeaderSize+int64(stored) != footOff {
		return v.errorf(endOff, nil, "malformed end block")
	}
	idx := make([]byte, stored)
	if _, err := v.ra.ReadAt(idx, endOff+vmtBlockHeaderSize); err != nil {
		return v.errorf(endOff+vmtBlockHeaderSize, err, "reading the index")
	}
	if crc32.Checksum(idx, castagnoli) != crc {
		return v.errorf(endOff+vmtBlockHeaderSize, nil, "index checksum mismatch")
	}
	v.index = make([]vmtIndexEntry, len(idx)/vmtIndexEntrySize)
	prev := vmtIndexEntry{offset: int64(vmtHeaderSize+len(v.hdr.Meta)) - 1}
	for i := range v.index {
		b := idx[i*vmtIndexEntrySize:]
		e := vmtIndexEntry{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:]), int64(binary.LittleEndian.Uint64(b[16:]))}
		if e.firstRecord < prev.firstRecord || e.firstAccess < prev.firstAccess || e.offset <= prev.offset || e.offset >= endOff ||
			(i == 0 && (e.firstRecord != 0 || e.firstAccess != 0 || e.offset != int64(vmtHeaderSize+len(v.hdr.Meta)))) {
			return v.errorf(endOff+vmtBlockHeaderSize+int64(i*vmtIndexEntrySize), nil, "index entry %d out of order", i)
		}
		v.index[i], prev = e, e
	}
	return nil
}

func isVMTEOF(err error) bool { return err == io.EOF }

// Read implements Reader.
func (v *VMTReader) Read(recs []Record) (int, error) {
	n := 0
	for n < len(recs) {
		if v.err != nil {
			break
		}
		if v.left == 0 {
			if err := v.nextBlock(); err != nil {
				v.err = err
				break
			}
			continue
		}
		m, err := v.decode(recs[n:min(len(recs), n+int(v.left))])
		n += m
		if err != nil {
			v.err = err
		}
	}
	if n > 0 && isVMTEOF(v.err) {
		return n, nil
	}
	return n, v.err
}

// Close releases the reader's decompressor.
func (v *VMTReader) Close() error {
	if v.zdec != nil {
		v.zdec.Close()
		v.zdec = nil
	}
	return nil
}
