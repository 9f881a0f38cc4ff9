/* lrulist: a page-replacement simulator as an operating-systems course project writes one,
 * kept apart from vmsim's code: LRU on a doubly linked list of the resident pages, most
 * recently used first. An access looks the page up by walking the list from its head; a
 * hit moves the page's node to the head; a miss is a fault that reads the page, and with
 * every frame in use it evicts the tail (writing it if it was written) and reuses its
 * node. It reads "<hex address> <R|W>" lines (vmsim's rw format) with fscanf, 4 KiB
 * pages, and prints what vmsim run --scheme none --replace lru calls refs, page_faults
 * and disk_writes (scripts/csim/compare.sh checks they agree).
 *
 *	lrulist TRACE FRAMES */
#include <stdio.h>
#include <stdlib.h>

struct node {
	unsigned long page;
	int dirty;
	struct node *prev, *next;
};

static struct node *head, *tail;

static void unlink_node(struct node *x) {
	if (x->prev) x->prev->next = x->next; else head = x->next;
	if (x->next) x->next->prev = x->prev; else tail = x->prev;
}

static void push_front(struct node *x) {
	x->prev = NULL;
	x->next = head;
	if (head) head->prev = x; else tail = x;
	head = x;
}

int main(int argc, char **argv) {
	if (argc != 3) { fprintf(stderr, "usage: lrulist TRACE FRAMES\n"); return 2; }
	FILE *f = fopen(argv[1], "r");
	if (!f) { perror(argv[1]); return 2; }
	int frames = atoi(argv[2]);
	if (frames < 1) { fprintf(stderr, "frames: want 1 or more\n"); return 2; }
	int used = 0;
	unsigned long addr, refs = 0, faults = 0, writes = 0;
	char rw;
	while (fscanf(f, "%lx %c", &addr, &rw) == 2) {
		unsigned long page = addr >> 12;
		struct node *x;
		refs++;
		for (x = head; x; x = x->next)
			if (x->page == page) break;
		if (x) {
			unlink_node(x);
		} else {
			faults++;
			if (used < frames) {
				x = malloc(sizeof *x);
				if (!x) { perror("malloc"); return 2; }
				used++;
			} else {
				x = tail;
				unlink_node(x);
				if (x->dirty) writes++;
			}
			x->page = page;
			x->dirty = 0;
		}
		push_front(x);
		if (rw == 'W' || rw == 'w') x->dirty = 1;
	}
	if (ferror(f)) { perror(argv[1]); return 2; }
	if (!feof(f)) { fprintf(stderr, "%s: line %lu: not \"<hex address> <R|W>\"\n", argv[1], refs + 1); return 2; }
	printf("refs %lu\npage_faults %lu\ndisk_writes %lu\n", refs, faults, writes);
	return 0;
}
