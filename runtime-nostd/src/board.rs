//! What a board gives the runtime: console, clocks, entropy, exit and the
//! stack bounds, and the file system behind preopened directories. A board
//! implements [`Board`]; the runtime and WASI are generic over it, so each
//! firmware contains only its own board's code.

use embedded_io::{Read, Write};

use crate::abi::Preopen;
use crate::fs::{Mount, MountError};

/// Clocks of the board. Monotonic time must never go backwards.
pub trait Clock {
    /// Nanoseconds since an arbitrary fixed point (usually boot).
    fn monotonic_ns(&mut self) -> u64;
    /// Nanoseconds since 1970-01-01 UTC, if the board knows the date.
    fn realtime_ns(&mut self) -> Option<u64>;
    /// Resolution of `monotonic_ns` in nanoseconds.
    fn resolution_ns(&mut self) -> u64;
    /// A CPU cycle counter, where the core has one readable from here.
    fn cycles(&mut self) -> Option<u64> {
        None
    }
    /// Waits until `monotonic_ns()` reaches `deadline_ns` (`poll_oneoff`'s
    /// clock subscriptions). The default spins; a board may sleep instead
    /// (`wfi` with a timer interrupt, `clock_nanosleep` on the host).
    fn sleep_until(&mut self, deadline_ns: u64) {
        while self.monotonic_ns() < deadline_ns {
            core::hint::spin_loop();
        }
    }
}

/// Random bytes for `random_get`. Boards without a hardware source say so.
pub trait Entropy {
    /// Fills `buf`; returns false when the board has no entropy source.
    fn fill_random(&mut self, buf: &mut [u8]) -> bool;
}

/// Which console stream a byte belongs to. Boards with one UART send both
/// output streams to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A board: the runtime's only view of the hardware (or of the host OS).
pub trait Board: Clock + Entropy + 'static {
    type Stdin: Read;
    type Output: Write;

    fn stdin(&mut self) -> &mut Self::Stdin;
    fn output(&mut self, stream: Stream) -> &mut Self::Output;

    /// Ends the program with `status` (the guest's `proc_exit` code, or the
    /// runtime's own status for traps and load errors). Never returns.
    fn exit(&mut self, status: u32) -> !;

    /// The lowest address compiled code may use on the current stack, plus a
    /// margin for the runtime's own frames below it.
    fn stack_limit(&mut self) -> usize;

    /// Whether a read from stdin would return without waiting (data or end
    /// of input is there), for `poll_oneoff`. The default says yes: a board
    /// that cannot tell lets the read block.
    fn stdin_ready(&mut self) -> bool {
        true
    }

    /// Whether console fd `fd` (0 stdin, 1 stdout, 2 stderr) is a terminal:
    /// WASI then reports it as a character device, as `isatty` expects. The
    /// default says no (what `wasmtime run` reports for redirected streams).
    fn is_terminal(&mut self, _fd: u32) -> bool {
        false
    }

    /// Opens the file system behind the manifest's preopened directories
    /// (called once, before the program starts, when there are any): one
    /// root handle per preopen, in order. The default serves each preopen's
    /// packed image with a RAM layer on top ([`crate::fs::overlay`]); the
    /// host board overrides it to open `Preopen::host_path` on the real file
    /// system.
    fn mount(&mut self, preopens: &'static [Preopen]) -> Result<Mount, MountError> {
        crate::fs::overlay::Overlay::mount(preopens)
    }
}

/// Virtual memory, for boards that have it (an MMU the board programs, or
/// an operating system): lets the runtime place each linear memory in a
/// reservation that never moves, with a guard region after it, so that code
/// compiled without explicit bounds checks can rely on a fault instead (see
/// [`crate::memory`]). Boards without it keep linear memories on the heap.
pub trait VirtualMemory: Sync {
    /// Reserves `bytes` of address space, none of it accessible yet; its
    /// base, a multiple of [`crate::memory::BASE_ALIGN`], or `None` when the
    /// address space is exhausted.
    fn reserve(&self, bytes: usize) -> Option<*mut u8>;
    /// Makes `[start, start + bytes)` of a reservation readable and
    /// writable, zero-filled. `start` and `bytes` are multiples of 64 KiB.
    fn commit(&self, start: *mut u8, bytes: usize) -> bool;
    /// Gives a whole reservation back.
    fn release(&self, base: *mut u8, bytes: usize);
}

static VIRTUAL_MEMORY: crate::global::Global<Option<&'static dyn VirtualMemory>> =
    crate::global::Global::new(None);

/// Tells the runtime that the board has virtual memory. A board calls this
/// once, before [`crate::start`], if at all.
pub fn set_virtual_memory(vm: &'static dyn VirtualMemory) {
    // SAFETY: called once at boot, before any instance exists.
    unsafe { *VIRTUAL_MEMORY.get() = Some(vm) };
}

/// The board's virtual memory, if it registered one.
pub fn virtual_memory() -> Option<&'static dyn VirtualMemory> {
    // SAFETY: written once at boot; read-only afterwards.
    unsafe { *VIRTUAL_MEMORY.get() }
}
