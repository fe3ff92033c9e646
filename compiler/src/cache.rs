//! The content-addressed cache of compiled objects and linked firmware:
//! the key is a SHA-256 over everything that affects the output (input
//! bytes, target, options, this compiler's build), so a hit is always valid.
//! Location: `$KILN_CACHE_DIR`, else `$XDG_CACHE_HOME/kiln`, else `~/.cache/kiln`.
//!
//! The cache is kept under a size limit (`$KILN_CACHE_MAX_MB`, default
//! 2048): a hit refreshes its entry's modification time, and at most every
//! ten minutes a process that added an entry removes the least recently
//! used ones above the limit. Entries used in the last five minutes stay,
//! so that no running `kiln` loses a file it has just been handed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

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

    /// Adds an input file: an entry of this cache by its name (its key;
    /// its modification time records use, not change), any other file by
    /// identity and modification time.
    pub fn add_input(self, path: &Path) -> Key {
        let cached = path.parent().is_some_and(|p| p == dir());
        if cached {
            self.part(path.to_string_lossy().as_bytes())
        } else {
            self.add_file_stamp(path)
        }
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
        // Recently used: the last to be trimmed. Best effort.
        let _ = std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now()));
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
    if result.is_ok() {
        trim_if_due(dir);
    }
    result.map(|()| path)
}

/// Most bytes the cache keeps (`$KILN_CACHE_MAX_MB`, default 2 GiB).
fn size_limit() -> u64 {
    let mb = std::env::var("KILN_CACHE_MAX_MB")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(2048);
    mb.saturating_mul(1 << 20)
}

/// How often a process scans the cache folder.
const TRIM_INTERVAL: Duration = Duration::from_secs(600);
/// Entries used this recently are never removed.
const KEEP_RECENT: Duration = Duration::from_secs(300);
/// Temporary files this old belong to a process that died.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

/// Trims the cache unless another process did in the last TRIM_INTERVAL
/// (the stamp file's time). Failures only leave the cache larger.
fn trim_if_due(dir: &Path) {
    let stamp = dir.join(".last-trim");
    let now = SystemTime::now();
    let recent = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|age| age < TRIM_INTERVAL);
    if recent {
        return;
    }
    // Stamp first, so that processes finishing together scan once.
    if std::fs::write(&stamp, b"").is_err() {
        return;
    }
    trim(dir, size_limit(), now);
}

/// Removes the least recently used entries until the cache holds at most
/// `limit` bytes (sparing those used within KEEP_RECENT of `now`), and
/// temporary files left by processes that died.
fn trim(dir: &Path, limit: u64, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let age = |t: SystemTime| now.duration_since(t).unwrap_or(Duration::ZERO);
    let mut files = Vec::new();
    let mut total = 0u64;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let Ok(modified) = meta.modified() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            if name.ends_with(".tmp") && age(modified) > STALE_TEMPORARY {
                let _ = std::fs::remove_file(entry.path());
            }
            continue;
        }
        total += meta.len();
        files.push((modified, meta.len(), entry.path()));
    }
    if total <= limit {
        return;
    }
    files.sort_unstable_by_key(|(modified, _, _)| *modified);
    for (modified, len, path) in files {
        if total <= limit || age(modified) < KEEP_RECENT {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
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

    /// Least recently used first, down to the limit; entries used in the
    /// last minutes and the folder's own dot files stay.
    #[test]
    fn trim_removes_the_least_recently_used_entries() {
        let dir = std::env::temp_dir().join(format!("kiln-cache-trim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let now = SystemTime::now();
        let minutes = |m: u64| now - Duration::from_secs(60 * m);
        let make = |name: &str, len: usize, modified: SystemTime| {
            let path = dir.join(name);
            std::fs::write(&path, vec![0u8; len]).expect("write");
            let f = std::fs::File::options()
                .write(true)
                .open(&path)
                .expect("open");
            f.set_modified(modified).expect("mtime");
        };
        make("oldest.o", 1000, minutes(600));
        make("older.elf", 1000, minutes(60));
        make("old.o", 1000, minutes(30));
        make("recent.o", 1000, minutes(1));
        make("just-used.elf", 1000, minutes(0));
        make(".last-trim", 0, minutes(600));
        make(".x.o.1.0.tmp", 1000, minutes(600));
        make(".y.o.1.0.tmp", 1000, minutes(1));

        trim(&dir, 3000, now);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .expect("read")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".last-trim",
                ".y.o.1.0.tmp",
                "just-used.elf",
                "old.o",
                "recent.o"
            ]
        );

        // Even a limit of nothing spares what was used in the last minutes.
        trim(&dir, 0, now);
        assert!(!dir.join("old.o").exists());
        assert!(dir.join("recent.o").exists() && dir.join("just-used.elf").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
