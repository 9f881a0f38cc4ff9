package sim

import (
	"fmt"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// domain is the driver's view of a checkpoint domain.
//
// Invariant: since >= 0, ckptIO >= 0 and lastCkpt >= 0; held does not decrease and holds
// no access number before lastCkpt. (With the run: lastCkpt is no later than the access
// performed last, and since is at most the accesses after it, all of them with one
// domain; see runner.checkJoins.)
type domain struct {
	id       int
	schemeID scheme.Domain
	ckpts    uint64 // checkpoints taken: the TLB's tag
	// held are the access numbers of the domain's outputs held until its next checkpoint
	// commits (--io hold), in order.
	held     []int64
	since    int64 // the domain's accesses since its last checkpoint
	lastCkpt int64 // the access number at the domain's last checkpoint (0: the start)
	// ckptIO is the number of I/O records (of any domain) that follow access lastCkpt and
	// come before the checkpoint (a checkpoint record after them): those belong to the
	// interval the checkpoint closed, the ones after them to the next.
	ckptIO int64
}

// domains is the room of the checkpoint domains: one for the whole system (--scope
// system), or one per address space (--scope asid), numbered in the order first seen.
//
// Invariant: list[i].id == i. Without perASID, list has at most one domain and byASID is
// empty; with it, byASID maps every address space seen to its own domain of list, and
// every domain of list belongs to one address space. last, when not nil, is the domain of
// lastASID.
type domains struct {
	perASID bool
	scheme  scheme.Scheme // names each domain (DomainOf)
	byASID  map[traces.ASID]*domain
	list    []*domain
	// lastASID and last are the address space looked up last and its domain, which the
	// next lookup tries first.
	lastASID traces.ASID
	last     *domain
}

// of returns the domain of an address space, creating it when first seen.
func (ds *domains) of(asid traces.ASID) *domain {
	if ds.last != nil && asid == ds.lastASID {
		return ds.last
	}
	var d *domain
	if !ds.perASID {
		if len(ds.list) == 0 {
			ds.list = append(ds.list, &domain{id: 0, schemeID: ds.scheme.DomainOf(asid)})
		}
		d = ds.list[0]
	} else if d = ds.byASID[asid]; d == nil {
		d = &domain{id: len(ds.list), schemeID: ds.scheme.DomainOf(asid)}
		if ds.byASID == nil {
			ds.byASID = map[traces.ASID]*domain{}
		}
		ds.byASID[asid] = d
		ds.list = append(ds.list, d)
	}
	ds.lastASID, ds.last = asid, d
	return d
}

// set returns the membership test of the domains of ds, for the address spaces of a
// cache or a TLB.
func (ds *domains) set(of []*domain) func(traces.ASID) bool {
	in := map[*domain]bool{}
	for _, d := range of {
		in[d] = true
	}
	return func(a traces.ASID) bool { return in[ds.of(a)] }
}

// Check verifies the invariants from scratch.
func (ds *domains) Check() error {
	for i, d := range ds.list {
		switch {
		case d.id != i:
			return fmt.Errorf("domain %d listed as domain %d", d.id, i)
		case d.since < 0 || d.ckptIO < 0 || d.lastCkpt < 0:
			return fmt.Errorf("domain %d: %d accesses and %d I/O records since its checkpoint at access %d", i, d.since, d.ckptIO, d.lastCkpt)
		}
		for k, at := range d.held {
			if at < d.lastCkpt || k > 0 && at < d.held[k-1] {
				return fmt.Errorf("domain %d holds the output after access %d out of order (checkpoint at access %d, held %v)", i, at, d.lastCkpt, d.held)
			}
		}
	}
	if !ds.perASID {
		if len(ds.list) > 1 || len(ds.byASID) > 0 {
			return fmt.Errorf("%d domains and %d address spaces mapped under --scope system", len(ds.list), len(ds.byASID))
		}
		if ds.last != nil && ds.last != ds.list[0] {
			return fmt.Errorf("the domain looked up last is not the system's")
		}
		return nil
	}
	if len(ds.byASID) != len(ds.list) {
		return fmt.Errorf("%d address spaces for %d domains", len(ds.byASID), len(ds.list))
	}
	seen := make([]bool, len(ds.list))
	for asid, d := range ds.byASID {
		if d.id < 0 || d.id >= len(ds.list) || ds.list[d.id] != d {
			return fmt.Errorf("address space %d has a domain not in the list", asid)
		}
		if seen[d.id] {
			return fmt.Errorf("domain %d belongs to two address spaces", d.id)
		}
		seen[d.id] = true
	}
	if ds.last != nil && ds.byASID[ds.lastASID] != ds.last {
		return fmt.Errorf("the domain looked up last is not that of address space %d", ds.lastASID)
	}
	return nil
}
