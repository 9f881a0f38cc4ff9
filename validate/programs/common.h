/* The harness the validation programs share. A program is
 *
 *   NAME MECHANISM K [SIZE...]
 *
 * MECHANISM is none, wp, softdirty or full; K > 0 takes a checkpoint every K iterations
 * of the program (what an iteration is, each program says), K = 0 never. The program
 * prints one line on standard output:
 *
 *   program=NAME mechanism=M k=K iterations=I checksum=HEX elapsed_ns=T checkpoints=C
 *   pages_copied=P bytes_copied=B traps=X mprotects=Y ckpt_ns=S max_pages=Z
 *   region_pages=R region=0xADDR valgrind=0|1
 *
 * (one line, space-separated), where region is the address of the region's first page
 * (ckpt_base: under valgrind, where the recorded run's checkpointed memory lies), and elapsed_ns is the time from just after ckpt_init
 * (the region and the mechanism's buffers ready) to the end of the work, data
 * initialisation included, and checksum depends only on the program and its SIZE
 * arguments, never on MECHANISM or K. Exit status: 0 done, 1 failure, 2 usage error,
 * 3 MECHANISM unsupported on this machine ("unsupported" and why on standard error). */
#ifndef VMSIM_VALIDATE_COMMON_H
#define VMSIM_VALIDATE_COMMON_H

#define _GNU_SOURCE
#include "../ckpt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct {
	const char *name, *usage;
	enum ckpt_mechanism mech;
	uint64_t k, since, iterations, t0;
	int argc;
	char **argv;
} P;

static void prog_usage(void) {
	fprintf(stderr, "usage: %s none|wp|softdirty|full K %s\n", P.name, P.usage);
	exit(2);
}

/* parse_u64 parses s, a decimal integer, or exits with a usage error naming what. */
static uint64_t parse_u64(const char *s, const char *what) {
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "%s: %s \"%s\": want a whole number\n", P.name, what, s);
		prog_usage();
	}
	return (uint64_t)v;
}

/* prog_args reads MECHANISM and K. */
static void prog_args(int argc, char **argv, const char *name, const char *usage) {
	P.name = name;
	P.usage = usage;
	P.argc = argc;
	P.argv = argv;
	if (argc < 3)
		prog_usage();
	if (ckpt_parse(argv[1], &P.mech) < 0) {
		fprintf(stderr, "%s: mechanism \"%s\": want none, wp, softdirty or full\n", name, argv[1]);
		prog_usage();
	}
	P.k = parse_u64(argv[2], "K");
}

/* prog_arg returns size argument i (0 for the first after K), or def when absent, and
 * refuses one below min. */
static uint64_t prog_arg(int i, const char *what, uint64_t def, uint64_t min) {
	if (3 + i >= P.argc)
		return def;
	uint64_t v = parse_u64(P.argv[3 + i], what);
	if (v < min) {
		fprintf(stderr, "%s: %s %" PRIu64 ": want at least %" PRIu64 "\n", P.name, what, v, min);
		prog_usage();
	}
	return v;
}

static uint64_t prog_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* prog_start refuses extra arguments beyond nargs size arguments, reserves the region
 * (capacity bytes) and starts the clock. */
static void prog_start(int nargs, size_t capacity) {
	if (P.argc > 3 + nargs)
		prog_usage();
	if (ckpt_init(P.mech, capacity) < 0) {
		fprintf(stderr, "%s: %s\n", P.name, ckpt_error());
		exit(errno == ENOTSUP ? 3 : 1);
	}
	P.t0 = prog_now();
}

static void *prog_alloc(size_t bytes) {
	void *p = ckpt_alloc(bytes);
	if (!p) {
		fprintf(stderr, "%s: ckpt_alloc of %zu bytes: region exhausted\n", P.name, bytes);
		exit(1);
	}
	return p;
}

/* iteration ends one iteration: a checkpoint every K. */
static inline void iteration(void) {
	P.iterations++;
	if (P.k && ++P.since == P.k) {
		P.since = 0;
		if (ckpt_checkpoint() < 0) {
			fprintf(stderr, "%s: checkpoint: %s\n", P.name, ckpt_error());
			exit(1);
		}
	}
}

/* prog_finish stops the clock and prints the result line. */
static void prog_finish(uint64_t checksum) {
	uint64_t elapsed = prog_now() - P.t0;
	struct ckpt_stats s;
	ckpt_stats(&s);
	printf("program=%s mechanism=%s k=%" PRIu64 " iterations=%" PRIu64 " checksum=%016" PRIx64 " elapsed_ns=%" PRIu64
	       " checkpoints=%" PRIu64 " pages_copied=%" PRIu64 " bytes_copied=%" PRIu64 " traps=%" PRIu64
	       " mprotects=%" PRIu64 " ckpt_ns=%" PRIu64 " max_pages=%" PRIu64 " region_pages=%" PRIu64 " region=0x%" PRIxPTR " valgrind=%d\n",
	       P.name, ckpt_name(P.mech), P.k, P.iterations, checksum, elapsed, s.checkpoints, s.pages_copied,
	       s.bytes_copied, s.traps, s.mprotects, s.ckpt_ns, s.max_pages, s.region_pages, (uintptr_t)ckpt_base(), s.valgrind);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: writing standard output: %s\n", P.name, strerror(errno));
		exit(1);
	}
	ckpt_fini();
}

/* A seeded generator: splitmix64. */
static uint64_t rng_state;
static inline uint64_t rnd(void) {
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* hash_words folds n 64-bit words into a checksum (FNV-1a over words, then mixed). */
static uint64_t hash_words(uint64_t h, const uint64_t *w, size_t n) {
	for (size_t i = 0; i < n; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

#endif
