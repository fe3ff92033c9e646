//! The host board's file system: preopened directories are real host
//! folders, reached through raw Linux system calls on one host fd per
//! handle (`openat`, `newfstatat`, `getdents64`, ...).
//!
//! The WASI layer resolves guest paths one component at a time and hands
//! this file system only single names inside directories it opened (see
//! `kiln_runtime::fs`). Every call here works on the name itself and never
//! follows a symlink (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`, `linkat` without
//! `AT_SYMLINK_FOLLOW`), so the kernel can never be led out of a preopened
//! folder: the sandbox rests on the WASI layer's walk, and this file only
//! has to not undo it.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use kiln_runtime::abi::Preopen;
use kiln_runtime::fs::{
    DirEntry, Errno, FileSystem, Handle, Mount, MountError, OpenOptions, Stat, filetype,
};
use kiln_runtime::wasi::errno;

use crate::syscall::{self, Timespec};

/// A directory's entries, as read by `read_dir` at index 0: (name, entry).
type Listing = Vec<(Vec<u8>, DirEntry)>;

/// Real host folders; a [`Handle`] is a host file descriptor.
#[derive(Default)]
pub struct HostFs {
    /// Entries of the directories being listed, by handle.
    listings: BTreeMap<Handle, Listing>,
}

/// The WASI errno of a failed system call's result.
fn fail(ret: isize) -> Errno {
    errno::from_linux(ret as i32)
}

/// A system call's non-negative result, or its errno.
fn check(ret: isize) -> Result<usize, Errno> {
    if ret < 0 {
        Err(fail(ret))
    } else {
        Ok(ret as usize)
    }
}

fn fd(handle: Handle) -> usize {
    handle as usize
}

fn nanos(sec: i64, nsec: i64) -> u64 {
    (sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(nsec as u64)
}

/// The WASI file type of a `st_mode`.
fn filetype_of_mode(mode: u32) -> u8 {
    match mode & syscall::S_IFMT {
        syscall::S_IFDIR => filetype::DIRECTORY,
        syscall::S_IFREG => filetype::REGULAR_FILE,
        syscall::S_IFLNK => filetype::SYMBOLIC_LINK,
        syscall::S_IFCHR => filetype::CHARACTER_DEVICE,
        syscall::S_IFBLK => filetype::BLOCK_DEVICE,
        syscall::S_IFSOCK => filetype::SOCKET_STREAM,
        // FIFOs have no WASI type.
        _ => filetype::UNKNOWN,
    }
}

/// The WASI file type of a `d_type` (`None` for `DT_UNKNOWN`: ask `fstatat`).
fn filetype_of_dtype(d_type: u8) -> Option<u8> {
    Some(match d_type {
        4 => filetype::DIRECTORY,
        8 => filetype::REGULAR_FILE,
        10 => filetype::SYMBOLIC_LINK,
        2 => filetype::CHARACTER_DEVICE,
        6 => filetype::BLOCK_DEVICE,
        12 => filetype::SOCKET_STREAM,
        1 => filetype::UNKNOWN,
        _ => return None,
    })
}

fn stat_of(st: &syscall::Stat) -> Stat {
    Stat {
        dev: st.dev,
        ino: st.ino,
        filetype: filetype_of_mode(st.mode),
        nlink: st.nlink,
        size: st.size as u64,
        atim: nanos(st.atime, st.atime_nsec),
        mtim: nanos(st.mtime, st.mtime_nsec),
        ctim: nanos(st.ctime, st.ctime_nsec),
    }
}

/// `utimensat` times: the new value, or "leave it".
fn times(atim: Option<u64>, mtim: Option<u64>) -> [Timespec; 2] {
    let one = |t: Option<u64>| match t {
        Some(ns) => Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as i64,
        },
        None => Timespec {
            sec: 0,
            nsec: syscall::UTIME_OMIT,
        },
    };
    [one(atim), one(mtim)]
}

/// Reads directory `dir` from its start with `getdents64`: every entry but
/// `.` and `..`, in the order the host gives them.
fn list(dir: usize) -> Result<Listing, Errno> {
    check(syscall::lseek(dir, 0, syscall::SEEK_SET))?;
    let mut entries = Vec::new();
    let mut buf = alloc::vec![0u8; 16 * 1024];
    loop {
        let n = check(syscall::getdents64(dir, &mut buf))?;
        if n == 0 {
            return Ok(entries);
        }
        // struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16,
        // d_type u8, d_name (NUL-terminated).
        let mut at = 0;
        while at + 19 < n {
            let field = |from: usize, len: usize| &buf[at + from..at + from + len];
            let mut ino = [0u8; 8];
            ino.copy_from_slice(field(0, 8));
            let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
            if reclen < 20 || at + reclen > n {
                return Err(errno::IO);
            }
            let d_type = buf[at + 18];
            let raw = &buf[at + 19..at + reclen];
            let name = &raw[..raw.iter().position(|&c| c == 0).unwrap_or(raw.len())];
            if name != b"." && name != b".." {
                let filetype = match filetype_of_dtype(d_type) {
                    Some(t) => t,
                    None => {
                        let mut st = syscall::Stat::default();
                        check(syscall::fstatat(
                            dir,
                            name,
                            &mut st,
                            syscall::AT_SYMLINK_NOFOLLOW,
                        ))?;
                        filetype_of_mode(st.mode)
                    }
                };
                let ino = u64::from_ne_bytes(ino);
                entries.push((name.to_vec(), DirEntry { ino, filetype }));
            }
            at += reclen;
        }
    }
}

impl HostFs {
    /// Opens every preopen's host folder (`O_RDONLY | O_DIRECTORY`): the
    /// host board's `Board::mount`.
    pub fn mount(preopens: &'static [Preopen]) -> Result<Mount, MountError> {
        let mut roots = Vec::with_capacity(preopens.len());
        for (preopen, p) in preopens.iter().enumerate() {
            // SAFETY: the manifest's strings are static data or the process's
            // environment, which lives as long as the process.
            let path = unsafe { p.host_path.as_bytes() };
            let opened = if path.is_empty() {
                // Only `kiln build` images carry no host path; this board
                // serves host folders only.
                Err(errno::NOTSUP)
            } else {
                check(syscall::openat(
                    syscall::AT_FDCWD,
                    path,
                    syscall::O_RDONLY | syscall::O_DIRECTORY | syscall::O_CLOEXEC,
                    0,
                ))
            };
            match opened {
                Ok(fd) => roots.push(fd as Handle),
                Err(errno) => {
                    for &root in &roots {
                        syscall::close(fd(root));
                    }
                    return Err(MountError { preopen, errno });
                }
            }
        }
        Ok(Mount {
            fs: Box::new(HostFs::default()),
            roots,
        })
    }
}

impl FileSystem for HostFs {
    fn stat_at(&mut self, dir: Handle, name: &[u8]) -> Result<Stat, Errno> {
        let mut st = syscall::Stat::default();
        check(syscall::fstatat(
            fd(dir),
            name,
            &mut st,
            syscall::AT_SYMLINK_NOFOLLOW,
        ))?;
        Ok(stat_of(&st))
    }

    fn open_at(&mut self, dir: Handle, name: &[u8], options: OpenOptions) -> Result<Handle, Errno> {
        let mut flags = syscall::O_NOFOLLOW | syscall::O_CLOEXEC | syscall::O_NOCTTY;
        flags |= match (options.read, options.write) {
            // Only walked through: a base for `*at` calls and `fstat`.
            (false, false) => syscall::O_PATH | syscall::O_DIRECTORY,
            (true, false) => syscall::O_RDONLY,
            (false, true) => syscall::O_WRONLY,
            (true, true) => syscall::O_RDWR,
        };
        if options.create {
            flags |= syscall::O_CREAT;
        }
        if options.exclusive {
            flags |= syscall::O_EXCL;
        }
        if options.truncate {
            flags |= syscall::O_TRUNC;
        }
        if options.directory {
            flags |= syscall::O_DIRECTORY;
        }
        let fd = check(syscall::openat(dir as isize, name, flags, 0o666))?;
        Ok(fd as Handle)
    }

    fn close(&mut self, handle: Handle) {
        self.listings.remove(&handle);
        syscall::close(fd(handle));
    }

    fn stat(&mut self, handle: Handle) -> Result<Stat, Errno> {
        let mut st = syscall::Stat::default();
        check(syscall::fstat(fd(handle), &mut st))?;
        Ok(stat_of(&st))
    }

    fn read_at(&mut self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        check(syscall::pread(fd(handle), buf, offset))
    }

    fn write_at(&mut self, handle: Handle, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset.checked_add(done as u64).ok_or(errno::FBIG)?;
            match check(syscall::pwrite(fd(handle), &buf[done..], at)) {
                Ok(0) if done == 0 => return Err(errno::NOSPC),
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(done)
    }

    fn set_size(&mut self, handle: Handle, size: u64) -> Result<(), Errno> {
        if size > i64::MAX as u64 {
            return Err(errno::FBIG);
        }
        check(syscall::ftruncate(fd(handle), size)).map(drop)
    }

    fn set_times(
        &mut self,
        handle: Handle,
        atim: Option<u64>,
        mtim: Option<u64>,
    ) -> Result<(), Errno> {
        check(syscall::utimensat(fd(handle), None, &times(atim, mtim), 0)).map(drop)
    }

    fn set_times_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        atim: Option<u64>,
        mtim: Option<u64>,
    ) -> Result<(), Errno> {
        check(syscall::utimensat(
            fd(dir),
            Some(name),
            &times(atim, mtim),
            syscall::AT_SYMLINK_NOFOLLOW,
        ))
        .map(drop)
    }

    fn sync(&mut self, handle: Handle) -> Result<(), Errno> {
        check(syscall::fsync(fd(handle))).map(drop)
    }

    fn read_dir(
        &mut self,
        dir: Handle,
        index: u64,
        name: &mut Vec<u8>,
    ) -> Result<Option<DirEntry>, Errno> {
        if index == 0 || !self.listings.contains_key(&dir) {
            let entries = list(fd(dir))?;
            self.listings.insert(dir, entries);
        }
        let Some(entries) = self.listings.get(&dir) else {
            return Err(errno::IO);
        };
        name.clear();
        let entry = usize::try_from(index).ok().and_then(|i| entries.get(i));
        Ok(entry.map(|(n, e)| {
            name.extend_from_slice(n);
            *e
        }))
    }

    fn create_dir_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno> {
        check(syscall::mkdirat(fd(dir), name, 0o777)).map(drop)
    }

    fn remove_dir_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno> {
        check(syscall::unlinkat(fd(dir), name, syscall::AT_REMOVEDIR)).map(drop)
    }

    fn unlink_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno> {
        check(syscall::unlinkat(fd(dir), name, 0)).map(drop)
    }

    fn rename_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        new_dir: Handle,
        new_name: &[u8],
    ) -> Result<(), Errno> {
        check(syscall::renameat(fd(dir), name, fd(new_dir), new_name)).map(drop)
    }

    fn link_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        new_dir: Handle,
        new_name: &[u8],
    ) -> Result<(), Errno> {
        // Flags 0: a symlink at `name` is linked itself, never followed.
        check(syscall::linkat(fd(dir), name, fd(new_dir), new_name, 0)).map(drop)
    }

    fn symlink_at(&mut self, target: &[u8], dir: Handle, name: &[u8]) -> Result<(), Errno> {
        check(syscall::symlinkat(target, fd(dir), name)).map(drop)
    }

    fn read_link_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        target: &mut Vec<u8>,
    ) -> Result<(), Errno> {
        target.clear();
        let mut size = 256;
        loop {
            target.resize(size, 0);
            let n = check(syscall::readlinkat(fd(dir), name, target))?;
            if n < size {
                target.truncate(n);
                return Ok(());
            }
            // The target may have been cut short: try again with more room.
            if size >= 1 << 20 {
                return Err(errno::NAMETOOLONG);
            }
            size *= 4;
        }
    }
}
