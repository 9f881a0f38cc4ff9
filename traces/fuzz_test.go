package traces

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// fuzzReader checks that a reader never panics, that every record it returns is a valid
// access, and that an error names the file.
func fuzzReader(t *testing.T, data []byte, opt Options) {
	f, err := NewFile(bytes.NewReader(data), "fuzz.trace", opt)
	if err != nil {
		if !strings.Contains(err.Error(), "fuzz.trace") {
			t.Fatalf("error %q does not name the file", err)
		}
		return
	}
	recs, err := ReadAll(f)
	if err != nil && !strings.Contains(err.Error(), "fuzz.trace") {
		t.Fatalf("error %q does not name the file", err)
	}
	for _, r := range recs {
		if r.Kind.IsIO() && (opt.Format == FormatLackey || opt.Format == FormatAuto) {
			continue // lackey's system calls: any channel, any byte count
		}
		if !r.Kind.IsAccess() || r.Size == 0 || r.Addr+uint64(r.Size)-1 < r.Addr || r.Kernel && r.Kind != Write {
			t.Fatalf("invalid record %v", r)
		}
	}
}

// lineByLine parses data one line at a time with the general parser: the reference for
// the readers' in-place fast paths. It stops at the first malformed line.
func lineByLine(data []byte, parse func([]byte) (Record, string)) (recs []Record, failed bool) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			i = len(data)
		}
		if i >= maxLine {
			return recs, true
		}
		line := bytes.TrimSuffix(data[:i], []byte("\r"))
		data = data[min(i+1, len(data)):]
		rec, reason := parse(line)
		switch reason {
		case "":
			recs = append(recs, rec)
		case skipLine:
		default:
			return recs, true
		}
	}
	return recs, false
}

// sameAsLineByLine checks a reader against lineByLine.
func sameAsLineByLine(t *testing.T, data []byte, format Format, parse func([]byte) (Record, string)) {
	f, err := NewFile(bytes.NewReader(data), "fuzz.trace", Options{Format: format})
	if err != nil || f.Compression != None {
		return // compressed by content: not comparable line by line
	}
	got, err := ReadAll(f)
	want, failed := lineByLine(data, parse)
	if (err != nil) != failed || !equalRecs(got, want) {
		t.Fatalf("reader: %v, %v\nline by line: %v, failed %v", got, err, want, failed)
	}
}

func FuzzRW(f *testing.F) {
	for _, s := range []string{"0041f7a0 R\n31348900 W\n", "10 r\r\n", "", "x", "10 R\n\n20 W"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzReader(t, data, Options{Format: FormatRW})
		sameAsLineByLine(t, data, FormatRW, parseRW)
	})
}

func FuzzLackey(f *testing.F) {
	for _, s := range []string{"==1== x\nI  04001100,3\n L 1ffefffd78,8\n S 10,4\n M 10,4\n", " L ffffffffffffffff,1\n", "junk",
		"SYSCALL[4400,1](0) sys_read ( 4, 0x1ffeffedf8, 832 ) --> [async] ... \nI  10,1\nSYSCALL[4400,1](0) ... [async] --> Success(0x340) \n",
		"SYSCALL[4400,1](1) sys_write ( 1, 0x4a8b000, 6 )[sync] --> Success(0x6) \nSYSCALL[4400,1](3) sys_close ( 4 )[sync] --> Success(0x0) \n",
		"SYSCALL[1,1](334) unimplemented (by the kernel) syscall: 334! (ni_syscall)\n --> [pre-fail] Failure(0x26) \n",
		"THREAD 1\nI  10,1\n K 4a8b000,4096\nSYSCALL[9,1](0) sys_read ( 3 )[sync] --> Success(0x1000)\nTHREAD 2\n S 10,8\n",
		// The fast path's fixed shapes (8 or 10 digits, a size of one digit) and their near misses.
		"I  0401ab70,3\n S 1fff000658,8\n M 0421D3C0,4\n L 1FFF00065a,1\nI  0401ab70,3\n",
		"I  0401ab70,0\n", "I  0401ab7g,3\n", " S 1fff00065x,8\n", " S x fff000658,8\n", "I  0401ab70,12\n",
		" S 1fff000658,8\r\n", "I  0401ab70,3", " L 123456789,1\n", " L 123456789,,\n", " L 12345678901,1\n",
		"I  0401ab70;3\nI  0401ab70,3\n", "I  0401\xe0b70,3\n", " S ffffffffff,9\n"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, lenient bool) {
		fuzzReader(t, data, Options{Format: FormatLackey, Lenient: lenient})
		sameAsLineByLine(t, data, FormatLackey, (&lackeyParser{}).parse)
	})
}

func FuzzAuto(f *testing.F) {
	f.Add([]byte("0041f7a0 R\n"))
	f.Add([]byte("==1== x\nI  04001100,3\n"))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0})
	f.Add([]byte{0xfd, '7', 'z', 'X', 'Z', 0})
	f.Add([]byte("0x40001ee0: R 0xbfffe798\n#eof\n"))
	f.Add(encodeChampSim(FormatChampSim, realisticChampSim(4, 1)...))
	f.Add(encodeChampSim(FormatChampSimCloudSuite, realisticChampSim(4, 1)...))
	// Comment lines, invalid first records (issue 20, item 18).
	for _, s := range []string{"# c\n0041f7a0 R\n", "0041f7a0 X\n", "#\nw 70f60888\n", "# c\n0x40001ee0: R 0xbfffe798\n", "7 1000\n"} {
		f.Add([]byte(s))
	}
	// zstd streams that start with skippable frames, as pzstd writes them (item 16).
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		f.Fatal(err)
	}
	frame := enc.EncodeAll([]byte("0041f7a0 R\n"), nil)
	f.Add(append(skippableFrame(0, []byte{byte(len(frame)), 0, 0, 0}), frame...))
	f.Add(append(skippableFrame(0xf, nil), skippableFrame(1, []byte("x"))...))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzReader(t, data, Options{}) })
}
