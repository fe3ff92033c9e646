//! Single-core global state. The runtime runs on one core with no preemption
//! of its own state (a fault handler runs between two instructions of
//! compiled code, never inside the runtime's own critical sections), so a
//! cell that hands out plain references is enough.

use core::cell::UnsafeCell;

pub struct Global<T> {
    value: UnsafeCell<T>,
}

// SAFETY: the runtime is single-threaded; see the module comment.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Self {
        Global {
            value: UnsafeCell::new(value),
        }
    }

    /// # Safety
    /// No other reference to the value may be live (single core, and not
    /// re-entered from a fault handler while in use).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        // SAFETY: exclusive use is the caller's promise.
        unsafe { &mut *self.value.get() }
    }
}
