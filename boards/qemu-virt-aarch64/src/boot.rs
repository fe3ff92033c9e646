//! Reset, MMU and exception vectors (assembly).
//!
//! QEMU starts the ELF entry at EL1 (EL2 with `virtualization=on`, which we
//! leave for EL1) with the MMU and caches off. Before any Rust code runs, the
//! boot code enables FP/SIMD (compiled code and LLVM's memcpy use it), turns
//! on the MMU with the identity map below (with the MMU off all memory is
//! Device memory, where unaligned accesses fault), sets SCTLR_EL1.A = 0
//! (unaligned accesses allowed), installs the vectors, zeroes `.bss` and
//! calls `kiln_board_main`.
//!
//! Stacks: the program runs on SP_EL0 (`spsel = 0`), exceptions on SP_EL1,
//! the dedicated exception stack. Every vector resets SP_EL1 to its top:
//! the handler never returns to the faulting code (a Wasm trap resumes at
//! `kiln_resume`, which restores its own registers and stack; anything else
//! ends the program), so nothing on it needs to survive. The exception is
//! the IRQ from the program, the watchdog's timer (`watchdog.rs`), which may
//! return: its entry saves the caller-saved registers first.
//!
//! Identity map (4 KiB granule, 48-bit VA from level 0; level-0 entry 0
//! points to the level-1 table below):
//! - 0x0000_0000..0x0800_0000 flash: unmapped, so null pointers fault
//! - 0x0800_0000..0x4000_0000 devices: Device-nGnRnE, never executable
//! - 0x4000_0000..0x8000_0000 DRAM: Normal write-back, inner shareable
//! - 0x8000_0000..           unmapped, except the linear memories' slots
//!   from 512 GiB that `vm.rs` maps page by page

/// MAIR_EL1: attribute 0 Device-nGnRnE, attribute 1 Normal WB RW-allocate.
const MAIR: u64 = 0xff << 8;
/// TCR_EL1: T0SZ = 16 (48-bit virtual addresses, walks from level 0),
/// walks cacheable WB inner shareable, 4 KiB granule, TTBR1 walks disabled
/// (EPD1), 32-bit physical addresses.
const TCR: u64 = 16 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23);
/// SCTLR_EL1 bits set: M (MMU), C (data cache), I (instruction cache).
const SCTLR_SET: u64 = (1 << 0) | (1 << 2) | (1 << 12);
/// SCTLR_EL1 bits cleared: A (alignment checks), WXN.
const SCTLR_CLEAR: u64 = (1 << 1) | (1 << 19);
/// A 2 MiB block of device memory: AF, attribute 0, PXN, UXN.
const DEVICE_BLOCK: u64 = 0x0060_0000_0000_0401;
/// A 1 GiB block of normal memory: AF, inner shareable, attribute 1.
const RAM_BLOCK: u64 = 0x705;

core::arch::global_asm!(
    ".pushsection .text.boot, \"ax\"",
    ".globl _start",
    "_start:",
    "    mrs x0, mpidr_el1",
    "    and x0, x0, #0xff",
    "    cbnz x0, 9f",
    // Coming from EL2: run EL1 in AArch64 with the counters and FP untrapped.
    "    mrs x0, CurrentEL",
    "    cmp x0, #(2 << 2)",
    "    b.ne 1f",
    "    mov x0, #(1 << 31)",
    "    msr hcr_el2, x0",
    "    mov x0, #3",
    "    msr cnthctl_el2, x0",
    "    msr cntvoff_el2, xzr",
    "    mov x0, #0x33ff",
    "    msr cptr_el2, x0",
    "    msr hstr_el2, xzr",
    "    mov x0, #0x3c5",
    "    msr spsr_el2, x0",
    "    adr x0, 1f",
    "    msr elr_el2, x0",
    "    eret",
    "1:  mov x0, #(3 << 20)",
    "    msr cpacr_el1, x0",
    "    isb",
    "    ldr x0, ={mair}",
    "    msr mair_el1, x0",
    "    ldr x0, ={tcr}",
    "    msr tcr_el1, x0",
    "    adrp x0, kiln_l0_table",
    "    add x0, x0, :lo12:kiln_l0_table",
    "    msr ttbr0_el1, x0",
    "    isb",
    "    tlbi vmalle1",
    "    dsb nsh",
    "    isb",
    "    mrs x0, sctlr_el1",
    "    ldr x1, ={sctlr_set}",
    "    orr x0, x0, x1",
    "    ldr x1, ={sctlr_clear}",
    "    bic x0, x0, x1",
    "    msr sctlr_el1, x0",
    "    isb",
    "    adrp x0, __kiln_exception_stack_top",
    "    add x0, x0, :lo12:__kiln_exception_stack_top",
    "    mov sp, x0",
    "    msr spsel, #0",
    "    adrp x0, __kiln_stack_top",
    "    add x0, x0, :lo12:__kiln_stack_top",
    "    mov sp, x0",
    "    adrp x0, kiln_vectors",
    "    add x0, x0, :lo12:kiln_vectors",
    "    msr vbar_el1, x0",
    "    isb",
    "    adrp x0, __bss_start",
    "    add x0, x0, :lo12:__bss_start",
    "    adrp x1, __bss_end",
    "    add x1, x1, :lo12:__bss_end",
    "2:  cmp x0, x1",
    "    b.hs 3f",
    "    str xzr, [x0], #8",
    "    b 2b",
    "3:  bl kiln_board_main",
    "9:  wfe",
    "    b 9b",
    ".ltorg",
    "",
    // Vectors: (current EL with SP_EL0, current EL with SP_ELx, lower EL
    // AArch64, lower EL AArch32) x (sync, IRQ, FIQ, SError). x0 = index.
    ".popsection",
    ".pushsection .text.kiln_vectors, \"ax\"",
    ".balign 2048",
    "kiln_vectors:",
    ".irp index, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
    ".balign 128",
    // An IRQ while the program runs: the watchdog's timer (watchdog.rs).
    ".if \\index == 1",
    "    b kiln_irq_entry",
    ".else",
    "    adrp x9, __kiln_exception_stack_top",
    "    add x9, x9, :lo12:__kiln_exception_stack_top",
    "    mov sp, x9",
    "    mov x0, #\\index",
    "    b 4f",
    ".endif",
    ".endr",
    "4:  mrs x1, esr_el1",
    "    mrs x2, elr_el1",
    "    mrs x3, far_el1",
    "    mrs x4, sp_el0",
    // Returns the resume arguments in x0/x1 after setting ELR_EL1.
    "    bl kiln_board_exception",
    "    eret",
    "",
    // The IRQ may return to the interrupted code: save what a call may
    // clobber (x0-x18, x30, all of the SIMD registers, FPCR/FPSR, ELR and
    // SPSR) on SP_EL1, which is at the top of the exception stack whenever
    // no handler runs. If the board returns x0 != 0, ELR_EL1 is the
    // runtime's resume and x0/x1 its arguments: nothing is restored.
    "kiln_irq_entry:",
    "    sub sp, sp, #704",
    "    stp x0, x1, [sp, #0]",
    "    stp x2, x3, [sp, #16]",
    "    stp x4, x5, [sp, #32]",
    "    stp x6, x7, [sp, #48]",
    "    stp x8, x9, [sp, #64]",
    "    stp x10, x11, [sp, #80]",
    "    stp x12, x13, [sp, #96]",
    "    stp x14, x15, [sp, #112]",
    "    stp x16, x17, [sp, #128]",
    "    stp x18, x30, [sp, #144]",
    "    mrs x0, elr_el1",
    "    mrs x1, spsr_el1",
    "    stp x0, x1, [sp, #160]",
    "    mrs x0, fpcr",
    "    mrs x1, fpsr",
    "    stp x0, x1, [sp, #176]",
    "    stp q0, q1, [sp, #192]",
    "    stp q2, q3, [sp, #224]",
    "    stp q4, q5, [sp, #256]",
    "    stp q6, q7, [sp, #288]",
    "    stp q8, q9, [sp, #320]",
    "    stp q10, q11, [sp, #352]",
    "    stp q12, q13, [sp, #384]",
    "    stp q14, q15, [sp, #416]",
    "    stp q16, q17, [sp, #448]",
    "    stp q18, q19, [sp, #480]",
    "    stp q20, q21, [sp, #512]",
    "    stp q22, q23, [sp, #544]",
    "    stp q24, q25, [sp, #576]",
    "    stp q26, q27, [sp, #608]",
    "    stp q28, q29, [sp, #640]",
    "    stp q30, q31, [sp, #672]",
    "    mrs x0, elr_el1",
    "    bl kiln_board_irq",
    "    cbnz x0, 5f",
    "    ldp q0, q1, [sp, #192]",
    "    ldp q2, q3, [sp, #224]",
    "    ldp q4, q5, [sp, #256]",
    "    ldp q6, q7, [sp, #288]",
    "    ldp q8, q9, [sp, #320]",
    "    ldp q10, q11, [sp, #352]",
    "    ldp q12, q13, [sp, #384]",
    "    ldp q14, q15, [sp, #416]",
    "    ldp q16, q17, [sp, #448]",
    "    ldp q18, q19, [sp, #480]",
    "    ldp q20, q21, [sp, #512]",
    "    ldp q22, q23, [sp, #544]",
    "    ldp q24, q25, [sp, #576]",
    "    ldp q26, q27, [sp, #608]",
    "    ldp q28, q29, [sp, #640]",
    "    ldp q30, q31, [sp, #672]",
    "    ldp x0, x1, [sp, #176]",
    "    msr fpcr, x0",
    "    msr fpsr, x1",
    "    ldp x0, x1, [sp, #160]",
    "    msr elr_el1, x0",
    "    msr spsr_el1, x1",
    "    ldp x0, x1, [sp, #0]",
    "    ldp x2, x3, [sp, #16]",
    "    ldp x4, x5, [sp, #32]",
    "    ldp x6, x7, [sp, #48]",
    "    ldp x8, x9, [sp, #64]",
    "    ldp x10, x11, [sp, #80]",
    "    ldp x12, x13, [sp, #96]",
    "    ldp x14, x15, [sp, #112]",
    "    ldp x16, x17, [sp, #128]",
    "    ldp x18, x30, [sp, #144]",
    "5:  add sp, sp, #704",
    "    eret",
    "",
    ".popsection",
    ".pushsection .rodata.kiln_page_tables, \"a\"",
    ".balign 4096",
    "kiln_l2_devices:",
    ".set kiln_block, 0",
    ".rept 512",
    ".if kiln_block < 0x08000000",
    "    .quad 0",
    ".else",
    "    .quad kiln_block | {device}",
    ".endif",
    ".set kiln_block, kiln_block + 0x200000",
    ".endr",
    "kiln_l1_table:",
    "    .quad kiln_l2_devices + 3",
    "    .quad 0x40000000 | {ram}",
    "    .fill 510, 8, 0",
    // Level 0 is written at run time (vm.rs): writable data.
    ".popsection",
    ".pushsection .data.kiln_l0_table, \"aw\"",
    ".balign 4096",
    ".globl kiln_l0_table",
    "kiln_l0_table:",
    "    .quad kiln_l1_table + 3",
    "    .fill 511, 8, 0",
    ".popsection",
    mair = const MAIR,
    tcr = const TCR,
    sctlr_set = const SCTLR_SET,
    sctlr_clear = const SCTLR_CLEAR,
    device = const DEVICE_BLOCK,
    ram = const RAM_BLOCK,
);
