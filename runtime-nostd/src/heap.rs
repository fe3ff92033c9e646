//! The heap boards give the runtime: instance records, tables and linear
//! memories are allocated from one region that the board claims at boot.

use core::alloc::{GlobalAlloc, Layout};

use talc::source::Manual;

/// A global allocator over regions the board hands over with [`Heap::claim`].
/// Boards declare it with `#[global_allocator]`.
pub struct Heap {
    talc: talc::TalcLock<spinning_top::RawSpinlock, Manual>,
}

impl Heap {
    pub const fn new() -> Self {
        Heap {
            talc: talc::TalcLock::new(Manual),
        }
    }

    /// Gives `size` bytes at `base` to the allocator. Returns false when the
    /// region is too small to be used.
    ///
    /// # Safety
    /// The region must be valid, writable memory used by nothing else, for
    /// the rest of the program.
    pub unsafe fn claim(&self, base: *mut u8, size: usize) -> bool {
        // SAFETY: the caller hands over exclusive use of the region.
        unsafe { self.talc.lock().claim(base, size).is_some() }
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: delegates to talc, which upholds the GlobalAlloc contract.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.talc.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { self.talc.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.talc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { self.talc.realloc(ptr, layout, new_size) }
    }
}
