//! The read-only file-system image that `--dir HOST::GUEST` packs into a
//! firmware: the writer ([`pack`], run by the compiler on the host from an
//! in-memory tree) and the zero-copy reader ([`Image`], run by the firmware
//! on the image linked into it).
//!
//! # Format (version 1, little-endian, every offset from the image start)
//!
//! ```text
//! header   32 bytes   magic "KILNFS\0\0" | version u32 | node count u32
//!                     | image length u64 | reserved u64 (0)
//! nodes    40 bytes each, node 0 is the root directory:
//!            kind u8 (WASI filetype: 3 dir, 4 file, 7 symlink) | 3 zero bytes
//!            | name length u32 | name offset u64
//!            | a u64 | b u64 | mtime u64 (ns since 1970)
//!          directory: a = index of its first child, b = number of children;
//!            the children are consecutive nodes sorted by name (bytewise,
//!            no duplicates), after the directory itself (breadth-first order)
//!          file: a = data offset (8-aligned), b = size
//!          symlink: a = target offset, b = target length
//! strings  names, symlink targets and file data, anywhere after the nodes
//! ```
//!
//! The firmware links the image 8-byte aligned. [`Image::new`] checks every
//! node once, so later accesses cannot go out of bounds, and file contents
//! are handed out as slices of the image: reading or seeking a large file
//! never copies it.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use super::filetype;
use crate::wasi::errno::{self, Errno};

/// First bytes of an image.
pub const MAGIC: [u8; 8] = *b"KILNFS\0\0";
/// Version of the format this module reads and writes.
pub const VERSION: u32 = 1;

const HEADER_SIZE: usize = 32;
const NODE_SIZE: usize = 40;

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(v)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(v)
}

/// A checked image.
#[derive(Clone, Copy)]
pub struct Image<'a> {
    bytes: &'a [u8],
    count: u32,
}

/// One node of an image.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    /// [`filetype::DIRECTORY`], [`filetype::REGULAR_FILE`] or [`filetype::SYMBOLIC_LINK`].
    pub kind: u8,
    pub name: &'a [u8],
    pub mtime: u64,
    a: u64,
    b: u64,
}

impl<'a> Image<'a> {
    /// Checks `bytes` and returns the image; `INVAL` if it is not a valid
    /// image of this version.
    pub fn new(bytes: &'a [u8]) -> Result<Image<'a>, Errno> {
        if bytes.len() < HEADER_SIZE || bytes[..8] != MAGIC || u32_at(bytes, 8) != VERSION {
            return Err(errno::INVAL);
        }
        let count = u32_at(bytes, 12);
        let table_end = (count as usize)
            .checked_mul(NODE_SIZE)
            .and_then(|n| n.checked_add(HEADER_SIZE))
            .ok_or(errno::INVAL)?;
        if count == 0 || table_end > bytes.len() || u64_at(bytes, 16) != bytes.len() as u64 {
            return Err(errno::INVAL);
        }
        let image = Image { bytes, count };
        let range_ok = |off: u64, len: u64| {
            off.checked_add(len)
                .is_some_and(|end| end <= bytes.len() as u64)
        };
        for index in 0..count {
            let at = HEADER_SIZE + index as usize * NODE_SIZE;
            let kind = bytes[at];
            let (name_len, name_off) = (u32_at(bytes, at + 4) as u64, u64_at(bytes, at + 8));
            let (a, b) = (u64_at(bytes, at + 16), u64_at(bytes, at + 24));
            let ok = range_ok(name_off, name_len)
                && match kind {
                    // Children come after their parent: the tree has no cycles.
                    filetype::DIRECTORY => {
                        b == 0
                            || (a > index as u64
                                && a.checked_add(b).is_some_and(|end| end <= count as u64))
                    }
                    filetype::REGULAR_FILE | filetype::SYMBOLIC_LINK => range_ok(a, b),
                    _ => false,
                };
            if !ok || (index == 0 && kind != filetype::DIRECTORY) {
                return Err(errno::INVAL);
            }
        }
        // Children sorted by name, without duplicates: lookups can bisect.
        for index in 0..count {
            let node = image.node(index).ok_or(errno::INVAL)?;
            let children = image.children(&node);
            for child in children.start.saturating_add(1)..children.end {
                let (a, b) = (image.node(child - 1), image.node(child));
                if !matches!((a, b), (Some(a), Some(b)) if a.name < b.name) {
                    return Err(errno::INVAL);
                }
            }
        }
        Ok(image)
    }

    /// The root directory's index.
    pub const ROOT: u32 = 0;

    /// Number of nodes.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Never true: an image has at least its root.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Node `index` (checked by [`Image::new`]), or `None` past the end.
    pub fn node(&self, index: u32) -> Option<Node<'a>> {
        if index >= self.count {
            return None;
        }
        let at = HEADER_SIZE + index as usize * NODE_SIZE;
        let b = self.bytes;
        let name_off = u64_at(b, at + 8) as usize;
        Some(Node {
            kind: b[at],
            name: &b[name_off..name_off + u32_at(b, at + 4) as usize],
            a: u64_at(b, at + 16),
            b: u64_at(b, at + 24),
            mtime: u64_at(b, at + 32),
        })
    }

    /// The indexes of a directory's children (empty for other nodes).
    pub fn children(&self, node: &Node) -> Range<u32> {
        if node.kind != filetype::DIRECTORY {
            return 0..0;
        }
        node.a as u32..(node.a + node.b) as u32
    }

    /// A file's contents or a symlink's target, as a slice of the image.
    pub fn data(&self, node: &Node) -> &'a [u8] {
        if node.kind == filetype::DIRECTORY {
            return &[];
        }
        &self.bytes[node.a as usize..(node.a + node.b) as usize]
    }

    /// The child `name` of directory `dir`, by binary search.
    pub fn lookup(&self, dir: u32, name: &[u8]) -> Option<u32> {
        let node = self.node(dir)?;
        let children = self.children(&node);
        let (mut lo, mut hi) = (children.start, children.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.node(mid)?.name.cmp(name) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/// A tree to pack: what the compiler builds from a host folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// One path component (ignored for the root).
    pub name: Vec<u8>,
    /// Modification time, nanoseconds since 1970-01-01 UTC.
    pub mtime_ns: u64,
    pub kind: EntryKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Dir(Vec<Entry>),
    File(Vec<u8>),
    Symlink(Vec<u8>),
}

impl Entry {
    pub fn dir(name: &[u8], entries: Vec<Entry>) -> Entry {
        Entry {
            name: name.to_vec(),
            mtime_ns: 0,
            kind: EntryKind::Dir(entries),
        }
    }
    pub fn file(name: &[u8], data: &[u8]) -> Entry {
        Entry {
            name: name.to_vec(),
            mtime_ns: 0,
            kind: EntryKind::File(data.to_vec()),
        }
    }
    pub fn symlink(name: &[u8], target: &[u8]) -> Entry {
        Entry {
            name: name.to_vec(),
            mtime_ns: 0,
            kind: EntryKind::Symlink(target.to_vec()),
        }
    }
}

/// Why a tree cannot be packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackError {
    /// The root is not a directory.
    RootNotDir,
    /// A name is empty, `.` or `..`, or contains `/` or NUL.
    BadName(Vec<u8>),
    /// Two entries of one directory have the same name.
    DuplicateName(Vec<u8>),
    /// The image would not fit the format's 32-bit counts.
    TooLarge,
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::instance::Bytes as Name;
        match self {
            PackError::RootNotDir => {
                f.write_str("the root of a file-system image must be a directory")
            }
            PackError::BadName(n) => write!(
                f,
                "file name `{}` cannot be stored in a file-system image",
                Name(n)
            ),
            PackError::DuplicateName(n) => {
                write!(f, "file name `{}` appears twice in one directory", Name(n))
            }
            PackError::TooLarge => f.write_str("the folder is too large for a file-system image"),
        }
    }
}

/// Packs `root` (a directory) into an image.
pub fn pack(root: &Entry) -> Result<Vec<u8>, PackError> {
    if !matches!(root.kind, EntryKind::Dir(_)) {
        return Err(PackError::RootNotDir);
    }
    // Breadth-first order: every directory's children are consecutive.
    let mut order: Vec<&Entry> = vec![root];
    let mut children_of: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let (first, count) = match &order[i].kind {
            EntryKind::Dir(entries) => {
                let mut sorted: Vec<&Entry> = entries.iter().collect();
                sorted.sort_by(|a, b| a.name.cmp(&b.name));
                for (k, e) in sorted.iter().enumerate() {
                    let n = &e.name[..];
                    if n.is_empty()
                        || n == b"."
                        || n == b".."
                        || n.contains(&b'/')
                        || n.contains(&0)
                    {
                        return Err(PackError::BadName(e.name.clone()));
                    }
                    if k > 0 && sorted[k - 1].name == e.name {
                        return Err(PackError::DuplicateName(e.name.clone()));
                    }
                }
                let first = order.len();
                order.extend(sorted);
                (first, entries.len())
            }
            _ => (0, 0),
        };
        children_of.push((first, count));
        i += 1;
    }
    let count = u32::try_from(order.len()).map_err(|_| PackError::TooLarge)?;
    let mut out = vec![0u8; HEADER_SIZE + order.len() * NODE_SIZE];
    out[..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&VERSION.to_le_bytes());
    out[12..16].copy_from_slice(&count.to_le_bytes());
    for (index, e) in order.iter().enumerate() {
        let name_off = out.len() as u64;
        out.extend_from_slice(&e.name);
        let name_len = if index == 0 { 0 } else { e.name.len() };
        let (kind, a, b) = match &e.kind {
            EntryKind::Dir(_) => (
                filetype::DIRECTORY,
                children_of[index].0 as u64,
                children_of[index].1 as u64,
            ),
            EntryKind::File(data) | EntryKind::Symlink(data) => {
                let kind = if matches!(e.kind, EntryKind::File(_)) {
                    filetype::REGULAR_FILE
                } else {
                    filetype::SYMBOLIC_LINK
                };
                out.resize(out.len().next_multiple_of(8), 0);
                let at = out.len() as u64;
                out.extend_from_slice(data);
                (kind, at, data.len() as u64)
            }
        };
        let at = HEADER_SIZE + index * NODE_SIZE;
        let node = &mut out[at..at + NODE_SIZE];
        node[0] = kind;
        node[4..8].copy_from_slice(
            &u32::try_from(name_len)
                .map_err(|_| PackError::TooLarge)?
                .to_le_bytes(),
        );
        node[8..16].copy_from_slice(&name_off.to_le_bytes());
        node[16..24].copy_from_slice(&a.to_le_bytes());
        node[24..32].copy_from_slice(&b.to_le_bytes());
        node[32..40].copy_from_slice(&e.mtime_ns.to_le_bytes());
    }
    out.resize(out.len().next_multiple_of(8), 0);
    let len = out.len() as u64;
    out[16..24].copy_from_slice(&len.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        let mut big = vec![0u8; 100_000];
        for (i, b) in big.iter_mut().enumerate() {
            *b = i as u8;
        }
        Entry::dir(
            b"",
            vec![
                Entry::file(b"z.txt", b"last"),
                Entry::dir(
                    b"sub",
                    vec![
                        Entry::file(b"inner", b"hello"),
                        Entry::dir(b"empty", vec![]),
                    ],
                ),
                Entry::file(b"big.bin", &big),
                Entry::symlink(b"link", b"sub/inner"),
                Entry {
                    name: b"a".to_vec(),
                    mtime_ns: 1234,
                    kind: EntryKind::File(vec![]),
                },
            ],
        )
    }

    #[test]
    fn pack_and_read_round_trip() {
        let bytes = pack(&sample()).unwrap();
        assert_eq!(bytes.len() % 8, 0);
        let image = Image::new(&bytes).unwrap();
        let root = image.node(Image::ROOT).unwrap();
        assert_eq!(root.kind, filetype::DIRECTORY);
        let names: Vec<&[u8]> = image
            .children(&root)
            .map(|i| image.node(i).unwrap().name)
            .collect();
        assert_eq!(names, [&b"a"[..], b"big.bin", b"link", b"sub", b"z.txt"]);
        let a = image.node(image.lookup(0, b"a").unwrap()).unwrap();
        assert_eq!(
            (a.kind, a.mtime, image.data(&a)),
            (filetype::REGULAR_FILE, 1234, &b""[..])
        );
        let big = image.node(image.lookup(0, b"big.bin").unwrap()).unwrap();
        let data = image.data(&big);
        assert_eq!(data.len(), 100_000);
        assert_eq!(data[70_001], 70_001u32 as u8);
        // Zero-copy: the contents are a slice of the image, 8-aligned.
        let offset = data.as_ptr() as usize - bytes.as_ptr() as usize;
        assert!(offset < bytes.len() && offset.is_multiple_of(8));
        let link = image.node(image.lookup(0, b"link").unwrap()).unwrap();
        assert_eq!(
            (link.kind, image.data(&link)),
            (filetype::SYMBOLIC_LINK, &b"sub/inner"[..])
        );
        let sub = image.lookup(0, b"sub").unwrap();
        let inner = image.node(image.lookup(sub, b"inner").unwrap()).unwrap();
        assert_eq!(image.data(&inner), b"hello");
        let empty = image.node(image.lookup(sub, b"empty").unwrap()).unwrap();
        assert_eq!(image.children(&empty).len(), 0);
        assert_eq!(image.lookup(0, b"missing"), None);
        assert_eq!(image.lookup(sub, b"a"), None);
    }

    #[test]
    fn pack_rejects_bad_trees() {
        assert_eq!(pack(&Entry::file(b"x", b"")), Err(PackError::RootNotDir));
        for bad in [&b""[..], b".", b"..", b"a/b", b"a\0"] {
            let tree = Entry::dir(b"", vec![Entry::file(bad, b"")]);
            assert_eq!(pack(&tree), Err(PackError::BadName(bad.to_vec())));
        }
        let dup = Entry::dir(b"", vec![Entry::file(b"x", b""), Entry::dir(b"x", vec![])]);
        assert_eq!(pack(&dup), Err(PackError::DuplicateName(b"x".to_vec())));
        let empty = pack(&Entry::dir(b"", vec![])).unwrap();
        assert_eq!(Image::new(&empty).unwrap().len(), 1);
    }

    #[test]
    fn corrupt_images_are_refused() {
        let good = pack(&sample()).unwrap();
        assert!(Image::new(&good[..good.len() - 8]).is_err(), "truncated");
        let mut bad_magic = good.clone();
        bad_magic[0] = b'X';
        assert!(Image::new(&bad_magic).is_err());
        let mut bad_version = good.clone();
        bad_version[8] = 2;
        assert!(Image::new(&bad_version).is_err());
        // Children out of order.
        let mut unsorted = good.clone();
        let (first, second) = (HEADER_SIZE + NODE_SIZE, HEADER_SIZE + 2 * NODE_SIZE);
        let n1: Vec<u8> = unsorted[first..first + NODE_SIZE].to_vec();
        let n2: Vec<u8> = unsorted[second..second + NODE_SIZE].to_vec();
        unsorted[first..first + NODE_SIZE].copy_from_slice(&n2);
        unsorted[second..second + NODE_SIZE].copy_from_slice(&n1);
        assert!(Image::new(&unsorted).is_err());
        // A child range pointing back at the root (a cycle).
        let mut cycle = good.clone();
        cycle[HEADER_SIZE + 16..HEADER_SIZE + 24].copy_from_slice(&0u64.to_le_bytes());
        assert!(Image::new(&cycle).is_err());
        // File data past the end.
        let mut past = good.clone();
        let file = HEADER_SIZE + NODE_SIZE; // node 1 is the first child: "a"
        past[file + 24..file + 32].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Image::new(&past).is_err());
        // Every single-byte corruption is either refused or still safe to walk.
        for at in 0..HEADER_SIZE + 12 * NODE_SIZE {
            let mut c = good.clone();
            c[at] ^= 0x5a;
            if let Ok(image) = Image::new(&c) {
                for i in 0..image.len() {
                    let n = image.node(i).unwrap();
                    let _ = (image.data(&n), image.children(&n), image.lookup(i, b"sub"));
                }
            }
        }
    }
}
