//go:build ignore

/* (The line above keeps the go tool from taking this file for cgo.)
 *
 * sort: a bottom-up merge sort of N seeded 64-bit keys between two arrays. An iteration is
 * 512 keys (4 KiB) written to the output of a merge pass: between checkpoints the program
 * writes one array in order (a pass writes all of it) while reading the other.
 *
 *   sort MECHANISM K [N]     default N 1048576 (2^20 keys: two 8 MiB arrays) */
#include "common.h"

static unsigned left = 512;

/* out counts one key written; every 512 ends an iteration. */
static inline void out(void) {
	if (--left == 0) {
		left = 512;
		iteration();
	}
}

static void merge(const uint64_t *src, uint64_t *dst, size_t lo, size_t mid, size_t hi) {
	size_t i = lo, j = mid, k = lo;
	while (i < mid && j < hi) {
		dst[k++] = src[i] <= src[j] ? src[i++] : src[j++];
		out();
	}
	while (i < mid) {
		dst[k++] = src[i++];
		out();
	}
	while (j < hi) {
		dst[k++] = src[j++];
		out();
	}
}

int main(int argc, char **argv) {
	prog_args(argc, argv, "sort", "[N]");
	size_t n = (size_t)prog_arg(0, "N", (uint64_t)1 << 20, 2);
	if (n > (size_t)1 << 30) {
		fprintf(stderr, "sort: N %zu: want at most 2^30\n", n);
		return 2;
	}
	size_t bytes = n * sizeof(uint64_t);
	prog_start(1, 2 * bytes + 2 * 4096 * 16);
	uint64_t *src = prog_alloc(bytes), *dst = prog_alloc(bytes);
	rng_state = 2;
	for (size_t i = 0; i < n; i++)
		src[i] = rnd();
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			merge(src, dst, lo, mid, hi);
		}
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	for (size_t i = 1; i < n; i++)
		if (src[i - 1] > src[i]) {
			fprintf(stderr, "sort: not sorted at %zu\n", i);
			return 1;
		}
	prog_finish(hash_words(0xcbf29ce484222325ull, src, n));
	return 0;
}
