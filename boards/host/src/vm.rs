//! Virtual memory for the runtime's linear memories: each one gets an
//! address-space reservation (`mmap` with no access, not counted against
//! the commit limit) whose pages become readable and writable as the memory
//! grows (`mprotect`). The part past the memory's length stays inaccessible,
//! so compiled code needs no bounds checks: an access there raises SIGSEGV,
//! which the fault handler maps to the out-of-bounds trap by its PC.

use kiln_runtime::board::VirtualMemory;
use kiln_runtime::memory::BASE_ALIGN;

use crate::syscall::{self, MAP_NORESERVE, PROT_NONE, PROT_READ, PROT_WRITE};

const MPROTECT: usize = 10;
const MUNMAP: usize = 11;

/// The host's virtual memory (Linux `mmap`/`mprotect`/`munmap`).
pub struct HostVm;

pub static HOST_VM: HostVm = HostVm;

impl VirtualMemory for HostVm {
    fn reserve(&self, bytes: usize) -> Option<*mut u8> {
        // The runtime wants the start aligned to `BASE_ALIGN`: map that
        // much more and give back what lies before and after.
        let padded = bytes.checked_add(BASE_ALIGN)?;
        let mapped = syscall::mmap_anonymous(padded, PROT_NONE, MAP_NORESERVE)? as usize;
        let start = mapped.next_multiple_of(BASE_ALIGN);
        let end = start + bytes;
        // SAFETY: both ranges lie in the mapping just made, outside the
        // part handed out.
        unsafe {
            if start > mapped {
                syscall::syscall3(MUNMAP, mapped, start - mapped, 0);
            }
            if mapped + padded > end {
                syscall::syscall3(MUNMAP, end, mapped + padded - end, 0);
            }
        }
        Some(start as *mut u8)
    }

    fn commit(&self, start: *mut u8, bytes: usize) -> bool {
        // SAFETY: the runtime commits only pages of its own reservations.
        unsafe { syscall::syscall3(MPROTECT, start as usize, bytes, PROT_READ | PROT_WRITE) == 0 }
    }

    fn release(&self, base: *mut u8, bytes: usize) {
        // SAFETY: the runtime releases a whole reservation it no longer uses.
        unsafe { syscall::syscall3(MUNMAP, base as usize, bytes, 0) };
    }
}
