//! AArch64 (AAPCS64): the guarded call into compiled code and the resume
//! after a trap. The jump buffer holds x19-x30, sp and d8-d15.

/// Words in a jump buffer: x19-x28, x29, x30, sp, d8-d15.
pub const JMPBUF_WORDS: usize = 21;

core::arch::global_asm!(
    ".globl kiln_call_guarded",
    ".type kiln_call_guarded,%function",
    "kiln_call_guarded:",
    // x0 = jmpbuf, x1 = function, x2 = vmctx, x3 = values
    "stp x19, x20, [x0, #0]",
    "stp x21, x22, [x0, #16]",
    "stp x23, x24, [x0, #32]",
    "stp x25, x26, [x0, #48]",
    "stp x27, x28, [x0, #64]",
    "stp x29, x30, [x0, #80]",
    "mov x9, sp",
    "str x9, [x0, #96]",
    "stp d8, d9, [x0, #104]",
    "stp d10, d11, [x0, #120]",
    "stp d12, d13, [x0, #136]",
    "stp d14, d15, [x0, #152]",
    "stp x29, x30, [sp, #-16]!",
    "mov x29, sp",
    "mov x9, x1",
    "mov x0, x2",
    "mov x1, x3",
    "blr x9",
    "ldp x29, x30, [sp], #16",
    "mov w0, #0",
    "ret",
    ".size kiln_call_guarded, . - kiln_call_guarded",
    "",
    ".globl kiln_resume",
    ".type kiln_resume,%function",
    "kiln_resume:",
    // x0 = jmpbuf, x1 = trap code; returns from kiln_call_guarded with it.
    "ldp x19, x20, [x0, #0]",
    "ldp x21, x22, [x0, #16]",
    "ldp x23, x24, [x0, #32]",
    "ldp x25, x26, [x0, #48]",
    "ldp x27, x28, [x0, #64]",
    "ldp x29, x30, [x0, #80]",
    "ldr x9, [x0, #96]",
    "mov sp, x9",
    "ldp d8, d9, [x0, #104]",
    "ldp d10, d11, [x0, #120]",
    "ldp d12, d13, [x0, #136]",
    "ldp d14, d15, [x0, #152]",
    "mov w0, w1",
    "ret",
    ".size kiln_resume, . - kiln_resume",
);
