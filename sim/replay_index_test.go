package sim

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmsim/vmsim/traces"
)

// TestReplayRefusesLyingVMTIndex replays from a vmt file whose checksums are valid but
// whose index lies (every other entry's first access number one low, the index's CRC
// recomputed: traces/FORMAT.md gives the layout): the replays seek by the index, and the
// run must fail with an error naming the file and an offset, not replay the wrong
// records (issue 20, item 17).
func TestReplayRefusesLyingVMTIndex(t *testing.T) {
	recs := sampleRecords(t)
	path := filepath.Join(t.TempDir(), "good.vmt")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := traces.NewVMTWriter(out, traces.VMTOptions{BlockRecords: 4096, Compress: true})
	w.Write(recs)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lie := filepath.Join(t.TempDir(), "lie.vmt")
	// The footer's third field is the end block's offset; the index (24-byte entries:
	// first record, first access, offset) follows the end block's 16-byte header, whose
	// last 4 bytes are the index's CRC-32C.
	endOff := int(binary.LittleEndian.Uint64(data[len(data)-16:]))
	idx := data[endOff+16 : len(data)-32]
	for i := 24; i < len(idx); i += 48 {
		a := idx[i+8:]
		binary.LittleEndian.PutUint64(a, binary.LittleEndian.Uint64(a)-1)
	}
	binary.LittleEndian.PutUint32(data[endOff+12:], crc32.Checksum(idx, crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(lie, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The run's first pass reads the good file (a read from the start would find the
	// lie at once); the replays, which seek, read the lying one.
	opens := 0
	open := func() (traces.Reader, error) {
		if opens++; opens == 1 {
			return traces.Open(path, traces.Options{})
		}
		return traces.Open(lie, traces.Options{})
	}
	cfg := DefaultConfig()
	cfg.Interval, cfg.MTBF, cfg.Seed = 20000, 60000, 3
	for _, fail := range []string{"transient", "crash"} {
		cfg.Failure, opens = Failure(fail), 0
		_, err := RunWith(cfg, open, Options{ReplayBuffer: 100})
		if err == nil || !strings.Contains(err.Error(), "replaying") || !strings.Contains(err.Error(), lie+": offset ") ||
			!strings.Contains(err.Error(), "index does not match") {
			t.Errorf("%s: RunWith = %v, want the replay to fail naming %s, an offset and the index", fail, err, lie)
		}
		if opens < 2 {
			t.Errorf("%s: the run never replayed from the file", fail)
		}
	}
}
