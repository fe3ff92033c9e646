/* The timed region of a kernel: `bench_start()` .. `bench_end()`.
 *
 * Built for WebAssembly, these are the `bench.start` / `bench.end` imports
 * that Kiln (`kiln run --bench`) and the harness's Wasmtime runner time.
 * Built natively (gcc -O2), they read CLOCK_MONOTONIC and print the region's
 * length on stderr as `native: bench SECONDS s`, which bench/run.py parses. */
#ifndef KILN_BENCH_H
#define KILN_BENCH_H

#ifdef __wasm__
__attribute__((import_module("bench"), import_name("start"))) void bench_start(void);
__attribute__((import_module("bench"), import_name("end"))) void bench_end(void);
#else
#include <stdio.h>
#include <time.h>
static struct timespec bench_t0;
static void bench_start(void) { clock_gettime(CLOCK_MONOTONIC, &bench_t0); }
static void bench_end(void) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - bench_t0.tv_sec) + (double)(t1.tv_nsec - bench_t0.tv_nsec) * 1e-9;
    fprintf(stderr, "native: bench %.9f s\n", s);
}
#endif

#endif
