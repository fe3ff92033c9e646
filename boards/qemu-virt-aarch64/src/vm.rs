//! Guard regions through the MMU: the runtime's slot memory
//! (`kiln_runtime::paging`) with this board's descriptors. The boot code
//! maps the first 4 GiB one to one (`boot.rs`) and leaves the rest of the
//! 48-bit address space to the linear memories' slots, so code for this
//! board is compiled without bounds checks (`bounds-checks = "guard"` in
//! board.toml), as on the host.

use kiln_runtime::paging::{PageFormat, SlotMemory};

unsafe extern "C" {
    /// The level-0 translation table (`boot.rs`), in writable memory.
    static mut kiln_l0_table: [u64; 512];
}

pub struct Aarch64Pages;

impl PageFormat for Aarch64Pages {
    /// Level 0-2 descriptor pointing to the next table.
    const TABLE: u64 = 0b11;
    const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;

    /// Level 3 page: valid, page, AttrIndx 1 (normal write-back), inner
    /// shareable, access flag, EL1 read/write, never executable.
    fn page() -> u64 {
        0b11 | (1 << 2) | (0b11 << 8) | (1 << 10) | (1 << 53) | (1 << 54)
    }

    fn root() -> *mut u64 {
        (&raw mut kiln_l0_table).cast()
    }

    fn sync(removed: bool) {
        // SAFETY: barriers and TLB maintenance have no other effect.
        unsafe {
            if removed {
                core::arch::asm!("dsb ishst", "tlbi vmalle1is", "dsb ish", "isb");
            } else {
                core::arch::asm!("dsb ishst", "isb");
            }
        }
    }
}

pub static BOARD_VM: SlotMemory<Aarch64Pages> = SlotMemory::new();
