//! Checked access to the calling instance's linear memory. Every guest
//! pointer a WASI function receives goes through here; an access outside the
//! memory is `EFAULT`, never a fault in the runtime.

use super::errno::{self, Errno};
use crate::abi::VmCtx;

/// The linear memory of the instance that called a host function.
pub struct GuestMemory {
    base: *mut u8,
    length: usize,
}

impl GuestMemory {
    /// # Safety
    /// `vmctx` must be the live context a host function was called with.
    pub unsafe fn of(vmctx: *mut VmCtx) -> GuestMemory {
        // SAFETY: the caller guarantees a live vmctx; its memory pointer is
        // null or a live memory.
        unsafe {
            match (*vmctx).memory.as_ref() {
                Some(m) => GuestMemory {
                    base: m.base,
                    length: m.length,
                },
                None => GuestMemory {
                    base: core::ptr::null_mut(),
                    length: 0,
                },
            }
        }
    }

    /// A memory over a plain buffer (for tests).
    pub fn from_slice(bytes: &mut [u8]) -> GuestMemory {
        GuestMemory {
            base: bytes.as_mut_ptr(),
            length: bytes.len(),
        }
    }

    /// `len` bytes at guest address `addr`.
    pub fn bytes(&mut self, addr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let end = (addr as usize)
            .checked_add(len as usize)
            .ok_or(errno::FAULT)?;
        if end > self.length {
            return Err(errno::FAULT);
        }
        if len == 0 {
            return Ok(&mut []);
        }
        // SAFETY: addr..end lies within the memory; host functions run on the
        // guest's thread, so nothing else touches it meanwhile.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.base.add(addr as usize), len as usize) })
    }

    pub fn read_u32(&mut self, addr: u32) -> Result<u32, Errno> {
        let b = self.bytes(addr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn read_u64(&mut self, addr: u32) -> Result<u64, Errno> {
        let mut v = [0u8; 8];
        v.copy_from_slice(self.bytes(addr, 8)?);
        Ok(u64::from_le_bytes(v))
    }

    pub fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), Errno> {
        self.bytes(addr, 4)?.copy_from_slice(&value.to_le_bytes());
        Ok(())
    }

    pub fn write_u64(&mut self, addr: u32, value: u64) -> Result<(), Errno> {
        self.bytes(addr, 8)?.copy_from_slice(&value.to_le_bytes());
        Ok(())
    }

    pub fn write_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| errno::FAULT)?;
        self.bytes(addr, len)?.copy_from_slice(data);
        Ok(())
    }

    /// The `iovec`/`ciovec` array at `iovs`: (buf, buf_len) pairs.
    pub fn iovecs(&mut self, iovs: u32, count: u32) -> Result<IoVecs, Errno> {
        let len = count.checked_mul(8).ok_or(errno::FAULT)?;
        self.bytes(iovs, len)?;
        Ok(IoVecs {
            addr: iovs,
            count,
            next: 0,
        })
    }
}

/// Iterator over an iovec array (entries are read lazily, so a guest may
/// not change them mid-call without it being noticed... it cannot: the guest
/// is stopped while the host function runs).
pub struct IoVecs {
    addr: u32,
    count: u32,
    next: u32,
}

impl IoVecs {
    /// The next (buf, len) pair, if any.
    pub fn next(&mut self, memory: &mut GuestMemory) -> Option<(u32, u32)> {
        if self.next >= self.count {
            return None;
        }
        let at = self.addr + self.next * 8;
        self.next += 1;
        let buf = memory.read_u32(at).ok()?;
        let len = memory.read_u32(at + 4).ok()?;
        Some((buf, len))
    }
}
