//! The watchdog: stops a program that runs past the manifest's deadline
//! (`kiln run --timeout`, `kiln build --timeout`).
//!
//! `arm` switches the local APIC to x2APIC mode (its registers are MSRs, so
//! nothing needs mapping above the first GiB), masks the legacy PICs and the
//! LINT pins, measures the APIC timer against the TSC and starts it in
//! one-shot mode (vector 32, the only interrupt this board enables).
//! `kiln_timer_entry` saves the caller-saved registers (board code is
//! soft-float: no vector state) and calls [`kiln_board_timer`]. At the
//! deadline, when the interrupted PC is compiled Wasm code, the runtime's
//! `trap::on_interrupt` gives a resume and the run ends like a trap with
//! `Interrupted` (status 124); anywhere else the timer fires again 1 ms
//! later, and after 1 s outside Wasm code the board prints a line and
//! exits 124. Before the deadline the timer only wakes to re-arm (a
//! one-shot count is 32 bits).

use core::arch::x86_64::{__cpuid, _rdtsc};
use core::sync::atomic::{AtomicU64, Ordering};

use kiln_runtime::abi::exit_status;
use kiln_runtime::board::Stream;

use crate::{console, outb, trap};

const TIMER_VECTOR: usize = 32;
const SPURIOUS_VECTOR: usize = 33;

const IA32_APIC_BASE: u32 = 0x1b;
const X2APIC_EOI: u32 = 0x80b;
const X2APIC_SVR: u32 = 0x80f;
const X2APIC_LVT_TIMER: u32 = 0x832;
const X2APIC_LVT_LINT0: u32 = 0x835;
const X2APIC_LVT_LINT1: u32 = 0x836;
const X2APIC_INITIAL_COUNT: u32 = 0x838;
const X2APIC_CURRENT_COUNT: u32 = 0x839;
const X2APIC_DIVIDE: u32 = 0x83e;
const LVT_MASKED: u64 = 1 << 16;

/// Deadline in TSC ticks (0: none), TSC and APIC timer frequencies.
static DEADLINE: AtomicU64 = AtomicU64::new(0);
static DEADLINE_MS: AtomicU64 = AtomicU64::new(0);
static TSC_HZ: AtomicU64 = AtomicU64::new(1);
static APIC_HZ: AtomicU64 = AtomicU64::new(1);

core::arch::global_asm!(
    ".pushsection .text.kiln_watchdog, \"ax\"",
    ".balign 16",
    ".globl kiln_timer_entry",
    "kiln_timer_entry:",
    // Stack (IST1): RIP, CS, RFLAGS, RSP, SS; 8 mod 16 here.
    "    push rax",
    "    push rcx",
    "    push rdx",
    "    push rsi",
    "    push rdi",
    "    push r8",
    "    push r9",
    "    push r10",
    "    push r11",
    "    cld",
    "    lea rdi, [rsp + 72]",
    // Returns 0 in rax to go back, or the resume arguments in rax/rdx
    // after rewriting the saved RIP.
    "    call kiln_board_timer",
    "    test rax, rax",
    "    jnz 1f",
    "    pop r11",
    "    pop r10",
    "    pop r9",
    "    pop r8",
    "    pop rdi",
    "    pop rsi",
    "    pop rdx",
    "    pop rcx",
    "    pop rax",
    "    iretq",
    "1:  mov rdi, rax",
    "    mov rsi, rdx",
    "    add rsp, 72",
    "    iretq",
    ".balign 16",
    ".globl kiln_spurious_entry",
    "kiln_spurious_entry:",
    "    iretq",
    ".popsection",
);

unsafe extern "C" {
    static kiln_timer_entry: u8;
    static kiln_spurious_entry: u8;
}

fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: reads an architectural MSR that exists (x2APIC checked).
    unsafe {
        core::arch::asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack))
    };
    ((hi as u64) << 32) | lo as u64
}

fn wrmsr(msr: u32, value: u64) {
    // SAFETY: writes an x2APIC MSR with a value valid for it.
    unsafe {
        core::arch::asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nomem, nostack))
    };
}

fn tsc() -> u64 {
    // SAFETY: rdtsc is always available in long mode.
    unsafe { _rdtsc() }
}

/// Starts the one-shot timer for `ns` nanoseconds (at most its 32 bits).
fn start_timer(ns: u64) {
    let hz = APIC_HZ.load(Ordering::Relaxed);
    let ticks = (ns as u128 * hz as u128 / 1_000_000_000).clamp(1, u32::MAX as u128);
    wrmsr(X2APIC_LVT_TIMER, TIMER_VECTOR as u64);
    wrmsr(X2APIC_INITIAL_COUNT, ticks as u64);
}

fn ns_until(deadline: u64, now: u64) -> u64 {
    let hz = TSC_HZ.load(Ordering::Relaxed);
    ((deadline.saturating_sub(now)) as u128 * 1_000_000_000 / hz as u128) as u64
}

/// Arms the watchdog `deadline_ms` from now (0: none), with the TSC
/// running at `tsc_hz`. False when the CPU has no x2APIC.
pub fn arm(deadline_ms: u64, tsc_hz: u64) -> bool {
    if deadline_ms == 0 {
        return true;
    }
    if __cpuid(1).ecx & (1 << 21) == 0 {
        return false;
    }
    TSC_HZ.store(tsc_hz.max(1), Ordering::Relaxed);
    trap::set_gate(TIMER_VECTOR, &raw const kiln_timer_entry as u64);
    trap::set_gate(SPURIOUS_VECTOR, &raw const kiln_spurious_entry as u64);
    // Mask both 8259 PICs: nothing may arrive on the exception vectors.
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    // x2APIC on (EN | EXTD), software-enabled with the spurious vector.
    wrmsr(
        IA32_APIC_BASE,
        rdmsr(IA32_APIC_BASE) | (1 << 11) | (1 << 10),
    );
    wrmsr(X2APIC_SVR, (1 << 8) | SPURIOUS_VECTOR as u64);
    wrmsr(X2APIC_LVT_LINT0, LVT_MASKED);
    wrmsr(X2APIC_LVT_LINT1, LVT_MASKED);
    wrmsr(X2APIC_DIVIDE, 0b1011);
    // Measure the timer's rate against the TSC over about 1 ms.
    wrmsr(X2APIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR as u64);
    wrmsr(X2APIC_INITIAL_COUNT, u32::MAX as u64);
    let t0 = tsc();
    let window = tsc_hz / 1000;
    while tsc() - t0 < window {
        core::hint::spin_loop();
    }
    let counted = u32::MAX as u64 - rdmsr(X2APIC_CURRENT_COUNT);
    let elapsed = (tsc() - t0).max(1);
    APIC_HZ.store(
        ((counted as u128 * tsc_hz as u128 / elapsed as u128) as u64).max(1),
        Ordering::Relaxed,
    );
    wrmsr(X2APIC_INITIAL_COUNT, 0);
    let deadline = tsc().saturating_add(deadline_ms.saturating_mul(tsc_hz / 1000));
    DEADLINE.store(deadline, Ordering::Relaxed);
    DEADLINE_MS.store(deadline_ms, Ordering::Relaxed);
    start_timer(ns_until(deadline, tsc()));
    // SAFETY: enables interrupts; the only unmasked source is the timer,
    // whose entry keeps the interrupted state.
    unsafe { core::arch::asm!("sti", options(nomem, nostack)) };
    true
}

/// What `kiln_timer_entry` passes on: `rax == 0` returns to the interrupted
/// code; otherwise the saved RIP was set to the runtime's resume and
/// `rax`/`rdx` are its arguments.
#[repr(C)]
pub struct TimerReturn {
    rdi: usize,
    rsi: usize,
}

/// Called by `kiln_timer_entry` on the exception stack with the saved RIP.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_timer(rip: &mut u64) -> TimerReturn {
    let back = TimerReturn { rdi: 0, rsi: 0 };
    wrmsr(X2APIC_EOI, 0);
    let deadline = DEADLINE.load(Ordering::Relaxed);
    if deadline == 0 {
        return back;
    }
    let now = tsc();
    if now < deadline {
        start_timer(ns_until(deadline, now));
        return back;
    }
    if let Some(resume) = kiln_runtime::trap::on_interrupt(*rip as usize) {
        DEADLINE.store(0, Ordering::Relaxed);
        *rip = resume.pc as u64;
        return TimerReturn {
            rdi: resume.args[0],
            rsi: resume.args[1],
        };
    }
    let hz = TSC_HZ.load(Ordering::Relaxed);
    if now < deadline.saturating_add(hz) {
        start_timer(1_000_000);
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
