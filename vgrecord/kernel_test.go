package vgrecord

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// fileReader reads the file named by its argument into a page-aligned buffer, 64 KiB a
// read(2), without writing the buffer itself, then reads the bytes back for a sum; it
// prints the buffer's address and the bytes read.
const fileReader = `#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static unsigned char buf[1 << 20] __attribute__((aligned(4096)));

int main(int argc, char **argv) {
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return 1;
	long n = 0, k;
	while (n < (long)sizeof buf && (k = read(fd, buf + n, 65536)) > 0)
		n += k;
	unsigned long sum = 0;
	for (long i = 0; i < n; i += 64)
		sum += buf[i];
	printf("buf=%p read=%ld sum=%lu\n", (void *)buf, n, sum);
	return 0;
}
`

// TestRecordKernelWrites records a program that reads a 200,000-byte file into a buffer
// it never writes itself, with and without the kernel's writes, and checks that with them
// strictly more pages are written, that the buffer's pages are among them (and none of
// them without), that the kernel's writes cover exactly the bytes read, each in one 4 KiB
// page, in the reading thread, each read's just before its input record.
func TestRecordKernelWrites(t *testing.T) {
	needRecorder(t)
	prog := compileC(t, "reader", fileReader)
	const size = 200000
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	file := filepath.Join(t.TempDir(), "input.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, children := range []bool{false, true} {
		t.Run(fmt.Sprintf("children=%v", children), func(t *testing.T) {
			record := func(kernel bool) ([]traces.Record, *traces.Summary, uint64) {
				var stdout bytes.Buffer
				w := &collectWriter{}
				if _, err := RecordProgram(context.Background(), w, RecordOptions{
					Program: prog, Args: []string{file}, DataOnly: true, Children: children, Threads: true, KernelWrites: kernel,
					Syscalls: true, Tracer: TracerVMTrace, Stdout: &stdout, Stderr: os.Stderr}); err != nil {
					t.Fatal(err)
				}
				var buf uint64
				var n int
				if _, err := fmt.Sscanf(stdout.String(), "buf=%v read=%d", &buf, &n); err != nil || n != size {
					t.Fatalf("program's output %q: %v", stdout.String(), err)
				}
				s, err := traces.Summarize(traces.NewDecoded(w.recs).Open(), traces.SummaryOptions{PageSize: 4096})
				if err != nil {
					t.Fatal(err)
				}
				return w.recs, s, buf
			}
			with, sWith, buf := record(true)
			without, sWithout, buf2 := record(false)
			if buf != buf2 {
				t.Fatalf("the buffer moved: %#x, %#x", buf, buf2)
			}
			t.Logf("pages written: %d with the kernel's writes (%d of them, %d pages, %d only the kernel's), %d without",
				sWith.PagesWritten, sWith.KernelWrites, sWith.KernelPagesWritten, sWith.KernelOnlyPages, sWithout.PagesWritten)
			if sWith.PagesWritten <= sWithout.PagesWritten {
				t.Errorf("pages written: %d with the kernel's writes, %d without: want strictly more with", sWith.PagesWritten, sWithout.PagesWritten)
			}
			written := func(recs []traces.Record) map[uint64]bool {
				m := map[uint64]bool{}
				for _, r := range recs {
					if r.Kind.Writes() {
						first, last := r.PageSpan(12, false)
						for p := first; p <= last; p++ {
							m[p] = true
						}
					}
				}
				return m
			}
			pw, pwo := written(with), written(without)
			for p := buf >> 12; p <= (buf+size-1)>>12; p++ {
				if !pw[p] || pwo[p] {
					t.Errorf("buffer page %#x: written %v with the kernel's writes, %v without; want true, false", p<<12, pw[p], pwo[p])
				}
			}
			if int64(len(pw)) != sWith.PagesWritten || sWith.KernelOnlyPages < (size+4095)/4096 {
				t.Errorf("%d pages written, summary %d; %d only the kernel's, want at least the buffer's %d", len(pw), sWith.PagesWritten, sWith.KernelOnlyPages, (size+4095)/4096)
			}
			var inBuf, inputs int64
			for i, r := range with {
				if r.Kind.IsIO() {
					// A read's kernel writes come just before its input record and hold its
					// bytes.
					var k int64
					for j := i - 1; j >= 0 && with[j].Kernel; j-- {
						k += int64(with[j].Size)
					}
					if r.Kind == traces.Input && k != int64(r.Size) {
						t.Errorf("input record %d (%v): %d bytes of kernel writes just before it, want its %d", i, r, k, r.Size)
					}
					inputs++
				}
				if !r.Kernel {
					continue
				}
				if r.Kind != traces.Write || r.Thread != 1 || r.Addr>>12 != (r.Addr+uint64(r.Size)-1)>>12 {
					t.Errorf("kernel write %v: want a write of thread 1 within one 4 KiB page", r)
				}
				if r.Addr >= buf && r.Addr < buf+size {
					inBuf += int64(r.Size)
				}
			}
			if inputs == 0 {
				t.Error("no input records")
			}
			if inBuf != size {
				t.Errorf("the kernel wrote %d bytes into the buffer, want %d", inBuf, size)
			}
			for _, r := range without {
				if r.Kernel {
					t.Fatalf("a kernel write without KernelWrites: %v", r)
				}
			}
		})
	}
}
