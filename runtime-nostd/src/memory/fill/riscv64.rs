//! `memory.fill` on riscv64: a memset through 64-bit general registers,
//! and one through vector registers for cores whose board declares the V
//! extension (see [`super`] for why and for the measurements). The scalar
//! version:
//!
//! The byte is repeated into a doubleword with three shift-or steps (for 8
//! bytes and more). Up to 64 bytes: a few overlapping stores from both ends
//! (`sb` for 1-3 bytes, two `sw`, two, four or eight `sd`). Longer: one
//! doubleword at the start and one at the end (unaligned, like the size
//! classes: see `copy/riscv64.rs` on misaligned accesses), and between them
//! aligned doublewords only: a loop of 64 bytes per iteration, then the
//! 0-7 doublewords left through a jump into a row of seven stores.

// RISC-V psABI: a0 = dst, a1 = value (low byte), a2 = len.
core::arch::global_asm!(
    ".pushsection .text.kiln_memset_rv64, \"ax\"",
    ".globl kiln_memset_rv64",
    ".p2align 2",
    "kiln_memset_rv64:",
    "andi a1, a1, 0xff",
    "add a4, a0, a2", // end
    "li t0, 8",
    "bltu a2, t0, .Lrf_small",
    "slli t0, a1, 8",
    "or a1, a1, t0",
    "slli t0, a1, 16",
    "or a1, a1, t0",
    "slli t0, a1, 32",
    "or a1, a1, t0",
    "li t0, 16",
    "bltu t0, a2, .Lrf_above_2",
    "sd a1, 0(a0)",
    "sd a1, -8(a4)",
    "ret",
    ".Lrf_above_2:",
    "li t0, 32",
    "bltu t0, a2, .Lrf_above_4",
    "sd a1, 0(a0)",
    "sd a1, 8(a0)",
    "sd a1, -16(a4)",
    "sd a1, -8(a4)",
    "ret",
    ".Lrf_above_4:",
    "li t0, 64",
    "bltu t0, a2, .Lrf_long",
    "sd a1, 0(a0)",
    "sd a1, 8(a0)",
    "sd a1, 16(a0)",
    "sd a1, 24(a0)",
    "sd a1, -32(a4)",
    "sd a1, -24(a4)",
    "sd a1, -16(a4)",
    "sd a1, -8(a4)",
    "ret",
    ".Lrf_long:",
    "sd a1, 0(a0)",
    "sd a1, -8(a4)",
    "addi a5, a0, 8",
    "andi a5, a5, -8", // d: first aligned store, 1..8 bytes in
    "andi a6, a4, -8", // e: end of the aligned stores, 0..7 bytes before the end
    "addi a7, a6, -64",
    "bltu a7, a5, .Lrf_rest", // fewer than 64 aligned bytes (possible up to len 78)
    ".Lrf_loop:",
    "sd a1, 0(a5)",
    "sd a1, 8(a5)",
    "sd a1, 16(a5)",
    "sd a1, 24(a5)",
    "sd a1, 32(a5)",
    "sd a1, 40(a5)",
    "sd a1, 48(a5)",
    "sd a1, 56(a5)",
    "addi a5, a5, 64",
    "bgeu a7, a5, .Lrf_loop", // while d + 64 <= e
    ".Lrf_rest:",
    // e - d = 8n bytes left (n < 8): run the last n stores of the row, each
    // 4 bytes of code (`norvc`: none is compressed).
    "sub t0, a6, a5",
    "srli t0, t0, 1",
    "lla t1, .Lrf_row_end",
    "sub t1, t1, t0",
    "jr t1",
    ".option push",
    ".option norvc",
    "sd a1, -56(a6)",
    "sd a1, -48(a6)",
    "sd a1, -40(a6)",
    "sd a1, -32(a6)",
    "sd a1, -24(a6)",
    "sd a1, -16(a6)",
    "sd a1, -8(a6)",
    ".option pop",
    ".Lrf_row_end:",
    "ret",
    // Below 8 bytes: two overlapping words, or single bytes.
    ".Lrf_small:",
    "li t0, 4",
    "bltu a2, t0, .Lrf_below_4",
    "slli t0, a1, 8",
    "or a1, a1, t0",
    "slli t0, a1, 16",
    "or a1, a1, t0",
    "sw a1, 0(a0)",
    "sw a1, -4(a4)",
    "ret",
    ".Lrf_below_4:",
    "beqz a2, .Lrf_done",
    // 1..3 bytes: the first, the middle (len / 2) and the last.
    "srli t0, a2, 1",
    "add t0, a0, t0",
    "sb a1, 0(a0)",
    "sb a1, 0(t0)",
    "sb a1, -1(a4)",
    ".Lrf_done:",
    "ret",
    ".popsection",
);

// With the V extension: the byte is splat into v0-v7 at the largest vector
// length, then `vsetvli` with e8 and LMUL = 8 stores as many bytes as eight
// vector registers hold per iteration, the last partial group included.
core::arch::global_asm!(
    ".pushsection .text.kiln_memset_rvv, \"ax\"",
    ".option push",
    ".option arch, +v",
    ".globl kiln_memset_rvv",
    ".p2align 2",
    "kiln_memset_rvv:",
    "vsetvli t0, zero, e8, m8, ta, ma",
    "vmv.v.x v0, a1",
    ".Lrvf_loop:",
    "vsetvli t0, a2, e8, m8, ta, ma",
    "vse8.v v0, (a0)",
    "add a0, a0, t0",
    "sub a2, a2, t0",
    "bnez a2, .Lrvf_loop",
    "ret",
    ".option pop",
    ".popsection",
);

unsafe extern "C" {
    /// Sets `len` bytes at `dst` to `value`.
    pub(super) fn kiln_memset_rv64(dst: *mut u8, value: u8, len: usize);
    /// As [`kiln_memset_rv64`], through vector registers: only where the
    /// board declared the V extension (`crate::cpu::riscv_vector`).
    pub(super) fn kiln_memset_rvv(dst: *mut u8, value: u8, len: usize);
}

/// The vector fill where the board declared V, else the scalar one.
///
/// # Safety
/// `dst..dst + len` must be writable.
pub(super) unsafe fn memset(dst: *mut u8, value: u8, len: usize) {
    // SAFETY: the caller's range; the vector fill runs only on a core with V
    // enabled.
    unsafe {
        if crate::cpu::riscv_vector() {
            kiln_memset_rvv(dst, value, len)
        } else {
            kiln_memset_rv64(dst, value, len)
        }
    }
}
