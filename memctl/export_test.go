package memctl

import "github.com/vmsim/vmsim/scheme"

// BrokenInfo returns strategy s's registry entry with a fault injected: every third data
// operation (a copy, a send, a log capture, a switch of copies at rollback) moves no data,
// while every count stays right. Verification must catch it. The fault is a lossy data
// path for the controller (lossyData), and for shadow-remote a lossy link to its backup.
func BrokenInfo(s Strategy) *scheme.Info {
	i := s.Info()
	newOK := i.New
	i.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		sc, err := newOK(m, p)
		if err != nil {
			return nil, err
		}
		c := sc.(*Controller)
		c.data = &lossyData{every: 3}
		if r, ok := c.s.(*shadowRemote); ok {
			r.link, r.ownLink = &lossyLink{to: r.backup, every: 3}, false
		}
		return sc, nil
	}
	return &i
}

// lossyData is a dataPath whose every every-th operation on a granule moves nothing.
type lossyData struct {
	every, ops int
}

func (l *lossyData) moves() bool {
	l.ops++
	return l.ops%l.every != 0
}

func (l *lossyData) copyGranule(dst, src []uint64) {
	if l.moves() {
		copy(dst, src)
	}
}

func (l *lossyData) copyGranules(dst, src, bm []uint64, upg uint64) {
	eachBit(bm, func(i uint64) {
		if l.moves() {
			copy(dst[i*upg:(i+1)*upg], src[i*upg:(i+1)*upg])
		}
	})
}

func (l *lossyData) swapGranules(a, b, bm []uint64, upg uint64) {
	eachBit(bm, func(i uint64) {
		if l.moves() {
			swapUnits(a[i*upg:(i+1)*upg], b[i*upg:(i+1)*upg])
		}
	})
}

// lossyLink delivers to a backup, every every-th granule without its data (the fault
// loses the data, not the count).
type lossyLink struct {
	to         *Backup
	every, ops int
}

func (l *lossyLink) Send(d scheme.Domain, u scheme.Page, data []uint64) {
	l.ops++
	if l.ops%l.every == 0 {
		data = nil
	}
	l.to.Send(d, u, data)
}

func (l *lossyLink) Commit(d scheme.Domain) { l.to.Commit(d) }

func (l *lossyLink) Fetch(d scheme.Domain, u scheme.Page, dst []uint64) { l.to.Fetch(d, u, dst) }
