//go:build ignore

/* (The line above keeps the go tool from taking this file for cgo.)
 *
 * probe measures one of this machine's costs, once, and prints what it counted and how
 * long it took as one line of key=value pairs (times in nanoseconds, CLOCK_MONOTONIC);
 * package calibrate runs it repeatedly and does the arithmetic.
 *
 *   probe copy          bytes= ns=           4 KiB page copies (memcpy) over 64 MiB, from
 *                                            memory to memory (the buffers exceed caches)
 *   probe fault         faults= ns=          first writes to fresh anonymous pages: one
 *                                            minor fault each (trap, zero fill, PTE)
 *   probe trap          traps= trap_ns= calls= mprotect_ns=
 *                                            writes to write-protected present pages,
 *                                            each a SIGSEGV whose handler mprotects the
 *                                            page writable (the wp mechanism's trap);
 *                                            then mprotect calls alone, one page each
 *                                            (a checkpoint's re-protection)
 *   probe disk DIR      writes= write_ns= reads= read_ns=
 *                                            4 KiB writes at random offsets of a 16 MiB
 *                                            file in DIR (unlinked as soon as made), each
 *                                            followed by fdatasync;
 *                                            4 KiB O_DIRECT reads at random offsets
 *                                            (reads=0 where O_DIRECT is refused)
 *   probe miss          loads= large_ns= small_ns= large_kb= huge_kb=
 *                                            dependent loads (a pointer chase in random
 *                                            order) over 64 MiB in huge pages where the
 *                                            kernel gives them (huge_kb of them, -1:
 *                                            unknown), and over 16 KiB (L1)
 *   probe walk          loads= spread_ns= packed_ns=
 *                                            dependent loads over 16,384 lines, one to a
 *                                            page (every load a TLB miss) and packed 64
 *                                            to a page (no TLB miss)
 *
 * Exit status 0, or 1 with the reason on standard error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define LINE 64u

static uint64_t now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
	fprintf(stderr, "probe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned char *map(size_t bytes, int advice) {
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (advice)
		madvise(p, bytes, advice);
	return p;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void) { /* splitmix64 */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void probe_copy(void) {
	const size_t span = 64u << 20, pages = span / PAGE;
	unsigned char *src = map(span, MADV_NOHUGEPAGE), *dst = map(span, MADV_NOHUGEPAGE);
	memset(src, 1, span);
	memset(dst, 2, span);
	uint64_t t0 = now();
	for (size_t i = 0; i < pages; i++) {
		size_t off = (i * 7 % pages) * PAGE;
		memcpy(dst + off, src + off, PAGE);
	}
	uint64_t t = now() - t0;
	volatile unsigned char sink = dst[12345];
	(void)sink;
	printf("bytes=%zu ns=%" PRIu64 "\n", span, t);
}

static void probe_fault(void) {
	const size_t pages = 16384;
	volatile unsigned char *p = map(pages * PAGE, MADV_NOHUGEPAGE);
	uint64_t t0 = now();
	for (size_t i = 0; i < pages; i++)
		p[i * PAGE] = 1;
	uint64_t t = now() - t0;
	printf("faults=%zu ns=%" PRIu64 "\n", pages, t);
}

static unsigned char *trap_base;
static size_t trap_pages;

static void on_segv(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	uintptr_t a = (uintptr_t)si->si_addr, b = (uintptr_t)trap_base;
	if (a >= b && a < b + trap_pages * PAGE &&
	    mprotect(trap_base + (a - b) / PAGE * PAGE, PAGE, PROT_READ | PROT_WRITE) == 0)
		return;
	signal(SIGSEGV, SIG_DFL);
}

static void probe_trap(void) {
	trap_pages = 4096;
	volatile unsigned char *p = map(trap_pages * PAGE, MADV_NOHUGEPAGE);
	trap_base = (unsigned char *)p;
	for (size_t i = 0; i < trap_pages; i++)
		p[i * PAGE] = 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) < 0)
		die("sigaction");
	if (mprotect(trap_base, trap_pages * PAGE, PROT_READ) < 0)
		die("mprotect");
	uint64_t t0 = now();
	for (size_t i = 0; i < trap_pages; i++)
		p[i * PAGE] = 2;
	uint64_t trap = now() - t0;
	/* mprotect alone: each page made read-only and writable again, at a stride so that
	 * every call splits and merges the mapping as a checkpoint's scattered pages do. */
	size_t calls = 0;
	t0 = now();
	for (size_t i = 0; i < trap_pages; i += 2) {
		if (mprotect(trap_base + i * PAGE, PAGE, PROT_READ) < 0 ||
		    mprotect(trap_base + i * PAGE, PAGE, PROT_READ | PROT_WRITE) < 0)
			die("mprotect");
		calls += 2;
	}
	uint64_t mp = now() - t0;
	printf("traps=%zu trap_ns=%" PRIu64 " calls=%zu mprotect_ns=%" PRIu64 "\n", trap_pages, trap, calls, mp);
}

static void probe_disk(const char *dir) {
	const size_t size = 16u << 20, pages = size / PAGE;
	const int writes = 64, reads = 256;
	char path[4096];
	if (snprintf(path, sizeof path, "%s/.vmsim-calibrate-XXXXXX", dir) >= (int)sizeof path) {
		fprintf(stderr, "probe: %s: path too long\n", dir);
		exit(1);
	}
	int fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "probe: creating a file in %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	/* Unlinked at once: nothing is left behind, even if the probe is killed. */
	unlink(path);
	unsigned char *buf = map(1u << 20, 0);
	for (size_t i = 0; i < (1u << 20); i++)
		buf[i] = (unsigned char)rnd();
	for (size_t off = 0; off < size; off += 1u << 20)
		if (pwrite(fd, buf, 1u << 20, (off_t)off) != (ssize_t)(1u << 20))
			die("writing the scratch file");
	if (fsync(fd) < 0)
		die("fsync");
	uint64_t t0 = now();
	for (int i = 0; i < writes; i++) {
		buf[0] = (unsigned char)i;
		if (pwrite(fd, buf, PAGE, (off_t)(rnd() % pages * PAGE)) != PAGE)
			die("pwrite");
		if (fdatasync(fd) < 0)
			die("fdatasync");
	}
	uint64_t wt = now() - t0;
	/* Reads past the page cache, where the file system allows O_DIRECT. */
	int done = 0;
	uint64_t rt = 0;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_DIRECT) == 0) {
		t0 = now();
		for (; done < reads; done++)
			if (pread(fd, buf, PAGE, (off_t)(rnd() % pages * PAGE)) != PAGE)
				break;
		rt = now() - t0;
		if (done < reads)
			done = 0, rt = 0;
	}
	close(fd);
	printf("writes=%d write_ns=%" PRIu64 " reads=%d read_ns=%" PRIu64 "\n", writes, wt, done, rt);
}

/* chase builds a random cycle through n slots stride bytes apart in buf and returns the
 * time of loads dependent loads along it (after one warming lap). */
static uint64_t chase(unsigned char *buf, size_t n, size_t stride, size_t loads) {
	size_t *perm = malloc(n * sizeof *perm);
	if (!perm)
		die("malloc");
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	/* Slot i lies at i*stride; its line within the page varies with i (stride is a page
	 * plus a line when spread), so that the lines do not all fall in one cache set. */
	for (size_t i = 0; i < n; i++)
		*(void **)(buf + perm[i] * stride) = buf + perm[(i + 1) % n] * stride;
	free(perm);
	void **p = (void **)buf;
	for (size_t i = 0; i < n; i++)
		p = *p;
	uint64_t t0 = now();
	for (size_t i = 0; i < loads; i++)
		p = *p;
	uint64_t t = now() - t0;
	if (p == NULL)
		puts("");
	return t;
}

/* huge_kb returns the process's anonymous memory in transparent huge pages, in KiB, or
 * -1 where /proc/self/smaps_rollup does not say. */
static long huge_kb(void) {
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void probe_miss(void) {
	const size_t large = 64u << 20, small = 16u << 10, loads = 1u << 20;
	unsigned char *l = map(large, MADV_HUGEPAGE), *s = map(small, 0);
	uint64_t lt = chase(l, large / LINE, LINE, loads);
	long huge = huge_kb();
	uint64_t st = chase(s, small / LINE, LINE, loads);
	printf("loads=%zu large_ns=%" PRIu64 " small_ns=%" PRIu64 " large_kb=%zu huge_kb=%ld\n", loads, lt, st, large >> 10, huge);
}

static void probe_walk(void) {
	const size_t lines = 16384, loads = 8 * lines;
	unsigned char *spread = map(lines * (PAGE + LINE) + PAGE, MADV_NOHUGEPAGE);
	unsigned char *packed = map(lines * LINE, MADV_NOHUGEPAGE);
	uint64_t st = chase(spread, lines, PAGE + LINE, loads);
	uint64_t pt = chase(packed, lines, LINE, loads);
	printf("loads=%zu spread_ns=%" PRIu64 " packed_ns=%" PRIu64 "\n", loads, st, pt);
}

int main(int argc, char **argv) {
	if (argc == 2 && strcmp(argv[1], "copy") == 0)
		probe_copy();
	else if (argc == 2 && strcmp(argv[1], "fault") == 0)
		probe_fault();
	else if (argc == 2 && strcmp(argv[1], "trap") == 0)
		probe_trap();
	else if (argc == 3 && strcmp(argv[1], "disk") == 0)
		probe_disk(argv[2]);
	else if (argc == 2 && strcmp(argv[1], "miss") == 0)
		probe_miss();
	else if (argc == 2 && strcmp(argv[1], "walk") == 0)
		probe_walk();
	else {
		fprintf(stderr, "usage: probe copy|fault|trap|miss|walk|disk DIR\n");
		return 2;
	}
	if (fflush(stdout) != 0)
		die("writing standard output");
	return 0;
}
