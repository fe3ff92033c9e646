//! The `kiln` command line: compiling for every target, running on the host
//! board (with its ISA flags replaced too), exit statuses, traps, the
//! cache, and every kind of bad input getting one clear line and a
//! non-zero exit (never a panic, never a partial output file).

use kiln_tests::{kiln, output, root, scratch, stderr, stdout, write};
use std::path::Path;

/// Runs kiln and returns (status, stdout, stderr).
fn kiln_run(args: &[&str]) -> (i32, String, String) {
    let out = output(kiln().args(args));
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

/// Asserts a failed command printed one line starting with `kiln: error:`
/// and containing `needle`, and no panic.
fn assert_error(args: &[&str], needle: &str) {
    let (status, _, err) = kiln_run(args);
    assert_ne!(status, 0, "{args:?} should fail");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got:\n{err}");
    assert!(lines[0].starts_with("kiln: error: "), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected `{needle}` in:\n{err}"
    );
}

const ADD: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#;

#[test]
fn compiles_for_every_target() {
    let dir = scratch("targets");
    let input = write(&dir, "add.wat", ADD);
    for (target, machine) in [
        ("x86_64-unknown-linux-gnu", 62u16),
        ("x86_64-unknown-none", 62),
        ("aarch64-unknown-none", 183),
        ("aarch64-unknown-linux-gnu", 183),
        ("riscv64gc-unknown-none-elf", 243),
        ("riscv64gc-unknown-linux-gnu", 243),
    ] {
        let out = dir.join(format!("{target}.o"));
        let (status, _, err) = kiln_run(&[
            "compile",
            input.to_str().unwrap(),
            "--target",
            target,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(status, 0, "{target}: {err}");
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[..4], b"\x7fELF", "{target}");
        assert_eq!(
            u16::from_le_bytes([bytes[18], bytes[19]]),
            machine,
            "{target}: e_machine"
        );
        assert_eq!(
            u16::from_le_bytes([bytes[16], bytes[17]]),
            1,
            "{target}: relocatable"
        );
        // The descriptor is the object's only global symbol.
        assert!(
            bytes.windows(12).any(|w| w == b"kiln_module\0"),
            "{target}: descriptor symbol"
        );
    }
}

#[test]
fn runs_the_examples() {
    let hello = root().join("examples/hello.wat");
    let (status, out, err) = kiln_run(&["run", hello.to_str().unwrap()]);
    assert_eq!((status, out.as_str()), (0, "Hello from Kiln!\n"), "{err}");

    let c = root().join("examples/c/hello.wasm");
    let (status, out, err) = kiln_run(&[
        "run",
        c.to_str().unwrap(),
        "--env",
        "WHO=tests",
        "--",
        "one",
        "two",
    ]);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("argv[0] = hello.wasm\nargv[1] = one\nargv[2] = two\n"),
        "{out}"
    );
    assert!(out.contains("WHO = tests\n"), "{out}");
}

/// The host board's ISA flags can be replaced: everything this CPU has
/// (`native`, AVX-512 included where present) and nothing beyond x86-64-v2
/// (`baseline`) both compile and run here.
#[test]
fn isa_flags_native_and_baseline_run_here() {
    let c = root().join("examples/c/hello.wasm");
    for flags in ["native", "baseline"] {
        let (status, out, err) = kiln_run(&["run", "--isa-flag", flags, c.to_str().unwrap()]);
        assert_eq!(status, 0, "{flags}: {err}");
        assert!(out.contains("argv[0] = hello.wasm\n"), "{flags}: {out}");
    }
}

#[test]
fn exit_status_is_the_programs() {
    let dir = scratch("exit");
    let m = write(
        &dir,
        "exit.wat",
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (func (export "_start") (call $exit (i32.const 42))))"#,
    );
    let (status, _, _) = kiln_run(&["run", m.to_str().unwrap()]);
    assert_eq!(status, 42);
}

/// Every trap kind ends the run with `kiln: trap: <kind> in <func>` and 125.
#[test]
fn traps_are_reported_with_kind_and_function() {
    let dir = scratch("traps");
    let cases = [
        (
            "(func $f (drop (i32.div_s (i32.const 1) (i32.const 0))))",
            "integer divide by zero in f",
        ),
        (
            "(func $f (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))",
            "integer overflow in f",
        ),
        (
            "(func $f (drop (i32.trunc_f32_s (f32.const nan))))",
            "invalid conversion to integer in f",
        ),
        ("(func $f unreachable)", "unreachable in f"),
        (
            "(memory 1) (func $f (drop (i32.load (i32.const 65535))))",
            "out of bounds memory access in f",
        ),
        (
            "(table 1 funcref) (func $f (drop (table.get 0 (i32.const 5))))",
            "out of bounds table access in f",
        ),
        (
            "(table 1 funcref) (func $f (call_indirect (i32.const 0)))",
            "uninitialized element in f",
        ),
        (
            "(table 1 funcref) (func $f (call_indirect (i32.const 7)))",
            "undefined element in f",
        ),
        (
            "(table 1 funcref) (elem (i32.const 0) $g) (func $g (param i32)) (func $f (call_indirect (i32.const 0)))",
            "indirect call type mismatch in f",
        ),
        ("(func $f (call $f))", "call stack exhausted in f"),
    ];
    for (i, (body, message)) in cases.iter().enumerate() {
        let m = write(
            &dir,
            &format!("t{i}.wat"),
            format!("(module {body} (export \"_start\" (func $f)))"),
        );
        let (status, _, err) = kiln_run(&["run", m.to_str().unwrap()]);
        assert_eq!(status, 125, "{body}: {err}");
        assert_eq!(err, format!("kiln: trap: {message}\n"), "{body}");
    }
}

#[test]
fn second_run_uses_the_cache() {
    let dir = scratch("cache");
    let cache = dir.join("cache");
    let m = write(&dir, "ok.wat", r#"(module (func (export "_start")))"#);
    let run = || {
        let out = output(
            kiln()
                .env("KILN_CACHE_DIR", &cache)
                .args(["run", m.to_str().unwrap()]),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    };
    run();
    let count = || std::fs::read_dir(&cache).unwrap().count();
    let objects_after_first = count();
    // The same file (inode) with the same bytes: a hit only refreshes the
    // entry's time (for the size limit's least-recently-used order).
    let identity = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        (
            std::fs::metadata(p).unwrap().ino(),
            std::fs::read(p).unwrap(),
        )
    };
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let before: Vec<_> = files.iter().map(|f| identity(f)).collect();
    run();
    assert_eq!(
        count(),
        objects_after_first,
        "a second run must not add cache entries"
    );
    let after: Vec<_> = files.iter().map(|f| identity(f)).collect();
    assert!(
        before == after,
        "a second run must not rewrite cached files"
    );
}

#[test]
fn bad_modules_get_one_line() {
    let dir = scratch("bad");
    let p = |name: &str, bytes: &[u8]| write(&dir, name, bytes).to_string_lossy().into_owned();
    let out = dir.join("out.o").to_string_lossy().into_owned();
    let truncated = p("truncated.wasm", b"\0asm\x01\0\0\0\x01");
    let garbage = p("garbage.wasm", b"\xff\xfe\xfd");
    let not_wasm = p("text.wasm", b"hello");
    let bad_text = p("bad.wat", b"(module (func (result i32) i64.const))");
    let invalid = p("invalid.wat", b"(module (func (result i32) i64.const 1))");
    let relaxed = p(
        "relaxed.wat",
        b"(module (func) (func (param v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 0) (local.get 0))))",
    );
    let tail = p("tail.wat", b"(module (func $f (return_call $f)))");
    let threads = p("threads.wat", b"(module (memory 1 1 shared))");
    let multi = p("multi.wat", b"(module (memory 1) (memory 1))");
    for (input, needle) in [
        (&truncated, "invalid module: unexpected end-of-file"),
        (&garbage, "not a WebAssembly module"),
        (&not_wasm, "not a WebAssembly module"),
        (&bad_text, "malformed text module"),
        (&invalid, "invalid module: type mismatch"),
        (
            &relaxed,
            "uses the relaxed SIMD proposal (first in function 1",
        ),
        (&tail, "uses the tail calls proposal"),
        (&threads, "uses the threads"),
        (&multi, "uses the multiple memories proposal"),
    ] {
        assert_error(&["compile", input, "-o", &out], needle);
        assert!(
            !Path::new(&out).exists(),
            "{input}: no output file after a failure"
        );
    }
}

#[test]
fn failed_compile_leaves_an_existing_output_alone() {
    let dir = scratch("keep");
    let out = write(&dir, "out.o", b"previous");
    let bad = write(&dir, "bad.wat", b"(module (func (result i32)))");
    assert_error(
        &[
            "compile",
            bad.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        "invalid module",
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"previous");
}

#[test]
fn bad_command_lines_get_one_line() {
    let dir = scratch("cli");
    let ok = write(&dir, "ok.wat", r#"(module (func (export "_start")))"#)
        .to_string_lossy()
        .into_owned();
    let out = dir.join("o.o").to_string_lossy().into_owned();
    assert_error(
        &["compile", "/no/such/file.wasm", "-o", &out],
        "cannot read /no/such/file.wasm",
    );
    assert_error(
        &["compile", &ok, "--target", "mips-unknown-none", "-o", &out],
        "unsupported target `mips-unknown-none`",
    );
    assert_error(
        &["compile", &ok, "--name", "9bad", "-o", &out],
        "bad module name `9bad`",
    );
    assert_error(&["run", &ok, "--board", "nope"], "unknown board `nope`");
    assert_error(&["run", &ok, "--env", "NOEQUALS"], "bad --env `NOEQUALS`");
    assert_error(
        &["run", &ok, "--dir", "/no/such/dir::/x"],
        "/no/such/dir is not a folder",
    );
    let (status, _, err) = kiln_run(&["frobnicate"]);
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("unrecognized subcommand"), "{err}");
}

#[test]
fn load_errors_exit_126_with_one_line() {
    let dir = scratch("load");
    let import = write(
        &dir,
        "import.wat",
        r#"(module (import "env" "f" (func)) (func (export "_start") call 0))"#,
    );
    let (status, _, err) = kiln_run(&["run", import.to_str().unwrap()]);
    assert_eq!(
        (status, err.as_str()),
        (126, "kiln: error: unknown import: env.f\n")
    );
    let wrong = write(
        &dir,
        "wrong.wat",
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (func (export "_start")))"#,
    );
    let (status, _, err) = kiln_run(&["run", wrong.to_str().unwrap()]);
    assert_eq!(
        (status, err.as_str()),
        (
            126,
            "kiln: error: incompatible import type: wasi_snapshot_preview1.fd_write\n"
        )
    );
    let no_start = write(&dir, "nostart.wat", "(module)");
    let (status, _, err) = kiln_run(&["run", no_start.to_str().unwrap()]);
    assert_eq!(
        (status, err.as_str()),
        (126, "kiln: error: module has no `_start` function to run\n")
    );
}
