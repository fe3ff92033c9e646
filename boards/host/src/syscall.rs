//! Raw Linux system calls (x86_64), so the board needs no libc. Each wrapper
//! returns the kernel's result: non-negative on success, `-errno` on failure.

use core::arch::asm;

pub const READ: usize = 0;
pub const WRITE: usize = 1;
pub const CLOSE: usize = 3;
pub const FSTAT: usize = 5;
pub const POLL: usize = 7;
pub const LSEEK: usize = 8;
pub const MMAP: usize = 9;
pub const RT_SIGACTION: usize = 13;
pub const RT_SIGRETURN: usize = 15;
pub const IOCTL: usize = 16;
pub const PREAD64: usize = 17;
pub const PWRITE64: usize = 18;
pub const FSYNC: usize = 74;
pub const FTRUNCATE: usize = 77;
pub const SIGALTSTACK: usize = 131;
pub const GETDENTS64: usize = 217;
pub const CLOCK_GETTIME: usize = 228;
pub const CLOCK_GETRES: usize = 229;
pub const CLOCK_NANOSLEEP: usize = 230;
pub const EXIT_GROUP: usize = 231;
pub const OPENAT: usize = 257;
pub const MKDIRAT: usize = 258;
pub const NEWFSTATAT: usize = 262;
pub const UNLINKAT: usize = 263;
pub const RENAMEAT: usize = 264;
pub const LINKAT: usize = 265;
pub const SYMLINKAT: usize = 266;
pub const READLINKAT: usize = 267;
pub const UTIMENSAT: usize = 280;
pub const GETRANDOM: usize = 318;

pub const EINTR: isize = 4;
pub const EAGAIN: isize = 11;
pub const ENAMETOOLONG: isize = 36;

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

/// Repeats a system call while it fails with `EINTR`.
fn retry(mut call: impl FnMut() -> isize) -> isize {
    loop {
        let r = call();
        if r != -EINTR {
            return r;
        }
    }
}

// -- files -------------------------------------------------------------------

pub const AT_FDCWD: isize = -100;

pub const O_RDONLY: usize = 0;
pub const O_WRONLY: usize = 0o1;
pub const O_RDWR: usize = 0o2;
pub const O_CREAT: usize = 0o100;
pub const O_EXCL: usize = 0o200;
pub const O_NOCTTY: usize = 0o400;
pub const O_TRUNC: usize = 0o1000;
pub const O_DIRECTORY: usize = 0o200000;
pub const O_NOFOLLOW: usize = 0o400000;
pub const O_CLOEXEC: usize = 0o2000000;
pub const O_PATH: usize = 0o10000000;

pub const AT_SYMLINK_NOFOLLOW: usize = 0x100;
pub const AT_REMOVEDIR: usize = 0x200;

pub const SEEK_SET: usize = 0;

/// `tv_nsec` of a `utimensat` time that leaves the time as it is.
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

/// The x86_64 `struct stat`.
#[repr(C)]
#[derive(Default)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pad0: i32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: i64,
    pub atime_nsec: i64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    pub ctime: i64,
    pub ctime_nsec: i64,
    unused: [i64; 3],
}

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;

/// Longest path the functions below take (Linux's `PATH_MAX`, with its NUL).
const PATH_MAX: usize = 4096;

/// Calls `f` with `name` as a NUL-terminated string; `-ENAMETOOLONG` for a
/// name longer than Linux accepts. Names come from the WASI layer, which
/// refuses NUL bytes inside them.
fn with_c_str(name: &[u8], f: impl FnOnce(usize) -> isize) -> isize {
    let mut buf = [0u8; PATH_MAX];
    if name.len() >= buf.len() {
        return -ENAMETOOLONG;
    }
    buf[..name.len()].copy_from_slice(name);
    f(buf.as_ptr() as usize)
}

/// `openat(dir, name, flags, mode)`: a new fd or `-errno`.
pub fn openat(dir: isize, name: &[u8], flags: usize, mode: usize) -> isize {
    with_c_str(name, |name| {
        // SAFETY: `name` is a NUL-terminated string that outlives the call.
        retry(|| unsafe { syscall6(OPENAT, [dir as usize, name, flags, mode, 0, 0]) })
    })
}

pub fn close(fd: usize) -> isize {
    // SAFETY: closing a file descriptor touches no memory.
    unsafe { syscall3(CLOSE, fd, 0, 0) }
}

pub fn fstat(fd: usize, st: &mut Stat) -> isize {
    // SAFETY: `st` is a valid `struct stat` to write.
    unsafe { syscall3(FSTAT, fd, st as *mut Stat as usize, 0) }
}

pub fn fstatat(dir: usize, name: &[u8], st: &mut Stat, flags: usize) -> isize {
    let st = st as *mut Stat as usize;
    with_c_str(name, |name| {
        // SAFETY: `name` is NUL-terminated and `st` a valid `struct stat`.
        unsafe { syscall6(NEWFSTATAT, [dir, name, st, flags, 0, 0]) }
    })
}

pub fn pread(fd: usize, buf: &mut [u8], offset: u64) -> isize {
    // SAFETY: the buffer is valid for writes of its length.
    retry(|| unsafe {
        syscall6(
            PREAD64,
            [
                fd,
                buf.as_mut_ptr() as usize,
                buf.len(),
                offset as usize,
                0,
                0,
            ],
        )
    })
}

pub fn pwrite(fd: usize, buf: &[u8], offset: u64) -> isize {
    // SAFETY: the buffer is valid for reads of its length.
    retry(|| unsafe {
        syscall6(
            PWRITE64,
            [fd, buf.as_ptr() as usize, buf.len(), offset as usize, 0, 0],
        )
    })
}

pub fn ftruncate(fd: usize, size: u64) -> isize {
    // SAFETY: touches no memory of ours.
    retry(|| unsafe { syscall3(FTRUNCATE, fd, size as usize, 0) })
}

pub fn fsync(fd: usize) -> isize {
    // SAFETY: touches no memory of ours.
    retry(|| unsafe { syscall3(FSYNC, fd, 0, 0) })
}

pub fn lseek(fd: usize, offset: i64, whence: usize) -> isize {
    // SAFETY: touches no memory of ours.
    unsafe { syscall3(LSEEK, fd, offset as usize, whence) }
}

/// `utimensat(dir, name, times, flags)`; without a name, `futimens(dir, times)`.
pub fn utimensat(dir: usize, name: Option<&[u8]>, times: &[Timespec; 2], flags: usize) -> isize {
    let times = times.as_ptr() as usize;
    match name {
        // SAFETY: `times` points at two timespecs; a null name means `dir` itself.
        None => unsafe { syscall6(UTIMENSAT, [dir, 0, times, flags, 0, 0]) },
        Some(name) => with_c_str(name, |name| {
            // SAFETY: as above, with a NUL-terminated name.
            unsafe { syscall6(UTIMENSAT, [dir, name, times, flags, 0, 0]) }
        }),
    }
}

/// Reads directory entries (`struct linux_dirent64` records) into `buf`.
pub fn getdents64(fd: usize, buf: &mut [u8]) -> isize {
    // SAFETY: the buffer is valid for writes of its length.
    retry(|| unsafe { syscall3(GETDENTS64, fd, buf.as_mut_ptr() as usize, buf.len()) })
}

pub fn mkdirat(dir: usize, name: &[u8], mode: usize) -> isize {
    // SAFETY: `name` is NUL-terminated.
    with_c_str(name, |name| unsafe { syscall3(MKDIRAT, dir, name, mode) })
}

pub fn unlinkat(dir: usize, name: &[u8], flags: usize) -> isize {
    // SAFETY: `name` is NUL-terminated.
    with_c_str(name, |name| unsafe { syscall3(UNLINKAT, dir, name, flags) })
}

pub fn renameat(dir: usize, name: &[u8], new_dir: usize, new_name: &[u8]) -> isize {
    with_c_str(name, |name| {
        with_c_str(new_name, |new_name| {
            // SAFETY: both names are NUL-terminated.
            unsafe { syscall6(RENAMEAT, [dir, name, new_dir, new_name, 0, 0]) }
        })
    })
}

pub fn linkat(dir: usize, name: &[u8], new_dir: usize, new_name: &[u8], flags: usize) -> isize {
    with_c_str(name, |name| {
        with_c_str(new_name, |new_name| {
            // SAFETY: both names are NUL-terminated.
            unsafe { syscall6(LINKAT, [dir, name, new_dir, new_name, flags, 0]) }
        })
    })
}

pub fn symlinkat(target: &[u8], dir: usize, name: &[u8]) -> isize {
    with_c_str(target, |target| {
        with_c_str(name, |name| {
            // SAFETY: both strings are NUL-terminated.
            unsafe { syscall3(SYMLINKAT, target, dir, name) }
        })
    })
}

/// `readlinkat`: the number of bytes of the target stored in `buf` (cut
/// short when `buf` is full).
pub fn readlinkat(dir: usize, name: &[u8], buf: &mut [u8]) -> isize {
    let (ptr, len) = (buf.as_mut_ptr() as usize, buf.len());
    with_c_str(name, |name| {
        // SAFETY: `name` is NUL-terminated; the buffer is valid for writes of its length.
        unsafe { syscall6(READLINKAT, [dir, name, ptr, len, 0, 0]) }
    })
}

// -- terminals, waiting --------------------------------------------------------

pub const TCGETS: usize = 0x5401;
pub const POLLIN: i16 = 1;
pub const TIMER_ABSTIME: usize = 1;

/// Whether `fd` is a terminal (`TCGETS` succeeds, as `isatty` checks).
pub fn is_terminal(fd: usize) -> bool {
    // Room for the kernel's `struct termios` (36 bytes) and more.
    let mut termios = [0u8; 64];
    // SAFETY: TCGETS writes a `struct termios`, which fits the buffer.
    unsafe { syscall3(IOCTL, fd, TCGETS, termios.as_mut_ptr() as usize) == 0 }
}

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

/// Whether a read from `fd` would not wait (data, end of input or an error
/// is there): `poll` with a zero timeout.
pub fn readable_now(fd: usize) -> bool {
    let mut p = PollFd {
        fd: fd as i32,
        events: POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = retry(|| unsafe { syscall3(POLL, &mut p as *mut PollFd as usize, 1, 0) });
    // An error says "ready": the read then reports it instead of waiting.
    r != 0
}

/// Sleeps until `clock` reaches `deadline_ns` (`clock_nanosleep` with
/// `TIMER_ABSTIME`, restarted after signals).
pub fn sleep_until(clock: usize, deadline_ns: u64) {
    let ts = Timespec {
        sec: (deadline_ns / 1_000_000_000) as i64,
        nsec: (deadline_ns % 1_000_000_000) as i64,
    };
    // SAFETY: `ts` is a valid timespec; no remaining time is asked for.
    retry(|| unsafe {
        syscall6(
            CLOCK_NANOSLEEP,
            [
                clock,
                TIMER_ABSTIME,
                &ts as *const Timespec as usize,
                0,
                0,
                0,
            ],
        )
    });
}
