// Package traces defines vmsim's memory-trace record and everything that moves records
// in and out of files: streaming readers, writers, compression detection, the vmt
// binary format and a summary pass. The valgrind recorder is package vgrecord.
//
// A trace is a sequence of [Record] values: memory accesses (read, write, modify,
// instruction fetch) and control records (checkpoint, fail) for formats that carry them,
// each with its address space and thread (0 for formats without threads).
// Readers fill a caller's buffer in batches ([Reader]), return io.EOF at the end, and never
// hold more than a fixed-size buffer in memory, whatever the trace length. A malformed
// record is an [*Error] naming the file, the line or byte offset, and the reason.
//
// Formats: rw, valgrind lackey, Dinero's din and extended din, Pin's pinatrace (text;
// PIN.md), ChampSim's binary instruction records, plain and CloudSuite (CHAMPSIM.md),
// DynamoRIO's drmemtrace offline traces, a directory of per-thread files interleaved in
// recorded order ([OpenDrmemtrace]; DRMEMTRACE.md), and vmt, vmsim's own binary format,
// specified in FORMAT.md: delta- and varint-encoded records in blocks, optionally
// zstd-compressed, checksummed, with an index to seek by access number
// ([VMTReader.SeekAccess]); its version 2 carries thread ids. [NewWriter] writes vmt, rw,
// din, extended din and lackey.
// Compression (gzip, zstd, xz) is detected from the first bytes of the content, never
// from the file name ([Decompress]); the format can be sniffed too ([Sniff]).
//
// [Summarize] describes a trace (accesses by kind, pages touched and written, distinct
// pages written per checkpoint interval, and per thread for a trace with thread ids).
package traces
