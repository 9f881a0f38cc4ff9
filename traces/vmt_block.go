package traces

// A vmt file's blocks: reading, checking and decoding one, and the end block
// (FORMAT.md).

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
)

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
	switch {
	case v.hdr.Kernel():
		spare = vmtTagSpareV3
	case v.hdr.Threads():
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
		kernel := t&vmtTagKernel != 0 // version 3 only: spare holds the bit before
		if kernel && k != Write {
			v.pos = pos - 1
			return i, v.badRecord(i, pos-1, fmt.Sprintf("bad record tag %#02x: a %s marked as the kernel's (only a write can be)", t, k))
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
		out[i] = Record{Addr: st.addr[s], Size: st.size[s], ASID: st.asid, Kind: k, Kernel: kernel, Thread: st.thread}
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
