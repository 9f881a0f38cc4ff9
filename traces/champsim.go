package traces

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ChampSim trace formats: the binary instruction records that ChampSim's tracer writes
// and that the DPC-3, CRC-2 and CloudSuite trace sets are published in. CHAMPSIM.md
// specifies what vmsim reads from them.
const (
	FormatChampSim           Format = "champsim"            // 64-byte input_instr records
	FormatChampSimCloudSuite Format = "champsim-cloudsuite" // 96-byte cloudsuite_instr records, with address space ids
)

// champsimLayout describes one ChampSim record layout, as the C compiler lays out the
// tracer's struct on x86-64 (little-endian, 8-byte fields aligned to 8).
type champsimLayout struct {
	format Format
	size   int // bytes a record
	nDst   int // destination_memory slots (stores)
	dstOff int // offset of destination_memory[0]
	nSrc   int // source_memory slots (loads)
	srcOff int // offset of source_memory[0]
	// asidOff is the offset of asid[2], or -1 when the layout has none.
	asidOff int
}

// champsimMaxAccesses is the most accesses one record of any layout yields: a fetch,
// four loads and four stores.
const champsimMaxAccesses = 9

// ChampSimAccessSize is the size given to every access read from a ChampSim trace,
// which records no sizes: one byte, so that an access touches exactly the page of its
// address (as the din reader does for the same reason).
const ChampSimAccessSize = 1

var (
	// input_instr: ip u64 @0, is_branch u8 @8, branch_taken u8 @9, destination_registers
	// [2]u8 @10, source_registers [4]u8 @12, destination_memory [2]u64 @16, source_memory
	// [4]u64 @32; 64 bytes, no padding.
	champsimInput = champsimLayout{format: FormatChampSim, size: 64, nDst: 2, dstOff: 16, nSrc: 4, srcOff: 32, asidOff: -1}
	// cloudsuite_instr: ip u64 @0, is_branch @8, branch_taken @9, destination_registers
	// [4]u8 @10, source_registers [4]u8 @14, 6 bytes of padding @18, destination_memory
	// [4]u64 @24, source_memory [4]u64 @56, asid [2]u8 @88, 6 bytes of padding @90; 96 bytes.
	champsimCloudSuite = champsimLayout{format: FormatChampSimCloudSuite, size: 96, nDst: 4, dstOff: 24, nSrc: 4, srcOff: 56, asidOff: 88}
)

func champsimLayoutOf(f Format) *champsimLayout {
	if f == FormatChampSimCloudSuite {
		return &champsimCloudSuite
	}
	return &champsimInput
}

// ChampSimReader reads ChampSim's binary instruction traces (decompressed: Open and
// NewFile undo xz or gzip, detected from the content). Each instruction record becomes,
// in this order:
//
//   - one Fetch at ip;
//   - one Read per nonzero source_memory slot, in slot order;
//   - one Write per nonzero destination_memory slot, in slot order.
//
// A zero slot is empty (ChampSim itself drops zero addresses). Every access has size
// [ChampSimAccessSize]. Plain records are in address space 0; CloudSuite records carry
// asid[2]: the fetch is in address space asid[0] and the loads and stores in asid[1]
// (ChampSim's instruction side uses the first byte, its data side the second).
//
// A record whose is_branch or branch_taken byte is not 0 or 1 is an error: the tracer
// writes booleans there, so such a record means the file is another layout (a
// CloudSuite trace read as plain, or the reverse) or not a ChampSim trace. A trace whose
// length is not a whole number of records ends with an error naming the byte offset of
// the truncated record.
type ChampSimReader struct {
	src  io.Reader
	name string
	lay  *champsimLayout
	buf  []byte
	// Invariant: 0 <= pos <= end <= len(buf); buf[pos:end] is read but not yet decoded.
	pos, end int
	off      int64 // stream offset of buf[0]
	eof      bool  // src returned io.EOF
	err      error // sticky error
	// pending holds the accesses of a record that did not fit in the caller's slice.
	// Invariant: 0 <= pp <= np <= champsimMaxAccesses; pending[pp:np] are still to come.
	pending [champsimMaxAccesses]Record
	pp, np  int
	instrs  int64
}

// NewChampSimReader returns a reader of ChampSim records in the layout of format, which
// must be FormatChampSim or FormatChampSimCloudSuite; name is used in error messages.
func NewChampSimReader(r io.Reader, name string, format Format) *ChampSimReader {
	if format != FormatChampSim && format != FormatChampSimCloudSuite {
		panic(fmt.Sprintf("traces: NewChampSimReader: format %q is not a ChampSim format", format))
	}
	lay := champsimLayoutOf(format)
	return &ChampSimReader{src: r, name: name, lay: lay, buf: make([]byte, 2048*lay.size)}
}

// Instructions is the number of instruction records decoded so far.
func (c *ChampSimReader) Instructions() int64 { return c.instrs }

func (c *ChampSimReader) Read(recs []Record) (int, error) {
	n := 0
	for n < len(recs) && c.pp < c.np {
		recs[n] = c.pending[c.pp]
		n++
		c.pp++
	}
	if c.err != nil {
		if n > 0 {
			return n, nil
		}
		return 0, c.err
	}
	size := c.lay.size
	for n < len(recs) {
		if c.end-c.pos < size {
			if err := c.fill(); err != nil {
				c.err = err
				break
			}
			if c.end-c.pos < size {
				break // end of the trace (fill set the error if a record is cut short)
			}
		}
		rec := c.buf[c.pos : c.pos+size : c.pos+size]
		if rec[8] > 1 || rec[9] > 1 {
			c.err = c.errorf(c.off+int64(c.pos), "not a %s record: is_branch %d, branch_taken %d (want 0 or 1)%s",
				c.lay.format, rec[8], rec[9], c.otherLayoutHint())
			break
		}
		if len(recs)-n >= champsimMaxAccesses {
			n += c.lay.decode(rec, recs[n:])
		} else {
			c.np = c.lay.decode(rec, c.pending[:])
			c.pp = 0
			for n < len(recs) && c.pp < c.np {
				recs[n] = c.pending[c.pp]
				n++
				c.pp++
			}
		}
		c.pos += size
		c.instrs++
	}
	if n > 0 {
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	return 0, io.EOF
}

func (c *ChampSimReader) otherLayoutHint() string {
	if c.lay.format == FormatChampSim {
		return "; a CloudSuite trace needs --format champsim-cloudsuite"
	}
	return "; a DPC-3 or CRC-2 trace needs --format champsim"
}

// fill moves the undecoded bytes to the front of the buffer and reads until at least one
// whole record is buffered or the stream ends. At the end, a partial record is an error.
func (c *ChampSimReader) fill() error {
	if c.eof {
		if c.end > c.pos {
			return c.truncated()
		}
		return nil
	}
	c.off += int64(c.pos)
	c.end = copy(c.buf, c.buf[c.pos:c.end])
	c.pos = 0
	for empty := 0; c.end < c.lay.size && !c.eof; {
		k, err := c.src.Read(c.buf[c.end:])
		c.end += k
		switch {
		case err == io.EOF:
			c.eof = true
		case err != nil:
			var te *Error
			if errors.As(err, &te) {
				return te
			}
			return &Error{File: c.name, Offset: c.off + int64(c.end), Reason: "reading the trace", Err: err}
		case k == 0:
			if empty++; empty > 100 {
				return &Error{File: c.name, Offset: c.off + int64(c.end), Reason: "reading the trace", Err: io.ErrNoProgress}
			}
		}
	}
	if c.eof && c.end > 0 && c.end < c.lay.size {
		return c.truncated()
	}
	return nil
}

func (c *ChampSimReader) truncated() error {
	return c.errorf(c.off+int64(c.pos), "truncated %s record: %d of %d bytes (the trace ends inside a record)",
		c.lay.format, c.end-c.pos, c.lay.size)
}

func (c *ChampSimReader) errorf(off int64, format string, args ...any) *Error {
	return &Error{File: c.name, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// decode turns one record into its accesses in out (which has room for
// champsimMaxAccesses) and returns how many.
// Precondition: len(rec) == l.size.
func (l *champsimLayout) decode(rec []byte, out []Record) int {
	var iASID, dASID ASID
	if l.asidOff >= 0 {
		iASID, dASID = ASID(rec[l.asidOff]), ASID(rec[l.asidOff+1])
	}
	out = out[:champsimMaxAccesses]
	out[0] = Record{Addr: binary.LittleEndian.Uint64(rec), Size: ChampSimAccessSize, ASID: iASID, Kind: Fetch}
	n := 1
	for i := range l.nSrc {
		if a := binary.LittleEndian.Uint64(rec[l.srcOff+8*i:]); a != 0 {
			out[n] = Record{Addr: a, Size: ChampSimAccessSize, ASID: dASID, Kind: Read}
			n++
		}
	}
	for i := range l.nDst {
		if a := binary.LittleEndian.Uint64(rec[l.dstOff+8*i:]); a != 0 {
			out[n] = Record{Addr: a, Size: ChampSimAccessSize, ASID: dASID, Kind: Write}
			n++
		}
	}
	return n
}

// champsimFit is how well a head of bytes reads as records of one layout.
type champsimFit struct {
	records int  // whole records in the head
	ok      bool // every whole record is plausible (see sniffChampSim)
	near    int  // consecutive records whose ips are within 4 KiB of each other
}

// maxPlausibleAddr bounds the addresses sniffing accepts: user-space virtual addresses
// of x86-64 with 5-level paging are below 2^56.
const maxPlausibleAddr = 1 << 57

func (l *champsimLayout) fit(head []byte) champsimFit {
	f := champsimFit{ok: true}
	var prev uint64
	for len(head) >= l.size {
		rec := head[:l.size]
		head = head[l.size:]
		f.records++
		ip := binary.LittleEndian.Uint64(rec)
		if rec[8] > 1 || rec[9] > 1 || ip == 0 || ip >= maxPlausibleAddr {
			f.ok = false
			return f
		}
		for i := range l.nSrc {
			if binary.LittleEndian.Uint64(rec[l.srcOff+8*i:]) >= maxPlausibleAddr {
				f.ok = false
				return f
			}
		}
		for i := range l.nDst {
			if binary.LittleEndian.Uint64(rec[l.dstOff+8*i:]) >= maxPlausibleAddr {
				f.ok = false
				return f
			}
		}
		if f.records > 1 && max(ip, prev)-min(ip, prev) < 4096 {
			f.near++
		}
		prev = ip
	}
	f.ok = f.ok && f.records > 0
	return f
}

// sniffChampSim decides between the two ChampSim layouts for binary content. A layout
// fits when, in every whole record of head, is_branch and branch_taken are 0 or 1, ip is
// nonzero, and ip and every memory slot are below 2^57 (user-space addresses). When
// exactly one layout fits, that is the answer. When both fit (possible on short or
// unusual heads), the one whose consecutive ips lie within 4 KiB of each other for at
// least half of the record pairs, while the other's do not, wins: real instruction
// streams are local, and the wrong layout reads memory slots and padding as ips. Anything
// else is an error asking for --format.
func sniffChampSim(head []byte) (Format, error) {
	a, b := champsimInput.fit(head), champsimCloudSuite.fit(head)
	local := func(f champsimFit) bool { return f.records >= 4 && 2*f.near >= f.records-1 }
	switch {
	case a.ok && !b.ok:
		return FormatChampSim, nil
	case b.ok && !a.ok:
		return FormatChampSimCloudSuite, nil
	case a.ok && b.ok && local(a) && !local(b):
		return FormatChampSim, nil
	case a.ok && b.ok && local(b) && !local(a):
		return FormatChampSimCloudSuite, nil
	case a.ok && b.ok:
		return "", errors.New("binary content that reads as either ChampSim layout: give --format champsim (64-byte DPC-3/CRC-2 records) or --format champsim-cloudsuite (96-byte records)")
	}
	return "", errors.New("binary content that is neither vmt nor a ChampSim trace (if it is a ChampSim trace, --format champsim or champsim-cloudsuite reports the first bad record)")
}
