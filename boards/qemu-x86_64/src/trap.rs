//! Exceptions: the TSS (IST1 = exception stack) and IDT for vectors 0..31,
//! and the handler. A Wasm trap (`ud2`, or a fault such as #DE or #PF at a
//! trap site of compiled code) resumes at the runtime's `kiln_resume`;
//! anything else is reported as `kiln: fault: ...` with the vector, error
//! code, RIP, CR2 and RSP, and ends the program with status 127.

use core::sync::atomic::{AtomicBool, Ordering};

use kiln_runtime::abi::exit_status;
use kiln_runtime::board::Stream;

use crate::console;

/// Set while the handler runs: a fault inside it must not loop.
static IN_HANDLER: AtomicBool = AtomicBool::new(false);

const VECTORS: usize = 32;
/// IDT entries: the exceptions, then the watchdog's timer and the APIC's
/// spurious vector (`watchdog.rs`).
const IDT_ENTRIES: usize = VECTORS + 2;
const TSS_SELECTOR: u16 = 0x18;
const CODE_SELECTOR: u64 = 0x08;

/// The 64-bit TSS as 32-bit words (its 64-bit fields are 4-byte aligned).
#[repr(C, align(16))]
struct Tss([u32; 26]);

/// IDT gates, two quadwords each.
#[repr(C, align(16))]
struct Idt([u64; 2 * IDT_ENTRIES]);

static mut TSS: Tss = Tss([0; 26]);
static mut IDT: Idt = Idt([0; 2 * IDT_ENTRIES]);

unsafe extern "C" {
    static mut kiln_gdt: [u64; 5];
    static kiln_exception_stubs: u8;
    static __kiln_exception_stack_top: u8;
}

/// Installs the TSS and IDT. Called once at boot, before anything may fault.
pub fn install() {
    let ist1 = &raw const __kiln_exception_stack_top as u64;
    let stubs = &raw const kiln_exception_stubs as u64;
    // SAFETY: single-threaded boot; nothing else uses these tables yet, and
    // the GDT slot 3..5 is reserved for this TSS descriptor.
    unsafe {
        let tss = (&raw mut TSS).cast::<u32>();
        // IST1 at byte 0x24; no I/O permission bitmap (base past the limit).
        tss.add(9).write(ist1 as u32);
        tss.add(10).write((ist1 >> 32) as u32);
        tss.add(25).write(104 << 16);
        let base = tss as u64;
        let limit = (core::mem::size_of::<Tss>() - 1) as u64;
        let gdt = (&raw mut kiln_gdt).cast::<u64>();
        gdt.add(3).write(
            (limit & 0xffff)
                | ((base & 0xff_ffff) << 16)
                | (0x89 << 40)
                | (((limit >> 16) & 0xf) << 48)
                | (((base >> 24) & 0xff) << 56),
        );
        gdt.add(4).write(base >> 32);
        for vector in 0..VECTORS {
            set_gate(vector, stubs + 16 * vector as u64);
        }
        let pointer: [u16; 5] = [
            (core::mem::size_of::<Idt>() - 1) as u16,
            &raw const IDT as u64 as u16,
            (&raw const IDT as u64 >> 16) as u16,
            (&raw const IDT as u64 >> 32) as u16,
            (&raw const IDT as u64 >> 48) as u16,
        ];
        core::arch::asm!(
            "ltr {tss:x}",
            "lidt [{pointer}]",
            tss = in(reg) TSS_SELECTOR,
            pointer = in(reg) pointer.as_ptr(),
            options(nostack),
        );
    }
}

/// Points IDT entry `vector` at `handler`: a present interrupt gate (IF
/// cleared on entry), DPL 0, on the IST1 exception stack.
pub fn set_gate(vector: usize, handler: u64) {
    assert!(vector < IDT_ENTRIES, "IDT vector out of range");
    // SAFETY: single core; the gate is written while its vector cannot be
    // raised (at boot, or before the interrupt it serves is enabled).
    unsafe {
        let idt = (&raw mut IDT).cast::<u64>();
        idt.add(2 * vector).write(
            (handler & 0xffff)
                | (CODE_SELECTOR << 16)
                | (1 << 32)
                | (0x8e << 40)
                | (((handler >> 16) & 0xffff) << 48),
        );
        idt.add(2 * vector + 1).write(handler >> 32);
    }
}

/// What the stubs push, then the CPU's interrupt frame.
#[repr(C)]
pub struct Frame {
    vector: u64,
    error: u64,
    rip: u64,
    _cs: u64,
    _rflags: u64,
    rsp: u64,
    _ss: u64,
}

/// The first two argument registers for the resumed code.
#[repr(C)]
pub struct ResumeArgs {
    rdi: usize,
    rsi: usize,
}

const NAMES: [&[u8; 3]; VECTORS] = [
    b"#DE", b"#DB", b"NMI", b"#BP", b"#OF", b"#BR", b"#UD", b"#NM", b"#DF", b"#09", b"#TS", b"#NP",
    b"#SS", b"#GP", b"#PF", b"#15", b"#MF", b"#AC", b"#MC", b"#XM", b"#VE", b"#CP", b"#22", b"#23",
    b"#24", b"#25", b"#26", b"#27", b"#HV", b"#VC", b"#SX", b"#31",
];

/// Vectors that are never a Wasm trap: NMI, double fault, machine check.
fn asynchronous_or_fatal(vector: u64) -> bool {
    matches!(vector, 2 | 8 | 18)
}

/// Called by the common stub on the IST1 stack.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_exception(frame: &mut Frame) -> ResumeArgs {
    let nested = IN_HANDLER.swap(true, Ordering::Relaxed);
    if !nested
        && !asynchronous_or_fatal(frame.vector)
        && let Some(resume) = kiln_runtime::trap::on_fault(frame.rip as usize)
    {
        frame.rip = resume.pc as u64;
        IN_HANDLER.store(false, Ordering::Relaxed);
        return ResumeArgs {
            rdi: resume.args[0],
            rsi: resume.args[1],
        };
    }
    let cr2: u64;
    // SAFETY: reads CR2 (the page-fault address) at CPL 0.
    unsafe { core::arch::asm!("mov {}, cr2", out(reg) cr2, options(nomem, nostack)) };
    console::write(Stream::Stderr, b"kiln: fault: ");
    console::write(Stream::Stderr, NAMES[frame.vector as usize % VECTORS]);
    if nested {
        console::write(Stream::Stderr, b" (in the exception handler)");
    }
    console::write(Stream::Stderr, b" vector=");
    console::write_hex(frame.vector);
    console::write(Stream::Stderr, b" error=");
    console::write_hex(frame.error);
    console::write(Stream::Stderr, b" rip=");
    console::write_hex(frame.rip);
    console::write(Stream::Stderr, b" cr2=");
    console::write_hex(cr2);
    console::write(Stream::Stderr, b" rsp=");
    console::write_hex(frame.rsp);
    console::write(Stream::Stderr, b"\n");
    crate::exit(exit_status::FAULT)
}
