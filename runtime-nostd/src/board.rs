//! What a board gives the runtime: console, clocks, entropy, exit and the
//! stack bounds. A board implements [`Board`]; the runtime and WASI are generic
//! over it, so each firmware contains only its own board's code.

use embedded_io::{Read, Write};

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
}
