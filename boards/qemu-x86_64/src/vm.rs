//! Guard regions through the MMU: the runtime's slot memory
//! (`kiln_runtime::paging`) with long-mode page-table entries. The boot code
//! maps the first GiB one to one (`boot.rs`, PML4 entry 0) and leaves the
//! rest of the 48-bit address space to the linear memories' slots, so code
//! for this board is compiled without bounds checks (`bounds-checks =
//! "guard"` in board.toml), as on the host.

use kiln_runtime::paging::{PageFormat, SlotMemory};

unsafe extern "C" {
    /// The PML4 (`boot.rs`), in `.bss`.
    static mut kiln_pml4: [u64; 512];
}

pub struct LongModePages;

impl PageFormat for LongModePages {
    /// Present, writable: the next level's table.
    const TABLE: u64 = 0b11;
    const ADDRESS_MASK: u64 = 0x000f_ffff_ffff_f000;

    /// Present, writable, supervisor 4 KiB page; execute-disable when the
    /// boot code could turn EFER.NXE on (the bit is reserved otherwise).
    fn page() -> u64 {
        const EFER: u32 = 0xc000_0080;
        const NXE: u64 = 1 << 11;
        let (low, high): (u32, u32);
        // SAFETY: reading EFER at CPL 0 has no side effects.
        unsafe {
            core::arch::asm!("rdmsr", in("ecx") EFER, out("eax") low, out("edx") high, options(nomem, nostack))
        };
        let efer = (u64::from(high) << 32) | u64::from(low);
        if efer & NXE != 0 {
            0b11 | (1 << 63)
        } else {
            0b11
        }
    }

    fn root() -> *mut u64 {
        (&raw mut kiln_pml4).cast()
    }

    fn sync(removed: bool) {
        // Entries that were not present are never cached, so only removals
        // need a flush: reloading CR3 drops every non-global translation.
        if removed {
            // SAFETY: CR3 keeps its value; the flush has no other effect.
            unsafe {
                core::arch::asm!("mov {t}, cr3", "mov cr3, {t}", t = out(reg) _, options(nostack))
            };
        }
    }
}

pub static BOARD_VM: SlotMemory<LongModePages> = SlotMemory::new();
