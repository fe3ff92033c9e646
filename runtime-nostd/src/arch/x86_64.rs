//! x86_64 (System V): the guarded call into compiled code and the resume
//! after a trap. The jump buffer holds the callee-saved registers, the stack
//! pointer and the return address of `kiln_call_guarded`.

/// Words in a jump buffer: rbx, rbp, r12-r15, rsp, return address.
pub const JMPBUF_WORDS: usize = 8;

core::arch::global_asm!(
    ".pushsection .text, \"ax\"",
    ".globl kiln_call_guarded",
    ".type kiln_call_guarded,@function",
    "kiln_call_guarded:",
    // rdi = jmpbuf, rsi = function, rdx = vmctx, rcx = values
    "mov [rdi], rbx",
    "mov [rdi + 8], rbp",
    "mov [rdi + 16], r12",
    "mov [rdi + 24], r13",
    "mov [rdi + 32], r14",
    "mov [rdi + 40], r15",
    "lea rax, [rsp + 8]",
    "mov [rdi + 48], rax",
    "mov rax, [rsp]",
    "mov [rdi + 56], rax",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    // Entry rsp is 8 mod 16; the callee wants 0 mod 16 before the call.
    "sub rsp, 8",
    "call rax",
    "add rsp, 8",
    "xor eax, eax",
    "ret",
    ".size kiln_call_guarded, . - kiln_call_guarded",
    "",
    ".globl kiln_resume",
    ".type kiln_resume,@function",
    "kiln_resume:",
    // rdi = jmpbuf, rsi = trap code; returns from kiln_call_guarded with it.
    "mov rbx, [rdi]",
    "mov rbp, [rdi + 8]",
    "mov r12, [rdi + 16]",
    "mov r13, [rdi + 24]",
    "mov r14, [rdi + 32]",
    "mov r15, [rdi + 40]",
    "mov rsp, [rdi + 48]",
    "mov eax, esi",
    "jmp qword ptr [rdi + 56]",
    ".size kiln_resume, . - kiln_resume",
    ".popsection",
);
