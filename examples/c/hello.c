/* A small WASI program in C: prints its arguments, an environment
 * variable, the time and a few random bytes, then exits with status 0.
 * Build: python3 -m ziglang cc -target wasm32-wasi -O2 -s hello.c -o hello.wasm */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    printf("Hello from C on Kiln!\n");
    for (int i = 0; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]);
    const char *who = getenv("WHO");
    printf("WHO = %s\n", who ? who : "(not set)");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("the clock says %lld seconds since 1970\n", (long long)ts.tv_sec);
    unsigned char r[4];
    getentropy(r, sizeof r);
    printf("random bytes: %02x%02x%02x%02x\n", r[0], r[1], r[2], r[3]);
    return 0;
}
