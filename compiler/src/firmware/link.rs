//! The link step: module objects + manifest + board library, with the
//! board's linker script, into one ELF by `rust-lld` (shipped with Rust).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

use crate::board::Board;

/// `rust-lld` from the active Rust toolchain.
fn rust_lld() -> Result<PathBuf> {
    static LLD: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = LLD.get_or_init(|| {
        if let Some(p) = std::env::var_os("KILN_LLD") {
            return Some(PathBuf::from(p));
        }
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let out = Command::new(rustc)
            .args(["--print", "sysroot"])
            .output()
            .ok()?;
        let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
        let host = Command::new("rustc").args(["-vV"]).output().ok()?;
        let host = String::from_utf8(host.stdout).ok()?;
        let triple = host
            .lines()
            .find_map(|l| l.strip_prefix("host: "))?
            .to_string();
        let lld = sysroot
            .join("lib/rustlib")
            .join(triple)
            .join("bin/rust-lld");
        lld.is_file().then_some(lld)
    });
    found.clone().context(
        "cannot find rust-lld: install Rust with rustup (it ships rust-lld), or set KILN_LLD",
    )
}

/// Links `inputs` (objects and the board library) into `output`.
pub fn link(board: &Board, inputs: &[PathBuf], output: &Path) -> Result<()> {
    let mut cmd = Command::new(rust_lld()?);
    cmd.args([
        "-flavor",
        "gnu",
        "--gc-sections",
        "-static",
        "--no-pie",
        "-z",
        "noexecstack",
    ]);
    match &board.linker_script {
        Some(script) => {
            cmd.arg("-T").arg(board.dir.join(script));
        }
        None => {
            cmd.args(["-e", "_start"]);
        }
    }
    cmd.arg("-o").arg(output).args(inputs);
    let out = cmd.output().context("cannot run rust-lld")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The first few lld errors say it all (undefined symbols, overflows).
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("error"))
            .take(5)
            .collect();
        bail!(
            "linking the firmware for board {} failed: {}",
            board.name,
            lines.join("; ")
        );
    }
    Ok(())
}
