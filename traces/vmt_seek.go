package traces

// Seeking in a vmt file by its index, and checking the index against the blocks
// (FORMAT.md, "Checking the index against the blocks").

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

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
