//! The watchdog: stops a program that runs past the manifest's deadline
//! (`kiln run --timeout`, `kiln build --timeout`).
//!
//! `arm` programs the EL1 virtual timer (`CNTV_CVAL_EL0`, PPI 27) for the
//! deadline, routes it through the GICv2 of the `virt` machine (distributor
//! at 0x0800_0000, CPU interface at 0x0801_0000) and unmasks IRQs: the only
//! interrupt this board ever enables. The IRQ vector (boot.rs) saves the
//! caller-saved registers and calls [`kiln_board_irq`]. When the interrupted
//! PC is compiled Wasm code, the runtime's `trap::on_interrupt` gives a
//! resume and the run ends like a trap with `Interrupted` (status 124);
//! anywhere else the timer is set again 1 ms later, and after 1 s outside
//! Wasm code the board prints a line and exits 124.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU64, Ordering};

use kiln_runtime::abi::exit_status;
use kiln_runtime::board::Stream;

use crate::console;

const GICD: usize = 0x0800_0000;
const GICC: usize = 0x0801_0000;
const GICD_CTLR: usize = GICD;
const GICD_ISENABLER0: usize = GICD + 0x100;
const GICD_IPRIORITYR: usize = GICD + 0x400;
/// Peripheral ID 2: bits 7..4 are the architecture version.
const GICD_PIDR2: usize = GICD + 0xfe8;
const GICC_CTLR: usize = GICC;
const GICC_PMR: usize = GICC + 0x4;
const GICC_IAR: usize = GICC + 0xc;
const GICC_EOIR: usize = GICC + 0x10;
/// The EL1 virtual timer's interrupt (PPI 11).
const VIRTUAL_TIMER: u32 = 27;
const SPURIOUS: u32 = 1023;

/// The deadline in counter ticks; 0 when there is none.
static DEADLINE: AtomicU64 = AtomicU64::new(0);
static DEADLINE_MS: AtomicU64 = AtomicU64::new(0);
static COUNTER_HZ: AtomicU64 = AtomicU64::new(1);

fn counter() -> u64 {
    let ticks: u64;
    // SAFETY: reads the virtual counter, readable at EL1.
    unsafe { core::arch::asm!("mrs {}, cntvct_el0", out(reg) ticks, options(nomem, nostack)) };
    ticks
}

/// Sets the timer to fire at `ticks` (or switches it off for `None`).
fn set_timer(ticks: Option<u64>) {
    // SAFETY: the EL1 virtual timer's compare value and control (ENABLE,
    // IMASK clear); writing the compare value also clears a pending
    // condition when it lies in the future.
    unsafe {
        match ticks {
            Some(t) => core::arch::asm!(
                "msr cntv_cval_el0, {t}",
                "msr cntv_ctl_el0, {one}",
                "isb",
                t = in(reg) t,
                one = in(reg) 1u64,
                options(nostack),
            ),
            None => core::arch::asm!("msr cntv_ctl_el0, xzr", "isb", options(nostack)),
        }
    }
}

fn mmio_write(addr: usize, value: u32) {
    // SAFETY: GIC registers of the virt machine, mapped as device memory.
    unsafe { write_volatile(addr as *mut u32, value) }
}

fn mmio_read(addr: usize) -> u32 {
    // SAFETY: as in `mmio_write`.
    unsafe { read_volatile(addr as *const u32) }
}

/// Arms the watchdog `deadline_ms` from now (0: none). False when the
/// interrupt controller is not the GICv2 this board drives.
pub fn arm(deadline_ms: u64, counter_hz: u64) -> bool {
    if deadline_ms == 0 {
        return true;
    }
    let version = (mmio_read(GICD_PIDR2) >> 4) & 0xf;
    if version != 1 && version != 2 {
        return false;
    }
    COUNTER_HZ.store(counter_hz.max(1), Ordering::Relaxed);
    let deadline = counter().saturating_add(deadline_ms.saturating_mul(counter_hz / 1000));
    DEADLINE.store(deadline, Ordering::Relaxed);
    DEADLINE_MS.store(deadline_ms, Ordering::Relaxed);
    // Priority 0x80 for the timer, enabled; forward group 0 as IRQ;
    // accept every priority above 0xf0.
    let shift = (VIRTUAL_TIMER % 4) * 8;
    let prio = GICD_IPRIORITYR + (VIRTUAL_TIMER as usize / 4) * 4;
    mmio_write(prio, (mmio_read(prio) & !(0xff << shift)) | (0x80 << shift));
    mmio_write(GICD_ISENABLER0, 1 << VIRTUAL_TIMER);
    mmio_write(GICD_CTLR, 1);
    mmio_write(GICC_PMR, 0xf0);
    mmio_write(GICC_CTLR, 1);
    set_timer(Some(deadline));
    // SAFETY: unmasks IRQs; the IRQ vector keeps the interrupted state.
    unsafe { core::arch::asm!("msr daifclr, #2", "isb", options(nostack)) };
    true
}

/// What the IRQ vector does after [`kiln_board_irq`]: `x0 == 0` returns to
/// the interrupted code with its registers restored; otherwise `ELR_EL1`
/// was set to the runtime's resume and `x0`/`x1` are its arguments.
#[repr(C)]
pub struct IrqReturn {
    x0: usize,
    x1: usize,
}

/// Called by the IRQ vector on the exception stack with `ELR_EL1`.
#[unsafe(no_mangle)]
extern "C" fn kiln_board_irq(elr: usize) -> IrqReturn {
    let iar = mmio_read(GICC_IAR);
    let id = iar & 0x3ff;
    if id == SPURIOUS {
        return IrqReturn { x0: 0, x1: 0 };
    }
    let back = if id == VIRTUAL_TIMER {
        on_timer(elr)
    } else {
        IrqReturn { x0: 0, x1: 0 }
    };
    mmio_write(GICC_EOIR, iar);
    back
}

fn on_timer(elr: usize) -> IrqReturn {
    let back = IrqReturn { x0: 0, x1: 0 };
    let deadline = DEADLINE.load(Ordering::Relaxed);
    if deadline == 0 {
        set_timer(None);
        return back;
    }
    let now = counter();
    if now < deadline {
        set_timer(Some(deadline));
        return back;
    }
    if let Some(resume) = kiln_runtime::trap::on_interrupt(elr) {
        set_timer(None);
        DEADLINE.store(0, Ordering::Relaxed);
        // SAFETY: `eret` continues at the runtime's resume routine, which
        // restores the stack and registers of the guarded call.
        unsafe { core::arch::asm!("msr elr_el1, {}", in(reg) resume.pc) };
        return IrqReturn {
            x0: resume.args[0],
            x1: resume.args[1],
        };
    }
    let hz = COUNTER_HZ.load(Ordering::Relaxed);
    if now < deadline.saturating_add(hz) {
        set_timer(Some(now + hz / 1000));
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
