//! A reader for flattened device trees (the devicetree specification's
//! "DTB" format), for boards whose loader hands one over (QEMU's riscv64
//! `virt` machine passes it in `a1`): finds one property of a node by path.
//! Boards read what the core offers (`riscv,isa-extensions`) before the
//! runtime starts. Every offset and length is checked against the blob, so
//! a malformed tree gives `None`, never a read outside it. The general
//! crate (`fdt`) added 8.6 KB to a 22.7 KB riscv64 hello world, and panics
//! on some malformed trees; this reader and the board's use of it take about
//! 1.3 KB.

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Largest blob accepted (QEMU's are a few KB).
const MAX_SIZE: usize = 1 << 20;

/// A device tree in memory.
pub struct DeviceTree<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
}

impl<'a> DeviceTree<'a> {
    /// The tree at `blob` (at least as long as its header says), if its
    /// header is sound.
    pub fn new(blob: &'a [u8]) -> Option<DeviceTree<'a>> {
        let word = |at: usize| be32(blob, at).map(|w| w as usize);
        if be32(blob, 0)? != MAGIC {
            return None;
        }
        let total = word(4)?;
        let blob = blob.get(..total)?;
        let structs = blob.get(word(8)?..word(8)?.checked_add(word(36)?)?)?;
        let strings = blob.get(word(12)?..word(12)?.checked_add(word(32)?)?)?;
        Some(DeviceTree { structs, strings })
    }

    /// The tree at address `at`.
    ///
    /// # Safety
    /// `at` points to readable memory holding a device tree (or at least its
    /// first 8 bytes, and as many as the size they give, up to 1 MiB).
    pub unsafe fn at(at: usize) -> Option<DeviceTree<'static>> {
        // SAFETY: the caller's promise for the header...
        let header = unsafe { core::slice::from_raw_parts(at as *const u8, 8) };
        if be32(header, 0)? != MAGIC {
            return None;
        }
        let total = be32(header, 4)? as usize;
        if total > MAX_SIZE {
            return None;
        }
        // SAFETY: ...and for the `total` bytes the header gives.
        DeviceTree::new(unsafe { core::slice::from_raw_parts(at as *const u8, total) })
    }

    /// The value of property `name` of the node at `path` (`/cpus/cpu@0`;
    /// node names in full, unit address included).
    pub fn property(&self, path: &str, name: &str) -> Option<&'a [u8]> {
        let want: &[u8] = path.trim_start_matches('/').as_bytes();
        // The root node, then one path component per level.
        let mut depth = 0usize;
        // How many levels from the root match `path` so far.
        let mut matched = 0usize;
        let mut at = 0usize;
        loop {
            let token = be32(self.structs, at)?;
            at += 4;
            match token {
                BEGIN_NODE => {
                    let rest = self.structs.get(at..)?;
                    let len = rest.iter().position(|&b| b == 0)?;
                    let node = &rest[..len];
                    at = align4(at + len + 1);
                    // The root's name is empty; below it, level `d` is the
                    // `d`-th component of the path.
                    if depth > 0 && matched == depth && component(want, depth) == Some(node) {
                        matched += 1;
                    }
                    if depth == 0 {
                        matched = 1;
                    }
                    depth += 1;
                }
                END_NODE => {
                    depth = depth.checked_sub(1)?;
                    matched = matched.min(depth);
                }
                PROP => {
                    let len = be32(self.structs, at)? as usize;
                    let name_at = be32(self.structs, at + 4)? as usize;
                    let value = self.structs.get(at + 8..(at + 8).checked_add(len)?)?;
                    at = align4(at + 8 + len);
                    let here = depth > 0 && matched == depth && component(want, depth).is_none();
                    if here && string_at(self.strings, name_at)? == name.as_bytes() {
                        return Some(value);
                    }
                }
                NOP => {}
                END => return None,
                _ => return None,
            }
        }
    }
}

/// Whether the riscv64 ISA of `cpu_node` (`/cpus/cpu@0`) lists extension
/// `name` (lower case, `zvknha`): in `riscv,isa-extensions` (a string
/// list), else in the `_`-separated multi-letter part of `riscv,isa`.
pub fn riscv_has_extension(tree: &DeviceTree<'_>, cpu_node: &str, name: &str) -> bool {
    if let Some(list) = tree.property(cpu_node, "riscv,isa-extensions") {
        return list.split(|&b| b == 0).any(|e| e == name.as_bytes());
    }
    tree.property(cpu_node, "riscv,isa").is_some_and(|isa| {
        isa.split(|&b| b == b'_' || b == 0)
            .skip(1)
            .any(|e| e == name.as_bytes())
    })
}

/// Component `level` (1-based) of `path` without its leading `/`.
fn component(path: &[u8], level: usize) -> Option<&[u8]> {
    if path.is_empty() {
        return None;
    }
    path.split(|&b| b == b'/').nth(level.checked_sub(1)?)
}

fn string_at(strings: &[u8], at: usize) -> Option<&[u8]> {
    let rest = strings.get(at..)?;
    Some(&rest[..rest.iter().position(|&b| b == 0)?])
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// A blob with the given nodes: `(depth change, name)` for nodes
    /// (`Open`/`Close`) and properties.
    enum Item<'a> {
        Open(&'a str),
        Close,
        Prop(&'a str, &'a [u8]),
    }

    fn blob(items: &[Item<'_>]) -> Vec<u8> {
        let mut structs = Vec::new();
        let mut strings = Vec::new();
        let pad = |v: &mut Vec<u8>| {
            while !v.len().is_multiple_of(4) {
                v.push(0)
            }
        };
        for item in items {
            match item {
                Item::Open(name) => {
                    structs.extend(BEGIN_NODE.to_be_bytes());
                    structs.extend(name.as_bytes());
                    structs.push(0);
                    pad(&mut structs);
                }
                Item::Close => structs.extend(END_NODE.to_be_bytes()),
                Item::Prop(name, value) => {
                    structs.extend(PROP.to_be_bytes());
                    structs.extend((value.len() as u32).to_be_bytes());
                    structs.extend((strings.len() as u32).to_be_bytes());
                    strings.extend(name.as_bytes());
                    strings.push(0);
                    structs.extend(*value);
                    pad(&mut structs);
                }
            }
        }
        structs.extend(END.to_be_bytes());
        let header = 40u32;
        let total = header as usize + structs.len() + strings.len();
        let mut out = Vec::new();
        for w in [
            MAGIC,
            total as u32,
            header,
            header + structs.len() as u32,
            0,
            17,
            16,
            0,
            strings.len() as u32,
            structs.len() as u32,
        ] {
            out.extend(w.to_be_bytes());
        }
        out.extend(structs);
        out.extend(strings);
        out
    }

    fn sample() -> Vec<u8> {
        use Item::*;
        blob(&[
            Open(""),
            Prop("model", b"test\0"),
            Open("cpus"),
            Open("cpu@1"),
            Prop("riscv,isa", b"rv64imafdc_zba_zvknha_zvkb\0"),
            Close,
            Open("cpu@0"),
            Open("interrupt-controller"),
            Prop("riscv,isa", b"rv64i_wrong\0"),
            Close,
            Prop("riscv,isa", b"rv64imafdcv_zba_zbb_zvkb_zvknha\0"),
            Close,
            Close,
            Open("soc"),
            Prop("riscv,isa", b"rv64i_soc\0"),
            Close,
            Close,
        ])
    }

    #[test]
    fn finds_a_property_by_path_and_no_other() {
        let bytes = sample();
        let tree = DeviceTree::new(&bytes).unwrap();
        assert_eq!(
            tree.property("/cpus/cpu@0", "riscv,isa"),
            Some(&b"rv64imafdcv_zba_zbb_zvkb_zvknha\0"[..])
        );
        assert_eq!(
            tree.property("/cpus/cpu@1", "riscv,isa"),
            Some(&b"rv64imafdc_zba_zvknha_zvkb\0"[..])
        );
        assert_eq!(tree.property("/", "model"), Some(&b"test\0"[..]));
        assert_eq!(tree.property("/cpus", "riscv,isa"), None);
        assert_eq!(tree.property("/cpus/cpu@2", "riscv,isa"), None);
        assert_eq!(
            tree.property("/soc", "riscv,isa"),
            Some(&b"rv64i_soc\0"[..])
        );
    }

    #[test]
    fn reads_extensions_from_either_property() {
        let bytes = sample();
        let tree = DeviceTree::new(&bytes).unwrap();
        assert!(riscv_has_extension(&tree, "/cpus/cpu@0", "zvknha"));
        assert!(riscv_has_extension(&tree, "/cpus/cpu@0", "zvkb"));
        assert!(!riscv_has_extension(&tree, "/cpus/cpu@0", "zvknhb"));
        // Single letters are not multi-letter extensions.
        assert!(!riscv_has_extension(&tree, "/cpus/cpu@0", "v"));
        use Item::*;
        let bytes = blob(&[
            Open(""),
            Open("cpus"),
            Open("cpu@0"),
            Prop("riscv,isa", b"rv64imafdcv_zvknha\0"),
            Prop("riscv,isa-extensions", b"i\0m\0v\0zvkb\0"),
            Close,
            Close,
            Close,
        ]);
        let tree = DeviceTree::new(&bytes).unwrap();
        assert!(riscv_has_extension(&tree, "/cpus/cpu@0", "zvkb"));
        assert!(riscv_has_extension(&tree, "/cpus/cpu@0", "v"));
        // The list wins over the string.
        assert!(!riscv_has_extension(&tree, "/cpus/cpu@0", "zvknha"));
    }

    /// QEMU 10's riscv64 `virt -cpu max` tree (`-M virt,dumpdtb=...`).
    #[test]
    fn reads_qemus_tree() {
        let bytes = include_bytes!("device_tree/qemu-virt-riscv64-max.dtb");
        let tree = DeviceTree::new(bytes).unwrap();
        for e in ["zvknha", "zvknhb", "zvkb", "zba", "zbb", "zicond"] {
            assert!(riscv_has_extension(&tree, "/cpus/cpu@0", e), "{e}");
        }
        assert!(!riscv_has_extension(&tree, "/cpus/cpu@0", "zvknhc"));
    }

    #[test]
    fn malformed_trees_give_none() {
        let good = sample();
        assert!(DeviceTree::new(&good[..good.len() - 1]).is_none());
        let mut bad_magic = good.clone();
        bad_magic[0] = 0;
        assert!(DeviceTree::new(&bad_magic).is_none());
        // Every truncation of the structure block and every corrupted byte:
        // no panic, no read outside.
        for cut in 40..good.len() {
            let mut b = good.clone();
            b[cut] ^= 0xff;
            if let Some(t) = DeviceTree::new(&b) {
                let _ = t.property("/cpus/cpu@0", "riscv,isa");
            }
            let mut b = good.clone();
            b.truncate(cut);
            b[4..8].copy_from_slice(&(cut as u32).to_be_bytes());
            if let Some(t) = DeviceTree::new(&b) {
                let _ = t.property("/cpus/cpu@0", "riscv,isa");
            }
        }
        // A node closed more often than opened; a property outside any node.
        use Item::*;
        let b = blob(&[Close, Close, Open("cpus"), Close]);
        assert_eq!(DeviceTree::new(&b).unwrap().property("/cpus", "x"), None);
        let b = blob(&[Prop("model", b"x\0"), Open(""), Close]);
        assert_eq!(DeviceTree::new(&b).unwrap().property("/", "model"), None);
    }
}
