//! `memory.copy` on aarch64: a memmove through NEON registers, 16 bytes
//! per `q` register, two per `ldp`/`stp` (see [`super`] for why and for
//! the measurements).
//!
//! Size classes, where every byte of the source is loaded before any is
//! stored (any overlap is safe, no loop, no byte tail): 0-3 bytes (first,
//! middle and last byte), 4-7 (two words), 8-15 (two doublewords), 16-32
//! (two `q`), 33-64 (two `ldp`), 65-128 (four `ldp`). Longer copies load
//! the first 16 and last 64 bytes (forward) or the first 64 and last 16
//! (backward) first, move 64 bytes per iteration with stores aligned to 16
//! in the direction that never overwrites bytes still to be read, and store
//! the bytes loaded first last.
//!
//! Unaligned `ldr`/`ldp` are fine: every board maps memory as Normal with
//! SCTLR_EL1.A clear (the QEMU board's boot code; Linux does the same for
//! user space), which compiled Wasm code relies on too. The runtime is
//! built for `aarch64-unknown-none`, whose Rust code may use NEON; the
//! copy is assembly all the same so that its registers and loop are
//! exactly these and LLVM cannot turn it back into a call of the
//! `memmove` it replaces. Only caller-saved registers are used (x3-x8,
//! v0-v7, v16): d8-d15 are callee-saved in AAPCS64.

// AAPCS64: x0 = dst, x1 = src, x2 = len.
core::arch::global_asm!(
    ".pushsection .text.kiln_memmove_neon, \"ax\"",
    ".globl kiln_memmove_neon",
    ".p2align 4",
    "kiln_memmove_neon:",
    "add x4, x1, x2", // source end
    "add x5, x0, x2", // destination end
    "cmp x2, #16",
    "b.lo .Lam_small",
    "cmp x2, #32",
    "b.hi .Lam_above_2",
    "ldr q0, [x1]",
    "ldr q1, [x4, #-16]",
    "str q0, [x0]",
    "str q1, [x5, #-16]",
    "ret",
    ".Lam_above_2:",
    "cmp x2, #64",
    "b.hi .Lam_above_4",
    "ldp q0, q1, [x1]",
    "ldp q2, q3, [x4, #-32]",
    "stp q0, q1, [x0]",
    "stp q2, q3, [x5, #-32]",
    "ret",
    ".Lam_above_4:",
    "cmp x2, #128",
    "b.hi .Lam_above_8",
    "ldp q0, q1, [x1]",
    "ldp q2, q3, [x1, #32]",
    "ldp q4, q5, [x4, #-64]",
    "ldp q6, q7, [x4, #-32]",
    "stp q0, q1, [x0]",
    "stp q2, q3, [x0, #32]",
    "stp q4, q5, [x5, #-64]",
    "stp q6, q7, [x5, #-32]",
    "ret",
    ".Lam_above_8:",
    "sub x3, x0, x1",
    "cmp x3, x2",
    "b.lo .Lam_backward", // src <= dst < src + len: copy from the end
    // Forward: first 16 and last 64 bytes now, aligned stores between.
    "ldr q16, [x1]",
    "ldp q4, q5, [x4, #-64]",
    "ldp q6, q7, [x4, #-32]",
    "add x6, x0, #16",
    "and x6, x6, #-16", // first aligned store, 1..16 bytes in
    "sub x7, x6, x0",
    "add x1, x1, x7",  // the source of x6
    "sub x8, x5, #64", // the last 64 bytes are stored from q4-q7
    ".Lam_forward_loop:",
    "ldp q2, q3, [x1, #32]",
    "ldp q0, q1, [x1], #64",
    "stp q2, q3, [x6, #32]",
    "stp q0, q1, [x6], #64",
    "cmp x6, x8",
    "b.lo .Lam_forward_loop",
    "stp q4, q5, [x5, #-64]",
    "stp q6, q7, [x5, #-32]",
    "str q16, [x0]",
    "ret",
    // Backward: last 16 and first 64 bytes now, aligned stores between.
    ".Lam_backward:",
    "ldr q16, [x4, #-16]",
    "ldp q4, q5, [x1]",
    "ldp q6, q7, [x1, #32]",
    "and x6, x5, #-16", // end of the last aligned store, 0..15 bytes before the end
    "sub x7, x5, x6",
    "sub x4, x4, x7",  // the source end matching x6
    "add x8, x0, #64", // the first 64 bytes are stored from q4-q7
    ".Lam_backward_loop:",
    "ldp q0, q1, [x4, #-32]",
    "ldp q2, q3, [x4, #-64]!",
    "stp q0, q1, [x6, #-32]",
    "stp q2, q3, [x6, #-64]!",
    "cmp x6, x8",
    "b.hi .Lam_backward_loop",
    "stp q4, q5, [x0]",
    "stp q6, q7, [x0, #32]",
    "str q16, [x5, #-16]",
    "ret",
    // Below 16 bytes: two overlapping loads of the widest size, then stores.
    ".Lam_small:",
    "cmp x2, #8",
    "b.lo .Lam_below_8",
    "ldr x6, [x1]",
    "ldr x7, [x4, #-8]",
    "str x6, [x0]",
    "str x7, [x5, #-8]",
    "ret",
    ".Lam_below_8:",
    "cmp x2, #4",
    "b.lo .Lam_below_4",
    "ldr w6, [x1]",
    "ldr w7, [x4, #-4]",
    "str w6, [x0]",
    "str w7, [x5, #-4]",
    "ret",
    ".Lam_below_4:",
    "cbz x2, .Lam_done",
    // 1..3 bytes: the first, the middle (len / 2) and the last.
    "lsr x3, x2, #1",
    "ldrb w6, [x1]",
    "ldrb w7, [x1, x3]",
    "ldrb w8, [x4, #-1]",
    "strb w6, [x0]",
    "strb w7, [x0, x3]",
    "strb w8, [x5, #-1]",
    ".Lam_done:",
    "ret",
    ".popsection",
);

unsafe extern "C" {
    /// Copies `len` bytes from `src` to `dst`; the ranges may overlap.
    pub(super) fn kiln_memmove_neon(dst: *mut u8, src: *const u8, len: usize);
}
