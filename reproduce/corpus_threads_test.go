package reproduce

import (
	"slices"
	"testing"

	"github.com/vmsim/vmsim/traces/corpus"
)

// TestDefaultCorpusSingleThreaded: by default the studies run on the corpus's
// single-threaded traces, as before its multi-threaded programs came, so that their
// traces and numbers stay as they were; a multi-threaded trace is used when named.
func TestDefaultCorpusSingleThreaded(t *testing.T) {
	es, err := corpus.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var single, threaded []string
	for _, e := range es {
		if e.Threads == 0 {
			single = append(single, "corpus:"+e.Name)
		} else {
			threaded = append(threaded, e.Name)
		}
	}
	if len(threaded) == 0 {
		t.Skip("no multi-threaded trace in the corpus")
	}
	for _, tt := range []struct {
		name   string
		corpus []string
		want   []string
	}{
		{"default", nil, single},
		{"named", threaded[:1], []string{"corpus:" + threaded[0]}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &study{opt: Options{Corpus: tt.corpus}, intervals: []int64{1000}, at: map[[3]string]int{}}
			if err := s.collectTraces(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range s.traces {
				got = append(got, tr.name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("traces %v, want %v", got, tt.want)
			}
		})
	}
}
