//! Generating modules: wasm-smith configured to what Kiln compiles, with
//! limits that keep both engines deterministic and small, then rewritten so
//! that every NaN is canonical and the final contents of memory can be
//! compared (see [`instrument`]).

use arbitrary::{Result, Unstructured};
use wasm_smith::{Config, Module};

/// Largest memory a generated module may declare (and grow to): 16 pages.
/// Every memory declares a maximum, so `memory.grow` fails the same way in
/// both engines (by the limit, never by running out of host memory).
pub const MAX_MEMORY_BYTES: u64 = 16 * 65536;

/// Fuel that `ensure_termination` gives a module: loop iterations and calls
/// in total, over every export call; exhausted fuel traps (`unreachable`).
pub const FUEL: u32 = 20_000;

/// Whether generated modules may use 128-bit SIMD: yes unless
/// `KILN_FUZZ_SIMD=0` (the baseline compiler leaves every function that
/// touches a `v128` to Cranelift, so a campaign against it turns SIMD off to
/// give it more of the functions).
pub fn simd_enabled() -> bool {
    static SIMD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SIMD.get_or_init(|| std::env::var("KILN_FUZZ_SIMD").map_or(true, |v| v.trim() != "0"))
}

/// A wasm-smith configuration limited to Kiln's feature set: MVP, mutable
/// globals, sign extension, non-trapping float-to-int, multi-value, bulk
/// memory, reference types and 128-bit SIMD (not relaxed SIMD; SIMD only
/// if [`simd_enabled`]). Sizes come from `u`.
pub fn kiln_config(u: &mut Unstructured<'_>) -> Result<Config> {
    let mut c = Config {
        // Wasm 2.0, with 128-bit SIMD; relaxed SIMD is not Kiln's (and its
        // results are implementation-defined).
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        simd_enabled: simd_enabled(),
        relaxed_simd_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        extended_const_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        compact_imports_enabled: false,
        shared_everything_threads_enabled: false,
        custom_descriptors_enabled: false,
        max_memories: 1,
        ..Config::default()
    };
    c.max_types = u.int_in_range(1..=30)?;
    c.max_funcs = u.int_in_range(1..=30)?;
    c.max_globals = u.int_in_range(0..=20)?;
    c.max_tables = u.int_in_range(0..=3)?;
    c.max_table_elements = u.int_in_range(0..=200)?;
    c.max_elements = u.int_in_range(0..=50)?;
    c.max_element_segments = u.int_in_range(0..=10)?;
    c.max_data_segments = u.int_in_range(0..=10)?;
    c.max_instructions = u.int_in_range(1..=400)?;
    c.max_nesting_depth = u.int_in_range(1..=12)?;
    c.max_memory32_bytes = MAX_MEMORY_BYTES;
    c.min_uleb_size = u.int_in_range(1..=5)?;
    c.allow_floats = u.ratio(7, 8)?;
    c.disallow_traps = u.ratio(1, 4)?;
    Ok(c)
}

/// A configuration for the differential target: Kiln's features, no
/// imports (the firmware links none), every item exported (so results,
/// globals and memory are observable), maxima declared, NaNs canonical.
pub fn differential_config(u: &mut Unstructured<'_>) -> Result<Config> {
    let mut c = kiln_config(u)?;
    c.max_imports = 0;
    c.export_everything = true;
    c.canonicalize_nans = true;
    c.memory_max_size_required = true;
    c.table_max_size_required = true;
    Ok(c)
}

/// A module for the differential target, terminating (fuel), with every
/// NaN canonical and with the memory-hash export; `None` if wasm-smith
/// could not make one from `u`.
pub fn differential_module(u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let config = differential_config(u).ok()?;
    let mut module = Module::new(config, u).ok()?;
    module.ensure_termination(FUEL).ok()?;
    instrument(&module.to_bytes())
}

/// Rewrites a generated module so that both engines must agree on it:
///
/// - `f64.promote_f32` and `f32.demote_f64` of a NaN may give any NaN
///   (riscv64 gives the canonical one, x86 and aarch64 keep the payload),
///   and wasm-smith's `canonicalize_nans` leaves them alone (it follows
///   Cranelift's list of arithmetic operations), so each is followed by a
///   call to an appended function that makes a NaN canonical; the same for
///   their SIMD forms `f64x2.promote_low_f32x4` and `f32x4.demote_f64x2_zero`
///   (every NaN lane becomes the canonical NaN; wasm-smith canonicalises
///   the other SIMD float arithmetic itself, lane by lane);
/// - an exported function that hashes memory 0 (FNV-1a over 8-byte words,
///   then the length) is appended, if the module has a memory.
///
/// Functions and types are appended after the existing ones, so no index
/// moves.
pub fn instrument(wasm: &[u8]) -> Option<Vec<u8>> {
    /// Conversions whose NaN results are not canonical, as wasmprinter
    /// writes them, and the appended function that canonicalises each.
    const CONVERSIONS: [(&str, &str); 4] = [
        ("f64.promote_f32", "kiln_fuzz_canonical_f64"),
        ("f32.demote_f64", "kiln_fuzz_canonical_f32"),
        ("f64x2.promote_low_f32x4", "kiln_fuzz_canonical_f64x2"),
        ("f32x4.demote_f64x2_zero", "kiln_fuzz_canonical_f32x4"),
    ];
    let has_memory = wasmparser::Parser::new(0).parse_all(wasm).any(|p| {
        matches!(
            p,
            Ok(wasmparser::Payload::MemorySection(s)) if s.count() > 0
        )
    });
    let text = wasmprinter::print_bytes(wasm).ok()?;
    let conversions = CONVERSIONS.iter().any(|(op, _)| text.contains(op));
    if !has_memory && !conversions {
        return Some(wasm.to_vec());
    }
    let mut body = String::with_capacity(text.len() + 1024);
    for line in text.trim_end().strip_suffix(')')?.lines() {
        body.push_str(line);
        body.push('\n');
        let indent = &line[..line.len() - line.trim_start().len()];
        if let Some((_, canonical)) = CONVERSIONS.iter().find(|(op, _)| line.trim() == *op) {
            body.push_str(indent);
            body.push_str("call $");
            body.push_str(canonical);
            body.push('\n');
        }
    }
    if conversions {
        body.push_str(
            r#"
  (func $kiln_fuzz_canonical_f64 (param f64) (result f64)
    (select (f64.const nan) (local.get 0) (f64.ne (local.get 0) (local.get 0))))
  (func $kiln_fuzz_canonical_f32 (param f32) (result f32)
    (select (f32.const nan) (local.get 0) (f32.ne (local.get 0) (local.get 0))))
  (func $kiln_fuzz_canonical_f64x2 (param v128) (result v128)
    (v128.bitselect (local.get 0) (v128.const f64x2 nan nan)
                    (f64x2.eq (local.get 0) (local.get 0))))
  (func $kiln_fuzz_canonical_f32x4 (param v128) (result v128)
    (v128.bitselect (local.get 0) (v128.const f32x4 nan nan nan nan)
                    (f32x4.eq (local.get 0) (local.get 0))))
"#,
        );
    }
    if has_memory {
        body.push_str(&format!(
            r#"
  (func (export "{MEMORY_HASH}") (result i64) (local $i i32) (local $n i32) (local $h i64)
    (local.set $n (i32.shl (memory.size) (i32.const 16)))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load (local.get $i)))
                               (i64.const 0x100000001b3)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $next)))
    (i64.xor (local.get $h) (i64.extend_i32_u (local.get $n))))
"#,
            MEMORY_HASH = crate::MEMORY_HASH_EXPORT
        ));
    }
    body.push(')');
    wat::parse_str(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_canonicalised_and_memory_hashed() {
        let wasm = wat::parse_str(
            r#"(module (memory 1)
                 (func (export "p") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
                 (func (export "d") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
                 (func (export "p2") (param v128) (result v128) (f64x2.promote_low_f32x4 (local.get 0)))
                 (func (export "d2") (param v128) (result v128) (f32x4.demote_f64x2_zero (local.get 0))))"#,
        )
        .unwrap();
        let out = wasmprinter::print_bytes(instrument(&wasm).unwrap()).unwrap();
        assert!(out.contains("call $kiln_fuzz_canonical_f64"), "{out}");
        assert!(out.contains("call $kiln_fuzz_canonical_f32"), "{out}");
        assert!(out.contains("call $kiln_fuzz_canonical_f64x2"), "{out}");
        assert!(out.contains("call $kiln_fuzz_canonical_f32x4"), "{out}");
        assert!(out.contains(crate::MEMORY_HASH_EXPORT), "{out}");
        let plain = wat::parse_str("(module (func))").unwrap();
        assert_eq!(instrument(&plain).unwrap(), plain);
    }
}
