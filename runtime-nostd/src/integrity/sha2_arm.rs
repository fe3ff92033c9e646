//! SHA-256 blocks with the Armv8 SHA2 instructions (FEAT_SHA256), for the
//! image seal of large firmware: under QEMU's emulation each `sha256h`
//! is one helper call instead of dozens of emulated instructions. The
//! CPU's ID register is checked before each use.
//!
//! The state stays in v0 = ABCD and v1 = EFGH; each group of four rounds
//! adds the round constants (v16..v31, loaded once) to four message words
//! and runs `sha256h`/`sha256h2`; `sha256su0`/`sha256su1` extend the message
//! schedule through v4..v7.

/// Whether this CPU has the SHA-256 instructions (ID_AA64ISAR0_EL1.SHA2).
pub fn available() -> bool {
    let isar0: u64;
    // SAFETY: reading an ID register has no side effects (at EL0 Linux
    // emulates it).
    unsafe {
        core::arch::asm!("mrs {}, id_aa64isar0_el1", out(reg) isar0, options(nomem, nostack))
    };
    (isar0 >> 12) & 0xf != 0
}

unsafe extern "C" {
    /// The compression function over `blocks` whole 64-byte blocks at
    /// `data` (see `super::BlockFn`).
    pub(super) fn kiln_sha256_blocks_arm(
        state: *mut u32,
        data: *const u8,
        blocks: usize,
        k: *const u32,
    );
}

// x0 = state (a..h), x1 = data, x2 = number of blocks, x3 = K.
core::arch::global_asm!(
    ".arch_extension sha2",
    // Four rounds with message words `w` and constants `k`.
    ".macro KILN_SHA_ROUNDS4 w, k",
    "    add v2.4s, \\w\\().4s, \\k\\().4s",
    "    mov v3.16b, v0.16b",
    "    sha256h q0, q1, v2.4s",
    "    sha256h2 q1, q3, v2.4s",
    ".endm",
    // w0 := the next four words from w0..w3 (W[t-16..], ..., W[t-4..]).
    ".macro KILN_SHA_SCHEDULE w0, w1, w2, w3",
    "    sha256su0 \\w0\\().4s, \\w1\\().4s",
    "    sha256su1 \\w0\\().4s, \\w2\\().4s, \\w3\\().4s",
    ".endm",
    ".pushsection .text.kiln_sha256_blocks_arm, \"ax\"",
    ".globl kiln_sha256_blocks_arm",
    ".p2align 2",
    "kiln_sha256_blocks_arm:",
    "    cbz x2, 2f",
    // v8..v15 are callee-saved (their low halves): the constants go to
    // v16..v31, everything else stays in v0..v7.
    "    ld1 {{v16.4s, v17.4s, v18.4s, v19.4s}}, [x3], #64",
    "    ld1 {{v20.4s, v21.4s, v22.4s, v23.4s}}, [x3], #64",
    "    ld1 {{v24.4s, v25.4s, v26.4s, v27.4s}}, [x3], #64",
    "    ld1 {{v28.4s, v29.4s, v30.4s, v31.4s}}, [x3]",
    "    ld1 {{v0.4s, v1.4s}}, [x0]",
    "1:",
    "    ld1 {{v4.16b, v5.16b, v6.16b, v7.16b}}, [x1], #64",
    "    rev32 v4.16b, v4.16b",
    "    rev32 v5.16b, v5.16b",
    "    rev32 v6.16b, v6.16b",
    "    rev32 v7.16b, v7.16b",
    // The incoming state, added back after the 64 rounds: on the stack,
    // since every caller-saved vector register is in use.
    "    stp q0, q1, [sp, #-32]!",
    "    KILN_SHA_ROUNDS4 v4, v16",
    "    KILN_SHA_SCHEDULE v4, v5, v6, v7",
    "    KILN_SHA_ROUNDS4 v5, v17",
    "    KILN_SHA_SCHEDULE v5, v6, v7, v4",
    "    KILN_SHA_ROUNDS4 v6, v18",
    "    KILN_SHA_SCHEDULE v6, v7, v4, v5",
    "    KILN_SHA_ROUNDS4 v7, v19",
    "    KILN_SHA_SCHEDULE v7, v4, v5, v6",
    "    KILN_SHA_ROUNDS4 v4, v20",
    "    KILN_SHA_SCHEDULE v4, v5, v6, v7",
    "    KILN_SHA_ROUNDS4 v5, v21",
    "    KILN_SHA_SCHEDULE v5, v6, v7, v4",
    "    KILN_SHA_ROUNDS4 v6, v22",
    "    KILN_SHA_SCHEDULE v6, v7, v4, v5",
    "    KILN_SHA_ROUNDS4 v7, v23",
    "    KILN_SHA_SCHEDULE v7, v4, v5, v6",
    "    KILN_SHA_ROUNDS4 v4, v24",
    "    KILN_SHA_SCHEDULE v4, v5, v6, v7",
    "    KILN_SHA_ROUNDS4 v5, v25",
    "    KILN_SHA_SCHEDULE v5, v6, v7, v4",
    "    KILN_SHA_ROUNDS4 v6, v26",
    "    KILN_SHA_SCHEDULE v6, v7, v4, v5",
    "    KILN_SHA_ROUNDS4 v7, v27",
    "    KILN_SHA_SCHEDULE v7, v4, v5, v6",
    "    KILN_SHA_ROUNDS4 v4, v28",
    "    KILN_SHA_ROUNDS4 v5, v29",
    "    KILN_SHA_ROUNDS4 v6, v30",
    "    KILN_SHA_ROUNDS4 v7, v31",
    "    ldp q2, q3, [sp], #32",
    "    add v0.4s, v0.4s, v2.4s",
    "    add v1.4s, v1.4s, v3.4s",
    "    subs x2, x2, #1",
    "    b.ne 1b",
    "    st1 {{v0.4s, v1.4s}}, [x0]",
    "2:",
    "    ret",
    ".purgem KILN_SHA_ROUNDS4",
    ".purgem KILN_SHA_SCHEDULE",
    ".popsection",
);
