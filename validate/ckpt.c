//go:build ignore

/* (The line above keeps the go tool from taking this directory's C files for cgo.)
 *
 * ckpt: real checkpointing of a region of memory on Linux. See ckpt.h and README.md. */
#define _GNU_SOURCE
#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CKPT_HAVE_VALGRIND 1
_Static_assert(CKPT_VG_USERREQ_CHECKPOINT == VG_USERREQ_TOOL_BASE('V', 'M') + 1,
               "CKPT_VG_USERREQ_CHECKPOINT is VG_USERREQ_TOOL_BASE('V','M') + 1");
#endif
#endif
#ifndef CKPT_HAVE_VALGRIND
#define CKPT_HAVE_VALGRIND 0
#endif

/* The soft-dirty bit of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_SOFT_DIRTY (1ull << 55)
#define PM_PRESENT (1ull << 63)

/* The library's state. Invariants, once inited: base is page-aligned, cap pages long,
 * with a PROT_NONE guard page on each side (mapping, maplen); used <= cap; dirty holds
 * cap bits (wp: pages made writable since the last checkpoint, exactly those; full:
 * pages touched so far; softdirty: unused); buf holds cap pages; last holds nlast <= cap
 * page indices in increasing order. */
static struct {
	int inited;
	enum ckpt_mechanism mech;
	size_t page;
	unsigned char *mapping;
	size_t maplen;
	unsigned char *base;
	size_t cap, used;
	uint64_t *dirty;
	size_t words;
	unsigned char *buf;
	size_t *last;
	size_t nlast;
	unsigned char *mc;  /* full: mincore's vector, cap bytes */
	uint64_t *pm;       /* softdirty: pagemap entries, cap of them */
	int pagemap_fd, clear_refs_fd;
	struct sigaction old_segv;
	struct ckpt_stats st;
	char err[256];
} g = {.pagemap_fd = -1, .clear_refs_fd = -1};

/* traps and handler_mprotects are counted by the signal handler. */
static volatile uint64_t traps, handler_mprotects;

static void seterr(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g.err, sizeof g.err, fmt, ap);
	va_end(ap);
}

const char *ckpt_error(void) { return g.err; }

static const char *const names[] = {"none", "wp", "softdirty", "full"};

const char *ckpt_name(enum ckpt_mechanism m) {
	if ((unsigned)m < sizeof names / sizeof names[0])
		return names[m];
	return "?";
}

int ckpt_parse(const char *name, enum ckpt_mechanism *m) {
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0) {
			*m = (enum ckpt_mechanism)i;
			return 0;
		}
	return -1;
}

static uint64_t now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bit(const uint64_t *b, size_t i) { return (int)(b[i / 64] >> (i % 64) & 1); }
static inline void setbit(uint64_t *b, size_t i) { b[i / 64] |= 1ull << (i % 64); }

/* on_segv is the wp mechanism's SIGSEGV handler. A write to a read-only page of the region
 * marks the page dirty and makes it writable; the write is then retried. Any other fault
 * is not ours: the previous disposition is restored and the faulting instruction, retried,
 * faults under it. */
static void on_segv(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	uintptr_t a = (uintptr_t)si->si_addr, b = (uintptr_t)g.base;
	if (si->si_code == SEGV_ACCERR && a >= b && a < b + g.cap * g.page) {
		size_t i = (a - b) / g.page;
		if (!bit(g.dirty, i)) {
			setbit(g.dirty, i);
			traps++;
			handler_mprotects++;
			if (mprotect(g.base + i * g.page, g.page, PROT_READ | PROT_WRITE) == 0)
				return;
		}
	}
	sigaction(SIGSEGV, &g.old_segv, NULL);
}

static int write_clear_refs(void) {
	if (pwrite(g.clear_refs_fd, "4", 1, 0) != 1) {
		seterr("softdirty: writing 4 to /proc/self/clear_refs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* read_pagemap reads the pagemap entries of n pages from p into out. */
static int read_pagemap(const void *p, size_t n, uint64_t *out) {
	off_t off = (off_t)((uintptr_t)p / g.page * sizeof(uint64_t));
	size_t want = n * sizeof(uint64_t), got = 0;
	while (got < want) {
		ssize_t r = pread(g.pagemap_fd, (char *)out + got, want - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			seterr("softdirty: reading /proc/self/pagemap: %s", r < 0 ? strerror(errno) : "short read");
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* softdirty_probe checks that the kernel keeps soft-dirty bits: a page written after
 * clear_refs must show bit 55, and a page not written since must not. It sets errno to
 * ENOTSUP where it does not. */
static int softdirty_probe(void) {
	g.pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (g.pagemap_fd < 0) {
		seterr("softdirty: unsupported: cannot open /proc/self/pagemap: %s", strerror(errno));
		errno = ENOTSUP;
		return -1;
	}
	g.clear_refs_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (g.clear_refs_fd < 0) {
		seterr("softdirty: unsupported: cannot open /proc/self/clear_refs: %s", strerror(errno));
		errno = ENOTSUP;
		return -1;
	}
	volatile unsigned char *p = mmap(NULL, g.page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		seterr("softdirty: mmap: %s", strerror(errno));
		return -1;
	}
	p[0] = 1;
	uint64_t clean = 0, written = 0;
	int rc = 0;
	if (pwrite(g.clear_refs_fd, "4", 1, 0) != 1) {
		seterr("softdirty: unsupported: writing 4 to /proc/self/clear_refs: %s", strerror(errno));
		rc = -1;
	} else if (read_pagemap((const void *)p, 1, &clean) < 0) {
		rc = -1;
	} else {
		p[0] = 2;
		if (read_pagemap((const void *)p, 1, &written) < 0)
			rc = -1;
	}
	munmap((void *)p, g.page);
	if (rc < 0) {
		errno = ENOTSUP;
		return -1;
	}
	if (!(written & PM_SOFT_DIRTY) || (clean & PM_SOFT_DIRTY)) {
		seterr("softdirty: unsupported: this kernel keeps no soft-dirty bits (pagemap bit 55 %s after clear_refs, %s after a write; CONFIG_MEM_SOFT_DIRTY?)",
		       clean & PM_SOFT_DIRTY ? "set" : "clear", written & PM_SOFT_DIRTY ? "set" : "clear");
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}

static void *map_buffer(size_t bytes, int populate) {
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void release(void) {
	if (g.mech == CKPT_WP && g.inited)
		sigaction(SIGSEGV, &g.old_segv, NULL);
	if (g.mapping)
		munmap(g.mapping, g.maplen);
	if (g.buf)
		munmap(g.buf, g.cap * g.page);
	if (g.dirty)
		munmap(g.dirty, g.words * sizeof(uint64_t));
	if (g.last)
		munmap(g.last, g.cap * sizeof(size_t));
	if (g.mc)
		munmap(g.mc, g.cap);
	if (g.pm)
		munmap(g.pm, g.cap * sizeof(uint64_t));
	if (g.pagemap_fd >= 0)
		close(g.pagemap_fd);
	if (g.clear_refs_fd >= 0)
		close(g.clear_refs_fd);
	char err[sizeof g.err];
	memcpy(err, g.err, sizeof err);
	memset(&g, 0, sizeof g);
	memcpy(g.err, err, sizeof err);
	g.pagemap_fd = g.clear_refs_fd = -1;
	traps = handler_mprotects = 0;
}

int ckpt_init(enum ckpt_mechanism m, size_t capacity) {
	if (g.inited) {
		seterr("ckpt_init: already initialised");
		errno = EBUSY;
		return -1;
	}
	if ((unsigned)m > CKPT_FULL) {
		seterr("ckpt_init: unknown mechanism %d", (int)m);
		errno = EINVAL;
		return -1;
	}
	g.page = (size_t)sysconf(_SC_PAGESIZE);
	if (capacity == 0 || capacity > ((size_t)1 << 40)) {
		seterr("ckpt_init: capacity %zu bytes: want 1 byte to 1 TiB", capacity);
		errno = EINVAL;
		return -1;
	}
	g.mech = m;
	g.cap = (capacity + g.page - 1) / g.page;
	g.err[0] = 0;
	if (m == CKPT_SOFTDIRTY && softdirty_probe() < 0) {
		int e = errno;
		release();
		errno = e;
		return -1;
	}
	/* The region between two PROT_NONE guard pages, so that no neighbouring mapping merges
	 * with it (a merge would mark the whole of it soft-dirty). */
	g.maplen = (g.cap + 2) * g.page;
	g.mapping = mmap(NULL, g.maplen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g.mapping == MAP_FAILED) {
		g.mapping = NULL;
		seterr("ckpt_init: mmap of %zu pages: %s", g.cap + 2, strerror(errno));
		goto fail;
	}
	g.base = g.mapping + g.page;
	/* Pages of the base size, tracked one by one: no transparent huge pages. */
	madvise(g.base, g.cap * g.page, MADV_NOHUGEPAGE);
	if (mprotect(g.base, g.cap * g.page, m == CKPT_WP ? PROT_READ : PROT_READ | PROT_WRITE) < 0) {
		seterr("ckpt_init: mprotect: %s", strerror(errno));
		goto fail;
	}
	g.words = (g.cap + 63) / 64;
	g.dirty = map_buffer(g.words * sizeof(uint64_t), 1);
	g.last = map_buffer(g.cap * sizeof(size_t), 1);
	if (!g.dirty || !g.last) {
		seterr("ckpt_init: mmap: %s", strerror(errno));
		goto fail;
	}
	if (m != CKPT_NONE) {
		/* The staging buffer (wp, softdirty) or shadow (full), faulted in now so that
		 * checkpoints only copy. */
		g.buf = map_buffer(g.cap * g.page, 1);
		if (!g.buf) {
			seterr("ckpt_init: mmap of a %zu-page buffer: %s", g.cap, strerror(errno));
			goto fail;
		}
	}
	if (m == CKPT_FULL && !(g.mc = map_buffer(g.cap, 1))) {
		seterr("ckpt_init: mmap: %s", strerror(errno));
		goto fail;
	}
	if (m == CKPT_SOFTDIRTY) {
		if (!(g.pm = map_buffer(g.cap * sizeof(uint64_t), 1))) {
			seterr("ckpt_init: mmap: %s", strerror(errno));
			goto fail;
		}
		if (write_clear_refs() < 0)
			goto fail;
	}
	if (m == CKPT_WP) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_segv;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSEGV, &sa, &g.old_segv) < 0) {
			seterr("ckpt_init: sigaction: %s", strerror(errno));
			goto fail;
		}
	}
	g.inited = 1;
	return 0;
fail: {
	int e = errno;
	release();
	errno = e;
	return -1;
}
}

void *ckpt_alloc(size_t bytes) {
	if (!g.inited) {
		errno = ENOMEM;
		return NULL;
	}
	size_t n = bytes / g.page + (bytes % g.page != 0);
	if (n == 0)
		n = 1;
	if (n > g.cap - g.used) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = g.base + g.used * g.page;
	g.used += n;
	return p;
}

void *ckpt_base(void) { return g.base; }

/* checkpoint_wp copies the pages the handler marked into the staging buffer, in address
 * order, then write-protects the region again with one mprotect over the pages allocated
 * (as Xen's log-dirty mode, which Remus uses, write-protects all of memory at the start of
 * an epoch): one call whatever the dirty pages' pattern, which also merges the mappings
 * the handler split back into one. */
static int checkpoint_wp(void) {
	size_t n = 0;
	for (size_t w = 0; w < g.words; w++) {
		uint64_t bits = g.dirty[w];
		if (!bits)
			continue;
		g.dirty[w] = 0;
		while (bits) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
			bits &= bits - 1;
			memcpy(g.buf + n * g.page, g.base + i * g.page, g.page);
			g.last[n++] = i;
		}
	}
	g.nlast = n;
	if (n == 0)
		return 0;
	/* The dirty pages can lie anywhere in the region, also beyond the pages allocated. */
	size_t end = g.last[n - 1] + 1 > g.used ? g.last[n - 1] + 1 : g.used;
	g.st.mprotects++;
	if (mprotect(g.base, end * g.page, PROT_READ) < 0) {
		seterr("wp: mprotect of %zu pages: %s", end, strerror(errno));
		return -1;
	}
	return 0;
}

/* checkpoint_softdirty copies the pages whose soft-dirty bit is set, then clears the bits
 * (of the whole process: clear_refs has no narrower form). */
static int checkpoint_softdirty(void) {
	size_t n = 0;
	if (g.used && read_pagemap(g.base, g.used, g.pm) < 0)
		return -1;
	for (size_t i = 0; i < g.used; i++)
		if (g.pm[i] & PM_SOFT_DIRTY) {
			memcpy(g.buf + n * g.page, g.base + i * g.page, g.page);
			g.last[n++] = i;
		}
	g.nlast = n;
	return write_clear_refs();
}

/* checkpoint_full copies every page touched so far (resident now or at an earlier
 * checkpoint) into the shadow, at the page's own offset. */
static int checkpoint_full(void) {
	size_t n = 0;
	if (g.used && mincore(g.base, g.used * g.page, g.mc) < 0) {
		seterr("full: mincore: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < g.used; i++) {
		if (g.mc[i] & 1)
			setbit(g.dirty, i);
		if (bit(g.dirty, i)) {
			memcpy(g.buf + i * g.page, g.base + i * g.page, g.page);
			g.last[n++] = i;
		}
	}
	g.nlast = n;
	return 0;
}

int ckpt_checkpoint(void) {
	g.st.checkpoints++;
#if CKPT_HAVE_VALGRIND
	VALGRIND_DO_CLIENT_REQUEST_STMT(CKPT_VG_USERREQ_CHECKPOINT, g.st.checkpoints, g.mech, 0, 0, 0);
#endif
	if (g.mech == CKPT_NONE || !g.inited)
		return 0;
	uint64_t t0 = now_ns();
	int rc = 0;
	switch (g.mech) {
	case CKPT_WP:
		rc = checkpoint_wp();
		break;
	case CKPT_SOFTDIRTY:
		rc = checkpoint_softdirty();
		break;
	case CKPT_FULL:
		rc = checkpoint_full();
		break;
	default:
		break;
	}
	g.st.pages_copied += g.nlast;
	g.st.bytes_copied += (uint64_t)g.nlast * g.page;
	if (g.nlast > g.st.max_pages)
		g.st.max_pages = g.nlast;
	g.st.ckpt_ns += now_ns() - t0;
	return rc;
}

void ckpt_stats(struct ckpt_stats *s) {
	*s = g.st;
	s->traps = traps;
	s->mprotects = g.st.mprotects + handler_mprotects;
	s->region_pages = g.used;
	s->page_size = g.page ? g.page : (uint64_t)sysconf(_SC_PAGESIZE);
	s->valgrind = CKPT_HAVE_VALGRIND;
}

void ckpt_fini(void) { release(); }

size_t ckpt_last_count(void) { return g.nlast; }

size_t ckpt_last_page(size_t i) { return i < g.nlast ? g.last[i] : (size_t)-1; }

const void *ckpt_last_copy(size_t i) {
	if (i >= g.nlast)
		return NULL;
	if (g.mech == CKPT_FULL)
		return g.buf + g.last[i] * g.page;
	return g.buf + i * g.page;
}
