package traces

import "fmt"

// Error is a malformed or unreadable trace. It names the file and, where known, the
// line (text formats) or the byte offset (binary formats and compressed streams).
type Error struct {
	File   string // the trace's name as the user gave it
	Line   int64  // 1-based line number, or 0 when unknown or not a text format
	Offset int64  // byte offset in the decompressed stream, or -1 when unknown
	Reason string
	Err    error // the underlying error, if any
}

func (e *Error) Error() string {
	where := e.File
	switch {
	case e.Line > 0:
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Offset >= 0:
		where = fmt.Sprintf("%s: offset %d", e.File, e.Offset)
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", where, e.Reason, e.Err)
	}
	return fmt.Sprintf("%s: %s", where, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }
