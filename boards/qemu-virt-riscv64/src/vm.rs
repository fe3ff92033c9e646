//! Guard regions through the MMU: Sv48 page tables for the firmware's data
//! accesses, and the runtime's slot memory (`kiln_runtime::paging`) with
//! this board's entries. The firmware stays in M-mode, where paging does not
//! apply, but sets `mstatus.MPRV`: loads and stores are then translated and
//! checked as if in the mode `mstatus.MPP` names. `mret` leaves MPP = U, so
//! while the program runs, data accesses go through the page tables as
//! U-mode accesses (instruction fetches stay physical). A trap sets MPP = M,
//! so the trap handler's own accesses are physical until its `mret`.
//!
//! [`init`] maps the first 4 GiB one to one (except the first MiB, so that
//! null pointers fault) and leaves the rest of the 48-bit address space to
//! the linear memories' slots, so code for this board is compiled without
//! bounds checks (`bounds-checks = "guard"` in board.toml). An access past
//! a memory's length is then a load or store page fault (trap.rs).

use core::cell::UnsafeCell;

use kiln_runtime::paging::{PageFormat, SlotMemory};

/// A 4 KiB-aligned table of 512 entries.
#[repr(C, align(4096))]
struct Table(UnsafeCell<[u64; 512]>);

// SAFETY: one hart; written by `init` before paging is on, and the root by
// the slot memory afterwards (which the runtime never re-enters).
unsafe impl Sync for Table {}

impl Table {
    const fn new() -> Self {
        Table(UnsafeCell::new([0; 512]))
    }

    fn entries(&self) -> *mut u64 {
        self.0.get().cast()
    }
}

/// Level 0 (satp's root): entry 0 maps the first 512 GiB (level 1 below),
/// entries 1 to 16 are the slots' (`paging.rs`).
static ROOT: Table = Table::new();
/// Level 1 of the first 512 GiB: 0..1 GiB through `LOW_2M`, 1..4 GiB as
/// 1 GiB pages (PCIe windows, DRAM at 2 GiB).
static LOW_1G: Table = Table::new();
/// Level 2 of the first GiB: 0..2 MiB through `LOW_4K`, the rest (CLINT,
/// PLIC, UART, virtio, flash) as 2 MiB pages.
static LOW_2M: Table = Table::new();
/// Level 3 of the first 2 MiB: only 1..2 MiB (sifive_test, goldfish RTC).
static LOW_4K: Table = Table::new();

const V: u64 = 1 << 0;
const R: u64 = 1 << 1;
const W: u64 = 1 << 2;
const U: u64 = 1 << 4;
const A: u64 = 1 << 6;
const D: u64 = 1 << 7;
/// A leaf for data: the program's accesses are U-mode ones (MPP = U), and
/// A/D are preset (QEMU sets them itself; other cores may fault instead).
/// Never executable: instruction fetches are not translated in M-mode.
const DATA: u64 = V | R | W | U | A | D;
/// satp.MODE for Sv48.
const SV48: u64 = 9;
/// `mstatus.MPRV` and `mstatus.MPP`.
const MSTATUS_MPRV: usize = 1 << 17;
const MSTATUS_MPP: usize = 3 << 11;

pub struct Sv48Pages;

impl PageFormat for Sv48Pages {
    /// V alone: a pointer to the next level's table.
    const TABLE: u64 = V;
    /// The physical page number, bits 10 to 53.
    const ADDRESS_MASK: u64 = 0x003f_ffff_ffff_fc00;

    fn page() -> u64 {
        DATA
    }

    /// `(address >> 12) << 10`: the page number at bit 10.
    fn encode(address: u64) -> u64 {
        address >> 2
    }

    fn decode(entry: u64) -> u64 {
        (entry & Self::ADDRESS_MASK) << 2
    }

    fn root() -> *mut u64 {
        ROOT.entries()
    }

    /// Orders the table writes before later translations and drops cached
    /// ones (the spec asks for it after any change, even a new mapping).
    fn sync(_removed: bool) {
        // SAFETY: TLB maintenance has no other effect.
        unsafe { core::arch::asm!("sfence.vma", options(nostack)) };
    }
}

pub static BOARD_VM: SlotMemory<Sv48Pages> = SlotMemory::new();

/// Builds the identity map, opens PMP entry 0 over the whole address space
/// to U-mode (an M-mode access with MPRV = 1 is checked as a U-mode one),
/// turns Sv48 on and sets MPRV with MPP = U. Returns false, with paging
/// left off, when the core has no Sv48.
pub fn init() -> bool {
    let (root, l1, l2, l3) = (
        ROOT.entries(),
        LOW_1G.entries(),
        LOW_2M.entries(),
        LOW_4K.entries(),
    );
    // SAFETY: the tables are this module's, and paging is still off.
    unsafe {
        for page in 256..512u64 {
            *l3.add(page as usize) = Sv48Pages::encode(page << 12) | DATA;
        }
        *l2 = Sv48Pages::encode(l3 as u64) | V;
        for block in 1..512u64 {
            *l2.add(block as usize) = Sv48Pages::encode(block << 21) | DATA;
        }
        *l1 = Sv48Pages::encode(l2 as u64) | V;
        for gib in 1..4u64 {
            *l1.add(gib as usize) = Sv48Pages::encode(gib << 30) | DATA;
        }
        *root = Sv48Pages::encode(l1 as u64) | V;
    }
    let satp = (SV48 << 60) | (root as u64 >> 12);
    let set: u64;
    // SAFETY: PMP entry 0 NAPOT over everything, R|W|X (no lock: M-mode
    // stays unrestricted); satp with the root above. The `sfence.vma`
    // orders the table writes before the first translation.
    unsafe {
        core::arch::asm!(
            "li {t}, -1",
            "csrw pmpaddr0, {t}",
            "li {t}, 0x1f",
            "csrw pmpcfg0, {t}",
            "sfence.vma",
            "csrw satp, {satp}",
            "csrr {set}, satp",
            "sfence.vma",
            t = out(reg) _,
            satp = in(reg) satp,
            set = lateout(reg) set,
            options(nostack),
        )
    };
    if set != satp {
        return false;
    }
    // SAFETY: MPP = U, then MPRV: from here on this hart's loads and stores
    // go through the identity map, which covers everything the firmware
    // touches (image, stacks, heap, devices).
    unsafe {
        core::arch::asm!(
            "csrc mstatus, {mpp}",
            "csrs mstatus, {mprv}",
            mpp = in(reg) MSTATUS_MPP,
            mprv = in(reg) MSTATUS_MPRV,
            options(nostack),
        )
    };
    true
}
