//! The watchdog: stops a program that runs past the manifest's deadline
//! (`kiln run --timeout`, `kiln build --timeout`).
//!
//! `arm` sets the CLINT's `mtimecmp` to the deadline and enables the machine
//! timer interrupt (`mie.MTIE`, `mstatus.MIE`): the only interrupt this board
//! ever enables. `kiln_trap_entry` (boot.rs) saves the caller-saved registers
//! for an interrupt and calls [`kiln_board_interrupt`]. When the interrupted
//! PC is compiled Wasm code, the runtime's `trap::on_interrupt` gives a
//! resume and the run ends like a trap with `Interrupted` (status 124);
//! anywhere else the timer is set again [`RETRY_TICKS`] later, and after
//! [`GRACE_TICKS`] outside Wasm code the board prints a line and exits 124.
//! `sleep_until` (lib.rs) shares `mtimecmp` through [`limit`] and [`restore`].

use core::ptr::write_volatile;
use core::sync::atomic::{AtomicU64, Ordering};

use kiln_runtime::abi::exit_status;
use kiln_runtime::board::Stream;

use crate::{CLINT_MTIMECMP, MIE_MTIE, MTIME_HZ, console, mtime};

/// `mstatus.MIE`: machine interrupts enabled.
const MSTATUS_MIE: usize = 1 << 3;
/// 1 ms at 10 MHz.
const RETRY_TICKS: u64 = MTIME_HZ / 1000;
/// 1 s.
const GRACE_TICKS: u64 = MTIME_HZ;

/// The deadline in `mtime` ticks; 0 when there is none.
static DEADLINE: AtomicU64 = AtomicU64::new(0);
static DEADLINE_MS: AtomicU64 = AtomicU64::new(0);

fn set_compare(ticks: u64) {
    // SAFETY: hart 0's mtimecmp; only hart 0 runs. Writing it also clears
    // a pending timer interrupt when `ticks` lies in the future.
    unsafe { write_volatile(CLINT_MTIMECMP as *mut u64, ticks) };
}

/// Arms the watchdog `deadline_ms` from now (0: none).
pub fn arm(deadline_ms: u64) {
    if deadline_ms == 0 {
        return;
    }
    let deadline = mtime().saturating_add(deadline_ms.saturating_mul(MTIME_HZ / 1000));
    DEADLINE.store(deadline, Ordering::Relaxed);
    DEADLINE_MS.store(deadline_ms, Ordering::Relaxed);
    set_compare(deadline);
    // SAFETY: enables the machine timer interrupt, which `kiln_trap_entry`
    // handles without losing the interrupted code's registers.
    unsafe {
        core::arch::asm!("csrs mie, {}", in(reg) MIE_MTIE);
        core::arch::asm!("csrs mstatus, {}", in(reg) MSTATUS_MIE);
    }
}

/// The watchdog's deadline in ticks, if armed: `sleep_until` wakes by then.
pub fn limit() -> Option<u64> {
    match DEADLINE.load(Ordering::Relaxed) {
        0 => None,
        d => Some(d),
    }
}

/// Gives `mtimecmp` back to the watchdog after `sleep_until` used it.
pub fn restore() {
    match limit() {
        Some(deadline) => set_compare(deadline),
        None => {
            // SAFETY: the timer interrupt is only wanted for the watchdog.
            unsafe { core::arch::asm!("csrc mie, {}", in(reg) MIE_MTIE) };
            set_compare(u64::MAX);
        }
    }
}

/// Disables machine interrupts; returns whether they were on.
pub fn disable_interrupts() -> bool {
    let old: usize;
    // SAFETY: clears mstatus.MIE; the caller restores it.
    unsafe { core::arch::asm!("csrrc {}, mstatus, {}", out(reg) old, in(reg) MSTATUS_MIE) };
    old & MSTATUS_MIE != 0
}

pub fn enable_interrupts(on: bool) {
    if on {
        // SAFETY: sets mstatus.MIE back as `disable_interrupts` found it.
        unsafe { core::arch::asm!("csrs mstatus, {}", in(reg) MSTATUS_MIE) };
    }
}

/// What `kiln_trap_entry` does after [`kiln_board_interrupt`]: `a0 == 0`
/// returns to the interrupted code with its registers restored; otherwise
/// `mepc` was set to the runtime's resume and `a0`/`a1` are its arguments.
#[repr(C)]
pub struct InterruptReturn {
    a0: usize,
    a1: usize,
}

/// Called by `kiln_trap_entry` for an interrupt, on the exception stack.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_interrupt(mcause: usize, mepc: usize) -> InterruptReturn {
    const MACHINE_TIMER: usize = 7;
    let back = InterruptReturn { a0: 0, a1: 0 };
    if mcause & 0xff != MACHINE_TIMER {
        // `mie` enables nothing else, so this cannot happen; leave it.
        return back;
    }
    let deadline = DEADLINE.load(Ordering::Relaxed);
    if deadline == 0 {
        // Disarmed (the run was interrupted): make sure it stays quiet.
        set_compare(u64::MAX);
        return back;
    }
    let now = mtime();
    if now < deadline {
        set_compare(deadline);
        return back;
    }
    if let Some(resume) = kiln_runtime::trap::on_interrupt(mepc) {
        set_compare(u64::MAX);
        DEADLINE.store(0, Ordering::Relaxed);
        // SAFETY: `mret` continues at the runtime's resume routine, which
        // restores the stack and registers of the guarded call.
        unsafe { core::arch::asm!("csrw mepc, {}", in(reg) resume.pc) };
        return InterruptReturn {
            a0: resume.args[0],
            a1: resume.args[1],
        };
    }
    if now < deadline.saturating_add(GRACE_TICKS) {
        set_compare(now + RETRY_TICKS);
        return back;
    }
    console::write(
        Stream::Stderr,
        b"kiln: timeout: the program passed its deadline of ",
    );
    console::write_dec(DEADLINE_MS.load(Ordering::Relaxed));
    console::write(
        Stream::Stderr,
        b" ms and did not return to Wasm code within 1 s (stuck in a host call)\n",
    );
    crate::exit(exit_status::TIMEOUT)
}
