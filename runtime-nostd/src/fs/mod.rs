//! File systems behind WASI's preopened directories (fds 3 and up).
//!
//! [`FileSystem`] is the one interface the WASI layer uses: operations on
//! open handles and `*at` operations that take a directory handle and a
//! single path component. The WASI layer resolves guest paths itself,
//! component by component (see `wasi::path`), so the sandbox rules (no
//! absolute paths, no `..` above the starting directory, no symlink that
//! leads out) are enforced once for every implementation. An
//! implementation therefore never sees a `/` in a name, never sees `..`,
//! and sees `.` only as "the directory itself".
//!
//! Two implementations exist:
//! - [`overlay::Overlay`]: read-only images ([`image`]) packed by the host
//!   from a folder and linked into the firmware, with a writable RAM layer
//!   on top. Bare-metal boards use it (it is `Board::mount`'s default).
//! - the host board's real-directory file system (in `boards/host`), built
//!   on `openat`/`fstatat`/`getdents64`/... with one host fd per handle.

pub mod image;
pub mod overlay;

use alloc::boxed::Box;
use alloc::vec::Vec;

pub use crate::wasi::errno::Errno;

/// An open file or directory of a [`FileSystem`]. Its meaning belongs to the
/// file system (a node index, a host fd); the WASI layer only stores it and
/// gives it back, and calls [`FileSystem::close`] exactly once for every
/// handle that [`FileSystem::open_at`] returned.
pub type Handle = u64;

/// WASI `filetype` values, which [`Stat::filetype`] uses.
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_DGRAM: u8 = 5;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// Attributes of a file, directory or symlink (WASI `filestat`). Times are
/// nanoseconds since 1970-01-01 UTC (0 when unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    /// A [`filetype`] value.
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl Stat {
    pub fn is_dir(&self) -> bool {
        self.filetype == filetype::DIRECTORY
    }
    pub fn is_symlink(&self) -> bool {
        self.filetype == filetype::SYMBOLIC_LINK
    }
}

/// How [`FileSystem::open_at`] opens (and maybe creates) its target: the
/// flags of `openat(2)`, which always gets `O_NOFOLLOW` (the WASI layer has
/// already followed the symlinks it was asked to follow).
///
/// Neither `read` nor `write` (always with `directory`) asks for a directory
/// handle that is only used as the `dir` of `*_at` calls and for `stat`,
/// never for `read_dir`: while resolving a path the WASI layer walks
/// through directories this way (`O_PATH` on Linux).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// `O_RDONLY`/`O_RDWR`: reads are allowed.
    pub read: bool,
    /// `O_WRONLY`/`O_RDWR`: writes are allowed. A directory opened with
    /// `write` fails with `ISDIR`.
    pub write: bool,
    /// `O_CREAT`: create a regular file when the name does not exist.
    pub create: bool,
    /// `O_EXCL`: with `create`, fail with `EXIST` when the name exists.
    pub exclusive: bool,
    /// `O_TRUNC`: empty a regular file (`ISDIR` for a directory).
    pub truncate: bool,
    /// `O_DIRECTORY`: fail with `NOTDIR` unless the target is a directory.
    pub directory: bool,
}

/// One entry of a directory listing (without `.` and `..`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The same value as [`Stat::ino`] of the entry.
    pub ino: u64,
    /// A [`filetype`] value (of the entry itself: a symlink is a symlink).
    pub filetype: u8,
}

/// The file system behind the preopened directories.
///
/// Every `name` is one path component: never empty, never containing `/` or
/// NUL, never `..`; `.` means the directory `dir` itself. Every operation on
/// a name works on the name itself and does not follow a symlink there
/// (`AT_SYMLINK_NOFOLLOW`, `O_NOFOLLOW`). Errors are WASI errnos with the
/// meaning Linux gives them (see each method). Methods take `&mut self`:
/// the runtime is single-threaded.
pub trait FileSystem {
    /// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`. `NOENT` when `name` does
    /// not exist, `NOTDIR` when `dir` is not a directory.
    fn stat_at(&mut self, dir: Handle, name: &[u8]) -> Result<Stat, Errno>;

    /// `openat(dir, name, flags | O_NOFOLLOW)`: a new handle to a file or
    /// directory. A symlink at `name` gives `LOOP`; `create` makes an empty
    /// regular file (`NOENT` if `dir` has been removed); see [`OpenOptions`]
    /// for the other flags.
    fn open_at(&mut self, dir: Handle, name: &[u8], options: OpenOptions) -> Result<Handle, Errno>;

    /// Releases a handle from [`open_at`](Self::open_at). An unlinked file
    /// stays readable through its open handles until the last one closes.
    fn close(&mut self, handle: Handle);

    /// `fstat`.
    fn stat(&mut self, handle: Handle) -> Result<Stat, Errno>;

    /// `pread`: up to `buf.len()` bytes at `offset`; 0 at or past the end.
    /// `ISDIR` for a directory, `BADF` if the handle was not opened `read`.
    fn read_at(&mut self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;

    /// `pwrite`: writes `buf` at `offset`, filling a gap past the end with
    /// zeros; returns the bytes written (all of them unless the storage is
    /// full: then `NOSPC` if nothing was written). `BADF` if the handle was
    /// not opened `write`.
    fn write_at(&mut self, handle: Handle, offset: u64, buf: &[u8]) -> Result<usize, Errno>;

    /// `ftruncate`: sets the size, filling with zeros when it grows.
    /// `INVAL` if the handle was not opened `write` or is not a file.
    fn set_size(&mut self, handle: Handle, size: u64) -> Result<(), Errno>;

    /// `futimens`: sets the access and/or modification time (`None` leaves
    /// it as it is).
    fn set_times(
        &mut self,
        handle: Handle,
        atim: Option<u64>,
        mtim: Option<u64>,
    ) -> Result<(), Errno>;

    /// `utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW)`.
    fn set_times_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        atim: Option<u64>,
        mtim: Option<u64>,
    ) -> Result<(), Errno>;

    /// `fsync`/`fdatasync`.
    fn sync(&mut self, handle: Handle) -> Result<(), Errno>;

    /// The entry number `index` (from 0) of directory `dir`, without `.` and
    /// `..`; its name is stored in `name` (cleared first). `Ok(None)` past
    /// the last entry. Callers usually ask for increasing indexes, starting
    /// again at 0 to re-read the directory (an implementation on
    /// `getdents64` can read the whole directory when asked for index 0 and
    /// keep the list with the handle).
    fn read_dir(
        &mut self,
        dir: Handle,
        index: u64,
        name: &mut Vec<u8>,
    ) -> Result<Option<DirEntry>, Errno>;

    /// `mkdirat`. `EXIST` if the name exists (a dangling symlink too).
    fn create_dir_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno>;

    /// `unlinkat(dir, name, AT_REMOVEDIR)`: `NOTDIR` if not a directory,
    /// `NOTEMPTY` if it has entries, `INVAL` for `.`.
    fn remove_dir_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno>;

    /// `unlinkat(dir, name, 0)`: removes a file or symlink; `ISDIR` for a
    /// directory.
    fn unlink_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno>;

    /// `renameat`, with its rules: a file may replace a file (`ISDIR` if the
    /// target is a directory); a directory may replace an empty directory
    /// (`NOTDIR` if the target is not a directory, `NOTEMPTY` if it has
    /// entries) and may not move into itself (`INVAL`).
    fn rename_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        new_dir: Handle,
        new_name: &[u8],
    ) -> Result<(), Errno>;

    /// `linkat(dir, name, new_dir, new_name, 0)`: a hard link to a file or
    /// symlink; `PERM` for a directory, `EXIST` if `new_name` exists.
    fn link_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        new_dir: Handle,
        new_name: &[u8],
    ) -> Result<(), Errno>;

    /// `symlinkat(target, dir, name)`. The target is stored as it is (the
    /// WASI layer has refused absolute targets).
    fn symlink_at(&mut self, target: &[u8], dir: Handle, name: &[u8]) -> Result<(), Errno>;

    /// `readlinkat`: the whole target of the symlink `name`, stored in
    /// `target` (cleared first). `INVAL` if `name` is not a symlink.
    fn read_link_at(&mut self, dir: Handle, name: &[u8], target: &mut Vec<u8>)
    -> Result<(), Errno>;

    /// The current wall-clock time, given by the WASI layer before calls that
    /// change files, for file systems that keep their own timestamps (the
    /// RAM layer). Real file systems ignore it.
    fn set_time(&mut self, _now_ns: u64) {}
}

/// The file system of a program and the root directory of each preopen, in
/// the order of the manifest's preopens (the guest sees them as fds 3, 4 ...).
pub struct Mount {
    pub fs: Box<dyn FileSystem>,
    pub roots: Vec<Handle>,
}

/// A preopen that could not be mounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountError {
    /// Index in the manifest's preopens.
    pub preopen: usize,
    pub errno: Errno,
}
