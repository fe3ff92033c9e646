/* Matrix multiply, PolyBench gemm style: C = alpha * A * B + beta * C on
 * N x N doubles, i-k-j loop order. Prints a checksum so that every engine
 * must do all the work and get the same answer. */
#include <stdio.h>
#include "bench.h"

#define N 600

static double A[N][N], B[N][N], C[N][N];

static void init(void) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (double)((i * j + 1) % N) / N;
            B[i][j] = (double)((i * (j + 1) + 2) % N) / N;
            C[i][j] = (double)((i * (j + 2) + 3) % N) / N;
        }
}

static void gemm(double alpha, double beta) {
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++)
            C[i][j] *= beta;
        for (int k = 0; k < N; k++) {
            double a = alpha * A[i][k];
            for (int j = 0; j < N; j++)
                C[i][j] += a * B[k][j];
        }
    }
}

int main(void) {
    init();
    bench_start();
    for (int rep = 0; rep < 6; rep++)
        gemm(1.5, 0.5);
    bench_end();
    double sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            sum += C[i][j] * (double)((i + j) % 7 + 1);
    printf("matmul checksum %.6e\n", sum);
    return 0;
}
