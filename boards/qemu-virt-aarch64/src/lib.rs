//! Kiln board for QEMU's aarch64 `virt` machine: EL1 with an identity-mapped
//! MMU, PL011 UART console, semihosting exit, generic timer clock, PL031 RTC
//! date, RNDR entropy, PMU cycle counter. `docs/boards.md` describes the
//! memory map, boot flow and trap handling.
#![no_std]

mod boot;
mod console;
#[cfg(feature = "selftest")]
mod selftest;
mod trap;
mod uart;
mod vm;
mod watchdog;

use core::ptr::read_volatile;

use kiln_runtime::abi::{AppManifest, exit_status};
use kiln_runtime::board::{Board, Clock, Entropy, Stream};
use kiln_runtime::heap::Heap;

#[global_allocator]
static HEAP: Heap = Heap::new();

unsafe extern "C" {
    /// Linked in by `kiln build` beside the compiled modules.
    static kiln_app_manifest: AppManifest;
    // From link.ld (only their addresses are used).
    static __kiln_stack_bottom: u8;
    static __kiln_heap_start: u8;
    static __kiln_heap_end: u8;
}

const PL031_RTC: usize = 0x0901_0000;
/// Room below the stack limit for the runtime's own frames (host functions
/// called from Wasm) when compiled code has used the stack up to the limit.
const STACK_MARGIN: usize = 64 * 1024;
/// Semihosting operations and the reason code for a normal exit.
const SYS_EXIT: u64 = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

macro_rules! read_sysreg {
    ($name:literal) => {{
        let value: u64;
        // SAFETY: reads a system register that is readable at EL1.
        unsafe { core::arch::asm!(concat!("mrs {}, ", $name), out(reg) value, options(nomem, nostack)) };
        value
    }};
}

/// Entered from `_start` on SP_EL0 with the MMU, caches and FP on and `.bss`
/// zeroed.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_main() -> ! {
    let heap_start = &raw const __kiln_heap_start as usize;
    let heap_end = &raw const __kiln_heap_end as usize;
    // SAFETY: link.ld reserves this range of DRAM for the heap alone.
    unsafe { HEAP.claim(heap_start as *mut u8, heap_end - heap_start) };
    uart::init();
    kiln_runtime::board::set_virtual_memory(&vm::BOARD_VM);
    let has_pmu = enable_cycle_counter();
    let counter_hz = read_sysreg!("cntfrq_el0").max(1);
    enable_event_stream(counter_hz);
    let mut board = QemuVirt {
        output: console::Output {
            stream: Stream::Stdout,
        },
        stdin: console::Stdin::new(),
        counter_hz,
        realtime_offset: None,
        has_pmu,
        has_rndr: (read_sysreg!("id_aa64isar0_el1") >> 60) & 0xf != 0,
    };
    #[cfg(feature = "selftest")]
    selftest::run(&mut board);
    // SAFETY: `kiln build` links an `AppManifest` under this name; it is
    // immutable data in the image.
    let manifest = unsafe { &kiln_app_manifest };
    if !watchdog::arm(manifest.deadline_ms, counter_hz) {
        console::write(
            Stream::Stderr,
            b"kiln: error: cannot arm the watchdog: the interrupt controller is not a GICv2\n",
        );
        exit(exit_status::LOAD_ERROR);
    }
    kiln_runtime::start(&mut board, manifest)
}

/// Starts PMCCNTR_EL0 counting at EL1, if the core has a PMU.
fn enable_cycle_counter() -> bool {
    let version = (read_sysreg!("id_aa64dfr0_el1") >> 8) & 0xf;
    if version == 0 || version == 0xf {
        return false;
    }
    // SAFETY: the PMU exists; PMCR_EL0.E|LC enables the 64-bit cycle
    // counter, PMCCFILTR_EL0 = 0 counts at EL1, PMCNTENSET_EL0.C starts it.
    unsafe {
        core::arch::asm!(
            "mrs {t}, pmcr_el0",
            "mov {u}, #((1 << 0) | (1 << 6))",
            "orr {t}, {t}, {u}",
            "msr pmcr_el0, {t}",
            "msr pmccfiltr_el0, xzr",
            "mov {t}, #(1 << 31)",
            "msr pmcntenset_el0, {t}",
            "isb",
            t = out(reg) _,
            u = out(reg) _,
        )
    };
    true
}

/// Makes the generic timer send an event about every 100 us, so that `wfe`
/// in `sleep_until` wakes up without interrupts (which stay off).
fn enable_event_stream(counter_hz: u64) {
    // An event when counter bit `n` rises: every 2^(n + 1) ticks.
    let ticks = (counter_hz / 10_000).max(2);
    let n = (63 - ticks.leading_zeros() as u64)
        .saturating_sub(1)
        .min(15);
    // SAFETY: CNTKCTL_EL1.EVNTI = n, EVNTEN = 1; the other bits (EL0
    // access to the counters) are kept.
    unsafe {
        core::arch::asm!(
            "mrs {t}, cntkctl_el1",
            "bic {t}, {t}, #0xf0",
            "orr {t}, {t}, {n}",
            "msr cntkctl_el1, {t}",
            "isb",
            t = out(reg) _,
            n = in(reg) (n << 4) | (1 << 2),
        )
    };
}

/// Ends QEMU with `status` through semihosting SYS_EXIT (AArch64 form: a
/// block with the reason and the exit code).
pub fn exit(status: u32) -> ! {
    uart::flush();
    let block: [u64; 2] = [ADP_STOPPED_APPLICATION_EXIT, status as u64];
    // SAFETY: the semihosting call reads `block` and ends QEMU.
    unsafe {
        core::arch::asm!("hlt #0xf000", in("x0") SYS_EXIT, in("x1") block.as_ptr(), options(nostack));
    }
    loop {
        // SAFETY: waits for an event; nothing else runs.
        unsafe { core::arch::asm!("wfe") };
    }
}

pub struct QemuVirt {
    output: console::Output,
    stdin: console::Stdin,
    counter_hz: u64,
    /// Realtime minus monotonic, read from the RTC on first use.
    realtime_offset: Option<u64>,
    has_pmu: bool,
    /// FEAT_RNG: the RNDR register.
    has_rndr: bool,
}

impl Clock for QemuVirt {
    fn monotonic_ns(&mut self) -> u64 {
        let ticks = read_sysreg!("cntvct_el0");
        let hz = self.counter_hz;
        (ticks / hz) * 1_000_000_000 + (ticks % hz) * 1_000_000_000 / hz
    }

    fn realtime_ns(&mut self) -> Option<u64> {
        let now = self.monotonic_ns();
        let offset = *self.realtime_offset.get_or_insert_with(|| {
            // SAFETY: the PL031 data register: seconds since 1970.
            let seconds = unsafe { read_volatile(PL031_RTC as *const u32) } as u64;
            (seconds * 1_000_000_000).wrapping_sub(now)
        });
        Some(offset.wrapping_add(now))
    }

    fn resolution_ns(&mut self) -> u64 {
        1_000_000_000_u64.div_ceil(self.counter_hz)
    }

    /// Waits in `wfe`, woken by the timer's event stream (and any event).
    fn sleep_until(&mut self, deadline_ns: u64) {
        while self.monotonic_ns() < deadline_ns {
            // SAFETY: waits for an event; the event stream bounds the wait.
            unsafe { core::arch::asm!("wfe", options(nomem, nostack)) };
        }
    }

    fn cycles(&mut self) -> Option<u64> {
        self.has_pmu.then(|| read_sysreg!("pmccntr_el0"))
    }
}

impl Entropy for QemuVirt {
    fn fill_random(&mut self, buf: &mut [u8]) -> bool {
        if !self.has_rndr {
            return false;
        }
        for chunk in buf.chunks_mut(8) {
            let mut tries = 0u32;
            let value = loop {
                let value: u64;
                let ok: u64;
                // SAFETY: FEAT_RNG is present; RNDR clears Z on success.
                unsafe {
                    core::arch::asm!(
                        "mrs {v}, s3_3_c2_c4_0",
                        "cset {ok}, ne",
                        v = out(reg) value,
                        ok = out(reg) ok,
                        options(nomem, nostack),
                    )
                };
                if ok != 0 {
                    break value;
                }
                tries += 1;
                if tries > 1000 {
                    return false;
                }
            };
            for (byte, value) in chunk.iter_mut().zip(value.to_le_bytes()) {
                *byte = value;
            }
        }
        true
    }
}

impl Board for QemuVirt {
    type Stdin = console::Stdin;
    type Output = console::Output;

    fn stdin(&mut self) -> &mut console::Stdin {
        &mut self.stdin
    }

    fn output(&mut self, stream: Stream) -> &mut console::Output {
        self.output.stream = stream;
        &mut self.output
    }

    fn exit(&mut self, status: u32) -> ! {
        exit(status)
    }

    fn stack_limit(&mut self) -> usize {
        &raw const __kiln_stack_bottom as usize + STACK_MARGIN
    }

    fn stdin_ready(&mut self) -> bool {
        self.stdin.ready()
    }

    /// The UART is a serial console: a terminal, as `/dev/ttyS0` is for an
    /// operating system on the same machine. Interactive programs (the
    /// CPython REPL) prompt; a program's output is the same either way.
    fn is_terminal(&mut self, fd: u32) -> bool {
        fd <= 2
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    console::write(Stream::Stderr, b"kiln: panic");
    if let Some(location) = info.location() {
        console::write(Stream::Stderr, b" at ");
        console::write(Stream::Stderr, location.file().as_bytes());
        console::write(Stream::Stderr, b":");
        console::write_dec(location.line() as u64);
    }
    // Only a static message is printed: formatting arbitrary panic
    // payloads would link `core::fmt` into every firmware.
    if let Some(message) = info.message().as_str() {
        console::write(Stream::Stderr, b": ");
        console::write(Stream::Stderr, message.as_bytes());
    }
    console::write(Stream::Stderr, b"\n");
    exit(exit_status::FAULT)
}

// The entry points and host functions firmware links by symbol.
kiln_runtime::export_board!(QemuVirt);
