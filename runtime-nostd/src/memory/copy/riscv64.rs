//! `memory.copy` on riscv64: a memmove through 64-bit general registers
//! (RV64GC, every core), and one through vector registers for cores whose
//! board declares the V extension; see [`super`] for why and for the
//! measurements. The scalar version:
//!
//! Size classes, where every byte of the source is loaded before any is
//! stored (any overlap is safe, no loop, no byte tail): 0-3 bytes (first,
//! middle and last byte), 4-7 (two words), 8-16 (two doublewords), 17-32
//! (four), 33-64 (eight). Longer copies load the first doubleword and the
//! last 32 bytes (forward) or the first 32 bytes and the last doubleword
//! (backward) first, move 32 bytes per iteration with stores aligned to 8
//! in the direction that never overwrites bytes still to be read, and store
//! the bytes loaded first last.
//!
//! Misaligned accesses: compiled Wasm code makes them wherever the program
//! does, so a board needs a core that does them, in hardware (QEMU does)
//! or through a trap handler that emulates them (slowly; the QEMU board's
//! firmware has none). The size classes and the head and tail of long
//! copies use them freely, a few per call; the loops of long copies never
//! do, since misaligned accesses are slow on many cores that have them. When the source is not
//! aligned like the destination, the loop loads aligned doublewords and
//! joins each neighbouring pair with shifts (`(lo >> 8k) | (hi << (64 -
//! 8k))`), 23 instructions per 32 bytes instead of 11. Those aligned loads
//! may read up to 7 bytes beyond either end of the source, never beyond the
//! aligned doubleword holding its first or last byte, so never another page.
//! That path needs two registers more than the caller-saved ones and saves
//! s0 and s1 on the stack.

// RISC-V psABI: a0 = dst, a1 = src, a2 = len; a0-a7 and t0-t6 are
// caller-saved, s0 and s1 callee-saved.
core::arch::global_asm!(
    ".pushsection .text.kiln_memmove_rv64, \"ax\"",
    ".globl kiln_memmove_rv64",
    ".p2align 2",
    "kiln_memmove_rv64:",
    "add a3, a1, a2", // source end
    "add a4, a0, a2", // destination end
    "li t0, 8",
    "bltu a2, t0, .Lrm_small",
    "li t0, 16",
    "bltu t0, a2, .Lrm_above_2",
    "ld t1, 0(a1)",
    "ld t2, -8(a3)",
    "sd t1, 0(a0)",
    "sd t2, -8(a4)",
    "ret",
    ".Lrm_above_2:",
    "li t0, 32",
    "bltu t0, a2, .Lrm_above_4",
    "ld t1, 0(a1)",
    "ld t2, 8(a1)",
    "ld t3, -16(a3)",
    "ld t4, -8(a3)",
    "sd t1, 0(a0)",
    "sd t2, 8(a0)",
    "sd t3, -16(a4)",
    "sd t4, -8(a4)",
    "ret",
    ".Lrm_above_4:",
    "li t0, 64",
    "bltu t0, a2, .Lrm_long",
    "ld t1, 0(a1)",
    "ld t2, 8(a1)",
    "ld t3, 16(a1)",
    "ld t4, 24(a1)",
    "ld t5, -32(a3)",
    "ld t6, -24(a3)",
    "ld a5, -16(a3)",
    "ld a6, -8(a3)",
    "sd t1, 0(a0)",
    "sd t2, 8(a0)",
    "sd t3, 16(a0)",
    "sd t4, 24(a0)",
    "sd t5, -32(a4)",
    "sd t6, -24(a4)",
    "sd a5, -16(a4)",
    "sd a6, -8(a4)",
    "ret",
    ".Lrm_long:",
    "sub t0, a0, a1",
    "bltu t0, a2, .Lrm_backward", // src <= dst < src + len: copy from the end
    // Forward: the first doubleword (a7) and the last 32 bytes (t3-t6) now.
    "ld a7, 0(a1)",
    "ld t3, -32(a3)",
    "ld t4, -24(a3)",
    "ld t5, -16(a3)",
    "ld t6, -8(a3)",
    "addi a5, a0, 8",
    "andi a5, a5, -8", // d: first aligned store, 1..8 bytes in
    "sub t0, a5, a0",
    "add a1, a1, t0",   // s: the source of d
    "addi a6, a4, -32", // the last 32 bytes are stored from t3-t6
    "andi t0, a1, 7",
    "bnez t0, .Lrm_forward_shifted",
    ".Lrm_forward_loop:",
    "ld t0, 0(a1)",
    "ld t1, 8(a1)",
    "ld t2, 16(a1)",
    "ld a2, 24(a1)",
    "sd t0, 0(a5)",
    "sd t1, 8(a5)",
    "sd t2, 16(a5)",
    "sd a2, 24(a5)",
    "addi a1, a1, 32",
    "addi a5, a5, 32",
    "bltu a5, a6, .Lrm_forward_loop",
    ".Lrm_forward_end:",
    "sd t3, 0(a6)",
    "sd t4, 8(a6)",
    "sd t5, 16(a6)",
    "sd t6, 24(a6)",
    "sd a7, 0(a0)",
    "ret",
    // The source is k = s & 7 bytes past an aligned doubleword: each
    // destination doubleword joins two aligned source ones, the lower one
    // shifted right by 8k and the upper one left by 64 - 8k. t2 carries the
    // last one loaded, already shifted, to the next iteration.
    ".Lrm_forward_shifted:",
    "addi sp, sp, -16",
    "sd s0, 0(sp)",
    "sd s1, 8(sp)",
    "slli t0, t0, 3", // 8k
    "neg t1, t0",     // 64 - 8k: shifts use the low 6 bits
    "andi a1, a1, -8",
    "ld t2, 0(a1)",
    "srl t2, t2, t0",
    ".Lrm_forward_shifted_loop:",
    "ld a2, 8(a1)",
    "ld a3, 16(a1)",
    "ld a4, 24(a1)",
    "ld s0, 32(a1)",
    "sll s1, a2, t1",
    "or t2, t2, s1",
    "srl a2, a2, t0",
    "sll s1, a3, t1",
    "or a2, a2, s1",
    "srl a3, a3, t0",
    "sll s1, a4, t1",
    "or a3, a3, s1",
    "srl a4, a4, t0",
    "sll s1, s0, t1",
    "or a4, a4, s1",
    "sd t2, 0(a5)",
    "sd a2, 8(a5)",
    "sd a3, 16(a5)",
    "sd a4, 24(a5)",
    "srl t2, s0, t0",
    "addi a1, a1, 32",
    "addi a5, a5, 32",
    "bltu a5, a6, .Lrm_forward_shifted_loop",
    "ld s0, 0(sp)",
    "ld s1, 8(sp)",
    "addi sp, sp, 16",
    "j .Lrm_forward_end",
    // Backward: the first 32 bytes (t3-t6) and the last doubleword (a7) now.
    ".Lrm_backward:",
    "ld a7, -8(a3)",
    "ld t3, 0(a1)",
    "ld t4, 8(a1)",
    "ld t5, 16(a1)",
    "ld t6, 24(a1)",
    "andi a5, a4, -8", // d: end of the last aligned store, 0..7 bytes before the end
    "sub t0, a4, a5",
    "sub a3, a3, t0",  // s: the source end matching d
    "addi a6, a0, 32", // the first 32 bytes are stored from t3-t6
    "andi t0, a3, 7",
    "bnez t0, .Lrm_backward_shifted",
    ".Lrm_backward_loop:",
    "ld t0, -8(a3)",
    "ld t1, -16(a3)",
    "ld t2, -24(a3)",
    "ld a2, -32(a3)",
    "sd t0, -8(a5)",
    "sd t1, -16(a5)",
    "sd t2, -24(a5)",
    "sd a2, -32(a5)",
    "addi a3, a3, -32",
    "addi a5, a5, -32",
    "bltu a6, a5, .Lrm_backward_loop",
    ".Lrm_backward_end:",
    "sd t3, -32(a6)",
    "sd t4, -24(a6)",
    "sd t5, -16(a6)",
    "sd t6, -8(a6)",
    "sd a7, -8(a4)",
    "ret",
    // As forward, from the top: the carried doubleword (t2, already
    // shifted) is the upper one of each pair. a4 (the destination end) must survive for the last
    // store; a0 is free (a6 - 32 is the destination).
    ".Lrm_backward_shifted:",
    "addi sp, sp, -16",
    "sd s0, 0(sp)",
    "sd s1, 8(sp)",
    "slli t0, t0, 3", // 8k
    "neg t1, t0",     // 64 - 8k
    "andi a3, a3, -8",
    "ld t2, 0(a3)",
    "sll t2, t2, t1",
    ".Lrm_backward_shifted_loop:",
    "ld a2, -8(a3)",
    "ld a0, -16(a3)",
    "ld a1, -24(a3)",
    "ld s0, -32(a3)",
    "srl s1, a2, t0",
    "or t2, t2, s1",
    "sll a2, a2, t1",
    "srl s1, a0, t0",
    "or a2, a2, s1",
    "sll a0, a0, t1",
    "srl s1, a1, t0",
    "or a0, a0, s1",
    "sll a1, a1, t1",
    "srl s1, s0, t0",
    "or a1, a1, s1",
    "sd t2, -8(a5)",
    "sd a2, -16(a5)",
    "sd a0, -24(a5)",
    "sd a1, -32(a5)",
    "sll t2, s0, t1",
    "addi a3, a3, -32",
    "addi a5, a5, -32",
    "bltu a6, a5, .Lrm_backward_shifted_loop",
    "ld s0, 0(sp)",
    "ld s1, 8(sp)",
    "addi sp, sp, 16",
    "j .Lrm_backward_end",
    // Below 8 bytes: two overlapping words, or single bytes.
    ".Lrm_small:",
    "li t0, 4",
    "bltu a2, t0, .Lrm_below_4",
    "lw t1, 0(a1)",
    "lw t2, -4(a3)",
    "sw t1, 0(a0)",
    "sw t2, -4(a4)",
    "ret",
    ".Lrm_below_4:",
    "beqz a2, .Lrm_done",
    // 1..3 bytes: the first, the middle (len / 2) and the last.
    "srli t0, a2, 1",
    "add t3, a1, t0",
    "add t4, a0, t0",
    "lbu t1, 0(a1)",
    "lbu t3, 0(t3)",
    "lbu t2, -1(a3)",
    "sb t1, 0(a0)",
    "sb t3, 0(t4)",
    "sb t2, -1(a4)",
    ".Lrm_done:",
    "ret",
    ".popsection",
);

// With the V extension: `vsetvli` with e8 and LMUL = 8 takes as many bytes
// as eight vector registers hold (128 at VLEN = 128), any alignment, and the
// last partial group needs no tail code. Each group is loaded whole before
// it is stored, so the copy runs in the direction that never overwrites
// unread bytes, like the scalar loops: forward unless src <= dst < src + len.
// v0-v7 and `vl`/`vtype` are caller-saved (Cranelift sets `vtype` again after
// every call).
core::arch::global_asm!(
    ".pushsection .text.kiln_memmove_rvv, \"ax\"",
    ".option push",
    ".option arch, +v",
    ".globl kiln_memmove_rvv",
    ".p2align 2",
    "kiln_memmove_rvv:",
    "sub t0, a0, a1",
    "bltu t0, a2, .Lrv_backward",
    ".Lrv_forward:",
    "vsetvli t0, a2, e8, m8, ta, ma",
    "vle8.v v0, (a1)",
    "vse8.v v0, (a0)",
    "add a1, a1, t0",
    "add a0, a0, t0",
    "sub a2, a2, t0",
    "bnez a2, .Lrv_forward",
    "ret",
    ".Lrv_backward:",
    "add a1, a1, a2",
    "add a0, a0, a2",
    ".Lrv_backward_loop:",
    "vsetvli t0, a2, e8, m8, ta, ma",
    "sub a1, a1, t0",
    "sub a0, a0, t0",
    "vle8.v v0, (a1)",
    "vse8.v v0, (a0)",
    "sub a2, a2, t0",
    "bnez a2, .Lrv_backward_loop",
    "ret",
    ".option pop",
    ".popsection",
);

unsafe extern "C" {
    /// Copies `len` bytes from `src` to `dst`; the ranges may overlap.
    pub(super) fn kiln_memmove_rv64(dst: *mut u8, src: *const u8, len: usize);
    /// As [`kiln_memmove_rv64`], through vector registers: only where the
    /// board declared the V extension (`crate::cpu::riscv_vector`).
    pub(super) fn kiln_memmove_rvv(dst: *mut u8, src: *const u8, len: usize);
}

/// The vector copy where the board declared V, else the scalar one.
///
/// # Safety
/// `src..src + len` must be readable and `dst..dst + len` writable.
pub(super) unsafe fn memmove(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller's ranges; both functions allow any overlap, and the
    // vector one runs only on a core with V enabled.
    unsafe {
        if crate::cpu::riscv_vector() {
            kiln_memmove_rvv(dst, src, len)
        } else {
            kiln_memmove_rv64(dst, src, len)
        }
    }
}
