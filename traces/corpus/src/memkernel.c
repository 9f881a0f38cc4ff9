/* Memory kernels with a footprint given on the command line, for the study's workloads
 * (reproduce.Workloads): vmsim compiles this file with gcc -O2 when it records them.
 *
 *   memkernel update MIB N SEED   fill an array of MIB MiB, then N random read-modify-write
 *                                 updates of one 8-byte word (write-heavy, random: a hash
 *                                 table's or a key-value store's updates)
 *   memkernel gather MIB N SEED   fill the array, then N random reads of a word summed
 *                                 (read-heavy, random: an index's look-ups)
 *   memkernel stream MIB PASSES   three arrays of MIB/3 MiB: PASSES passes of the STREAM
 *                                 triad a[i] = b[i] + 3 c[i] (write-heavy, streaming)
 *
 * Deterministic (xorshift64 seeded with SEED); prints a checksum so the work cannot be
 * optimised away. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t x;
static inline uint64_t next(void) {
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static uint64_t *fill(size_t n) {
	uint64_t *a = malloc(n * sizeof *a);
	if (!a) {
		fprintf(stderr, "memkernel: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		a[i] = i * 0x9E3779B97F4A7C15u;
	return a;
}

int main(int argc, char **argv) {
	if (argc < 4 || (strcmp(argv[1], "stream") != 0 && argc < 5)) {
		fprintf(stderr, "usage: memkernel update|gather MIB N SEED | memkernel stream MIB PASSES\n");
		return 2;
	}
	size_t words = (size_t)strtoull(argv[2], 0, 10) << 17; /* MiB / 8 bytes */
	uint64_t n = strtoull(argv[3], 0, 10), sum = 0;
	if (strcmp(argv[1], "stream") == 0) {
		size_t m = words / 3;
		uint64_t *a = fill(m), *b = fill(m), *c = fill(m);
		for (uint64_t p = 0; p < n; p++)
			for (size_t i = 0; i < m; i++)
				a[i] = b[i] + 3 * c[i];
		for (size_t i = 0; i < m; i += 512)
			sum += a[i];
	} else {
		x = strtoull(argv[4], 0, 10) * 0x9E3779B97F4A7C15u | 1;
		uint64_t *a = fill(words);
		if (strcmp(argv[1], "update") == 0) {
			for (uint64_t i = 0; i < n; i++)
				a[next() % words] += i;
			for (size_t i = 0; i < words; i += 512)
				sum += a[i];
		} else {
			for (uint64_t i = 0; i < n; i++)
				sum += a[next() % words];
		}
	}
	printf("%llu\n", (unsigned long long)sum);
	return 0;
}
