package traces_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vmsim/vmsim/traces"
)

// Write a trace in vmt, read it back, and jump to an access.
func ExampleNewVMTWriter() {
	var buf bytes.Buffer
	w, _ := traces.NewVMTWriter(&buf, traces.VMTOptions{Compress: true, Meta: map[string]any{"program": "demo"}})
	w.Write([]traces.Record{
		{Addr: 0x1000, Size: 8, Kind: traces.Write},
		{Kind: traces.Checkpoint},
		{Addr: 0x1008, Size: 8, Kind: traces.Read, ASID: 1},
	})
	w.Close()

	v, _ := traces.OpenVMT(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "demo.vmt")
	recs, _ := traces.ReadAll(v)
	fmt.Println(recs)
	v.SeekAccess(1) // just after access 0: the checkpoint comes next
	recs, _ = traces.ReadAll(v)
	fmt.Println(recs)
	// Output:
	// [asid=0 write 0x1000,8 asid=0 checkpoint asid=1 read 0x1008,8]
	// [asid=0 checkpoint asid=1 read 0x1008,8]
}

// Describe a trace: pages touched and written, and distinct pages written per interval.
func ExampleSummarize() {
	trace := "00001000 W\n00001008 R\n00002000 W\n00001010 W\n"
	s, _ := traces.Summarize(traces.NewRWReader(strings.NewReader(trace), "demo.rw"),
		traces.SummaryOptions{PageSize: 4096, Intervals: []int64{2}})
	fmt.Println(s.Accesses, s.PagesTouched, s.PagesWritten, s.WriteFraction)
	fmt.Println(s.Intervals[0].Count, s.Intervals[0].PageWrites)
	// Output:
	// 4 2 2 0.75
	// 2 3
}

// Convert between formats: din in, extended din out.
func ExampleNewWriter() {
	in := traces.NewDinReader(strings.NewReader("2 400100\n1 70f60888 comment\n"), "demo.din")
	recs, _ := traces.ReadAll(in)
	var out bytes.Buffer
	w, _ := traces.NewWriter(&out, traces.FormatXDin, traces.WriterOptions{})
	w.Write(recs)
	w.Close()
	fmt.Print(out.String())
	// Output:
	// i 400100 1
	// w 70f60888 1
}

// Read a ChampSim trace: each instruction becomes its fetch, its loads, then its stores.
func ExampleNewChampSimReader() {
	rec := make([]byte, 64)                           // one input_instr record, as in a DPC-3 trace
	binary.LittleEndian.PutUint64(rec[0:], 0x401000)  // ip
	binary.LittleEndian.PutUint64(rec[16:], 0x7ff010) // destination_memory[0]
	binary.LittleEndian.PutUint64(rec[32:], 0x7ff000) // source_memory[0]
	recs, _ := traces.ReadAll(traces.NewChampSimReader(bytes.NewReader(rec), "demo.champsimtrace", traces.FormatChampSim))
	fmt.Println(recs)
	// Output:
	// [asid=0 fetch 0x401000,1 asid=0 read 0x7ff000,1 asid=0 write 0x7ff010,1]
}

// Read Pin's pinatrace output, letting vmsim recognise the format.
func ExampleSniff() {
	trace := "0x40001ee0: R 0xbfffe798\n0x40001efd: W 0xbfffe7d4 8\n#eof\n"
	f, _ := traces.NewFile(strings.NewReader(trace), "pinatrace.out", traces.Options{Format: traces.FormatAuto})
	recs, _ := traces.ReadAll(f)
	fmt.Println(f.Format, recs)
	// Output:
	// pin [asid=0 read 0xbfffe798,1 asid=0 write 0xbfffe7d4,8]
}

// Read lackey output recorded with --trace-syscalls=yes: a read's completion becomes an
// input record (channel = the file descriptor, bytes = the result), a write an output
// record; other calls are skipped and counted.
func ExampleLackeyReader_SkippedSyscalls() {
	log := "I  0401ab70,3\n" +
		"SYSCALL[4400,1](0) sys_read ( 4, 0x1ffeffedf8, 832 ) --> [async] ... \n" +
		" L 1ffefffd78,8\n" +
		"SYSCALL[4400,1](0) ... [async] --> Success(0x340) \n" +
		"SYSCALL[4400,1](3) sys_close ( 4 )[sync] --> Success(0x0) \n" +
		"SYSCALL[4400,1](1) sys_write ( 1, 0x4a8b000, 6 )[sync] --> Success(0x6) \n"
	r := traces.NewLackeyReader(strings.NewReader(log), "cat.lackey", false)
	recs, _ := traces.ReadAll(r)
	for _, rec := range recs {
		fmt.Println(rec)
	}
	fmt.Println("skipped system calls:", r.SkippedSyscalls())
	// Output:
	// asid=0 fetch 0x401ab70,3
	// asid=0 read 0x1ffefffd78,8
	// asid=0 input channel=4 bytes=832
	// asid=0 output channel=1 bytes=6
	// skipped system calls: 1
}

// Read a drmemtrace trace: a directory with one file of 12-byte records per thread (here
// two threads of process 7, uncompressed; DynamoRIO writes zip files), interleaved in
// timestamp order, each access carrying its thread id and its process id as the address
// space.
func ExampleOpenDrmemtrace() {
	dir, _ := os.MkdirTemp("", "drmemtrace")
	defer os.RemoveAll(dir)
	rec := func(typ, size uint16, addr uint64) []byte {
		b := binary.LittleEndian.AppendUint16(nil, typ)
		b = binary.LittleEndian.AppendUint16(b, size)
		return binary.LittleEndian.AppendUint64(b, addr)
	}
	const header, marker, thread, pid, exit, footer = 25, 28, 22, 24, 23, 26 // record types
	const timestamp, cpu = 2, 3                                              // marker types
	const read, write, fetch = 0, 1, 10
	for _, th := range []struct {
		tid, ts uint64
		body    [][]byte
	}{
		{100, 5000, [][]byte{rec(fetch, 4, 0x401000), rec(write, 8, 0x7ffc0)}},
		{101, 4000, [][]byte{rec(fetch, 2, 0x402000), rec(read, 4, 0x601040)}},
	} {
		f := slices.Concat(rec(header, 0, 5), rec(thread, 4, th.tid), rec(pid, 4, 7),
			rec(marker, timestamp, th.ts), rec(marker, cpu, 0))
		f = slices.Concat(append([][]byte{f}, th.body...)...)
		f = slices.Concat(f, rec(exit, 4, th.tid), rec(footer, 0, 0))
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("drmemtrace.app.%d.0000.trace", th.tid)), f, 0o644)
	}

	d, err := traces.OpenDrmemtrace(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	recs, _ := traces.ReadAll(d)
	for _, r := range recs {
		fmt.Println(r)
	}
	c := d.Counts()
	fmt.Printf("%d threads, %d loads, %d stores, %d fetched instructions\n", c.Threads, c.Loads, c.Stores, c.Fetches)
	// Output:
	// asid=7 thread=101 fetch 0x402000,2
	// asid=7 thread=101 read 0x601040,4
	// asid=7 thread=100 fetch 0x401000,4
	// asid=7 thread=100 write 0x7ffc0,8
	// 2 threads, 1 loads, 1 stores, 2 fetched instructions
}
