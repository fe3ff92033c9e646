//! Kiln's own optimisations against the spec's semantics: the script
//! tests/wast/optimizations.wast (memory contents the translator forwards,
//! inlined leaf functions, accesses at the edges of memory with guard
//! regions and with explicit checks) on every board, and with each
//! optimisation left out (`KILN_DISABLE`), so both code paths stay right.

use kiln_tests::{QEMU_BOARDS, kiln, output, root, stdout};

fn run(board: &str, disable: &str) {
    let script = root().join("tests/wast/optimizations.wast");
    let out = output(
        kiln()
            .env("KILN_DISABLE", disable)
            .args(["wast", "--board", board])
            .arg(&script),
    );
    let text = stdout(&out);
    assert!(
        out.status.success() && text.trim_end().ends_with(" passed, 0 failed"),
        "{board} (KILN_DISABLE={disable}):\n{text}\n{}",
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
    }
}
