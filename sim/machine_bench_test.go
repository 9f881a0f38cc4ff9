package sim

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// The Machine benchmarks measure, on the machine they run on, the unit costs behind the
// cost model's defaults (cost.go says which default came from which benchmark):
//
//	go test -run XXX -bench Machine -benchtime 2000x ./sim/

// BenchmarkMachinePageCopy copies one 4 KiB page to another, cycling over 64 MiB so the
// copies come from memory, not cache.
func BenchmarkMachinePageCopy(b *testing.B) {
	const page, span = 4096, 64 << 20
	src, dst := make([]byte, span), make([]byte, span)
	for i := range src {
		src[i] = byte(i)
	}
	b.SetBytes(page)
	b.ResetTimer()
	for i := range b.N {
		off := (i * page * 7) % span
		copy(dst[off:off+page], src[off:off+page])
	}
}

// BenchmarkMachinePageFault touches fresh anonymous pages: one minor fault (trap, zero
// fill, page-table update) each.
func BenchmarkMachinePageFault(b *testing.B) {
	const page = 4096
	n := max(b.N, 1)
	mem, err := syscall.Mmap(-1, 0, n*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		b.Skip(err)
	}
	defer syscall.Munmap(mem)
	b.ResetTimer()
	for i := range b.N {
		mem[i*page] = 1
	}
}

// benchFile makes a 64 MiB file for the disk benchmarks, in the package directory (the
// machine's disk, where /tmp might be memory).
func benchFile(b *testing.B) (*os.File, int64) {
	const size = 64 << 20
	dir, err := os.MkdirTemp(".", ".machine-bench-")
	if err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		b.Skip(err)
	}
	buf := make([]byte, 1<<20)
	for i := 0; i < size; i += len(buf) {
		f.Write(buf)
	}
	f.Sync()
	return f, size
}

// alignedPage returns a 4 KiB buffer aligned for O_DIRECT.
func alignedPage() []byte {
	buf := make([]byte, 8192)
	off := 4096 - int(uintptr(unsafe.Pointer(&buf[0]))&4095)
	return buf[off : off+4096]
}

// BenchmarkMachineDiskWriteSync writes a 4 KiB page at a random offset and waits for it to
// reach the disk (fdatasync): a page written back, or a checkpoint's page made durable.
func BenchmarkMachineDiskWriteSync(b *testing.B) {
	f, size := benchFile(b)
	defer f.Close()
	page := alignedPage()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		off := rng.Int64N(size/4096) * 4096
		if _, err := f.WriteAt(page, off); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMachineDiskRead reads a 4 KiB page at a random offset with O_DIRECT, past the
// page cache: a page fault served from disk.
func BenchmarkMachineDiskRead(b *testing.B) {
	f, size := benchFile(b)
	name := f.Name()
	f.Close()
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		b.Skip(err)
	}
	defer syscall.Close(fd)
	page := alignedPage()
	rng := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	for range b.N {
		off := rng.Int64N(size/4096) * 4096
		if _, err := syscall.Pread(fd, page, off); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMachinePageWalk measures a page-table walk: a chain of dependent loads over
// 16,384 cache lines, packed 64 to a page in 256 pages (the TLB holds them all) or spread
// one to a page over 16,384 pages (every load misses the TLB; the walk's page-table
// entries, 128 KiB of them, stay in the caches, like the data). The difference per load
// is the cost of a walk (cost.go's page_walk_ns).
func BenchmarkMachinePageWalk(b *testing.B) {
	const lines, page, line = 1 << 14, 4096, 64
	for _, v := range []struct {
		name   string
		stride int
	}{{"packed", line}, {"spread", page + line}} {
		b.Run(v.name, func(b *testing.B) {
			buf := make([]uint64, lines*v.stride/8+page/8)
			rng := rand.New(rand.NewPCG(1, 2))
			perm := rng.Perm(lines)
			// Each line holds the index (in uint64s) of the next line of the cycle.
			for i := range lines {
				from, to := perm[i], perm[(i+1)%lines]
				buf[from*v.stride/8] = uint64(to * v.stride / 8)
			}
			p := uint64(perm[0] * v.stride / 8)
			for range lines { // warm the caches
				p = buf[p]
			}
			b.ResetTimer()
			for range b.N {
				p = buf[p]
			}
			if p == 1<<63 {
				b.Fatal(p)
			}
		})
	}
}
