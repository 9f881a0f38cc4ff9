/* ckpt: real checkpointing of a program's memory on Linux, for measuring what vmsim
 * models. A program reserves one region with ckpt_init, allocates the memory it wants
 * checkpointed from it with ckpt_alloc, and calls ckpt_checkpoint at each checkpoint.
 *
 * Mechanisms (docs: validate/README.md):
 *   none       ckpt_checkpoint does nothing but count (the baseline);
 *   wp         incremental by write protection: the region is read-only, the first write
 *              to a page since the last checkpoint traps (SIGSEGV), the handler marks the
 *              page dirty and makes it writable; a checkpoint copies the dirty pages into
 *              a staging buffer and write-protects the region again, one mprotect for
 *              all of it (vmsim: remus, incremental);
 *   softdirty  the same dirty pages from the kernel's soft-dirty bits: a checkpoint reads
 *              /proc/self/pagemap (bit 55) for the region, copies the pages marked, and
 *              writes "4" to /proc/self/clear_refs; no signal, the kernel takes the faults;
 *   full       a checkpoint copies every page of the region touched so far (read or
 *              written, from mincore) into a shadow (vmsim: shadow).
 *
 * Every ckpt_checkpoint, whatever the mechanism, also issues the valgrind client request
 * CKPT_VG_USERREQ_CHECKPOINT, so that a run under valgrind (vmsim record, tool vmtrace)
 * can write a checkpoint record at exactly this point of the program. Natively the
 * request is a few instructions that do nothing.
 *
 * Not thread-safe: one thread, one region. The kernel writing into a write-protected
 * page (read(2) into the region under wp) fails with EFAULT instead of trapping: read
 * into memory outside the region and copy. */
#ifndef VMSIM_CKPT_H
#define VMSIM_CKPT_H

#include <stddef.h>
#include <stdint.h>

enum ckpt_mechanism {
	CKPT_NONE = 0,
	CKPT_WP = 1,
	CKPT_SOFTDIRTY = 2,
	CKPT_FULL = 3,
};

/* The valgrind client request ckpt_checkpoint issues:
 * VG_USERREQ_TOOL_BASE('V','M') + 1 = 0x564D0001. As a tool's handle_client_request sees
 * it: arg[0] this code, arg[1] the checkpoint's number (1 for the first checkpoint of the
 * run), arg[2] the mechanism (enum ckpt_mechanism), arg[3..5] 0. The result is ignored
 * (valgrind's default, 0). */
#define CKPT_VG_USERREQ_CHECKPOINT 0x564D0001u

struct ckpt_stats {
	uint64_t checkpoints;  /* ckpt_checkpoint calls */
	uint64_t pages_copied; /* pages copied by all checkpoints */
	uint64_t bytes_copied; /* pages_copied × page size */
	uint64_t traps;        /* write-protection traps taken (wp; 0 otherwise) */
	uint64_t mprotects;    /* mprotect calls made by the handler and the checkpoints (wp) */
	uint64_t ckpt_ns;      /* time spent in ckpt_checkpoint (CLOCK_MONOTONIC; 0 for none) */
	uint64_t max_pages;    /* the most pages one checkpoint copied */
	uint64_t region_pages; /* pages handed out by ckpt_alloc */
	uint64_t page_size;    /* bytes */
	int valgrind;          /* 1 if built with valgrind.h: checkpoints issue the request */
};

/* ckpt_init reserves a region of capacity bytes (rounded up to pages) under mechanism m.
 * It returns 0, or -1 with errno set and ckpt_error() saying why: ENOTSUP when this
 * kernel cannot do the mechanism (softdirty without soft-dirty bits), EINVAL for a bad
 * mechanism or capacity, EBUSY when already initialised, else the failing call's errno.
 * The start counts as a checkpoint: every page is clean. */
int ckpt_init(enum ckpt_mechanism m, size_t capacity);

/* ckpt_alloc returns bytes of zeroed, page-aligned memory from the region (each
 * allocation starts on a page of its own), or NULL (errno ENOMEM) when the region is
 * exhausted or not initialised. Memory is never freed before ckpt_fini. */
void *ckpt_alloc(size_t bytes);

/* ckpt_checkpoint takes a checkpoint. It returns 0, or -1 with ckpt_error() saying why
 * (a failed mprotect, pagemap read or clear_refs write). */
int ckpt_checkpoint(void);

/* ckpt_stats fills *s with the counts so far. */
void ckpt_stats(struct ckpt_stats *s);

/* ckpt_fini unmaps the region and buffers and restores the SIGSEGV handler. */
void ckpt_fini(void);

/* ckpt_parse sets *m to the mechanism named name ("none", "wp", "softdirty", "full") and
 * returns 0, or returns -1 for an unknown name. */
int ckpt_parse(const char *name, enum ckpt_mechanism *m);

/* ckpt_name returns the mechanism's name, or "?" */
const char *ckpt_name(enum ckpt_mechanism m);

/* ckpt_error describes the last failure of ckpt_init or ckpt_checkpoint. */
const char *ckpt_error(void);

/* For tests: what the last checkpoint copied. ckpt_last_count is the number of pages;
 * for i below it, ckpt_last_page(i) is the page's index in the region (increasing with i)
 * and ckpt_last_copy(i) the address of its copy (valid until the next checkpoint). */
size_t ckpt_last_count(void);
size_t ckpt_last_page(size_t i);
const void *ckpt_last_copy(size_t i);

/* ckpt_base returns the region's first byte (NULL before ckpt_init). */
void *ckpt_base(void);

#endif
