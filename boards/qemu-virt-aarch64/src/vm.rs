//! Virtual memory for linear memories: guard regions through the MMU.
//!
//! The boot code maps the first 4 GiB of virtual addresses one to one
//! (`boot.rs`) and leaves the rest of a 48-bit address space unmapped. Each
//! linear memory gets a slot of [`SLOT`] bytes above 512 GiB; only the pages
//! the memory has are mapped (to zeroed frames taken from the heap), so an
//! access past its length raises a data abort, which the exception handler
//! maps to the out-of-bounds trap by its PC. Code for this board is then
//! compiled without bounds checks (`bounds-checks = "guard"` in board.toml),
//! as on the host.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::UnsafeCell;

use kiln_runtime::board::VirtualMemory;

/// Bytes of address space per reservation (the runtime asks for 6 GiB).
const SLOT: usize = 8 << 30;
/// Where the slots start: above everything level-0 entry 0 maps.
const FIRST_SLOT: usize = 512 << 30;
/// Number of slots (8 TiB of address space).
const SLOTS: usize = 1024;
const PAGE: usize = 4096;
/// Frames are taken in Wasm pages (64 KiB), as the runtime commits them.
const FRAME_ALIGN: usize = 64 << 10;

/// Level 0-2 descriptor pointing to the next table.
const TABLE: u64 = 0b11;
/// Level 3 page: valid, page, AttrIndx 1 (normal write-back), inner
/// shareable, access flag, EL1 read/write, never executable.
const PAGE_DESC: u64 = 0b11 | (1 << 2) | (0b11 << 8) | (1 << 10) | (1 << 53) | (1 << 54);
const ADDRESS_MASK: u64 = 0x0000_ffff_ffff_f000;

unsafe extern "C" {
    /// The level-0 translation table (`boot.rs`), in writable memory.
    static mut kiln_l0_table: [u64; 512];
}

struct State {
    used: [bool; SLOTS],
    /// Frames backing committed pages: (virtual start, frame, bytes).
    frames: Vec<(usize, *mut u8, usize)>,
}

/// The board's virtual memory (one core; the runtime never calls it from
/// an exception handler).
pub struct BoardVm(UnsafeCell<State>);

// SAFETY: single core, and the runtime does not re-enter it.
unsafe impl Sync for BoardVm {}

pub static BOARD_VM: BoardVm = BoardVm(UnsafeCell::new(State {
    used: [false; SLOTS],
    frames: Vec::new(),
}));

impl BoardVm {
    #[allow(clippy::mut_from_ref)]
    fn state(&self) -> &mut State {
        // SAFETY: see the Sync impl: one user at a time.
        unsafe { &mut *self.0.get() }
    }
}

/// The level-3 entry for `va`, creating the tables on the way (zeroed
/// frames from the heap; the heap is mapped one to one).
///
/// # Safety
/// `va` is in a slot; the tables are this module's alone.
unsafe fn entry(va: usize) -> Option<*mut u64> {
    // The level-0 table is static and only this module writes it (above
    // entry 0).
    let mut table = (&raw mut kiln_l0_table).cast::<u64>();
    for shift in [39, 30, 21] {
        // SAFETY: `table` is a 512-entry table; the index is below 512.
        let e = unsafe { table.add((va >> shift) & 511) };
        // SAFETY: as above.
        if unsafe { *e } & 1 == 0 {
            // SAFETY: a non-zero layout.
            let next =
                unsafe { alloc::alloc::alloc_zeroed(Layout::from_size_align(PAGE, PAGE).ok()?) };
            if next.is_null() {
                return None;
            }
            // SAFETY: as above.
            unsafe { *e = next as u64 | TABLE };
        }
        // SAFETY: as above.
        table = (unsafe { *e } & ADDRESS_MASK) as *mut u64;
    }
    // SAFETY: a level-3 table, index below 512.
    Some(unsafe { table.add((va >> 12) & 511) })
}

/// Makes new or removed mappings visible to the MMU.
fn sync_tables(removed: bool) {
    // SAFETY: barriers and TLB maintenance have no other effect.
    unsafe {
        if removed {
            core::arch::asm!("dsb ishst", "tlbi vmalle1is", "dsb ish", "isb");
        } else {
            core::arch::asm!("dsb ishst", "isb");
        }
    }
}

impl VirtualMemory for BoardVm {
    fn reserve(&self, bytes: usize) -> Option<*mut u8> {
        if bytes > SLOT {
            return None;
        }
        let state = self.state();
        let slot = state.used.iter().position(|u| !u)?;
        state.used[slot] = true;
        Some((FIRST_SLOT + slot * SLOT) as *mut u8)
    }

    fn commit(&self, start: *mut u8, bytes: usize) -> bool {
        if bytes == 0 {
            return true;
        }
        let Ok(layout) = Layout::from_size_align(bytes, FRAME_ALIGN) else {
            return false;
        };
        // SAFETY: a non-zero layout.
        let frame = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if frame.is_null() {
            return false;
        }
        let va = start as usize;
        for page in (0..bytes).step_by(PAGE) {
            // SAFETY: `va + page` lies in a slot this module handed out.
            let Some(e) = (unsafe { entry(va + page) }) else {
                // SAFETY: allocated above with this layout; nothing maps it yet
                // except the pages before, which are unmapped again.
                unsafe { unmap(va, page) };
                unsafe { alloc::alloc::dealloc(frame, layout) };
                return false;
            };
            // SAFETY: `e` is the level-3 entry of this page.
            unsafe { *e = (frame as u64 + page as u64) | PAGE_DESC };
        }
        sync_tables(false);
        self.state().frames.push((va, frame, bytes));
        true
    }

    fn release(&self, base: *mut u8, bytes: usize) {
        let (start, end) = (base as usize, base as usize + bytes);
        let state = self.state();
        state.frames.retain(|&(va, frame, len)| {
            if va < start || va >= end {
                return true;
            }
            // SAFETY: these pages were mapped by `commit` to this frame.
            unsafe { unmap(va, len) };
            // SAFETY: allocated by `commit` with this layout.
            unsafe {
                alloc::alloc::dealloc(frame, Layout::from_size_align_unchecked(len, FRAME_ALIGN))
            };
            false
        });
        sync_tables(true);
        let slot = (start - FIRST_SLOT) / SLOT;
        if let Some(used) = state.used.get_mut(slot) {
            *used = false;
        }
    }
}

/// Clears the level-3 entries of `[va, va + bytes)`.
///
/// # Safety
/// The range was mapped by `commit`.
unsafe fn unmap(va: usize, bytes: usize) {
    for page in (0..bytes).step_by(PAGE) {
        // SAFETY: the tables for a committed page exist, so `entry` only walks.
        if let Some(e) = unsafe { entry(va + page) } {
            // SAFETY: the entry of a page of this range.
            unsafe { *e = 0 };
        }
    }
}
