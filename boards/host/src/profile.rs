//! The sampling profiler behind `kiln run --profile-out FILE`: when the
//! process has `KILN_PROFILE=FILE`, a POSIX timer on `CLOCK_MONOTONIC`
//! sends `SIGPROF` every [`PERIOD_NS`]; its handler hands the interrupted PC
//! to `kiln_runtime::profile`, and the board's exit writes the profile to
//! FILE. Wall-clock rather than CPU-time timers: Linux checks CPU-time
//! timers only at the scheduler tick, too coarse for short runs.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use kiln_runtime::abi::AppManifest;

use crate::fault::{self, KernelSigaction};
use crate::syscall;

const SIGPROF: usize = 27;
const TIMER_CREATE: usize = 222;
const TIMER_SETTIME: usize = 223;
const TIMER_DELETE: usize = 226;
const SIGEV_SIGNAL: i32 = 0;

/// 10 kHz: a one-second run gives about 10,000 samples, for a few percent
/// of overhead.
const PERIOD_NS: i64 = 100_000;

/// Where to write the profile (a leaked `KILN_PROFILE` value), and the timer.
static PATH: AtomicUsize = AtomicUsize::new(0);
static PATH_LEN: AtomicUsize = AtomicUsize::new(0);
static TIMER: AtomicUsize = AtomicUsize::new(usize::MAX);

#[repr(C)]
struct SigEvent {
    value: u64,
    signo: i32,
    notify: i32,
    pad: [u8; 48],
}

#[repr(C)]
struct ItimerSpec {
    interval: syscall::Timespec,
    value: syscall::Timespec,
}

/// Starts sampling the modules of `manifest` when the environment has
/// `KILN_PROFILE=FILE`. False if that is asked for but cannot be set up.
pub fn start(manifest: &'static AppManifest, env: &[&'static [u8]]) -> bool {
    let Some(path) = env.iter().find_map(|v| v.strip_prefix(b"KILN_PROFILE=")) else {
        return true;
    };
    kiln_runtime::profile::start(manifest);
    PATH.store(path.as_ptr() as usize, Ordering::Relaxed);
    PATH_LEN.store(path.len(), Ordering::Relaxed);
    let action = KernelSigaction::on_alt_stack(on_sample as *const () as usize).restarting();
    // SAFETY: a valid sigaction with a handler of the SA_SIGINFO shape.
    let installed = unsafe {
        syscall::syscall6(
            syscall::RT_SIGACTION,
            [SIGPROF, &action as *const _ as usize, 0, 8, 0, 0],
        ) == 0
    };
    let event = SigEvent {
        value: 0,
        signo: SIGPROF as i32,
        notify: SIGEV_SIGNAL,
        pad: [0; 48],
    };
    let mut timer: i32 = 0;
    // SAFETY: valid sigevent and timer id pointers for the call.
    let created = installed
        && unsafe {
            syscall::syscall3(
                TIMER_CREATE,
                syscall::CLOCK_MONOTONIC,
                &event as *const SigEvent as usize,
                &mut timer as *mut i32 as usize,
            )
        } == 0;
    if !created {
        return false;
    }
    TIMER.store(timer as usize, Ordering::Relaxed);
    let period = || syscall::Timespec {
        sec: 0,
        nsec: PERIOD_NS,
    };
    let spec = ItimerSpec {
        interval: period(),
        value: period(),
    };
    // SAFETY: a valid itimerspec; no old value asked for.
    unsafe {
        syscall::syscall6(
            TIMER_SETTIME,
            [
                timer as usize,
                0,
                &spec as *const ItimerSpec as usize,
                0,
                0,
                0,
            ],
        ) == 0
    }
}

/// Stops sampling and writes the profile, if one was asked for. Reports a
/// failure on stderr (`kiln run` then fails too, finding no profile).
pub fn finish() {
    let timer = TIMER.swap(usize::MAX, Ordering::Relaxed);
    if timer == usize::MAX {
        return;
    }
    // SAFETY: deleting our own timer touches no memory.
    unsafe { syscall::syscall3(TIMER_DELETE, timer, 0, 0) };
    // SAFETY: PATH/PATH_LEN describe the leaked environment string set in `start`.
    let path = unsafe {
        core::slice::from_raw_parts(
            PATH.load(Ordering::Relaxed) as *const u8,
            PATH_LEN.load(Ordering::Relaxed),
        )
    };
    let mut text = Text(Vec::new());
    if !matches!(kiln_runtime::profile::write(&mut text), Ok(true)) {
        return;
    }
    let fd = syscall::openat(
        syscall::AT_FDCWD,
        path,
        syscall::O_WRONLY | syscall::O_CREAT | syscall::O_TRUNC,
        0o644,
    );
    let written = fd >= 0 && write_all(fd as usize, &text.0);
    if fd >= 0 {
        syscall::close(fd as usize);
    }
    if !written {
        syscall::write(2, b"kiln: error: cannot write the profile to ");
        syscall::write(2, path);
        syscall::write(2, b"\n");
    }
}

fn write_all(fd: usize, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        let n = syscall::write(fd, bytes);
        if n == -syscall::EINTR {
            continue;
        }
        if n <= 0 {
            return false;
        }
        bytes = &bytes[n as usize..];
    }
    true
}

struct Text(Vec<u8>);

impl core::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// # Safety
/// Called by the kernel with valid `info` and `context` pointers.
unsafe extern "C" fn on_sample(_sig: i32, _info: *mut u8, context: *mut u8) {
    // SAFETY: the kernel passes a ucontext_t laid out as `fault` describes.
    kiln_runtime::profile::sample(unsafe { fault::pc(context) });
}
