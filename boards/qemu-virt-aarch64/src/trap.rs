//! Exceptions: a Wasm trap (an illegal instruction or a fault at a trap site
//! of compiled code) resumes at the runtime's `kiln_resume`; anything else is
//! reported as `kiln: fault: ...` with ESR_EL1, FAR_EL1, ELR_EL1 and SP_EL0,
//! and ends the program with status 127.

use core::sync::atomic::{AtomicBool, Ordering};

use kiln_runtime::abi::exit_status;
use kiln_runtime::board::Stream;

use crate::console;

/// Set while the handler runs: a fault inside it must not loop.
static IN_HANDLER: AtomicBool = AtomicBool::new(false);

/// Vector index of a synchronous exception taken while running on SP_EL0
/// (the program); every other vector is a fault.
const SYNC_FROM_PROGRAM: usize = 0;

const KINDS: [&[u8]; 4] = [b"synchronous", b"IRQ", b"FIQ", b"SError"];

/// The first two argument registers for the resumed code.
#[repr(C)]
pub struct ResumeArgs {
    x0: usize,
    x1: usize,
}

/// Called from the vectors on the exception stack (SP_EL1).
#[unsafe(no_mangle)]
extern "C" fn kiln_board_exception(
    vector: usize,
    esr: u64,
    elr: usize,
    far: u64,
    sp: u64,
) -> ResumeArgs {
    let nested = IN_HANDLER.swap(true, Ordering::Relaxed);
    if !nested
        && vector == SYNC_FROM_PROGRAM
        && let Some(resume) = kiln_runtime::trap::on_fault(elr)
    {
        // SAFETY: `eret` continues at `resume.pc`, the runtime's resume
        // routine, which restores the stack and registers it saved.
        unsafe { core::arch::asm!("msr elr_el1, {}", in(reg) resume.pc) };
        IN_HANDLER.store(false, Ordering::Relaxed);
        return ResumeArgs {
            x0: resume.args[0],
            x1: resume.args[1],
        };
    }
    console::write(Stream::Stderr, b"kiln: fault: ");
    console::write(Stream::Stderr, KINDS[vector % 4]);
    if nested || vector >= 4 {
        console::write(Stream::Stderr, b" (in the exception handler)");
    }
    console::write(Stream::Stderr, b" esr=");
    console::write_hex(esr);
    console::write(Stream::Stderr, b" far=");
    console::write_hex(far);
    console::write(Stream::Stderr, b" elr=");
    console::write_hex(elr as u64);
    console::write(Stream::Stderr, b" sp=");
    console::write_hex(sp);
    console::write(Stream::Stderr, b"\n");
    crate::exit(exit_status::FAULT)
}
