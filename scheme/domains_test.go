package scheme

import (
	"testing"

	"github.com/vmsim/vmsim/record"
)

func TestDomains(t *testing.T) {
	for _, tt := range []struct {
		name    string
		perASID bool
		asids   []record.ASID
		want    []Domain
	}{
		{"system", false, []record.ASID{5, 0, 7, 5}, []Domain{0, 0, 0, 0}},
		{"per address space, in order first seen", true, []record.ASID{5, 0, 7, 5, 0}, []Domain{0, 1, 2, 0, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Domains{PerASID: tt.perASID}
			for i, a := range tt.asids {
				if got := d.Of(a); got != tt.want[i] {
					t.Errorf("Of(%d) = %d, want %d", a, got, tt.want[i])
				}
			}
		})
	}
}
