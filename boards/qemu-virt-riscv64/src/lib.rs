//! Kiln board for QEMU's riscv64 `virt` machine, run with `-bios none`: the
//! firmware owns M-mode, with its data accesses translated by Sv48 paging
//! (`mstatus.MPRV`, vm.rs) for guard regions. NS16550 UART console, sifive_test exit, CLINT `mtime`
//! (10 MHz) clock, goldfish RTC date, Zkr `seed` entropy. `docs/boards.md`
//! describes the memory map, boot flow and trap handling.
#![no_std]

mod boot;
mod console;
mod isa;
#[cfg(feature = "selftest")]
mod selftest;
mod trap;
mod uart;
mod vm;
mod watchdog;

use core::ptr::{read_volatile, write_volatile};

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

const SIFIVE_TEST: usize = 0x0010_0000;
const GOLDFISH_RTC: usize = 0x0010_1000;
const CLINT_MTIME: usize = 0x0200_bff8;
/// Hart 0's timer compare register.
const CLINT_MTIMECMP: usize = 0x0200_4000;
/// `mie.MTIE`: the machine timer interrupt (the watchdog, and to wake `wfi`).
const MIE_MTIE: usize = 1 << 7;
/// `timebase-frequency` of the virt machine.
const MTIME_HZ: u64 = 10_000_000;
/// Room below the stack limit for the runtime's own frames (host functions
/// called from Wasm) when compiled code has used the stack up to the limit.
const STACK_MARGIN: usize = 64 * 1024;
/// The Zkr entropy source CSR.
const CSR_SEED: usize = 0x015;

/// Entered from `_start` on the stack, with `.bss` zeroed; `a0` and `a1` are
/// still what QEMU's reset code passed: the hart id and the device tree.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_main(_hart: usize, device_tree: usize) -> ! {
    // Before the heap is claimed: the device tree lies in its RAM.
    kiln_runtime::cpu::set_riscv_extensions(isa::runtime_extensions(device_tree));
    let heap_start = &raw const __kiln_heap_start as usize;
    let heap_end = &raw const __kiln_heap_end as usize;
    // SAFETY: link.ld reserves this range of DRAM for the heap alone.
    unsafe { HEAP.claim(heap_start as *mut u8, heap_end - heap_start) };
    if vm::init() {
        kiln_runtime::board::set_virtual_memory(&vm::BOARD_VM);
    }
    uart::init();
    let mut board = QemuVirt {
        output: console::Output {
            stream: Stream::Stdout,
        },
        stdin: console::Stdin::new(),
        realtime_offset: None,
        seed: None,
    };
    #[cfg(feature = "selftest")]
    selftest::run(&mut board);
    // SAFETY: `kiln build` links an `AppManifest` under this name; it is
    // immutable data in the image.
    let manifest = unsafe { &kiln_app_manifest };
    watchdog::arm(manifest.deadline_ms);
    kiln_runtime::start(&mut board, manifest)
}

/// Ends QEMU with `status` through the sifive_test finisher.
pub fn exit(status: u32) -> ! {
    uart::flush();
    let value = if status == 0 {
        0x5555
    } else {
        (status << 16) | 0x3333
    };
    // SAFETY: the finisher register of the virt machine.
    unsafe { write_volatile(SIFIVE_TEST as *mut u32, value) };
    loop {
        // SAFETY: waits for an interrupt; none are enabled.
        unsafe { core::arch::asm!("wfi") };
    }
}

pub struct QemuVirt {
    output: console::Output,
    stdin: console::Stdin,
    /// Realtime minus monotonic, read from the RTC on first use.
    realtime_offset: Option<u64>,
    /// Whether the Zkr `seed` CSR exists, probed on first use.
    seed: Option<bool>,
}

fn mtime() -> u64 {
    // SAFETY: the CLINT's 64-bit mtime register.
    unsafe { read_volatile(CLINT_MTIME as *const u64) }
}

impl Clock for QemuVirt {
    fn monotonic_ns(&mut self) -> u64 {
        mtime() * (1_000_000_000 / MTIME_HZ)
    }

    fn realtime_ns(&mut self) -> Option<u64> {
        let now = self.monotonic_ns();
        let offset = *self.realtime_offset.get_or_insert_with(|| {
            // SAFETY: goldfish RTC registers; reading TIME_LOW latches TIME_HIGH.
            let rtc = unsafe {
                let low = read_volatile(GOLDFISH_RTC as *const u32) as u64;
                let high = read_volatile((GOLDFISH_RTC + 4) as *const u32) as u64;
                (high << 32) | low
            };
            rtc.wrapping_sub(now)
        });
        Some(offset.wrapping_add(now))
    }

    fn resolution_ns(&mut self) -> u64 {
        1_000_000_000 / MTIME_HZ
    }

    /// Sleeps in `wfi` until the deadline: the timer compare makes the
    /// machine timer interrupt pending, which wakes `wfi` while interrupts
    /// are globally off (`mstatus.MIE = 0`), so no trap is taken. A sleep
    /// ends early at the watchdog's deadline, which then stops the program.
    fn sleep_until(&mut self, deadline_ns: u64) {
        let ns_per_tick = 1_000_000_000 / MTIME_HZ;
        let deadline = deadline_ns
            .div_ceil(ns_per_tick)
            .min(watchdog::limit().unwrap_or(u64::MAX));
        let interrupts = watchdog::disable_interrupts();
        // SAFETY: hart 0's mtimecmp (only hart 0 runs) and mie.MTIE; with
        // mstatus.MIE clear the pending interrupt only ends `wfi`.
        unsafe {
            write_volatile(CLINT_MTIMECMP as *mut u64, deadline);
            core::arch::asm!("csrs mie, {}", in(reg) MIE_MTIE);
            while mtime() < deadline {
                core::arch::asm!("wfi");
            }
        }
        watchdog::restore();
        watchdog::enable_interrupts(interrupts);
    }

    fn cycles(&mut self) -> Option<u64> {
        let cycles: u64;
        // SAFETY: mcycle is readable in M-mode.
        unsafe { core::arch::asm!("csrr {}, mcycle", out(reg) cycles) };
        Some(cycles)
    }
}

/// Whether reading the `seed` CSR works (Zkr), found by trying it with a
/// temporary trap vector that skips the instruction if it is illegal.
fn probe_seed() -> bool {
    let ok: usize;
    // SAFETY: swaps mtvec for a local handler that clears `ok` and steps
    // over the 4-byte CSR access, then restores mtvec; no other trap can
    // happen in between (interrupts are off).
    unsafe {
        core::arch::asm!(
            "la {saved}, 2f",
            "csrrw {saved}, mtvec, {saved}",
            "li {ok}, 1",
            "csrrw {tmp}, {csr}, zero",
            "j 3f",
            ".balign 4",
            "2:",
            "li {ok}, 0",
            "csrr {tmp}, mepc",
            "addi {tmp}, {tmp}, 4",
            "csrw mepc, {tmp}",
            "mret",
            "3:",
            "csrw mtvec, {saved}",
            saved = out(reg) _,
            ok = out(reg) ok,
            tmp = out(reg) _,
            csr = const CSR_SEED,
        )
    };
    ok != 0
}

impl Entropy for QemuVirt {
    fn fill_random(&mut self, buf: &mut [u8]) -> bool {
        if !*self.seed.get_or_insert_with(probe_seed) {
            return false;
        }
        for pair in buf.chunks_mut(2) {
            let mut tries = 0u32;
            let bits = loop {
                let seed: usize;
                // SAFETY: Zkr is present (probed above); M-mode may read seed.
                unsafe {
                    core::arch::asm!("csrrw {}, {csr}, zero", out(reg) seed, csr = const CSR_SEED)
                };
                match (seed >> 30) & 3 {
                    0b10 => break seed as u16,
                    // DEAD: the source failed for good.
                    0b11 => return false,
                    // BIST or WAIT: try again, but not forever.
                    _ => {
                        tries += 1;
                        if tries > 1_000_000 {
                            return false;
                        }
                    }
                }
            };
            for (byte, value) in pair.iter_mut().zip(bits.to_le_bytes()) {
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
