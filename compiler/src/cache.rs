//! The content-addressed cache of compiled objects and linked firmware:
//! the key is a SHA-256 over everything that affects the output (input
//! bytes, target, options, this compiler's build), so a hit is always valid.
//! Location: `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`, else `~/.cache/kiln`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Identifies this build of the compiler: a rebuilt `kiln` never reuses
/// objects made by an older one.
fn compiler_build_id() -> String {
    let exe = std::env::current_exe().ok();
    let stamp = exe
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{stamp}",
        env!("CARGO_PKG_VERSION"),
        kiln_runtime::abi::ABI_VERSION
    )
}

pub fn dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KILN_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("kiln");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("kiln"),
        None => std::env::temp_dir().join("kiln-cache"),
    }
}

/// A cache key under construction.
pub struct Key(Sha256);

impl Key {
    pub fn new(kind: &str) -> Key {
        let mut h = Sha256::new();
        h.update(kind.as_bytes());
        h.update([0]);
        h.update(compiler_build_id().as_bytes());
        Key(h)
    }

    pub fn part(mut self, part: impl AsRef<[u8]>) -> Key {
        let part = part.as_ref();
        self.0.update((part.len() as u64).to_le_bytes());
        self.0.update(part);
        self
    }

    /// Adds a file by identity and modification time (for large inputs
    /// such as board libraries that change only when rebuilt).
    pub fn add_file_stamp(self, path: &Path) -> Key {
        let stamp = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        self.part(path.to_string_lossy().as_bytes())
            .part(stamp.to_le_bytes())
    }

    pub fn hex(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Returns the cached file for `key` with `extension`, producing it with
/// `make` (which gets the path to write) on a miss.
pub fn get_or_make(
    key: Key,
    extension: &str,
    make: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    get_or_make_in(&dir(), key, extension, make)
}

fn get_or_make_in(
    dir: &Path,
    key: Key,
    extension: &str,
    make: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the cache folder {}", dir.display()))?;
    let path = dir.join(format!("{}.{extension}", key.hex()));
    if path.is_file() {
        return Ok(path);
    }
    // Produce into a private temporary name, then rename: concurrent kiln
    // processes, and threads of one (`kiln wast` links scripts in
    // parallel, and two scripts may hold the same module), never see a
    // half-written file.
    static MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let result = make(&tmp).and_then(|()| {
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads of one process making the same entry at once: each writes
    /// its own temporary file, so the entry is always whole.
    #[test]
    fn concurrent_makers_never_publish_a_partial_file() {
        let dir = std::env::temp_dir().join(format!("kiln-cache-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let whole: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
        let barrier = std::sync::Barrier::new(8);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    barrier.wait();
                    let path = get_or_make_in(&dir, Key::new("test").part("same"), "bin", |tmp| {
                        let mut f = std::fs::File::create(tmp)?;
                        for chunk in whole.chunks(4096) {
                            std::io::Write::write_all(&mut f, chunk)?;
                            std::thread::yield_now();
                        }
                        Ok(())
                    })
                    .expect("made");
                    assert_eq!(std::fs::read(path).expect("read"), whole);
                });
            }
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
