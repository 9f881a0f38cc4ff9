package sim

import (
	"fmt"

	"github.com/vmsim/vmsim/scheme"
	"github.com/vmsim/vmsim/traces"
)

// ioState is the I/O room: the trace's I/O records (input and output system calls) and
// their counts (docs/counters.md, I/O continuity). The outputs a domain holds are the
// domain's (domain.held).
//
// Invariant: every count is >= 0; under --io none (!hold) outputDelay and
// inputsLoggedBytes are 0, under hold repeatedOutputs and repeatedInputs are; sawIO iff an
// input or output was counted; at >= 0, and n is at most the I/O records counted.
type ioState struct {
	hold bool
	// aware is the scheme as an IOAware, nil if it is not one.
	aware scheme.IOAware
	// sawIO: the trace has had an I/O record.
	sawIO bool
	// n is the number of I/O records made so far that follow access at (the trace's
	// position among the records after an access; see after).
	at, n int64

	inputs, outputs, outputDelay, inputsLoggedBytes int64
	repeatedOutputs, repeatedInputs, heldAtEnd      int64
}

// record performs I/O record rec of domain d, made after access refs, the first time.
func (s *ioState) record(rec traces.Record, refs int64, d *domain) {
	s.sawIO = true
	if s.at != refs {
		s.at, s.n = refs, 0
	}
	s.n++
	s.perform(rec, refs, d, false)
	if s.aware != nil {
		s.aware.IO(rec, refs)
	}
}

// after returns the number of I/O records made so far that follow access refs, the one
// performed last: a checkpoint or failure now comes after them and before any later one.
func (s *ioState) after(refs int64) int64 {
	if s.at != refs {
		return 0
	}
	return s.n
}

// perform performs an I/O record of domain d that follows access idx, the first time or
// again in a replay.
//
// --io none: an output goes out at once, and again in every replay (io_repeated_outputs);
// an input is read again by every replay (io_repeated_inputs).
// --io hold: an output is held until the domain's next checkpoint commits, and a replay
// queues it again (it was never released, since the failure came before the commit); an
// input is logged the first time, and a replay receives it from the log.
func (s *ioState) perform(rec traces.Record, idx int64, d *domain, replay bool) {
	switch {
	case rec.Kind == traces.Output && !replay:
		s.outputs++
		if s.hold {
			d.held = append(d.held, idx)
		}
	case rec.Kind == traces.Output && s.hold:
		d.held = append(d.held, idx)
	case rec.Kind == traces.Output:
		s.repeatedOutputs++
	case !replay:
		s.inputs++
		if s.hold {
			s.inputsLoggedBytes += int64(rec.Size)
		}
	case !s.hold:
		s.repeatedInputs++
	}
}

// release releases the outputs d holds, its checkpoint committing after access refs.
func (s *ioState) release(d *domain, refs int64) {
	for _, at := range d.held {
		s.outputDelay += refs - at
	}
	d.held = d.held[:0]
}

// count sets the I/O counters of st.
func (s *ioState) count(st *Stats) {
	st.IOInputs, st.IOOutputs, st.IOOutputDelay, st.IOInputsLoggedBytes = s.inputs, s.outputs, s.outputDelay, s.inputsLoggedBytes
	st.IORepeatedOutputs, st.IORepeatedInputs, st.IOHeldAtEnd = s.repeatedOutputs, s.repeatedInputs, s.heldAtEnd
}

// Check verifies the invariants from scratch.
func (s *ioState) Check() error {
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"inputs", s.inputs}, {"outputs", s.outputs}, {"output delay", s.outputDelay},
		{"input bytes logged", s.inputsLoggedBytes}, {"repeated outputs", s.repeatedOutputs},
		{"repeated inputs", s.repeatedInputs}, {"outputs held at the end", s.heldAtEnd},
		{"I/O records after the last access", s.n},
	} {
		if c.v < 0 {
			return fmt.Errorf("%s: %d", c.name, c.v)
		}
	}
	switch {
	case !s.hold && (s.outputDelay != 0 || s.inputsLoggedBytes != 0 || s.heldAtEnd != 0):
		return fmt.Errorf("--io none with an output delay of %d, %d input bytes logged, %d outputs held", s.outputDelay, s.inputsLoggedBytes, s.heldAtEnd)
	case s.hold && (s.repeatedOutputs != 0 || s.repeatedInputs != 0):
		return fmt.Errorf("--io hold with %d outputs and %d inputs repeated", s.repeatedOutputs, s.repeatedInputs)
	case s.sawIO != (s.inputs+s.outputs > 0):
		return fmt.Errorf("an I/O record seen %v, with %d inputs and %d outputs", s.sawIO, s.inputs, s.outputs)
	case s.n > s.inputs+s.outputs || s.at < 0:
		return fmt.Errorf("%d I/O records after access %d, of %d made", s.n, s.at, s.inputs+s.outputs)
	}
	return nil
}
