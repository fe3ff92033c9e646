//! Guard regions on bare metal: [`VirtualMemory`] for boards whose MMU walks
//! four levels of 512-entry tables down to 4 KiB pages (aarch64 with the
//! 4 KiB granule and 48-bit addresses, x86_64 long mode, riscv64 Sv48).
//! The board maps its own image one to one and leaves the address space
//! from 512 GiB up unmapped; each linear memory gets a slot of [`SLOT`]
//! bytes there, and only the pages it has are mapped, to zeroed frames
//! from the heap. An access past a memory's length then faults, and the
//! board's exception handler turns the fault at a trap site into the
//! out-of-bounds trap.
//!
//! The board supplies the descriptor format and the TLB maintenance
//! ([`PageFormat`]); the walk, the slots and the frames are here.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::marker::PhantomData;

use crate::board::VirtualMemory;

/// Bytes of address space per slot (a memory's whole reservation, 8 GiB).
pub const SLOT: usize = 8 << 30;
const _: () = assert!(crate::memory::RESERVATION_BYTES <= SLOT);
// Every slot starts at a multiple of the base alignment the runtime promises.
const _: () = assert!(
    SLOT.is_multiple_of(crate::memory::BASE_ALIGN)
        && FIRST_SLOT.is_multiple_of(crate::memory::BASE_ALIGN)
);
/// Where the slots start: above the 512 GiB that level-0 entry 0 maps.
pub const FIRST_SLOT: usize = 512 << 30;
/// Number of slots (8 TiB of address space, level-0 entries 1 to 16).
pub const SLOTS: usize = 1024;
const PAGE: usize = 4096;
/// Frames are taken in Wasm pages (64 KiB), as the runtime commits them.
const FRAME_ALIGN: usize = 64 << 10;

/// A board's page-table format.
pub trait PageFormat {
    /// Bits of an entry that points to the next level's table.
    const TABLE: u64;
    /// Bits of a 4 KiB page of linear memory: valid, readable, writable and
    /// never executable where the CPU can say so.
    fn page() -> u64;
    /// The output-address bits of an entry.
    const ADDRESS_MASK: u64;
    /// Bit 0 of every valid entry, in every format.
    const VALID: u64 = 1;

    /// The output-address field of an entry for the page-aligned physical
    /// address `address`. The default keeps the address in place (aarch64,
    /// x86_64); Sv48 holds the page number at bit 10 instead.
    fn encode(address: u64) -> u64 {
        address
    }
    /// The physical address an entry points to (inverse of [`Self::encode`]).
    fn decode(entry: u64) -> u64 {
        entry & Self::ADDRESS_MASK
    }

    /// The level-0 table (TTBR0_EL1's, CR3's or satp's), in writable memory and
    /// written by no one else above entry 0.
    fn root() -> *mut u64;
    /// Makes changed entries visible to the MMU; `removed`: entries were
    /// cleared, so cached translations must be dropped too.
    fn sync(removed: bool);
}

struct State {
    /// One bit per slot in use.
    used: [u64; SLOTS / 64],
    /// Frames backing committed pages: (virtual start, frame, bytes).
    frames: Vec<(usize, *mut u8, usize)>,
}

/// Linear memories in MMU-mapped slots. One core, and the runtime never
/// calls it from an exception handler.
pub struct SlotMemory<F> {
    state: UnsafeCell<State>,
    format: PhantomData<F>,
}

// SAFETY: single core, and the runtime does not re-enter it (see above).
unsafe impl<F> Sync for SlotMemory<F> {}

impl<F: PageFormat> Default for SlotMemory<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: PageFormat> SlotMemory<F> {
    pub const fn new() -> Self {
        SlotMemory {
            state: UnsafeCell::new(State {
                used: [0; SLOTS / 64],
                frames: Vec::new(),
            }),
            format: PhantomData,
        }
    }

    #[allow(clippy::mut_from_ref)]
    fn state(&self) -> &mut State {
        // SAFETY: see the Sync impl: one user at a time.
        unsafe { &mut *self.state.get() }
    }

    /// The level-3 entry for `va`, creating the tables on the way (zeroed
    /// frames from the heap, which the board maps one to one); `None` when
    /// the heap is exhausted.
    ///
    /// # Safety
    /// `va` lies in a slot.
    unsafe fn entry(va: usize) -> Option<*mut u64> {
        let mut table = F::root();
        for shift in [39, 30, 21] {
            // SAFETY: `table` is a 512-entry table; the index is below 512.
            let e = unsafe { table.add((va >> shift) & 511) };
            // SAFETY: as above.
            if unsafe { *e } & F::VALID == 0 {
                // SAFETY: a non-zero layout.
                let next = unsafe {
                    alloc::alloc::alloc_zeroed(Layout::from_size_align(PAGE, PAGE).ok()?)
                };
                if next.is_null() {
                    return None;
                }
                // SAFETY: as above.
                unsafe { *e = F::encode(next as u64) | F::TABLE };
            }
            // SAFETY: as above.
            table = F::decode(unsafe { *e }) as *mut u64;
        }
        // SAFETY: a level-3 table, index below 512.
        Some(unsafe { table.add((va >> 12) & 511) })
    }

    /// Clears the level-3 entries of `[va, va + bytes)`.
    ///
    /// # Safety
    /// The range was mapped by `commit`.
    unsafe fn unmap(va: usize, bytes: usize) {
        for page in (0..bytes).step_by(PAGE) {
            // SAFETY: the tables of a committed page exist: `entry` only walks.
            if let Some(e) = unsafe { Self::entry(va + page) } {
                // SAFETY: the entry of a page of this range.
                unsafe { *e = 0 };
            }
        }
    }
}

impl<F: PageFormat> VirtualMemory for SlotMemory<F> {
    fn reserve(&self, bytes: usize) -> Option<*mut u8> {
        if bytes > SLOT {
            return None;
        }
        let state = self.state();
        let slot = (0..SLOTS).find(|&s| state.used[s / 64] & (1 << (s % 64)) == 0)?;
        state.used[slot / 64] |= 1 << (slot % 64);
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
        let bits = F::page();
        for page in (0..bytes).step_by(PAGE) {
            // SAFETY: `va + page` lies in a slot this type handed out.
            let Some(e) = (unsafe { Self::entry(va + page) }) else {
                // SAFETY: the pages before this one were mapped just now;
                // the frame was allocated above with this layout.
                unsafe {
                    Self::unmap(va, page);
                    alloc::alloc::dealloc(frame, layout);
                }
                F::sync(true);
                return false;
            };
            // SAFETY: `e` is the level-3 entry of this page.
            unsafe { *e = F::encode(frame as u64 + page as u64) | bits };
        }
        F::sync(false);
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
            // SAFETY: these pages were mapped by `commit` to this frame,
            // which was allocated there with this layout.
            unsafe {
                Self::unmap(va, len);
                alloc::alloc::dealloc(frame, Layout::from_size_align_unchecked(len, FRAME_ALIGN));
            }
            false
        });
        F::sync(true);
        if let Some(slot) = start.checked_sub(FIRST_SLOT).map(|o| o / SLOT)
            && slot < SLOTS
        {
            state.used[slot / 64] &= !(1 << (slot % 64));
        }
    }
}
