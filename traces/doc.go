// Package traces defines vmsim's memory-trace record and the streaming readers that
// produce records from trace files.
//
// A trace is a sequence of [Record] values: memory accesses (read, write, modify,
// instruction fetch) and control records (checkpoint, fail) for formats that carry them.
// Readers fill a caller's buffer in batches ([Reader]), return io.EOF at the end, and never
// hold more than a fixed-size buffer in memory, whatever the trace length. A malformed
// record is an [*Error] naming the file, the line or byte offset, and the reason.
//
// Compression (gzip, zstd, xz) is detected from the first bytes of the content, never
// from the file name ([Decompress]); the text format can be sniffed too ([Sniff]).
package traces
