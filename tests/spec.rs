//! The WebAssembly 2.0 spec suite (SIMD included) through `kiln wast`: every
//! script on the host board as its own test, and the whole list once per
//! QEMU board (one firmware boot per script); then the whole list again
//! through the fast tier (`--opt-level none`) on every board. Each must
//! pass every assertion.

use kiln_tests::{QEMU_BOARDS, corpus, kiln, output, stdout};
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    corpus().join("spec/wasm-2.0")
}

/// Runs `kiln wast` and checks the summary line reports no failure.
fn run_wast(board: &str, files: &[PathBuf]) -> (u64, String) {
    run_wast_with(board, &[], files)
}

fn run_wast_with(board: &str, options: &[&str], files: &[PathBuf]) -> (u64, String) {
    let out = output(
        kiln()
            .arg("wast")
            .arg("--board")
            .arg(board)
            .args(options)
            .args(files),
    );
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
        /// Every script of the list (148 files, 52,230 assertions; the 58
        /// `simd_*` files hold 25,514 of them).
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
    simd_address => "simd_address.wast",
    simd_align => "simd_align.wast",
    simd_bit_shift => "simd_bit_shift.wast",
    simd_bitwise => "simd_bitwise.wast",
    simd_boolean => "simd_boolean.wast",
    simd_const => "simd_const.wast",
    simd_conversions => "simd_conversions.wast",
    simd_f32x4 => "simd_f32x4.wast",
    simd_f32x4_arith => "simd_f32x4_arith.wast",
    simd_f32x4_cmp => "simd_f32x4_cmp.wast",
    simd_f32x4_pmin_pmax => "simd_f32x4_pmin_pmax.wast",
    simd_f32x4_rounding => "simd_f32x4_rounding.wast",
    simd_f64x2 => "simd_f64x2.wast",
    simd_f64x2_arith => "simd_f64x2_arith.wast",
    simd_f64x2_cmp => "simd_f64x2_cmp.wast",
    simd_f64x2_pmin_pmax => "simd_f64x2_pmin_pmax.wast",
    simd_f64x2_rounding => "simd_f64x2_rounding.wast",
    simd_i16x8_arith => "simd_i16x8_arith.wast",
    simd_i16x8_arith2 => "simd_i16x8_arith2.wast",
    simd_i16x8_cmp => "simd_i16x8_cmp.wast",
    simd_i16x8_extadd_pairwise_i8x16 => "simd_i16x8_extadd_pairwise_i8x16.wast",
    simd_i16x8_extmul_i8x16 => "simd_i16x8_extmul_i8x16.wast",
    simd_i16x8_q15mulr_sat_s => "simd_i16x8_q15mulr_sat_s.wast",
    simd_i16x8_sat_arith => "simd_i16x8_sat_arith.wast",
    simd_i32x4_arith => "simd_i32x4_arith.wast",
    simd_i32x4_arith2 => "simd_i32x4_arith2.wast",
    simd_i32x4_cmp => "simd_i32x4_cmp.wast",
    simd_i32x4_dot_i16x8 => "simd_i32x4_dot_i16x8.wast",
    simd_i32x4_extadd_pairwise_i16x8 => "simd_i32x4_extadd_pairwise_i16x8.wast",
    simd_i32x4_extmul_i16x8 => "simd_i32x4_extmul_i16x8.wast",
    simd_i32x4_trunc_sat_f32x4 => "simd_i32x4_trunc_sat_f32x4.wast",
    simd_i32x4_trunc_sat_f64x2 => "simd_i32x4_trunc_sat_f64x2.wast",
    simd_i64x2_arith => "simd_i64x2_arith.wast",
    simd_i64x2_arith2 => "simd_i64x2_arith2.wast",
    simd_i64x2_cmp => "simd_i64x2_cmp.wast",
    simd_i64x2_extmul_i32x4 => "simd_i64x2_extmul_i32x4.wast",
    simd_i8x16_arith => "simd_i8x16_arith.wast",
    simd_i8x16_arith2 => "simd_i8x16_arith2.wast",
    simd_i8x16_cmp => "simd_i8x16_cmp.wast",
    simd_i8x16_sat_arith => "simd_i8x16_sat_arith.wast",
    simd_int_to_int_extend => "simd_int_to_int_extend.wast",
    simd_lane => "simd_lane.wast",
    simd_linking => "simd_linking.wast",
    simd_load => "simd_load.wast",
    simd_load16_lane => "simd_load16_lane.wast",
    simd_load32_lane => "simd_load32_lane.wast",
    simd_load64_lane => "simd_load64_lane.wast",
    simd_load8_lane => "simd_load8_lane.wast",
    simd_load_extend => "simd_load_extend.wast",
    simd_load_splat => "simd_load_splat.wast",
    simd_load_zero => "simd_load_zero.wast",
    simd_select => "simd_select.wast",
    simd_splat => "simd_splat.wast",
    simd_store => "simd_store.wast",
    simd_store16_lane => "simd_store16_lane.wast",
    simd_store32_lane => "simd_store32_lane.wast",
    simd_store64_lane => "simd_store64_lane.wast",
    simd_store8_lane => "simd_store8_lane.wast",
}

fn all_files() -> Vec<PathBuf> {
    FILES.iter().map(|f| spec_dir().join(f)).collect()
}

#[test]
fn list_has_every_script() {
    let mut on_disk: Vec<String> = std::fs::read_dir(spec_dir())
        .expect("spec folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".wast"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

fn board_suite(board: &str) {
    let (passed, _) = run_wast(board, &all_files());
    assert_eq!(passed, 52_230, "every assertion of the list on {board}");
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

#[test]
fn whole_suite_through_the_fast_tier_on_every_board() {
    for board in std::iter::once("host").chain(QEMU_BOARDS.iter().copied()) {
        let (passed, _) = run_wast_with(board, &["--opt-level", "none"], &all_files());
        assert_eq!(
            passed, 52_230,
            "every assertion through the fast tier on {board}"
        );
    }
    // The baseline compiler's explicit bounds checks where the boards map
    // guard regions (code compiled with checks runs there too).
    let options = ["--opt-level", "none", "--bounds-checks", "explicit"];
    for board in ["host", QEMU_BOARDS[0], QEMU_BOARDS[1]] {
        let (passed, _) = run_wast_with(board, &options, &all_files());
        assert_eq!(
            passed, 52_230,
            "every assertion with explicit checks on {board}"
        );
    }
}
