//! Reset and trap entry (assembly). QEMU starts every hart at 0x8000_0000 in
//! M-mode with `a0` = hart id; hart 0 sets up the trap vector, FP state, the
//! stack and `.bss`, then calls `kiln_board_main`; other harts park.
//!
//! The trap entry never returns to the faulting code: a Wasm trap resumes at
//! `kiln_resume` (which restores its own registers and stack) and any other
//! fault ends the program. So it saves nothing but the old `sp` (for the
//! report) and always runs on the dedicated exception stack, even when the
//! fault was a wild or exhausted stack pointer.

core::arch::global_asm!(
    ".section .text.boot, \"ax\"",
    ".globl _start",
    "_start:",
    "    csrr t0, mhartid",
    "    bnez t0, 3f",
    "    csrw mie, zero",
    "    la t0, kiln_trap_entry",
    "    csrw mtvec, t0",
    // FS = VS = Initial: compiled code uses F/D (and V when enabled).
    "    li t0, (1 << 13) | (1 << 9)",
    "    csrs mstatus, t0",
    "    csrw fcsr, zero",
    "    la sp, __kiln_stack_top",
    "    la t0, __bss_start",
    "    la t1, __bss_end",
    "1:  bgeu t0, t1, 2f",
    "    sd zero, 0(t0)",
    "    addi t0, t0, 8",
    "    j 1b",
    "2:  call kiln_board_main",
    "3:  wfi",
    "    j 3b",
    "",
    ".section .text.kiln_trap_entry, \"ax\"",
    ".balign 4",
    ".globl kiln_trap_entry",
    "kiln_trap_entry:",
    "    csrw mscratch, sp",
    "    la sp, __kiln_exception_stack_top",
    "    csrr a0, mcause",
    "    csrr a1, mepc",
    "    csrr a2, mtval",
    "    csrr a3, mscratch",
    // Returns the resume arguments in a0/a1 after setting mepc.
    "    call kiln_board_trap",
    "    mret",
);
