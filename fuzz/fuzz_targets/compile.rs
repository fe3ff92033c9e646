//! The compiler alone, on hostile input: it must never panic or hang, and
//! it must accept exactly the modules that validate with Kiln's feature set.
//!
//! The first byte picks the target triple and the input kind:
//! - raw bytes (most inputs: truncated, malformed, huge declared sizes);
//! - a wasm-smith module with Kiln's features: must compile, with
//!   Cranelift's IR verifier on;
//! - a wasm-smith module with every proposal wasm-smith knows: must compile
//!   or be refused with one clean line, as validation decides.
//!
//! `KILN_FUZZ_OPT_LEVEL=none` compiles with the fast tier (the baseline
//! compiler, on every target).
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use kiln_compiler::{CodegenOptions, CompileOptions};
use libfuzzer_sys::fuzz_target;
use wasmparser::Validator;

const TARGETS: [&str; 3] = [
    "x86_64-unknown-none",
    "aarch64-unknown-none",
    "riscv64gc-unknown-none-elf",
];

/// `KILN_FUZZ_OPT_LEVEL` (see `kiln_fuzz::harness::opt_level`), read once.
fn opt_level() -> &'static str {
    static LEVEL: OnceLock<String> = OnceLock::new();
    LEVEL.get_or_init(|| match kiln_fuzz::harness::opt_level() {
        Ok(level) => level,
        Err(e) => panic!("{e:#}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let target = TARGETS[(selector >> 4) as usize % TARGETS.len()];
    let mut u = Unstructured::new(rest);
    let (wasm, verify) = match selector % 8 {
        // Kiln's feature set: valid modules that must compile.
        6 => {
            let Ok(config) = kiln_fuzz::generate::kiln_config(&mut u) else {
                return;
            };
            let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
                return;
            };
            (module.to_bytes(), true)
        }
        // Anything wasm-smith makes: some of it is refused.
        7 => {
            let Ok(config) = wasm_smith::Config::arbitrary(&mut u) else {
                return;
            };
            let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
                return;
            };
            (module.to_bytes(), false)
        }
        _ => (rest.to_vec(), false),
    };
    // `KILN_FUZZ_OPT_LEVEL=none`: the fast tier (the baseline compiler).
    let options = CompileOptions {
        codegen: CodegenOptions {
            verify,
            opt_level: opt_level().to_string(),
            ..CodegenOptions::default()
        },
        ..CompileOptions::new(target)
    };
    let valid = Validator::new_with_features(kiln_compiler::module::features::supported())
        .validate_all(&wasm)
        .is_ok();
    match kiln_compiler::compile(&wasm, &options, &|_, _| {}) {
        Ok(_) => assert!(valid, "{target}: compiled a module that does not validate"),
        Err(e) => {
            let message = format!("{e:#}");
            assert!(!valid, "{target}: refused a valid module: {message}");
            assert!(
                !message.is_empty() && !message.contains('\n'),
                "{target}: the error is not one line: {message:?}"
            );
        }
    }
});
