/* A numeric kernel over a large array: Jacobi sweeps of a 5-point stencil on a
 * 512 x 512 grid of doubles (2 MiB a grid, two grids), the shape of PDE solvers.
 * Deterministic; prints a checksum so the run cannot be optimised away. */
#include <stdio.h>
#include <stdlib.h>

#define N 512
#define SWEEPS 2

int main(void) {
	double *a = malloc(sizeof(double) * N * N), *b = malloc(sizeof(double) * N * N);
	if (!a || !b)
		return 1;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++)
			a[i * N + j] = b[i * N + j] = (i == 0 || j == 0) ? 1.0 : 0.0;
	for (int s = 0; s < SWEEPS; s++) {
		for (int i = 1; i < N - 1; i++)
			for (int j = 1; j < N - 1; j++)
				b[i * N + j] = 0.25 * (a[(i - 1) * N + j] + a[(i + 1) * N + j] + a[i * N + j - 1] + a[i * N + j + 1]);
		double *t = a;
		a = b;
		b = t;
	}
	double sum = 0;
	for (int i = 0; i < N * N; i++)
		sum += a[i];
	printf("%.6f\n", sum);
	return 0;
}
