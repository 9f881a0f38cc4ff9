//go:build ignore

/* (The line above keeps the go tool from taking this file for cgo.)
 *
 * stencil: Jacobi sweeps of a 5-point stencil on an N x N grid of doubles, two grids
 * swapped after each sweep: the algorithm of the corpus's stencil kernel
 * (traces/corpus/src/stencil.c), larger and seeded. An iteration is one row of a sweep
 * (N-2 a sweep): between checkpoints the program writes rows of one grid in order, then of
 * the other.
 *
 *   stencil MECHANISM K [N [SWEEPS]]     defaults N 1024 (two 8 MiB grids), SWEEPS 50 */
#include "common.h"

int main(int argc, char **argv) {
	prog_args(argc, argv, "stencil", "[N [SWEEPS]]");
	size_t n = (size_t)prog_arg(0, "N", 1024, 3);
	uint64_t sweeps = prog_arg(1, "SWEEPS", 50, 1);
	if (n > 1 << 15) {
		fprintf(stderr, "stencil: N %zu: want at most 32768\n", n);
		return 2;
	}
	size_t bytes = n * n * sizeof(double);
	prog_start(2, 2 * bytes + 2 * 4096 * 16);
	double *a = prog_alloc(bytes), *b = prog_alloc(bytes);
	rng_state = 1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double v = (i == 0 || j == 0 || i == n - 1 || j == n - 1) ? 1.0 : (double)(rnd() >> 11) * 0x1p-53;
			a[i * n + j] = b[i * n + j] = v;
		}
	for (uint64_t s = 0; s < sweeps; s++) {
		for (size_t i = 1; i < n - 1; i++) {
			for (size_t j = 1; j < n - 1; j++)
				b[i * n + j] = 0.25 * (a[(i - 1) * n + j] + a[(i + 1) * n + j] + a[i * n + j - 1] + a[i * n + j + 1]);
			iteration();
		}
		double *t = a;
		a = b;
		b = t;
	}
	prog_finish(hash_words(0xcbf29ce484222325ull, (const uint64_t *)a, n * n));
	return 0;
}
