package scheme

import "github.com/vmsim/vmsim/record"

// Accessor is anything with the Access method of a Scheme.
type Accessor interface {
	Access(a Access)
}

// EachAccess performs recs one by one through s.Access, numbered on from n (the number of
// the access s performed last), and returns how many of them write: a scheme whose Access
// needs nothing more can implement BatchAccessor with it, so that the driver's fast path
// runs it without a call through an interface per access or its own work per access.
// Precondition: every record is an access (BatchAccessor's contract).
func EachAccess[S Accessor](s S, recs []record.Record, n int64) (writes int64) {
	for i := range recs {
		r := &recs[i]
		if r.Kind.Writes() {
			writes++
		}
		n++
		s.Access(Access{Addr: r.Addr, Size: r.Size, ASID: r.ASID, Kind: r.Kind, N: n})
	}
	return writes
}

// StampAccessor is an Accessor that offers StampView.
type StampAccessor interface {
	Accessor
	StampView
}

// EachAccessVerify is EachAccess that calls check after each record's access with
// s.PageStamps of the page of the record's last byte (pageShift: log2 Machine.PageSize):
// VerifyingBatchAccessor for a scheme that offers StampView.
func EachAccessVerify[S StampAccessor](s S, recs []record.Record, n int64, pageShift uint, check func(int, []uint64)) (writes int64) {
	for i := range recs {
		r := &recs[i]
		if r.Kind.Writes() {
			writes++
		}
		n++
		s.Access(Access{Addr: r.Addr, Size: r.Size, ASID: r.ASID, Kind: r.Kind, N: n})
		check(i, s.PageStamps(r.ASID, (r.Addr+uint64(r.Size)-1)>>pageShift))
	}
	return writes
}
