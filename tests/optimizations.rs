//! Kiln's own optimisations against the spec's semantics: the script
//! tests/wast/optimizations.wast (memory contents the translator forwards,
//! inlined leaf functions, accesses at the edges of memory with guard
//! regions and with explicit checks) on every board, and with each
//! optimisation left out (`KILN_DISABLE`), so both code paths stay right;
//! tests/wast/baseline.wast, the baseline compiler's own cases; and
//! tests/wast/vectorize.wast, the loop vectorizer's; and branches across
//! more than a mebibyte of code (the vendored Cranelift's islands).

use kiln_tests::{QEMU_BOARDS, kiln, output, root, scratch, stdout, write};

fn run(board: &str, disable: &str) {
    run_script("optimizations.wast", board, disable, &[]);
}

fn run_script(script: &str, board: &str, disable: &str, options: &[&str]) {
    run_script_at(
        &root().join("tests/wast").join(script),
        board,
        disable,
        options,
    );
}

fn run_script_at(script: &std::path::Path, board: &str, disable: &str, options: &[&str]) {
    let out = output(
        kiln()
            .env("KILN_DISABLE", disable)
            .args(["wast", "--board", board])
            .args(options)
            .arg(script),
    );
    let text = stdout(&out);
    assert!(
        out.status.success() && text.trim_end().ends_with(" passed, 0 failed"),
        "{board} (KILN_DISABLE={disable}, {options:?}):\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn host() {
    run("host", "");
}

#[test]
fn host_without_each_optimisation() {
    for disable in [
        "guard",
        "inline",
        "known",
        "checks",
        "sext",
        "guard,grow",
        "guard,inline,known,checks,sext",
    ] {
        run("host", disable);
    }
}

#[test]
fn qemu_boards() {
    for board in QEMU_BOARDS {
        run(board, "");
        run(board, "checks");
        // Explicit checks, where a grown memory may move (translate/growth.rs).
        run_script(
            "optimizations.wast",
            board,
            "",
            &["--bounds-checks", "explicit"],
        );
    }
    // riscv64's compares, both boards' anchored offsets and loop
    // constants left out.
    run("qemu-virt-riscv64", "cmp64,anchor,loopconst");
    run("qemu-virt-aarch64", "anchor,loopconst");
}

/// The baseline compiler's fused comparisons, pinned locals, and locals
/// and memory contents taken from registers, through the fast tier on
/// every board and with explicit bounds checks (a forwarded load skips its
/// check), and without pinning (the script's locals then live in slots);
/// Cranelift on the host must give the script's answers too.
#[test]
fn baseline_compiler_on_every_board() {
    run_script("baseline.wast", "host", "", &[]);
    for board in std::iter::once("host").chain(QEMU_BOARDS.iter().copied()) {
        run_script("baseline.wast", board, "", &["--opt-level", "none"]);
    }
    let explicit = ["--opt-level", "none", "--bounds-checks", "explicit"];
    run_script("baseline.wast", "host", "", &explicit);
    run_script("baseline.wast", "host", "pin", &["--opt-level", "none"]);
}

/// The loop vectorizer's cases (answers from Wasmtime) on every board, with
/// explicit bounds checks, and without the vectorizer.
#[test]
fn vectorized_loops_on_every_board() {
    for board in std::iter::once("host").chain(QEMU_BOARDS.iter().copied()) {
        run_script("vectorize.wast", board, "", &[]);
    }
    run_script(
        "vectorize.wast",
        "host",
        "",
        &["--bounds-checks", "explicit"],
    );
    run_script("vectorize.wast", "host", "vector", &[]);
}

/// Branches across more than a mebibyte of code, where every kind of
/// branch needs a veneer: a jump-table entry (riscv64: one `jal`) over a
/// loop of 100,000 statements (1.2 MB of riscv64 code, more than `jal` and
/// aarch64's `b.cond` reach) and the loop's branch back. The vendored
/// Cranelift counts such long-range branches towards an island only near
/// their deadline (vendor/README.md); here they reach it.
#[test]
fn branches_across_a_mebibyte() {
    const STATEMENTS: usize = 100_000;
    let address = |i: usize| (i * 8) % 60_000;
    let body: String = (0..STATEMENTS)
        .map(|i| {
            format!(
                "(i32.store offset={a} (local.get $p) \
                 (i32.add (i32.load offset={a} (local.get $p)) (local.get $x)))\n",
                a = address(i)
            )
        })
        .collect();
    // Two passes of the loop add 2 * x for each statement on address 0.
    let at_zero = (0..STATEMENTS).filter(|&i| address(i) == 0).count() * 2 * 5;
    let script = format!(
        "(module (memory 1)
          (func (export \"far\") (param $skip i32) (param $x i32) (result i32)
            (local $p i32) (local $n i32)
            (block $end
              (block $go (br_table $go $end $go (local.get $skip)))
              (loop $again
                {body}
                (local.set $n (i32.add (local.get $n) (i32.const 1)))
                (br_if $again (i32.lt_u (local.get $n) (i32.const 2)))))
            (i32.add (i32.load (i32.const 0)) (i32.mul (local.get $n) (i32.const 1000)))))
        (assert_return (invoke \"far\" (i32.const 1) (i32.const 5)) (i32.const 0))
        (assert_return (invoke \"far\" (i32.const 0) (i32.const 5)) (i32.const {}))
        (assert_return (invoke \"far\" (i32.const 1) (i32.const 5)) (i32.const {at_zero}))",
        at_zero + 2000
    );
    let script = write(&scratch("far-branches"), "far.wast", script);
    // Guard regions only: with explicit checks register allocation takes a
    // minute or two on this function for riscv64 and aarch64.
    for board in std::iter::once("host").chain(QEMU_BOARDS.iter().copied()) {
        run_script_at(&script, board, "", &[]);
    }
}
