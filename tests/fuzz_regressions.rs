//! Replays the fuzzers' regression corpus (`fuzz/regressions/`) in the
//! normal test run:
//!
//! - `*.wast`: differences between Kiln and the reference interpreter found
//!   by the `differential` target, as spec scripts whose expectations come
//!   from wasmi; they must pass on every board, both through Cranelift and
//!   through the baseline compiler (`--opt-level none`).
//! - `compile/*.wasm`: inputs that once made the compiler misbehave (the
//!   `compile` target); named `NAME.TARGET.wasm`, they must compile or be
//!   refused with one line, never panic.
//!
//! `fuzz/README.md` explains how a finding becomes one of these files.

use std::path::PathBuf;

use kiln_tests::{QEMU_BOARDS, kiln, output, root, scratch, stderr, stdout};

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let dir = root().join("fuzz/regressions").join(dir);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn differential_findings_pass_on_every_board() {
    let scripts = files("", "wast");
    assert!(!scripts.is_empty(), "the regression corpus is missing");
    for board in std::iter::once("host").chain(QEMU_BOARDS.iter().copied()) {
        let out = output(kiln().args(["wast", "--board", board]).args(&scripts));
        let text = stdout(&out);
        assert!(
            out.status.success() && text.trim_end().ends_with(" 0 failed"),
            "{board}:\n{text}{}",
            stderr(&out)
        );
    }
}

#[test]
fn differential_findings_pass_through_the_baseline_compiler() {
    let scripts = files("", "wast");
    assert!(!scripts.is_empty(), "the regression corpus is missing");
    for board in std::iter::once("host").chain(QEMU_BOARDS.iter().copied()) {
        let out = output(
            kiln()
                .args(["wast", "--board", board, "--opt-level", "none"])
                .args(&scripts),
        );
        let text = stdout(&out);
        assert!(
            out.status.success() && text.trim_end().ends_with(" 0 failed"),
            "{board} --opt-level none:\n{text}{}",
            stderr(&out)
        );
    }
}

#[test]
fn compiler_findings_never_panic() {
    let dir = scratch("fuzz-compile");
    for input in files("compile", "wasm") {
        let name = input.file_stem().unwrap().to_string_lossy().into_owned();
        let target = name.rsplit('.').next().unwrap_or("x86_64-unknown-none");
        let out_file = dir.join(format!("{name}.o"));
        let out = output(kiln().args([
            "compile",
            input.to_str().unwrap(),
            "--target",
            target,
            "-o",
            out_file.to_str().unwrap(),
        ]));
        let err = stderr(&out);
        assert!(
            matches!(out.status.code(), Some(0 | 1)) && !err.contains("panicked"),
            "{name}: {err}"
        );
        if out.status.code() == Some(1) {
            assert_eq!(err.lines().count(), 1, "{name}: {err}");
            assert!(!out_file.exists(), "{name}: partial output");
        }
    }
}
