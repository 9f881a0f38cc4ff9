package traces

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// countAll reads every record of a fresh reader of src.
func countAll(t *testing.T, src *Source) int {
	t.Helper()
	f, err := src.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, buf := 0, make([]Record, 100)
	for {
		k, err := f.Read(buf)
		n += k
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// pipePath returns a path naming the read end of a pipe fed with data.
func pipePath(t *testing.T, data []byte) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() { w.Write(data); w.Close() }()
	p := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	if _, err := os.Stat(p); err != nil {
		t.Skip("no /proc/self/fd")
	}
	return p
}

func TestSourceReopens(t *testing.T) {
	var text strings.Builder
	const records = 100000 // more than a spool chunk of text
	for i := range records {
		fmt.Fprintf(&text, "%x R\n", 0x1000+64*i)
	}
	var vmt bytes.Buffer
	w, _ := NewVMTWriter(&vmt, VMTOptions{Compress: true})
	recs := make([]Record, 5000)
	for i := range recs {
		recs[i] = Record{Kind: Write, Addr: uint64(i) * 8, Size: 8}
	}
	w.Write(recs)
	w.Close()
	file := filepath.Join(t.TempDir(), "t.rw")
	os.WriteFile(file, []byte(text.String()), 0o644)
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		want    int
		spooled bool
	}{
		{"regular file", func(*testing.T) string { return file }, records, false},
		{"pipe of text", func(t *testing.T) string { return pipePath(t, []byte(text.String())) }, records, true},
		{"pipe of vmt", func(t *testing.T) string { return pipePath(t, vmt.Bytes()) }, len(recs), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewSource(tt.path(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.Spooled() != tt.spooled {
				t.Errorf("Spooled = %v", src.Spooled())
			}
			// A first reader part-way, then a second from the start, then both on.
			a, err := src.Open()
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]Record, 1000)
			k, _ := a.Read(buf)
			if got := countAll(t, src); got != tt.want {
				t.Errorf("second reader: %d records, want %d", got, tt.want)
			}
			rest := 0
			for {
				n, err := a.Read(buf)
				rest += n
				if err != nil {
					break
				}
			}
			if k+rest != tt.want {
				t.Errorf("first reader: %d records, want %d", k+rest, tt.want)
			}
			a.Close()
			h1, err := src.Hash()
			if err != nil {
				t.Fatal(err)
			}
			if h2, _ := src.Hash(); h1 != h2 || len(h1) != 64 {
				t.Errorf("hashes %s, %s", h1, h2)
			}
		})
	}
}

// TestSourceDrmemtrace reads a drmemtrace directory, and one thread's zip file, as a
// Source: every Open reads the same records, interleaved as OpenDrmemtrace does, and the
// hash covers the thread and schedule files by name. A directory that is no drmemtrace
// trace, or asked for in another format, is refused naming it.
func TestSourceDrmemtrace(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, drThreeThreads(t))
	want := []string{"5:fetch@0x500", "5:fetch@0x504", "6:read@0x600", "9:write@0x900", "5:fetch@0x508", "6:read@0x608"}
	for _, tt := range []struct {
		name   string
		path   string
		format Format
		want   []string
	}{
		{"directory", dir, FormatAuto, want},
		{"directory, asked for", dir, FormatDrmemtrace, want},
		{"zip thread file", filepath.Join(dir, "d.5.trace.zip"), FormatAuto, []string{"5:fetch@0x500", "5:fetch@0x504", "5:fetch@0x508"}},
		{"gzip thread file", filepath.Join(dir, "d.6.trace.gz"), FormatDrmemtrace, []string{"6:read@0x600", "6:read@0x608"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewSource(tt.path, Options{Format: tt.format})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			for i := range 2 {
				f, err := src.Open()
				if err != nil {
					t.Fatal(err)
				}
				recs, err := ReadAll(f)
				f.Close()
				if err != nil || !slices.Equal(where(recs), tt.want) || f.Format != FormatDrmemtrace || !f.Threads() {
					t.Errorf("open %d: %v, %v, format %s", i, where(recs), err, f.Format)
				}
			}
			h1, err := src.Hash()
			if h2, _ := src.Hash(); err != nil || h1 != h2 || len(h1) != 64 {
				t.Errorf("hashes %s, %s, %v", h1, h2, err)
			}
		})
	}
	// The directory's hash changes with any of its trace files, and with a schedule.
	h0, err := HashDrmemtrace(dir)
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	files := drThreeThreads(t)
	files["d.9.trace"] = cat(drHead(9, 7), drStamp(200, 1), drStore(0x908), drTail(9))
	writeFiles(t, other, files)
	if h, _ := HashDrmemtrace(other); h == h0 {
		t.Error("a changed thread file leaves the hash as it was")
	}
	writeFiles(t, other, drThreeThreads(t))
	if h, _ := HashDrmemtrace(other); h != h0 {
		t.Error("the same files hash differently in another directory")
	}
	writeFiles(t, other, map[string][]byte{"serial_schedule.bin": nil})
	if h, _ := HashDrmemtrace(other); h == h0 {
		t.Error("a schedule file leaves the hash as it was")
	}
	for _, tt := range []struct {
		name    string
		path    string
		format  Format
		wantErr string
	}{
		{"empty directory", t.TempDir(), FormatAuto, "no drmemtrace thread files"},
		{"directory as vmt", dir, FormatVMT, "is a directory: only a drmemtrace trace is one"},
		{"directory as rw", dir, FormatRW, "is a directory: only a drmemtrace trace is one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSource(tt.path, Options{Format: tt.format})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("err = %v, want %q naming %s", err, tt.wantErr, tt.path)
			}
		})
	}
}

func TestSourceStopsOnGarbage(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	// An endless device: sniffing fails after a few KiB, without spooling it all.
	src, err := NewSource("/dev/zero", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.Open(); err == nil {
		t.Error("opened /dev/zero as a trace")
	}
	if src.spool.n > 4*spoolChunk {
		t.Errorf("spooled %d bytes of /dev/zero", src.spool.n)
	}
}
