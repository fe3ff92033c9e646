//! Path resolution, the sandbox, and the `path_*` functions.
//!
//! A guest path is resolved here, one component at a time, for every file
//! system: the walk starts at the directory of the fd given and keeps the
//! directories it entered on a stack. `..` pops the stack and fails with
//! `PERM` when it would leave the starting directory; an absolute path
//! fails with `PERM`; a symlink's target is spliced into the rest of the
//! path and walked the same way (so a link that points out of the sandbox
//! also hits `PERM`, and more than [`MAX_SYMLINKS`] of them give `LOOP`).
//! This is what wasmtime (cap-std) does, with the same errors. The file
//! system then only sees single names inside directories it handed out.

use alloc::vec;
use alloc::vec::Vec;

use super::fd::{Desc, SetTimes, filestat_bytes, flag};
use super::memory::GuestMemory;
use super::types::*;
use super::{Errno, WasiCtx, check_flags, errno};
use crate::board::Board;
use crate::fs::{FileSystem, Handle, OpenOptions, Stat};

/// Symlinks followed in one path before giving up with `LOOP` (Linux's limit).
pub(crate) const MAX_SYMLINKS: u32 = 40;

/// A path resolved to the directory that holds its last component.
pub(crate) struct At {
    /// The directories walked: `[0]` is the starting fd's (not ours to
    /// close), the last one holds `name`.
    dirs: Vec<Handle>,
    /// The last component: `.` when the path names the directory itself.
    pub name: Vec<u8>,
    /// The path ended with `/`: its target must be a directory.
    pub slash: bool,
    /// The target's attributes, when the walk looked at it (to follow a
    /// symlink or check a trailing slash) and it exists.
    pub stat: Option<Stat>,
}

impl At {
    pub fn dir(&self) -> Handle {
        // `dirs` always holds the starting directory.
        self.dirs[self.dirs.len() - 1]
    }

    /// Closes the directories the walk opened.
    pub fn release(self, fs: &mut dyn FileSystem) {
        for &h in &self.dirs[1..] {
            fs.close(h);
        }
    }
}

/// Copies a guest path out of memory: `FAULT` outside it, `ILSEQ` if not
/// UTF-8, `INVAL` with a NUL inside.
fn read_path(memory: &mut GuestMemory, ptr: u32, len: u32) -> Result<Vec<u8>, Errno> {
    let bytes = memory.bytes(ptr, len)?;
    core::str::from_utf8(bytes).map_err(|_| errno::ILSEQ)?;
    if bytes.contains(&0) {
        return Err(errno::INVAL);
    }
    Ok(bytes.to_vec())
}

/// Resolves `path` from directory `base`; see the module documentation.
/// With `follow`, a symlink in the last component is followed too (a
/// trailing slash always follows it).
pub(crate) fn walk(
    fs: &mut dyn FileSystem,
    base: Handle,
    path: Vec<u8>,
    follow: bool,
) -> Result<At, Errno> {
    if path.is_empty() {
        return Err(errno::NOENT);
    }
    let mut at = At {
        dirs: vec![base],
        name: Vec::new(),
        slash: false,
        stat: None,
    };
    match walk_from(fs, &mut at, path, follow) {
        Ok(()) => Ok(at),
        Err(e) => {
            at.release(fs);
            Err(e)
        }
    }
}

fn walk_from(
    fs: &mut dyn FileSystem,
    at: &mut At,
    mut path: Vec<u8>,
    follow: bool,
) -> Result<(), Errno> {
    let mut start = 0;
    let mut links = 0;
    loop {
        if path.first() == Some(&b'/') && start == 0 {
            return Err(errno::PERM);
        }
        while path.get(start) == Some(&b'/') {
            start += 1;
        }
        let end = path[start..]
            .iter()
            .position(|&c| c == b'/')
            .map_or(path.len(), |p| start + p);
        let last = path[end..].iter().all(|&c| c == b'/');
        at.slash = last && end < path.len();
        let comp = &path[start..end];
        if comp == b"." || comp == b".." || comp.is_empty() {
            if comp == b".." {
                if at.dirs.len() == 1 {
                    return Err(errno::PERM);
                }
                if let Some(h) = at.dirs.pop() {
                    fs.close(h);
                }
            }
            if last {
                at.name = b".".to_vec();
                return Ok(());
            }
            start = end;
            continue;
        }
        if last && !follow && !at.slash {
            at.name = comp.to_vec();
            return Ok(());
        }
        let dir = at.dir();
        let st = match fs.stat_at(dir, comp) {
            Ok(st) => st,
            Err(errno::NOENT) if last => {
                at.name = comp.to_vec();
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if st.is_symlink() {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(errno::LOOP);
            }
            let mut target = Vec::new();
            fs.read_link_at(dir, comp, &mut target)?;
            if target.is_empty() {
                return Err(errno::NOENT);
            }
            if target[0] == b'/' {
                return Err(errno::PERM);
            }
            target.extend_from_slice(&path[end..]);
            path = target;
            start = 0;
            continue;
        }
        if last {
            if at.slash && !st.is_dir() {
                return Err(errno::NOTDIR);
            }
            at.name = comp.to_vec();
            at.stat = Some(st);
            return Ok(());
        }
        if !st.is_dir() {
            return Err(errno::NOTDIR);
        }
        // Only a base for the next `*_at` call (see `OpenOptions`).
        let options = OpenOptions {
            directory: true,
            ..OpenOptions::default()
        };
        let h = fs.open_at(dir, comp, options)?;
        at.dirs.push(h);
        start = end;
    }
}

impl<'b, B: Board> WasiCtx<'b, B> {
    /// Resolves the guest path at `ptr` from directory fd `fd`.
    fn resolve(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        ptr: u32,
        len: u32,
        follow: bool,
    ) -> Result<At, Errno> {
        let base = self.dir_handle(fd)?;
        let path = read_path(memory, ptr, len)?;
        walk(self.fs()?, base, path, follow)
    }

    /// Resolves a path, runs `op` on it and releases it.
    fn with_path<R>(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        (ptr, len): (u32, u32),
        follow: bool,
        op: impl FnOnce(&mut dyn FileSystem, &At) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let at = self.resolve(memory, fd, ptr, len, follow)?;
        let fs = self.fs_now()?;
        let result = op(fs, &at);
        at.release(fs);
        result
    }

    /// Resolves two paths (`path_link`, `path_rename`), runs `op` on them and
    /// releases them.
    fn with_paths(
        &mut self,
        memory: &mut GuestMemory,
        (fd1, ptr1, len1): (u32, u32, u32),
        (fd2, ptr2, len2): (u32, u32, u32),
        op: impl FnOnce(&mut dyn FileSystem, &At, &At) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let (base1, base2) = (self.dir_handle(fd1)?, self.dir_handle(fd2)?);
        let (path1, path2) = (
            read_path(memory, ptr1, len1)?,
            read_path(memory, ptr2, len2)?,
        );
        let fs = self.fs_now()?;
        let a = walk(fs, base1, path1, false)?;
        let result = match walk(fs, base2, path2, false) {
            Ok(b) => {
                let result = op(fs, &a, &b);
                b.release(fs);
                result
            }
            Err(e) => Err(e),
        };
        a.release(fs);
        result
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_open(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        dirflags: u32,
        path: u32,
        path_len: u32,
        oflags: u32,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u32,
        opened_fd: u32,
    ) -> Result<(), Errno> {
        check_flags(dirflags, lookupflags::ALL)?;
        check_flags(oflags, oflags::ALL)?;
        check_flags(fdflags, fdflags::ALL)?;
        if (rights_base | rights_inheriting) & !rights::ALL != 0 {
            return Err(errno::INVAL);
        }
        if let Desc::File { .. } = self.desc(fd)? {
            return Err(errno::NOTDIR);
        }
        memory.bytes(opened_fd, 4)?;
        if fdflags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
            return Err(errno::NOTSUP);
        }
        let create = oflags & oflags::CREAT != 0;
        let directory = oflags & oflags::DIRECTORY != 0;
        if directory && oflags & (oflags::CREAT | oflags::EXCL | oflags::TRUNC) != 0 {
            return Err(errno::INVAL);
        }
        let write = rights_base & rights::FD_WRITE != 0;
        let read_right = rights_base & rights::FD_READ != 0;
        let options = OpenOptions {
            read: read_right || !write,
            write,
            create,
            exclusive: oflags & oflags::EXCL != 0,
            truncate: oflags & oflags::TRUNC != 0,
            directory,
        };
        let follow = dirflags & lookupflags::SYMLINK_FOLLOW != 0;
        let (handle, st) = self.with_path(memory, fd, (path, path_len), follow, |fs, at| {
            if at.slash && create && at.stat.is_none() {
                return Err(errno::ISDIR);
            }
            let options = OpenOptions {
                directory: options.directory || at.slash,
                ..options
            };
            let handle = fs.open_at(at.dir(), &at.name, options)?;
            match fs.stat(handle) {
                Ok(st) => Ok((handle, st)),
                Err(e) => {
                    fs.close(handle);
                    Err(e)
                }
            }
        })?;
        let mut flags = if read_right { flag::READ_RIGHT } else { 0 };
        let desc = if st.is_dir() {
            Desc::Dir {
                handle,
                preopen: None,
                flags,
            }
        } else {
            if options.read {
                flags |= flag::READ;
            }
            if write {
                flags |= flag::WRITE;
            }
            if fdflags & fdflags::APPEND != 0 {
                flags |= flag::APPEND;
            }
            if fdflags & fdflags::NONBLOCK != 0 {
                flags |= flag::NONBLOCK;
            }
            Desc::File {
                handle,
                pos: 0,
                flags,
            }
        };
        match self.push_fd(desc) {
            Ok(new_fd) => memory.write_u32(opened_fd, new_fd),
            Err(e) => {
                self.fs()?.close(handle);
                Err(e)
            }
        }
    }

    pub(crate) fn path_create_directory(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        self.with_path(memory, fd, (path, path_len), false, |fs, at| {
            fs.create_dir_at(at.dir(), &at.name)
        })
    }

    pub(crate) fn path_filestat_get(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        stat: u32,
    ) -> Result<(), Errno> {
        check_flags(flags, lookupflags::ALL)?;
        let follow = flags & lookupflags::SYMLINK_FOLLOW != 0;
        let st = self.with_path(memory, fd, (path, path_len), follow, |fs, at| {
            match at.stat {
                Some(st) => Ok(st),
                None => fs.stat_at(at.dir(), &at.name),
            }
        })?;
        memory.write_bytes(stat, &filestat_bytes(&st))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_filestat_set_times(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        flags: u32,
        path: u32,
        path_len: u32,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> Result<(), Errno> {
        check_flags(flags, lookupflags::ALL)?;
        check_flags(fst_flags, fstflags::ALL)?;
        let follow = flags & lookupflags::SYMLINK_FOLLOW != 0;
        let at = self.resolve(memory, fd, path, path_len, follow)?;
        let result = self.set_times(SetTimes::At(at.dir(), &at.name), atim, mtim, fst_flags);
        at.release(self.fs()?);
        result
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_link(
        &mut self,
        memory: &mut GuestMemory,
        old_fd: u32,
        old_flags: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno> {
        check_flags(old_flags, lookupflags::ALL)?;
        self.dir_handle(old_fd)?;
        self.dir_handle(new_fd)?;
        if old_flags & lookupflags::SYMLINK_FOLLOW != 0 {
            // As wasmtime: a link to a symlink's target is not supported.
            return Err(errno::INVAL);
        }
        self.with_paths(
            memory,
            (old_fd, old_path, old_path_len),
            (new_fd, new_path, new_path_len),
            |fs, old, new| {
                if new.slash {
                    return Err(if new.stat.is_some() {
                        errno::EXIST
                    } else {
                        errno::NOENT
                    });
                }
                fs.link_at(old.dir(), &old.name, new.dir(), &new.name)
            },
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_readlink(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        path: u32,
        path_len: u32,
        buf: u32,
        buf_len: u32,
        bufused: u32,
    ) -> Result<(), Errno> {
        let mut target = self.with_path(memory, fd, (path, path_len), false, |fs, at| {
            let mut target = Vec::new();
            fs.read_link_at(at.dir(), &at.name, &mut target)?;
            Ok(target)
        })?;
        // As wasmtime: a short buffer gets the start of the target.
        target.truncate(buf_len as usize);
        memory.write_bytes(buf, &target)?;
        memory.write_u32(bufused, target.len() as u32)
    }

    pub(crate) fn path_remove_directory(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        self.with_path(memory, fd, (path, path_len), false, |fs, at| {
            fs.remove_dir_at(at.dir(), &at.name)
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn path_rename(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        old_path: u32,
        old_path_len: u32,
        new_fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno> {
        self.with_paths(
            memory,
            (fd, old_path, old_path_len),
            (new_fd, new_path, new_path_len),
            |fs, old, new| {
                // A trailing slash on either side is only for directories.
                if (old.slash || new.slash) && !fs.stat_at(old.dir(), &old.name)?.is_dir() {
                    return Err(errno::NOTDIR);
                }
                fs.rename_at(old.dir(), &old.name, new.dir(), &new.name)
            },
        )
    }

    pub(crate) fn path_symlink(
        &mut self,
        memory: &mut GuestMemory,
        old_path: u32,
        old_path_len: u32,
        fd: u32,
        new_path: u32,
        new_path_len: u32,
    ) -> Result<(), Errno> {
        self.dir_handle(fd)?;
        let target = read_path(memory, old_path, old_path_len)?;
        if target.first() == Some(&b'/') {
            // As wasmtime: a link may not point out of the sandbox.
            return Err(errno::PERM);
        }
        if target.is_empty() {
            return Err(errno::NOENT);
        }
        self.with_path(memory, fd, (new_path, new_path_len), false, |fs, at| {
            if at.slash {
                return Err(if at.stat.is_some() {
                    errno::EXIST
                } else {
                    errno::NOENT
                });
            }
            fs.symlink_at(&target, at.dir(), &at.name)
        })
    }

    pub(crate) fn path_unlink_file(
        &mut self,
        memory: &mut GuestMemory,
        fd: u32,
        path: u32,
        path_len: u32,
    ) -> Result<(), Errno> {
        self.with_path(memory, fd, (path, path_len), false, |fs, at| {
            fs.unlink_at(at.dir(), &at.name)
        })
    }
}
