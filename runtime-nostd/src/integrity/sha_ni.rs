//! SHA-256 blocks with the x86 SHA extensions (SHA-NI), for the image seal
//! of large firmware: CPython's 26 MB took 80 ms to hash in portable code
//! at every start. Assembly rather than intrinsics because Kiln's x86_64
//! boards build for a soft-float target, where Rust cannot use SSE
//! registers; the CPU's features are checked with CPUID before each use.
//!
//! The state lives in two registers as SHA-NI wants it: xmm1 = ABEF,
//! xmm2 = CDGH. Each group of four rounds adds the round constants to four
//! message words in xmm0 and runs `sha256rnds2` twice; the message
//! schedule (`sha256msg1`, the W[t-7] term, `sha256msg2`) rotates through
//! xmm3..xmm6.

use core::arch::x86_64::{__cpuid, __cpuid_count};

/// Whether this CPU has SHA-NI with SSSE3 and SSE4.1 (`pshufb`, `palignr`,
/// `pblendw`).
pub fn available() -> bool {
    let leaf1 = __cpuid(1).ecx;
    let (ssse3, sse41) = (leaf1 & (1 << 9) != 0, leaf1 & (1 << 19) != 0);
    ssse3 && sse41 && __cpuid(0).eax >= 7 && __cpuid_count(7, 0).ebx & (1 << 29) != 0
}

unsafe extern "C" {
    /// The compression function over `blocks` whole 64-byte blocks at
    /// `data` (see `super::BlockFn`).
    pub(super) fn kiln_sha256_blocks_ni(
        state: *mut u32,
        data: *const u8,
        blocks: usize,
        k: *const u32,
    );
}

// rdi = state (a..h), rsi = data, rdx = number of blocks, rcx = K (16-byte
// aligned: `paddd` with a memory operand needs it).
core::arch::global_asm!(
    ".macro KILN_SHA_ROUNDS4 msg, k",
    "    movdqa xmm0, \\msg",
    "    paddd xmm0, xmmword ptr [rcx + \\k]",
    "    sha256rnds2 xmm2, xmm1",
    "    pshufd xmm0, xmm0, 0x0e",
    "    sha256rnds2 xmm1, xmm2",
    ".endm",
    // w0 := the next four words from w0 = W[t-16..], w1 = W[t-12..],
    // w2 = W[t-8..], w3 = W[t-4..].
    ".macro KILN_SHA_SCHEDULE w0, w1, w2, w3",
    "    sha256msg1 \\w0, \\w1",
    "    movdqa xmm8, \\w3",
    "    palignr xmm8, \\w2, 4",
    "    paddd \\w0, xmm8",
    "    sha256msg2 \\w0, \\w3",
    ".endm",
    ".macro KILN_SHA_GROUP w0, w1, w2, w3, k",
    "    KILN_SHA_SCHEDULE \\w0, \\w1, \\w2, \\w3",
    "    KILN_SHA_ROUNDS4 \\w0, \\k",
    ".endm",
    ".pushsection .text.kiln_sha256_blocks_ni, \"ax\"",
    ".globl kiln_sha256_blocks_ni",
    ".p2align 4",
    "kiln_sha256_blocks_ni:",
    "    test rdx, rdx",
    "    jz 2f",
    // DCBA, HGFE -> ABEF, CDGH.
    "    movdqu xmm1, xmmword ptr [rdi]",
    "    movdqu xmm2, xmmword ptr [rdi + 16]",
    "    pshufd xmm1, xmm1, 0xb1",
    "    pshufd xmm2, xmm2, 0x1b",
    "    movdqa xmm7, xmm1",
    "    palignr xmm1, xmm2, 8",
    "    pblendw xmm2, xmm7, 0xf0",
    // Byte order of each message word: big-endian.
    "    movdqu xmm9, xmmword ptr [rip + .Lkiln_sha256_byte_order]",
    "1:",
    "    movdqa xmm10, xmm1",
    "    movdqa xmm11, xmm2",
    "    movdqu xmm3, xmmword ptr [rsi]",
    "    movdqu xmm4, xmmword ptr [rsi + 16]",
    "    movdqu xmm5, xmmword ptr [rsi + 32]",
    "    movdqu xmm6, xmmword ptr [rsi + 48]",
    "    pshufb xmm3, xmm9",
    "    pshufb xmm4, xmm9",
    "    pshufb xmm5, xmm9",
    "    pshufb xmm6, xmm9",
    "    KILN_SHA_ROUNDS4 xmm3, 0",
    "    KILN_SHA_ROUNDS4 xmm4, 16",
    "    KILN_SHA_ROUNDS4 xmm5, 32",
    "    KILN_SHA_ROUNDS4 xmm6, 48",
    "    KILN_SHA_GROUP xmm3, xmm4, xmm5, xmm6, 64",
    "    KILN_SHA_GROUP xmm4, xmm5, xmm6, xmm3, 80",
    "    KILN_SHA_GROUP xmm5, xmm6, xmm3, xmm4, 96",
    "    KILN_SHA_GROUP xmm6, xmm3, xmm4, xmm5, 112",
    "    KILN_SHA_GROUP xmm3, xmm4, xmm5, xmm6, 128",
    "    KILN_SHA_GROUP xmm4, xmm5, xmm6, xmm3, 144",
    "    KILN_SHA_GROUP xmm5, xmm6, xmm3, xmm4, 160",
    "    KILN_SHA_GROUP xmm6, xmm3, xmm4, xmm5, 176",
    "    KILN_SHA_GROUP xmm3, xmm4, xmm5, xmm6, 192",
    "    KILN_SHA_GROUP xmm4, xmm5, xmm6, xmm3, 208",
    "    KILN_SHA_GROUP xmm5, xmm6, xmm3, xmm4, 224",
    "    KILN_SHA_GROUP xmm6, xmm3, xmm4, xmm5, 240",
    "    paddd xmm1, xmm10",
    "    paddd xmm2, xmm11",
    "    add rsi, 64",
    "    dec rdx",
    "    jnz 1b",
    // ABEF, CDGH -> DCBA, HGFE.
    "    pshufd xmm1, xmm1, 0x1b",
    "    pshufd xmm2, xmm2, 0xb1",
    "    movdqa xmm7, xmm1",
    "    pblendw xmm1, xmm2, 0xf0",
    "    palignr xmm2, xmm7, 8",
    "    movdqu xmmword ptr [rdi], xmm1",
    "    movdqu xmmword ptr [rdi + 16], xmm2",
    "2:",
    "    ret",
    ".popsection",
    ".pushsection .rodata.kiln_sha256_byte_order, \"a\"",
    ".p2align 4",
    ".Lkiln_sha256_byte_order:",
    "    .quad 0x0405060700010203, 0x0c0d0e0f08090a0b",
    ".purgem KILN_SHA_ROUNDS4",
    ".purgem KILN_SHA_SCHEDULE",
    ".purgem KILN_SHA_GROUP",
    ".popsection",
);
