/* memsim: a plain C page-replacement simulator of the kind written for operating-systems
 * courses, kept apart from vmsim's code so that it checks vmsim's counts and gives its
 * speed something to be compared with (scripts/csim/compare.sh).
 *
 * It reads "<hex address> <R|W>" lines (vmsim's rw format) with fscanf, or, given lackey
 * as its fourth argument, valgrind lackey's lines ("I  04001100,3", " L 1ffefffd78,8",
 * " S ...", " M ..."; valgrind's own "==N==" lines skipped), 4 KiB pages, N frames, and
 * replaces by LRU (a timestamp per frame, the victim found by a scan of the frames) or
 * CLOCK (a reference bit per frame, set on every access, and a hand that clears them
 * until it finds one clear; frames fill in order first). A lackey access touches every
 * page its bytes lie on, in order; a store or a modify writes them, a fetch or a load
 * reads them. Every miss is a fault that reads the page; evicting a written page writes
 * it. It prints what vmsim run --scheme none calls refs (records), page_faults and
 * disk_writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned long page; int dirty; unsigned long last; int ref; } frame;

static frame *fr;
static int n, used, hand, clock_;
static unsigned long t, reads, writes;

/* touch accesses page, writing it if w. */
static void touch(unsigned long page, int w) {
	int i, hit = -1;
	t++;
	for (i = 0; i < used; i++)
		if (fr[i].page == page) { hit = i; break; }
	if (hit < 0) {
		reads++;
		if (used < n) hit = used++;
		else if (clock_) {
			while (fr[hand].ref) { fr[hand].ref = 0; hand = (hand + 1) % n; }
			hit = hand; hand = (hand + 1) % n;
			if (fr[hit].dirty) writes++;
		} else {
			int v = 0;
			for (i = 1; i < n; i++) if (fr[i].last < fr[v].last) v = i;
			hit = v;
			if (fr[hit].dirty) writes++;
		}
		fr[hit].page = page; fr[hit].dirty = 0;
	}
	fr[hit].last = t;
	fr[hit].ref = 1;
	if (w) fr[hit].dirty = 1;
}

int main(int argc, char **argv) {
	if (argc != 4 && argc != 5) { fprintf(stderr, "usage: memsim TRACE FRAMES lru|clock [rw|lackey]\n"); return 2; }
	FILE *f = fopen(argv[1], "r");
	if (!f) { perror(argv[1]); return 2; }
	n = atoi(argv[2]);
	if (n < 1) { fprintf(stderr, "frames: want 1 or more\n"); return 2; }
	clock_ = strcmp(argv[3], "clock") == 0;
	int lackey = argc == 5 && strcmp(argv[4], "lackey") == 0;
	fr = calloc(n, sizeof *fr);
	unsigned long addr, size, events = 0;
	char rw;
	if (lackey) {
		char line[4096];
		while (fgets(line, sizeof line, f)) {
			if (line[0] == '=' || line[0] == '-') continue; /* valgrind's own lines */
			if (sscanf(line, " %c %lx,%lu", &rw, &addr, &size) != 3 || size == 0 ||
			    !strchr("ILSM", rw)) {
				fprintf(stderr, "%s: line %lu: not a lackey record\n", argv[1], events + 1);
				return 2;
			}
			events++;
			for (unsigned long p = addr >> 12; p <= (addr + size - 1) >> 12; p++)
				touch(p, rw == 'S' || rw == 'M');
		}
	} else {
		while (fscanf(f, "%lx %c", &addr, &rw) == 2) {
			events++;
			touch(addr >> 12, rw == 'W' || rw == 'w');
		}
		if (!ferror(f) && !feof(f)) { fprintf(stderr, "%s: line %lu: not \"<hex address> <R|W>\"\n", argv[1], events + 1); return 2; }
	}
	if (ferror(f)) { perror(argv[1]); return 2; }
	printf("refs %lu\npage_faults %lu\ndisk_writes %lu\n", events, reads, writes);
	return 0;
}
