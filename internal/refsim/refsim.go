package refsim

// Ref is one page reference.
type Ref struct {
	Page  uint64
	Write bool
}

// Simulate runs refs through nframes frames under policy (lru, fifo, clock or opt) and
// returns the page faults (every miss, cold ones included) and the dirty evictions.
// CLOCK sets the reference bit on load and on every hit; the hand starts at frame 0.
// OPT evicts the page used furthest in the future, the lowest frame among ties.
func Simulate(policy string, nframes int, refs []Ref) (faults, writes int64) {
	page := make([]int64, nframes)
	dirty := make([]bool, nframes)
	stamp := make([]int, nframes) // lru: last use; fifo: load time
	refbit := make([]bool, nframes)
	where := map[uint64]int{}
	var next []int // opt: next use of each reference
	if policy == "opt" {
		next = make([]int, len(refs))
		last := map[uint64]int{}
		for i := len(refs) - 1; i >= 0; i-- {
			next[i] = len(refs) + 1
			if j, ok := last[refs[i].Page]; ok {
				next[i] = j
			}
			last[refs[i].Page] = i
		}
	}
	nextOf := make([]int, nframes)
	for i := range page {
		page[i] = -1
	}
	hand := 0
	for i, r := range refs {
		f, hit := where[r.Page]
		if !hit {
			faults++
			f = -1
			for j := range page {
				if page[j] < 0 {
					f = j
					break
				}
			}
			if f < 0 {
				switch policy {
				case "lru", "fifo":
					f = 0
					for j := range page {
						if stamp[j] < stamp[f] {
							f = j
						}
					}
				case "clock":
					for refbit[hand] {
						refbit[hand] = false
						hand = (hand + 1) % nframes
					}
					f = hand
					hand = (hand + 1) % nframes
				case "opt":
					best := -1
					for j := range page {
						if nextOf[j] > best {
							best, f = nextOf[j], j
						}
					}
				default:
					panic("refsim: unknown policy " + policy)
				}
				if dirty[f] {
					writes++
				}
				delete(where, uint64(page[f]))
			}
			page[f], dirty[f], stamp[f] = int64(r.Page), false, i
			where[r.Page] = f
		}
		if policy == "lru" {
			stamp[f] = i
		}
		if next != nil {
			nextOf[f] = next[i]
		}
		refbit[f] = true
		if r.Write {
			dirty[f] = true
		}
	}
	return faults, writes
}
