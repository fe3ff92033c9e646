//! The sandbox on every board: out-of-bounds accesses at every edge of
//! linear memory (each load and store width, static offsets up to 4 GiB,
//! memories of 0, 1 and grown pages, a trapping store that overlaps the end
//! writes nothing) and of tables, bulk operations at their edges,
//! `call_indirect` with every kind of wrong signature and with null and
//! missing entries, across modules too; and WASI paths that try to leave
//! their preopened folder. Everything traps or fails cleanly.
//!
//! The Wasm checks are spec scripts generated here and run with
//! `kiln wast --board B`: one boot per script and board.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;

use kiln_tests::{QEMU_BOARDS, kiln, output, scratch, stderr, stdout, write};

fn boards() -> impl Iterator<Item = &'static str> {
    std::iter::once("host").chain(QEMU_BOARDS.iter().copied())
}

/// Runs scripts on every board; every assertion must pass. Returns the
/// number of assertions per board.
fn wast_everywhere(files: &[&Path]) -> u64 {
    let mut count = 0;
    for board in boards() {
        let out = output(kiln().args(["wast", "--board", board]).args(files));
        let text = stdout(&out);
        let summary = text.lines().last().unwrap_or("");
        assert!(
            out.status.success() && summary.ends_with(" 0 failed"),
            "{board}:\n{text}{}",
            stderr(&out)
        );
        count = summary
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
    }
    count
}

/// (instruction, access size, value type) of every load.
const LOADS: &[(&str, u64, &str)] = &[
    ("i32.load", 4, "i32"),
    ("i64.load", 8, "i64"),
    ("f32.load", 4, "f32"),
    ("f64.load", 8, "f64"),
    ("i32.load8_s", 1, "i32"),
    ("i32.load8_u", 1, "i32"),
    ("i32.load16_s", 2, "i32"),
    ("i32.load16_u", 2, "i32"),
    ("i64.load8_s", 1, "i64"),
    ("i64.load8_u", 1, "i64"),
    ("i64.load16_s", 2, "i64"),
    ("i64.load16_u", 2, "i64"),
    ("i64.load32_s", 4, "i64"),
    ("i64.load32_u", 4, "i64"),
];

/// (instruction, access size, value type, an all-ones value) of every store.
const STORES: &[(&str, u64, &str, &str)] = &[
    ("i32.store", 4, "i32", "-1"),
    ("i64.store", 8, "i64", "-1"),
    ("f32.store", 4, "f32", "nan:0x7fffff"),
    ("f64.store", 8, "f64", "nan:0xfffffffffffff"),
    ("i32.store8", 1, "i32", "-1"),
    ("i32.store16", 2, "i32", "-1"),
    ("i64.store8", 1, "i64", "-1"),
    ("i64.store16", 2, "i64", "-1"),
    ("i64.store32", 4, "i64", "-1"),
];

/// Static offsets the accesses use.
const OFFSETS: &[u64] = &[0, 1, 65535, 0x7fff_ffff, 0xffff_ffff];

/// A module with `pages` of memory (grown to `grown` first) and one export
/// per access and offset; then assertions at every edge of its length.
fn memory_edges(pages: u64, grown: u64) -> String {
    let length = (pages + grown) * 65536;
    let mut m = format!("(module (memory {pages})\n");
    m.push_str("  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n");
    // The last 16 bytes: zero (1) or not (0), and clearing them.
    let _ = writeln!(
        m,
        "  (func (export \"tail_zero\") (result i32) (i32.and (i64.eqz (i64.load (i32.const {a}))) (i64.eqz (i64.load (i32.const {b})))))",
        a = length.saturating_sub(16),
        b = length.saturating_sub(8)
    );
    let _ = writeln!(
        m,
        "  (func (export \"clear\") (memory.fill (i32.const {}) (i32.const 0) (i32.const 16)))",
        length.saturating_sub(16)
    );
    for (op, _, ty) in LOADS {
        for off in OFFSETS {
            let _ = writeln!(
                m,
                "  (func (export \"{op}@{off}\") (param i32) (result {ty}) ({op} offset={off} (local.get 0)))"
            );
        }
    }
    for (op, _, ty, ones) in STORES {
        for off in OFFSETS {
            let _ = writeln!(
                m,
                "  (func (export \"{op}@{off}\") (param i32) ({op} offset={off} (local.get 0) ({ty}.const {ones})))"
            );
        }
    }
    m.push_str(")\n");
    if grown > 0 {
        let _ = writeln!(
            m,
            "(assert_return (invoke \"grow\" (i32.const {grown})) (i32.const {pages}))"
        );
    }
    let edges = |size: u64| -> Vec<u64> {
        let mut e = vec![0, 1, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000];
        for d in [0u64, 1, 2, 7, 8] {
            e.push((length + d).saturating_sub(size));
            e.push(length + d);
            e.push(length.saturating_sub(d));
        }
        e.sort_unstable();
        e.dedup();
        e
    };
    let address = |effective: u64, off: u64| -> Option<u64> {
        effective.checked_sub(off).filter(|a| *a <= 0xffff_ffff)
    };
    for (op, size, ty) in LOADS {
        for off in OFFSETS {
            for e in edges(*size) {
                let Some(a) = address(e, *off) else { continue };
                let call = format!("(invoke \"{op}@{off}\" (i32.const {a}))");
                if e + size <= length {
                    let _ = writeln!(m, "(assert_return {call} ({ty}.const 0))");
                } else {
                    let _ = writeln!(m, "(assert_trap {call} \"out of bounds memory access\")");
                }
            }
        }
    }
    for (op, size, _, _) in STORES {
        for off in OFFSETS {
            for e in edges(*size) {
                let Some(a) = address(e, *off) else { continue };
                let call = format!("(invoke \"{op}@{off}\" (i32.const {a}))");
                if e + size <= length {
                    let _ = writeln!(m, "{call}");
                    m.push_str("(invoke \"clear\")\n");
                } else {
                    let _ = writeln!(m, "(assert_trap {call} \"out of bounds memory access\")");
                    // A store that overlaps the end writes none of its bytes.
                    if length >= 16 {
                        m.push_str("(assert_return (invoke \"tail_zero\") (i32.const 1))\n");
                    }
                }
            }
        }
    }
    m
}

/// Bulk memory operations at the edges of a one-page memory and a
/// 16-byte passive segment.
const BULK_EDGES: &str = r#"
(module
  (memory 1)
  (data $d "0123456789abcdef")
  (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 0x55) (local.get 1)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
  (func (export "byte") (param i32) (result i32) (i32.load8_u (local.get 0))))
(invoke "fill" (i32.const 65535) (i32.const 1))
(invoke "fill" (i32.const 65536) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 65536) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 65537) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 65530) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "byte" (i32.const 65530)) (i32.const 0))
(assert_trap (invoke "fill" (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 1) (i32.const -1)) "out of bounds memory access")
(invoke "copy" (i32.const 65535) (i32.const 0) (i32.const 1))
(invoke "copy" (i32.const 0) (i32.const 65535) (i32.const 1))
(invoke "copy" (i32.const 65536) (i32.const 65536) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65537) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 65530) (i32.const 0) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "byte" (i32.const 65530)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65530) (i32.const 7)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const -1) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const -1) (i32.const 0) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 0) (i32.const -1)) "out of bounds memory access")
(invoke "init" (i32.const 65520) (i32.const 0) (i32.const 16))
(assert_return (invoke "byte" (i32.const 65535)) (i32.const 0x66))
(invoke "init" (i32.const 65536) (i32.const 16) (i32.const 0))
(assert_trap (invoke "init" (i32.const 65521) (i32.const 0) (i32.const 16)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 0) (i32.const 1) (i32.const 16)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 0) (i32.const 17) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 0) (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const -1) (i32.const 0) (i32.const 1)) "out of bounds memory access")
"#;

/// Tables at their edges: get, set, fill, copy, init, and `call_indirect`
/// past the end, on null, with every wrong signature (including two
/// 20-parameter types, whose signature ids are hashes), and across modules
/// through an imported table.
fn table_edges() -> String {
    // (type name, params, results, zero arguments for a call)
    let types: &[(&str, &str, &str, &str)] = &[
        ("v", "", "", ""),
        ("i", "i32", "", "(i32.const 0)"),
        ("l", "i64", "", "(i64.const 0)"),
        ("f", "f32", "", "(f32.const 0)"),
        ("d", "f64", "", "(f64.const 0)"),
        ("ri", "", "i32", ""),
        ("rl", "", "i64", ""),
        ("rf", "", "f32", ""),
        ("ii", "i32 i32", "", "(i32.const 0) (i32.const 0)"),
        ("e", "externref", "", "(ref.null extern)"),
        ("fr", "funcref", "", "(ref.null func)"),
        ("rii", "", "i32 i32", ""),
        (
            "w1",
            "i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32",
            "",
            "",
        ),
        (
            "w2",
            "i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i64",
            "",
            "",
        ),
    ];
    let zero = |ty: &str| match ty {
        "i32" => "(i32.const 0)",
        "i64" => "(i64.const 0)",
        "f32" => "(f32.const 0)",
        "f64" => "(f64.const 0)",
        "externref" => "(ref.null extern)",
        _ => "(ref.null func)",
    };
    let args_of = |params: &str| -> String {
        params
            .split_whitespace()
            .map(zero)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let n = types.len();
    let mut m = String::from("(module $t\n");
    for (name, params, results, _) in types {
        let _ = writeln!(
            m,
            "  (type ${name} (func (param {params}) (result {results})))"
        );
    }
    // A structurally equal twin of $i: the same signature.
    m.push_str("  (type $i_twin (func (param i32)))\n");
    let _ = writeln!(m, "  (table $tab (export \"table\") {} funcref)", n + 2);
    for (name, _, results, _) in types {
        let body = results
            .split_whitespace()
            .map(zero)
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(m, "  (func $f_{name} (type ${name}) {body})");
    }
    m.push_str("  (elem (table $tab) (i32.const 0) func");
    for (name, ..) in types {
        let _ = write!(m, " $f_{name}");
    }
    m.push_str(")\n");
    for (name, params, results, _) in types {
        let drops = "drop ".repeat(results.split_whitespace().count());
        let _ = writeln!(
            m,
            "  (func (export \"call_{name}\") (param $x i32) (call_indirect $tab (type ${name}) {} (local.get $x)) {drops})",
            args_of(params)
        );
    }
    m.push_str("  (func (export \"call_twin\") (param $x i32) (call_indirect $tab (type $i_twin) (i32.const 0) (local.get $x)))\n");
    m.push_str(
        "  (func (export \"get\") (param i32) (result funcref) (table.get $tab (local.get 0)))\n",
    );
    m.push_str(
        "  (func (export \"set\") (param i32) (table.set $tab (local.get 0) (ref.null func)))\n",
    );
    m.push_str("  (func (export \"fill\") (param i32 i32) (table.fill $tab (local.get 0) (ref.null func) (local.get 1)))\n");
    m.push_str("  (func (export \"copy\") (param i32 i32 i32) (table.copy $tab $tab (local.get 0) (local.get 1) (local.get 2)))\n");
    m.push_str("  (elem $passive func $f_v $f_i)\n");
    m.push_str("  (func (export \"init\") (param i32 i32 i32) (table.init $tab $passive (local.get 0) (local.get 1) (local.get 2)))\n");
    m.push_str(")\n");
    // Every type against every entry: only the matching one is called.
    for (i, _) in types.iter().enumerate() {
        for (name, ..) in types {
            let call = format!("(invoke \"call_{name}\" (i32.const {i}))");
            if types[i].0 == *name {
                let _ = writeln!(m, "{call}");
            } else {
                let _ = writeln!(m, "(assert_trap {call} \"indirect call type mismatch\")");
            }
        }
    }
    m.push_str("(invoke \"call_twin\" (i32.const 1))\n");
    m.push_str(
        "(assert_trap (invoke \"call_twin\" (i32.const 2)) \"indirect call type mismatch\")\n",
    );
    // Null entries (the two past the element segment), then past the end.
    for name in ["v", "i", "w1"] {
        for i in [n, n + 1] {
            let _ = writeln!(
                m,
                "(assert_trap (invoke \"call_{name}\" (i32.const {i})) \"uninitialized element\")"
            );
        }
        for i in [n as u64 + 2, n as u64 + 3, 0x7fff_ffff, 0xffff_ffff] {
            let _ = writeln!(
                m,
                "(assert_trap (invoke \"call_{name}\" (i32.const {i})) \"undefined element\")"
            );
        }
    }
    let size = n + 2;
    let _ = writeln!(
        m,
        "(assert_return (invoke \"get\" (i32.const {})) (ref.null func))",
        size - 1
    );
    for i in [size as u64, size as u64 + 1, 0xffff_ffff] {
        let _ = writeln!(
            m,
            "(assert_trap (invoke \"get\" (i32.const {i})) \"out of bounds table access\")"
        );
        let _ = writeln!(
            m,
            "(assert_trap (invoke \"set\" (i32.const {i})) \"out of bounds table access\")"
        );
    }
    let _ = writeln!(m, "(invoke \"fill\" (i32.const {size}) (i32.const 0))");
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"fill\" (i32.const {}) (i32.const 2)) \"out of bounds table access\")",
        size - 1
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"fill\" (i32.const {}) (i32.const 0)) \"out of bounds table access\")",
        size + 1
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"fill\" (i32.const 1) (i32.const -1)) \"out of bounds table access\")"
    );
    // A failed fill changed nothing: entry 0 still calls.
    m.push_str("(invoke \"call_v\" (i32.const 0))\n");
    let _ = writeln!(
        m,
        "(invoke \"copy\" (i32.const {size}) (i32.const 0) (i32.const 0))"
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"copy\" (i32.const {}) (i32.const 0) (i32.const 2)) \"out of bounds table access\")",
        size - 1
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"copy\" (i32.const 0) (i32.const {}) (i32.const 2)) \"out of bounds table access\")",
        size - 1
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"copy\" (i32.const 0) (i32.const -1) (i32.const 1)) \"out of bounds table access\")"
    );
    let _ = writeln!(
        m,
        "(invoke \"init\" (i32.const {}) (i32.const 0) (i32.const 2))",
        size - 2
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"init\" (i32.const {}) (i32.const 0) (i32.const 2)) \"out of bounds table access\")",
        size - 1
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"init\" (i32.const 0) (i32.const 1) (i32.const 2)) \"out of bounds table access\")"
    );
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"init\" (i32.const 0) (i32.const 3) (i32.const 0)) \"out of bounds table access\")"
    );
    let _ = writeln!(m, "(invoke \"call_v\" (i32.const {}))", size - 2);
    let _ = writeln!(
        m,
        "(assert_trap (invoke \"call_v\" (i32.const {})) \"indirect call type mismatch\")",
        size - 1
    );

    // Another module imports the table and checks signatures with its own
    // type indices (declared in another order).
    m.push_str("(register \"t\" $t)\n(module\n");
    m.push_str(
        "  (type $ri (func (result i32)))\n  (type $v (func))\n  (type $i (func (param i32)))\n",
    );
    m.push_str("  (import \"t\" \"table\" (table 16 funcref))\n");
    m.push_str("  (func (export \"v\") (param i32) (call_indirect (type $v) (local.get 0)))\n");
    m.push_str("  (func (export \"i\") (param i32) (call_indirect (type $i) (i32.const 0) (local.get 0)))\n");
    m.push_str("  (func (export \"ri\") (param i32) (result i32) (call_indirect (type $ri) (local.get 0))))\n");
    m.push_str("(assert_trap (invoke \"v\" (i32.const 1)) \"indirect call type mismatch\")\n");
    m.push_str("(invoke \"i\" (i32.const 1))\n");
    m.push_str("(assert_return (invoke \"ri\" (i32.const 5)) (i32.const 0))\n");
    m.push_str("(assert_trap (invoke \"ri\" (i32.const 1)) \"indirect call type mismatch\")\n");
    m.push_str("(assert_trap (invoke \"ri\" (i32.const 100)) \"undefined element\")\n");
    m
}

#[test]
fn memory_edges_trap_on_every_board() {
    let dir = scratch("sandbox-memory");
    let one = write(&dir, "one-page.wast", memory_edges(1, 0));
    let grown = write(&dir, "grown.wast", memory_edges(1, 1));
    let empty = write(&dir, "empty.wast", memory_edges(0, 0));
    let bulk = write(&dir, "bulk.wast", BULK_EDGES);
    let count = wast_everywhere(&[&one, &grown, &empty, &bulk]);
    assert!(count > 3000, "only {count} assertions");
}

#[test]
fn table_edges_and_indirect_calls_trap_on_every_board() {
    let dir = scratch("sandbox-tables");
    let script = write(&dir, "tables.wast", table_edges());
    let count = wast_everywhere(&[&script]);
    assert!(count > 200, "only {count} assertions");
}

/// Paths that try to leave the preopened folder, and operations that would
/// change something outside it. The guest prints `name errno` per probe.
const PROBES: &[(&str, &str, Option<bool>)] = &[
    // (name, operation and path, allowed: None when either is fine)
    ("inside", "open inside.txt", Some(true)),
    ("dot", "opendir .", Some(true)),
    ("sub-dotdot-inside", "open sub/../inside.txt", Some(true)),
    ("parent", "open ../outside.txt", Some(false)),
    ("parent-dir", "opendir ..", Some(false)),
    ("sub-escape", "open sub/../../outside.txt", Some(false)),
    (
        "deep-escape",
        "open sub/../sub/../../outside.txt",
        Some(false),
    ),
    ("absolute", "open /etc/passwd", Some(false)),
    ("absolute-root", "opendir /", Some(false)),
    ("link-relative-out", "open link-out", Some(false)),
    ("link-absolute", "open link-abs", Some(false)),
    ("link-dir-out", "open sub/up/outside.txt", Some(false)),
    ("link-loop", "open loop", Some(false)),
    ("empty", "open ", Some(false)),
    ("nul", "open inside.txt\0x", Some(false)),
    ("not-a-dir", "open inside.txt/x", Some(false)),
    ("mkdir-out", "mkdir ../made-by-guest", Some(false)),
    ("unlink-out", "unlink ../outside.txt", Some(false)),
    (
        "rename-out",
        "rename inside.txt ../moved-by-guest",
        Some(false),
    ),
    ("rename-in", "rename ../outside.txt stolen.txt", Some(false)),
    ("symlink-then-open", "symlink /etc/passwd planted", None),
    ("planted", "open planted", Some(false)),
    ("bad-fd", "open-fd9 inside.txt", Some(false)),
    ("stdin-fd", "open-fd0 inside.txt", Some(false)),
];

/// A WASI program that runs every probe against fd 3 (the preopen).
fn probe_program() -> String {
    let mut data = String::new();
    let mut code = String::new();
    let mut at = 1024u32;
    let mut put = |bytes: &[u8], data: &mut String| -> (u32, u32) {
        let start = at;
        data.push_str(&format!("  (data (i32.const {start}) \""));
        for b in bytes {
            data.push_str(&format!("\\{b:02x}"));
        }
        data.push_str("\")\n");
        at += bytes.len() as u32 + 1;
        (start, bytes.len() as u32)
    };
    for (name, op, _) in PROBES {
        let (verb, rest) = op.split_once(' ').unwrap_or((op, ""));
        let label = put(format!("{name} ").as_bytes(), &mut data);
        let call = match verb {
            "open" | "opendir" | "open-fd9" | "open-fd0" => {
                let (p, l) = put(rest.as_bytes(), &mut data);
                let fd = match verb {
                    "open-fd9" => 9,
                    "open-fd0" => 0,
                    _ => 3,
                };
                let (oflags, rights) = if verb == "opendir" { (2, 0) } else { (0, 2) };
                format!(
                    "(call $open (i32.const {fd}) (i32.const 1) (i32.const {p}) (i32.const {l}) (i32.const {oflags}) (i64.const {rights}) (i64.const 0) (i32.const 0) (i32.const 0))"
                )
            }
            "mkdir" => {
                let (p, l) = put(rest.as_bytes(), &mut data);
                format!("(call $mkdir (i32.const 3) (i32.const {p}) (i32.const {l}))")
            }
            "unlink" => {
                let (p, l) = put(rest.as_bytes(), &mut data);
                format!("(call $unlink (i32.const 3) (i32.const {p}) (i32.const {l}))")
            }
            "rename" => {
                let (from, to) = rest.split_once(' ').unwrap_or((rest, ""));
                let (p, l) = put(from.as_bytes(), &mut data);
                let (q, k) = put(to.as_bytes(), &mut data);
                format!(
                    "(call $rename (i32.const 3) (i32.const {p}) (i32.const {l}) (i32.const 3) (i32.const {q}) (i32.const {k}))"
                )
            }
            "symlink" => {
                let (target, name) = rest.split_once(' ').unwrap_or((rest, ""));
                let (p, l) = put(target.as_bytes(), &mut data);
                let (q, k) = put(name.as_bytes(), &mut data);
                format!(
                    "(call $symlink (i32.const {p}) (i32.const {l}) (i32.const 3) (i32.const {q}) (i32.const {k}))"
                )
            }
            other => panic!("unknown probe {other}"),
        };
        let _ = writeln!(
            code,
            "    (call $say (i32.const {}) (i32.const {}) {call})",
            label.0, label.1
        );
    }
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory 1)
{data}
  ;; Prints the label, the errno in decimal and a newline.
  (func $say (param $label i32) (param $len i32) (param $errno i32) (local $p i32)
    (i32.store (i32.const 0) (local.get $label))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (local.set $p (i32.const 100))
    (i32.store8 (local.get $p) (i32.const 10))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $errno) (i32.const 10))))
      (local.set $errno (i32.div_u (local.get $errno) (i32.const 10)))
      (br_if $digits (local.get $errno)))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 101) (local.get $p)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
{code}  ))"#
    )
}

#[test]
fn wasi_paths_cannot_leave_their_preopen_on_any_board() {
    let dir = scratch("sandbox-wasi");
    let outside = write(&dir, "outside.txt", "outside");
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("sub")).expect("creating the preopen");
    write(&root, "inside.txt", "inside");
    std::os::unix::fs::symlink("../outside.txt", root.join("link-out")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("link-abs")).unwrap();
    std::os::unix::fs::symlink("../..", root.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
    let program = write(&dir, "probe.wat", probe_program());
    let spec = format!("{}::/", root.display());
    for board in boards() {
        // Each board gets the folder as it was (a host board works in it).
        let _ = std::fs::remove_file(root.join("planted"));
        let _ = std::fs::remove_file(root.join("stolen.txt"));
        let out = output(
            kiln()
                .args(["run", "--board", board, "--timeout", "120", "--dir", &spec])
                .arg(&program)
                .stdin(Stdio::null()),
        );
        assert_eq!(out.status.code(), Some(0), "{board}: {}", stderr(&out));
        let text = stdout(&out);
        for (name, op, allowed) in PROBES {
            let errno: u32 = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|e| e.trim().parse().ok())
                .unwrap_or_else(|| panic!("{board}: no result for {name}:\n{text}"));
            if let Some(allowed) = allowed {
                assert_eq!(
                    errno == 0,
                    *allowed,
                    "{board}: {name} ({op:?}) gave errno {errno}\n{text}"
                );
            }
        }
        assert_eq!(std::fs::read(&outside).unwrap(), b"outside", "{board}");
        assert!(!dir.join("made-by-guest").exists(), "{board}");
        assert!(!dir.join("moved-by-guest").exists(), "{board}");
    }
}
