//go:build ignore

/* (The line above keeps the go tool from taking this file for cgo.)
 *
 * kvstore: a read-mostly key-value workload on an open-addressing hash table (linear
 * probing) of 2^BITS slots of 16 bytes. The table is first filled with 0.6 × 2^BITS keys
 * in a seeded order; then come OPS seeded operations on keys drawn uniformly from them,
 * 98% gets and 2% puts (an update of the key's value), as a cache in front of a database
 * sees. An iteration is 64 operations: between checkpoints the program writes a few
 * pages scattered at random over the table.
 *
 *   kvstore MECHANISM K [BITS [OPS]]     defaults BITS 20 (a 16 MiB table), OPS 2097152 */
#include "common.h"

struct slot {
	uint64_t key; /* 0: empty */
	uint64_t val;
};

static uint64_t gcd(uint64_t a, uint64_t b) {
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static size_t find(const struct slot *t, size_t mask, unsigned bits, uint64_t key) {
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits));
	while (t[h].key != 0 && t[h].key != key)
		h = (h + 1) & mask;
	return h;
}

int main(int argc, char **argv) {
	prog_args(argc, argv, "kvstore", "[BITS [OPS]]");
	unsigned bits = (unsigned)prog_arg(0, "BITS", 20, 4);
	uint64_t ops = prog_arg(1, "OPS", (uint64_t)1 << 21, 1);
	if (bits > 30) {
		fprintf(stderr, "kvstore: BITS %u: want at most 30\n", bits);
		return 2;
	}
	size_t slots = (size_t)1 << bits, mask = slots - 1;
	uint64_t keys = slots * 6 / 10;
	prog_start(2, slots * sizeof(struct slot) + 2 * 4096 * 16);
	struct slot *t = prog_alloc(slots * sizeof(struct slot));
	rng_state = 3;
	/* The fill: every key once, in the order of a multiplicative permutation of 1..keys. */
	uint64_t step = 0x9e3779b97f4a7c15ull % keys;
	while (gcd(step, keys) != 1)
		step++;
	for (uint64_t i = 0, key = 0; i < keys; i++) {
		key = (key + step) % keys;
		size_t h = find(t, mask, bits, key + 1);
		t[h].key = key + 1;
		t[h].val = rnd();
	}
	uint64_t sum = 0;
	for (uint64_t o = 0; o < ops; o++) {
		uint64_t r = rnd();
		size_t h = find(t, mask, bits, 1 + (r >> 8) % keys);
		if ((r & 0xff) < 5) /* a put: 5/256, 2% */
			t[h].val = t[h].val * 31 + o;
		else
			sum += t[h].val;
		if ((o & 63) == 63)
			iteration();
	}
	prog_finish(hash_words(sum, (const uint64_t *)t, slots * 2));
	return 0;
}
