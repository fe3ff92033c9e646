//! SHA-256 blocks with the RISC-V vector SHA-2 instructions (Zvknha or
//! Zvknhb, with Zvkb for the byte swap), for the image seal of large
//! firmware: each `vsha2c[hl]` runs two rounds, so a block takes about 95
//! instructions where the portable code takes about 2,500. Used only where
//! the board declared the extensions (`crate::cpu::riscv_vector_sha256`).
//!
//! With SEW = 32 and vl = 4 each vector register holds four words. The state
//! stays in v6 = {f, e, b, a} and v7 = {h, g, d, c} (element 0 first), the
//! order `vsha2cl`/`vsha2ch` take; the round constants in v16..v31, loaded
//! once; the message schedule in v2..v5, four words each, extended by
//! `vsha2ms` four words at a time. Message bytes are loaded as bytes (no
//! alignment needed: the image's ranges start anywhere) and swapped to
//! big-endian words with `vrev8`.

unsafe extern "C" {
    /// The compression function over `blocks` whole 64-byte blocks at
    /// `data` (see `super::BlockFn`).
    pub(super) fn kiln_sha256_blocks_rvv(
        state: *mut u32,
        data: *const u8,
        blocks: usize,
        k: *const u32,
    );
}

// a0 = state (a..h), a1 = data, a2 = number of blocks (> 0), a3 = K.
// v0 = the merge mask {1, 0, 0, 0}, v1 = byte offsets of the state words,
// v8/v9 = the state before the block, v10/v11 = temporaries.
core::arch::global_asm!(
    // Four rounds with message words `w` and constants `k`; with `next`,
    // `w` becomes the four words after w3 (W[t+16..t+20] from
    // w = W[t..], w1 = W[t+4..], w2 = W[t+8..], w3 = W[t+12..]).
    ".macro KILN_SHA_RVV_ROUNDS4 next, k, w, w1, w2, w3",
    "    vadd.vv v10, \\w, \\k",
    "    vsha2cl.vv v7, v6, v10",
    "    vsha2ch.vv v6, v7, v10",
    ".if \\next",
    // {W[t+11], W[t+10], W[t+9], W[t+4]}: element 0 from w1, the rest from w2.
    "    vmerge.vvm v11, \\w2, \\w1, v0",
    "    vsha2ms.vv \\w, v11, \\w3",
    ".endif",
    ".endm",
    ".pushsection .text.kiln_sha256_blocks_rvv, \"ax\"",
    ".option push",
    ".option arch, +v, +zvknha, +zvkb",
    ".globl kiln_sha256_blocks_rvv",
    ".p2align 2",
    "kiln_sha256_blocks_rvv:",
    "vsetivli zero, 4, e32, m1, ta, ma",
    "vle32.v v16, (a3)",
    "addi a3, a3, 16",
    "vle32.v v17, (a3)",
    "addi a3, a3, 16",
    "vle32.v v18, (a3)",
    "addi a3, a3, 16",
    "vle32.v v19, (a3)",
    "addi a3, a3, 16",
    "vle32.v v20, (a3)",
    "addi a3, a3, 16",
    "vle32.v v21, (a3)",
    "addi a3, a3, 16",
    "vle32.v v22, (a3)",
    "addi a3, a3, 16",
    "vle32.v v23, (a3)",
    "addi a3, a3, 16",
    "vle32.v v24, (a3)",
    "addi a3, a3, 16",
    "vle32.v v25, (a3)",
    "addi a3, a3, 16",
    "vle32.v v26, (a3)",
    "addi a3, a3, 16",
    "vle32.v v27, (a3)",
    "addi a3, a3, 16",
    "vle32.v v28, (a3)",
    "addi a3, a3, 16",
    "vle32.v v29, (a3)",
    "addi a3, a3, 16",
    "vle32.v v30, (a3)",
    "addi a3, a3, 16",
    "vle32.v v31, (a3)",
    "vmv.v.i v0, 1",
    // Byte offsets {20, 16, 4, 0}: from a0 they gather {f, e, b, a}, from
    // a0 + 8 {h, g, d, c}.
    "li t0, 0x00041014",
    "vmv.s.x v1, t0",
    "addi t1, a0, 8",
    "vluxei8.v v6, (a0), v1",
    "vluxei8.v v7, (t1), v1",
    "1:",
    "vmv.v.v v8, v6",
    "vmv.v.v v9, v7",
    "vsetivli zero, 16, e8, m1, ta, ma",
    "vle8.v v2, (a1)",
    "addi a1, a1, 16",
    "vle8.v v3, (a1)",
    "addi a1, a1, 16",
    "vle8.v v4, (a1)",
    "addi a1, a1, 16",
    "vle8.v v5, (a1)",
    "addi a1, a1, 16",
    "vsetivli zero, 4, e32, m1, ta, ma",
    "vrev8.v v2, v2",
    "vrev8.v v3, v3",
    "vrev8.v v4, v4",
    "vrev8.v v5, v5",
    "KILN_SHA_RVV_ROUNDS4 1, v16, v2, v3, v4, v5",
    "KILN_SHA_RVV_ROUNDS4 1, v17, v3, v4, v5, v2",
    "KILN_SHA_RVV_ROUNDS4 1, v18, v4, v5, v2, v3",
    "KILN_SHA_RVV_ROUNDS4 1, v19, v5, v2, v3, v4",
    "KILN_SHA_RVV_ROUNDS4 1, v20, v2, v3, v4, v5",
    "KILN_SHA_RVV_ROUNDS4 1, v21, v3, v4, v5, v2",
    "KILN_SHA_RVV_ROUNDS4 1, v22, v4, v5, v2, v3",
    "KILN_SHA_RVV_ROUNDS4 1, v23, v5, v2, v3, v4",
    "KILN_SHA_RVV_ROUNDS4 1, v24, v2, v3, v4, v5",
    "KILN_SHA_RVV_ROUNDS4 1, v25, v3, v4, v5, v2",
    "KILN_SHA_RVV_ROUNDS4 1, v26, v4, v5, v2, v3",
    "KILN_SHA_RVV_ROUNDS4 1, v27, v5, v2, v3, v4",
    "KILN_SHA_RVV_ROUNDS4 0, v28, v2, v3, v4, v5",
    "KILN_SHA_RVV_ROUNDS4 0, v29, v3, v4, v5, v2",
    "KILN_SHA_RVV_ROUNDS4 0, v30, v4, v5, v2, v3",
    "KILN_SHA_RVV_ROUNDS4 0, v31, v5, v2, v3, v4",
    "vadd.vv v6, v6, v8",
    "vadd.vv v7, v7, v9",
    "addi a2, a2, -1",
    "bnez a2, 1b",
    "vsuxei8.v v6, (a0), v1",
    "vsuxei8.v v7, (t1), v1",
    "ret",
    ".option pop",
    ".popsection",
    ".purgem KILN_SHA_RVV_ROUNDS4",
);
