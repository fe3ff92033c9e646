//! Shared code of Kiln's fuzz targets (see `fuzz/README.md`):
//!
//! - [`generate`]: wasm-smith configurations for Kiln's feature set (Wasm 2.0
//!   with 128-bit SIMD) and the instrumentation that makes a generated
//!   module deterministic (canonical NaNs after scalar and SIMD float
//!   conversions) and its final state observable (a memory-hash export).
//! - [`oracle`]: runs a module in the reference interpreter (wasmi) and
//!   records what every export returns or how it traps.
//! - [`script`]: writes those expectations as a spec-test script (`.wast`),
//!   the form `kiln wast` and the regression corpus use.
//! - [`harness`]: runs such a script through Kiln's real pipeline (compile,
//!   link a firmware for a board, run it) and judges the outcome.

pub mod generate;
pub mod harness;
pub mod oracle;
pub mod script;

/// Name of the export the instrumentation adds: an FNV-1a hash of memory 0.
pub const MEMORY_HASH_EXPORT: &str = "kiln-fuzz:memory-hash";
