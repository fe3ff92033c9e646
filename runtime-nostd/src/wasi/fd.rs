//! The descriptor table and the `fd_*` functions.
//!
//! Fds 0, 1 and 2 are the board's console; preopened directories follow
//! from 3 in manifest order; every other fd comes from `path_open`. As in
//! wasmtime, a new descriptor takes the highest closed number below the
//! table's end, or the next number after it, and rights are not enforced:
//! what a descriptor can do follows from how it was opened.

use super::memory::{GuestMemory, IoVecs};
use super::types::*;
use super::{Errno, WasiCtx, check_flags, errno};
use crate::board::{Board, Stream};
use crate::fs::{FileSystem, Handle, Stat};

/// Largest number of descriptors a program may hold.
const MAX_FDS: usize = 1 << 16;

/// Bits of `Desc::Dir::flags` and `Desc::File::flags`.
pub(crate) mod flag {
    /// `path_open` was asked for `FD_READ` (reported by `fd_fdstat_get`).
    pub const READ_RIGHT: u8 = 1;
    /// Reads are allowed (asked for, or no write asked for: as `O_RDONLY`).
    pub const READ: u8 = 2;
    pub const WRITE: u8 = 4;
    pub const APPEND: u8 = 8;
    pub const NONBLOCK: u8 = 16;
}

/// An open descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Desc<'b> {
    Stdin,
    Stdout,
    Stderr,
    Dir {
        handle: Handle,
        /// The guest path of a preopened directory.
        preopen: Option<&'b [u8]>,
        flags: u8,
    },
    File {
        handle: Handle,
        /// The current offset (`fd_seek`, `fd_read`, `fd_write`).
        pos: u64,
        flags: u8,
    },
}

/// Encodes a `filestat` record.
pub(crate) fn filestat_bytes(st: &Stat) -> [u8; size::FILESTAT as usize] {
    let mut b = [0u8; size::FILESTAT as usize];
    b[0..8].copy_from_slice(&st.dev.to_le_bytes());
    b[8..16].copy_from_slice(&st.ino.to_le_bytes());
    b[16] = st.filetype;
    b[24..32].copy_from_slice(&st.nlink.to_le_bytes());
    b[32..40].copy_from_slice(&st.size.to_le_bytes());
    b[40..48].copy_from_slice(&st.atim.to_le_bytes());
    b[48..56].copy_from_slice(&st.mtim.to_le_bytes());
    b[56..64].copy_from_slice(&st.ctim.to_le_bytes());
    b
}

impl<'b, B: Board> WasiCtx<'b, B> {
    // -- the table ---------------------------------------------------------

    pub(crate) fn desc(&self, fd: u32) -> Result<Desc<'b>, Errno> {
        self.fds
            .get(fd as usize)
            .copied()
            .flatten()
            .ok_or(errno::BADF)
    }

    /// Stores a new descriptor and returns its number.
    pub(crate) fn push_fd(&mut self, desc: Desc<'b>) -> Result<u32, Errno> {
        if let Some(free) = self.fds.iter().rposition(Option::is_none) {
            self.fds[free] = Some(desc);
            return Ok(free as u32);
        }
        if self.fds.len() >= MAX_FDS {
            return Err(errno::MFILE);
        }
        self.fds.push(Some(desc));
        Ok(self.fds.len() as u32 - 1)
    }

    fn set_pos(&mut self, fd: u32, new: u64) {
        if let Some(Some(Desc::File { pos, .. })) = self.fds.get_mut(fd as usize) {
            *pos = new;
        }
    }

    pub(crate) fn fs(&mut self) -> Result<&mut dyn FileSystem, Errno> {
        match &mut self.fs {
            Some(fs) => Ok(&mut **fs),
            None => Err(errno::BADF),
        }
    }

    /// The file system, told the time first: for calls that change files.
    pub(crate) fn fs_now(&mut self) -> Result<&mut dyn FileSystem, Errno> {
        let now = self.wall_now();
        let fs = self.fs()?;
        fs.set_time(now);
        Ok(fs)
    }

    /// The handle of a directory fd (`BADF` for anything else, as wasmtime).
    pub(crate) fn dir_handle(&self, fd: u32) -> Result<Handle, Errno> {
        match self.desc(fd)? {
            Desc::Dir { handle, .. } => Ok(handle),
            _ => Err(errno::BADF),
        }
    }

    /// A regular file's handle, position and flags (`BADF` otherwise).
    fn file(&self, fd: u32) -> Result<(Handle, u64, u8), Errno> {
        match self.desc(fd)? {
            Desc::File { handle, pos, flags } => Ok((handle, pos, flags)),
            _ => Err(errno::BADF),
        }
    }

    /// A file or directory's handle (`BADF` for the console).
    fn handle(&self, fd: u32) -> Result<Handle, Errno> {
        match self.desc(fd)? {
            Desc::File { handle, .. } | Desc::Dir { handle, .. } => Ok(handle),
            _ => Err(errno::BADF),
        }
    }

    /// A file that has a position: `SPIPE` for the console, `BADF` otherwise.
    fn seekable(&self, fd: u32) -> Result<(Handle, u64), Errno> {
        match self.desc(fd)? {
            Desc::File { handle, pos, .. } => Ok((handle, pos)),
            Desc::Stdin | Desc::Stdout | Desc::Stderr => Err(errno::SPIPE),
            Desc::Dir { .. } => Err(errno::BADF),
        }
    }

    /// Converts `fst_flags` and the times to `FileSystem::set_times` arguments.
    fn new_times(
        &mut self,
        atim: u64,
        mtim: u64,
        fst: u32,
    ) -> Result<(Option<u64>, Option<u64>), Errno> {
        check_flags(fst, fstflags::ALL)?;
        let mut one = |set: u32, now: u32, t: u64| match (fst & set != 0, fst & now != 0) {
            (true, true) => Err(errno::INVAL),
            (true, false) => Ok(Some(t)),
            (false, true) => Ok(Some(self.wall_now())),
            (false, false) => Ok(None),
        };
        Ok((
            one(fstflags::ATIM, fstflags::ATIM_NOW, atim)?,
            one(fstflags::MTIM, fstflags::MTIM_NOW, mtim)?,
        ))
    }

    pub(crate) fn set_times(
        &mut self,
        fd_or_path: SetTimes<'_>,
        atim: u64,
        mtim: u64,
        fst: u32,
    ) -> Result<(), Errno> {
        let (a, m) = self.new_times(atim, mtim, fst)?;
        let fs = self.fs_now()?;
        match fd_or_path {
            SetTimes::Handle(h) => fs.set_times(h, a, m),
            SetTimes::At(dir, name) => fs.set_times_at(dir, name, a, m),
        }
    }

    // -- reading and writing -----------------------------------------------

    /// Reads file `handle` from `offset` into the iovecs until one is not
    /// filled; returns the bytes read.
    fn read_file(
        &mut self,
        memory: &mut GuestMemory,
        handle: Handle,
        offset: u64,
        iovs: &mut IoVecs,
    ) -> Result<u32, Errno> {
        let fs = self.fs()?;
        let mut total: u32 = 0;
        while let Some((buf, len)) = iovs.next(memory) {
            let bytes = memory.bytes(buf, len)?;
            let n = match fs.read_at(handle, offset.saturating_add(total as u64), bytes) {
                Ok(n) => n as u32,
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            };
            total = total.saturating_add(n);
            if n < len {
                break;
            }
        }
        Ok(total)
    }

    /// Writes the iovecs to file `handle` from `offset`; returns the bytes written.
    fn write_file(
        &mut self,
        memory: &mut GuestMemory,
        handle: Handle,
        offset: u64,
        iovs: &mut IoVecs,
    ) -> Result<u32, Errno> {
        let fs = self.fs_now()?;
        let mut total: u32 = 0;
        while let Some((buf, len)) = iovs.next(memory) {
            let bytes = memory.bytes(buf, len)?;
            let n = match fs.write_at(handle, offset.saturating_add(total as u64), bytes) {
                Ok(n) => n as u32,
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            };
            total = total.saturating_add(n);
            if n < len {
                break;
            }
        }
        Ok(total)
    }

    fn write_console(
        &mut self,
        memory: &mut GuestMemory,
        stream: Stream,
        iovs: &mut IoVecs,
    ) -> Result<u32, Errno> {
        let out = self.board.output(stream);
        let mut total: u32 = 0;
        while let Some((buf, len)) = iovs.next(memory) {
            let bytes = memory.bytes(buf, len)?;
            embedded_io::Write::write_all(out, bytes).map_err(|_| errno::IO)?;
            total = total.saturating_add(len);
        }
        embedded_io::Write::flush(out).map_err(|_| errno::IO)?;
        Ok(total)
    }

    pub(crate) fn fd_read(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nread: u32,
    ) -> Result<(), Errno> {
        let mut iovs = memory.iovecs(iovs, iovs_len)?;
        let n = match self.desc(fd)? {
            Desc::Stdin => {
                // One read into the first non-empty buffer: a console read
                // returns what is there and must not wait to fill more.
                let mut n = 0;
                while let Some((buf, len)) = iovs.next(memory) {
                    if len != 0 {
                        let bytes = memory.bytes(buf, len)?;
                        n = embedded_io::Read::read(self.board.stdin(), bytes)
                            .map_err(|_| errno::IO)? as u32;
                        break;
                    }
                }
                n
            }
            Desc::File { handle, pos, flags } if flags & flag::READ != 0 => {
                let n = self.read_file(memory, handle, pos, &mut iovs)?;
                self.set_pos(fd, pos.saturating_add(n as u64));
                n
            }
            _ => return Err(errno::BADF),
        };
        memory.write_u32(nread, n)
    }

    pub(crate) fn fd_pread(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nread: u32,
    ) -> Result<(), Errno> {
        let mut iovs = memory.iovecs(iovs, iovs_len)?;
        let n = match self.desc(fd)? {
            Desc::Stdin => return Err(errno::SPIPE),
            Desc::File { handle, flags, .. } if flags & flag::READ != 0 => {
                self.read_file(memory, handle, offset, &mut iovs)?
            }
            _ => return Err(errno::BADF),
        };
        memory.write_u32(nread, n)
    }

    pub(crate) fn fd_write(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        nwritten: u32,
    ) -> Result<(), Errno> {
        let mut iovs = memory.iovecs(iovs, iovs_len)?;
        let n = match self.desc(fd)? {
            Desc::Stdout => self.write_console(memory, Stream::Stdout, &mut iovs)?,
            Desc::Stderr => self.write_console(memory, Stream::Stderr, &mut iovs)?,
            Desc::File { handle, pos, flags } if flags & flag::WRITE != 0 => {
                let at = if flags & flag::APPEND != 0 {
                    self.fs()?.stat(handle)?.size
                } else {
                    pos
                };
                let n = self.write_file(memory, handle, at, &mut iovs)?;
                self.set_pos(fd, at.saturating_add(n as u64));
                n
            }
            _ => return Err(errno::BADF),
        };
        memory.write_u32(nwritten, n)
    }

    pub(crate) fn fd_pwrite(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        iovs: u32,
        iovs_len: u32,
        offset: u64,
        nwritten: u32,
    ) -> Result<(), Errno> {
        let mut iovs = memory.iovecs(iovs, iovs_len)?;
        let n = match self.desc(fd)? {
            Desc::Stdout | Desc::Stderr => return Err(errno::SPIPE),
            Desc::File { handle, flags, .. } if flags & flag::WRITE != 0 => {
                // Linux semantics, as wasmtime: an append-mode file appends.
                let at = if flags & flag::APPEND != 0 {
                    self.fs()?.stat(handle)?.size
                } else {
                    offset
                };
                self.write_file(memory, handle, at, &mut iovs)?
            }
            _ => return Err(errno::BADF),
        };
        memory.write_u32(nwritten, n)
    }

    pub(crate) fn fd_seek(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        offset: u64,
        whence: u32,
        newoffset: u32,
    ) -> Result<(), Errno> {
        if whence > whence::END {
            return Err(errno::INVAL);
        }
        let (handle, pos) = self.seekable(fd)?;
        memory.bytes(newoffset, 8)?;
        let offset = offset as i64;
        let new = match whence {
            whence::SET => u64::try_from(offset).map_err(|_| errno::INVAL)?,
            whence::CUR => pos.checked_add_signed(offset).ok_or(errno::INVAL)?,
            _ => self
                .fs()?
                .stat(handle)?
                .size
                .checked_add_signed(offset)
                .ok_or(errno::INVAL)?,
        };
        self.set_pos(fd, new);
        memory.write_u64(newoffset, new)
    }

    pub(crate) fn fd_tell(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        offset: u32,
    ) -> Result<(), Errno> {
        let (_, pos) = self.seekable(fd)?;
        memory.write_u64(offset, pos)
    }

    // -- descriptors -------------------------------------------------------

    pub(crate) fn fd_close(&mut self, _memory: &mut GuestMemory, fd: u32) -> Result<(), Errno> {
        let desc = self
            .fds
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(errno::BADF)?;
        if let Desc::File { handle, .. } | Desc::Dir { handle, .. } = desc {
            self.fs()?.close(handle);
        }
        Ok(())
    }

    pub(crate) fn fd_renumber(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        to: u32,
    ) -> Result<(), Errno> {
        self.desc(to)?;
        let desc = self.desc(fd)?;
        if fd != to {
            self.fds[fd as usize] = None;
            if let Some(Desc::File { handle, .. } | Desc::Dir { handle, .. }) =
                self.fds[to as usize].replace(desc)
            {
                self.fs()?.close(handle);
            }
        }
        Ok(())
    }

    /// Whether the console stream of `desc` is a terminal: its WASI filetype.
    fn console_filetype(&mut self, fd: u32) -> u8 {
        if self.not_terminal & (1 << fd.min(31)) == 0 && self.board.is_terminal(fd) {
            filetype::CHARACTER_DEVICE
        } else {
            filetype::UNKNOWN
        }
    }

    pub(crate) fn fd_fdstat_get(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        stat: u32,
    ) -> Result<(), Errno> {
        const NOT_FOR_DIRS: u64 =
            rights::FD_SEEK | rights::FD_FILESTAT_SET_SIZE | rights::PATH_FILESTAT_SET_SIZE;
        let (filetype, fs_flags, base, inheriting) = match self.desc(fd)? {
            Desc::Stdin => (
                self.console_filetype(0),
                0,
                rights::FD_READ,
                rights::FD_READ,
            ),
            Desc::Stdout => (
                self.console_filetype(1),
                0,
                rights::FD_WRITE,
                rights::FD_WRITE,
            ),
            Desc::Stderr => (
                self.console_filetype(2),
                0,
                rights::FD_WRITE,
                rights::FD_WRITE,
            ),
            Desc::Dir {
                preopen: Some(_), ..
            } => (
                filetype::DIRECTORY,
                0,
                rights::PREOPEN_BASE,
                rights::PREOPEN_INHERITING,
            ),
            Desc::Dir { flags, .. } => {
                let mut base = rights::ALL & !NOT_FOR_DIRS & !rights::FD_WRITE;
                if flags & flag::READ_RIGHT == 0 {
                    base &= !(rights::FD_READ | rights::FD_READDIR);
                }
                (filetype::DIRECTORY, 0, base, base)
            }
            Desc::File { handle, flags, .. } => {
                let filetype = self.fs()?.stat(handle)?.filetype;
                let mut base = rights::ALL;
                if flags & flag::READ_RIGHT == 0 {
                    base &= !(rights::FD_READ | rights::FD_READDIR);
                }
                if flags & flag::WRITE == 0 {
                    base &= !rights::FD_WRITE;
                }
                let mut fs_flags = 0u16;
                if flags & flag::APPEND != 0 {
                    fs_flags |= fdflags::APPEND as u16;
                }
                if flags & flag::NONBLOCK != 0 {
                    fs_flags |= fdflags::NONBLOCK as u16;
                }
                (filetype, fs_flags, base, base)
            }
        };
        let mut b = [0u8; size::FDSTAT as usize];
        b[0] = filetype;
        b[2..4].copy_from_slice(&fs_flags.to_le_bytes());
        b[8..16].copy_from_slice(&base.to_le_bytes());
        b[16..24].copy_from_slice(&inheriting.to_le_bytes());
        memory.write_bytes(stat, &b)
    }

    pub(crate) fn fd_fdstat_set_flags(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        flags: u32,
    ) -> Result<(), Errno> {
        check_flags(flags, fdflags::ALL)?;
        self.file(fd)?;
        if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
            return Err(errno::INVAL);
        }
        if let Some(Some(Desc::File { flags: f, .. })) = self.fds.get_mut(fd as usize) {
            *f &= !(flag::APPEND | flag::NONBLOCK);
            if flags & fdflags::APPEND != 0 {
                *f |= flag::APPEND;
            }
            if flags & fdflags::NONBLOCK != 0 {
                *f |= flag::NONBLOCK;
            }
        }
        Ok(())
    }

    pub(crate) fn fd_fdstat_set_rights(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        base: u64,
        inheriting: u64,
    ) -> Result<(), Errno> {
        if (base | inheriting) & !rights::ALL != 0 {
            return Err(errno::INVAL);
        }
        self.handle(fd)?;
        // As wasmtime: rights are not tracked, so they cannot be dropped.
        Err(errno::NOTSUP)
    }

    pub(crate) fn fd_filestat_get(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        stat: u32,
    ) -> Result<(), Errno> {
        let st = match self.desc(fd)? {
            Desc::Stdin => Stat {
                filetype: self.console_filetype(0),
                ..Stat::default()
            },
            Desc::Stdout => Stat {
                filetype: self.console_filetype(1),
                ..Stat::default()
            },
            Desc::Stderr => Stat {
                filetype: self.console_filetype(2),
                ..Stat::default()
            },
            Desc::Dir { handle, .. } | Desc::File { handle, .. } => self.fs()?.stat(handle)?,
        };
        memory.write_bytes(stat, &filestat_bytes(&st))
    }

    pub(crate) fn fd_filestat_set_size(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        size: u64,
    ) -> Result<(), Errno> {
        let (handle, _, flags) = self.file(fd)?;
        if flags & flag::WRITE == 0 {
            return Err(errno::INVAL);
        }
        self.fs_now()?.set_size(handle, size)
    }

    pub(crate) fn fd_filestat_set_times(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<(), Errno> {
        check_flags(fst_flags, fstflags::ALL)?;
        let handle = self.handle(fd)?;
        self.set_times(SetTimes::Handle(handle), atim, mtim, fst_flags)
    }

    pub(crate) fn fd_advise(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        _offset: u64,
        _len: u64,
        advice: u32,
    ) -> Result<(), Errno> {
        if advice > advice::MAX {
            return Err(errno::INVAL);
        }
        // Advice changes no result; files here are in memory or the host's cache.
        self.file(fd).map(|_| ())
    }

    pub(crate) fn fd_allocate(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        offset: u64,
        len: u64,
    ) -> Result<(), Errno> {
        let (handle, _, flags) = self.file(fd)?;
        if flags & flag::WRITE == 0 {
            return Err(errno::BADF);
        }
        if len == 0 {
            return Err(errno::INVAL);
        }
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= i64::MAX as u64)
            .ok_or(errno::FBIG)?;
        let fs = self.fs_now()?;
        if end > fs.stat(handle)?.size {
            fs.set_size(handle, end)?;
        }
        Ok(())
    }

    pub(crate) fn fd_datasync(&mut self, _memory: &mut GuestMemory, fd: u32) -> Result<(), Errno> {
        let (handle, _, _) = self.file(fd)?;
        self.fs()?.sync(handle)
    }

    pub(crate) fn fd_sync(&mut self, _memory: &mut GuestMemory, fd: u32) -> Result<(), Errno> {
        let (handle, _, _) = self.file(fd)?;
        self.fs()?.sync(handle)
    }

    pub(crate) fn fd_prestat_get(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        prestat: u32,
    ) -> Result<(), Errno> {
        match self.desc(fd)? {
            Desc::Dir {
                preopen: Some(name),
                ..
            } => {
                let mut b = [0u8; size::PRESTAT as usize];
                b[0] = preopentype::DIR;
                b[4..8].copy_from_slice(&(name.len() as u32).to_le_bytes());
                memory.write_bytes(prestat, &b)
            }
            _ => Err(errno::BADF),
        }
    }

    pub(crate) fn fd_prestat_dir_name(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        match self.desc(fd)? {
            Desc::Dir {
                preopen: Some(name),
                ..
            } if name.len() > path_len as usize => Err(errno::NAMETOOLONG),
            Desc::Dir {
                preopen: Some(name),
                ..
            } => memory.write_bytes(path, name),
            _ => Err(errno::NOTDIR),
        }
    }

    /// Entries `.` (cookie 0), `..` (1), then the directory's own, each a
    /// `dirent` followed by its name; the last one is cut off when the buffer
    /// is full (the guest then asks again from that entry's cookie).
    pub(crate) fn fd_readdir(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        buf: u32,
        buf_len: u32,
        cookie: u64,
        bufused: u32,
    ) -> Result<(), Errno> {
        let handle = self.dir_handle(fd)?;
        let fs = self.fs()?;
        let ino = fs.stat(handle)?.ino;
        let mut name = alloc::vec::Vec::new();
        let (mut at, mut cap) = (buf, buf_len);
        let mut index = cookie;
        let put = |memory: &mut GuestMemory,
                   bytes: &[u8],
                   at: &mut u32,
                   cap: &mut u32|
         -> Result<bool, Errno> {
            let n = (*cap).min(bytes.len() as u32);
            memory.write_bytes(*at, &bytes[..n as usize])?;
            *at += n;
            *cap -= n;
            Ok(*cap == 0)
        };
        loop {
            let (d_ino, d_type) = match index {
                0 | 1 => {
                    name.clear();
                    name.extend_from_slice(&b".."[..index as usize + 1]);
                    (ino, filetype::DIRECTORY)
                }
                _ => match fs.read_dir(handle, index - 2, &mut name)? {
                    Some(e) => (e.ino, e.filetype),
                    None => break,
                },
            };
            index += 1;
            let mut dirent = [0u8; size::DIRENT as usize];
            dirent[0..8].copy_from_slice(&index.to_le_bytes());
            dirent[8..16].copy_from_slice(&d_ino.to_le_bytes());
            dirent[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
            dirent[20] = d_type;
            if put(memory, &dirent, &mut at, &mut cap)? || put(memory, &name, &mut at, &mut cap)? {
                break;
            }
        }
        memory.write_u32(bufused, buf_len - cap)
    }
}

/// What `set_times` works on.
pub(crate) enum SetTimes<'a> {
    Handle(Handle),
    At(Handle, &'a [u8]),
}
