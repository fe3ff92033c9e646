//! Limits that hold on every board: linear memory (declared maxima, the
//! 4 GiB of a 32-bit memory, 2 GiB in a guard-region reservation, the
//! board's RAM) with `memory.grow` failing
//! cleanly, tables, the stack (deep recursion of every shape ends in
//! `call stack exhausted`, never a crash), and the deadline: `--timeout`
//! arms the board's own watchdog, which stops a runaway program with
//! `kiln: trap: interrupted` and status 124, in compiled code or stuck in a
//! host call.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiln_tests::{QEMU_BOARDS, kiln, output, scratch, stderr, stdout, write};

/// Every board, the host first.
fn boards() -> impl Iterator<Item = &'static str> {
    std::iter::once("host").chain(QEMU_BOARDS.iter().copied())
}

/// `kiln run` on `board` (host-side limit of 300 s as a backstop only).
fn run(board: &str, module: &Path, extra: &[&str]) -> (i32, String, String, Duration) {
    let start = Instant::now();
    let out = output(
        kiln()
            .args(["run", "--board", board])
            .args(extra)
            .arg(module)
            .stdin(Stdio::null()),
    );
    (
        out.status.code().unwrap_or(-1),
        stdout(&out),
        stderr(&out),
        start.elapsed(),
    )
}

/// Runs spec scripts on `board`; asserts every assertion passed.
fn wast(board: &str, files: &[&Path]) {
    let out = output(kiln().args(["wast", "--board", board]).args(files));
    let text = stdout(&out);
    assert!(
        out.status.success() && text.trim_end().ends_with(" 0 failed"),
        "{board}:\n{text}{}",
        stderr(&out)
    );
}

/// Memory and table limits as spec assertions: growth within the declared
/// maximum succeeds, past it (or past 4 GiB) returns -1 and changes nothing;
/// accesses follow the current size.
const GROWTH: &str = r#"
(module
  (memory 1 3)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32) (i32.store8 (local.get 0) (i32.const 7))))
(assert_return (invoke "grow" (i32.const 0)) (i32.const 1))
(assert_return (invoke "grow" (i32.const 3)) (i32.const -1))
(assert_return (invoke "grow" (i32.const -1)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 0x10000)) (i32.const -1))
(assert_return (invoke "size") (i32.const 1))
(assert_trap (invoke "load" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 2)) (i32.const 1))
(assert_return (invoke "size") (i32.const 3))
(invoke "store" (i32.const 196607))
(assert_return (invoke "load" (i32.const 196607)) (i32.const 7))
(assert_trap (invoke "load" (i32.const 196608)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "load" (i32.const 196607)) (i32.const 7))

(module
  (memory 0)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))
(assert_trap (invoke "load" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 0x10001)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 1)) (i32.const 0))
(assert_return (invoke "load" (i32.const 65535)) (i32.const 0))

(module
  (table 2 4 funcref)
  (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size)))
(assert_return (invoke "grow" (i32.const 3)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 2)) (i32.const 2))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "grow" (i32.const -1)) (i32.const -1))
(assert_return (invoke "size") (i32.const 4))

(module
  (table 0 funcref)
  (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))
(assert_return (invoke "grow" (i32.const -1)) (i32.const -1))
(assert_return (invoke "grow" (i32.const 20000000)) (i32.const -1))
"#;

/// Recursion of every shape ends in stack exhaustion, and the instance is
/// usable afterwards (the stack was unwound, not left exhausted).
const RECURSION: &str = r#"
(module
  (type $v (func))
  (type $ii (func (param i64) (result i64)))
  (table 2 funcref)
  (elem (i32.const 0) $indirect $mutual_b)
  (func $plain (export "plain") (call $plain))
  ;; Big frames: many live values per level.
  (func $big (export "big") (param i64) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 1 (i64.add (local.get 0) (i64.const 1)))
    (local.set 2 (i64.mul (local.get 1) (i64.const 3)))
    (local.set 3 (i64.xor (local.get 2) (local.get 0)))
    (i64.add (i64.add (local.get 1) (local.get 2))
      (i64.add (local.get 3) (call $big (local.get 3)))))
  (func $indirect (export "indirect") (call_indirect (type $v) (i32.const 0)))
  (func $mutual_a (export "mutual") (call_indirect (type $v) (i32.const 1)))
  (func $mutual_b (call $mutual_a))
  ;; Many parameters and results per call.
  (func $wide (export "wide") (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (result i64 i64 i64 i64 i64 i64)
    (call $wide (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
      (local.get 5) (local.get 6) (local.get 7) (local.get 8) (local.get 9) (local.get 10)
      (local.get 11)))
  (func (export "ok") (result i32) (i32.const 42)))
(assert_exhaustion (invoke "plain") "call stack exhausted")
(assert_return (invoke "ok") (i32.const 42))
(assert_exhaustion (invoke "big" (i64.const 1)) "call stack exhausted")
(assert_exhaustion (invoke "indirect") "call stack exhausted")
(assert_exhaustion (invoke "mutual") "call stack exhausted")
(assert_exhaustion (invoke "wide" (i64.const 0) (i64.const 1) (i64.const 2) (i64.const 3)
  (i64.const 4) (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9)
  (i64.const 10) (i64.const 11)) "call stack exhausted")
(assert_exhaustion (invoke "plain") "call stack exhausted")
(assert_return (invoke "ok") (i32.const 42))
"#;

#[test]
fn memory_and_table_limits_hold_on_every_board() {
    let dir = scratch("limits-growth");
    let script = write(&dir, "growth.wast", GROWTH);
    for board in boards() {
        wast(board, &[&script]);
    }
}

#[test]
fn deep_recursion_ends_in_stack_exhaustion_on_every_board() {
    let dir = scratch("limits-stack");
    let script = write(&dir, "recursion.wast", RECURSION);
    for board in boards() {
        wast(board, &[&script]);
    }
}

/// A program whose every recursion level calls a host function: the host
/// function runs in the margin below the stack limit, never past it.
#[test]
fn host_calls_at_the_stack_limit_are_safe() {
    let dir = scratch("limits-stack-host");
    let m = write(
        &dir,
        "deep-host.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
             (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
             (memory 1)
             (data (i32.const 100) "x")
             (func $down (export "_start")
               (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 0))
               (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
               (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 16)))
               (call $down)))"#,
    );
    for board in boards() {
        let (status, _, err, _) = run(board, &m, &["--timeout", "120"]);
        assert_eq!(
            (status, err.as_str()),
            (125, "kiln: trap: call stack exhausted in down\n"),
            "{board}"
        );
    }
}

/// A memory in a reservation (the host board) grows to 2 GiB and no further
/// (`GUARDED_MAX_PAGES`, which the guard-region addressing relies on); a
/// module asking for more at the start gets a load error.
#[test]
fn reserved_memory_stops_at_2_gib_on_the_host() {
    let dir = scratch("limits-reserved");
    let script = write(
        &dir,
        "reserved.wast",
        r#"(module
  (memory 0)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "store") (param i32) (i32.store8 (local.get 0) (i32.const 7)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))
(assert_return (invoke "grow" (i32.const 32768)) (i32.const 0))
(invoke "store" (i32.const 0x7fffffff))
(assert_return (invoke "load" (i32.const 0x7fffffff)) (i32.const 7))
(assert_trap (invoke "load" (i32.const 0x80000000)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
"#,
    );
    wast("host", &[&script]);
    let m = write(
        &dir,
        "huge.wat",
        r#"(module (memory 32769) (func (export "_start")))"#,
    );
    let (status, _, err, _) = run("host", &m, &[]);
    assert_eq!(status, 126, "{err}");
    assert_eq!(
        err,
        "kiln: error: out of memory: the board cannot hold the linear memory (2147549184 bytes)\n"
    );
}

#[test]
fn minimum_memory_beyond_the_boards_ram_is_a_load_error() {
    let dir = scratch("limits-ram");
    // 2 GiB: more than any QEMU board's 1 GiB of RAM.
    let m = write(
        &dir,
        "huge.wat",
        r#"(module (memory 32768) (func (export "_start")))"#,
    );
    for board in QEMU_BOARDS {
        let (status, _, err, _) = run(board, &m, &["--timeout", "120"]);
        assert_eq!(status, 126, "{board}: {err}");
        assert_eq!(
            err,
            "kiln: error: out of memory: the board cannot hold the linear memory (2147483648 bytes)\n",
            "{board}"
        );
    }
    // Tables have a limit of their own, on every board.
    let t = write(
        &dir,
        "table.wat",
        r#"(module (table 20000000 funcref) (func (export "_start")))"#,
    );
    for board in boards() {
        let (status, _, err, _) = run(board, &t, &["--timeout", "120"]);
        assert_eq!(
            (status, err.as_str()),
            (
                126,
                "kiln: error: out of memory: the board cannot hold the table (160000000 bytes)\n"
            ),
            "{board}"
        );
    }
}

/// Spins in compiled code forever.
const SPIN: &str = r#"(module (func $spin (export "_start") (loop $l (br $l))))"#;

/// Calls host functions in a loop and checks an invariant in Wasm, so that
/// the watchdog's interrupt lands in the runtime as often as in compiled
/// code; a register the interrupt failed to restore breaks the invariant
/// (`unreachable`, status 125) instead of going unnoticed.
const HOST_LOOP: &str = r#"(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory 1)
  (func $work (export "_start") (local $i i64) (local $acc i64)
    (loop $l
      (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 0)))
      (local.set $acc (i64.add (local.get $acc) (local.get $i)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (if (i64.ne (local.get $acc)
            (i64.div_u (i64.mul (local.get $i) (i64.sub (local.get $i) (i64.const 1))) (i64.const 2)))
        (then unreachable))
      (br $l))))"#;

#[test]
fn timeout_stops_a_spinning_program_on_every_board() {
    let dir = scratch("limits-spin");
    let m = write(&dir, "spin.wat", SPIN);
    for board in boards() {
        let (status, _, err, took) = run(board, &m, &["--timeout", "2"]);
        assert_eq!(
            (status, err.as_str()),
            (124, "kiln: trap: interrupted in spin\n"),
            "{board}"
        );
        assert!(took < Duration::from_secs(60), "{board}: took {took:?}");
        assert!(took >= Duration::from_secs(2), "{board}: took {took:?}");
    }
}

#[test]
fn timeout_stops_a_program_that_calls_the_host_in_a_loop() {
    let dir = scratch("limits-hostloop");
    let m = write(&dir, "hostloop.wat", HOST_LOOP);
    for board in boards() {
        // Longer than the x86 APIC timer's 32-bit count at 1 GHz (4.3 s),
        // so that the watchdog also wakes before the deadline and returns.
        let (status, _, err, _) = run(board, &m, &["--timeout", "5"]);
        assert_eq!(status, 124, "{board}: {err}");
        // Wherever the deadline finds it: in the loop, in the import's
        // adapter, or in the WASI function, which ends the run on its way
        // back (never the board's "stuck in a host call").
        assert!(
            err == "kiln: trap: interrupted in work\n"
                || err == "kiln: trap: interrupted in clock\n"
                || err == "kiln: trap: interrupted in clock_time_get\n",
            "{board}: {err}"
        );
    }
}

#[test]
fn timeout_stops_a_program_stuck_in_a_host_call() {
    let dir = scratch("limits-stuck");
    // Reads stdin, which never ends: the read blocks past the deadline.
    let m = write(
        &dir,
        "read.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
             (memory 1)
             (func (export "_start")
               (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 100))
               (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    );
    for board in boards() {
        let start = Instant::now();
        let mut child = kiln()
            .args(["run", "--board", board, "--timeout", "2"])
            .arg(&m)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning kiln");
        // Keep stdin open (and silent) until the program is gone.
        let stdin = child.stdin.take();
        let out = child.wait_with_output().expect("waiting for kiln");
        drop(stdin);
        assert_eq!(out.status.code(), Some(124), "{board}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "kiln: timeout: the program passed its deadline of 2000 ms and did not return to Wasm code within 1 s (stuck in a host call)\n",
            "{board}"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "{board}");
    }
}

#[test]
fn a_program_within_its_deadline_is_not_disturbed() {
    let dir = scratch("limits-within");
    let m = write(
        &dir,
        "count.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (func (export "_start") (local $i i32)
               (loop $l
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
               (call $exit (i32.sub (local.get $i) (i32.const 999958)))))"#,
    );
    for board in boards() {
        let (status, _, err, _) = run(board, &m, &["--timeout", "100"]);
        assert_eq!(status, 42, "{board}: {err}");
    }
}

/// `kiln build --timeout` puts the deadline into the firmware itself: the
/// board stops the program with no kiln watching.
#[test]
fn built_firmware_carries_its_deadline() {
    let dir = scratch("limits-build");
    let m = write(&dir, "spin.wat", SPIN);
    let elf = dir.join("spin.elf");
    let out = output(kiln().args([
        "build",
        "--board",
        "host",
        "--timeout",
        "1.5",
        m.to_str().unwrap(),
        "-o",
        elf.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let start = Instant::now();
    let run = output(Command::new(&elf).stdin(Stdio::null()));
    assert_eq!(run.status.code(), Some(124), "{}", stderr(&run));
    assert_eq!(stderr(&run), "kiln: trap: interrupted in spin\n");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(30),
        "{took:?}"
    );
}
