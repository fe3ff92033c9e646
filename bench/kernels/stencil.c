/* A 2-D Jacobi stencil, PolyBench jacobi-2d style: two N x N grids of
 * doubles, each step averages the five-point neighbourhood of every inner
 * point into the other grid. Prints a checksum. */
#include <stdio.h>
#include "bench.h"

#define N 1000
#define STEPS 200

static double A[N][N], B[N][N];

static void init(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = ((double)i * (j + 2) + 2) / N;
            B[i][j] = ((double)i * (j + 3) + 3) / N;
        }
}

static void jacobi(void) {
    for (int t = 0; t < STEPS; t++) {
        for (int i = 1; i < N - 1; i++)
            for (int j = 1; j < N - 1; j++)
                B[i][j] = 0.2 * (A[i][j] + A[i][j - 1] + A[i][j + 1] + A[i + 1][j] + A[i - 1][j]);
        for (int i = 1; i < N - 1; i++)
            for (int j = 1; j < N - 1; j++)
                A[i][j] = 0.2 * (B[i][j] + B[i][j - 1] + B[i][j + 1] + B[i + 1][j] + B[i - 1][j]);
    }
}

int main(void) {
    init();
    bench_start();
    jacobi();
    bench_end();
    double sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum += A[i][j];
    printf("stencil checksum %.6e\n", sum);
    return 0;
}
