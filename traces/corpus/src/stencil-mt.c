/* A multi-threaded numeric kernel with shared data: Jacobi sweeps of a 5-point stencil
 * on a 128 x 128 grid of doubles shared by 4 threads (pthreads), each updating a band of
 * 32 rows. A thread's first and last rows need its neighbours' boundary rows (the halo),
 * which it reads from the shared grid where the neighbours wrote them in the sweep
 * before; a barrier ends every sweep, so that no thread reads a row being written.
 * Deterministic; prints a checksum so the run cannot be optimised away.
 * Built with gcc -O2 -pthread (traces/corpus/record.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N 128
#define THREADS 4
#define SWEEPS 8

static double *grid[2];
static pthread_barrier_t barrier;

static void *sweep(void *arg) {
	long t = (long)arg;
	int lo = t * (N / THREADS), hi = lo + N / THREADS;
	if (lo == 0)
		lo = 1; /* the grid's edges stay fixed */
	if (hi == N)
		hi = N - 1;
	for (int s = 0; s < SWEEPS; s++) {
		const double *a = grid[s & 1];
		double *b = grid[(s + 1) & 1];
		for (int i = lo; i < hi; i++)
			for (int j = 1; j < N - 1; j++)
				b[i * N + j] = 0.25 * (a[(i - 1) * N + j] + a[(i + 1) * N + j] + a[i * N + j - 1] + a[i * N + j + 1]);
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

int main(void) {
	for (int g = 0; g < 2; g++) {
		grid[g] = malloc(sizeof(double) * N * N);
		if (!grid[g])
			return 1;
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				grid[g][i * N + j] = (i == 0 || j == 0) ? 1.0 : 0.0;
	}
	pthread_barrier_init(&barrier, NULL, THREADS);
	pthread_t th[THREADS];
	for (long t = 0; t < THREADS; t++)
		if (pthread_create(&th[t], NULL, sweep, (void *)t) != 0)
			return 1;
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	double sum = 0;
	for (int i = 0; i < N * N; i++)
		sum += grid[SWEEPS & 1][i];
	printf("%.6f\n", sum);
	return 0;
}
