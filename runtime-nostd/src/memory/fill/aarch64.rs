//! `memory.fill` on aarch64: a memset through NEON registers (see
//! [`super`] for why and for the measurements).
//!
//! The byte is broadcast to v0 (and to x6 for fills below 16 bytes). Up to
//! 128 bytes: a few overlapping stores from both ends (`strb` for 1-3
//! bytes, two `str w`, two `str x`, two `str q`, two or four `stp q`).
//! Longer: one unaligned `q` at the start, a loop of 64 bytes per iteration
//! with stores aligned to 16, and two `stp q` that end at the last byte.
//! Unaligned stores are fine for the reasons given in `copy/aarch64.rs`.

// AAPCS64: x0 = dst, w1 = value (low byte), x2 = len.
core::arch::global_asm!(
    ".pushsection .text.kiln_memset_neon, \"ax\"",
    ".globl kiln_memset_neon",
    ".p2align 4",
    "kiln_memset_neon:",
    "dup v0.16b, w1",
    "add x5, x0, x2", // end
    "cmp x2, #16",
    "b.lo .Laf_small",
    "cmp x2, #32",
    "b.hi .Laf_above_2",
    "str q0, [x0]",
    "str q0, [x5, #-16]",
    "ret",
    ".Laf_above_2:",
    "cmp x2, #64",
    "b.hi .Laf_above_4",
    "stp q0, q0, [x0]",
    "stp q0, q0, [x5, #-32]",
    "ret",
    ".Laf_above_4:",
    "cmp x2, #128",
    "b.hi .Laf_above_8",
    "stp q0, q0, [x0]",
    "stp q0, q0, [x0, #32]",
    "stp q0, q0, [x5, #-64]",
    "stp q0, q0, [x5, #-32]",
    "ret",
    ".Laf_above_8:",
    "str q0, [x0]",
    "add x6, x0, #16",
    "and x6, x6, #-16", // first aligned store, 1..16 bytes in
    "sub x8, x5, #64",  // the last 64 bytes are stored after the loop
    ".Laf_loop:",
    "stp q0, q0, [x6, #32]",
    "stp q0, q0, [x6], #64",
    "cmp x6, x8",
    "b.lo .Laf_loop",
    "stp q0, q0, [x5, #-64]",
    "stp q0, q0, [x5, #-32]",
    "ret",
    // Below 16 bytes: two overlapping stores of the widest size.
    ".Laf_small:",
    "fmov x6, d0",
    "cmp x2, #8",
    "b.lo .Laf_below_8",
    "str x6, [x0]",
    "str x6, [x5, #-8]",
    "ret",
    ".Laf_below_8:",
    "cmp x2, #4",
    "b.lo .Laf_below_4",
    "str w6, [x0]",
    "str w6, [x5, #-4]",
    "ret",
    ".Laf_below_4:",
    "cbz x2, .Laf_done",
    // 1..3 bytes: the first, the middle (len / 2) and the last.
    "lsr x3, x2, #1",
    "strb w1, [x0]",
    "strb w1, [x0, x3]",
    "strb w1, [x5, #-1]",
    ".Laf_done:",
    "ret",
    ".popsection",
);

unsafe extern "C" {
    /// Sets `len` bytes at `dst` to `value`.
    pub(super) fn kiln_memset_neon(dst: *mut u8, value: u8, len: usize);
}
