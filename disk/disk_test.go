package disk

import (
	"fmt"
	"testing"
)

func TestAllocFreeAndCheck(t *testing.T) {
	d := New(2)
	a, b := d.Alloc(), d.Alloc()
	if a == b || d.Used() != 2 {
		t.Fatalf("Alloc gave %d, %d; used %d", a, b, d.Used())
	}
	d.Write(a, []uint64{7, 8})
	if got := d.Stamps(a); got[0] != 7 || got[1] != 8 {
		t.Errorf("stamps %v", got)
	}
	dst := make([]uint64, 2)
	d.Read(a, dst)
	d.ReadImage(dst)
	if dst[0] != 0 || d.IO.Reads != 2 || d.IO.Writes != 1 {
		t.Errorf("after reads: dst %v, IO %+v", dst, d.IO)
	}
	d.Free(a)
	if c := d.Alloc(); c != a {
		t.Errorf("Alloc after Free(%d) gave %d, want the freed slot", a, c)
	}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	d.used++ // corrupt the count
	if d.Check() == nil {
		t.Error("Check missed a wrong used count")
	}
}

func TestFreeOfFreeSlotPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	d := New(0)
	s := d.Alloc()
	d.Free(s)
	d.Free(s)
}

func ExampleDisk() {
	d := New(0)
	s := d.Alloc()
	d.Write(s, nil)
	d.Read(s, nil)
	fmt.Println(d.Used(), d.IO.Reads, d.IO.Writes)
	// Output: 1 1 1
}
