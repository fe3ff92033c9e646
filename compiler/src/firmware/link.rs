//! The link step: module objects + manifest + board library, with the
//! board's linker script, into one ELF by `rust-lld` (shipped with Rust).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

use crate::board::Board;

/// `rust-lld` from the active Rust toolchain.
fn rust_lld() -> Result<PathBuf> {
    static LLD: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = LLD.get_or_init(|| {
        if let Some(p) = std::env::var_os("KILN_LLD") {
            return Ok(PathBuf::from(p));
        }
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let ask = |args: &[&str]| -> Result<String, String> {
            let out = Command::new(&rustc)
                .args(args)
                .output()
                .map_err(|e| format!("cannot run rustc: {e}"))?;
            if !out.status.success() {
                let why = String::from_utf8_lossy(&out.stderr);
                let why = why.lines().next().unwrap_or("no message");
                return Err(format!("`rustc {}` failed: {why}", args.join(" ")));
            }
            String::from_utf8(out.stdout).map_err(|_| "rustc printed non-UTF-8".to_string())
        };
        let sysroot = PathBuf::from(ask(&["--print", "sysroot"])?.trim());
        let host = ask(&["-vV"])?;
        let triple = host
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .ok_or("`rustc -vV` names no host")?;
        let lld = sysroot
            .join("lib/rustlib")
            .join(triple)
            .join("bin/rust-lld");
        if lld.is_file() {
            Ok(lld)
        } else {
            Err(format!("no {}", lld.display()))
        }
    });
    found.clone().map_err(|why| {
        anyhow::anyhow!(
            "cannot find rust-lld ({why}): install Rust with rustup (it ships rust-lld), or set KILN_LLD"
        )
    })
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
