//! Board self-test (feature `selftest`, used by `boards/smoke-test.sh`): runs
//! before the runtime starts. It reads one command line from stdin and
//! exercises the board services the runtime relies on:
//!
//! - `streams`: stdout, stderr, stdout again (checks the switch sequences)
//! - `info`: clocks, entropy, stack limit, an unaligned load
//! - `sleep`: `sleep_until` one second later (the host times it)
//! - `ready`: prints `stdin_ready` (the host sends more after the command)
//! - `echo`: copies stdin to stdout until the end of input (0x04)
//! - `fault`: an illegal instruction outside compiled code (expects the
//!   `kiln: fault:` line and status 127)
//! - `null`: a load from address 8 (expects a fault: null pointers trap)
//! - `panic`: a Rust panic (expects `kiln: panic` and status 127)
//!
//! Any other line goes on to `kiln_runtime::start`.

use core::fmt::Write as _;

use embedded_io::{Read, Write};
use kiln_runtime::board::{Board, Stream};

pub fn run<B: Board>(board: &mut B) {
    let mut line = [0u8; 32];
    let mut len = 0;
    let mut byte = [0u8; 1];
    while len < line.len() && matches!(board.stdin().read(&mut byte), Ok(1)) && byte[0] != b'\n' {
        line[len] = byte[0];
        len += 1;
    }
    match &line[..len] {
        b"streams" => {
            let _ = board.output(Stream::Stdout).write_all(b"out1\n");
            let _ = board.output(Stream::Stderr).write_all(b"err1\n");
            let _ = board.output(Stream::Stdout).write_all(b"out2\n");
        }
        b"info" => info(board),
        b"sleep" => {
            let deadline = board.monotonic_ns() + 1_000_000_000;
            board.sleep_until(deadline);
            let late = board.monotonic_ns() < deadline;
            let _ = board.output(Stream::Stdout).write_all(if late {
                b"selftest: woke early\n"
            } else {
                b"selftest: slept\n"
            });
        }
        b"ready" => {
            let ready = board.stdin_ready();
            let _ = writeln!(
                Fmt(board.output(Stream::Stdout)),
                "selftest: stdin_ready {ready}"
            );
        }
        b"echo" => {
            let mut buf = [0u8; 64];
            while let Ok(n @ 1..) = board.stdin().read(&mut buf) {
                let _ = board.output(Stream::Stdout).write_all(&buf[..n]);
            }
            let _ = board
                .output(Stream::Stderr)
                .write_all(b"selftest: end of input\n");
        }
        b"fault" => illegal_instruction(),
        b"null" => load_near_null(),
        b"panic" => panic!("selftest"),
        _ => {}
    }
}

fn info<B: Board>(board: &mut B) {
    let t0 = board.monotonic_ns();
    let t1 = board.monotonic_ns();
    let resolution = board.resolution_ns();
    let realtime = board.realtime_ns();
    let cycles = board.cycles();
    let mut random = [0u8; 16];
    let have_random = board.fill_random(&mut random);
    let stack_limit = board.stack_limit();
    let unaligned = load_unaligned();
    let out = board.output(Stream::Stdout);
    let _ = writeln!(
        Fmt(out),
        "selftest: monotonic_ns {t0} {t1} resolution_ns {resolution}"
    );
    match realtime {
        Some(ns) => writeln!(Fmt(out), "selftest: realtime_s {}", ns / 1_000_000_000),
        None => writeln!(Fmt(out), "selftest: realtime_s none"),
    }
    .ok();
    let _ = writeln!(Fmt(out), "selftest: cycles {cycles:?}");
    let _ = write!(Fmt(out), "selftest: random {have_random} ");
    for b in random {
        let _ = write!(Fmt(out), "{b:02x}");
    }
    let _ = writeln!(Fmt(out), "\nselftest: stack_limit {stack_limit:#x}");
    let _ = writeln!(Fmt(out), "selftest: unaligned load {unaligned:#018x}");
}

/// A 64-bit load from an odd address (compiled Wasm code does such loads):
/// must not fault.
fn load_unaligned() -> u64 {
    static BYTES: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    let address = BYTES.as_ptr() as usize + 1;
    let value: u64;
    // SAFETY: reads 8 bytes inside BYTES; the instruction itself is what is tested.
    unsafe {
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("ld {v}, 0({a})", v = out(reg) value, a = in(reg) address);
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("ldr {v}, [{a}]", v = out(reg) value, a = in(reg) address);
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("mov {v}, qword ptr [{a}]", v = out(reg) value, a = in(reg) address);
    }
    value
}

/// `core::fmt` over an `embedded_io::Write`.
struct Fmt<'a, W: Write>(&'a mut W);

impl<W: Write> core::fmt::Write for Fmt<'_, W> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

fn illegal_instruction() {
    // SAFETY: deliberately faults; the board's handler reports and exits.
    unsafe {
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("unimp");
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("udf #0");
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("ud2");
    }
}

fn load_near_null() {
    // SAFETY: deliberately faults; the board's handler reports and exits.
    unsafe {
        #[cfg(target_arch = "riscv64")]
        core::arch::asm!("ld t0, 8(zero)", out("t0") _);
        #[cfg(target_arch = "aarch64")]
        core::arch::asm!("mov x9, #8", "ldr x9, [x9]", out("x9") _);
        #[cfg(target_arch = "x86_64")]
        core::arch::asm!("mov rax, qword ptr [8]", out("rax") _);
    }
}
