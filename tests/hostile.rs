//! Hostile input at every entry point: `kiln compile` (module bytes),
//! `kiln run` (modules that cannot start, bad command lines), `kiln build`
//! (outputs), `kiln wast` (scripts) and the firmware itself (tampered
//! images). Each case ends with one clear line and a non-zero status: no
//! panic, no hang (every command runs under a deadline), no partial output
//! file. Each test asserts how many cases it ran, so the suite cannot
//! silently shrink.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiln_tests::{QEMU_BOARDS, kiln, scratch, write};

/// How long one command may take before it counts as hung.
const DEADLINE: Duration = Duration::from_secs(180);

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs a command with stdin closed, killing it (and failing) past DEADLINE.
fn run_limited(cmd: &mut Command) -> Outcome {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A file this test just wrote can be "busy" for a moment: another test
    // thread may fork while it is open for writing (ETXTBSY until that
    // child execs).
    let mut tries = 0;
    let mut child = loop {
        match cmd.spawn() {
            Ok(child) => break child,
            Err(e) if e.raw_os_error() == Some(26) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot run {cmd:?}: {e}"),
        }
    };
    let start = Instant::now();
    loop {
        if child.try_wait().expect("waiting for the command").is_some() {
            break;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("{cmd:?} hung for more than {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("collecting the output");
    Outcome {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn kiln_limited(args: &[&str]) -> Outcome {
    run_limited(kiln().args(args))
}

/// The command failed with exactly one line on stderr, starting with
/// `prefix` and containing `needle`, and did not panic.
fn assert_one_line(what: &str, o: &Outcome, status: Option<i32>, prefix: &str, needle: &str) {
    assert_ne!(o.status, 0, "{what} should fail:\n{}", o.stderr);
    assert!(
        !o.stderr.contains("panicked") && o.status != 101,
        "{what} panicked:\n{}",
        o.stderr
    );
    if let Some(s) = status {
        assert_eq!(o.status, s, "{what}: {}", o.stderr);
    }
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one line, got:\n{}",
        o.stderr
    );
    assert!(lines[0].starts_with(prefix), "{what}: {}", o.stderr);
    assert!(
        o.stderr.contains(needle),
        "{what}: expected `{needle}` in:\n{}",
        o.stderr
    );
}

/// `kiln compile` on bytes that must be refused: one line, status 1, and
/// no output file.
fn refuse_compile(dir: &Path, name: &str, bytes: &[u8], needle: &str) {
    let input = write(dir, name, bytes);
    let out = dir.join(format!("{name}.o"));
    let o = kiln_limited(&[
        "compile",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_one_line(name, &o, Some(1), "kiln: error: ", needle);
    assert!(
        !out.exists(),
        "{name}: a failed compile left {}",
        out.display()
    );
}

fn leb(mut x: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (x & 0x7f) as u8;
        x >>= 7;
        if x == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn section(id: u8, content: &[u8]) -> Vec<u8> {
    let mut s = vec![id];
    s.extend(leb(content.len() as u64));
    s.extend_from_slice(content);
    s
}

fn module(sections: &[Vec<u8>]) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    for s in sections {
        m.extend_from_slice(s);
    }
    m
}

/// A module with every kind of section, as text.
const EVERY_SECTION: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (table 2 funcref)
  (memory 1 2)
  (global $g (mut i32) (i32.const 7))
  (export "_start" (func $start))
  (export "mem" (memory 0))
  (start $init)
  (elem (i32.const 0) $id $start)
  (elem $passive func $id)
  (data (i32.const 8) "hello")
  (data $p "passive")
  (func $init (global.set $g (i32.const 8)))
  (func $id (type $t) (local i64 f32) (local.get 0))
  (func $start (memory.init $p (i32.const 0) (i32.const 0) (i32.const 1))
    (call $exit (call_indirect (type $t) (global.get $g) (i32.const 0)))))"#;

/// Deterministic pseudo-random bytes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

#[test]
fn compile_refuses_every_truncation_of_a_module() {
    let dir = scratch("hostile-truncated");
    let full = wat::parse_str(EVERY_SECTION).expect("valid test module");
    // Where sections end: a module cut there may be valid (the header
    // alone is an empty module); cut anywhere else it is malformed.
    let mut boundaries = vec![8usize];
    let mut at = 8;
    while at < full.len() {
        let (mut size, mut shift, mut p) = (0usize, 0, at + 1);
        loop {
            let b = full[p];
            size |= ((b & 0x7f) as usize) << shift;
            shift += 7;
            p += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        at = p + size;
        boundaries.push(at);
    }
    let mut cases = 0;
    for len in 0..full.len() {
        let name = format!("cut{len}.wasm");
        if boundaries.contains(&len) {
            // Compiles, or is refused (a function section without code).
            let input = write(&dir, &name, &full[..len]);
            let out = dir.join(format!("{name}.o"));
            let o = kiln_limited(&[
                "compile",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ]);
            if o.status != 0 {
                assert_one_line(&name, &o, Some(1), "kiln: error: ", "invalid module");
                assert!(!out.exists(), "{name}: partial output");
            }
        } else {
            let needle = if len < 4 {
                "not a WebAssembly module"
            } else {
                "invalid module"
            };
            refuse_compile(&dir, &name, &full[..len], needle);
        }
        cases += 1;
    }
    // The whole module compiles, runs, and exits with the table's answer.
    let whole = write(&dir, "whole.wasm", &full);
    let o = kiln_limited(&["run", whole.to_str().unwrap()]);
    assert_eq!(o.status, 8, "{}", o.stderr);
    assert!(cases > 150, "{cases} truncations");
}

#[test]
fn compile_refuses_garbage_and_bad_headers() {
    let dir = scratch("hostile-garbage");
    let mut cases = 0;
    for (i, len) in [1usize, 3, 7, 8, 9, 64, 1000, 100_000].iter().enumerate() {
        let mut bytes = noise(i as u64, *len);
        refuse_compile(&dir, &format!("noise{i}.wasm"), &bytes, "kiln: error:");
        // The same noise after a valid header.
        let mut headed = b"\0asm\x01\0\0\0".to_vec();
        headed.append(&mut bytes);
        refuse_compile(&dir, &format!("headed{i}.wasm"), &headed, "invalid module");
        cases += 2;
    }
    for (name, bytes, needle) in [
        ("empty.wasm", &b""[..], "not a WebAssembly module"),
        ("version2.wasm", b"\0asm\x02\0\0\0", "invalid module"),
        ("component.wasm", b"\0asm\x0d\0\x01\0", "component"),
        (
            "text-nul.wat",
            b"(module (func \0))",
            "malformed text module",
        ),
        (
            "text-utf8.wat",
            b"(module (func $\xff))",
            "not a WebAssembly module",
        ),
        ("unclosed.wat", b"(module (func", "malformed text module"),
        (
            "bad-section-id.wasm",
            b"\0asm\x01\0\0\0\x0e\x00",
            "invalid module",
        ),
        (
            "section-past-end.wasm",
            b"\0asm\x01\0\0\0\x01\x7f\x00",
            "invalid module",
        ),
        (
            "leb-too-long.wasm",
            b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\xff\x0f",
            "invalid module",
        ),
    ] {
        refuse_compile(&dir, name, bytes, needle);
        cases += 1;
    }
    // A folder and a missing file as input.
    let o = kiln_limited(&["compile", dir.to_str().unwrap(), "-o", "/dev/null"]);
    assert_one_line("folder input", &o, Some(1), "kiln: error: ", "cannot read");
    let o = kiln_limited(&["compile", "/no/such.wasm", "-o", "/dev/null"]);
    assert_one_line("missing input", &o, Some(1), "kiln: error: ", "cannot read");
    cases += 2;
    assert_eq!(cases, 27);
}

/// Sections that declare far more items than the file holds, and sizes at
/// and past the limits of the format: refused without allocating them.
#[test]
fn compile_refuses_huge_declared_sizes() {
    let dir = scratch("hostile-huge");
    let many = leb(u32::MAX as u64);
    let mut cases = 0;
    for (id, name) in [
        (1u8, "types"),
        (2, "imports"),
        (3, "functions"),
        (4, "tables"),
        (5, "memories"),
        (6, "globals"),
        (7, "exports"),
        (9, "elements"),
        (10, "code"),
        (11, "data"),
    ] {
        refuse_compile(
            &dir,
            &format!("count-{name}.wasm"),
            &module(&[section(id, &many)]),
            "invalid module",
        );
        cases += 1;
    }
    let t = section(1, &[1, 0x60, 0, 0]);
    let f = section(3, &[1, 0]);
    let body = |b: &[u8]| {
        let mut c = vec![1];
        c.extend(leb(b.len() as u64));
        c.extend_from_slice(b);
        section(10, &c)
    };
    let mut locals = vec![1];
    locals.extend(leb(u32::MAX as u64));
    locals.extend([0x7f, 0x0b]);
    for (name, bytes, needle) in [
        (
            "locals.wasm",
            module(&[t.clone(), f.clone(), body(&locals)]),
            "invalid module",
        ),
        (
            "locals-split.wasm",
            module(&[
                t.clone(),
                f.clone(),
                body(&[2, 0xff, 0xff, 0x03, 0x7f, 0xff, 0xff, 0x03, 0x7e, 0x0b]),
            ]),
            "invalid module",
        ),
        (
            "body-size.wasm",
            module(&[
                t.clone(),
                f.clone(),
                section(10, &[1, 0xff, 0xff, 0xff, 0x0f, 0]),
            ]),
            "invalid module",
        ),
        (
            "memory-min.wasm",
            module(&[section(5, &[1, 0, 0x81, 0x80, 0x04])]),
            "invalid module",
        ),
        (
            "memory-max-below-min.wasm",
            module(&[section(5, &[1, 1, 2, 1])]),
            "invalid module",
        ),
        (
            "data-count-mismatch.wasm",
            module(&[section(12, &[5])]),
            "invalid module",
        ),
        (
            "br-table-count.wasm",
            module(&[
                t.clone(),
                f.clone(),
                body(&[0, 0x41, 0, 0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f]),
            ]),
            "invalid module",
        ),
        (
            "name-length.wasm",
            module(&[section(0, &[0xff, 0xff, 0xff, 0xff, 0x0f, b'x'])]),
            "invalid module",
        ),
    ] {
        refuse_compile(&dir, name, &bytes, needle);
        cases += 1;
    }
    assert_eq!(cases, 18);
}

/// Big but valid modules compile within the deadline (or are refused with
/// one line); none crashes the compiler.
#[test]
fn compile_survives_deep_nesting_and_giant_tables() {
    let dir = scratch("hostile-deep");
    let mut cases = 0;
    let t = section(1, &[1, 0x60, 0, 0]);
    let f = section(3, &[1, 0]);
    let code = |b: &[u8]| {
        let mut c = vec![1];
        c.extend(leb(b.len() as u64));
        c.extend_from_slice(b);
        section(10, &c)
    };
    let depth = 100_000;
    let mut nested = vec![0u8];
    nested.extend(std::iter::repeat_n([0x02u8, 0x40], depth).flatten());
    nested.extend(std::iter::repeat_n(0x0bu8, depth + 1));
    let mut br_table = vec![0u8, 0x02, 0x40, 0x41, 0x00, 0x0e];
    br_table.extend(leb(1_000_000));
    br_table.extend(std::iter::repeat_n(0u8, 1_000_001));
    br_table.extend([0x0b, 0x0b]);
    let text_nesting = format!(
        "(module (func {}{}))",
        "(block ".repeat(depth),
        ")".repeat(depth)
    );
    let many_funcs = {
        let n = 20_000u64;
        let mut funcs = leb(n);
        funcs.extend(std::iter::repeat_n(0u8, n as usize));
        let mut bodies = leb(n);
        for _ in 0..n {
            bodies.extend([2, 0, 0x0b]);
        }
        module(&[t.clone(), section(3, &funcs), section(10, &bodies)])
    };
    let mut max_locals = vec![1];
    max_locals.extend(leb(50_000));
    max_locals.extend([0x7e, 0x0b]);
    for (name, bytes) in [
        (
            "nested.wasm",
            module(&[t.clone(), f.clone(), code(&nested)]),
        ),
        (
            "br-table.wasm",
            module(&[t.clone(), f.clone(), code(&br_table)]),
        ),
        ("nested.wat", text_nesting.into_bytes()),
        ("many-functions.wasm", many_funcs),
        (
            "max-locals.wasm",
            module(&[t.clone(), f.clone(), code(&max_locals)]),
        ),
    ] {
        let input = write(&dir, name, &bytes);
        let out = dir.join(format!("{name}.o"));
        let o = kiln_limited(&[
            "compile",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        if o.status == 0 {
            assert!(out.exists(), "{name}: no output");
        } else {
            assert_one_line(name, &o, Some(1), "kiln: error: ", "");
            assert!(!out.exists(), "{name}: partial output");
        }
        cases += 1;
    }
    assert_eq!(cases, 5);
}

/// Modules that compile but cannot start: each import problem, resources
/// the board cannot give, a start function that traps, a missing `_start`.
#[test]
fn run_refuses_modules_that_cannot_start() {
    let dir = scratch("hostile-start");
    let mut cases = 0;
    for (name, wat, status, message) in [
        (
            "unknown-module",
            r#"(module (import "env" "f" (func)) (func (export "_start")))"#,
            126,
            "kiln: error: unknown import: env.f\n",
        ),
        (
            "unknown-wasi-function",
            r#"(module (import "wasi_snapshot_preview1" "no_such_call" (func)) (func (export "_start")))"#,
            126,
            "kiln: error: unknown import: wasi_snapshot_preview1.no_such_call\n",
        ),
        (
            "wasi-wrong-params",
            r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i64))) (func (export "_start")))"#,
            126,
            "kiln: error: incompatible import type: wasi_snapshot_preview1.proc_exit\n",
        ),
        (
            "wasi-wrong-results",
            r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32))) (func (export "_start")))"#,
            126,
            "kiln: error: incompatible import type: wasi_snapshot_preview1.fd_write\n",
        ),
        (
            "imported-memory",
            r#"(module (import "env" "memory" (memory 1)) (func (export "_start")))"#,
            126,
            "kiln: error: unknown import: env.memory\n",
        ),
        (
            "imported-table",
            r#"(module (import "env" "table" (table 1 funcref)) (func (export "_start")))"#,
            126,
            "kiln: error: unknown import: env.table\n",
        ),
        (
            "imported-global",
            r#"(module (import "wasi_snapshot_preview1" "g" (global i32)) (func (export "_start")))"#,
            126,
            "kiln: error: unknown import: wasi_snapshot_preview1.g\n",
        ),
        (
            "no-start",
            r#"(module (func (export "start")))"#,
            126,
            "kiln: error: module has no `_start` function to run\n",
        ),
        (
            "start-is-memory",
            r#"(module (memory (export "_start") 1))"#,
            126,
            "kiln: error: module has no `_start` function to run\n",
        ),
        (
            "start-function-traps",
            r#"(module (func $boom unreachable) (start $boom) (func (export "_start")))"#,
            125,
            "kiln: trap: unreachable in boom\n",
        ),
        (
            "data-out-of-bounds",
            r#"(module (memory 1) (data (i32.const 65535) "ab") (func (export "_start")))"#,
            125,
            "kiln: trap: out of bounds memory access\n",
        ),
        (
            "elem-out-of-bounds",
            r#"(module (table 1 funcref) (func $f) (elem (i32.const 1) $f) (func (export "_start")))"#,
            125,
            "kiln: trap: out of bounds table access\n",
        ),
        (
            "huge-table",
            r#"(module (table 0xffffffff funcref) (func (export "_start")))"#,
            126,
            "kiln: error: out of memory: the board cannot hold the table (34359738360 bytes)\n",
        ),
    ] {
        let m = write(&dir, &format!("{name}.wat"), wat);
        let o = kiln_limited(&["run", m.to_str().unwrap()]);
        assert_eq!((o.status, o.stderr.as_str()), (status, message), "{name}");
        cases += 1;
    }
    assert_eq!(cases, 13);
}

#[test]
fn bad_command_lines_get_one_line() {
    let dir = scratch("hostile-cli");
    let ok = write(&dir, "ok.wat", r#"(module (func (export "_start")))"#);
    let ok = ok.to_str().unwrap();
    let file = write(&dir, "plain.txt", "not a folder");
    let file = file.to_str().unwrap();
    let mut cases = 0;
    let e = "kiln: error: ";
    for (args, needle) in [
        (vec!["run", ok, "--board", "nope"], "unknown board `nope`"),
        (vec!["run", ok, "--board", ""], "unknown board ``"),
        (vec!["run", ok, "--env", "NOEQUALS"], "bad --env `NOEQUALS`"),
        (
            vec!["run", ok, "--env", "=v"],
            "bad --env `=v`: the name is empty",
        ),
        (
            vec!["run", ok, "--dir", "/no/such/dir::/x"],
            "/no/such/dir is not a folder",
        ),
        (
            vec!["run", ok, "--dir", "/no/such/dir"],
            "/no/such/dir is not a folder",
        ),
        (
            vec!["run", ok, "--dir", &format!("{file}::/x")],
            "is not a folder",
        ),
        (vec!["run", ok, "--timeout", "0"], "bad --timeout `0`"),
        (vec!["run", ok, "--timeout=-3"], "bad --timeout `-3`"),
        (vec!["run", ok, "--timeout", "nan"], "bad --timeout `nan`"),
        (vec!["run", ok, "--timeout", "inf"], "bad --timeout `inf`"),
        (vec!["run", ok, "--timeout", "1e12"], "bad --timeout `1e12`"),
        (vec!["run", ok, "--timeout", "soon"], "bad --timeout `soon`"),
        (vec!["run", "/no/such.wasm"], "cannot read /no/such.wasm"),
        (vec!["run", dir.to_str().unwrap()], "cannot read"),
        (
            vec!["build", ok, "--board", "nope", "-o", "/dev/null"],
            "unknown board `nope`",
        ),
        (vec!["wast", "--board", "nope", ok], "unknown board `nope`"),
        (
            vec!["compile", ok, "--target", "", "-o", "/dev/null"],
            "unsupported target",
        ),
        (
            vec!["compile", ok, "--name", "", "-o", "/dev/null"],
            "bad module name",
        ),
        (
            vec!["compile", ok, "--name", "a-b", "-o", "/dev/null"],
            "bad module name `a-b`",
        ),
        (
            vec![
                "compile",
                ok,
                "--isa-flag",
                "no_such_flag",
                "-o",
                "/dev/null",
            ],
            "no_such_flag",
        ),
        (
            vec![
                "compile",
                ok,
                "--target",
                "riscv64gc-unknown-none-elf",
                "--isa-flag",
                "native",
                "-o",
                "/dev/null",
            ],
            "ISA flag `native` names this machine's CPU",
        ),
    ] {
        let o = kiln_limited(&args);
        assert_one_line(&format!("{args:?}"), &o, Some(1), e, needle);
        cases += 1;
    }
    // Errors found by the argument parser: status 2, the first line says
    // what is wrong, no panic.
    for args in [
        vec!["frobnicate"],
        vec!["run"],
        vec!["run", ok, "--no-such-option"],
        vec!["compile", ok],
        vec!["build", ok],
        vec!["build", ok, "-o", "x", "--format", "hex"],
        vec!["compile", ok, "-o", "x", "--opt-level", "fast"],
        vec!["wast"],
    ] {
        let o = kiln_limited(&args);
        assert_eq!(o.status, 2, "{args:?}: {}", o.stderr);
        assert!(o.stderr.starts_with("error: "), "{args:?}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{args:?}: {}", o.stderr);
        cases += 1;
    }
    assert_eq!(cases, 30);
}

/// Outputs that cannot be written: one line, and nothing left behind.
#[test]
fn outputs_are_all_or_nothing() {
    let dir = scratch("hostile-output");
    let ok = write(&dir, "ok.wat", r#"(module (func (export "_start")))"#);
    let bad = write(&dir, "bad.wat", "(module (func (result i32)))");
    let mut cases = 0;
    let missing = dir.join("no/such/folder/out.elf");
    for sub in ["build", "compile"] {
        let o = kiln_limited(&[sub, ok.to_str().unwrap(), "-o", missing.to_str().unwrap()]);
        assert_one_line(sub, &o, Some(1), "kiln: error: ", "cannot create");
        let o = kiln_limited(&[sub, ok.to_str().unwrap(), "-o", dir.to_str().unwrap()]);
        assert_one_line(sub, &o, Some(1), "kiln: error: ", "cannot");
        let target = dir.join(format!("{sub}.out"));
        let o = kiln_limited(&[sub, bad.to_str().unwrap(), "-o", target.to_str().unwrap()]);
        assert_one_line(sub, &o, Some(1), "kiln: error: ", "invalid module");
        assert!(!target.exists(), "{sub}: partial output");
        cases += 3;
    }
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("kiln-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    assert_eq!(cases, 6);
}

#[test]
fn wast_refuses_bad_scripts_with_one_line_each() {
    let dir = scratch("hostile-wast");
    let mut cases = 0;
    let missing = dir.join("missing.wast");
    let malformed = write(&dir, "malformed.wast", "(module (func) (assert_return");
    let garbage = write(&dir, "garbage.wast", noise(7, 200));
    for file in [&missing, &malformed, &garbage] {
        let o = kiln_limited(&["wast", file.to_str().unwrap()]);
        assert_eq!(o.status, 1, "{}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        let name = file.to_str().unwrap();
        let errors: Vec<&str> = o.stdout.lines().filter(|l| l.starts_with(name)).collect();
        assert_eq!(errors.len(), 1, "{}", o.stdout);
        assert!(errors[0].contains(": error: "), "{}", o.stdout);
        cases += 1;
    }
    assert_eq!(cases, 3);
}

/// Flips one byte of a built firmware in `section_of(symbol)` at `offset`
/// from the symbol.
fn tamper(elf: &Path, symbol: &str, offset: u64, out: &Path) {
    let mut d = std::fs::read(elf).expect("reading the firmware");
    let u16_at = |d: &[u8], at: usize| u16::from_le_bytes([d[at], d[at + 1]]) as usize;
    let u32_at = |d: &[u8], at: usize| u32::from_le_bytes(d[at..at + 4].try_into().unwrap()) as u64;
    let u64_at = |d: &[u8], at: usize| u64::from_le_bytes(d[at..at + 8].try_into().unwrap());
    let shoff = u64_at(&d, 40) as usize;
    let (shentsize, shnum) = (u16_at(&d, 58), u16_at(&d, 60));
    let sh = |i: usize| shoff + i * shentsize;
    // Find the symbol's address through .symtab and its string table.
    let mut address = None;
    for i in 0..shnum {
        if u32_at(&d, sh(i) + 4) != 2 {
            continue;
        }
        let (off, size) = (
            u64_at(&d, sh(i) + 24) as usize,
            u64_at(&d, sh(i) + 32) as usize,
        );
        let strtab = sh(u32_at(&d, sh(i) + 40) as usize);
        let stroff = u64_at(&d, strtab + 24) as usize;
        for s in (off..off + size).step_by(24) {
            let name_at = stroff + u32_at(&d, s) as usize;
            let end = d[name_at..].iter().position(|&b| b == 0).unwrap();
            if &d[name_at..name_at + end] == symbol.as_bytes() {
                address = Some(u64_at(&d, s + 8));
            }
        }
    }
    let address = address.unwrap_or_else(|| panic!("no symbol {symbol}")) + offset;
    for i in 0..shnum {
        let (addr, off, size) = (
            u64_at(&d, sh(i) + 16),
            u64_at(&d, sh(i) + 24),
            u64_at(&d, sh(i) + 32),
        );
        if u32_at(&d, sh(i) + 4) == 1 && (addr..addr + size).contains(&address) && addr != 0 {
            d[(off + address - addr) as usize] ^= 0x20;
            std::fs::write(out, &d).expect("writing the tampered firmware");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755)).unwrap();
            return;
        }
    }
    panic!("{symbol}+{offset} is in no section");
}

/// The runtime's own entry point: a firmware whose code, module descriptor
/// or manifest changed after `kiln build` is refused before anything runs.
#[test]
fn tampered_firmware_is_refused_on_every_board() {
    let dir = scratch("hostile-tamper");
    let hello = kiln_tests::root().join("examples/hello.wat");
    let mut cases = 0;
    for board in std::iter::once("host").chain(QEMU_BOARDS.iter().copied()) {
        let elf = dir.join(format!("{board}.elf"));
        let o = kiln_limited(&[
            "build",
            "--board",
            board,
            hello.to_str().unwrap(),
            "-o",
            elf.to_str().unwrap(),
            "--",
            "argument",
        ]);
        assert_eq!(o.status, 0, "{board}: {}", o.stderr);
        for (symbol, offset) in [
            ("kiln_module.f1", 0u64),  // compiled code
            ("kiln_module", 40),       // the module descriptor
            ("kiln_app_manifest", 48), // the manifest's argument list
            ("kiln_run_program", 0),   // the runtime's own code
        ] {
            let bad = dir.join(format!("{board}-{symbol}.elf"));
            tamper(&elf, symbol, offset, &bad);
            let o = if board == "host" {
                run_limited(&mut Command::new(&bad))
            } else {
                boot_qemu(board, &bad)
            };
            assert_eq!(o.status, 126, "{board} {symbol}: {}{}", o.stdout, o.stderr);
            assert!(
                o.stderr.contains("kiln: error: firmware image is corrupt")
                    || o.stdout.contains("kiln: error: firmware image is corrupt"),
                "{board} {symbol}: {}{}",
                o.stdout,
                o.stderr
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 16);
}

/// Boots a firmware under QEMU with the board's own command line; the
/// status is the program's (isa-debug-exit decoded).
fn boot_qemu(board: &str, elf: &Path) -> Outcome {
    let args = kiln_tests::qemu_command(board, elf);
    let mut o = run_limited(Command::new(&args[0]).args(&args[1..]));
    if board == "qemu-x86_64" && o.status & 1 == 1 {
        o.status >>= 1;
    }
    // One UART: the stream switches are escape sequences.
    o.stdout = o
        .stdout
        .replace("\x1b]K;2\x07", "")
        .replace("\x1b]K;1\x07", "");
    o
}
