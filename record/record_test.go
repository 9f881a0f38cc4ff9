package record

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestRecordSize pins a Record at 24 bytes: the thread id fits in what was padding, so
// that traces decoded into memory (traces.Decoded) and the readers' batches cost no more.
func TestRecordSize(t *testing.T) {
	for _, tt := range []struct {
		name      string
		got, want uintptr
	}{
		{"Record", unsafe.Sizeof(Record{}), 24},
		{"TID", unsafe.Sizeof(TID(0)), 4},
		{"Thread's offset", unsafe.Offsetof(Record{}.Thread), 20},
		{"Kernel's offset", unsafe.Offsetof(Record{}.Kernel), 17},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s: %d bytes, want %d", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	for _, tt := range []struct {
		k                  Kind
		name               string
		access, io, writes bool
	}{
		{Read, "read", true, false, false},
		{Write, "write", true, false, true},
		{Modify, "modify", true, false, true},
		{Fetch, "fetch", true, false, false},
		{Checkpoint, "checkpoint", false, false, false},
		{Fail, "fail", false, false, false},
		{Input, "input", false, true, false},
		{Output, "output", false, true, false},
		{NumKinds, "Kind(8)", false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.k.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			if tt.k.IsAccess() != tt.access || tt.k.IsIO() != tt.io || tt.k.Writes() != tt.writes {
				t.Errorf("IsAccess, IsIO, Writes = %v, %v, %v; want %v, %v, %v",
					tt.k.IsAccess(), tt.k.IsIO(), tt.k.Writes(), tt.access, tt.io, tt.writes)
			}
		})
	}
}

func TestPageSpan(t *testing.T) {
	for _, tt := range []struct {
		name        string
		r           Record
		ignoreSize  bool
		first, last uint64
	}{
		{"one byte", Record{Addr: 0x1fff, Size: 1}, false, 1, 1},
		{"within a page", Record{Addr: 0x1000, Size: 4096}, false, 1, 1},
		{"straddles", Record{Addr: 0x1fff, Size: 2}, false, 1, 2},
		{"straddles, size ignored", Record{Addr: 0x1fff, Size: 2}, true, 1, 1},
		{"three pages", Record{Addr: 0x1800, Size: 8192}, false, 1, 3},
		{"top of the address space", Record{Addr: ^uint64(0), Size: 1}, false, ^uint64(0) >> 12, ^uint64(0) >> 12},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first, last := tt.r.PageSpan(12, tt.ignoreSize)
			if first != tt.first || last != tt.last {
				t.Errorf("PageSpan = %d, %d; want %d, %d", first, last, tt.first, tt.last)
			}
		})
	}
}

func ExampleRecord_String() {
	fmt.Println(Record{Addr: 0x41f7a0, Size: 4, ASID: 1, Kind: Write})
	fmt.Println(Record{Addr: 1, Size: 10, Kind: Output})
	fmt.Println(Record{Kind: Checkpoint})
	fmt.Println(Record{Addr: 0x7ffd90c13950, Size: 8, ASID: 2765542, Thread: 2765543, Kind: Read})
	fmt.Println(Record{ASID: 1, Thread: 3, Kind: Fail})
	fmt.Println(Record{Addr: 0x4a8b000, Size: 4096, Thread: 2, Kind: Write, Kernel: true})
	// Output:
	// asid=1 write 0x41f7a0,4
	// asid=0 output channel=1 bytes=10
	// asid=0 checkpoint
	// asid=2765542 thread=2765543 read 0x7ffd90c13950,8
	// asid=1 thread=3 fail
	// asid=0 thread=2 kernel write 0x4a8b000,4096
}

// TestKindWrites: Writes, one compare, is true of Write and Modify alone, over every byte.
func TestKindWrites(t *testing.T) {
	for k := range 256 {
		if got, want := Kind(k).Writes(), Kind(k) == Write || Kind(k) == Modify; got != want {
			t.Errorf("Kind(%d).Writes() = %t, want %t", k, got, want)
		}
	}
}
