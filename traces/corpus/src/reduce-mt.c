/* A multi-threaded kernel with little sharing: 4 threads (pthreads), each filling and
 * summing an array of its own (16,384 doubles, 128 KiB, allocated by the thread), and a
 * shared reduction: after each of its passes a thread adds its partial sum to a global
 * total under a mutex; the main thread reads the total once all are joined.
 * Deterministic up to the order of the additions (the checksum is printed to 3
 * decimals). Built with gcc -O2 -pthread (traces/corpus/record.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
#define LEN 16384
#define PASSES 4

static double total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *work(void *arg) {
	long t = (long)arg;
	double *x = malloc(sizeof(double) * LEN);
	if (!x)
		return (void *)1;
	for (int i = 0; i < LEN; i++)
		x[i] = (double)((i * 7 + t * 13) % 101) / 101.0;
	for (int p = 0; p < PASSES; p++) {
		double part = 0;
		for (int i = 0; i < LEN; i++) {
			x[i] = x[i] * 0.5 + 0.25;
			part += x[i];
		}
		pthread_mutex_lock(&lock);
		total += part;
		pthread_mutex_unlock(&lock);
	}
	free(x);
	return NULL;
}

int main(void) {
	pthread_t th[THREADS];
	for (long t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, work, (void *)t) != 0)
			return 1;
	for (int t = 0; t < THREADS; t++) {
		void *r;
		pthread_join(th[t], &r);
		if (r != NULL)
			return 1;
	}
	printf("%.3f\n", total);
	return 0;
}
