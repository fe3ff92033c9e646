//! Packing a host folder into the read-only file-system image that
//! bare-metal boards mount for `--dir` (format: `kiln_runtime::fs::image`).
//!
//! The folder is read as it is on disk: files with their contents,
//! subfolders recursively, symlinks as symlinks (never followed, so a link
//! that points out of the folder stays a link, which the runtime refuses to
//! leave the sandbox through), each with its modification time. Anything
//! else (sockets, FIFOs, devices) cannot be stored and is an error.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result, anyhow, bail};
use kiln_runtime::fs::image::{self, Entry, EntryKind};

/// Packs the folder at `path` into an image.
pub fn pack_folder(path: &Path) -> Result<Vec<u8>> {
    let root = read_entry(path, b"")
        .with_context(|| format!("cannot pack the folder {} for the board", path.display()))?;
    image::pack(&root).map_err(|e| anyhow!("cannot pack the folder {}: {e}", path.display()))
}

/// Reads `path` (not following a symlink there) as an entry named `name`.
fn read_entry(path: &Path, name: &[u8]) -> Result<Entry> {
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let kind = if meta.is_symlink() {
        let target = std::fs::read_link(path)
            .with_context(|| format!("cannot read the symlink {}", path.display()))?;
        EntryKind::Symlink(target.as_os_str().as_bytes().to_vec())
    } else if meta.is_dir() {
        let mut children = Vec::new();
        let listing = std::fs::read_dir(path)
            .with_context(|| format!("cannot list the folder {}", path.display()))?;
        for entry in listing {
            let entry =
                entry.with_context(|| format!("cannot list the folder {}", path.display()))?;
            let child_name = entry.file_name();
            children.push(read_entry(&entry.path(), child_name.as_bytes())?);
        }
        // The image lists children sorted by name (the firmware bisects).
        children.sort_by(|a, b| a.name.cmp(&b.name));
        EntryKind::Dir(children)
    } else if meta.is_file() {
        EntryKind::File(
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        )
    } else {
        bail!(
            "{} is not a file, folder or symlink: it cannot be packed into a file-system image",
            path.display()
        );
    };
    Ok(Entry {
        name: name.to_vec(),
        mtime_ns,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_runtime::fs::filetype;
    use kiln_runtime::fs::image::Image;

    #[test]
    fn packs_files_folders_and_links_as_they_are() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let root = dir.path();
        std::fs::write(root.join("b.txt"), b"bee").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/inner"), b"hello").unwrap();
        std::fs::create_dir(root.join("sub/empty")).unwrap();
        std::os::unix::fs::symlink("sub/inner", root.join("a-link")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("out")).unwrap();

        let bytes = pack_folder(root).unwrap();
        let image = Image::new(&bytes).unwrap();
        let top = image.node(Image::ROOT).unwrap();
        let names: Vec<&[u8]> = image
            .children(&top)
            .map(|i| image.node(i).unwrap().name)
            .collect();
        assert_eq!(names, [&b"a-link"[..], b"b.txt", b"out", b"sub"]);
        let link = image.node(image.lookup(0, b"a-link").unwrap()).unwrap();
        assert_eq!(
            (link.kind, image.data(&link)),
            (filetype::SYMBOLIC_LINK, &b"sub/inner"[..])
        );
        let out = image.node(image.lookup(0, b"out").unwrap()).unwrap();
        assert_eq!(image.data(&out), b"/etc/passwd", "a link is never followed");
        let b = image.node(image.lookup(0, b"b.txt").unwrap()).unwrap();
        assert_eq!(
            (b.kind, image.data(&b)),
            (filetype::REGULAR_FILE, &b"bee"[..])
        );
        assert!(b.mtime > 0, "modification times are kept");
        let sub = image.lookup(0, b"sub").unwrap();
        let inner = image.node(image.lookup(sub, b"inner").unwrap()).unwrap();
        assert_eq!(image.data(&inner), b"hello");
        let empty = image.node(image.lookup(sub, b"empty").unwrap()).unwrap();
        assert_eq!(empty.kind, filetype::DIRECTORY);
    }

    #[test]
    fn refuses_what_an_image_cannot_hold() {
        let err = pack_folder(Path::new("/no/such/folder")).unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot read /no/such/folder"),
            "{err:#}"
        );
        let dir = tempfile::tempdir().expect("temporary folder");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = pack_folder(dir.path()).unwrap_err();
            assert!(
                format!("{err:#}").contains("is not a file, folder or symlink"),
                "{err:#}"
            );
        }
    }
}
