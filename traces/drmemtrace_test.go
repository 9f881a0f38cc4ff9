package traces

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Building drmemtrace files for tests, as DynamoRIO's raw2trace writes them.

// drRec encodes one record.
func drRec(typ, size uint16, addr uint64) []byte {
	b := binary.LittleEndian.AppendUint16(nil, typ)
	b = binary.LittleEndian.AppendUint16(b, size)
	return binary.LittleEndian.AppendUint64(b, addr)
}

func drMark(kind uint16, v uint64) []byte { return drRec(drMarker, kind, v) }

// drHead is a thread's first records: the header (version 5), version, file type
// (x86-64 with encodings), thread, process, cache line, chunk size and page size.
func drHead(tid, pid uint64) []byte {
	return cat(drRec(drHeader, 0, 5), drMark(drmVersion, 5), drMark(drmFiletype, 0x240), drRec(drThreadID, 4, tid), drRec(drPid, 4, pid),
		drMark(10, 64), drMark(20, 10_000_000), drMark(drmPageSize, 4096))
}

// drStamp starts a segment: a timestamp and a cpu marker.
func drStamp(ts, cpu uint64) []byte { return cat(drMark(drmTimestamp, ts), drMark(drmCPU, cpu)) }

// drTail ends a thread: its exit and the footer.
func drTail(tid uint64) []byte { return cat(drRec(drThreadExit, 4, tid), drRec(drFooter, 0, 0)) }

// drLoad, drStore and drFetch are accesses of 8, 8 and 4 bytes.
func drLoad(a uint64) []byte  { return drRec(drRead, 8, a) }
func drStore(a uint64) []byte { return drRec(drWrite, 8, a) }
func drFetch(a uint64) []byte { return drRec(drInstr, 4, a) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// drZip packs chunks into a thread's zip file, named chunk.0000 on.
func drZip(t testing.TB, chunks ...[]byte) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for i, c := range chunks {
		w, err := z.Create(fmt.Sprintf("chunk.%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(c)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func drGzip(data []byte) []byte {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write(data)
	z.Close()
	return buf.Bytes()
}

// drSchedBytes encodes schedule entries.
func drSchedBytes(entries ...drScheduleEntry) []byte {
	var b []byte
	for _, e := range entries {
		for _, v := range []uint64{e.tid, e.ts, e.cpu, e.instr} {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
	}
	return b
}

// writeFiles writes name -> content under dir.
func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// where is a record's thread and address, to compare interleavings.
func where(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%d:%s@%#x", r.Thread, r.Kind, r.Addr))
	}
	return out
}

func TestDrmemtraceThread(t *testing.T) {
	const tid, pid = 11, 10
	body := func(parts ...[]byte) []byte {
		return cat(drHead(tid, pid), drStamp(100, 2), cat(parts...), drTail(tid))
	}
	rec := func(k Kind, a uint64, size uint32) Record {
		return Record{Addr: a, Size: size, Kind: k, ASID: pid, Thread: tid}
	}
	for _, tt := range []struct {
		name    string
		data    []byte
		want    []Record
		counts  func(DrmemtraceCounts) string // "" when right
		wantErr string
		errOff  int64 // the error's offset, checked when wantErr is set and errOff > 0
	}{
		{name: "accesses", data: body(drFetch(0x400000), drLoad(0x7ff0), drRec(drTakenJump, 2, 0x400004), drStore(0x7ff8)),
			want: []Record{rec(Fetch, 0x400000, 4), rec(Read, 0x7ff0, 8), rec(Fetch, 0x400004, 2), rec(Write, 0x7ff8, 8)}},
		{name: "a bundle stands for its instructions", data: body(drRec(drInstr, 3, 0x1000), drRec(drInstrBundle, 3, 0x010402)),
			want: []Record{rec(Fetch, 0x1000, 3), rec(Fetch, 0x1003, 2), rec(Fetch, 0x1005, 4), rec(Fetch, 0x1009, 1)},
			counts: func(c DrmemtraceCounts) string {
				if c.Fetches != 4 {
					return fmt.Sprintf("%d fetches, want 4", c.Fetches)
				}
				return ""
			}},
		{name: "dropped: no-fetch, prefetch, flush, encoding",
			data: body(drRec(drEncoding, 3, 0x90), drFetch(0x10), drRec(drInstrNoFetch, 4, 0x10), drRec(2, 1, 0x80), drRec(41, 1, 0x80),
				drRec(drHardwarePrefetch, 64, 0x80), drRec(drInstrFlush, 64, 0x40), drRec(drDataFlush, 0, 0x40), drRec(drDataFlushEnd, 0, 0x4000)),
			want: []Record{rec(Fetch, 0x10, 4)},
			counts: func(c DrmemtraceCounts) string {
				if c.NonFetched != 1 || c.Prefetches != 3 || c.ICFlushes != 1 || c.DCFlushes != 1 || c.Encodings != 1 || c.Fetches != 1 {
					return fmt.Sprintf("%+v", c)
				}
				return ""
			}},
		{name: "an instruction of size 0 only gives an address", data: body(drRec(drInstr, 0, 0x20), drLoad(0x30)),
			want: []Record{rec(Read, 0x30, 8)}},
		{name: "maybe-fetch: a repeat is not fetched", data: body(drRec(drInstrMaybeFetch, 2, 0x50), drRec(drInstrMaybeFetch, 2, 0x50), drRec(drInstrMaybeFetch, 2, 0x52)),
			want: []Record{rec(Fetch, 0x50, 2), rec(Fetch, 0x52, 2)}},
		{name: "markers", data: body(drMark(drmSyscall, 1), drMark(drmKernelEvent, 0x10), drMark(drmKernelXfer, 0x20), drMark(drmBranchTarget, 3), drMark(26, 0), drMark(150, 7)),
			counts: func(c DrmemtraceCounts) string {
				// Other markers: the head's version, file type, cache line, chunk size and
				// page size, the blocking marker and the user's marker 150.
				if c.Syscalls != 1 || c.XferMarks != 2 || c.SchedMarks != 2 || c.OtherMarks != 7 {
					return fmt.Sprintf("%+v", c)
				}
				return ""
			}},
		{name: "empty thread", data: cat(drHead(tid, pid), drTail(tid))},

		{name: "unknown record type", data: body(drFetch(0x10), drRec(77, 1, 0)), wantErr: "record 11: unknown record type 77", errOff: 11 * 12},
		{name: "the invalid type", data: body(drRec(drNumTypes, 1, 0)), wantErr: "unknown record type 50"},
		{name: "unknown version", data: cat(drRec(drHeader, 0, 9), drHead(tid, pid)[12:]), wantErr: "record 0: drmemtrace version 9; vmsim reads versions 2 to 7", errOff: 0},
		{name: "version 1", data: cat(drRec(drHeader, 0, 1), drHead(tid, pid)[12:]), wantErr: "drmemtrace version 1"},
		{name: "version marker disagrees", data: cat(drRec(drHeader, 0, 4), drHead(tid, pid)[12:]), wantErr: "version marker 5 in a trace of version 4"},
		{name: "32-bit trace", data: cat(drRec(drHeader, 0, 5)[:8], drRec(drMarker, 12, 5)[:8], make([]byte, 40)), wantErr: "a 32-bit trace"},
		{name: "32-bit file type", data: cat(drRec(drHeader, 0, 5), drMark(drmFiletype, 0x20)), wantErr: "a 32-bit trace (file type 0x20)"},
		{name: "not drmemtrace", data: cat(drLoad(0), drLoad(8)), wantErr: "not a drmemtrace thread file"},
		{name: "empty file", data: nil, wantErr: "ends without the thread's footer (after 0 records)"},
		{name: "truncated record", data: body(drLoad(0x10))[:11*12+5], wantErr: "record 11: truncated: the file ends 5 bytes into a 12-byte record", errOff: 11 * 12},
		{name: "no footer", data: body(drLoad(0x10))[:len(body(drLoad(0x10)))-12], wantErr: "ends without the thread's footer"},
		{name: "records after the footer", data: cat(body(), drLoad(0)), wantErr: "records after the thread's footer"},
		{name: "access before the first timestamp", data: cat(drHead(tid, pid), drLoad(0x10), drTail(tid)), wantErr: "record 8: an access before the thread's first timestamp"},
		{name: "timestamp before the thread id", data: cat(drRec(drHeader, 0, 5), drStamp(1, 1), drTail(tid)), wantErr: "a timestamp before the thread's thread id"},
		{name: "a read of size 0", data: body(drRec(drRead, 0, 0x10)), wantErr: "a read of size 0"},
		{name: "past the end of the address space", data: body(drRec(drWrite, 8, ^uint64(0)-3)), wantErr: "runs past the end of the address space"},
		{name: "bundle first", data: body(drRec(drInstrBundle, 2, 0x0101)), wantErr: "an instruction bundle with no instruction before it"},
		{name: "bundle of 9", data: body(drFetch(0), drRec(drInstrBundle, 9, 0x0101)), wantErr: "an instruction bundle of 9 instructions"},
		{name: "bundled length 0", data: body(drFetch(0), drRec(drInstrBundle, 2, 0x0001)), wantErr: "instruction 1 of a bundle has length 0"},
		{name: "a second thread", data: body(drRec(drThreadID, 4, tid+1)), wantErr: "thread id 12 in the file of thread 11"},
		{name: "a second header", data: body(drRec(drHeader, 0, 5)), wantErr: "a header record that does not start the file"},
		{name: "a chunk footer without chunks", data: body(drMark(drmChunkFooter, 0)), wantErr: "a chunk footer before the end of its chunk"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDrmemtraceReader(bytes.NewReader(tt.data), "t.trace")
			var got []Record
			if err == nil {
				got, err = ReadAll(d)
			}
			if tt.wantErr != "" {
				var te *Error
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "t.trace") || !errors.As(err, &te) {
					t.Fatalf("err = %v, want an *Error naming t.trace with %q", err, tt.wantErr)
				}
				if tt.errOff > 0 && te.Offset != tt.errOff {
					t.Errorf("error at offset %d, want %d", te.Offset, tt.errOff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalRecs(got, tt.want) {
				t.Errorf("records\n got %v\nwant %v", got, tt.want)
			}
			// A caller's buffer of one or two records gets the same records.
			for _, size := range []int{1, 2} {
				small, _ := NewDrmemtraceReader(bytes.NewReader(tt.data), "t.trace")
				var again []Record
				buf := make([]Record, size)
				for {
					n, err := small.Read(buf)
					again = append(again, buf[:n]...)
					if err != nil {
						break
					}
				}
				if !equalRecs(again, tt.want) {
					t.Errorf("read %d at a time: %v", size, again)
				}
			}
			if tt.counts != nil {
				if msg := tt.counts(d.Counts()); msg != "" {
					t.Errorf("counts: %s", msg)
				}
			}
		})
	}
}

// TestDrmemtraceChunks reads a thread whose zip file holds three chunks: each after the
// first starts with a record ordinal and copies of the last timestamp and cpu, which
// are not segments of their own (another thread's segment does not slip in between).
func TestDrmemtraceChunks(t *testing.T) {
	const pid = 1
	chunk0 := cat(drHead(2, pid), drStamp(100, 0), drLoad(0x10), drMark(drmChunkFooter, 0))
	chunk1 := cat(drMark(drmRecordOrdinal, 12), drStamp(100, 0), drLoad(0x20), drMark(drmChunkFooter, 1))
	chunk2 := cat(drMark(drmRecordOrdinal, 20), drStamp(100, 0), drLoad(0x30), drStamp(300, 0), drLoad(0x40), drTail(2))
	other := cat(drHead(3, pid), drStamp(200, 1), drStore(0x99), drTail(3))
	good := drZip(t, chunk0, chunk1, chunk2)
	for _, tt := range []struct {
		name    string
		thread2 []byte
		want    []string
		wantErr string
	}{
		{"three chunks", good, []string{"2:read@0x10", "2:read@0x20", "2:read@0x30", "3:write@0x99", "2:read@0x40"}, ""},
		{"a chunk cut inside a record", drZip(t, chunk0, chunk1[:30], chunk2), nil, "record 14 (chunk.0001, byte 24): truncated: chunk.0001 ends 6 bytes into a 12-byte record"},
		{"a chunk without its footer", drZip(t, chunk0[:len(chunk0)-12], chunk1, chunk2), nil, "chunk.0000 ends without a chunk footer or the thread's footer"},
		{"an empty chunk", drZip(t, chunk0, nil, chunk2), nil, "record 12 (chunk.0001, byte 0): truncated: chunk.0001 ends without a chunk footer"},
		{"the last chunk missing", drZip(t, chunk0, chunk1), nil, "truncated: chunk.0001 ends with a chunk footer, and no chunk follows it"},
		{"a chunk after the footer", drZip(t, chunk0, chunk1, chunk2, chunk2), nil, "the thread's footer, and chunk.0003 after it"},
		{"chunks out of order", func() []byte {
			var buf bytes.Buffer
			z := zip.NewWriter(&buf)
			for _, name := range []string{"chunk.0000", "chunk.0002"} {
				w, _ := z.Create(name)
				w.Write(map[string][]byte{"chunk.0000": chunk0, "chunk.0002": chunk1}[name])
			}
			z.Close()
			return buf.Bytes()
		}(), nil, `zip entry 1 is "chunk.0002", not chunk.0001`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string][]byte{"t.2.trace.zip": tt.thread2, "t.3.trace.zip": drZip(t, other)})
			d, err := OpenDrmemtrace(dir)
			var got []Record
			if err == nil {
				defer d.Close()
				got, err = ReadAll(d)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "t.2.trace.zip") {
					t.Fatalf("err = %v, want %q naming t.2.trace.zip", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w := where(got); !slices.Equal(w, tt.want) {
				t.Errorf("records %v, want %v", w, tt.want)
			}
			if c := d.Counts(); c.SchedMarks != 6 {
				t.Errorf("%d scheduling markers, want 6 (the copies at chunk starts are not counted)", c.SchedMarks)
			}
		})
	}
}

// drThreeThreads is a directory of three threads of process 7 whose segments tie at
// timestamp 200: thread 5 on cpu 3, thread 6 on cpu 1, thread 9 on cpu 1; thread 5 runs
// on (timestamp 150) before the ties.
func drThreeThreads(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"d.5.trace.zip": drZip(t, cat(drHead(5, 7), drStamp(100, 3), drFetch(0x500), drStamp(150, 3), drFetch(0x504), drStamp(200, 3), drFetch(0x508), drTail(5))),
		"d.6.trace.gz":  drGzip(cat(drHead(6, 7), drStamp(200, 1), drLoad(0x600), drStamp(300, 1), drLoad(0x608), drTail(6))),
		"d.9.trace":     cat(drHead(9, 7), drStamp(200, 1), drStore(0x900), drTail(9)),
	}
}

func TestDrmemtraceInterleaving(t *testing.T) {
	e := func(tid, ts, cpu, instr uint64) drScheduleEntry { return drScheduleEntry{tid, ts, cpu, instr} }
	// Without a schedule, ties go by cpu, then thread: 6 (cpu 1), 9 (cpu 1), 5 (cpu 3).
	byKey := []string{"5:fetch@0x500", "5:fetch@0x504", "6:read@0x600", "9:write@0x900", "5:fetch@0x508", "6:read@0x608"}
	// The recorded schedule puts 9 first, then 5, then 6.
	recorded := []string{"5:fetch@0x500", "5:fetch@0x504", "9:write@0x900", "5:fetch@0x508", "6:read@0x600", "6:read@0x608"}
	full := []drScheduleEntry{e(5, 100, 3, 0), e(5, 150, 3, 1), e(9, 200, 1, 0), e(5, 200, 3, 2), e(6, 200, 1, 0), e(6, 300, 1, 0)}
	for _, tt := range []struct {
		name    string
		extra   map[string][]byte
		want    []string
		wantErr string
	}{
		{"by timestamp", nil, byKey, ""},
		{"by the serial schedule", map[string][]byte{"serial_schedule.bin.gz": drGzip(drSchedBytes(full...))}, recorded, ""},
		{"by a reduced schedule", map[string][]byte{"serial_schedule.bin": drSchedBytes(e(5, 100, 3, 0), e(9, 200, 1, 0), e(5, 200, 3, 2), e(6, 200, 1, 0))}, recorded, ""},
		{"a missing thread file", map[string][]byte{"serial_schedule.bin.gz": drGzip(drSchedBytes(append(slices.Clone(full), e(8, 400, 1, 0))...))}, nil,
			"serial_schedule.bin.gz: offset 192: entry 6 names thread 8, which has no thread file in"},
		{"a missing thread file (cpu schedule)", map[string][]byte{"cpu_schedule.bin.zip": func() []byte {
			var buf bytes.Buffer
			z := zip.NewWriter(&buf)
			w, _ := z.Create("1")
			w.Write(drSchedBytes(e(6, 200, 1, 0), e(4, 250, 1, 0)))
			z.Close()
			return buf.Bytes()
		}()}, nil, "cpu_schedule.bin.zip:1: offset 32: entry 1 names thread 4, which has no thread file"},
		{"a schedule that disagrees", map[string][]byte{"serial_schedule.bin.gz": drGzip(drSchedBytes(e(5, 100, 3, 0), e(5, 150, 3, 1), e(9, 200, 1, 5)))}, nil,
			"serial_schedule.bin.gz: offset 64: entry 2 puts thread 9 at timestamp 200 (cpu 1, instruction 5) next; the thread's next timestamp marker is 200 (cpu 1, instruction 0)"},
		{"a schedule cut short", map[string][]byte{"serial_schedule.bin.gz": drGzip(drSchedBytes(full[:3]...))}, nil,
			"the schedule ends after 3 entries"},
		{"a schedule cut inside an entry", map[string][]byte{"serial_schedule.bin.gz": drGzip(drSchedBytes(full...)[:70])}, nil,
			"serial_schedule.bin.gz: offset 64: truncated: entry 2 has 6 of its 32 bytes"},
		{"a schedule past the end", map[string][]byte{"serial_schedule.bin.gz": drGzip(drSchedBytes(append(slices.Clone(full), e(6, 400, 1, 0))...))}, nil,
			"entry 6 (thread 6 at timestamp 400) is past the end of the trace"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, filepath.Join(dir, "trace"), drThreeThreads(t))
			writeFiles(t, filepath.Join(dir, "trace"), tt.extra)
			d, err := OpenDrmemtrace(dir)
			var got []Record
			if err == nil {
				defer d.Close()
				got, err = ReadAll(d)
			}
			if tt.wantErr != "" {
				var te *Error
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &te) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w := where(got); !slices.Equal(w, tt.want) {
				t.Errorf("records\n got %v\nwant %v", w, tt.want)
			}
			for _, r := range got {
				if r.ASID != 7 {
					t.Errorf("record %v: address space %d, want the process id 7", r, r.ASID)
				}
			}
			if info := d.Info(); info.Threads != 3 || !slices.Equal(info.Processes, []ASID{7}) || info.PageSize != 4096 || info.Version != 5 {
				t.Errorf("info %+v", info)
			}
		})
	}
}

func TestDrmemtraceDirectoryErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		files   map[string][]byte
		wantErr string
	}{
		{"no thread files", map[string][]byte{"trace/README": []byte("x")}, "no drmemtrace thread files"},
		{"raw only", map[string][]byte{"raw/drmemtrace.x.1.raw": []byte("x")}, "a raw drmemtrace trace"},
		{"lz4 thread file", map[string][]byte{"trace/a.5.trace.lz4": []byte("x")}, "a.5.trace.lz4: a thread file compressed in a way vmsim does not read"},
		{"a thread twice", map[string][]byte{"trace/a.trace": cat(drHead(5, 1), drStamp(1, 1), drTail(5)), "trace/b.trace": cat(drHead(5, 1), drStamp(2, 1), drTail(5))},
			"thread 5 has a second file"},
		{"a bad thread file", map[string][]byte{"trace/a.trace.gz": []byte("not gzip")}, "a.trace.gz"},
		{"a zip that is not a trace", map[string][]byte{"trace/a.trace.zip": drZipNamed(map[string][]byte{"hello.txt": []byte("hi")})}, `zip entry 0 is "hello.txt"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			_, err := OpenDrmemtrace(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func drZipNamed(files map[string][]byte) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, data := range files {
		w, _ := z.Create(name)
		w.Write(data)
	}
	z.Close()
	return buf.Bytes()
}

// TestOpenDrmemtrace checks format detection: a directory, a zip thread file and (by its
// first records) a gzip or plain one are drmemtrace for --format auto; a directory is
// refused for another format.
func TestOpenDrmemtrace(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, drThreeThreads(t))
	for _, tt := range []struct {
		name    string
		path    string
		format  Format
		comp    Compression
		records int
		wantErr string
	}{
		{"directory", dir, FormatAuto, Zip, 6, ""},
		{"directory, asked for", dir, FormatDrmemtrace, Zip, 6, ""},
		{"zip thread file", filepath.Join(dir, "d.5.trace.zip"), FormatAuto, Zip, 3, ""},
		{"gzip thread file", filepath.Join(dir, "d.6.trace.gz"), FormatAuto, Gzip, 2, ""},
		{"plain thread file", filepath.Join(dir, "d.9.trace"), FormatAuto, None, 1, ""},
		{"plain thread file, asked for", filepath.Join(dir, "d.9.trace"), FormatDrmemtrace, None, 1, ""},
		{"directory as vmt", dir, FormatVMT, "", 0, "is a directory: only a drmemtrace trace is one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.path, Options{Format: tt.format})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, err := ReadAll(f)
			if err != nil || len(recs) != tt.records || f.Format != FormatDrmemtrace || f.Compression != tt.comp || !f.Threads() {
				t.Errorf("%d records, %v; format %s, compression %s, threads %v", len(recs), err, f.Format, f.Compression, f.Threads())
			}
		})
	}
	// Through a stream (standard input), a gzip thread file is sniffed.
	f, err := NewFile(bytes.NewReader(drThreeThreads(t)["d.6.trace.gz"]), "-", Options{})
	if err != nil || f.Format != FormatDrmemtrace {
		t.Fatalf("stream: %v, format %v", err, f)
	}
	if recs, err := ReadAll(f); err != nil || len(recs) != 2 || recs[0].Thread != 6 {
		t.Errorf("stream: %v, %v", recs, err)
	}
}

// FuzzDrmemtraceThread runs arbitrary bytes through a thread's record decoder: it must
// give valid records of the thread or an *Error naming the file, never panic. The seeds
// are well-formed threads.
func FuzzDrmemtraceThread(f *testing.F) {
	f.Add(cat(drHead(3, 2), drStamp(10, 1), drFetch(0x400), drLoad(0x10), drRec(drInstrBundle, 2, 0x0203), drStore(0x20), drTail(3)))
	f.Add(cat(drHead(3, 2), drStamp(10, 1), drRec(drInstrNoFetch, 3, 0x9), drMark(drmChunkFooter, 0), drTail(3)))
	f.Add(cat(drHead(4, 4), drTail(4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDrmemtraceReader(bytes.NewReader(data), "f.trace")
		var recs []Record
		if err == nil {
			recs, err = ReadAll(d)
		}
		var te *Error
		if err != nil && (!errors.As(err, &te) || !strings.HasPrefix(err.Error(), "f.trace")) {
			t.Fatalf("error %v is not an *Error naming the file", err)
		}
		for _, r := range recs {
			if !r.Kind.IsAccess() || r.Size == 0 || r.Addr+uint64(r.Size)-1 < r.Addr || r.Thread == 0 {
				t.Fatalf("invalid record %v", r)
			}
		}
		if err == nil {
			c := d.Counts()
			if c.Loads+c.Stores+c.Fetches != int64(len(recs)) {
				t.Fatalf("%d records, counts %+v", len(recs), c)
			}
		}
	})
}

// FuzzDrmemtraceSchedule follows an arbitrary serial schedule over the three threads of
// drThreeThreads: the reader must give the threads' records in some order, each thread's
// in its own order, or an *Error naming the schedule or a thread file; never panic.
func FuzzDrmemtraceSchedule(f *testing.F) {
	e := func(tid, ts, cpu, instr uint64) drScheduleEntry { return drScheduleEntry{tid, ts, cpu, instr} }
	f.Add(drSchedBytes(e(5, 100, 3, 0), e(5, 150, 3, 1), e(9, 200, 1, 0), e(5, 200, 3, 2), e(6, 200, 1, 0), e(6, 300, 1, 0)))
	f.Add(drSchedBytes(e(5, 100, 3, 0), e(9, 200, 1, 0), e(5, 200, 3, 2), e(6, 200, 1, 0)))
	f.Add([]byte{})
	plain := map[uint64][]byte{
		5: cat(drHead(5, 7), drStamp(100, 3), drFetch(0x500), drStamp(150, 3), drFetch(0x504), drStamp(200, 3), drFetch(0x508), drTail(5)),
		6: cat(drHead(6, 7), drStamp(200, 1), drLoad(0x600), drStamp(300, 1), drLoad(0x608), drTail(6)),
		9: cat(drHead(9, 7), drStamp(200, 1), drStore(0x900), drTail(9)),
	}
	f.Fuzz(func(t *testing.T, sched []byte) {
		d := &DrmemtraceReader{name: "dir", parked: map[uint64]*drThread{}}
		for _, tid := range []uint64{5, 6, 9} {
			th, err := openThread(fmt.Sprintf("t%d", tid), &streamChunks{r: bytes.NewReader(plain[tid])}, &d.counts)
			if err != nil {
				t.Fatal(err)
			}
			d.add(th)
		}
		d.sched = &drSchedule{name: "sched", r: bytes.NewReader(sched)}
		recs, err := ReadAll(d)
		var te *Error
		if err != nil && (!errors.As(err, &te) || !strings.HasPrefix(err.Error(), "sched")) {
			t.Fatalf("error %v is not an *Error naming the schedule", err)
		}
		last := map[TID]uint64{}
		for _, r := range recs {
			if r.Addr < last[r.Thread] || r.Addr>>8 != uint64(r.Thread) {
				t.Fatalf("record %v out of its thread's order", r)
			}
			last[r.Thread] = r.Addr
		}
		if err == nil && len(recs) != 6 {
			t.Fatalf("%d records without an error, want all 6", len(recs))
		}
	})
}

// TestDrmemtraceStreams checks that reading a drmemtrace directory takes memory that
// does not grow with the trace: the live heap after reading 90% of a trace of 2 × 1.2 MB
// of records (zip chunks and gzip, 4,000 segments, following a serial schedule) is
// within 256 KiB of what it is after 10%.
func TestDrmemtraceStreams(t *testing.T) {
	const segs, per = 2000, 50 // per thread: segments, and loads in each
	var sched []drScheduleEntry
	var a, b [][]byte
	a = append(a, drHead(1, 7))
	b = append(b, drHead(2, 7))
	for i := range uint64(segs) {
		a = append(a, drStamp(2*i+1, 0))
		b = append(b, drStamp(2*i+2, 1))
		sched = append(sched, drScheduleEntry{1, 2*i + 1, 0, 0}, drScheduleEntry{2, 2*i + 2, 1, 0})
		for j := range uint64(per) {
			a = append(a, drLoad(0x100000+64*(i*per+j)))
			b = append(b, drStore(0x200000+64*(i*per+j)))
		}
	}
	a = append(a, drTail(1))
	b = append(b, drTail(2))
	// Thread 1 in chunks of about 100 KiB.
	whole := cat(a...)
	var chunks [][]byte
	for off := 0; off < len(whole); {
		end := min(off+drEntrySize*8000, len(whole))
		if end < len(whole) {
			chunks = append(chunks, cat(whole[off:end], drMark(drmChunkFooter, uint64(len(chunks)))))
			// The next chunk starts with a record ordinal and copies of the timestamp
			// and cpu, which the reader skips.
			whole = cat(whole[:end], drMark(drmRecordOrdinal, 0), drStamp(0, 0), whole[end:])
		} else {
			chunks = append(chunks, whole[off:end])
		}
		off = end
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"s.1.trace.zip":          drZip(t, chunks...),
		"s.2.trace.gz":           drGzip(cat(b...)),
		"serial_schedule.bin.gz": drGzip(drSchedBytes(sched...)),
	})
	d, err := OpenDrmemtrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	const total = 2 * segs * per
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	buf := make([]Record, 1000)
	var n int
	var at10, at90 uint64
	for {
		k, err := d.Read(buf)
		n += k
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case at10 == 0 && n >= total/10:
			at10 = heap()
		case at90 == 0 && n >= total*9/10:
			at90 = heap()
		}
	}
	if n != total {
		t.Fatalf("%d records, want %d", n, total)
	}
	if at90 > at10+256<<10 {
		t.Errorf("live heap %d bytes after 10%% of the trace, %d after 90%%: it grows with the trace", at10, at90)
	}
	t.Logf("live heap %d bytes after 10%%, %d after 90%%", at10, at90)
}

// TestDrmemtraceCPU checks that the reader says on which cpu each record ran, as the
// threads' cpu markers record it (a segment's, or one inside a segment), whatever the
// size of the reads: every Read's records ran on the one cpu CPU reports. A thread
// with no cpu marker runs on cpu -1. ThreadCPUs lists the cpus each thread ran on.
func TestDrmemtraceCPU(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string][]byte{
		"c.5.trace.zip": drZip(t, cat(drHead(5, 7), drStamp(100, 3), drFetch(0x500), drStamp(150, 4), drFetch(0x504),
			drMark(drmCPU, 4), drFetch(0x505), drMark(drmCPU, 2), drFetch(0x506), drStamp(200, 4), drFetch(0x508), drTail(5))),
		"c.6.trace.gz": drGzip(cat(drHead(6, 7), drStamp(120, 1), drLoad(0x600), drLoad(0x608), drStamp(300, 3), drLoad(0x610), drTail(6))),
		"c.9.trace":    cat(drHead(9, 7), drMark(drmTimestamp, 130), drStore(0x900), drTail(9)),
	})
	want := []string{"5:fetch@0x500 cpu 3", "6:read@0x600 cpu 1", "6:read@0x608 cpu 1", "9:write@0x900 cpu -1",
		"5:fetch@0x504 cpu 4", "5:fetch@0x505 cpu 4", "5:fetch@0x506 cpu 2", "5:fetch@0x508 cpu 4", "6:read@0x610 cpu 3"}
	for _, tt := range []struct {
		name  string
		batch int
		reads int // Reads that return records
	}{
		{"one record a read", 1, 9},
		{"two", 2, 7},
		{"a hundred: a read a run of one cpu", 100, 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if c := f.CPU(); c != -1 {
				t.Errorf("CPU before any Read = %d, want -1", c)
			}
			var got []string
			reads := 0
			buf := make([]Record, tt.batch)
			for {
				n, err := f.Read(buf)
				if n > 0 {
					reads++
				}
				for _, w := range where(buf[:n]) {
					got = append(got, fmt.Sprintf("%s cpu %d", w, f.CPU()))
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(got, want) || reads != tt.reads {
				t.Errorf("%d reads of records\n got %v\nwant %v (%d reads)", reads, got, want, tt.reads)
			}
			d := f.Reader.(*DrmemtraceReader)
			cpus := d.ThreadCPUs()
			if !slices.Equal(cpus[5], []int{2, 3, 4}) || !slices.Equal(cpus[6], []int{1, 3}) || cpus[9] == nil || len(cpus[9]) != 0 || len(cpus) != 3 {
				t.Errorf("ThreadCPUs = %v", cpus)
			}
		})
	}
	// A trace of another format has no cpus.
	f, err := NewFile(strings.NewReader("1000 R\n"), "t.rw", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(f); err != nil || f.CPU() != -1 {
		t.Errorf("rw: CPU %d, %v", f.CPU(), err)
	}
}

// FuzzDrmemtraceZip runs arbitrary bytes as the two chunks of a zip thread file, beside
// a well-formed thread, through the directory reader: it must give valid records, each
// Read's on a cpu its thread's markers name (or -1), or an *Error naming the zip file,
// never panic.
func FuzzDrmemtraceZip(f *testing.F) {
	f.Add(cat(drHead(2, 1), drStamp(100, 0), drLoad(0x10), drMark(drmChunkFooter, 0)),
		cat(drMark(drmRecordOrdinal, 5), drStamp(100, 0), drLoad(0x20), drMark(drmCPU, 4), drStore(0x28), drStamp(300, 2), drFetch(0x40), drTail(2)))
	f.Add(cat(drHead(2, 1), drStamp(100, 0), drLoad(0x10), drTail(2)), []byte{})
	f.Add([]byte("PK"), cat(drMark(drmChunkFooter, 0)))
	other := cat(drHead(3, 1), drStamp(200, 1), drStore(0x99), drStamp(250, 5), drLoad(0x98), drTail(3))
	f.Fuzz(func(t *testing.T, chunk0, chunk1 []byte) {
		dir := t.TempDir()
		chunks := [][]byte{chunk0}
		if len(chunk1) > 0 {
			chunks = append(chunks, chunk1)
		}
		writeFiles(t, dir, map[string][]byte{"z.2.trace.zip": drZip(t, chunks...), "z.3.trace": other})
		d, err := OpenDrmemtrace(dir)
		if err == nil {
			defer d.Close()
			buf := make([]Record, 3)
			for err == nil {
				var n int
				n, err = d.Read(buf)
				cpus := d.ThreadCPUs()
				for _, r := range buf[:n] {
					if !r.Kind.IsAccess() || r.Size == 0 || r.Addr+uint64(r.Size)-1 < r.Addr || r.ASID != 1 {
						t.Fatalf("invalid record %v", r)
					}
					if c := d.CPU(); c != -1 && !slices.Contains(cpus[r.Thread], c) {
						t.Fatalf("record %v on cpu %d, not among its thread's %v", r, c, cpus[r.Thread])
					}
				}
			}
			if err == io.EOF {
				return
			}
		}
		var te *Error
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "z.2.trace.zip") {
			t.Fatalf("error %v is not an *Error naming the zip file", err)
		}
	})
}
