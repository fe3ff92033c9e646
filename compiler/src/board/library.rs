//! Building a board's library (board crate + runtime) for its target with
//! cargo, once: later calls reuse it unless a source file changed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};

use super::{Board, root};

/// The profile board libraries are built with (see the root Cargo.toml).
const PROFILE: &str = "firmware";

/// Where board libraries are built.
fn target_dir() -> PathBuf {
    root().join("target").join("boards")
}

/// Path of the board's static library (built or not).
pub fn path(board: &Board) -> PathBuf {
    target_dir()
        .join(&board.rust_target)
        .join(PROFILE)
        .join(format!("lib{}.a", board.crate_name().replace('-', "_")))
}

/// Newest modification time of the files under `dir` (sources only).
fn newest(dir: &Path) -> SystemTime {
    let mut latest = SystemTime::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return latest;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let t = if p.is_dir() {
            newest(&p)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH)
        };
        latest = latest.max(t);
    }
    latest
}

/// Builds the board library if it is missing or older than its sources;
/// returns its path.
pub fn ensure_built(board: &Board) -> Result<PathBuf> {
    let lib = path(board);
    let built = std::fs::metadata(&lib).and_then(|m| m.modified()).ok();
    let sources = newest(&board.dir).max(newest(&root().join("runtime-nostd")));
    if built.is_some_and(|t| t >= sources) {
        return Ok(lib);
    }
    if !target_installed(&board.rust_target) {
        install_target(&board.rust_target)?;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(board.dir.join("Cargo.toml"))
        .arg("--profile")
        .arg(PROFILE)
        .arg("--target")
        .arg(&board.rust_target)
        .arg("--target-dir")
        .arg(target_dir());
    // The outer cargo (when kiln runs under `cargo test`) must not leak its
    // flags into the board build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", board.rustflags.join("\x1f"));
    let out = cmd.output().with_context(|| {
        "cannot run cargo to build the board library (is Rust installed?)".to_string()
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("target may not be installed")
            || stderr.contains("can't find crate for `core`")
        {
            bail!(
                "the Rust target {} is not installed: run `rustup target add {}` (or ./scripts/setup.sh)",
                board.rust_target,
                board.rust_target
            );
        }
        bail!(
            "building the {} board library failed:\n{}",
            board.name,
            stderr.trim_end()
        );
    }
    if !lib.is_file() {
        bail!("cargo did not produce {}", lib.display());
    }
    // Touch so that the freshness check above holds even if cargo found the
    // library up to date.
    let now = std::fs::File::options()
        .append(true)
        .open(&lib)
        .and_then(|f| f.set_modified(SystemTime::now()));
    now.with_context(|| format!("cannot update {}", lib.display()))?;
    Ok(lib)
}

/// Whether the Rust standard library for `target` is installed.
fn target_installed(target: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return true; // Let cargo report what is wrong.
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
}

/// Installs a Rust target with rustup, saying so.
fn install_target(target: &str) -> Result<()> {
    eprintln!("kiln: installing the Rust target {target} (rustup target add {target})");
    let status = Command::new("rustup")
        .args(["target", "add", target])
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| {
            format!(
                "cannot run rustup: install the target yourself with `rustup target add {target}`"
            )
        })?;
    if !status.success() {
        bail!("`rustup target add {target}` failed: install the target and try again");
    }
    Ok(())
}
