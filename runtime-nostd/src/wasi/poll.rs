//! `poll_oneoff`: waits until a subscribed clock expires or a subscribed fd
//! is ready, then reports every subscription that is, in order.
//!
//! Files and the console output are always ready; stdin is ready when the
//! board says so (`Board::stdin_ready`). Clocks really wait, on the board's
//! monotonic clock (`Clock::sleep_until`, which may sleep or spin). As in
//! wasmtime, an fd that cannot be polled (a directory, a closed fd) fails
//! the whole call with `BADF`, and zero subscriptions is `INVAL`.

use alloc::vec::Vec;

use super::fd::Desc;
use super::memory::GuestMemory;
use super::types::*;
use super::{Errno, WasiCtx, errno};
use crate::board::Board;

/// How long to sleep between two looks at stdin while waiting for it.
const STDIN_POLL_NS: u64 = 1_000_000;

enum Sub {
    /// Expires at this monotonic time.
    Clock(u64),
    Stdin,
    /// A file to read: its handle and position.
    File(crate::fs::Handle, u64),
    /// Always writable.
    Write,
}

impl<'b, B: Board> WasiCtx<'b, B> {
    pub(crate) fn poll_oneoff(
        &mut self,
        memory: &mut GuestMemory,
        subs_ptr: u32,
        events: u32,
        nsubs: u32,
        nevents: u32,
    ) -> Result<(), Errno> {
        if nsubs == 0 {
            return Err(errno::INVAL);
        }
        memory.bytes(
            subs_ptr,
            nsubs.checked_mul(size::SUBSCRIPTION).ok_or(errno::FAULT)?,
        )?;
        memory.bytes(events, nsubs.checked_mul(size::EVENT).ok_or(errno::FAULT)?)?;
        memory.bytes(nevents, 4)?;
        let now = self.board.monotonic_ns();
        let mut subs = Vec::with_capacity(nsubs as usize);
        for i in 0..nsubs {
            let at = subs_ptr + i * size::SUBSCRIPTION;
            let userdata = memory.read_u64(at)?;
            let tag = memory.bytes(at + 8, 1)?[0];
            let sub = match tag {
                eventtype::CLOCK => {
                    let id = memory.read_u32(at + 16)?;
                    let timeout = memory.read_u64(at + 24)?;
                    let b = memory.bytes(at + 40, 2)?;
                    let flags = u16::from_le_bytes([b[0], b[1]]);
                    if flags & !subclockflags::ABSTIME != 0 {
                        return Err(errno::INVAL);
                    }
                    let absolute = flags & subclockflags::ABSTIME != 0;
                    let deadline = match (id, absolute) {
                        (clockid::MONOTONIC | clockid::REALTIME, false) => {
                            now.saturating_add(timeout)
                        }
                        (clockid::MONOTONIC, true) => timeout,
                        (clockid::REALTIME, true) => {
                            let real = self.board.realtime_ns().ok_or(errno::NOTSUP)?;
                            now.saturating_add(timeout.saturating_sub(real))
                        }
                        _ => return Err(errno::INVAL),
                    };
                    Sub::Clock(deadline)
                }
                eventtype::FD_READ | eventtype::FD_WRITE => {
                    let fd = memory.read_u32(at + 16)?;
                    match (tag, self.desc(fd)?) {
                        (eventtype::FD_READ, Desc::Stdin) => Sub::Stdin,
                        (eventtype::FD_READ, Desc::File { handle, pos, .. }) => {
                            Sub::File(handle, pos)
                        }
                        (eventtype::FD_WRITE, Desc::Stdout | Desc::Stderr | Desc::File { .. }) => {
                            Sub::Write
                        }
                        _ => return Err(errno::BADF),
                    }
                }
                _ => return Err(errno::INVAL),
            };
            subs.push((userdata, tag, sub));
        }

        // Wait until something is ready.
        let first_deadline = subs
            .iter()
            .filter_map(|s| {
                if let Sub::Clock(d) = s.2 {
                    Some(d)
                } else {
                    None
                }
            })
            .min();
        let wants_stdin = subs.iter().any(|s| matches!(s.2, Sub::Stdin));
        let always_ready = subs
            .iter()
            .any(|s| matches!(s.2, Sub::File(..) | Sub::Write));
        let mut stdin_ready = wants_stdin && self.board.stdin_ready();
        let mut now = self.board.monotonic_ns();
        while !always_ready && !stdin_ready && first_deadline.is_none_or(|d| now < d) {
            let until = match (first_deadline, wants_stdin) {
                (Some(d), false) => d,
                (Some(d), true) => d.min(now.saturating_add(STDIN_POLL_NS)),
                (None, _) => now.saturating_add(STDIN_POLL_NS),
            };
            self.board.sleep_until(until);
            stdin_ready = wants_stdin && self.board.stdin_ready();
            now = self.board.monotonic_ns();
        }

        // Report what is ready, in subscription order.
        let mut count = 0u32;
        for (userdata, tag, sub) in subs {
            let (nbytes, flags) = match sub {
                Sub::Clock(deadline) if deadline <= now => (0, 0),
                Sub::Stdin if stdin_ready => (1, 0),
                Sub::File(handle, pos) => {
                    let size = self.fs()?.stat(handle)?.size;
                    let left = size.saturating_sub(pos);
                    (
                        left,
                        if left == 0 {
                            eventrwflags::FD_READWRITE_HANGUP
                        } else {
                            0
                        },
                    )
                }
                Sub::Write => (1, 0),
                _ => continue,
            };
            let mut e = [0u8; size::EVENT as usize];
            e[0..8].copy_from_slice(&userdata.to_le_bytes());
            e[10] = tag;
            e[16..24].copy_from_slice(&u64::to_le_bytes(nbytes));
            e[24..26].copy_from_slice(&flags.to_le_bytes());
            memory.write_bytes(events + count * size::EVENT, &e)?;
            count += 1;
        }
        memory.write_u32(nevents, count)
    }
}
