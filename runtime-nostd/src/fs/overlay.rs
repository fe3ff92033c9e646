//! A writable RAM file system on top of read-only images: what bare-metal
//! boards serve their preopened directories from.
//!
//! Every file, directory and symlink is a node in one arena; its index is
//! its inode number, so hard links, open-but-unlinked files and renames of
//! open directories behave as on a real file system. A directory that comes
//! from an image is read from the image only when it is first used: its
//! entries become nodes whose names and contents still point into the
//! image (nothing is copied). From then on the directory's entry list is the
//! merged view of both layers, so creating, renaming and deleting are plain
//! list edits. A file's contents are copied into RAM only when it is first
//! written or truncated (copy-on-write), and then only as much as is kept.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::image::Image;
use super::{DirEntry, Errno, FileSystem, Handle, Mount, MountError, OpenOptions, Stat, filetype};
use crate::abi::Preopen;
use crate::wasi::errno;

/// Bits of a [`Handle`] below the node index: how the handle was opened.
const READ: u64 = 1;
const WRITE: u64 = 2;
const MODE_BITS: u32 = 2;

/// Bytes of a file or symlink: still in the image, or copied to RAM.
enum Bytes {
    Image(&'static [u8]),
    Ram(Vec<u8>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Image(s) => s,
            Bytes::Ram(v) => v,
        }
    }

    /// The bytes in RAM, copying at most `keep` bytes from the image.
    fn make_mut(&mut self, keep: usize) -> Result<&mut Vec<u8>, Errno> {
        if let Bytes::Image(s) = *self {
            let kept = &s[..keep.min(s.len())];
            let mut v = Vec::new();
            v.try_reserve_exact(kept.len()).map_err(|_| errno::NOSPC)?;
            v.extend_from_slice(kept);
            *self = Bytes::Ram(v);
        }
        match self {
            Bytes::Ram(v) => Ok(v),
            Bytes::Image(_) => Err(errno::IO),
        }
    }
}

/// A directory entry's name: in the image, or in RAM.
enum Name {
    Image(&'static [u8]),
    Ram(Box<[u8]>),
}

impl Name {
    fn bytes(&self) -> &[u8] {
        match self {
            Name::Image(s) => s,
            Name::Ram(b) => b,
        }
    }
}

struct Dir {
    /// The directory holding this one (the root holds itself).
    parent: u32,
    /// The image directory (image, node) whose entries are not read yet.
    pending: Option<(u32, u32)>,
    /// Entries sorted by name.
    entries: Vec<(Name, u32)>,
}

enum Kind {
    File(Bytes),
    Symlink(Bytes),
    Dir(Dir),
}

struct Node {
    kind: Kind,
    /// Names that refer to the node (0 once a directory is removed).
    nlink: u32,
    /// Open handles.
    handles: u32,
    atim: u64,
    mtim: u64,
    ctim: u64,
}

impl Node {
    fn new(kind: Kind, time: u64) -> Node {
        Node {
            kind,
            nlink: 1,
            handles: 0,
            atim: time,
            mtim: time,
            ctim: time,
        }
    }

    fn filetype(&self) -> u8 {
        match self.kind {
            Kind::File(_) => filetype::REGULAR_FILE,
            Kind::Symlink(_) => filetype::SYMBOLIC_LINK,
            Kind::Dir(_) => filetype::DIRECTORY,
        }
    }
}

/// Read-only images with a RAM layer on top; see the module documentation.
#[derive(Default)]
pub struct Overlay {
    images: Vec<Image<'static>>,
    nodes: Vec<Option<Node>>,
    free: Vec<u32>,
    now: u64,
}

fn is_dot(name: &[u8]) -> bool {
    name == b"."
}

fn node_of(handle: Handle) -> u32 {
    (handle >> MODE_BITS) as u32
}

impl Overlay {
    pub fn new() -> Overlay {
        Overlay::default()
    }

    /// Mounts every preopen's image (an empty image is an empty RAM
    /// directory): `Board::mount`'s default. A preopen that names a host
    /// folder but carries no image is refused with `NOTSUP`: this file
    /// system cannot reach the host, and an empty folder in its place would
    /// be a silent lie.
    pub fn mount(preopens: &'static [Preopen]) -> Result<Mount, MountError> {
        let mut fs = Box::new(Overlay::new());
        let mut roots = Vec::with_capacity(preopens.len());
        for (preopen, p) in preopens.iter().enumerate() {
            // SAFETY: the manifest's preopens point at images linked into the firmware.
            let image = unsafe { p.image.as_slice() };
            let root = if image.is_empty() && p.host_path.len != 0 {
                Err(errno::NOTSUP)
            } else {
                fs.add_root(image)
            };
            roots.push(root.map_err(|errno| MountError { preopen, errno })?);
        }
        Ok(Mount { fs, roots })
    }

    /// Adds a root directory with the contents of `image` (empty: an empty
    /// directory) and returns an open handle to it. `INVAL` for a corrupt image.
    pub fn add_root(&mut self, image: &'static [u8]) -> Result<Handle, Errno> {
        let (pending, time) = if image.is_empty() {
            (None, self.now)
        } else {
            let parsed = Image::new(image)?;
            let mtime = parsed.node(Image::ROOT).map_or(0, |n| n.mtime);
            self.images.push(parsed);
            (Some((self.images.len() as u32 - 1, Image::ROOT)), mtime)
        };
        let id = self.alloc(Node::new(
            Kind::Dir(Dir {
                parent: 0,
                pending,
                entries: Vec::new(),
            }),
            time,
        ))?;
        if let Some(Kind::Dir(d)) = self.nodes[id as usize].as_mut().map(|n| &mut n.kind) {
            d.parent = id;
        }
        self.open(id, READ)
    }

    fn alloc(&mut self, node: Node) -> Result<u32, Errno> {
        if let Some(id) = self.free.pop() {
            self.nodes[id as usize] = Some(node);
            return Ok(id);
        }
        let id = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&id| id < u32::MAX >> MODE_BITS)
            .ok_or(errno::NOSPC)?;
        self.nodes.try_reserve(1).map_err(|_| errno::NOSPC)?;
        self.nodes.push(Some(node));
        Ok(id)
    }

    fn node(&self, id: u32) -> Result<&Node, Errno> {
        self.nodes
            .get(id as usize)
            .and_then(Option::as_ref)
            .ok_or(errno::BADF)
    }

    fn node_mut(&mut self, id: u32) -> Result<&mut Node, Errno> {
        self.nodes
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or(errno::BADF)
    }

    /// Frees a node nobody names or holds any more.
    fn release(&mut self, id: u32) {
        if let Some(Some(n)) = self.nodes.get(id as usize)
            && n.nlink == 0
            && n.handles == 0
        {
            self.nodes[id as usize] = None;
            self.free.push(id);
        }
    }

    fn open(&mut self, id: u32, mode: u64) -> Result<Handle, Errno> {
        let node = self.node_mut(id)?;
        node.handles = node.handles.checked_add(1).ok_or(errno::NFILE)?;
        Ok(((id as u64) << MODE_BITS) | mode)
    }

    /// The directory `id` with its image entries read in. `NOTDIR` if `id`
    /// is not a directory.
    fn dir(&mut self, id: u32) -> Result<&mut Dir, Errno> {
        let pending = match &mut self.node_mut(id)?.kind {
            Kind::Dir(d) => d.pending.take(),
            _ => return Err(errno::NOTDIR),
        };
        if let Some((image_index, dir_node)) = pending {
            let entries = self.load(image_index, dir_node, id)?;
            if let Kind::Dir(d) = &mut self.node_mut(id)?.kind {
                d.entries = entries;
            }
        }
        match &mut self.node_mut(id)?.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(errno::NOTDIR),
        }
    }

    /// Makes nodes for the children of an image directory.
    fn load(
        &mut self,
        image_index: u32,
        dir_node: u32,
        parent: u32,
    ) -> Result<Vec<(Name, u32)>, Errno> {
        let image = *self.images.get(image_index as usize).ok_or(errno::IO)?;
        let dir = image.node(dir_node).ok_or(errno::IO)?;
        let children = image.children(&dir);
        let mut entries = Vec::new();
        entries
            .try_reserve_exact(children.len())
            .map_err(|_| errno::NOSPC)?;
        for child in children {
            let n = image.node(child).ok_or(errno::IO)?;
            let kind = match n.kind {
                filetype::DIRECTORY => Kind::Dir(Dir {
                    parent,
                    pending: Some((image_index, child)),
                    entries: Vec::new(),
                }),
                filetype::SYMBOLIC_LINK => Kind::Symlink(Bytes::Image(image.data(&n))),
                _ => Kind::File(Bytes::Image(image.data(&n))),
            };
            let id = self.alloc(Node::new(kind, n.mtime))?;
            entries.push((Name::Image(n.name), id));
        }
        // `Image::new` checked that the children are sorted by name.
        Ok(entries)
    }

    /// Looks `name` up in directory `dir`: `Ok(Err(position))` when absent.
    fn find(&mut self, dir: u32, name: &[u8]) -> Result<Result<(usize, u32), usize>, Errno> {
        let d = self.dir(dir)?;
        Ok(
            match d.entries.binary_search_by(|e| e.0.bytes().cmp(name)) {
                Ok(pos) => Ok((pos, d.entries[pos].1)),
                Err(pos) => Err(pos),
            },
        )
    }

    /// The node `name` names in `dir` (`.` is `dir` itself), or `NOENT`.
    fn lookup(&mut self, dir: u32, name: &[u8]) -> Result<u32, Errno> {
        if is_dot(name) {
            self.dir(dir)?;
            return Ok(dir);
        }
        self.find(dir, name)?
            .map(|(_, id)| id)
            .map_err(|_| errno::NOENT)
    }

    /// Where a new entry `name` goes in `dir`: `EXIST` if it exists, `NOENT`
    /// if `dir` has been removed.
    fn slot(&mut self, dir: u32, name: &[u8]) -> Result<usize, Errno> {
        if is_dot(name) {
            return Err(errno::EXIST);
        }
        let pos = self
            .find(dir, name)?
            .map_or_else(Ok, |_| Err(errno::EXIST))?;
        if self.node(dir)?.nlink == 0 {
            return Err(errno::NOENT);
        }
        Ok(pos)
    }

    /// Adds a new node as entry `name` of `dir` at `pos` (from [`slot`](Self::slot)).
    fn insert(&mut self, dir: u32, pos: usize, name: &[u8], node: Node) -> Result<u32, Errno> {
        let name = Name::Ram(name.into());
        let id = self.alloc(node)?;
        self.dir(dir)?.entries.insert(pos, (name, id));
        self.touch(dir);
        Ok(id)
    }

    /// Marks a directory as changed.
    fn touch(&mut self, id: u32) {
        let now = self.now;
        if let Ok(n) = self.node_mut(id) {
            n.mtim = now;
            n.ctim = now;
        }
    }

    fn stat_node(&self, id: u32) -> Result<Stat, Errno> {
        let n = self.node(id)?;
        let size = match &n.kind {
            Kind::File(b) | Kind::Symlink(b) => b.as_slice().len() as u64,
            Kind::Dir(_) => 0,
        };
        Ok(Stat {
            dev: 1,
            ino: id as u64 + 1,
            filetype: n.filetype(),
            nlink: n.nlink as u64,
            size,
            atim: n.atim,
            mtim: n.mtim,
            ctim: n.ctim,
        })
    }

    fn set_node_times(
        &mut self,
        id: u32,
        atim: Option<u64>,
        mtim: Option<u64>,
    ) -> Result<(), Errno> {
        let now = self.now;
        let n = self.node_mut(id)?;
        if let Some(t) = atim {
            n.atim = t;
        }
        if let Some(t) = mtim {
            n.mtim = t;
        }
        n.ctim = now;
        Ok(())
    }

    /// The file behind a handle opened with `mode`; `bad` if it lacks it.
    fn file(&mut self, handle: Handle, mode: u64, bad: Errno) -> Result<&mut Node, Errno> {
        let node = self.node_mut(node_of(handle))?;
        match node.kind {
            Kind::Dir(_) => Err(if mode == READ { errno::ISDIR } else { bad }),
            Kind::Symlink(_) => Err(errno::INVAL),
            Kind::File(_) if handle & mode == 0 => Err(bad),
            Kind::File(_) => Ok(node),
        }
    }
}

/// The contents of a file node (`Overlay::file` only returns those).
fn contents(node: &mut Node) -> Result<&mut Bytes, Errno> {
    match &mut node.kind {
        Kind::File(b) | Kind::Symlink(b) => Ok(b),
        Kind::Dir(_) => Err(errno::ISDIR),
    }
}

impl FileSystem for Overlay {
    fn stat_at(&mut self, dir: Handle, name: &[u8]) -> Result<Stat, Errno> {
        let id = self.lookup(node_of(dir), name)?;
        self.stat_node(id)
    }

    fn open_at(&mut self, dir: Handle, name: &[u8], options: OpenOptions) -> Result<Handle, Errno> {
        let dir = node_of(dir);
        let mode = if options.read { READ } else { 0 } | if options.write { WRITE } else { 0 };
        let id = match self.lookup(dir, name) {
            Ok(id) => {
                if options.create && options.exclusive {
                    return Err(errno::EXIST);
                }
                let now = self.now;
                let node = self.node_mut(id)?;
                match &mut node.kind {
                    Kind::Symlink(_) => return Err(errno::LOOP),
                    Kind::Dir(_) if options.write || options.truncate || options.create => {
                        return Err(errno::ISDIR);
                    }
                    Kind::Dir(_) => {}
                    Kind::File(_) if options.directory => return Err(errno::NOTDIR),
                    Kind::File(data) => {
                        if options.truncate {
                            *data = Bytes::Ram(Vec::new());
                            node.mtim = now;
                            node.ctim = now;
                        }
                    }
                }
                id
            }
            Err(errno::NOENT) if options.create && !options.directory => {
                let pos = self.slot(dir, name)?;
                self.insert(
                    dir,
                    pos,
                    name,
                    Node::new(Kind::File(Bytes::Ram(Vec::new())), self.now),
                )?
            }
            Err(e) => return Err(e),
        };
        self.open(id, mode)
    }

    fn close(&mut self, handle: Handle) {
        let id = node_of(handle);
        if let Ok(n) = self.node_mut(id) {
            n.handles = n.handles.saturating_sub(1);
            self.release(id);
        }
    }

    fn stat(&mut self, handle: Handle) -> Result<Stat, Errno> {
        self.stat_node(node_of(handle))
    }

    fn read_at(&mut self, handle: Handle, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let data = contents(self.file(handle, READ, errno::BADF)?)?.as_slice();
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn write_at(&mut self, handle: Handle, offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        let now = self.now;
        let node = self.file(handle, WRITE, errno::BADF)?;
        if buf.is_empty() {
            return Ok(0);
        }
        let start = usize::try_from(offset).map_err(|_| errno::FBIG)?;
        let end = start
            .checked_add(buf.len())
            .filter(|&e| e <= isize::MAX as usize)
            .ok_or(errno::FBIG)?;
        let data = contents(node)?.make_mut(usize::MAX)?;
        if end > data.len() {
            data.try_reserve(end - data.len())
                .map_err(|_| errno::NOSPC)?;
            data.resize(end, 0);
        }
        data[start..end].copy_from_slice(buf);
        node.mtim = now;
        node.ctim = now;
        Ok(buf.len())
    }

    fn set_size(&mut self, handle: Handle, size: u64) -> Result<(), Errno> {
        let now = self.now;
        let node = self.file(handle, WRITE, errno::INVAL)?;
        let size = usize::try_from(size)
            .ok()
            .filter(|&s| s <= isize::MAX as usize)
            .ok_or(errno::FBIG)?;
        let data = contents(node)?.make_mut(size)?;
        if size > data.len() {
            data.try_reserve(size - data.len())
                .map_err(|_| errno::NOSPC)?;
        }
        data.resize(size, 0);
        node.mtim = now;
        node.ctim = now;
        Ok(())
    }

    fn set_times(
        &mut self,
        handle: Handle,
        atim: Option<u64>,
        mtim: Option<u64>,
    ) -> Result<(), Errno> {
        self.set_node_times(node_of(handle), atim, mtim)
    }

    fn set_times_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        atim: Option<u64>,
        mtim: Option<u64>,
    ) -> Result<(), Errno> {
        let id = self.lookup(node_of(dir), name)?;
        self.set_node_times(id, atim, mtim)
    }

    fn sync(&mut self, handle: Handle) -> Result<(), Errno> {
        self.node(node_of(handle)).map(|_| ())
    }

    fn read_dir(
        &mut self,
        dir: Handle,
        index: u64,
        name: &mut Vec<u8>,
    ) -> Result<Option<DirEntry>, Errno> {
        let d = self.dir(node_of(dir))?;
        let Some((entry_name, id)) = usize::try_from(index).ok().and_then(|i| d.entries.get(i))
        else {
            return Ok(None);
        };
        let id = *id;
        name.clear();
        name.extend_from_slice(entry_name.bytes());
        let filetype = self.node(id)?.filetype();
        Ok(Some(DirEntry {
            ino: id as u64 + 1,
            filetype,
        }))
    }

    fn create_dir_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno> {
        let dir = node_of(dir);
        let pos = self.slot(dir, name)?;
        let node = Node::new(
            Kind::Dir(Dir {
                parent: dir,
                pending: None,
                entries: Vec::new(),
            }),
            self.now,
        );
        self.insert(dir, pos, name, node).map(|_| ())
    }

    fn remove_dir_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno> {
        let dir = node_of(dir);
        if is_dot(name) {
            return Err(errno::INVAL);
        }
        let (pos, id) = self.find(dir, name)?.map_err(|_| errno::NOENT)?;
        if !self.dir(id)?.entries.is_empty() {
            return Err(errno::NOTEMPTY);
        }
        self.dir(dir)?.entries.remove(pos);
        self.node_mut(id)?.nlink = 0;
        self.release(id);
        self.touch(dir);
        Ok(())
    }

    fn unlink_at(&mut self, dir: Handle, name: &[u8]) -> Result<(), Errno> {
        let dir = node_of(dir);
        if is_dot(name) {
            return Err(errno::ISDIR);
        }
        let (pos, id) = self.find(dir, name)?.map_err(|_| errno::NOENT)?;
        if matches!(self.node(id)?.kind, Kind::Dir(_)) {
            return Err(errno::ISDIR);
        }
        self.dir(dir)?.entries.remove(pos);
        let now = self.now;
        let n = self.node_mut(id)?;
        n.nlink = n.nlink.saturating_sub(1);
        n.ctim = now;
        self.release(id);
        self.touch(dir);
        Ok(())
    }

    fn rename_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        new_dir: Handle,
        new_name: &[u8],
    ) -> Result<(), Errno> {
        let (dir, new_dir) = (node_of(dir), node_of(new_dir));
        if is_dot(name) || is_dot(new_name) {
            return Err(errno::BUSY);
        }
        let (_, src) = self.find(dir, name)?.map_err(|_| errno::NOENT)?;
        let dst = self.find(new_dir, new_name)?.ok().map(|(_, id)| id);
        if self.node(new_dir)?.nlink == 0 {
            return Err(errno::NOENT);
        }
        if dst == Some(src) {
            return Ok(());
        }
        let src_is_dir = matches!(self.node(src)?.kind, Kind::Dir(_));
        if let Some(dst) = dst {
            let dst_is_dir = matches!(self.node(dst)?.kind, Kind::Dir(_));
            match (src_is_dir, dst_is_dir) {
                (true, false) => return Err(errno::NOTDIR),
                (false, true) => return Err(errno::ISDIR),
                (true, true) if !self.dir(dst)?.entries.is_empty() => return Err(errno::NOTEMPTY),
                _ => {}
            }
        }
        if src_is_dir {
            // A directory cannot move into itself or below itself.
            let mut at = new_dir;
            loop {
                if at == src {
                    return Err(errno::INVAL);
                }
                let parent = self.dir(at)?.parent;
                if parent == at {
                    break;
                }
                at = parent;
            }
        }
        let new_name: Box<[u8]> = new_name.into();
        if let Some(dst) = dst {
            let (pos, _) = self.find(new_dir, &new_name)?.map_err(|_| errno::NOENT)?;
            self.dir(new_dir)?.entries.remove(pos);
            let n = self.node_mut(dst)?;
            n.nlink = if src_is_dir {
                0
            } else {
                n.nlink.saturating_sub(1)
            };
            self.release(dst);
        }
        let (pos, _) = self.find(dir, name)?.map_err(|_| errno::NOENT)?;
        self.dir(dir)?.entries.remove(pos);
        let pos = self.find(new_dir, &new_name)?.err().ok_or(errno::EXIST)?;
        self.dir(new_dir)?
            .entries
            .insert(pos, (Name::Ram(new_name), src));
        if src_is_dir {
            self.dir(src)?.parent = new_dir;
        }
        self.touch(dir);
        self.touch(new_dir);
        let now = self.now;
        self.node_mut(src)?.ctim = now;
        Ok(())
    }

    fn link_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        new_dir: Handle,
        new_name: &[u8],
    ) -> Result<(), Errno> {
        let (dir, new_dir) = (node_of(dir), node_of(new_dir));
        let src = self.lookup(dir, name)?;
        if matches!(self.node(src)?.kind, Kind::Dir(_)) {
            return Err(errno::PERM);
        }
        let pos = self.slot(new_dir, new_name)?;
        self.dir(new_dir)?
            .entries
            .insert(pos, (Name::Ram(new_name.into()), src));
        let now = self.now;
        let n = self.node_mut(src)?;
        n.nlink = n.nlink.checked_add(1).ok_or(errno::MLINK)?;
        n.ctim = now;
        self.touch(new_dir);
        Ok(())
    }

    fn symlink_at(&mut self, target: &[u8], dir: Handle, name: &[u8]) -> Result<(), Errno> {
        let dir = node_of(dir);
        let pos = self.slot(dir, name)?;
        let node = Node::new(Kind::Symlink(Bytes::Ram(target.to_vec())), self.now);
        self.insert(dir, pos, name, node).map(|_| ())
    }

    fn read_link_at(
        &mut self,
        dir: Handle,
        name: &[u8],
        target: &mut Vec<u8>,
    ) -> Result<(), Errno> {
        let id = self.lookup(node_of(dir), name)?;
        match &self.node(id)?.kind {
            Kind::Symlink(b) => {
                target.clear();
                target.extend_from_slice(b.as_slice());
                Ok(())
            }
            _ => Err(errno::INVAL),
        }
    }

    fn set_time(&mut self, now_ns: u64) {
        self.now = now_ns;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::image::{Entry, pack};
    use alloc::vec;

    fn image() -> &'static [u8] {
        let tree = Entry::dir(
            b"",
            vec![
                Entry::file(b"hello.txt", b"Hello, image!"),
                Entry::dir(
                    b"docs",
                    vec![Entry::file(b"a.md", b"# A"), Entry::file(b"b.md", b"# B")],
                ),
                Entry::symlink(b"greeting", b"hello.txt"),
            ],
        );
        Box::leak(pack(&tree).unwrap().into_boxed_slice())
    }

    const RW: OpenOptions = OpenOptions {
        read: true,
        write: true,
        create: false,
        exclusive: false,
        truncate: false,
        directory: false,
    };
    const RO: OpenOptions = OpenOptions {
        read: true,
        write: false,
        create: false,
        exclusive: false,
        truncate: false,
        directory: false,
    };
    const DIR: OpenOptions = OpenOptions {
        read: true,
        write: false,
        create: false,
        exclusive: false,
        truncate: false,
        directory: true,
    };
    const CREATE: OpenOptions = OpenOptions {
        read: true,
        write: true,
        create: true,
        exclusive: false,
        truncate: false,
        directory: false,
    };

    fn names(fs: &mut Overlay, dir: Handle) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut name = Vec::new();
        let mut i = 0;
        while fs.read_dir(dir, i, &mut name).unwrap().is_some() {
            out.push(name.clone());
            i += 1;
        }
        out
    }

    fn read_all(fs: &mut Overlay, h: Handle) -> Vec<u8> {
        let mut buf = vec![0u8; 64];
        let n = fs.read_at(h, 0, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn reads_image_without_copying() {
        let img = image();
        let mut fs = Overlay::new();
        let root = fs.add_root(img).unwrap();
        let h = fs.open_at(root, b"hello.txt", RO).unwrap();
        assert_eq!(read_all(&mut fs, h), b"Hello, image!");
        let mut part = [0u8; 5];
        assert_eq!(fs.read_at(h, 7, &mut part).unwrap(), 5);
        assert_eq!(&part, b"image");
        assert_eq!(fs.read_at(h, 100, &mut part).unwrap(), 0);
        // Still the image's bytes.
        match &fs.node(node_of(h)).unwrap().kind {
            Kind::File(Bytes::Image(s)) => assert!(img.as_ptr_range().contains(&s.as_ptr())),
            _ => panic!("file was copied"),
        }
        assert_eq!(fs.write_at(h, 0, b"x"), Err(errno::BADF));
        assert_eq!(fs.set_size(h, 0), Err(errno::INVAL));
        fs.close(h);
        assert_eq!(
            fs.stat_at(root, b"greeting").unwrap().filetype,
            filetype::SYMBOLIC_LINK
        );
        let mut target = Vec::new();
        fs.read_link_at(root, b"greeting", &mut target).unwrap();
        assert_eq!(target, b"hello.txt");
        assert_eq!(fs.open_at(root, b"greeting", RO), Err(errno::LOOP));
        assert_eq!(fs.open_at(root, b"hello.txt", DIR), Err(errno::NOTDIR));
        assert_eq!(fs.open_at(root, b"docs", RW), Err(errno::ISDIR));
        assert_eq!(fs.open_at(root, b"nope", RO), Err(errno::NOENT));
    }

    #[test]
    fn copy_on_write_and_truncate() {
        let img = image();
        let mut fs = Overlay::new();
        fs.set_time(77);
        let root = fs.add_root(img).unwrap();
        let h = fs.open_at(root, b"hello.txt", RW).unwrap();
        assert_eq!(fs.write_at(h, 7, b"RAM!!").unwrap(), 5);
        assert_eq!(read_all(&mut fs, h), b"Hello, RAM!!!");
        assert!(matches!(
            fs.node(node_of(h)).unwrap().kind,
            Kind::File(Bytes::Ram(_))
        ));
        assert_eq!(fs.stat(h).unwrap().mtim, 77);
        // Writing past the end fills the gap with zeros.
        fs.write_at(h, 15, b"!").unwrap();
        assert_eq!(read_all(&mut fs, h), b"Hello, RAM!!!\0\0!");
        fs.set_size(h, 5).unwrap();
        assert_eq!(read_all(&mut fs, h), b"Hello");
        fs.set_size(h, 7).unwrap();
        assert_eq!(read_all(&mut fs, h), b"Hello\0\0");
        fs.close(h);
        // Truncating an image file copies nothing.
        let t = fs.open_at(root, b"docs", DIR).unwrap();
        let a = fs
            .open_at(
                t,
                b"a.md",
                OpenOptions {
                    truncate: true,
                    ..RW
                },
            )
            .unwrap();
        assert_eq!(fs.stat(a).unwrap().size, 0);
        // A huge offset is refused instead of exhausting the heap.
        assert!(fs.write_at(a, u64::MAX - 1, b"xy").is_err());
        assert!(fs.write_at(a, 1 << 62, b"x").is_err());
    }

    #[test]
    fn create_rename_delete_and_merged_listing() {
        let mut fs = Overlay::new();
        let root = fs.add_root(image()).unwrap();
        assert_eq!(
            names(&mut fs, root),
            [&b"docs"[..], b"greeting", b"hello.txt"]
        );
        let f = fs.open_at(root, b"new.txt", CREATE).unwrap();
        fs.write_at(f, 0, b"fresh").unwrap();
        fs.create_dir_at(root, b"made").unwrap();
        assert_eq!(fs.create_dir_at(root, b"made"), Err(errno::EXIST));
        assert_eq!(
            fs.open_at(
                root,
                b"new.txt",
                OpenOptions {
                    exclusive: true,
                    ..CREATE
                }
            ),
            Err(errno::EXIST)
        );
        fs.unlink_at(root, b"greeting").unwrap();
        assert_eq!(
            names(&mut fs, root),
            [&b"docs"[..], b"hello.txt", b"made", b"new.txt"]
        );
        // Rename a file into a new directory, replacing nothing.
        let made = fs.open_at(root, b"made", DIR).unwrap();
        fs.rename_at(root, b"new.txt", made, b"moved.txt").unwrap();
        assert_eq!(names(&mut fs, made), [&b"moved.txt"[..]]);
        assert_eq!(
            read_all(&mut fs, f),
            b"fresh",
            "open handle follows the rename"
        );
        // Rename an image file over a RAM one.
        fs.rename_at(root, b"hello.txt", made, b"moved.txt")
            .unwrap();
        let m = fs.open_at(made, b"moved.txt", RO).unwrap();
        assert_eq!(read_all(&mut fs, m), b"Hello, image!");
        // The replaced file lives on while open.
        assert_eq!(read_all(&mut fs, f), b"fresh");
        assert_eq!(fs.stat(f).unwrap().nlink, 0);
        fs.close(f);
        // Directory rules.
        assert_eq!(
            fs.rename_at(root, b"made", made, b"inside"),
            Err(errno::INVAL)
        );
        assert_eq!(
            fs.rename_at(root, b"docs", made, b"moved.txt"),
            Err(errno::NOTDIR)
        );
        assert_eq!(
            fs.rename_at(made, b"moved.txt", root, b"docs"),
            Err(errno::ISDIR)
        );
        fs.create_dir_at(root, b"empty").unwrap();
        assert_eq!(
            fs.rename_at(root, b"empty", root, b"docs"),
            Err(errno::NOTEMPTY)
        );
        fs.rename_at(root, b"docs", root, b"empty").unwrap();
        let docs = fs.open_at(root, b"empty", DIR).unwrap();
        assert_eq!(names(&mut fs, docs), [&b"a.md"[..], b"b.md"]);
        assert_eq!(fs.remove_dir_at(root, b"empty"), Err(errno::NOTEMPTY));
        assert_eq!(fs.remove_dir_at(made, b"moved.txt"), Err(errno::NOTDIR));
        assert_eq!(fs.unlink_at(root, b"made"), Err(errno::ISDIR));
        fs.unlink_at(docs, b"a.md").unwrap();
        fs.unlink_at(docs, b"b.md").unwrap();
        fs.remove_dir_at(root, b"empty").unwrap();
        // A removed directory that is still open refuses new entries.
        assert_eq!(fs.open_at(docs, b"x", CREATE), Err(errno::NOENT));
        assert_eq!(fs.create_dir_at(docs, b"x"), Err(errno::NOENT));
        fs.close(docs);
        assert_eq!(names(&mut fs, root), [&b"made"[..]]);
    }

    #[test]
    fn hard_links_and_symlinks() {
        let mut fs = Overlay::new();
        let root = fs.add_root(&[]).unwrap();
        assert!(names(&mut fs, root).is_empty());
        let f = fs.open_at(root, b"file", CREATE).unwrap();
        fs.write_at(f, 0, b"data").unwrap();
        fs.link_at(root, b"file", root, b"link").unwrap();
        assert_eq!(fs.stat(f).unwrap().nlink, 2);
        let st = fs.stat_at(root, b"link").unwrap();
        assert_eq!((st.ino, st.size), (fs.stat(f).unwrap().ino, 4));
        assert_eq!(fs.link_at(root, b"file", root, b"link"), Err(errno::EXIST));
        assert_eq!(fs.link_at(root, b".", root, b"dirlink"), Err(errno::PERM));
        fs.unlink_at(root, b"file").unwrap();
        let l = fs.open_at(root, b"link", RO).unwrap();
        assert_eq!(read_all(&mut fs, l), b"data");
        fs.symlink_at(b"dangling", root, b"sym").unwrap();
        assert_eq!(fs.symlink_at(b"x", root, b"sym"), Err(errno::EXIST));
        fs.link_at(root, b"sym", root, b"sym2").unwrap();
        assert_eq!(
            fs.stat_at(root, b"sym2").unwrap().filetype,
            filetype::SYMBOLIC_LINK
        );
        let mut t = Vec::new();
        assert_eq!(fs.read_link_at(root, b"link", &mut t), Err(errno::INVAL));
        fs.set_times_at(root, b"sym", Some(5), None).unwrap();
        assert_eq!(fs.stat_at(root, b"sym").unwrap().atim, 5);
        // Inodes are stable and distinct.
        let a = fs.stat_at(root, b"sym").unwrap().ino;
        let b = fs.stat_at(root, b"link").unwrap().ino;
        assert_ne!(a, b);
        fs.close(l);
        fs.close(f);
    }

    #[test]
    fn mounts_the_manifest_preopens() {
        use crate::abi::{Slice, Str};
        let img = image();
        let s = |b: &'static [u8]| Str {
            ptr: b.as_ptr(),
            len: b.len(),
        };
        let preopens: &'static [Preopen] = Box::leak(
            vec![
                Preopen {
                    guest_path: s(b"/"),
                    image: Slice {
                        ptr: img.as_ptr(),
                        len: img.len(),
                    },
                    host_path: Str::EMPTY,
                },
                Preopen {
                    guest_path: s(b"/tmp"),
                    image: Slice::EMPTY,
                    host_path: Str::EMPTY,
                },
            ]
            .into_boxed_slice(),
        );
        let mut mount = Overlay::mount(preopens).unwrap();
        assert_eq!(mount.roots.len(), 2);
        assert!(mount.fs.stat_at(mount.roots[0], b"hello.txt").is_ok());
        assert_eq!(
            mount.fs.stat_at(mount.roots[1], b"hello.txt"),
            Err(errno::NOENT)
        );
        // A host folder without an image cannot be served from RAM.
        let host_only: &'static [Preopen] = Box::leak(
            vec![
                Preopen {
                    guest_path: s(b"/"),
                    image: Slice::EMPTY,
                    host_path: Str::EMPTY,
                },
                Preopen {
                    guest_path: s(b"/"),
                    image: Slice::EMPTY,
                    host_path: s(b"/home"),
                },
            ]
            .into_boxed_slice(),
        );
        assert_eq!(
            Overlay::mount(host_only).err(),
            Some(MountError {
                preopen: 1,
                errno: errno::NOTSUP
            })
        );
        let bad: &'static [u8] = Box::leak(vec![0u8; 40].into_boxed_slice());
        let corrupt: &'static [Preopen] = Box::leak(
            vec![Preopen {
                guest_path: s(b"/"),
                image: Slice {
                    ptr: bad.as_ptr(),
                    len: bad.len(),
                },
                host_path: Str::EMPTY,
            }]
            .into_boxed_slice(),
        );
        assert_eq!(
            Overlay::mount(corrupt).err(),
            Some(MountError {
                preopen: 0,
                errno: errno::INVAL
            })
        );
    }

    #[test]
    fn corrupt_image_is_refused() {
        let mut fs = Overlay::new();
        let bad: &'static [u8] = Box::leak(vec![1u8; 64].into_boxed_slice());
        assert_eq!(fs.add_root(bad), Err(errno::INVAL));
    }
}
