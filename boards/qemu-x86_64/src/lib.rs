//! Kiln board for QEMU's x86_64 `microvm` machine: PVH boot into 64-bit long
//! mode, COM1 console, isa-debug-exit, TSC clock (frequency from CPUID or
//! measured against the PIT), CMOS RTC date, RDRAND entropy.
//! `docs/boards.md` describes the memory map, boot flow and trap handling.
#![no_std]

mod boot;
mod console;
#[cfg(feature = "selftest")]
mod selftest;
mod trap;
mod uart;
mod vm;
mod watchdog;

use core::arch::x86_64::{__cpuid, __cpuid_count, _rdtsc};

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

/// isa-debug-exit: QEMU exits with `(value << 1) | 1`.
const DEBUG_EXIT_PORT: u16 = 0xf4;
/// Room below the stack limit for the runtime's own frames (host functions
/// called from Wasm) when compiled code has used the stack up to the limit.
const STACK_MARGIN: usize = 64 * 1024;
const PIT_HZ: u64 = 1_193_182;

fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: port I/O to a legacy device of the machine; no memory effects.
    unsafe {
        core::arch::asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    value
}

fn outb(port: u16, value: u8) {
    // SAFETY: as in `inb`.
    unsafe {
        core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    };
}

/// Entered from the boot code in long mode on the stack, with `.bss` zeroed.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_main() -> ! {
    trap::install();
    enable_avx();
    let heap_start = &raw const __kiln_heap_start as usize;
    let heap_end = &raw const __kiln_heap_end as usize;
    // SAFETY: link.ld reserves this range of RAM for the heap alone.
    unsafe { HEAP.claim(heap_start as *mut u8, heap_end - heap_start) };
    uart::init();
    kiln_runtime::board::set_virtual_memory(&vm::BOARD_VM);
    let has_rdrand = __cpuid(1).ecx & (1 << 30) != 0;
    let mut board = QemuX86 {
        output: console::Output {
            stream: Stream::Stdout,
        },
        stdin: console::Stdin::new(),
        tsc_hz: 0,
        realtime_offset: None,
        has_rdrand,
    };
    #[cfg(feature = "selftest")]
    selftest::run(&mut board);
    // SAFETY: `kiln build` links an `AppManifest` under this name; it is
    // immutable data in the image.
    let manifest = unsafe { &kiln_app_manifest };
    if manifest.deadline_ms != 0 {
        let tsc_hz = board.tsc_hz();
        if !watchdog::arm(manifest.deadline_ms, tsc_hz) {
            console::write(
                Stream::Stderr,
                b"kiln: error: cannot arm the watchdog: the CPU has no x2APIC\n",
            );
            exit(exit_status::LOAD_ERROR);
        }
    }
    kiln_runtime::start(&mut board, manifest)
}

/// Lets compiled code use AVX where the CPU has it (XCR0 = x87|SSE|AVX).
fn enable_avx() {
    let ecx = __cpuid(1).ecx;
    let (xsave, avx) = (ecx & (1 << 26) != 0, ecx & (1 << 28) != 0);
    if !(xsave && avx) {
        return;
    }
    // SAFETY: the CPU has XSAVE and AVX: CR4.OSXSAVE enables XSETBV, which
    // then enables the AVX state; both at CPL 0.
    unsafe {
        core::arch::asm!(
            "mov rax, cr4",
            "or rax, 1 << 18",
            "mov cr4, rax",
            "xor ecx, ecx",
            "mov eax, 7",
            "xor edx, edx",
            "xsetbv",
            out("rax") _,
            out("rcx") _,
            out("rdx") _,
            options(nomem, nostack),
        )
    };
}

/// Ends QEMU with `status` through isa-debug-exit. QEMU's own status is
/// `(status << 1) | 1`; `kiln run` gives the program's status back.
pub fn exit(status: u32) -> ! {
    uart::flush();
    // SAFETY: the isa-debug-exit port ends QEMU.
    unsafe {
        core::arch::asm!("out dx, eax", in("dx") DEBUG_EXIT_PORT, in("eax") status, options(nomem, nostack))
    };
    loop {
        // SAFETY: stops the CPU; interrupts are off.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

pub struct QemuX86 {
    output: console::Output,
    stdin: console::Stdin,
    /// TSC frequency, found on first use (0 = not yet).
    tsc_hz: u64,
    /// Realtime minus monotonic, read from the RTC on first use.
    realtime_offset: Option<u64>,
    has_rdrand: bool,
}

impl QemuX86 {
    fn tsc_hz(&mut self) -> u64 {
        if self.tsc_hz == 0 {
            self.tsc_hz = tsc_hz_from_cpuid().unwrap_or_else(measure_tsc_hz).max(1);
        }
        self.tsc_hz
    }
}

/// The TSC frequency from CPUID leaf 0x15 (crystal ratio) or 0x16 (base MHz).
fn tsc_hz_from_cpuid() -> Option<u64> {
    let max = __cpuid(0).eax;
    if max >= 0x15 {
        let leaf = __cpuid_count(0x15, 0);
        if leaf.eax != 0 && leaf.ebx != 0 && leaf.ecx != 0 {
            return Some(leaf.ecx as u64 * leaf.ebx as u64 / leaf.eax as u64);
        }
    }
    if max >= 0x16 {
        let mhz = __cpuid_count(0x16, 0).eax & 0xffff;
        if mhz != 0 {
            return Some(mhz as u64 * 1_000_000);
        }
    }
    None
}

/// Reads PIT channel 0's counter (latched).
fn pit_count() -> u16 {
    outb(0x43, 0x00);
    let low = inb(0x40) as u16;
    let high = inb(0x40) as u16;
    (high << 8) | low
}

/// Measures the TSC against PIT channel 0 over about 10 ms.
fn measure_tsc_hz() -> u64 {
    const TICKS: u64 = PIT_HZ / 100;
    // Channel 0, low then high byte, mode 2, reload 65536.
    outb(0x43, 0x34);
    outb(0x40, 0);
    outb(0x40, 0);
    let mut last = pit_count();
    // SAFETY: rdtsc is always available in long mode.
    let start = unsafe { _rdtsc() };
    let mut elapsed = 0u64;
    let mut reads = 0u32;
    while elapsed < TICKS {
        let now = pit_count();
        elapsed += last.wrapping_sub(now) as u64;
        last = now;
        reads += 1;
        if reads > 10_000_000 {
            // No PIT: assume a common TSC rate rather than hang.
            return 1_000_000_000;
        }
    }
    // SAFETY: as above.
    let cycles = unsafe { _rdtsc() } - start;
    cycles * PIT_HZ / elapsed
}

/// The CMOS RTC's date and time as seconds since 1970.
fn cmos_seconds() -> u64 {
    fn read(register: u8) -> u8 {
        outb(0x70, register);
        inb(0x71)
    }
    // Wait for the end of an update in progress.
    let mut tries = 0;
    while read(0x0a) & 0x80 != 0 && tries < 1_000_000 {
        tries += 1;
    }
    let binary = read(0x0b) & 0x04 != 0;
    let value = |register: u8| {
        let raw = read(register);
        if binary {
            raw as u64
        } else {
            ((raw >> 4) * 10 + (raw & 0xf)) as u64
        }
    };
    let (second, minute, hour) = (value(0x00), value(0x02), value(0x04));
    let (day, month, year, century) = (value(0x07), value(0x08), value(0x09), value(0x32));
    let year = if century != 0 {
        century * 100 + year
    } else {
        2000 + year
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
    // days_from_civil), for years from 1970 on.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    days * 86_400 + hour * 3600 + minute * 60 + second
}

impl Clock for QemuX86 {
    fn monotonic_ns(&mut self) -> u64 {
        let hz = self.tsc_hz();
        // SAFETY: rdtsc is always available in long mode.
        let ticks = unsafe { _rdtsc() };
        (ticks / hz) * 1_000_000_000 + (ticks % hz) * 1_000_000_000 / hz
    }

    fn realtime_ns(&mut self) -> Option<u64> {
        let now = self.monotonic_ns();
        let offset = *self
            .realtime_offset
            .get_or_insert_with(|| (cmos_seconds() * 1_000_000_000).wrapping_sub(now));
        Some(offset.wrapping_add(now))
    }

    fn resolution_ns(&mut self) -> u64 {
        1_000_000_000_u64.div_ceil(self.tsc_hz())
    }

    fn cycles(&mut self) -> Option<u64> {
        // SAFETY: rdtsc is always available in long mode.
        Some(unsafe { _rdtsc() })
    }
}

impl Entropy for QemuX86 {
    fn fill_random(&mut self, buf: &mut [u8]) -> bool {
        if !self.has_rdrand {
            return false;
        }
        for chunk in buf.chunks_mut(8) {
            let mut tries = 0u32;
            let value = loop {
                let value: u64;
                let ok: u8;
                // SAFETY: the CPU has RDRAND (CPUID.1:ECX[30]); CF = success.
                unsafe {
                    core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok, options(nomem, nostack))
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

impl Board for QemuX86 {
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
kiln_runtime::export_board!(QemuX86);
