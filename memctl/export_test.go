package memctl

import "github.com/vmsim/vmsim/scheme"

// BrokenInfo returns strategy s's registry entry with a fault injected: every third data
// operation (a copy, a send, a log capture, a flip at rollback) moves no data, while
// every count stays right. Verification must catch it.
func BrokenInfo(s Strategy) *scheme.Info {
	i := s.Info()
	newOK := i.New
	i.New = func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
		sc, err := newOK(m, p)
		if err != nil {
			return nil, err
		}
		sc.(*Controller).fault = 3
		return sc, nil
	}
	return &i
}
