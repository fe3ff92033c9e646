//! Linear memories and where their bytes live.
//!
//! Two placements, chosen by what the board offers:
//!
//! - In a reservation (boards with virtual memory, see
//!   [`crate::board::VirtualMemory`]): [`PRE_GUARD_BYTES`] + 4 GiB +
//!   [`GUARD_BYTES`] of address space reserved once and never moved; only
//!   the memory's current length is committed (readable and writable), the
//!   rest faults. `memory.grow` commits more pages in place, up to
//!   [`GUARDED_MAX_PAGES`]. Code compiled with guard regions relies on this:
//!   it does not check bounds, an access past the length faults and the
//!   fault handler reports it as the out-of-bounds trap.
//! - On the heap (every other board): the bytes are a heap allocation that
//!   `memory.grow` reallocates, so compiled code checks every access against
//!   the current length and reloads the base after calls.

mod copy;
mod fill;

use alloc::boxed::Box;

use crate::abi::VmMemory;
use crate::board;
use crate::instance::InstantiateError;

pub(crate) use copy::copy_within;
pub(crate) use fill::fill;

/// Size of a Wasm page.
pub const PAGE_SIZE: usize = 65536;
/// Largest number of pages of a 32-bit memory.
pub(crate) const MAX_PAGES: u64 = 65536;
/// Address space after the 4 GiB a 32-bit index reaches that a memory's
/// reservation also covers: accesses with a static offset below this need
/// no bounds check (the compiler checks larger ones explicitly).
pub const GUARD_BYTES: usize = 2 << 30;
/// Address space before the memory's first byte that its reservation also
/// covers. Code compiled with guard regions computes the address of
/// `i32.add(x, C)` with a constant `0 <= C < 2^31` (what LLVM emits for
/// `array[i + k]`) as `sext(x) + C`, one addressing mode, instead of
/// wrapping the sum to 32 bits first. The two agree whenever the sum
/// `sext(x) + C` is not negative; otherwise the true address is at least
/// 2 GiB, out of bounds of a memory of at most [`GUARDED_MAX_PAGES`], and
/// the computed one is below the base, in this region, so the access
/// faults as it must.
pub const PRE_GUARD_BYTES: usize = 2 << 30;
/// A whole reservation: every `index + offset + size` with `offset + size <=
/// GUARD_BYTES`, and every `sext(x) + C` as above, lies inside it.
pub const RESERVATION_BYTES: usize = PRE_GUARD_BYTES + (4 << 30) + GUARD_BYTES;
/// A reservation's memory base is a multiple of this. Compiled riscv64
/// code relies on it: it addresses C globals beyond 2 KiB through `base |
/// 4096 * k` (one `lui; or` shared by a block's accesses), which equals
/// `base + 4096 * k` only because the base has no bits below 2 GiB.
pub const BASE_ALIGN: usize = 2 << 30;
const _: () = assert!(PRE_GUARD_BYTES.is_multiple_of(BASE_ALIGN));
/// Largest number of pages of a memory in a reservation (2 GiB): what makes
/// the `sext(x) + C` addresses above exact. `memory.grow` past it returns
/// -1, as it may for any memory; a board without virtual memory keeps
/// [`MAX_PAGES`].
pub const GUARDED_MAX_PAGES: u64 = 32768;

/// A linear memory with the runtime's bookkeeping. `vm` comes first so that
/// a `*mut MemoryStore` is also the `*mut VmMemory` compiled code reads.
#[repr(C)]
pub struct MemoryStore {
    pub vm: VmMemory,
    /// The declared maximum in pages, if any (for import type checks).
    pub declared_max: Option<u64>,
    /// Whether the bytes sit at the start of a reservation of
    /// [`RESERVATION_BYTES`] (else on the heap).
    reserved: bool,
}

impl MemoryStore {
    /// Creates a memory of `min` pages that may grow to `max` pages: in a
    /// reservation when the board has virtual memory, else on the heap.
    pub fn new(min: u64, max: Option<u64>) -> Result<Box<MemoryStore>, InstantiateError> {
        let board_vm = board::virtual_memory();
        let pages_limit = match board_vm {
            Some(_) => GUARDED_MAX_PAGES,
            None => MAX_PAGES,
        };
        let limit = max.unwrap_or(pages_limit).min(pages_limit);
        let bytes = (min as usize).saturating_mul(PAGE_SIZE);
        let out_of_memory = InstantiateError::OutOfMemory {
            what: "linear memory",
            bytes: min * PAGE_SIZE as u64,
        };
        if min > limit {
            return Err(out_of_memory);
        }
        let mut store = Box::new(MemoryStore {
            vm: VmMemory {
                base: core::ptr::NonNull::<u64>::dangling().as_ptr().cast(),
                length: 0,
                capacity: 0,
                max_length: (limit as usize) * PAGE_SIZE,
            },
            declared_max: max,
            reserved: false,
        });
        if let Some(vm) = board_vm {
            let Some(start) = vm.reserve(RESERVATION_BYTES) else {
                return Err(InstantiateError::OutOfMemory {
                    what: "linear memory's address space",
                    bytes: RESERVATION_BYTES as u64,
                });
            };
            if !(start as usize).is_multiple_of(BASE_ALIGN) {
                // A board bug; compiled code would address the wrong bytes.
                vm.release(start, RESERVATION_BYTES);
                return Err(InstantiateError::OutOfMemory {
                    what: "linear memory's address space aligned to 2 GiB",
                    bytes: RESERVATION_BYTES as u64,
                });
            }
            // SAFETY: within the reservation just made.
            store.vm.base = unsafe { start.add(PRE_GUARD_BYTES) };
            store.reserved = true;
        }
        if !store.resize(bytes) {
            return Err(out_of_memory);
        }
        Ok(store)
    }

    /// Whether the memory lies in a reservation with a guard region, as code
    /// compiled without explicit bounds checks needs.
    pub fn has_guard_region(&self) -> bool {
        self.reserved
    }

    pub fn pages(&self) -> u64 {
        (self.vm.length / PAGE_SIZE) as u64
    }

    /// `memory.grow`: the old size in pages, or `None` when the memory cannot grow.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new as usize * PAGE_SIZE > self.vm.max_length {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        self.resize(new as usize * PAGE_SIZE).then_some(old)
    }

    /// Grows to `bytes` (never shrinks), new bytes zeroed. Returns false when
    /// the board has no room.
    fn resize(&mut self, bytes: usize) -> bool {
        if self.reserved {
            return self.commit(bytes);
        }
        let vm = &mut self.vm;
        if bytes <= vm.capacity {
            if bytes > vm.length {
                // SAFETY: within the allocation; memory past `length` may be stale.
                unsafe { core::ptr::write_bytes(vm.base.add(vm.length), 0, bytes - vm.length) };
            }
            vm.length = bytes;
            return true;
        }
        // Grow the allocation geometrically (up to the maximum) so that a
        // program growing page by page does not copy its memory each time;
        // fall back to the exact size when the heap cannot give more.
        let roomy = bytes.max(vm.capacity.saturating_mul(2)).min(vm.max_length);
        for capacity in [roomy, bytes] {
            if capacity < bytes {
                continue;
            }
            if let Some(base) = Self::reallocate(vm.base, vm.capacity, capacity) {
                // SAFETY: the new allocation holds `capacity >= bytes` bytes.
                unsafe { core::ptr::write_bytes(base.add(vm.length), 0, bytes - vm.length) };
                vm.base = base;
                vm.capacity = capacity;
                vm.length = bytes;
                return true;
            }
        }
        false
    }

    /// Moves the allocation of `old` bytes at `base` (none when `old` is 0)
    /// to a new one of `new` bytes, keeping the contents.
    fn reallocate(base: *mut u8, old: usize, new: usize) -> Option<*mut u8> {
        let layout = core::alloc::Layout::from_size_align(new, 16).ok()?;
        // SAFETY: `new` > `old` >= 0, so the layout is not zero-sized; `base`
        // was allocated with `old` bytes and alignment 16 when `old` != 0.
        let p = unsafe {
            if old == 0 {
                alloc::alloc::alloc(layout)
            } else {
                alloc::alloc::realloc(
                    base,
                    core::alloc::Layout::from_size_align_unchecked(old, 16),
                    new,
                )
            }
        };
        (!p.is_null()).then_some(p)
    }

    /// Commits the reservation up to `bytes` (rounded up to whole pages,
    /// which `bytes` always is). Committed pages are zero on first use.
    fn commit(&mut self, bytes: usize) -> bool {
        let vm = &mut self.vm;
        if bytes > vm.capacity {
            let Some(board_vm) = board::virtual_memory() else {
                return false;
            };
            // SAFETY: capacity..bytes lies inside this memory's reservation
            // (bytes <= 4 GiB).
            let start = unsafe { vm.base.add(vm.capacity) };
            if !board_vm.commit(start, bytes - vm.capacity) {
                return false;
            }
            vm.capacity = bytes;
        }
        vm.length = bytes;
        true
    }

    /// The memory's bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: base..base+length is this memory's allocation (or empty).
        unsafe { core::slice::from_raw_parts_mut(self.vm.base, self.vm.length) }
    }
}

impl Drop for MemoryStore {
    fn drop(&mut self) {
        if self.reserved {
            if let Some(vm) = board::virtual_memory() {
                // SAFETY: `base` was placed PRE_GUARD_BYTES into the reservation.
                vm.release(
                    unsafe { self.vm.base.sub(PRE_GUARD_BYTES) },
                    RESERVATION_BYTES,
                );
            }
        } else if self.vm.capacity != 0 {
            // SAFETY: allocated by `resize` with this layout.
            unsafe {
                alloc::alloc::dealloc(
                    self.vm.base,
                    core::alloc::Layout::from_size_align_unchecked(self.vm.capacity, 16),
                )
            };
        }
    }
}
