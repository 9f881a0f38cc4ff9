package vgrecord

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/vmsim/vmsim/traces"
	"github.com/vmsim/vmsim/validate"
)

// markerProgram writes known numbers of 8-byte stores to a marker buffer between calls of
// the checkpoint library's ckpt_checkpoint (mechanism none), and prints the buffer's
// address and whether the library issues valgrind's client request.
const markerProgram = `#include "ckpt.h"
#include <stdint.h>
#include <stdio.h>

static volatile uint64_t marker[64];
static const int writes[] = {5, 0, 7, 1};

int main(void) {
	if (ckpt_init(CKPT_NONE, 1 << 16) != 0) {
		fprintf(stderr, "ckpt_init: %s\n", ckpt_error());
		return 1;
	}
	struct ckpt_stats st;
	ckpt_stats(&st);
	printf("marker=%p bytes=%zu valgrind=%d\n", (void *)marker, sizeof marker, st.valgrind);
	fflush(stdout);
	for (int c = 0; c < 4; c++) {
		for (int i = 0; i < writes[c]; i++)
			marker[i] = (uint64_t)c;
		ckpt_checkpoint();
	}
	for (int i = 0; i < 3; i++)
		marker[i] = 9;
	ckpt_fini();
	return 0;
}
`

// TestCheckpointRequest records a program that calls ckpt_checkpoint between known
// numbers of stores to a marker buffer, through a pipe and through a connection
// (Children), and checks that each call became a checkpoint record at exactly its place:
// after 5, 5, 12 and 13 stores to the marker, with 3 more after the last.
func TestCheckpointRequest(t *testing.T) {
	needRecorder(t)
	cc, err := validate.FindCompiler()
	if err != nil {
		t.Skip(err)
	}
	dir, err := validate.PrivateDir(t.TempDir(), "ckpt-")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"marker.c": []byte(markerProgram)}
	for _, f := range []string{"ckpt.c", "ckpt.h"} {
		if files[f], err = validate.Source(f); err != nil {
			t.Fatal(err)
		}
	}
	prog, _, err := validate.Compile(context.Background(), cc, dir, "marker", files, []string{"marker.c", "ckpt.c"})
	if err != nil {
		t.Fatal(err)
	}
	for _, children := range []bool{false, true} {
		t.Run(fmt.Sprintf("children=%v", children), func(t *testing.T) {
			var stdout bytes.Buffer
			w := &collectWriter{}
			res, err := RecordProgram(context.Background(), w, RecordOptions{
				Program: prog, DataOnly: true, Children: children, Tracer: TracerVMTrace, Stdout: &stdout, Stderr: os.Stderr})
			if err != nil {
				t.Fatal(err)
			}
			var marker, size uint64
			var vg int
			if _, err := fmt.Sscanf(stdout.String(), "marker=%v bytes=%d valgrind=%d", &marker, &size, &vg); err != nil {
				t.Fatalf("program's output %q: %v", stdout.String(), err)
			}
			if vg != 1 {
				t.Skip("the checkpoint library was built without valgrind.h (Debian package valgrind): it issues no request")
			}
			var got []int // stores to the marker before each checkpoint record
			n := 0
			for _, r := range w.recs {
				switch {
				case r.Kind == traces.Checkpoint:
					got = append(got, n)
				case r.Kind.IsAccess() && r.Addr >= marker && r.Addr < marker+size:
					if r.Kind != traces.Write || r.Size != 8 {
						t.Errorf("access to the marker %v, want 8-byte stores only", r)
					}
					n++
				}
			}
			got = append(got, n)
			want := []int{5, 5, 12, 13, 16}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("stores to the marker before each checkpoint record, then in all: %v, want %v", got, want)
			}
			if res.Checkpoints != 4 || res.Records != res.Accesses+res.IO+res.Checkpoints || res.IO != 0 {
				t.Errorf("result: %d records = %d accesses + %d I/O + %d checkpoints, want 4 checkpoints and no I/O",
					res.Records, res.Accesses, res.IO, res.Checkpoints)
			}
		})
	}
}
