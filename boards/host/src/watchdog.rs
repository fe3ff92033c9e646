//! The watchdog: stops a program that runs past the manifest's deadline
//! (`kiln run --timeout`, `kiln build --timeout`).
//!
//! `arm` sets a one-shot `ITIMER_REAL`; its SIGALRM handler asks the runtime
//! (`trap::on_interrupt`) whether the interrupted PC is compiled Wasm code.
//! If so it resumes like a trap and the run ends with `Interrupted`
//! (`kiln: trap: interrupted in <func>`, status 124). Anywhere else (the
//! runtime, a host function, a blocking system call) the timer is set again
//! for [`RETRY_US`]; if the program has not come back to Wasm code within
//! [`GRACE_NS`] of the deadline, the board prints a line and exits with 124
//! itself.

use core::sync::atomic::{AtomicU64, Ordering};

use kiln_runtime::abi::exit_status;

use crate::fault::{self, KernelSigaction};
use crate::syscall;

const SIGALRM: usize = 14;
const SETITIMER: usize = 38;
const ITIMER_REAL: usize = 0;

/// How soon to look again when the deadline found the CPU outside Wasm code.
const RETRY_US: u64 = 1000;
/// How long after the deadline the program may stay outside Wasm code
/// before the board ends it from the signal handler.
const GRACE_NS: u64 = 1_000_000_000;

/// The deadline in `CLOCK_MONOTONIC` nanoseconds, and as given, for messages.
static DEADLINE_NS: AtomicU64 = AtomicU64::new(0);
static DEADLINE_MS: AtomicU64 = AtomicU64::new(0);

#[repr(C)]
struct ItimerVal {
    interval_sec: i64,
    interval_usec: i64,
    value_sec: i64,
    value_usec: i64,
}

fn set_timer(us: u64) -> bool {
    let t = ItimerVal {
        interval_sec: 0,
        interval_usec: 0,
        value_sec: (us / 1_000_000) as i64,
        value_usec: (us % 1_000_000).max(1) as i64,
    };
    // SAFETY: a valid `itimerval` that outlives the call; no old value.
    unsafe { syscall::syscall3(SETITIMER, ITIMER_REAL, &t as *const ItimerVal as usize, 0) == 0 }
}

/// Arms the watchdog for `deadline_ms` from now (0: no deadline). False if
/// the signal handler or the timer cannot be set up.
pub fn arm(deadline_ms: u64) -> bool {
    if deadline_ms == 0 {
        return true;
    }
    let now = syscall::clock_gettime(syscall::CLOCK_MONOTONIC).unwrap_or(0);
    DEADLINE_NS.store(
        now.saturating_add(deadline_ms.saturating_mul(1_000_000)),
        Ordering::Relaxed,
    );
    DEADLINE_MS.store(deadline_ms, Ordering::Relaxed);
    let action = KernelSigaction::on_alt_stack(on_alarm as *const () as usize);
    // SAFETY: a valid sigaction with a handler of the SA_SIGINFO shape.
    let installed = unsafe {
        syscall::syscall6(
            syscall::RT_SIGACTION,
            [SIGALRM, &action as *const _ as usize, 0, 8, 0, 0],
        ) == 0
    };
    installed && set_timer(deadline_ms.saturating_mul(1000))
}

/// # Safety
/// Called by the kernel with valid `info` and `context` pointers.
unsafe extern "C" fn on_alarm(_sig: i32, _info: *mut u8, context: *mut u8) {
    // SAFETY: the kernel passes a ucontext_t laid out as `fault` describes.
    let pc = unsafe { fault::pc(context) };
    if let Some(resume) = kiln_runtime::trap::on_interrupt(pc) {
        // SAFETY: as above; the return from the handler lands in the
        // runtime's resume routine, as for a trap.
        unsafe { fault::resume_at(context, &resume) };
        return;
    }
    let now = syscall::clock_gettime(syscall::CLOCK_MONOTONIC).unwrap_or(u64::MAX);
    if now < DEADLINE_NS.load(Ordering::Relaxed).saturating_add(GRACE_NS) && set_timer(RETRY_US) {
        return;
    }
    let mut line = crate::console::LineBuffer::new();
    let _ = core::fmt::Write::write_fmt(
        &mut line,
        format_args!(
            "kiln: timeout: the program passed its deadline of {} ms and did not return to Wasm code within 1 s (stuck in a host call)\n",
            DEADLINE_MS.load(Ordering::Relaxed)
        ),
    );
    syscall::write(2, line.as_bytes());
    syscall::exit_group(exit_status::TIMEOUT)
}
