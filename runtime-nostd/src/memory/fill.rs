//! `memory.fill`: a `memset` through vector registers on x86_64 and
//! aarch64, and on riscv64 where the core has the V extension (else
//! through 8-byte registers).
//!
//! On x86_64, compiler_builtins' `memset` fills with three `rep stos`
//! (head bytes, quadwords, tail bytes); each has a start-up cost of tens of
//! cycles and the middle one moves 8 bytes at a time. C programs call
//! `memset` (which wasi-libc implements with `memory.fill`) for every
//! buffer they clear: shootout-sieve, which clears 8 kB per round, ran
//! 3-5 % faster with the vector fill.
//! The structure follows [`super::copy`]: sizes up to 4 vectors in a few
//! overlapping stores, longer fills as one unaligned vector, an aligned
//! loop of 4 vectors and 4 unaligned vectors that end at the last byte.
//! AVX2 where [`super::copy`] finds it usable, else SSE2.
//!
//! On aarch64 and riscv64 compiler_builtins' `memset` is its generic Rust
//! one (bytes to an aligned address, one 8-byte word per iteration, bytes
//! at the end). They now fill like the copies of [`super::copy`]:
//!
//! - aarch64 (`fill/aarch64.rs`): NEON, `stp` of two 16-byte `q` registers;
//!   up to 128 bytes in overlapping stores from both ends, longer fills as
//!   one unaligned `q`, a loop of 64 bytes with stores aligned to 16 and 64
//!   bytes that end at the last byte.
//! - riscv64 (`fill/riscv64.rs`): 8-byte `sd`; up to 64 bytes in
//!   overlapping stores, longer fills as one unaligned doubleword at each
//!   end and aligned ones between (a loop of 64 bytes, then the 0-7
//!   doublewords left through a computed jump), so that the loop never
//!   makes a misaligned access. Where the board declares the V extension,
//!   `vse8` of e8/m8 groups of any length instead.
//!
//! Guest instructions under QEMU (millions, before -> after; the fill is a
//! small part of each): shootout-sieve (8 kB per round) 3,454 -> 3,410 on
//! aarch64 and 8,690 -> 8,660 on riscv64.
//!
//! Other architectures use `core::ptr::write_bytes` (compiler_builtins).

/// Sets `bytes[dst..dst + len]` to `value`; the range must lie inside
/// `bytes` (the caller checked it).
pub(crate) fn fill(bytes: &mut [u8], dst: usize, len: usize, value: u8) {
    assert!(dst <= bytes.len() && len <= bytes.len() - dst);
    // SAFETY: the range lies inside `bytes` (asserted above).
    unsafe { memset(bytes.as_mut_ptr().add(dst), value, len) };
}

/// x86_64: the AVX2 fill where [`super::copy`] finds AVX2 usable, else SSE2.
///
/// # Safety
/// `dst..dst + len` must be writable.
#[cfg(target_arch = "x86_64")]
unsafe fn memset(dst: *mut u8, value: u8, len: usize) {
    // SAFETY: the caller's range.
    unsafe {
        if super::copy::avx2() {
            x86::kiln_memset_avx2(dst, value, len)
        } else {
            x86::kiln_memset_sse2(dst, value, len)
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
use aarch64::kiln_memset_neon as memset;

#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "riscv64")]
use riscv64::memset;

/// Any other architecture: `core::ptr::write_bytes`, that is
/// compiler_builtins' `memset`.
///
/// # Safety
/// `dst..dst + len` must be writable.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
unsafe fn memset(dst: *mut u8, value: u8, len: usize) {
    // SAFETY: the caller's range.
    unsafe { core::ptr::write_bytes(dst, value, len) }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    // SysV: rdi = dst, sil = value, rdx = len; rax, r8-r10 and the vector
    // registers are caller-saved. rax holds the byte repeated 8 times.
    core::arch::global_asm!(
        ".pushsection .text.kiln_memset, \"ax\"",
        // ---- SSE2: 16-byte vectors ------------------------------------
        ".globl kiln_memset_sse2",
        ".p2align 4",
        "kiln_memset_sse2:",
        "movzx eax, sil",
        "movabs r8, 0x0101010101010101",
        "imul rax, r8",
        "cmp rdx, 16",
        "jb .Lkf_small",
        "movq xmm0, rax",
        "punpcklqdq xmm0, xmm0",
        "cmp rdx, 32",
        "ja .Lkf_above_2",
        "movdqu xmmword ptr [rdi], xmm0",
        "movdqu xmmword ptr [rdi + rdx - 16], xmm0",
        "ret",
        ".Lkf_above_2:",
        "cmp rdx, 64",
        "ja .Lkf_above_4",
        "movdqu xmmword ptr [rdi], xmm0",
        "movdqu xmmword ptr [rdi + 16], xmm0",
        "movdqu xmmword ptr [rdi + rdx - 32], xmm0",
        "movdqu xmmword ptr [rdi + rdx - 16], xmm0",
        "ret",
        ".Lkf_above_4:",
        "movdqu xmmword ptr [rdi], xmm0",
        "lea r8, [rdi + rdx]", // end
        "lea r9, [rdi + 16]",
        "and r9, -16",        // first aligned store, 1..16 bytes in
        "lea r10, [r8 - 64]", // the tail stores cover r10..end
        "cmp r9, r10",
        "jae .Lkf_tail",
        ".Lkf_loop:",
        "movdqa xmmword ptr [r9], xmm0",
        "movdqa xmmword ptr [r9 + 16], xmm0",
        "movdqa xmmword ptr [r9 + 32], xmm0",
        "movdqa xmmword ptr [r9 + 48], xmm0",
        "add r9, 64",
        "cmp r9, r10",
        "jb .Lkf_loop",
        ".Lkf_tail:",
        "movdqu xmmword ptr [r8 - 64], xmm0",
        "movdqu xmmword ptr [r8 - 48], xmm0",
        "movdqu xmmword ptr [r8 - 32], xmm0",
        "movdqu xmmword ptr [r8 - 16], xmm0",
        "ret",
        // Below 16 bytes: two overlapping stores of the widest size.
        ".Lkf_small:",
        "cmp edx, 8",
        "jae .Lkf_8_15",
        "cmp edx, 4",
        "jae .Lkf_4_7",
        "cmp edx, 1",
        "ja .Lkf_2_3",
        "jb .Lkf_done",
        "mov byte ptr [rdi], al",
        ".Lkf_done:",
        "ret",
        ".Lkf_8_15:",
        "mov qword ptr [rdi], rax",
        "mov qword ptr [rdi + rdx - 8], rax",
        "ret",
        ".Lkf_4_7:",
        "mov dword ptr [rdi], eax",
        "mov dword ptr [rdi + rdx - 4], eax",
        "ret",
        ".Lkf_2_3:",
        "mov word ptr [rdi], ax",
        "mov word ptr [rdi + rdx - 2], ax",
        "ret",
        // ---- AVX2: 32-byte vectors ------------------------------------
        ".globl kiln_memset_avx2",
        ".p2align 4",
        "kiln_memset_avx2:",
        "cmp rdx, 32",
        "jb kiln_memset_sse2", // no upper halves touched
        "movzx eax, sil",
        "movabs r8, 0x0101010101010101",
        "imul rax, r8",
        "vmovq xmm0, rax",
        "vpbroadcastq ymm0, xmm0",
        "cmp rdx, 64",
        "ja .Lkg_above_2",
        "vmovdqu ymmword ptr [rdi], ymm0",
        "vmovdqu ymmword ptr [rdi + rdx - 32], ymm0",
        "vzeroupper",
        "ret",
        ".Lkg_above_2:",
        "cmp rdx, 128",
        "ja .Lkg_above_4",
        "vmovdqu ymmword ptr [rdi], ymm0",
        "vmovdqu ymmword ptr [rdi + 32], ymm0",
        "vmovdqu ymmword ptr [rdi + rdx - 64], ymm0",
        "vmovdqu ymmword ptr [rdi + rdx - 32], ymm0",
        "vzeroupper",
        "ret",
        ".Lkg_above_4:",
        "vmovdqu ymmword ptr [rdi], ymm0",
        "lea r8, [rdi + rdx]",
        "lea r9, [rdi + 32]",
        "and r9, -32",
        "lea r10, [r8 - 128]",
        "cmp r9, r10",
        "jae .Lkg_tail",
        ".Lkg_loop:",
        "vmovdqa ymmword ptr [r9], ymm0",
        "vmovdqa ymmword ptr [r9 + 32], ymm0",
        "vmovdqa ymmword ptr [r9 + 64], ymm0",
        "vmovdqa ymmword ptr [r9 + 96], ymm0",
        "add r9, 128",
        "cmp r9, r10",
        "jb .Lkg_loop",
        ".Lkg_tail:",
        "vmovdqu ymmword ptr [r8 - 128], ymm0",
        "vmovdqu ymmword ptr [r8 - 96], ymm0",
        "vmovdqu ymmword ptr [r8 - 64], ymm0",
        "vmovdqu ymmword ptr [r8 - 32], ymm0",
        "vzeroupper",
        "ret",
        ".popsection",
    );

    unsafe extern "C" {
        pub(super) fn kiln_memset_sse2(dst: *mut u8, value: u8, len: usize);
        pub(super) fn kiln_memset_avx2(dst: *mut u8, value: u8, len: usize);
    }
}

/// The fills against `slice::fill`. CI (x86_64) runs the x86_64 ones; the
/// aarch64 and riscv64 ones run only on such hosts. Every board runs its
/// own through `memory.copy` and `memory.fill` in `tests/boards.rs`.
#[cfg(test)]
mod tests {
    type Fill = unsafe extern "C" fn(*mut u8, u8, usize);

    /// Every length up to 700 at every start offset up to 64, against
    /// `slice::fill`; the bytes around the range must stay untouched.
    fn check(fill: Fill) {
        let mut buf = [0u8; 1024];
        for len in 0..700usize {
            for dst in 0..64usize {
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = (i * 7 + len) as u8;
                }
                let value = (len * 13 + dst) as u8 | 0x80;
                let mut want = buf;
                want[dst..dst + len].fill(value);
                // SAFETY: the range lies inside `buf`.
                unsafe { fill(buf.as_mut_ptr().add(dst), value, len) };
                assert!(buf == want, "len {len} dst {dst}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn sse2_fill_matches_slice_fill() {
        check(super::x86::kiln_memset_sse2);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_fill_matches_slice_fill() {
        if !super::super::copy::avx2() {
            eprintln!("this CPU has no usable AVX2: the AVX2 fill is not exercised here");
            return;
        }
        check(super::x86::kiln_memset_avx2);
    }

    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_fill_matches_slice_fill() {
        check(super::aarch64::kiln_memset_neon);
    }

    #[cfg(target_arch = "riscv64")]
    #[test]
    fn rv64_fill_matches_slice_fill() {
        check(super::riscv64::kiln_memset_rv64);
    }
}
