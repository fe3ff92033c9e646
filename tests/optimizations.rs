//! Kiln's own optimisations against the spec's semantics: the script
//! tests/wast/optimizations.wast (memory contents the translator forwards,
//! inlined leaf functions, accesses at the edges of memory with guard
//! regions and with explicit checks) on every board, and with each
//! optimisation left out (`KILN_DISABLE`), so both code paths stay right;
//! tests/wast/baseline.wast, the baseline compiler's own cases; and
//! tests/wast/vectorize.wast, the loop vectorizer's.

use kiln_tests::{QEMU_BOARDS, kiln, output, root, stdout};

fn run(board: &str, disable: &str) {
    run_script("optimizations.wast", board, disable, &[]);
}

fn run_script(script: &str, board: &str, disable: &str, options: &[&str]) {
    let script = root().join("tests/wast").join(script);
    let out = output(
        kiln()
            .env("KILN_DISABLE", disable)
            .args(["wast", "--board", board])
            .args(options)
            .arg(&script),
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
