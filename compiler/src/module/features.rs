//! The WebAssembly feature set Kiln compiles, and the message for a module
//! that needs more: which proposal, and where it is first used.

use rayon::prelude::*;
use wasmparser::{
    BinaryReaderError, FuncValidatorAllocations, Parser, Payload, ValidPayload, Validator,
    WasmFeatures,
};

/// WebAssembly 2.0: MVP, mutable globals, sign extension, non-trapping
/// float-to-int, multi-value, bulk memory, reference types, 128-bit SIMD.
pub fn supported() -> WasmFeatures {
    WasmFeatures::WASM2
}

/// Proposals Kiln does not support, with the names users know them by.
const PROPOSALS: &[(WasmFeatures, &str)] = &[
    (WasmFeatures::RELAXED_SIMD, "relaxed SIMD"),
    (WasmFeatures::THREADS, "threads (shared memory and atomics)"),
    (
        WasmFeatures::SHARED_EVERYTHING_THREADS,
        "shared-everything threads",
    ),
    (WasmFeatures::TAIL_CALL, "tail calls"),
    (WasmFeatures::MULTI_MEMORY, "multiple memories"),
    (WasmFeatures::EXCEPTIONS, "exception handling"),
    (WasmFeatures::LEGACY_EXCEPTIONS, "legacy exception handling"),
    (WasmFeatures::MEMORY64, "64-bit memories (memory64)"),
    (
        WasmFeatures::EXTENDED_CONST,
        "extended constant expressions",
    ),
    (
        WasmFeatures::FUNCTION_REFERENCES,
        "typed function references",
    ),
    (WasmFeatures::GC, "garbage collection (GC)"),
    (WasmFeatures::CUSTOM_PAGE_SIZES, "custom page sizes"),
    (WasmFeatures::WIDE_ARITHMETIC, "wide arithmetic"),
    (WasmFeatures::STACK_SWITCHING, "stack switching"),
    (WasmFeatures::MEMORY_CONTROL, "memory control"),
    (WasmFeatures::CUSTOM_DESCRIPTORS, "custom descriptors"),
    (
        WasmFeatures::COMPONENT_MODEL,
        "component model (this is a component, not a core module)",
    ),
];

/// How validation with Kiln's features failed.
pub enum Rejection {
    /// The module is malformed or invalid under any feature set.
    Invalid(wasmparser::BinaryReaderError),
    /// The module needs a proposal Kiln does not support.
    Unsupported {
        proposal: &'static str,
        offset: u64,
        /// Index of the function whose body uses it, if it is in code.
        func: Option<u32>,
    },
}

/// Validates `wasm` with Kiln's feature set.
pub fn validate(wasm: &[u8]) -> Result<(), Rejection> {
    let Err(error) = validate_with(wasm, supported()) else {
        return Ok(());
    };
    let offset = error.offset();
    // Find the first proposal that lets validation get past this point.
    for &(feature, proposal) in PROPOSALS {
        let features = supported().union(feature);
        let gets_further = match validate_with(wasm, features) {
            Ok(_) => true,
            Err(e) => e.offset() > offset,
        };
        if gets_further {
            return Err(Rejection::Unsupported {
                proposal,
                offset,
                func: function_at(wasm, offset),
            });
        }
    }
    Err(Rejection::Invalid(error))
}

/// What `Validator::validate_all` does, with the function bodies validated
/// in parallel (a fifth of the serial time of a CPython compile was here).
/// Same error: a section's first, else the first invalid body's.
fn validate_with(wasm: &[u8], features: WasmFeatures) -> Result<(), BinaryReaderError> {
    let mut validator = Validator::new_with_features(features);
    let mut bodies = Vec::new();
    // The parser must know the features too: with all of them it reads,
    // for one, a memory's limits as memory64's 64-bit LEB128s.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(wasm) {
        if let ValidPayload::Func(to_validate, body) = validator.payload(&payload?)? {
            bodies.push((to_validate, body));
        }
    }
    let first_error = bodies
        .into_par_iter()
        .map_init(
            FuncValidatorAllocations::default,
            |allocs, (to_validate, body)| {
                let mut func = to_validate.into_validator(std::mem::take(allocs));
                let result = func.validate(&body);
                *allocs = func.into_allocations();
                result.err()
            },
        )
        .find_first(Option::is_some)
        .flatten();
    first_error.map_or(Ok(()), Err)
}

/// The index (in the function index space) of the body containing `offset`.
fn function_at(wasm: &[u8], offset: u64) -> Option<u32> {
    let mut imported = 0u32;
    let mut body = 0u32;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    if let wasmparser::TypeRef::Func(_) | wasmparser::TypeRef::FuncExact(_) =
                        import.ok()?.ty
                    {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(b) => {
                if b.range().contains(&offset) {
                    return Some(imported + body);
                }
                body += 1;
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    #[test]
    fn wasm2_module_is_accepted() {
        let m = wat(
            r#"(module (func (param i32) (result i64) local.get 0 i64.extend_i32_s)
                        (table 1 funcref) (func (drop (ref.null extern))))"#,
        );
        assert!(validate(&m).is_ok());
    }

    #[test]
    fn simd_is_accepted() {
        let m = wat(
            r#"(module (func (result v128) (i32x4.add (v128.const i64x2 1 2) (v128.const i32x4 1 2 3 4))))"#,
        );
        assert!(validate(&m).is_ok());
    }

    #[test]
    fn relaxed_simd_is_named_with_its_function() {
        let m = wat(r#"(module (func) (func (param v128) (result v128)
                (f32x4.relaxed_madd (local.get 0) (local.get 0) (local.get 0))))"#);
        match validate(&m) {
            Err(Rejection::Unsupported { proposal, func, .. }) => {
                assert_eq!(proposal, "relaxed SIMD");
                assert_eq!(func, Some(1));
            }
            _ => panic!("relaxed SIMD not refused"),
        }
    }

    #[test]
    fn tail_calls_are_named() {
        let m = wat(r#"(module (func $f (return_call $f)))"#);
        assert!(matches!(
            validate(&m),
            Err(Rejection::Unsupported {
                proposal: "tail calls",
                ..
            })
        ));
    }

    /// The parallel validation reports what the serial one does: a
    /// section's error before any body's, else the first invalid body's.
    #[test]
    fn parallel_validation_reports_the_serial_error() {
        let two_bad_bodies = wat(r#"(module (func) (func (result i32) i64.const 0)
                (func (result i64) i32.const 0))"#);
        // A valid body, then a data segment for a memory that is not there.
        let bad_data = wat(r#"(module (func) (data (i32.const 0) "x"))"#);
        // An invalid body, then the same bad data segment.
        let both = wat(r#"(module (func (result i32) i64.const 0) (data (i32.const 0) "x"))"#);
        // A memory minimum with one LEB128 byte too many (too long for a
        // 32-bit memory, fine for memory64's reader).
        let overlong = b"\0asm\x01\0\0\0\x05\x08\x01\x00\x82\x80\x80\x80\x80\x00".to_vec();
        let mut truncated = two_bad_bodies.clone();
        truncated.truncate(truncated.len() - 3);
        for (name, m) in [
            ("two bad bodies", &two_bad_bodies),
            ("bad data", &bad_data),
            ("bad body and data", &both),
            ("truncated", &truncated),
            ("overlong LEB128", &overlong),
        ] {
            let Err(serial) = Validator::new_with_features(supported()).validate_all(m) else {
                panic!("{name}: valid");
            };
            let parallel = validate_with(m, supported()).expect_err(name);
            assert_eq!(
                (parallel.offset(), parallel.message()),
                (serial.offset(), serial.message()),
                "{name}"
            );
        }
    }

    #[test]
    fn invalid_module_is_invalid() {
        let m = wat(r#"(module (func (result i32) i64.const 0))"#);
        assert!(matches!(validate(&m), Err(Rejection::Invalid(_))));
    }
}
