//! The WebAssembly 2.0 spec suite (without SIMD) through `kiln wast`: every
//! script on the host board as its own test, and the whole list once per
//! QEMU board (one firmware boot per script). Each must pass every assertion.

use kiln_tests::{QEMU_BOARDS, corpus, kiln, output, stdout};
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    corpus().join("spec/wasm-2.0")
}

/// Runs `kiln wast` and checks the summary line reports no failure.
fn run_wast(board: &str, files: &[PathBuf]) -> (u64, String) {
    let out = output(kiln().arg("wast").arg("--board").arg(board).args(files));
    let text = stdout(&out);
    let summary = text.lines().last().unwrap_or("").to_string();
    let (passed, failed) = summary
        .split_once(" passed, ")
        .and_then(|(p, f)| {
            Some((
                p.parse::<u64>().ok()?,
                f.trim_end_matches(" failed").parse::<u64>().ok()?,
            ))
        })
        .unwrap_or_else(|| {
            panic!(
                "no summary from kiln wast on {board}:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert_eq!(failed, 0, "spec failures on {board}:\n{text}");
    assert!(
        out.status.success(),
        "kiln wast exited with {} on {board}:\n{text}",
        out.status
    );
    (passed, text)
}

macro_rules! spec_tests {
    ($($name:ident => $file:literal,)*) => {
        /// Every script of the list (90 files, 26,716 assertions).
        const FILES: &[&str] = &[$($file),*];

        $(
            #[test]
            fn $name() {
                run_wast("host", &[spec_dir().join($file)]);
            }
        )*
    };
}

spec_tests! {
    address => "address.wast",
    align => "align.wast",
    binary_leb128 => "binary-leb128.wast",
    binary => "binary.wast",
    block => "block.wast",
    br => "br.wast",
    br_if => "br_if.wast",
    br_table => "br_table.wast",
    bulk => "bulk.wast",
    call => "call.wast",
    call_indirect => "call_indirect.wast",
    comments => "comments.wast",
    r#const => "const.wast",
    conversions => "conversions.wast",
    custom => "custom.wast",
    data => "data.wast",
    elem => "elem.wast",
    endianness => "endianness.wast",
    exports => "exports.wast",
    f32 => "f32.wast",
    f32_bitwise => "f32_bitwise.wast",
    f32_cmp => "f32_cmp.wast",
    f64 => "f64.wast",
    f64_bitwise => "f64_bitwise.wast",
    f64_cmp => "f64_cmp.wast",
    fac => "fac.wast",
    float_exprs => "float_exprs.wast",
    float_literals => "float_literals.wast",
    float_memory => "float_memory.wast",
    float_misc => "float_misc.wast",
    forward => "forward.wast",
    func => "func.wast",
    func_ptrs => "func_ptrs.wast",
    global => "global.wast",
    i32 => "i32.wast",
    i64 => "i64.wast",
    r#if => "if.wast",
    imports => "imports.wast",
    inline_module => "inline-module.wast",
    int_exprs => "int_exprs.wast",
    int_literals => "int_literals.wast",
    labels => "labels.wast",
    left_to_right => "left-to-right.wast",
    linking => "linking.wast",
    load => "load.wast",
    local_get => "local_get.wast",
    local_set => "local_set.wast",
    local_tee => "local_tee.wast",
    r#loop => "loop.wast",
    memory => "memory.wast",
    memory_copy => "memory_copy.wast",
    memory_fill => "memory_fill.wast",
    memory_grow => "memory_grow.wast",
    memory_init => "memory_init.wast",
    memory_redundancy => "memory_redundancy.wast",
    memory_size => "memory_size.wast",
    memory_trap => "memory_trap.wast",
    names => "names.wast",
    nop => "nop.wast",
    obsolete_keywords => "obsolete-keywords.wast",
    ref_func => "ref_func.wast",
    ref_is_null => "ref_is_null.wast",
    ref_null => "ref_null.wast",
    r#return => "return.wast",
    select => "select.wast",
    skip_stack_guard_page => "skip-stack-guard-page.wast",
    stack => "stack.wast",
    start => "start.wast",
    store => "store.wast",
    switch => "switch.wast",
    table_sub => "table-sub.wast",
    table => "table.wast",
    table_copy => "table_copy.wast",
    table_fill => "table_fill.wast",
    table_get => "table_get.wast",
    table_grow => "table_grow.wast",
    table_init => "table_init.wast",
    table_set => "table_set.wast",
    table_size => "table_size.wast",
    token => "token.wast",
    traps => "traps.wast",
    r#type => "type.wast",
    unreachable => "unreachable.wast",
    unreached_invalid => "unreached-invalid.wast",
    unreached_valid => "unreached-valid.wast",
    unwind => "unwind.wast",
    utf8_custom_section_id => "utf8-custom-section-id.wast",
    utf8_import_field => "utf8-import-field.wast",
    utf8_import_module => "utf8-import-module.wast",
    utf8_invalid_encoding => "utf8-invalid-encoding.wast",
}

fn all_files() -> Vec<PathBuf> {
    FILES.iter().map(|f| spec_dir().join(f)).collect()
}

#[test]
fn list_has_every_non_simd_script() {
    let mut on_disk: Vec<String> = std::fs::read_dir(spec_dir())
        .expect("spec folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".wast") && !n.starts_with("simd_"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

fn board_suite(board: &str) {
    let (passed, _) = run_wast(board, &all_files());
    assert_eq!(passed, 26_716, "every assertion of the list on {board}");
}

#[test]
fn whole_suite_on_qemu_virt_aarch64() {
    board_suite(QEMU_BOARDS[0]);
}

#[test]
fn whole_suite_on_qemu_virt_riscv64() {
    board_suite(QEMU_BOARDS[1]);
}

#[test]
fn whole_suite_on_qemu_x86_64() {
    board_suite(QEMU_BOARDS[2]);
}
