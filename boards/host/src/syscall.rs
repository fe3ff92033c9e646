//! Raw Linux system calls (x86_64), so the board needs no libc. Each wrapper
//! returns the kernel's result: non-negative on success, `-errno` on failure.

use core::arch::asm;

pub const READ: usize = 0;
pub const WRITE: usize = 1;
pub const MMAP: usize = 9;
pub const RT_SIGACTION: usize = 13;
pub const RT_SIGRETURN: usize = 15;
pub const SIGALTSTACK: usize = 131;
pub const CLOCK_GETTIME: usize = 228;
pub const CLOCK_GETRES: usize = 229;
pub const EXIT_GROUP: usize = 231;
pub const GETRANDOM: usize = 318;

pub const EINTR: isize = 4;
pub const EAGAIN: isize = 11;

/// # Safety
/// The arguments must be valid for system call `n`.
#[inline]
pub unsafe fn syscall6(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the caller passes arguments valid for this system call; the
    // kernel clobbers only rcx and r11 besides rax.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// # Safety
/// The arguments must be valid for system call `n`.
#[inline]
pub unsafe fn syscall3(n: usize, a: usize, b: usize, c: usize) -> isize {
    // SAFETY: forwarded.
    unsafe { syscall6(n, [a, b, c, 0, 0, 0]) }
}

pub fn write(fd: usize, bytes: &[u8]) -> isize {
    // SAFETY: the buffer is valid for reads of its length.
    unsafe { syscall3(WRITE, fd, bytes.as_ptr() as usize, bytes.len()) }
}

pub fn read(fd: usize, buf: &mut [u8]) -> isize {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe { syscall3(READ, fd, buf.as_mut_ptr() as usize, buf.len()) }
}

pub fn exit_group(status: u32) -> ! {
    loop {
        // SAFETY: exit_group takes an integer and does not return.
        unsafe { syscall3(EXIT_GROUP, status as usize, 0, 0) };
    }
}

pub const PROT_NONE: usize = 0;
pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_ANONYMOUS: usize = 0x20;
pub const MAP_NORESERVE: usize = 0x4000;

/// Maps `len` bytes of anonymous memory; `None` on failure.
pub fn mmap_anonymous(len: usize, prot: usize, flags: usize) -> Option<*mut u8> {
    // SAFETY: an anonymous mapping at an address of the kernel's choosing
    // touches no existing memory.
    let r = unsafe {
        syscall6(
            MMAP,
            [
                0,
                len,
                prot,
                flags | MAP_PRIVATE | MAP_ANONYMOUS,
                usize::MAX,
                0,
            ],
        )
    };
    if r < 0 { None } else { Some(r as *mut u8) }
}

#[repr(C)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

pub const CLOCK_REALTIME: usize = 0;
pub const CLOCK_MONOTONIC: usize = 1;

pub fn clock_gettime(clock: usize) -> Option<u64> {
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write.
    let r = unsafe { syscall3(CLOCK_GETTIME, clock, &mut ts as *mut Timespec as usize, 0) };
    (r == 0).then(|| ts.sec as u64 * 1_000_000_000 + ts.nsec as u64)
}

pub fn clock_getres(clock: usize) -> Option<u64> {
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write.
    let r = unsafe { syscall3(CLOCK_GETRES, clock, &mut ts as *mut Timespec as usize, 0) };
    (r == 0).then(|| ts.sec as u64 * 1_000_000_000 + ts.nsec as u64)
}

pub fn getrandom(buf: &mut [u8]) -> isize {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe { syscall3(GETRANDOM, buf.as_mut_ptr() as usize, buf.len(), 0) }
}
