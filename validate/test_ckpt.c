//go:build ignore

/* (The line above keeps the go tool from taking this directory's C files for cgo.)
 *
 * test_ckpt checks ckpt's dirty tracking against a plain reference on random write
 * patterns. Between checkpoints it writes random byte ranges (some crossing pages, some
 * pages written many times, some intervals empty) and reads others, doing the same writes
 * to a mirror in ordinary memory and keeping, per page, whether it was written since the
 * last checkpoint and whether it was ever touched. At each checkpoint it checks that the
 * pages the library copied are exactly those written in the interval (wp, softdirty) or
 * all those touched so far (full), in increasing order, that each copy equals the mirror's
 * page, and that memory still equals the mirror; at the end, that the counts of ckpt_stats
 * add up (wp: one trap per page per interval written).
 *
 *   test_ckpt MECHANISM SEED [CHECKPOINTS [PAGES]]   exit 0 and "ok ...", 1 and FAIL lines
 *   test_ckpt MECHANISM probe                        exit 0 if supported
 *   test_ckpt MECHANISM crash                        writes to the guard page below the
 *                                                    region: must die of SIGSEGV (a fault
 *                                                    not the library's is not swallowed)
 *
 * Exit status 3 (and "unsupported: why" on stderr) when the kernel cannot do MECHANISM;
 * 2 for a usage error. */
#define _GNU_SOURCE
#include "ckpt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_state;

/* splitmix64 */
static uint64_t rnd(void) {
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) { return rnd() % n; }

static int failures;
static uint64_t seed;

#define FAIL(...)                                                                                                      \
	do {                                                                                                           \
		fprintf(stdout, "FAIL seed=%" PRIu64 ": ", seed);                                                     \
		fprintf(stdout, __VA_ARGS__);                                                                          \
		fputc('\n', stdout);                                                                                   \
		if (++failures > 20) {                                                                                 \
			fprintf(stdout, "too many failures\n");                                                        \
			exit(1);                                                                                       \
		}                                                                                                      \
	} while (0)

int main(int argc, char **argv) {
	enum ckpt_mechanism m;
	if (argc < 3 || argc > 5 || ckpt_parse(argv[1], &m) < 0) {
		fprintf(stderr, "usage: test_ckpt MECHANISM SEED|probe|crash [CHECKPOINTS [PAGES]]\n");
		return 2;
	}
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int probe = strcmp(argv[2], "probe") == 0, crash = strcmp(argv[2], "crash") == 0;
	seed = probe || crash ? 0 : strtoull(argv[2], NULL, 10);
	long checkpoints = argc > 3 ? atol(argv[3]) : 200;
	size_t pages = argc > 4 ? (size_t)atol(argv[4]) : 256;
	if (checkpoints < 1 || pages < 2) {
		fprintf(stderr, "test_ckpt: want CHECKPOINTS >= 1 and PAGES >= 2\n");
		return 2;
	}
	/* One spare page beyond the tested ones: allocated, never touched. */
	if (ckpt_init(m, (pages + 1) * page) < 0) {
		fprintf(stderr, "test_ckpt: %s\n", ckpt_error());
		return errno == ENOTSUP ? 3 : 1;
	}
	if (probe) {
		printf("supported %s\n", ckpt_name(m));
		return 0;
	}
	if (crash) {
		volatile unsigned char *below_region = (unsigned char *)ckpt_base() - 1;
		*below_region = 1;
		printf("survived a write to the guard page\n");
		return 1;
	}
	rng_state = seed;
	unsigned char *mem = ckpt_alloc(pages * page);
	unsigned char *spare = ckpt_alloc(page);
	unsigned char *mirror = calloc(pages, page);
	unsigned char *written = calloc(pages, 1), *touched = calloc(pages, 1);
	unsigned char *chunk = malloc(3 * page);
	if (!mem || !spare || !mirror || !written || !touched || !chunk) {
		fprintf(stderr, "test_ckpt: out of memory\n");
		return 1;
	}
	uint64_t want_traps = 0, want_copied = 0, checked = 0;
	volatile unsigned char sink = 0;
	for (long c = 0; c < checkpoints; c++) {
		/* An interval: empty, sparse, or dense, with reads mixed in. */
		uint64_t ops = 0;
		switch (below(4)) {
		case 0:
			ops = 0;
			break;
		case 1:
			ops = 1 + below(4);
			break;
		case 2:
			ops = 1 + below(pages / 4 + 1);
			break;
		default:
			ops = 1 + below(2 * pages);
			break;
		}
		for (uint64_t o = 0; o < ops; o++) {
			size_t off = (size_t)below(pages * page);
			size_t len = 1 + (size_t)(below(4) == 0 ? below(3 * page) : below(64));
			if (len > pages * page - off)
				len = pages * page - off;
			size_t first = off / page, last = (off + len - 1) / page;
			if (below(3) == 0) { /* a read */
				for (size_t i = off; i < off + len; i += 97)
					sink ^= ((volatile unsigned char *)mem)[i];
				sink ^= ((volatile unsigned char *)mem)[off + len - 1];
				for (size_t p = first; p <= last; p++)
					touched[p] = 1;
				continue;
			}
			for (size_t i = 0; i < len; i++)
				chunk[i] = (unsigned char)rnd();
			memcpy(mem + off, chunk, len);
			memcpy(mirror + off, chunk, len);
			for (size_t p = first; p <= last; p++) {
				if (!written[p])
					want_traps++;
				written[p] = touched[p] = 1;
			}
		}
		if (ckpt_checkpoint() < 0) {
			FAIL("checkpoint %ld: %s", c + 1, ckpt_error());
			break;
		}
		const unsigned char *want = m == CKPT_FULL ? touched : written;
		size_t n = ckpt_last_count(), k = 0;
		for (size_t p = 0; p < pages; p++) {
			if (!want[p])
				continue;
			if (k >= n || ckpt_last_page(k) != p) {
				FAIL("checkpoint %ld: page %zu %s but not copied (copied %zu pages)", c + 1, p,
				     m == CKPT_FULL ? "touched" : "written", n);
				continue;
			}
			if (memcmp(ckpt_last_copy(k), mirror + p * page, page) != 0)
				FAIL("checkpoint %ld: the copy of page %zu differs from memory at the checkpoint", c + 1, p);
			k++;
			checked++;
		}
		if (k != n) {
			size_t extra = n;
			for (size_t i = 0; i < n; i++) {
				size_t p = ckpt_last_page(i);
				if (p >= pages || !want[p]) {
					extra = p;
					break;
				}
			}
			FAIL("checkpoint %ld: copied %zu pages, want %zu (first extra page %zu)", c + 1, n, k, extra);
		}
		want_copied += k;
		for (size_t p = 0; p < pages; p++)
			if (touched[p] && memcmp(mem + p * page, mirror + p * page, page) != 0)
				FAIL("checkpoint %ld: memory of page %zu differs from the mirror", c + 1, p);
		memset(written, 0, pages);
	}
	struct ckpt_stats st;
	ckpt_stats(&st);
	if (st.checkpoints != (uint64_t)checkpoints)
		FAIL("stats: %" PRIu64 " checkpoints, want %ld", st.checkpoints, checkpoints);
	if (st.pages_copied != want_copied || st.bytes_copied != want_copied * page)
		FAIL("stats: %" PRIu64 " pages, %" PRIu64 " bytes copied, want %" PRIu64 " pages", st.pages_copied,
		     st.bytes_copied, want_copied);
	uint64_t traps = m == CKPT_WP ? want_traps : 0;
	if (st.traps != traps)
		FAIL("stats: %" PRIu64 " traps, want %" PRIu64, st.traps, traps);
	if (st.region_pages != pages + 1)
		FAIL("stats: %" PRIu64 " region pages, want %zu", st.region_pages, pages + 1);
	if (failures)
		return 1;
	printf("ok mechanism=%s seed=%" PRIu64 " checkpoints=%ld pages=%zu pages_checked=%" PRIu64 " traps=%" PRIu64 "\n",
	       ckpt_name(m), seed, checkpoints, pages, checked, st.traps);
	ckpt_fini();
	(void)sink;
	return 0;
}
