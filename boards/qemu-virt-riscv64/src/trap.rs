//! Exceptions: a Wasm trap (an illegal instruction, or a page fault at a
//! trap site of compiled code: an access past a linear memory's length into
//! its guard region, vm.rs) resumes at the runtime's `kiln_resume`; anything
//! else is reported as `kiln: fault: ...` with the CPU's trap registers and
//! ends the program with status 127.

use core::sync::atomic::{AtomicBool, Ordering};

use kiln_runtime::abi::exit_status;
use kiln_runtime::board::Stream;

use crate::console;

/// Set while the handler runs: a fault inside it must not loop.
static IN_HANDLER: AtomicBool = AtomicBool::new(false);

/// The first two argument registers for the resumed code.
#[repr(C)]
pub struct ResumeArgs {
    a0: usize,
    a1: usize,
}

/// Called by `kiln_trap_entry` on the exception stack.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_trap(mcause: usize, mepc: usize, mtval: usize, sp: usize) -> ResumeArgs {
    let nested = IN_HANDLER.swap(true, Ordering::Relaxed);
    let interrupt = mcause >> 63 != 0;
    if !nested
        && !interrupt
        && let Some(resume) = kiln_runtime::trap::on_fault(mepc)
    {
        // SAFETY: `mret` continues at `resume.pc`, the runtime's resume
        // routine, which restores the stack and registers it saved.
        unsafe { core::arch::asm!("csrw mepc, {}", in(reg) resume.pc) };
        IN_HANDLER.store(false, Ordering::Relaxed);
        return ResumeArgs {
            a0: resume.args[0],
            a1: resume.args[1],
        };
    }
    console::write(Stream::Stderr, b"kiln: fault: ");
    if nested {
        console::write(Stream::Stderr, b"(in the exception handler) ");
    }
    if let Some(name) = cause_name(mcause) {
        console::write(Stream::Stderr, name);
        console::write(Stream::Stderr, b" ");
    }
    console::write(Stream::Stderr, b"mcause=");
    console::write_hex(mcause as u64);
    console::write(Stream::Stderr, b" mtval=");
    console::write_hex(mtval as u64);
    console::write(Stream::Stderr, b" mepc=");
    console::write_hex(mepc as u64);
    console::write(Stream::Stderr, b" sp=");
    console::write_hex(sp as u64);
    console::write(Stream::Stderr, b"\n");
    crate::exit(exit_status::FAULT)
}

/// The name of an exception the firmware can meet.
fn cause_name(mcause: usize) -> Option<&'static [u8]> {
    Some(match mcause {
        1 => b"instruction access fault",
        2 => b"illegal instruction",
        4 => b"misaligned load",
        5 => b"load access fault",
        6 => b"misaligned store",
        7 => b"store access fault",
        13 => b"load page fault",
        15 => b"store page fault",
        _ => return None,
    })
}
