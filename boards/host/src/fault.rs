//! Turning signals into Wasm traps. Compiled code traps with `ud2` (SIGILL)
//! or a faulting division (SIGFPE); the handler asks the runtime whether the
//! PC is a trap site and, if so, edits the interrupted context so that the
//! return from the handler lands in the runtime's resume routine. Any other
//! fault is a bug: it is reported with its registers and ends the process.
//! The watchdog (`watchdog.rs`) resumes through the same context edit.

use core::fmt::Write as _;

use kiln_runtime::abi::exit_status;

use crate::syscall::{self, RT_SIGACTION, SIGALTSTACK};

const SIGILL: usize = 4;
const SIGTRAP: usize = 5;
const SIGBUS: usize = 7;
const SIGFPE: usize = 8;
const SIGSEGV: usize = 11;
const SIGALRM: usize = 14;

const SA_SIGINFO: u64 = 0x4;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_RESTART: u64 = 0x1000_0000;

/// Offsets in the x86_64 `ucontext_t` of the registers the handler edits
/// (`uc_mcontext.gregs` starts at 40; REG_RDI=8, REG_RSI=9, REG_RSP=15, REG_RIP=16).
const UC_RDI: usize = 40 + 8 * 8;
const UC_RSI: usize = 40 + 9 * 8;
const UC_RSP: usize = 40 + 15 * 8;
const UC_RIP: usize = 40 + 16 * 8;
/// `si_addr` in `siginfo_t` for fault signals.
const SI_ADDR: usize = 16;

/// Size of the alternate signal stack (the handler must run even when the
/// fault is a stack overflow).
const ALT_STACK_SIZE: usize = 64 * 1024;

#[repr(C)]
pub(crate) struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

impl KernelSigaction {
    /// An SA_SIGINFO handler on the alternate stack, with the watchdog's
    /// SIGALRM blocked while it runs (it must not nest inside a fault).
    pub(crate) fn on_alt_stack(handler: usize) -> KernelSigaction {
        KernelSigaction {
            handler,
            flags: SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
            restorer: kiln_host_sigreturn as *const () as usize,
            mask: 1 << (SIGALRM - 1),
        }
    }

    /// The same, restarting the system calls it interrupts (for a signal
    /// that only observes, like the profiler's).
    pub(crate) fn restarting(mut self) -> KernelSigaction {
        self.flags |= SA_RESTART;
        self
    }
}

/// The interrupted PC in a signal's `ucontext_t`.
///
/// # Safety
/// `context` is the `ucontext_t` the kernel passed to a signal handler.
pub(crate) unsafe fn pc(context: *mut u8) -> usize {
    // SAFETY: the caller passes a ucontext_t laid out as described above.
    unsafe { *context.add(UC_RIP).cast::<u64>() as usize }
}

/// Makes the return from a signal handler continue at `resume` instead of
/// the interrupted instruction.
///
/// # Safety
/// `context` is the `ucontext_t` the kernel passed to a signal handler.
pub(crate) unsafe fn resume_at(context: *mut u8, resume: &kiln_runtime::trap::Resume) {
    // SAFETY: the caller passes a ucontext_t laid out as described above.
    unsafe {
        *context.add(UC_RIP).cast::<u64>() = resume.pc as u64;
        *context.add(UC_RDI).cast::<u64>() = resume.args[0] as u64;
        *context.add(UC_RSI).cast::<u64>() = resume.args[1] as u64;
    }
}

#[repr(C)]
struct StackT {
    sp: *mut u8,
    flags: i32,
    size: usize,
}

core::arch::global_asm!(
    ".pushsection .text, \"ax\"",
    ".globl kiln_host_sigreturn",
    "kiln_host_sigreturn:",
    "mov eax, {sigreturn}",
    "syscall",
    "ud2",
    ".popsection",
    sigreturn = const syscall::RT_SIGRETURN,
);

unsafe extern "C" {
    fn kiln_host_sigreturn();
}

/// Installs the fault handler (on its own stack) for the fault signals.
pub fn install() -> bool {
    let Some(stack) =
        syscall::mmap_anonymous(ALT_STACK_SIZE, syscall::PROT_READ | syscall::PROT_WRITE, 0)
    else {
        return false;
    };
    let ss = StackT {
        sp: stack,
        flags: 0,
        size: ALT_STACK_SIZE,
    };
    // SAFETY: `ss` describes a mapping that stays for the process's life.
    if unsafe { syscall::syscall3(SIGALTSTACK, &ss as *const StackT as usize, 0, 0) } != 0 {
        return false;
    }
    let action = KernelSigaction::on_alt_stack(on_signal as *const () as usize);
    [SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV]
        .iter()
        .all(|&sig| {
            // SAFETY: a valid sigaction with a handler of the SA_SIGINFO shape.
            unsafe {
                syscall::syscall6(
                    RT_SIGACTION,
                    [sig, &action as *const _ as usize, 0, 8, 0, 0],
                ) == 0
            }
        })
}

/// # Safety
/// Called by the kernel with valid `info` and `context` pointers.
unsafe extern "C" fn on_signal(sig: i32, info: *mut u8, context: *mut u8) {
    // SAFETY: the kernel passes a ucontext_t and siginfo_t laid out as above.
    unsafe {
        let reg = |off: usize| context.add(off).cast::<u64>();
        let pc = *reg(UC_RIP) as usize;
        if let Some(resume) = kiln_runtime::trap::on_fault(pc) {
            resume_at(context, &resume);
            return;
        }
        let addr = *info.add(SI_ADDR).cast::<u64>();
        let sp = *reg(UC_RSP);
        let mut line = crate::console::LineBuffer::new();
        let _ = writeln!(
            line,
            "kiln: fault: signal {sig} at pc {pc:#x} (address {addr:#x}, sp {sp:#x}) outside compiled Wasm code"
        );
        syscall::write(2, line.as_bytes());
    }
    syscall::exit_group(exit_status::FAULT);
}
