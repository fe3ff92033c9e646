//! PVH entry, long mode and exception stubs (assembly).
//!
//! QEMU finds the 32-bit entry point in the `XEN_ELFNOTE_PHYS32_ENTRY` note
//! and starts it in flat 32-bit protected mode, paging off. The boot code
//! loads our GDT, zeroes `.bss`, builds the page tables (identity map of the
//! first GiB with 2 MiB pages, the first 2 MiB left unmapped so that null
//! pointers fault), enables PAE, SSE (CR4.OSFXSR, OSXMMEXCPT; CR0.MP, no EM),
//! execute-disable where the CPU has it, and long mode, and far-returns into 64-bit code, which sets the stack and
//! calls `kiln_board_main`. The IDT and TSS are set up in Rust (`trap`).
//!
//! Exception stubs: one 16-byte stub per vector 0..31 pushes a zero error
//! code where the CPU does not, then the vector, and jumps to the common
//! entry. All vectors run on IST1, the dedicated exception stack, so a wild
//! or exhausted stack pointer cannot stop the report. The handler never
//! returns to the faulting code: for a Wasm trap it rewrites the saved RIP
//! to the runtime's `kiln_resume` and returns its arguments, which the
//! common entry puts in rdi/rsi before `iretq` (the saved RSP is kept;
//! `kiln_resume` loads its own).

core::arch::global_asm!(
    ".pushsection .text.boot, \"ax\"",
    ".code32",
    ".globl _start",
    "_start:",
    "    cli",
    "    cld",
    "    lgdt [kiln_gdt_pointer]",
    "    mov edi, offset __bss_start",
    "    mov ecx, offset __bss_end",
    "    sub ecx, edi",
    "    xor eax, eax",
    "    rep stosb",
    "    mov eax, offset kiln_pdpt",
    "    or eax, 3",
    "    mov dword ptr [kiln_pml4], eax",
    "    mov eax, offset kiln_pd",
    "    or eax, 3",
    "    mov dword ptr [kiln_pdpt], eax",
    // PD[1..512]: 2 MiB pages, present + writable + large.
    "    mov ecx, 1",
    "1:  mov eax, ecx",
    "    shl eax, 21",
    "    or eax, 0x83",
    "    mov dword ptr [kiln_pd + ecx * 8], eax",
    "    inc ecx",
    "    cmp ecx, 512",
    "    jb 1b",
    // CR4: PAE, OSFXSR, OSXMMEXCPT.
    "    mov eax, cr4",
    "    or eax, (1 << 5) | (1 << 9) | (1 << 10)",
    "    mov cr4, eax",
    "    mov eax, offset kiln_pml4",
    "    mov cr3, eax",
    // EFER.LME, and EFER.NXE where the CPU has the execute-disable bit
    // (CPUID 0x8000_0001 EDX.20): linear memory's pages use it (vm.rs).
    "    mov eax, 0x80000001",
    "    cpuid",
    "    mov esi, edx",
    "    mov ecx, 0xc0000080",
    "    rdmsr",
    "    or eax, 1 << 8",
    "    test esi, 1 << 20",
    "    jz 2f",
    "    or eax, 1 << 11",
    "2:  wrmsr",
    // CR0: PG, WP, NE, MP on; EM, TS off.
    "    mov eax, cr0",
    "    and eax, ~((1 << 2) | (1 << 3))",
    "    or eax, (1 << 31) | (1 << 16) | (1 << 5) | (1 << 1)",
    "    mov cr0, eax",
    "    mov esp, offset __kiln_stack_top",
    "    push 0x08",
    "    mov eax, offset kiln_long_mode",
    "    push eax",
    "    retf",
    ".code64",
    "kiln_long_mode:",
    "    mov ax, 0x10",
    "    mov ds, ax",
    "    mov es, ax",
    "    mov ss, ax",
    "    xor eax, eax",
    "    mov fs, ax",
    "    mov gs, ax",
    "    mov esp, offset __kiln_stack_top",
    "    xor ebp, ebp",
    "    call kiln_board_main",
    "3:  cli",
    "    hlt",
    "    jmp 3b",
    "",
    // Exception stubs, 16 bytes apart (`trap::install` relies on it).
    ".popsection",
    ".pushsection .text.kiln_exceptions, \"ax\"",
    ".balign 16",
    ".globl kiln_exception_stubs",
    "kiln_exception_stubs:",
    ".irp vector, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
    ".balign 16",
    ".if (\\vector == 8) || (\\vector == 10) || (\\vector == 11) || (\\vector == 12) || (\\vector == 13) || (\\vector == 14) || (\\vector == 17) || (\\vector == 21) || (\\vector == 29) || (\\vector == 30)",
    ".else",
    "    push 0",
    ".endif",
    "    push \\vector",
    "    jmp 4f",
    ".endr",
    // Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS (8 mod 16 here).
    "4:  cld",
    "    mov rdi, rsp",
    "    sub rsp, 8",
    // Returns the resume arguments in rax/rdx after rewriting the saved RIP.
    "    call kiln_board_exception",
    "    add rsp, 24",
    "    mov rdi, rax",
    "    mov rsi, rdx",
    "    iretq",
    "",
    // The PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY = 18).
    ".popsection",
    ".pushsection .note.Xen, \"a\", @note",
    ".balign 4",
    "    .long 4",
    "    .long 8",
    "    .long 18",
    "    .asciz \"Xen\"",
    "    .balign 4",
    "    .quad _start",
    "    .balign 4",
    "",
    // GDT: null, 64-bit code (0x08), data (0x10), TSS (0x18, set by `trap`).
    ".popsection",
    ".pushsection .data.kiln_gdt, \"aw\"",
    ".balign 16",
    ".globl kiln_gdt",
    "kiln_gdt:",
    "    .quad 0",
    "    .quad 0x00af9a000000ffff",
    "    .quad 0x00cf92000000ffff",
    "    .quad 0",
    "    .quad 0",
    "kiln_gdt_end:",
    ".balign 8",
    "kiln_gdt_pointer:",
    "    .word kiln_gdt_end - kiln_gdt - 1",
    "    .quad kiln_gdt",
    ".popsection",
);

/// A page-table page (zeroed with `.bss`, filled by the boot code).
#[repr(C, align(4096))]
pub struct PageTable([u64; 512]);

#[unsafe(no_mangle)]
static mut kiln_pml4: PageTable = PageTable([0; 512]);
#[unsafe(no_mangle)]
static mut kiln_pdpt: PageTable = PageTable([0; 512]);
#[unsafe(no_mangle)]
static mut kiln_pd: PageTable = PageTable([0; 512]);
