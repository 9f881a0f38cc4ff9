package scheme

import "github.com/vmsim/vmsim/record"

// Domains numbers a scheme's checkpoint domains as Scheme.DomainOf must: one for the whole
// system, or with PerASID (--scope asid, Machine.PerASID) one per address space, numbered
// in the order first seen. The zero value with PerASID set is ready to use.
type Domains struct {
	PerASID bool
	ids     map[record.ASID]Domain
}

// Of returns the domain of asid, numbering it if it is new.
func (d *Domains) Of(asid record.ASID) Domain {
	if !d.PerASID {
		return 0
	}
	if d.ids == nil {
		d.ids = map[record.ASID]Domain{}
	}
	id, ok := d.ids[asid]
	if !ok {
		id = Domain(len(d.ids))
		d.ids[asid] = id
	}
	return id
}
