package traces

// The vmt format: vmsim's own binary trace format. traces/FORMAT.md is its specification;
// this file and vmt_write.go implement it. Keep the three in step.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"

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
	// (VMTOptions.Threads; FORMAT.md). This package reads both versions.
	VMTVersionThreads = 2

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
	Version      uint16          // VMTVersion or VMTVersionThreads
	Compressed   bool            // block payloads are zstd frames
	BlockRecords uint32          // the most records a block holds
	Meta         json.RawMessage // a JSON object (the writer's metadata); "{}" when none
}

// Threads reports whether the file's records carry thread ids (version 2).
func (h VMTHeader) Threads() bool { return h.Version >= VMTVersionThreads }

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

// Threads reports whether the file's records carry thread ids (version 2).
func (v *VMTReader) Threads() bool { return v.hdr.Threads() }

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
	case v.hdr.Version != VMTVersion && v.hdr.Version != VMTVersionThreads:
		return v.errorf(8, nil, "vmt version %d; this vmsim reads versions %d and %d", v.hdr.Version, VMTVersion, VMTVersionThreads)
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

// Records returns the number of records and of accesses the index says the file holds
// (seekable files only; ok is false for a stream).
func (v *VMTReader) Records() (records, accesses uint64, ok bool) {
	if v.ra == nil {
		return 0, 0, false
	}
	var f [16]byte
	if _, err := v.ra.ReadAt(f[:], v.size-vmtFooterSize); err != nil {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(f[:]), binary.LittleEndian.Uint64(f[8:]), true
}

// SeekAccess positions the reader just after access number n-1 (0-based), so that the
// next access it returns is access n, preceded by any control records that follow access
// n-1. SeekAccess(0) rewinds. It needs a file opened with OpenVMT.
//
// The block it lands in is checked against the index first (FORMAT.md, "Checking the
// index against the blocks"): a malformed file, a lying index among others, fails the
// seek with an *Error naming the file and the block's offset, and every later Read and
// SeekAccess with the same error. Only a seek past the end leaves the reader usable.
func (v *VMTReader) SeekAccess(n uint64) error {
	if v.ra == nil {
		return errors.New("SeekAccess needs a seekable vmt file")
	}
	if v.err != nil && !isVMTEOF(v.err) {
		return v.err
	}
	// The last block that starts at or before access n (with control records that come
	// after access n-1, a block starting at n may not be the first that holds them).
	i := 0
	for lo, hi := 0, len(v.index); lo < hi; {
		m := int(uint(lo+hi) >> 1)
		if v.index[m].firstAccess < n {
			i, lo = m, m+1
		} else {
			hi = m
		}
	}
	if len(v.index) == 0 {
		if n == 0 {
			v.rewindTo(0)
			return nil
		}
		return fmt.Errorf("%s: access %d is past the end (the trace is empty)", v.name, n)
	}
	v.rewindTo(i)
	// A malformed file (a lying index among others) fails the seek and every later
	// Read: a caller that reads on after a failed seek gets the error, not records from
	// wherever the seek stopped.
	fail := func(err error) error {
		v.err = err
		return err
	}
	if i > 0 {
		// Only entry 0 is known good: check the block this one leads to.
		if err := v.nextBlock(); err != nil {
			if isVMTEOF(err) {
				err = v.errorf(v.index[i].offset, nil, "the index does not match the blocks: entry %d points at the end block", i)
			}
			return fail(err)
		}
		if err := v.checkSeekBlock(i); err != nil {
			return fail(err)
		}
	}
	// Decode and drop the records before access n.
	var buf [256]Record
	for v.accesses < n {
		if v.left == 0 {
			if err := v.nextBlock(); err != nil {
				if isVMTEOF(err) {
					return fmt.Errorf("%s: access %d is past the end (%d accesses)", v.name, n, v.accesses)
				}
				return fail(err)
			}
			continue
		}
		// Never decode past access n-1: at most n-accesses records at a time.
		m := min(uint64(len(buf)), n-v.accesses, uint64(v.left))
		if _, err := v.decode(buf[:m]); err != nil {
			return fail(err)
		}
	}
	return nil
}

func isVMTEOF(err error) bool { return err == io.EOF }

// rewindTo positions the reader at the start of the block of index entry i (of the end
// of the header when the index is empty and i is 0).
func (v *VMTReader) rewindTo(i int) {
	e := vmtIndexEntry{offset: int64(vmtHeaderSize + len(v.hdr.Meta))}
	if i < len(v.index) {
		e = v.index[i]
	}
	v.nextIdx = i
	v.src = io.NewSectionReader(v.ra, e.offset, v.size-e.offset)
	v.off = e.offset
	v.recs, v.accesses = e.firstRecord, e.firstAccess
	v.left, v.raw, v.pos, v.err = 0, v.raw[:0], 0, nil
}

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

// nextBlock reads the next block's header and payload. At the end block it checks the
// index and the footer against what it decoded and returns io.EOF.
func (v *VMTReader) nextBlock() error {
	h, err := v.readBlockHeader()
	if err != nil {
		return err
	}
	if h.n == 0 {
		return v.readEnd(h.stored, h.rawLen, h.crc)
	}
	if err := v.countBlock(v.recs, v.accesses, h.off); err != nil {
		return err
	}
	payloadOff := v.off
	if v.hdr.Compressed {
		v.stored = grow(v.stored, int(h.stored))
		if err := v.readFull(v.stored, "reading a block"); err != nil {
			return err
		}
	} else {
		v.raw = grow(v.raw, int(h.rawLen))
		if err := v.readFull(v.raw, "reading a block"); err != nil {
			return err
		}
	}
	if err := v.loadPayload(h, payloadOff, v.stored); err != nil {
		return err
	}
	v.pos, v.left = 0, h.n
	v.st.reset()
	return nil
}

// vmtBlockHeader is a block's header, read and checked, and where it is.
type vmtBlockHeader struct {
	n, stored, rawLen, crc uint32
	off                    int64 // file offset of the header
}

// readBlockHeader reads and checks the next block's header; n is 0 at the end block.
func (v *VMTReader) readBlockHeader() (vmtBlockHeader, error) {
	if v.left == 0 && v.pos != len(v.raw) {
		return vmtBlockHeader{}, v.errorf(v.blockOff, nil, "block holds %d bytes after its last record", len(v.raw)-v.pos)
	}
	var bh [vmtBlockHeaderSize]byte
	v.blockOff = v.off
	h := vmtBlockHeader{off: v.off}
	if err := v.readFull(bh[:], "reading a block header"); err != nil {
		return h, err
	}
	h.n, h.stored, h.rawLen, h.crc = binary.LittleEndian.Uint32(bh[0:]), binary.LittleEndian.Uint32(bh[4:]), binary.LittleEndian.Uint32(bh[8:]), binary.LittleEndian.Uint32(bh[12:])
	if h.n == 0 {
		return h, nil
	}
	switch n, stored, rawLen := h.n, h.stored, h.rawLen; {
	case n > v.hdr.BlockRecords:
		return h, v.errorf(v.blockOff, nil, "block of %d records (the header allows %d)", n, v.hdr.BlockRecords)
	case rawLen > n*v.hdr.maxRecordBytes() || rawLen < n:
		return h, v.errorf(v.blockOff+8, nil, "block payload of %d bytes cannot hold %d records", rawLen, n)
	case !v.hdr.Compressed && stored != rawLen:
		return h, v.errorf(v.blockOff+4, nil, "stored length %d differs from raw length %d in an uncompressed file", stored, rawLen)
	case stored > 2*rawLen+1024:
		return h, v.errorf(v.blockOff+4, nil, "stored length %d is implausible for %d raw bytes", stored, rawLen)
	}
	return h, nil
}

// countBlock adds a block at offset off that starts at record first and access
// firstAccess to what a stream's index must describe or, in a seekable file, checks it
// against the index entry the file gives it: a block the index misplaces is an error.
func (v *VMTReader) countBlock(first, firstAccess uint64, off int64) error {
	v.blocks++
	if v.ra == nil {
		e := vmtIndexEntry{first, firstAccess, off}
		var b [vmtIndexEntrySize]byte
		v.indexCRC = crc32.Update(v.indexCRC, castagnoli, e.append(b[:0]))
		return nil
	}
	i := v.nextIdx
	if i >= len(v.index) {
		return v.errorf(off, nil, "the index does not match the blocks: it lists %d blocks, the file holds a block after them at offset %d", len(v.index), off)
	}
	switch e := v.index[i]; {
	case e.offset != off:
		return v.errorf(off, nil, "the index does not match the blocks: entry %d puts block %d at offset %d, it is at offset %d", i, i, e.offset, off)
	case e.firstRecord != first || e.firstAccess != firstAccess:
		return v.errorf(off, nil, "the index does not match the blocks: entry %d says the block at offset %d starts at record %d and access %d, it starts at record %d and access %d",
			i, off, e.firstRecord, e.firstAccess, first, firstAccess)
	}
	v.nextIdx++
	return nil
}

// checkSeekBlock checks the block a seek landed in, index entry i (just loaded, nothing
// decoded yet), against the index: it must hold exactly the records and accesses between
// its entry and the next one (or the footer's totals, for the last block). A seek trusts
// entry i for the numbers of the records it returns, and no block before it is decoded:
// this is what keeps a lying entry from shifting the trace silently. Decoding errors in
// the block are returned as they are.
func (v *VMTReader) checkSeekBlock(i int) error {
	if v.seekChecked == nil {
		v.seekChecked = make([]bool, len(v.index))
	}
	if v.seekChecked[i] {
		return nil
	}
	e := v.index[i]
	nextRec, nextAcc, _ := v.Records()
	if i+1 < len(v.index) {
		nextRec, nextAcc = v.index[i+1].firstRecord, v.index[i+1].firstAccess
	}
	n := uint64(v.left)
	var buf [256]Record
	for v.left > 0 {
		if _, err := v.decode(buf[:min(uint32(len(buf)), v.left)]); err != nil {
			return err
		}
	}
	accesses := v.accesses - e.firstAccess
	// Back to the block's first record.
	v.pos, v.left, v.recs, v.accesses = 0, uint32(n), e.firstRecord, e.firstAccess
	v.st.reset()
	if e.firstRecord+n != nextRec || e.firstAccess+accesses != nextAcc {
		says := fmt.Sprintf("index entry %d and the footer", i)
		if i+1 < len(v.index) {
			says = fmt.Sprintf("index entries %d and %d", i, i+1)
		}
		return v.errorf(e.offset, nil, "the index does not match the blocks: the block at offset %d holds %d records and %d accesses, %s say %d and %d",
			e.offset, n, accesses, says, nextRec-e.firstRecord, nextAcc-e.firstAccess)
	}
	v.seekChecked[i] = true
	return nil
}

// loadPayload makes v.raw the block's raw payload: it decompresses stored (in a
// compressed file; otherwise v.raw already holds the payload) and checks the CRC.
// payloadOff is the payload's file offset, for errors.
func (v *VMTReader) loadPayload(h vmtBlockHeader, payloadOff int64, stored []byte) error {
	if v.hdr.Compressed {
		out, err := v.zdec.DecodeAll(stored, grow(v.raw, 0)[:0])
		if err != nil {
			return v.errorf(payloadOff, err, "corrupt zstd block")
		}
		if len(out) != int(h.rawLen) {
			return v.errorf(payloadOff, nil, "block decompresses to %d bytes, header says %d", len(out), h.rawLen)
		}
		v.raw = out
	}
	if crc32.Checksum(v.raw, castagnoli) != h.crc {
		return v.errorf(payloadOff, nil, "block checksum mismatch (block at offset %d)", h.off)
	}
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// readEnd checks the end block, the index and the footer of a stream.
func (v *VMTReader) readEnd(stored, rawLen, crc uint32) error {
	endOff := v.blockOff
	// A seekable reader may have jumped past blocks, so only a stream counts them.
	if stored != rawLen || stored%vmtIndexEntrySize != 0 || (v.ra == nil && uint64(stored/vmtIndexEntrySize) != v.blocks) {
		return v.errorf(endOff, nil, "malformed end block (index of %d bytes after %d blocks)", stored, v.blocks)
	}
	if v.ra != nil {
		// A seekable file's index was checked when it was opened, and every block read
		// against its entry; check that none is missing, and the totals.
		if v.nextIdx != len(v.index) {
			return v.errorf(endOff, nil, "the index does not match the blocks: it lists %d blocks, the file ends after %d of them", len(v.index), v.nextIdx)
		}
		r, a, _ := v.Records()
		if r != v.recs || a != v.accesses {
			return v.errorf(endOff, nil, "footer says %d records and %d accesses, the blocks hold %d and %d", r, a, v.recs, v.accesses)
		}
		return io.EOF
	}
	if v.indexCRC != crc {
		return v.errorf(endOff, nil, "the index does not match the blocks")
	}
	// Stream the index through its checksum in small pieces: memory stays flat.
	h := uint32(0)
	var buf [64 * vmtIndexEntrySize]byte
	for left := int(stored); left > 0; {
		b := buf[:min(left, len(buf))]
		if err := v.readFull(b, "reading the index"); err != nil {
			return err
		}
		h = crc32.Update(h, castagnoli, b)
		left -= len(b)
	}
	if h != crc {
		return v.errorf(endOff+vmtBlockHeaderSize, nil, "index checksum mismatch")
	}
	var f [vmtFooterSize]byte
	footOff := v.off
	if err := v.readFull(f[:], "reading the footer"); err != nil {
		return err
	}
	switch {
	case !bytes.Equal(f[24:], vmtEndMagic):
		return v.errorf(footOff+24, nil, "bad end marker")
	case binary.LittleEndian.Uint64(f[16:]) != uint64(endOff):
		return v.errorf(footOff+16, nil, "footer names the end block at %d, it is at %d", binary.LittleEndian.Uint64(f[16:]), endOff)
	case binary.LittleEndian.Uint64(f[0:]) != v.recs || binary.LittleEndian.Uint64(f[8:]) != v.accesses:
		return v.errorf(footOff, nil, "footer says %d records and %d accesses, the blocks hold %d and %d",
			binary.LittleEndian.Uint64(f[0:]), binary.LittleEndian.Uint64(f[8:]), v.recs, v.accesses)
	}
	// Read on to the end of the input, so that a compressed wrapper's own trailer (gzip's
	// CRC and length, xz's and zstd's checksums) is checked too.
	var one [1]byte
	k, err := io.ReadFull(v.src, one[:])
	if k != 0 {
		return v.errorf(v.off, nil, "data after the end of the vmt trace")
	}
	if err != nil && err != io.EOF {
		return v.errorf(v.off, err, "after the end of the vmt trace")
	}
	return io.EOF
}

// decode decodes len(out) records (at most v.left) of the current block into out.
func (v *VMTReader) decode(out []Record) (int, error) {
	p, pos, st := v.raw, v.pos, &v.st
	spare := byte(vmtTagSpare)
	if v.hdr.Threads() {
		spare = vmtTagSpareV2
	}
	var accesses uint64
	for i := range out {
		// The fast path: an access without an address space, with no size or a one-byte
		// size, and a delta of at most 8 bytes read with one 8-byte load; at least a whole
		// record's worth of bytes must be left. Anything else takes the careful path.
		if t := p[min(pos, len(p)-1)]; pos+vmtMaxRecordBytes <= len(p) && t&^vmtTagSize <= byte(Fetch) {
			j, sz := pos+1, uint32(0)
			if t&vmtTagSize != 0 {
				sz = uint32(p[j])
				j++
			}
			s := int(t>>1) & int(t) & 1 // 1 for Fetch (3), else 0
			w := binary.LittleEndian.Uint64(p[j:])
			if stop := ^w & 0x8080808080808080; stop != 0 && sz < 0x80 && (sz != 0 || t&vmtTagSize == 0) {
				if sz != 0 {
					st.size[s] = sz
				}
				n := bits.TrailingZeros64(stop)>>3 + 1
				d := w & 0x7f
				if n > 1 {
					w &= 1<<(8*n) - 1
					d |= w>>1&0x3f80 | w>>2&0x1fc000 | w>>3&0xfe00000 | w>>4&0x7f0000000 |
						w>>5&0x3f800000000 | w>>6&0x1fc0000000000 | w>>7&0xfe000000000000
				}
				st.addr[s] += uint64(int64(d>>1) ^ -int64(d&1))
				if st.addr[s]+uint64(st.size[s]-1) < st.addr[s] {
					v.pos = pos
					return i, v.badRecord(i, pos, "access runs past the end of the address space")
				}
				out[i] = Record{Addr: st.addr[s], Size: st.size[s], ASID: st.asid, Kind: Kind(t & vmtTagKind), Thread: st.thread}
				pos = j + n
				accesses++
				continue
			}
		}
		if pos >= len(p) {
			v.pos = pos
			return i, v.badRecord(i, pos, "block ends inside its records")
		}
		t := p[pos]
		pos++
		k := Kind(t & vmtTagKind)
		if t&spare != 0 || k >= numKinds {
			v.pos = pos - 1
			return i, v.badRecord(i, pos-1, fmt.Sprintf("bad record tag %#02x", t))
		}
		if t&vmtTagASID != 0 {
			a, m := uvarint(p[pos:])
			if m <= 0 || a > 1<<32-1 {
				v.pos = pos
				return i, v.badRecord(i, pos, "bad address space id")
			}
			st.asid, pos = ASID(a), pos+m
		}
		if t&vmtTagThread != 0 { // version 2 only: spare holds the bit in version 1
			th, m := uvarint(p[pos:])
			if m <= 0 || th > 1<<32-1 {
				v.pos = pos
				return i, v.badRecord(i, pos, "bad thread id")
			}
			st.thread, pos = TID(th), pos+m
		}
		if k.IsIO() {
			if t&vmtTagSize != 0 {
				v.pos = pos
				return i, v.badRecord(i, pos-1, "an I/O record with the size bit")
			}
			n, m := uvarint(p[pos:])
			if m <= 0 || n > 1<<32-1 {
				v.pos = pos
				return i, v.badRecord(i, pos, "bad I/O byte count")
			}
			pos += m
			ch, m := uvarint(p[pos:])
			if m <= 0 {
				v.pos = pos
				return i, v.badRecord(i, pos, "bad I/O channel")
			}
			pos += m
			out[i] = Record{Addr: ch, Size: uint32(n), ASID: st.asid, Kind: k, Thread: st.thread}
			continue
		}
		if k > Fetch {
			if t&vmtTagSize != 0 {
				v.pos = pos
				return i, v.badRecord(i, pos-1, "a control record with a size")
			}
			out[i] = Record{ASID: st.asid, Kind: k, Thread: st.thread}
			continue
		}
		s := stream(k)
		if t&vmtTagSize != 0 {
			z, m := uvarint(p[pos:])
			if m <= 0 || z == 0 || z > 1<<32-1 {
				v.pos = pos
				return i, v.badRecord(i, pos, "bad size")
			}
			st.size[s], pos = uint32(z), pos+m
		}
		d, m := uvarint(p[pos:])
		if m <= 0 {
			v.pos = pos
			return i, v.badRecord(i, pos, "bad address delta")
		}
		pos += m
		st.addr[s] += uint64(int64(d>>1) ^ -int64(d&1))
		if st.addr[s]+uint64(st.size[s]-1) < st.addr[s] {
			v.pos = pos
			return i, v.badRecord(i, pos, "access runs past the end of the address space")
		}
		out[i] = Record{Addr: st.addr[s], Size: st.size[s], ASID: st.asid, Kind: k, Thread: st.thread}
		accesses++
	}
	v.pos = pos
	v.left -= uint32(len(out))
	v.recs += uint64(len(out))
	v.accesses += accesses
	return len(out), nil
}

// badRecord reports a malformed record: the i-th of the current decode call, at byte pos
// of the block's payload.
func (v *VMTReader) badRecord(i, pos int, reason string) error {
	return &Error{File: v.name, Offset: v.blockOff,
		Reason: fmt.Sprintf("record %d (byte %d of the payload of the block at offset %d): %s", v.recs+uint64(i), pos, v.blockOff, reason)}
}

// uvarint decodes an unsigned LEB128 varint of at most 10 bytes (as encoding/binary).
// m is the number of bytes read, or <= 0 when b ends first or the value overflows.
func uvarint(b []byte) (x uint64, m int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	if len(b) > 1 && b[1] < 0x80 {
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, 2
	}
	return binary.Uvarint(b)
}

// Close releases the reader's decompressor.
func (v *VMTReader) Close() error {
	if v.zdec != nil {
		v.zdec.Close()
		v.zdec = nil
	}
	return nil
}
