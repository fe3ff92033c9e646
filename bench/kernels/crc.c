/* Byte-at-a-time loops over a buffer: table-driven CRC-32 (IEEE), FNV-1a
 * 32-bit and a 64-bit multiply-rotate hash, several passes over 4 MiB of
 * pseudo-random bytes. Prints the results. */
#include <stdint.h>
#include <stdio.h>
#include "bench.h"

#define SIZE (4u << 20)
#define PASSES 24

static uint8_t data[SIZE];
static uint32_t table[256];

static void init(void) {
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data[i] = (uint8_t)x;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, uint32_t n, uint32_t crc) {
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t fnv1a(const uint8_t *p, uint32_t n, uint32_t h) {
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint64_t mix64(const uint8_t *p, uint32_t n, uint64_t h) {
    for (uint32_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        for (int k = 0; k < 8; k++)
            w |= (uint64_t)p[i + k] << (8 * k);
        h ^= w * 0x9e3779b97f4a7c15ull;
        h = (h << 31) | (h >> 33);
        h *= 0xff51afd7ed558ccdull;
    }
    return h;
}

int main(void) {
    init();
    uint32_t crc = 0, fnv = 2166136261u;
    uint64_t mix = 0;
    bench_start();
    for (int pass = 0; pass < PASSES; pass++) {
        crc = crc32(data, SIZE, crc);
        fnv = fnv1a(data, SIZE, fnv);
        mix = mix64(data, SIZE, mix + (uint64_t)pass);
    }
    bench_end();
    printf("crc32 %08x fnv1a %08x mix64 %016llx\n", crc, fnv, (unsigned long long)mix);
    return 0;
}
