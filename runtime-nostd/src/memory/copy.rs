//! `memory.copy` within one memory: a `memmove` tuned for what Wasm
//! programs do with it.
//!
//! On x86_64 the generic `memmove` (compiler_builtins) copies with `rep
//! movs`, which leaves its fast path for overlapping, nearby or misaligned
//! ranges, and copies backward with the direction flag set, a slow
//! microcoded path: shootout-memmove, which slides a 10 kB buffer by one
//! byte at a time in both directions, took 5.6x Wasmtime's time with it.
//! Here copies go through vector registers instead, the way glibc's
//! `memmove-vec-unaligned-erms` does:
//!
//! - up to 8 vectors: every vector of the source is loaded before any is
//!   stored, so the ranges may overlap in any way;
//! - longer: the last vectors (copying forward) or the first (backward) are
//!   loaded first, then a loop moves 4 vectors at a time with aligned stores
//!   in the direction that never overwrites bytes still to be read, and the
//!   vectors loaded first are stored last.
//!
//! The vector size is 64 bytes (AVX-512, in zmm16-zmm31 so that no
//! `vzeroupper` is needed) or 32 (AVX2) where the CPU and the system enable
//! them, else 16 (SSE2, which every x86_64 has). The loops are assembly: the
//! bare-metal x86_64 target the runtime is built for is soft-float (no SSE
//! in Rust code), but every board runs compiled Wasm with SSE enabled, so a
//! separate function may use the vector registers; and LLVM cannot turn an
//! assembly loop back into a call of the `memmove` it replaces.
//!
//! On aarch64 and riscv64 the generic `memmove` is compiler_builtins' Rust
//! one: bytes until the destination is aligned, one 8-byte word per
//! iteration (aligned loads joined with shifts when the source is not
//! aligned like the destination), bytes at the end. shootout-memmove (whose
//! copies of up to 10 kB overlap at every distance) executed 2,492 M guest
//! instructions with it on qemu-virt-aarch64 and 1,298 M on
//! qemu-virt-riscv64, against 124 M on qemu-x86_64. Both now copy with the
//! structure above, in assembly for the same reasons:
//!
//! - aarch64 (`copy/aarch64.rs`): NEON, 16-byte `q` registers moved in
//!   pairs by `ldp`/`stp`; size classes up to 128 bytes, then a 64-byte
//!   loop with stores aligned to 16. `aarch64-unknown-none` lets Rust code
//!   use NEON but is built for strict alignment (LLVM avoids unaligned
//!   accesses), while every board runs with unaligned accesses allowed
//!   (Normal memory, SCTLR_EL1.A clear; Linux user space too).
//!   shootout-memmove: 110 M.
//! - riscv64 (`copy/riscv64.rs`): 8-byte general registers (Kiln's
//!   riscv64 baseline is RV64GC); size classes up to
//!   64 bytes, then a 32-byte loop with stores aligned to 8. Where the
//!   source is not aligned like the destination the loop loads aligned
//!   doublewords and joins them with shifts, because real cores may trap or
//!   slow down on misaligned accesses (QEMU does not): shootout-memmove:
//!   696 M (plain misaligned loads in that loop: 367 M under QEMU). Where
//!   the board declares the V extension (`crate::cpu::riscv_vector`), a
//!   vector loop instead: `vsetvli` e8/m8 groups of any length and
//!   alignment, each loaded whole before it is stored: 72.7 M.
//!
//! Other architectures use `core::ptr::copy` (compiler_builtins).

/// Copies `bytes[src..src + len]` to `bytes[dst..dst + len]`; both ranges
/// must lie inside `bytes` (the caller checked them).
pub(crate) fn copy_within(bytes: &mut [u8], src: usize, dst: usize, len: usize) {
    assert!(src <= bytes.len() && len <= bytes.len() - src);
    assert!(dst <= bytes.len() && len <= bytes.len() - dst);
    let base = bytes.as_mut_ptr();
    // SAFETY: both ranges lie inside `bytes` (asserted above); the function
    // handles any overlap.
    unsafe { memmove(base.add(dst), base.add(src), len) };
}

#[cfg(target_arch = "x86_64")]
use x86::memmove;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
use aarch64::kiln_memmove_neon as memmove;

#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "riscv64")]
use riscv64::memmove;

/// Any other architecture: `core::ptr::copy`, that is compiler_builtins'
/// `memmove`.
///
/// # Safety
/// `src..src + len` must be readable and `dst..dst + len` writable.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
unsafe fn memmove(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller's ranges; `copy` allows overlap.
    unsafe { core::ptr::copy(src, dst, len) }
}

/// The AVX2 probe, shared with the fill.
#[cfg(target_arch = "x86_64")]
pub(super) use x86::avx2;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::sync::atomic::{AtomicU8, Ordering};

    // SysV: rdi = dst, rsi = src, rdx = len; rax, rcx, r8-r10 and every
    // vector register are caller-saved. The AVX2 function ends its vector
    // paths with `vzeroupper`: compiled Wasm uses legacy SSE encodings, which
    // pay a transition penalty while upper halves are dirty.
    core::arch::global_asm!(
        ".pushsection .text.kiln_memmove, \"ax\"",
        // ---- SSE2: 16-byte vectors ------------------------------------
        ".globl kiln_memmove_sse2",
        ".p2align 4",
        "kiln_memmove_sse2:",
        "cmp rdx, 16",
        "jb .Lkm_small",
        "cmp rdx, 32",
        "ja .Lks_above_2",
        "movdqu xmm0, xmmword ptr [rsi]",
        "movdqu xmm1, xmmword ptr [rsi + rdx - 16]",
        "movdqu xmmword ptr [rdi], xmm0",
        "movdqu xmmword ptr [rdi + rdx - 16], xmm1",
        "ret",
        ".Lks_above_2:",
        "cmp rdx, 64",
        "ja .Lks_above_4",
        "movdqu xmm0, xmmword ptr [rsi]",
        "movdqu xmm1, xmmword ptr [rsi + 16]",
        "movdqu xmm2, xmmword ptr [rsi + rdx - 32]",
        "movdqu xmm3, xmmword ptr [rsi + rdx - 16]",
        "movdqu xmmword ptr [rdi], xmm0",
        "movdqu xmmword ptr [rdi + 16], xmm1",
        "movdqu xmmword ptr [rdi + rdx - 32], xmm2",
        "movdqu xmmword ptr [rdi + rdx - 16], xmm3",
        "ret",
        ".Lks_above_4:",
        "cmp rdx, 128",
        "ja .Lks_above_8",
        "movdqu xmm0, xmmword ptr [rsi]",
        "movdqu xmm1, xmmword ptr [rsi + 16]",
        "movdqu xmm2, xmmword ptr [rsi + 32]",
        "movdqu xmm3, xmmword ptr [rsi + 48]",
        "movdqu xmm4, xmmword ptr [rsi + rdx - 64]",
        "movdqu xmm5, xmmword ptr [rsi + rdx - 48]",
        "movdqu xmm6, xmmword ptr [rsi + rdx - 32]",
        "movdqu xmm7, xmmword ptr [rsi + rdx - 16]",
        "movdqu xmmword ptr [rdi], xmm0",
        "movdqu xmmword ptr [rdi + 16], xmm1",
        "movdqu xmmword ptr [rdi + 32], xmm2",
        "movdqu xmmword ptr [rdi + 48], xmm3",
        "movdqu xmmword ptr [rdi + rdx - 64], xmm4",
        "movdqu xmmword ptr [rdi + rdx - 48], xmm5",
        "movdqu xmmword ptr [rdi + rdx - 32], xmm6",
        "movdqu xmmword ptr [rdi + rdx - 16], xmm7",
        "ret",
        ".Lks_above_8:",
        "lea r8, [rdi + rdx]", // dst end
        "mov rcx, rdi",
        "sub rcx, rsi",
        "cmp rcx, rdx",
        "jb .Lks_backward", // src < dst < src + len: copy from the end
        // Forward: first vector and last four now, aligned stores between.
        "movdqu xmm4, xmmword ptr [rsi]",
        "movdqu xmm5, xmmword ptr [rsi + rdx - 64]",
        "movdqu xmm6, xmmword ptr [rsi + rdx - 48]",
        "movdqu xmm7, xmmword ptr [rsi + rdx - 32]",
        "movdqu xmm8, xmmword ptr [rsi + rdx - 16]",
        "lea r9, [rdi + 16]",
        "and r9, -16", // first aligned store, 1..16 bytes in
        "mov rcx, r9",
        "sub rcx, rdi",
        "add rsi, rcx",
        "sub rdx, rcx", // bytes from r9 to the end: more than 64
        ".Lks_forward_loop:",
        "movdqu xmm0, xmmword ptr [rsi]",
        "movdqu xmm1, xmmword ptr [rsi + 16]",
        "movdqu xmm2, xmmword ptr [rsi + 32]",
        "movdqu xmm3, xmmword ptr [rsi + 48]",
        "movdqa xmmword ptr [r9], xmm0",
        "movdqa xmmword ptr [r9 + 16], xmm1",
        "movdqa xmmword ptr [r9 + 32], xmm2",
        "movdqa xmmword ptr [r9 + 48], xmm3",
        "add rsi, 64",
        "add r9, 64",
        "sub rdx, 64",
        "cmp rdx, 64",
        "ja .Lks_forward_loop",
        "movdqu xmmword ptr [r8 - 64], xmm5",
        "movdqu xmmword ptr [r8 - 48], xmm6",
        "movdqu xmmword ptr [r8 - 32], xmm7",
        "movdqu xmmword ptr [r8 - 16], xmm8",
        "movdqu xmmword ptr [rdi], xmm4",
        "ret",
        // Backward: last vector and first four now, aligned stores between.
        ".Lks_backward:",
        "movdqu xmm4, xmmword ptr [rsi + rdx - 16]",
        "movdqu xmm5, xmmword ptr [rsi]",
        "movdqu xmm6, xmmword ptr [rsi + 16]",
        "movdqu xmm7, xmmword ptr [rsi + 32]",
        "movdqu xmm8, xmmword ptr [rsi + 48]",
        "mov r9, r8",
        "and r9, -16", // end of the last aligned store, 0..15 bytes before r8
        "mov rcx, r8",
        "sub rcx, r9",
        "lea r10, [rsi + rdx]",
        "sub r10, rcx", // source end matching r9
        "sub rdx, rcx", // bytes from the start to r9: more than 64
        ".Lks_backward_loop:",
        "movdqu xmm0, xmmword ptr [r10 - 16]",
        "movdqu xmm1, xmmword ptr [r10 - 32]",
        "movdqu xmm2, xmmword ptr [r10 - 48]",
        "movdqu xmm3, xmmword ptr [r10 - 64]",
        "movdqa xmmword ptr [r9 - 16], xmm0",
        "movdqa xmmword ptr [r9 - 32], xmm1",
        "movdqa xmmword ptr [r9 - 48], xmm2",
        "movdqa xmmword ptr [r9 - 64], xmm3",
        "sub r10, 64",
        "sub r9, 64",
        "sub rdx, 64",
        "cmp rdx, 64",
        "ja .Lks_backward_loop",
        "movdqu xmmword ptr [rdi], xmm5",
        "movdqu xmmword ptr [rdi + 16], xmm6",
        "movdqu xmmword ptr [rdi + 32], xmm7",
        "movdqu xmmword ptr [rdi + 48], xmm8",
        "movdqu xmmword ptr [r8 - 16], xmm4",
        "ret",
        // Below 16 bytes (both functions): two overlapping loads, then stores.
        ".Lkm_small:",
        "cmp edx, 8",
        "jae .Lkm_8_15",
        "cmp edx, 4",
        "jae .Lkm_4_7",
        "cmp edx, 1",
        "ja .Lkm_2_3",
        "jb .Lkm_done",
        "movzx ecx, byte ptr [rsi]",
        "mov byte ptr [rdi], cl",
        ".Lkm_done:",
        "ret",
        ".Lkm_8_15:",
        "mov rcx, qword ptr [rsi]",
        "mov r8, qword ptr [rsi + rdx - 8]",
        "mov qword ptr [rdi], rcx",
        "mov qword ptr [rdi + rdx - 8], r8",
        "ret",
        ".Lkm_4_7:",
        "mov ecx, dword ptr [rsi]",
        "mov r8d, dword ptr [rsi + rdx - 4]",
        "mov dword ptr [rdi], ecx",
        "mov dword ptr [rdi + rdx - 4], r8d",
        "ret",
        ".Lkm_2_3:",
        "movzx ecx, word ptr [rsi]",
        "movzx r8d, word ptr [rsi + rdx - 2]",
        "mov word ptr [rdi], cx",
        "mov word ptr [rdi + rdx - 2], r8w",
        "ret",
        // ---- AVX2: 32-byte vectors ------------------------------------
        ".globl kiln_memmove_avx2",
        ".p2align 4",
        "kiln_memmove_avx2:",
        "cmp rdx, 32",
        "jb kiln_memmove_sse2", // no upper halves touched yet
        "cmp rdx, 64",
        "ja .Lka_above_2",
        "vmovdqu ymm0, ymmword ptr [rsi]",
        "vmovdqu ymm1, ymmword ptr [rsi + rdx - 32]",
        "vmovdqu ymmword ptr [rdi], ymm0",
        "vmovdqu ymmword ptr [rdi + rdx - 32], ymm1",
        "vzeroupper",
        "ret",
        ".Lka_above_2:",
        "cmp rdx, 128",
        "ja .Lka_above_4",
        "vmovdqu ymm0, ymmword ptr [rsi]",
        "vmovdqu ymm1, ymmword ptr [rsi + 32]",
        "vmovdqu ymm2, ymmword ptr [rsi + rdx - 64]",
        "vmovdqu ymm3, ymmword ptr [rsi + rdx - 32]",
        "vmovdqu ymmword ptr [rdi], ymm0",
        "vmovdqu ymmword ptr [rdi + 32], ymm1",
        "vmovdqu ymmword ptr [rdi + rdx - 64], ymm2",
        "vmovdqu ymmword ptr [rdi + rdx - 32], ymm3",
        "vzeroupper",
        "ret",
        ".Lka_above_4:",
        "cmp rdx, 256",
        "ja .Lka_above_8",
        "vmovdqu ymm0, ymmword ptr [rsi]",
        "vmovdqu ymm1, ymmword ptr [rsi + 32]",
        "vmovdqu ymm2, ymmword ptr [rsi + 64]",
        "vmovdqu ymm3, ymmword ptr [rsi + 96]",
        "vmovdqu ymm4, ymmword ptr [rsi + rdx - 128]",
        "vmovdqu ymm5, ymmword ptr [rsi + rdx - 96]",
        "vmovdqu ymm6, ymmword ptr [rsi + rdx - 64]",
        "vmovdqu ymm7, ymmword ptr [rsi + rdx - 32]",
        "vmovdqu ymmword ptr [rdi], ymm0",
        "vmovdqu ymmword ptr [rdi + 32], ymm1",
        "vmovdqu ymmword ptr [rdi + 64], ymm2",
        "vmovdqu ymmword ptr [rdi + 96], ymm3",
        "vmovdqu ymmword ptr [rdi + rdx - 128], ymm4",
        "vmovdqu ymmword ptr [rdi + rdx - 96], ymm5",
        "vmovdqu ymmword ptr [rdi + rdx - 64], ymm6",
        "vmovdqu ymmword ptr [rdi + rdx - 32], ymm7",
        "vzeroupper",
        "ret",
        ".Lka_above_8:",
        "lea r8, [rdi + rdx]",
        "mov rcx, rdi",
        "sub rcx, rsi",
        "cmp rcx, rdx",
        "jb .Lka_backward",
        "vmovdqu ymm4, ymmword ptr [rsi]",
        "vmovdqu ymm5, ymmword ptr [rsi + rdx - 128]",
        "vmovdqu ymm6, ymmword ptr [rsi + rdx - 96]",
        "vmovdqu ymm7, ymmword ptr [rsi + rdx - 64]",
        "vmovdqu ymm8, ymmword ptr [rsi + rdx - 32]",
        "lea r9, [rdi + 32]",
        "and r9, -32",
        "mov rcx, r9",
        "sub rcx, rdi",
        "add rsi, rcx",
        "sub rdx, rcx", // more than 128
        ".Lka_forward_loop:",
        "vmovdqu ymm0, ymmword ptr [rsi]",
        "vmovdqu ymm1, ymmword ptr [rsi + 32]",
        "vmovdqu ymm2, ymmword ptr [rsi + 64]",
        "vmovdqu ymm3, ymmword ptr [rsi + 96]",
        "vmovdqa ymmword ptr [r9], ymm0",
        "vmovdqa ymmword ptr [r9 + 32], ymm1",
        "vmovdqa ymmword ptr [r9 + 64], ymm2",
        "vmovdqa ymmword ptr [r9 + 96], ymm3",
        "add rsi, 128",
        "add r9, 128",
        "sub rdx, 128",
        "cmp rdx, 128",
        "ja .Lka_forward_loop",
        "vmovdqu ymmword ptr [r8 - 128], ymm5",
        "vmovdqu ymmword ptr [r8 - 96], ymm6",
        "vmovdqu ymmword ptr [r8 - 64], ymm7",
        "vmovdqu ymmword ptr [r8 - 32], ymm8",
        "vmovdqu ymmword ptr [rdi], ymm4",
        "vzeroupper",
        "ret",
        ".Lka_backward:",
        "vmovdqu ymm4, ymmword ptr [rsi + rdx - 32]",
        "vmovdqu ymm5, ymmword ptr [rsi]",
        "vmovdqu ymm6, ymmword ptr [rsi + 32]",
        "vmovdqu ymm7, ymmword ptr [rsi + 64]",
        "vmovdqu ymm8, ymmword ptr [rsi + 96]",
        "mov r9, r8",
        "and r9, -32",
        "mov rcx, r8",
        "sub rcx, r9",
        "lea r10, [rsi + rdx]",
        "sub r10, rcx",
        "sub rdx, rcx", // more than 128
        ".Lka_backward_loop:",
        "vmovdqu ymm0, ymmword ptr [r10 - 32]",
        "vmovdqu ymm1, ymmword ptr [r10 - 64]",
        "vmovdqu ymm2, ymmword ptr [r10 - 96]",
        "vmovdqu ymm3, ymmword ptr [r10 - 128]",
        "vmovdqa ymmword ptr [r9 - 32], ymm0",
        "vmovdqa ymmword ptr [r9 - 64], ymm1",
        "vmovdqa ymmword ptr [r9 - 96], ymm2",
        "vmovdqa ymmword ptr [r9 - 128], ymm3",
        "sub r10, 128",
        "sub r9, 128",
        "sub rdx, 128",
        "cmp rdx, 128",
        "ja .Lka_backward_loop",
        "vmovdqu ymmword ptr [rdi], ymm5",
        "vmovdqu ymmword ptr [rdi + 32], ymm6",
        "vmovdqu ymmword ptr [rdi + 64], ymm7",
        "vmovdqu ymmword ptr [rdi + 96], ymm8",
        "vmovdqu ymmword ptr [r8 - 32], ymm4",
        "vzeroupper",
        "ret",
        // ---- AVX-512: 64-byte vectors ---------------------------------
        // zmm16-zmm31 exist only in EVEX encodings, so using them leaves no
        // dirty upper state behind: no `vzeroupper` needed (as in glibc).
        ".globl kiln_memmove_avx512",
        ".p2align 4",
        "kiln_memmove_avx512:",
        "cmp rdx, 64",
        "jb kiln_memmove_avx2",
        "cmp rdx, 128",
        "ja .Lkz_above_2",
        "vmovdqu64 zmm16, zmmword ptr [rsi]",
        "vmovdqu64 zmm17, zmmword ptr [rsi + rdx - 64]",
        "vmovdqu64 zmmword ptr [rdi], zmm16",
        "vmovdqu64 zmmword ptr [rdi + rdx - 64], zmm17",
        "ret",
        ".Lkz_above_2:",
        "cmp rdx, 256",
        "ja .Lkz_above_4",
        "vmovdqu64 zmm16, zmmword ptr [rsi]",
        "vmovdqu64 zmm17, zmmword ptr [rsi + 64]",
        "vmovdqu64 zmm18, zmmword ptr [rsi + rdx - 128]",
        "vmovdqu64 zmm19, zmmword ptr [rsi + rdx - 64]",
        "vmovdqu64 zmmword ptr [rdi], zmm16",
        "vmovdqu64 zmmword ptr [rdi + 64], zmm17",
        "vmovdqu64 zmmword ptr [rdi + rdx - 128], zmm18",
        "vmovdqu64 zmmword ptr [rdi + rdx - 64], zmm19",
        "ret",
        ".Lkz_above_4:",
        "cmp rdx, 512",
        "ja .Lkz_above_8",
        "vmovdqu64 zmm16, zmmword ptr [rsi]",
        "vmovdqu64 zmm17, zmmword ptr [rsi + 64]",
        "vmovdqu64 zmm18, zmmword ptr [rsi + 128]",
        "vmovdqu64 zmm19, zmmword ptr [rsi + 192]",
        "vmovdqu64 zmm20, zmmword ptr [rsi + rdx - 256]",
        "vmovdqu64 zmm21, zmmword ptr [rsi + rdx - 192]",
        "vmovdqu64 zmm22, zmmword ptr [rsi + rdx - 128]",
        "vmovdqu64 zmm23, zmmword ptr [rsi + rdx - 64]",
        "vmovdqu64 zmmword ptr [rdi], zmm16",
        "vmovdqu64 zmmword ptr [rdi + 64], zmm17",
        "vmovdqu64 zmmword ptr [rdi + 128], zmm18",
        "vmovdqu64 zmmword ptr [rdi + 192], zmm19",
        "vmovdqu64 zmmword ptr [rdi + rdx - 256], zmm20",
        "vmovdqu64 zmmword ptr [rdi + rdx - 192], zmm21",
        "vmovdqu64 zmmword ptr [rdi + rdx - 128], zmm22",
        "vmovdqu64 zmmword ptr [rdi + rdx - 64], zmm23",
        "ret",
        ".Lkz_above_8:",
        "lea r8, [rdi + rdx]",
        "mov rcx, rdi",
        "sub rcx, rsi",
        "cmp rcx, rdx",
        "jb .Lkz_backward",
        "vmovdqu64 zmm24, zmmword ptr [rsi]",
        "vmovdqu64 zmm25, zmmword ptr [rsi + rdx - 256]",
        "vmovdqu64 zmm26, zmmword ptr [rsi + rdx - 192]",
        "vmovdqu64 zmm27, zmmword ptr [rsi + rdx - 128]",
        "vmovdqu64 zmm28, zmmword ptr [rsi + rdx - 64]",
        "lea r9, [rdi + 64]",
        "and r9, -64",
        "mov rcx, r9",
        "sub rcx, rdi",
        "add rsi, rcx",
        "sub rdx, rcx", // more than 256
        ".Lkz_forward_loop:",
        "vmovdqu64 zmm16, zmmword ptr [rsi]",
        "vmovdqu64 zmm17, zmmword ptr [rsi + 64]",
        "vmovdqu64 zmm18, zmmword ptr [rsi + 128]",
        "vmovdqu64 zmm19, zmmword ptr [rsi + 192]",
        "vmovdqa64 zmmword ptr [r9], zmm16",
        "vmovdqa64 zmmword ptr [r9 + 64], zmm17",
        "vmovdqa64 zmmword ptr [r9 + 128], zmm18",
        "vmovdqa64 zmmword ptr [r9 + 192], zmm19",
        "add rsi, 256",
        "add r9, 256",
        "sub rdx, 256",
        "cmp rdx, 256",
        "ja .Lkz_forward_loop",
        "vmovdqu64 zmmword ptr [r8 - 256], zmm25",
        "vmovdqu64 zmmword ptr [r8 - 192], zmm26",
        "vmovdqu64 zmmword ptr [r8 - 128], zmm27",
        "vmovdqu64 zmmword ptr [r8 - 64], zmm28",
        "vmovdqu64 zmmword ptr [rdi], zmm24",
        "ret",
        ".Lkz_backward:",
        "vmovdqu64 zmm24, zmmword ptr [rsi + rdx - 64]",
        "vmovdqu64 zmm25, zmmword ptr [rsi]",
        "vmovdqu64 zmm26, zmmword ptr [rsi + 64]",
        "vmovdqu64 zmm27, zmmword ptr [rsi + 128]",
        "vmovdqu64 zmm28, zmmword ptr [rsi + 192]",
        "mov r9, r8",
        "and r9, -64",
        "mov rcx, r8",
        "sub rcx, r9",
        "lea r10, [rsi + rdx]",
        "sub r10, rcx",
        "sub rdx, rcx", // more than 256
        ".Lkz_backward_loop:",
        "vmovdqu64 zmm16, zmmword ptr [r10 - 64]",
        "vmovdqu64 zmm17, zmmword ptr [r10 - 128]",
        "vmovdqu64 zmm18, zmmword ptr [r10 - 192]",
        "vmovdqu64 zmm19, zmmword ptr [r10 - 256]",
        "vmovdqa64 zmmword ptr [r9 - 64], zmm16",
        "vmovdqa64 zmmword ptr [r9 - 128], zmm17",
        "vmovdqa64 zmmword ptr [r9 - 192], zmm18",
        "vmovdqa64 zmmword ptr [r9 - 256], zmm19",
        "sub r10, 256",
        "sub r9, 256",
        "sub rdx, 256",
        "cmp rdx, 256",
        "ja .Lkz_backward_loop",
        "vmovdqu64 zmmword ptr [rdi], zmm25",
        "vmovdqu64 zmmword ptr [rdi + 64], zmm26",
        "vmovdqu64 zmmword ptr [rdi + 128], zmm27",
        "vmovdqu64 zmmword ptr [rdi + 192], zmm28",
        "vmovdqu64 zmmword ptr [r8 - 64], zmm24",
        "ret",
        ".popsection",
    );

    unsafe extern "C" {
        pub(super) fn kiln_memmove_sse2(dst: *mut u8, src: *const u8, len: usize);
        pub(super) fn kiln_memmove_avx2(dst: *mut u8, src: *const u8, len: usize);
        pub(super) fn kiln_memmove_avx512(dst: *mut u8, src: *const u8, len: usize);
    }

    /// 0: not probed yet, 1: SSE2 only, 2: AVX2 usable, 3: AVX-512 too.
    static VECTOR_LEVEL: AtomicU8 = AtomicU8::new(0);

    /// Copies `len` bytes from `src` to `dst`; the ranges may overlap.
    ///
    /// # Safety
    /// `src..src + len` must be readable and `dst..dst + len` writable.
    pub(super) unsafe fn memmove(dst: *mut u8, src: *const u8, len: usize) {
        // SAFETY: the caller's ranges; the functions handle any overlap.
        unsafe {
            match vector_level() {
                3 => kiln_memmove_avx512(dst, src, len),
                2 => kiln_memmove_avx2(dst, src, len),
                _ => kiln_memmove_sse2(dst, src, len),
            }
        }
    }

    /// Whether the AVX2 copy and fill may run: the CPU has AVX2 and the
    /// system saves its state.
    pub(crate) fn avx2() -> bool {
        vector_level() >= 2
    }

    /// The widest vectors the copy may use (probed once): AVX-512 needs
    /// the opmask and ZMM state saved too (`cpu` checks XCR0).
    fn vector_level() -> u8 {
        let mut level = VECTOR_LEVEL.load(Ordering::Relaxed);
        if level == 0 {
            // The AVX-512 copy leaves copies under 64 bytes to the AVX2 one.
            level = match (crate::cpu::has("has_avx2"), crate::cpu::has("has_avx512f")) {
                (true, true) => 3,
                (true, false) => 2,
                (false, _) => 1,
            };
            VECTOR_LEVEL.store(level, Ordering::Relaxed);
        }
        level
    }
}

/// The copies against a byte copy. CI (x86_64) runs the x86_64 ones; the
/// aarch64 and riscv64 ones run only on such hosts. Every board runs its
/// own through `memory.copy` and `memory.fill` in `tests/boards.rs`.
#[cfg(test)]
mod tests {
    type Copy = unsafe extern "C" fn(*mut u8, *const u8, usize);

    /// Every length up to 700 (all size classes and loop trip counts, both
    /// alignments of the loop) at every distance up to 70 in both
    /// directions, against a byte-by-byte copy through a scratch buffer.
    fn check(copy: Copy) {
        check_up_to(copy, 700);
    }

    fn check_up_to(copy: Copy, lengths: usize) {
        let mut buf = [0u8; 2048];
        for len in 0..lengths {
            for distance in 0..70usize {
                for (src, dst) in [(3, 3 + distance), (3 + distance, 3)] {
                    for (i, b) in buf.iter_mut().enumerate() {
                        *b = (i * 7 + len) as u8;
                    }
                    let mut want = buf;
                    let tmp: Vec<u8> = want[src..src + len].to_vec();
                    want[dst..dst + len].copy_from_slice(&tmp);
                    let base = buf.as_mut_ptr();
                    // SAFETY: both ranges lie inside `buf`.
                    unsafe { copy(base.add(dst), base.add(src), len) };
                    assert!(buf == want, "len {len} src {src} dst {dst}");
                }
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sse2_copy_matches_a_byte_copy() {
        check(super::x86::kiln_memmove_sse2);
    }

    /// `check_up_to(copy, lengths)` where the CPU has `features` (the ones
    /// `copy` needs); says so where it does not.
    #[cfg(target_arch = "x86_64")]
    fn check_with(features: &[&str], copy: Copy, lengths: usize) {
        if let Some(f) = features.iter().find(|f| !crate::cpu::has(f)) {
            eprintln!("this CPU has no usable {f}: this copy is not exercised here");
            return;
        }
        check_up_to(copy, lengths);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_copy_matches_a_byte_copy() {
        check_with(&["has_avx2"], super::x86::kiln_memmove_avx2, 700);
    }

    /// With 64-byte vectors the size classes go to 512 bytes and the loop
    /// moves 256: lengths to 1,400 cover its trip counts and alignments.
    /// Copies under 64 bytes go to the AVX2 copy.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_copy_matches_a_byte_copy() {
        let features = ["has_avx2", "has_avx512f"];
        check_with(&features, super::x86::kiln_memmove_avx512, 1400);
    }

    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_copy_matches_a_byte_copy() {
        check(super::aarch64::kiln_memmove_neon);
    }

    #[cfg(target_arch = "riscv64")]
    #[test]
    fn rv64_copy_matches_a_byte_copy() {
        check(super::riscv64::kiln_memmove_rv64);
    }

    #[test]
    fn distant_ranges_copy_whole() {
        let mut buf = vec![0u8; 8192];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
        super::copy_within(&mut buf, 0, 4096, 3000);
        assert!((0..3000).all(|i| buf[4096 + i] == i as u8));
    }
}
