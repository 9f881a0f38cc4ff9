package traces

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func benchText(n int, line func(i int, x uint64) string) []byte {
	var b bytes.Buffer
	x := uint64(88172645463325252)
	for i := range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.WriteString(line(i, x))
	}
	return b.Bytes()
}

func benchReader(b *testing.B, data []byte, lines int, mk func(io.Reader) Reader) {
	b.SetBytes(int64(len(data)))
	buf := make([]Record, 4096)
	b.ResetTimer()
	for range b.N {
		r := mk(bytes.NewReader(data))
		for {
			_, err := r.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlines/s")
}

func BenchmarkRWReader(b *testing.B) {
	const n = 1 << 20
	data := benchText(n, func(_ int, x uint64) string { return fmt.Sprintf("%08x %c\n", uint32(x), "RW"[x>>63]) })
	benchReader(b, data, n, func(r io.Reader) Reader { return NewRWReader(r, "bench") })
}

func BenchmarkLackeyReader(b *testing.B) {
	const n = 1 << 20
	data := benchText(n, func(i int, x uint64) string {
		if i%3 == 0 {
			return fmt.Sprintf("I  %08x,%d\n", uint32(x), 1+x%15)
		}
		return fmt.Sprintf(" %c %010x,%d\n", "LSM"[x%3], x>>24, 1<<(x%4))
	})
	benchReader(b, data, n, func(r io.Reader) Reader { return NewLackeyReader(r, "bench", false) })
}

// BenchmarkGzipRWFile reads the real gcc trace, gzip decompression included.
func BenchmarkGzipRWFile(b *testing.B) {
	path := filepath.Join("..", "..", "shared", "traces", "gcc.trace.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("%s not present", path)
	}
	buf := make([]Record, 4096)
	lines := 0
	for range b.N {
		f, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			n, err := f.Read(buf)
			lines += n
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds()/1e6, "Mlines/s")
}
