//! Constants and record layouts of `wasi_snapshot_preview1` (from its witx:
//! `typenames.witx`), as the guest sees them.

pub use crate::fs::filetype;

/// `clockid`.
pub mod clockid {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME: u32 = 2;
    pub const THREAD_CPUTIME: u32 = 3;
}

/// `rights`: one bit per operation (Kiln, like wasmtime, does not enforce
/// them; `fd_fdstat_get` reports what the descriptor can do).
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    pub const ALL: u64 = (1 << 30) - 1;

    /// What a preopened directory reports (wasmtime's set, which userlands expect).
    pub const PREOPEN_BASE: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES;
    pub const PREOPEN_INHERITING: u64 = PREOPEN_BASE
        | FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
}

/// `fdflags`.
pub mod fdflags {
    pub const APPEND: u32 = 1 << 0;
    pub const DSYNC: u32 = 1 << 1;
    pub const NONBLOCK: u32 = 1 << 2;
    pub const RSYNC: u32 = 1 << 3;
    pub const SYNC: u32 = 1 << 4;
    pub const ALL: u32 = 0x1f;
}

/// `oflags`.
pub mod oflags {
    pub const CREAT: u32 = 1 << 0;
    pub const DIRECTORY: u32 = 1 << 1;
    pub const EXCL: u32 = 1 << 2;
    pub const TRUNC: u32 = 1 << 3;
    pub const ALL: u32 = 0xf;
}

/// `lookupflags`.
pub mod lookupflags {
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
    pub const ALL: u32 = 1;
}

/// `fstflags`.
pub mod fstflags {
    pub const ATIM: u32 = 1 << 0;
    pub const ATIM_NOW: u32 = 1 << 1;
    pub const MTIM: u32 = 1 << 2;
    pub const MTIM_NOW: u32 = 1 << 3;
    pub const ALL: u32 = 0xf;
}

/// `whence`.
pub mod whence {
    pub const SET: u32 = 0;
    pub const CUR: u32 = 1;
    pub const END: u32 = 2;
}

/// `advice`: values 0 (normal) to 5 (noreuse).
pub mod advice {
    pub const MAX: u32 = 5;
}

/// `signal`: values 0 (none) to 30 (sys).
pub mod signal {
    pub const MAX: u32 = 30;
}

/// `eventtype`.
pub mod eventtype {
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
}

/// `eventrwflags`.
pub mod eventrwflags {
    pub const FD_READWRITE_HANGUP: u16 = 1;
}

/// `subclockflags`.
pub mod subclockflags {
    pub const ABSTIME: u16 = 1;
}

/// `riflags`.
pub mod riflags {
    pub const ALL: u32 = 0x3;
}

/// `sdflags`.
pub mod sdflags {
    pub const ALL: u32 = 0x3;
}

/// `preopentype`.
pub mod preopentype {
    pub const DIR: u8 = 0;
}

/// Sizes of the records the guest passes (offsets are in the code that reads them).
pub mod size {
    pub const FDSTAT: u32 = 24;
    pub const FILESTAT: u32 = 64;
    pub const DIRENT: u32 = 24;
    pub const SUBSCRIPTION: u32 = 48;
    pub const EVENT: u32 = 32;
    pub const PRESTAT: u32 = 8;
}
