package coord

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/vmsim/vmsim/record"
)

// This file is a deliberately naive model of both schemes, written apart from the
// package for the tests to compare against: maps and slices, no coherence package, caches
// of unlimited size (so the tests give it traces that never make a cache replace a line).
// Dependences follow their definition: core c depends on core p when c reads or writes a
// line whose last write (the last in the line's history of writes) was p's, in p's
// current epoch. Failures follow their documented schedule (docs/coordinated.md).

type nkey struct {
	asid record.ASID
	n    uint64
}

type nwrite struct {
	core  int
	epoch int
}

type nacc struct {
	rec  record.Record
	n    int64
	core int
}

type naiveOut struct {
	checkpoints, timeouts, coresPerCkpt, rollbacks, coresPerRb, edges, lost, logEntries, flushLines, transfers int64
}

type naiveModel struct {
	rebound          bool
	cores            int
	interval, maxAge int64
	shift            uint
	state            []map[nkey]byte // per core: 'S' or 'M'
	writes           map[nkey][]nwrite
	epoch            []int
	ckptAt           []int64
	count, first     []int64
	since            int64
	prod             [][]bool // prod[c][p]: c depends on p
	logged           map[[2]uint64]bool
	hist             []nacc
	n                int64
	out              naiveOut
}

func newNaiveModel(cfg Config) *naiveModel {
	m := &naiveModel{rebound: cfg.Scheme == Rebound, cores: cfg.Cores, interval: cfg.Interval, maxAge: cfg.MaxAge,
		writes: map[nkey][]nwrite{}, logged: map[[2]uint64]bool{}}
	if m.maxAge == 0 {
		m.maxAge = 2 * int64(cfg.Cores) * cfg.Interval
	}
	for l := cfg.Cache.Line; l > 1; l /= 2 {
		m.shift++
	}
	m.epoch = make([]int, m.cores)
	m.ckptAt = make([]int64, m.cores)
	m.count = make([]int64, m.cores)
	m.first = make([]int64, m.cores)
	for range m.cores {
		m.state = append(m.state, map[nkey]byte{})
		m.prod = append(m.prod, make([]bool, m.cores))
	}
	return m
}

// naiveFailures lists the failures of cfg over accesses accesses, as documented: the
// access after which each strikes and its core.
func naiveFailures(cfg Config, accesses int64) [][2]int64 {
	at := map[int64]bool{}
	for _, n := range cfg.FailAt {
		at[n] = true
	}
	if cfg.MTBF > 0 {
		rng := rand.New(rand.NewPCG(cfg.Seed, 0x6661696c75726573))
		for n := int64(0); ; {
			n += int64(max(1, math.Ceil(rng.ExpFloat64()*cfg.MTBF)))
			if n > accesses {
				break
			}
			at[n] = true
		}
	}
	var out [][2]int64
	cores := rand.New(rand.NewPCG(cfg.Seed, 0x6661696c636f7265))
	for _, n := range slices.Sorted(func(yield func(int64) bool) {
		for n := range at {
			if !yield(n) {
				return
			}
		}
	}) {
		if n > accesses {
			continue
		}
		c := int64(cfg.FailCore)
		if cfg.FailCore == AnyCore {
			c = int64(cores.IntN(cfg.Cores))
		}
		out = append(out, [2]int64{n, c})
	}
	return out
}

// run replays recs, each with its core, failing as fails says.
func (m *naiveModel) run(recs []record.Record, cores []int, fails [][2]int64) naiveOut {
	for i, r := range recs {
		m.n++
		m.hist = append(m.hist, nacc{r, m.n, cores[i]})
		m.access(r, cores[i])
		c := cores[i]
		if m.interval > 0 {
			if m.rebound {
				if m.first[c] == 0 {
					m.first[c] = m.n
				}
				m.count[c]++
				if m.count[c] == m.interval {
					m.checkpoint(c, false)
				}
				for {
					old, oc := int64(0), -1
					for x := range m.cores {
						if m.first[x] != 0 && (old == 0 || m.first[x] < old) {
							old, oc = m.first[x], x
						}
					}
					if oc < 0 || m.n-old+1 < m.maxAge {
						break
					}
					m.checkpoint(oc, true)
				}
			} else {
				m.since++
				if m.since == m.interval {
					m.checkpoint(0, false)
				}
			}
		}
		if len(fails) > 0 && fails[0][0] == m.n {
			m.rollback(int(fails[0][1]))
			fails = fails[1:]
		}
	}
	return m.out
}

func (m *naiveModel) access(r record.Record, c int) {
	write := r.Kind.Writes()
	for l := r.Addr >> m.shift; l <= (r.Addr+uint64(r.Size)-1)>>m.shift; l++ {
		k := nkey{r.ASID, l}
		if m.rebound {
			if h := m.writes[k]; len(h) > 0 {
				w := h[len(h)-1]
				if w.core != c && w.epoch == m.epoch[w.core] && !m.prod[c][w.core] {
					m.prod[c][w.core] = true
					m.out.edges++
				}
			}
		}
		if write {
			if m.state[c][k] != 'M' {
				for o := range m.cores {
					if o == c {
						continue
					}
					if m.state[o][k] == 'M' && m.rebound {
						m.out.transfers++
						m.writeback(o, k)
					}
					delete(m.state[o], k)
				}
				m.state[c][k] = 'M'
			}
			m.writes[k] = append(m.writes[k], nwrite{c, m.epoch[c]})
		} else if m.state[c][k] == 0 {
			for o := range m.cores {
				if o != c && m.state[o][k] == 'M' {
					m.writeback(o, k)
					m.state[o][k] = 'S'
				}
			}
			m.state[c][k] = 'S'
		}
	}
}

func (m *naiveModel) logKey(core int, k nkey) [2]uint64 {
	if !m.rebound {
		core = 0
	}
	return [2]uint64{uint64(k.asid)<<8 | uint64(core), k.n}
}

func (m *naiveModel) writeback(core int, k nkey) {
	if key := m.logKey(core, k); !m.logged[key] {
		m.logged[key] = true
		m.out.logEntries++
	}
}

func (m *naiveModel) closure(start int, producers bool) []bool {
	in := make([]bool, m.cores)
	in[start] = true
	for changed := true; changed; {
		changed = false
		for c := range m.cores {
			for p := range m.cores {
				// c depends on p: p is c's producer, c is p's consumer.
				if !m.prod[c][p] {
					continue
				}
				if producers && in[c] && !in[p] {
					in[p], changed = true, true
				}
				if !producers && in[p] && !in[c] {
					in[c], changed = true, true
				}
			}
		}
	}
	if !m.rebound {
		for c := range in {
			in[c] = true
		}
	}
	return in
}

// endEpochs ends the epochs of the cores of in: their dependences go, both ways, and
// their log entries.
func (m *naiveModel) endEpochs(in []bool) {
	for key := range m.logged {
		if core := int(key[0] & 0xff); in[core] || !m.rebound {
			delete(m.logged, key)
		}
	}
	for c := range m.cores {
		for p := range m.cores {
			if in[c] || in[p] {
				m.prod[c][p] = false
			}
		}
	}
	for c := range m.cores {
		if in[c] {
			m.epoch[c]++
		}
	}
}

func (m *naiveModel) checkpoint(c int, timeout bool) {
	in := m.closure(c, true)
	k := int64(0)
	for s := range m.cores {
		if !in[s] {
			continue
		}
		k++
		for l, st := range m.state[s] {
			if st == 'M' {
				m.writeback(s, l)
				m.state[s][l] = 'S'
				m.out.flushLines++
			}
		}
		m.ckptAt[s], m.count[s], m.first[s] = m.n, 0, 0
	}
	m.since = 0
	m.endEpochs(in)
	m.out.checkpoints++
	if timeout {
		m.out.timeouts++
	}
	m.out.coresPerCkpt += k
}

func (m *naiveModel) rollback(f int) {
	in := m.closure(f, false)
	k := int64(0)
	for c := range m.cores {
		if in[c] {
			k++
			clear(m.state[c])
		}
	}
	for l, h := range m.writes {
		m.writes[l] = slices.DeleteFunc(h, func(w nwrite) bool { return in[w.core] && w.epoch == m.epoch[w.core] })
	}
	m.endEpochs(in)
	m.out.rollbacks++
	m.out.coresPerRb += k
	for _, a := range m.hist {
		if in[a.core] && a.n > m.ckptAt[a.core] {
			m.access(a.rec, a.core)
			m.out.lost++
		}
	}
}
