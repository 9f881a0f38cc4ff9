//go:build ignore

/* (The line above keeps the go tool from taking this file for cgo.)
 *
 * stream: a streaming copy, STREAM's "scale" kernel (dst[i] = s × src[i]) over arrays of
 * N doubles, PASSES times with a different s each pass. An iteration is 512 doubles
 * (4 KiB) of dst: between checkpoints the program writes dst in order; src, as large, is
 * written once at the start and only read after.
 *
 *   stream MECHANISM K [N [PASSES]]     defaults N 2097152 (two 16 MiB arrays), PASSES 8 */
#include "common.h"

int main(int argc, char **argv) {
	prog_args(argc, argv, "stream", "[N [PASSES]]");
	size_t n = (size_t)prog_arg(0, "N", (uint64_t)1 << 21, 512);
	uint64_t passes = prog_arg(1, "PASSES", 8, 1);
	if (n > (size_t)1 << 30) {
		fprintf(stderr, "stream: N %zu: want at most 2^30\n", n);
		return 2;
	}
	size_t bytes = n * sizeof(double);
	prog_start(2, 2 * bytes + 2 * 4096 * 16);
	double *src = prog_alloc(bytes), *dst = prog_alloc(bytes);
	rng_state = 4;
	for (size_t i = 0; i < n; i++)
		src[i] = (double)(rnd() >> 11) * 0x1p-53;
	for (uint64_t p = 0; p < passes; p++) {
		double s = 1.0 + (double)p / 16;
		for (size_t i = 0; i < n; i += 512) {
			size_t end = i + 512 < n ? i + 512 : n;
			for (size_t j = i; j < end; j++)
				dst[j] = s * src[j];
			iteration();
		}
	}
	prog_finish(hash_words(0xcbf29ce484222325ull, (const uint64_t *)dst, n));
	return 0;
}
