package traces

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func readString(t *testing.T, format Format, lenient bool, text string) ([]Record, *File, error) {
	t.Helper()
	f, err := NewFile(strings.NewReader(text), "t.trace", Options{Format: format, Lenient: lenient})
	if err != nil {
		return nil, nil, err
	}
	recs, err := ReadAll(f)
	return recs, f, err
}

func TestRWReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Record
		wantErr string // substring; "" for none
	}{
		{"two records", "0041f7a0 R\n31348900 W\n", []Record{{Addr: 0x41f7a0, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x31348900, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"no final newline", "10 R", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"crlf and lower case", "0x10 w\r\nFF r\r\n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Write}, {Addr: 0xff, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"blank lines and tabs", "\n10\tR\n  \n20 W  \n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Read}, {Addr: 0x20, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"64-bit address", "ffffffffffffffff R\n", []Record{{Addr: ^uint64(0), Size: 1, ASID: 0, Kind: Read}}, ""},
		{"eight digits, upper case", "0041F7A0 W\nFFFFFFFF R\n", []Record{{Addr: 0x41f7a0, Size: 1, ASID: 0, Kind: Write}, {Addr: 0xffffffff, Size: 1, ASID: 0, Kind: Read}}, ""},
		{"eight digits, one not hex", "0041f7a0 R\n0041g7a0 R\n", []Record{{Addr: 0x41f7a0, Size: 1, ASID: 0, Kind: Read}}, "t.trace:2: want an address, a space and R or W"},
		{"eight digits, lower-case kind", "0041f7a0 w\n", []Record{{Addr: 0x41f7a0, Size: 1, ASID: 0, Kind: Write}}, ""},
		{"empty", "", nil, ""},
		{"bad kind", "10 R\n20 X\n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Read}}, "t.trace:2: want R or W"},
		{"no kind", "10\n", nil, "t.trace:1: want an address, a space and R or W"},
		{"no space", "10R\n", nil, "t.trace:1:"},
		{"not hex", "zz R\n", nil, "t.trace:1: want a hex address"},
		{"address too long", "1ffffffffffffffff R\n", nil, "t.trace:1: want a hex address of at most 16 digits"},
		{"trailing text", "10 R extra\n", nil, "t.trace:1: unexpected text"},
		{"line too long", "10 R\n" + strings.Repeat("1", 5000) + " R\n", []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Read}}, "t.trace:2: line longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readString(t, FormatRW, false, tt.in)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLackeyReader(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		lenient     bool
		want        []Record
		wantSkipped int64
		wantErr     string
	}{
		{"all kinds", "==12== Lackey\n--12-- note\nI  04001100,3\n L 1ffefffd78,8\n S 0421d3c0,4\n M 0421d3c0,4\n",
			false, []Record{{Addr: 0x4001100, Size: 3, ASID: 0, Kind: Fetch}, {Addr: 0x1ffefffd78, Size: 8, ASID: 0, Kind: Read}, {Addr: 0x421d3c0, Size: 4, ASID: 0, Kind: Write}, {Addr: 0x421d3c0, Size: 4, ASID: 0, Kind: Modify}}, 0, ""},
		{"valgrind lines only", "==1== a\n==1== b\n", false, nil, 0, ""},
		{"strict rejects junk", "I  10,1\nhello\n", false, []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Fetch}}, 0, "t.trace:2: not a lackey record"},
		{"lenient skips junk", "I  10,1\nhello\n\n L 20,2\n", true, []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Fetch}, {Addr: 0x20, Size: 2, ASID: 0, Kind: Read}}, 2, ""},
		{"size zero", " L 10,0\n", false, nil, 0, "t.trace:1: size 0"},
		{"no size", " L 10\n", false, nil, 0, "t.trace:1: want ',' and a size"},
		{"bad size", " L 10,x\n", false, nil, 0, "t.trace:1: want a decimal size"},
		{"huge size", " L 10,99999999999\n", false, nil, 0, "t.trace:1: want a decimal size"},
		{"wraps address space", " L ffffffffffffffff,2\n", false, nil, 0, "past the end of the address space"},
		{"trailing text", " L 10,4 x\n", false, nil, 0, "t.trace:1: unexpected text"},
		{"truncated last line", "I  10,1\n L 2", false, []Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Fetch}}, 0, "t.trace:2: want ','"},
		{"vmtrace checkpoint line", " S 10,8\nCHECKPOINT 1 0\n S 20,8\nCHECKPOINT 2 3 \n", false,
			[]Record{{Addr: 0x10, Size: 8, Kind: Write}, {Kind: Checkpoint}, {Addr: 0x20, Size: 8, Kind: Write}, {Kind: Checkpoint}}, 0, ""},
		{"checkpoint line without its numbers", "CHECKPOINT 1\n", false, nil, 0, "t.trace:1: want CHECKPOINT, the checkpoint's number"},
		{"checkpoint line with junk", "CHECKPOINT 1 x\n", false, nil, 0, "t.trace:1: want CHECKPOINT, the checkpoint's number"},
		// vmtrace's thread lines (the canonical records after them take the fast path) and
		// the kernel's writes.
		{"vmtrace threads", "I  10,1\nTHREAD 1\n L 20,8\n S 28,8\nTHREAD 3\nI  30,2\n M 40,4\nCHECKPOINT 1 0\nTHREAD 1\n L 50,8\n", false,
			[]Record{{Addr: 0x10, Size: 1, Kind: Fetch}, {Addr: 0x20, Size: 8, Kind: Read, Thread: 1}, {Addr: 0x28, Size: 8, Kind: Write, Thread: 1},
				{Addr: 0x30, Size: 2, Kind: Fetch, Thread: 3}, {Addr: 0x40, Size: 4, Kind: Modify, Thread: 3}, {Kind: Checkpoint, Thread: 3},
				{Addr: 0x50, Size: 8, Kind: Read, Thread: 1}}, 0, ""},
		{"vmtrace kernel writes", "THREAD 2\n K 4a8b000,4096\n K 4a8c000,16\n S 4a8b008,8\n", false,
			[]Record{{Addr: 0x4a8b000, Size: 4096, Kind: Write, Kernel: true, Thread: 2}, {Addr: 0x4a8c000, Size: 16, Kind: Write, Kernel: true, Thread: 2},
				{Addr: 0x4a8b008, Size: 8, Kind: Write, Thread: 2}}, 0, ""},
		{"thread line without a number", "THREAD x\n", false, nil, 0, "t.trace:1: want THREAD and a thread number"},
		{"thread line with junk", "THREAD 2 3\n", false, nil, 0, "t.trace:1: want THREAD and a thread number"},
		{"thread number past 32 bits", "THREAD 4294967296\n", false, nil, 0, "t.trace:1: want THREAD and a thread number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, f, err := readString(t, FormatLackey, tt.lenient, tt.in)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
			if f != nil && f.SkippedLines() != tt.wantSkipped {
				t.Errorf("skipped = %d, want %d", f.SkippedLines(), tt.wantSkipped)
			}
		})
	}
}

// TestLackeySyscalls reads valgrind's --trace-syscalls=yes lines (taken from a real
// `valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes cat FILE`).
func TestLackeySyscalls(t *testing.T) {
	const (
		readStart = "SYSCALL[4400,1](0) sys_read ( 4, 0x1ffeffedf8, 832 ) --> [async] ... \n"
		readDone  = "SYSCALL[4400,1](0) ... [async] --> Success(0x340) \n"
	)
	in := func(ch uint64, n uint32) Record { return Record{Addr: ch, Size: n, Kind: Input} }
	out := func(ch uint64, n uint32) Record { return Record{Addr: ch, Size: n, Kind: Output} }
	tests := []struct {
		name        string
		in          string
		want        []Record
		wantSkipped int64 // system calls skipped
		wantErr     string
	}{
		{"async read at its completion", readStart + "I  10,1\n" + readDone + " L 20,2\n",
			[]Record{{Addr: 0x10, Size: 1, ASID: 0, Kind: Fetch}, in(4, 0x340), {Addr: 0x20, Size: 2, ASID: 0, Kind: Read}}, 0, ""},
		{"sync write", "SYSCALL[4400,1](1) sys_write ( 1, 0x4a8b000, 6 )[sync] --> Success(0x6) \n", []Record{out(1, 6)}, 0, ""},
		{"pre-success", "SYSCALL[9,9](17) sys_pread64 ( 7, 0x10, 5, 0 ) --> [pre-success] Success(0x5) \n", []Record{in(7, 5)}, 0, ""},
		{"every I/O call", "SYSCALL[1,1](19) sys_readv ( 3, 0x1, 2 )[sync] --> Success(0x10) \n" +
			"SYSCALL[1,1](20) sys_writev ( 3, 0x1, 2 )[sync] --> Success(0x11) \n" +
			"SYSCALL[1,1](45) sys_recvfrom ( 5, 0x1, 2, 0, 0x0, 0x0 )[sync] --> Success(0x2) \n" +
			"SYSCALL[1,1](44) sys_sendto ( 5, 0x1, 2, 0, 0x0, 0 )[sync] --> Success(0x2) \n" +
			"SYSCALL[1,1](47) sys_recvmsg ( 6, 0x1, 0 )[sync] --> Success(0x3) \n" +
			"SYSCALL[1,1](46) sys_sendmsg ( 6, 0x1, 0 )[sync] --> Success(0x4) \n" +
			"SYSCALL[1,1](18) sys_pwrite64 ( 8, 0x1, 2, 0 )[sync] --> Success(0x2) \n" +
			"SYSCALL[1,1](295) sys_preadv ( 8, 0x1, 2, 0 )[sync] --> Success(0x0) \n" +
			"SYSCALL[1,1](296) sys_pwritev ( 8, 0x1, 2, 0 )[sync] --> Success(0x1) \n",
			[]Record{in(3, 16), out(3, 17), in(5, 2), out(5, 2), in(6, 3), out(6, 4), out(8, 2), in(8, 0), out(8, 1)}, 0, ""},
		{"others and failures skipped", "SYSCALL[4400,1](3) sys_close ( 4 )[sync] --> Success(0x0) \n" +
			"SYSCALL[4400,1](0) sys_read ( 4, 0x1, 8 )[sync] --> Failure(0x9) \n" +
			"SYSCALL[4400,1](257) sys_openat ( 4294967196, 0x4034bb0(/usr/lib/x.so), 524288 ) --> [async] ... \n" +
			"SYSCALL[4400,1](257) ... [async] --> Success(0x4) \n" +
			"SYSCALL[4400,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) \n" +
			"SYSCALL[4400,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)\n --> [pre-fail] Failure(0x26) \n",
			nil, 5, ""},
		{"threads interleave", "SYSCALL[7,1](0) sys_read ( 3, 0x1, 8 ) --> [async] ... \n" +
			"SYSCALL[7,2](1) sys_write ( 4, 0x1, 8 ) --> [async] ... \n" +
			"SYSCALL[7,2](1) ... [async] --> Success(0x8) \n" +
			"SYSCALL[7,1](0) ... [async] --> Success(0x7) \n",
			[]Record{out(4, 8), in(3, 7)}, 0, ""},
		{"threads named: an I/O record is its call's thread's", "THREAD 1\n" + "SYSCALL[7,1](0) sys_read ( 3, 0x1, 8 ) --> [async] ... \n" +
			"THREAD 2\n" + " L 10,8\n" + "SYSCALL[7,2](1) sys_write ( 4, 0x1, 8 )[sync] --> Success(0x8) \n" +
			"SYSCALL[7,1](0) ... [async] --> Success(0x7) \n",
			[]Record{{Addr: 0x10, Size: 8, Kind: Read, Thread: 2}, {Addr: 4, Size: 8, Kind: Output, Thread: 2}, {Addr: 3, Size: 7, Kind: Input, Thread: 1}}, 0, ""},
		{"completion without a start", readDone, nil, 0, "t.trace:1: the completion of a system call that did not start"},
		{"completion of another call", readStart + "SYSCALL[4400,1](1) ... [async] --> Success(0x1) \n", nil, 0, "t.trace:2: the completion of a system call"},
		{"a signal handler during a call", readStart +
			"SYSCALL[4400,1](15) sys_rt_sigreturn ( ) --> [pre-success] NoWriteResult \n" +
			"SYSCALL[4400,1](1) sys_write ( 2, 0x1, 3 ) --> [async] ... \n" +
			"SYSCALL[4400,1](1) ... [async] --> Success(0x3) \n" + readDone,
			[]Record{out(2, 3), in(4, 0x340)}, 1, ""},
		{"a restarted call", "SYSCALL[1,1](61) sys_wait4 ( 4294967295, 0x1, 0, 0x0 ) --> [async] ... \n" +
			"SYSCALL[1,1](61) sys_wait4 ( 4294967295, 0x1, 0, 0x0 ) --> [async] ... \n" +
			"SYSCALL[1,1](61) ... [async] --> Success(0x5) \n", nil, 1, ""},
		{"execve glued to the next record", "SYSCALL[4691,1](59) sys_execve ( 0x4035d08(/usr/bin/cat), 0x129998, 0x4035bc8 )I  0011adc0,6\n" +
			"SYSCALL[4645,1](58) sys_fork ( )   fork: process 4645 created child 4691\n" +
			" --> [pre-success] Success(0x1253) \n" + "   fork: process 6785 created child 6806\n \n",
			[]Record{{Addr: 0x11adc0, Size: 6, ASID: 0, Kind: Fetch}}, 2, ""},
		{"a call's line broken off by a child", "SYSCALL[9,1](58) sys_fork ( )   fork: process 9 created child 10\n" +
			"sys_wait4 ( 4294967295, 0x1fff0002bc, 0, 0x0 )I  00114236,7\n",
			[]Record{{Addr: 0x114236, Size: 7, ASID: 0, Kind: Fetch}}, 2, ""},
		{"an I/O call's line broken off", "SYSCALL[9,1](58) sys_fork ( )   fork: process 9 created child 10\n" +
			"sys_write ( 1, 0x1, 5 ) --> [async] ... \n", nil, 1, "t.trace:2: an I/O system call's line cut off"},
		{"bad header", "SYSCALL[x,1](0) sys_read ( 4 )[sync] --> Success(0x1)\n", nil, 0, "t.trace:1: want SYSCALL[pid,tid](number)"},
		{"no fd", "SYSCALL[1,1](0) sys_read ( x )[sync] --> Success(0x1)\n", nil, 0, "t.trace:1: want a file descriptor"},
		{"bad outcome", "SYSCALL[1,1](0) sys_read ( 4 )[sync] --> Maybe(0x1)\n", nil, 0, "t.trace:1: want Success"},
		{"bad result", "SYSCALL[1,1](0) sys_read ( 4 )[sync] --> Success(0xq)\n", nil, 0, "t.trace:1: want a hex result"},
		{"too many bytes", "SYSCALL[1,1](0) sys_read ( 4 )[sync] --> Success(0x100000000)\n", nil, 0, "t.trace:1: an I/O system call of more than 4 GiB"},
		{"no outcome", "SYSCALL[1,1](0) sys_read ( 4, 0x1, 8 )\n", nil, 0, "t.trace:1: want -->"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewLackeyReader(strings.NewReader(tt.in), "t.trace", false)
			got, err := ReadAll(r)
			checkErr(t, err, tt.wantErr)
			if !equalRecs(got, tt.want) {
				t.Errorf("records = %v, want %v", got, tt.want)
			}
			if r.SkippedSyscalls() != tt.wantSkipped {
				t.Errorf("skipped system calls = %d, want %d", r.SkippedSyscalls(), tt.wantSkipped)
			}
		})
	}
}

func TestErrorIsSticky(t *testing.T) {
	r := NewRWReader(strings.NewReader("10 R\nbad\n20 R\n"), "x")
	buf := make([]Record, 10)
	n, err := r.Read(buf)
	if n != 1 || err == nil {
		t.Fatalf("Read = %d, %v; want 1 record and an error", n, err)
	}
	if n2, err2 := r.Read(buf); n2 != 0 || err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("second Read = %d, %v; want the same error", n2, err2)
	}
	var te *Error
	if !errors.As(err, &te) || te.Line != 2 || te.File != "x" {
		t.Fatalf("error %v is not a *Error at x:2", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name, in string
		want     Format
		wantErr  bool
	}{
		{"rw", "0041f7a0 R\n", FormatRW, false},
		{"lackey header", "==1== Lackey\n", FormatLackey, false},
		{"lackey record", "\nI  0400,2\n", FormatLackey, false},
		{"garbage", "hello world\n", "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Sniff = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

const sampleRW = "0041f7a0 R\n13f5e2c0 R\n31348900 W\n"

// randomRW is an rw trace that does not compress to almost nothing.
func randomRW(n int) string {
	var b strings.Builder
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		fmt.Fprintf(&b, "%08x %c\n", uint32(x), "RW"[x>>63])
	}
	return b.String()
}

func compress(t *testing.T, c Compression, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case Gzip:
		w = gzip.NewWriter(&b)
	case Zstd:
		w, err = zstd.NewWriter(&b)
	case XZ:
		w, err = xz.NewWriter(&b)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCompressionFromContent(t *testing.T) {
	want, _, err := readString(t, FormatRW, false, sampleRW)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{Gzip, Zstd, XZ} {
		t.Run(string(c), func(t *testing.T) {
			data := compress(t, c, sampleRW)
			// The name says nothing: detection is by content.
			f, err := NewFile(bytes.NewReader(data), "trace.txt", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Compression != c || f.Format != FormatRW {
				t.Errorf("detected %s/%s, want %s/rw", f.Compression, f.Format, c)
			}
			got, err := ReadAll(f)
			if err != nil || !equalRecs(got, want) {
				t.Errorf("ReadAll = %v, %v; want %v", got, err, want)
			}
		})
		t.Run(string(c)+"/truncated", func(t *testing.T) {
			data := compress(t, c, randomRW(20000))
			f, err := NewFile(bytes.NewReader(data[:len(data)/2]), "cut.gz", Options{Format: FormatRW})
			if err == nil {
				_, err = ReadAll(f)
			}
			if err == nil || !strings.Contains(err.Error(), "cut.gz") {
				t.Errorf("truncated %s stream: error %v, want one naming the file", c, err)
			}
			// Where: the file's end, not an offset in the decompressed stream alone.
			if want := fmt.Sprintf("truncated %s stream: the file ends at byte %d, ", c, len(data)/2); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("truncated %s stream: error %v, want %q", c, err, want)
			}
		})
		t.Run(string(c)+"/corrupt", func(t *testing.T) {
			data := compress(t, c, randomRW(20000))
			for i := len(data) / 3; i < len(data)/3+64; i++ {
				data[i] ^= 0x5a
			}
			f, err := NewFile(bytes.NewReader(data), "bad.zst", Options{Format: FormatRW})
			if err == nil {
				_, err = ReadAll(f)
			}
			if err == nil || !strings.Contains(err.Error(), "bad.zst") {
				t.Errorf("corrupt %s stream: error %v, want one naming the file", c, err)
			}
		})
	}
}

func TestSample(t *testing.T) {
	f, err := OpenSample()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 545288 {
		t.Errorf("sample has %d records, want 545288 (traces/sample/README.md)", len(recs))
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

func equalRecs(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// skippableFrame is a zstd skippable frame (RFC 8878 §3.1.2) with magic 0x184D2A50+nibble
// holding payload.
func skippableFrame(nibble byte, payload []byte) []byte {
	b := []byte{0x50 | nibble&0xf, 0x2a, 0x4d, 0x18}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	return append(b, payload...)
}

// TestZstdSkippableFrames reads zstd streams that start with skippable frames, as pzstd
// writes them (a 4-byte skippable frame holding the next frame's size before every
// frame), built here with klauspost/compress so that the test needs no pzstd (issue 20,
// item 16).
func TestZstdSkippableFrames(t *testing.T) {
	text := randomRW(30000)
	half := strings.Index(text[len(text)/2:], "\n") + len(text)/2 + 1
	a, b := compress(t, Zstd, text[:half]), compress(t, Zstd, text[half:])
	whole := compress(t, Zstd, text)
	size := func(frame []byte) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(len(frame))) }
	vmtRecs := randomRecords(rand.New(rand.NewPCG(20, 16)), 500)
	vmt := writeVMT(t, vmtRecs, VMTOptions{BlockRecords: 100})
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		data    []byte
		format  Format
		wantErr string // "" for the records of text (or of vmtRecs, for vmt)
	}{
		{"pzstd, one frame", cat(skippableFrame(0, size(whole)), whole), FormatRW, ""},
		{"pzstd, two frames", cat(skippableFrame(0, size(a)), a, skippableFrame(0, size(b)), b), FormatRW, ""},
		{"two skippable frames, other magic", cat(skippableFrame(0xf, []byte("meta")), skippableFrame(7, nil), whole), FormatRW, ""},
		{"skippable frame past the look-ahead", cat(skippableFrame(3, make([]byte, 100<<10)), whole), FormatRW, ""},
		{"vmt inside", cat(skippableFrame(0, nil), compress(t, Zstd, string(vmt))), FormatVMT, ""},
		{"skippable frames only", cat(skippableFrame(0, []byte("x")), skippableFrame(1, nil)), "", "s.zst: offset 0: empty trace"},
		{"cut inside the skippable frame", skippableFrame(0, make([]byte, 64))[:20], "", "s.zst"},
		{"no zstd frame after", cat(skippableFrame(0, size(whole)), []byte(text[:100])), "", "s.zst: --format auto: binary content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFile(bytes.NewReader(tt.data), "s.zst", Options{})
			var got []Record
			if err == nil {
				if f.Compression != Zstd || f.Format != tt.format {
					t.Errorf("detected %s/%s, want zstd/%s", f.Compression, f.Format, tt.format)
				}
				got, err = ReadAll(f)
				f.Close()
			}
			checkErr(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			want := vmtRecs
			if tt.format == FormatRW {
				want, _, _ = readString(t, FormatRW, false, text)
			}
			if !equalRecs(got, want) {
				t.Errorf("read %d records, want %d", len(got), len(want))
			}
		})
	}
}

// TestDetectCompressionPeeksOnlyWhatItNeeds tells the compression of streams of which
// only the first frames' headers have arrived (a pipe's writer may not have written
// more): detection must not ask for more bytes than those.
func TestDetectCompressionPeeksOnlyWhatItNeeds(t *testing.T) {
	frame := compress(t, Zstd, sampleRW)
	size := binary.LittleEndian.AppendUint32(nil, uint32(len(frame)))
	for _, tt := range []struct {
		name  string
		first []byte
		want  Compression
	}{
		{"zstd", frame[:8], Zstd},
		{"pzstd", append(skippableFrame(0, size), frame[:8]...), Zstd},
		{"two skippable frames", append(append(skippableFrame(1, []byte("ab")), skippableFrame(0, size)...), frame[:8]...), Zstd},
		{"gzip", compress(t, Gzip, sampleRW)[:8], Gzip},
		{"rw", []byte(sampleRW[:8]), None},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := detectCompression(func(n int) []byte {
				if n > len(tt.first) {
					t.Fatalf("asked for %d bytes, only %d have arrived", n, len(tt.first))
				}
				return tt.first[:n]
			})
			if got != tt.want {
				t.Errorf("detected %s, want %s", got, tt.want)
			}
		})
	}
}

// TestHexDigits: hexDigits and packNibbles, the fast paths' 8 digits at once, agree with
// scanHex on every byte value at every position and on random words.
func TestHexDigits(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	check := func(b [8]byte) {
		t.Helper()
		want, end := scanHex(b[:], 0)
		d, ok := hexDigits(binary.LittleEndian.Uint64(b[:]))
		if ok != (end == 8) || ok && packNibbles(d) != want {
			t.Fatalf("%q (random words' seed %d): got %#x, %v; want %#x, %v", b[:], seed, packNibbles(d), ok, want, end == 8)
		}
	}
	for i := range 8 {
		for c := range 256 {
			b := [8]byte{'0', '1', '9', 'a', 'f', 'A', 'F', '7'}
			b[i] = byte(c)
			check(b)
		}
	}
	r := rand.New(rand.NewPCG(seed, 0))
	const digits = "0123456789abcdefABCDEF"
	for range 100000 {
		var b [8]byte
		for i := range b {
			if r.IntN(16) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = digits[r.IntN(len(digits))]
			}
		}
		check(b)
	}
}
