// Package reproduce regenerates the virtual-checkpoint study of Bowen & Pradhan (IEEE
// Trans. Computers 41(5), 1992) on vmsim's corpus: it runs a fixed set of sweep points
// (intervals 10^2 to 10^7 accesses; non-volatile and volatile memory; copy and remap;
// unlimited and limited frames) and writes results/: tables (terminal, Markdown, CSV,
// LaTeX), figures (SVG, PNG, with their numbers as CSV), the raw points, and a README that
// states what each shows and checks the paper's claims against the numbers. The same
// inputs give the same files, byte for byte.
package reproduce
