// Package reproduce regenerates the studies of results/, each a fixed set of sweep points
// whose tables (terminal, Markdown, CSV, LaTeX), figures (SVG, PNG, PDF, with their numbers
// as CSV), raw points and README (every claim computed from the numbers) it writes:
//
//   - the virtual-checkpoint study of Bowen & Pradhan (IEEE Trans. Computers 41(5), 1992)
//     on vmsim's corpus (intervals 10^2 to 10^7 accesses; non-volatile and volatile memory;
//     copy and remap; unlimited and limited frames), into results/;
//   - the comparative study of every scheme behind a cache (volumes, stall, memory,
//     recovery, granule, optimal intervals checked against failure runs, three sourced
//     cost sets and a sensitivity analysis), into results/compare/;
//   - the long study on recordings of 10^9 accesses and more, recorded into a cache
//     folder and reused while their manifest matches, into results/long/.
//
// The same inputs give the same files, byte for byte. docs/study.md says how each number
// is computed.
package reproduce
