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

// benchLines is the number of lines of the text readers' benchmarks.
const benchLines = 1 << 20

func rwBenchText() []byte {
	return benchText(benchLines, func(_ int, x uint64) string { return fmt.Sprintf("%08x %c\n", uint32(x), "RW"[x>>63]) })
}

func lackeyBenchText() []byte {
	return benchText(benchLines, func(i int, x uint64) string {
		if i%3 == 0 {
			return fmt.Sprintf("I  %08x,%d\n", uint32(x), 1+x%15)
		}
		return fmt.Sprintf(" %c %010x,%d\n", "LSM"[x%3], x>>24, 1<<(x%4))
	})
}

func dinBenchText() []byte {
	return benchText(benchLines, func(_ int, x uint64) string { return fmt.Sprintf("%d %x\n", x%3, uint32(x)) })
}

func BenchmarkRWReader(b *testing.B) {
	benchReader(b, rwBenchText(), benchLines, func(r io.Reader) Reader { return NewRWReader(r, "bench") })
}

func BenchmarkLackeyReader(b *testing.B) {
	benchReader(b, lackeyBenchText(), benchLines, func(r io.Reader) Reader { return NewLackeyReader(r, "bench", false) })
}

// BenchmarkTextBareLoop is the text readers' baseline, on the same bytes as
// BenchmarkRWReader, BenchmarkLackeyReader and BenchmarkDinReader: the bytes read through
// an io.Reader into a buffer of a text reader's size, as a reader reads them, and a loop
// over them counting newlines (the least any reader does: look at every byte once).
func BenchmarkTextBareLoop(b *testing.B) {
	for _, f := range []struct {
		name string
		text func() []byte
	}{{"rw", rwBenchText}, {"lackey", lackeyBenchText}, {"din", dinBenchText}} {
		b.Run(f.name, func(b *testing.B) {
			data := f.text()
			buf := make([]byte, scanBufSize)
			b.SetBytes(int64(len(data)))
			lines := 0
			b.ResetTimer()
			for range b.N {
				r := bytes.NewReader(data)
				for {
					n, err := r.Read(buf)
					for _, c := range buf[:n] {
						if c == '\n' {
							lines++
						}
					}
					if err == io.EOF {
						break
					}
				}
			}
			if lines != benchLines*b.N {
				b.Fatalf("%d lines, want %d", lines, benchLines*b.N)
			}
			b.ReportMetric(float64(lines)/b.Elapsed().Seconds()/1e6, "Mlines/s")
		})
	}
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

func BenchmarkDinReader(b *testing.B) {
	benchReader(b, dinBenchText(), benchLines, func(r io.Reader) Reader { return NewDinReader(r, "bench") })
}

// lackeyLike is a synthetic trace shaped like lackey's: sequential instruction fetches,
// and data accesses near a few hot spots.
func lackeyLike(n int) []Record {
	recs := make([]Record, n)
	x, pc := uint64(88172645463325252), uint64(0x400000)
	for i := range recs {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if i%3 == 0 {
			pc += 1 + x%7
			recs[i] = Record{Addr: pc, Size: uint32(1 + x%7), Kind: Fetch}
			continue
		}
		recs[i] = Record{Addr: 0x7ff000000 + (x>>40)&0xffff&^7, Size: 8, Kind: Kind(x % 3)}
	}
	return recs
}

func benchVMTDecode(b *testing.B, recs []Record, opt VMTOptions) {
	var buf bytes.Buffer
	w, _ := NewVMTWriter(&buf, opt)
	w.Write(recs)
	w.Close()
	data := buf.Bytes()
	out := make([]Record, 4096)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		v, err := NewVMTReader(bytes.NewReader(data), "bench")
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := v.Read(out)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		v.Close()
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	b.ReportMetric(float64(len(data))/float64(len(recs)), "bytes/rec")
}

func BenchmarkVMTDecode(b *testing.B) { benchVMTDecode(b, lackeyLike(1<<20), VMTOptions{}) }
func BenchmarkVMTDecodeZstd(b *testing.B) {
	benchVMTDecode(b, lackeyLike(1<<20), VMTOptions{Compress: true})
}

func BenchmarkVMTEncode(b *testing.B) {
	recs := lackeyLike(1 << 20)
	for _, compress := range []bool{false, true} {
		b.Run(fmt.Sprintf("zstd=%v", compress), func(b *testing.B) {
			for range b.N {
				w, _ := NewVMTWriter(io.Discard, VMTOptions{Compress: compress})
				w.Write(recs)
				w.Close()
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
		})
	}
}

func BenchmarkTextWriter(b *testing.B) {
	recs := lackeyLike(1 << 20)
	for _, f := range []Format{FormatRW, FormatDin, FormatLackey} {
		b.Run(string(f), func(b *testing.B) {
			for range b.N {
				w, _ := NewWriter(io.Discard, f, WriterOptions{})
				w.Write(recs)
				w.Close()
			}
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
		})
	}
}

// BenchmarkVMTDecodeReal decodes real traces converted to vmt: the gcc trace when
// ../shared/traces is present, and the embedded lackey sample.
func BenchmarkVMTDecodeReal(b *testing.B) {
	load := map[string]func() (Reader, error){
		"sort50-lackey": func() (Reader, error) { return OpenSample() },
		"gcc-rw": func() (Reader, error) {
			return Open(filepath.Join("..", "..", "shared", "traces", "gcc.trace.gz"), Options{})
		},
	}
	for _, name := range []string{"gcc-rw", "sort50-lackey"} {
		b.Run(name, func(b *testing.B) {
			r, err := load[name]()
			if err != nil {
				b.Skip(err)
			}
			recs, err := ReadAll(r)
			if err != nil {
				b.Fatal(err)
			}
			for _, z := range []bool{false, true} {
				b.Run(fmt.Sprintf("zstd=%v", z), func(b *testing.B) { benchVMTDecode(b, recs, VMTOptions{Compress: z}) })
			}
			// The baseline: blocks of 65,536 records, the default before 1,048,576.
			b.Run("zstd=true/blocks=65536", func(b *testing.B) {
				benchVMTDecode(b, recs, VMTOptions{Compress: true, BlockRecords: 1 << 16})
			})
		})
	}
}

// BenchmarkChampSimReader decodes a synthetic DPC-3-like trace; the baseline reads the
// same bytes into a buffer of the reader's size, the least any reader of them costs.
func BenchmarkChampSimReader(b *testing.B) {
	instrs := realisticChampSim(1<<17, 1)
	for _, f := range []Format{FormatChampSim, FormatChampSimCloudSuite} {
		data := encodeChampSim(f, instrs...)
		b.Run(string(f)+"/baseline-copy", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			buf := make([]byte, 2048*champsimLayoutOf(f).size)
			for range b.N {
				r := bytes.NewReader(data)
				for {
					if _, err := r.Read(buf); err == io.EOF {
						break
					}
				}
			}
		})
		b.Run(string(f)+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			buf := make([]Record, 4096)
			recs := 0
			for range b.N {
				r := NewChampSimReader(bytes.NewReader(data), "bench", f)
				for {
					n, err := r.Read(buf)
					recs += n
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(instrs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Minstr/s")
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds()/1e6, "Mrec/s")
		})
	}
}

// BenchmarkPinReader reads pinatrace text; the baseline is the rw reader on the same
// accesses, the fastest text reader.
func BenchmarkPinReader(b *testing.B) {
	const n = 1 << 20
	pin := benchText(n, func(_ int, x uint64) string {
		return fmt.Sprintf("0x%x: %c 0x%x %d\n", 0x400000+x%(1<<16), "RW"[x>>63], 0x7ffd00000000+(x>>20)%(1<<28), 1<<(x%4))
	})
	rw := benchText(n, func(_ int, x uint64) string { return fmt.Sprintf("%08x %c\n", uint32(x), "RW"[x>>63]) })
	b.Run("baseline-rw", func(b *testing.B) {
		benchReader(b, rw, n, func(r io.Reader) Reader { return NewRWReader(r, "bench") })
	})
	b.Run("pin", func(b *testing.B) {
		benchReader(b, pin, n, func(r io.Reader) Reader { return NewPinReader(r, "bench") })
	})
}

// BenchmarkVMTPrefetch decodes vmt through the Prefetcher, whose blocks decode in
// parallel: "sequential" is the baseline (the reader alone, on the consumer's goroutine);
// "workers=N" the Prefetcher with N decoding goroutines (0: its single read-ahead
// goroutine, the default), with an idle consumer
// ("alone") and with one that spends about 5 ns a record ("consumer", a light
// simulation) on the same cores.
func BenchmarkVMTPrefetch(b *testing.B) {
	sets := map[string]func() ([]Record, error){
		"lackeylike": func() ([]Record, error) { return lackeyLike(1 << 22), nil },
		"gcc-rw": func() ([]Record, error) {
			r, err := Open(filepath.Join("..", "..", "shared", "traces", "gcc.trace.gz"), Options{})
			if err != nil {
				return nil, err
			}
			return ReadAll(r)
		},
	}
	for _, name := range []string{"lackeylike", "gcc-rw"} {
		b.Run(name, func(b *testing.B) {
			recs, err := sets[name]()
			if err != nil {
				b.Skip(err)
			}
			var buf bytes.Buffer
			w, _ := NewVMTWriter(&buf, VMTOptions{Compress: true, BlockRecords: benchBlock})
			w.Write(recs)
			w.Close()
			data := buf.Bytes()
			for _, load := range []string{"alone", "consumer"} {
				work := func(rs []Record) uint64 {
					var h uint64
					if load == "consumer" {
						for i := range rs {
							h = (h ^ rs[i].Addr) * 0x9E3779B97F4A7C15
							h ^= h >> 29
							h = (h ^ uint64(rs[i].Size)) * 0x9E3779B97F4A7C15
							h ^= h >> 31
						}
					}
					return h
				}
				b.Run(load+"/sequential", func(b *testing.B) {
					out := make([]Record, 4096)
					for range b.N {
						v, _ := NewVMTReader(bytes.NewReader(data), "bench")
						for {
							n, err := v.Read(out)
							benchSink += work(out[:n])
							if err != nil {
								break
							}
						}
						v.Close()
					}
					b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
				})
				for _, workers := range []int{0, 1, 2} {
					b.Run(fmt.Sprintf("%s/workers=%d", load, workers), func(b *testing.B) {
						old := PrefetchWorkers
						PrefetchWorkers = workers
						defer func() { PrefetchWorkers = old }()
						for range b.N {
							v, _ := NewVMTReader(bytes.NewReader(data), "bench")
							p := NewPrefetcher(v)
							for {
								rs, _, err := p.NextAccesses()
								benchSink += work(rs)
								if err != nil {
									break
								}
							}
							p.Close()
						}
						b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrec/s")
					})
				}
			}
		})
	}
}

var benchSink uint64

// benchBlock is the block size of BenchmarkVMTPrefetch's files: small enough that a
// trace of a few million records has blocks enough to decode in parallel.
var benchBlock = 1 << 16
