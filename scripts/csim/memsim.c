/* memsim: a plain C page-replacement simulator of the kind written for operating-systems
 * courses, kept apart from vmsim's code so that it checks vmsim's counts and gives its
 * speed something to be compared with (scripts/csim/compare.sh).
 *
 * It reads "<hex address> <R|W>" lines (vmsim's rw format), 4 KiB pages, N frames, and
 * replaces by LRU (a timestamp per frame, the victim found by a scan of the frames) or
 * CLOCK (a reference bit per frame, set on every access, and a hand that clears them
 * until it finds one clear; frames fill in order first). Every miss is a fault that
 * reads the page; evicting a written page writes it. It prints what vmsim run
 * --scheme none calls refs, page_faults and disk_writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { unsigned long page; int dirty; unsigned long last; int ref; } frame;

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: memsim TRACE FRAMES lru|clock\n"); return 2; }
	FILE *f = fopen(argv[1], "r");
	if (!f) { perror(argv[1]); return 2; }
	int n = atoi(argv[2]);
	if (n < 1) { fprintf(stderr, "frames: want 1 or more\n"); return 2; }
	int clock = strcmp(argv[3], "clock") == 0;
	frame *fr = calloc(n, sizeof *fr);
	unsigned long addr, t = 0, reads = 0, writes = 0, events = 0;
	char rw;
	int used = 0, hand = 0;
	while (fscanf(f, "%lx %c", &addr, &rw) == 2) {
		unsigned long page = addr >> 12;
		int i, hit = -1;
		events++;
		t++;
		for (i = 0; i < used; i++)
			if (fr[i].page == page) { hit = i; break; }
		if (hit < 0) {
			reads++;
			if (used < n) hit = used++;
			else if (clock) {
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
		if (rw == 'W' || rw == 'w') fr[hit].dirty = 1;
	}
	if (ferror(f)) { perror(argv[1]); return 2; }
	if (!feof(f)) { fprintf(stderr, "%s: line %lu: not \"<hex address> <R|W>\"\n", argv[1], events + 1); return 2; }
	printf("refs %lu\npage_faults %lu\ndisk_writes %lu\n", events, reads, writes);
	return 0;
}
