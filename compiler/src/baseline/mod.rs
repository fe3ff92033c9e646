//! The baseline compiler: the fast tier's own code generator, one pass from
//! Wasm operators straight to machine code, in the style of V8's Liftoff
//! and Wasmtime's Winch. It compiles a function in a small fraction of
//! Cranelift's time (no IR, no register allocation beyond a cache of the
//! operand stack), for code that runs a few times slower: right for the
//! functions a profile never saw run (`--profile`) and for `--opt-level
//! none`. It follows the same ABI as Cranelift's code (calling convention,
//! vmctx layout, trap table), so the two tiers call each other freely.
//!
//! It covers x86_64 with guard regions, and most of Wasm 2.0 without SIMD;
//! for anything else (another architecture, explicit bounds checks, a
//! `v128`, multi-value signatures, float-to-int truncation ...) it declines
//! and the function goes to Cranelift's fast settings instead.

mod aarch64;
mod x64;

use anyhow::Result;
use wasmparser::FunctionBody;

use crate::target::{BoundsChecks, Target};
use crate::translate::ModuleEnv;

/// A function's machine code from the baseline compiler.
pub(crate) struct MachineCode {
    pub bytes: Vec<u8>,
    /// Direct calls: (offset of the 32-bit PC-relative field, callee index).
    pub calls: Vec<(u32, u32)>,
    /// Trap sites, sorted: (offset, trap kind).
    pub traps: Vec<(u32, u8)>,
}

/// Whether the baseline compiler can compile for `target` at all.
pub(crate) fn supports(target: &Target) -> bool {
    target.isa.triple().architecture == target_lexicon::Architecture::X86_64
        && target.bounds_checks == BoundsChecks::Guard
}

/// Compiles defined function `index`; `Ok(Err(reason))` when the function
/// uses something the baseline compiler leaves to Cranelift.
pub(crate) fn compile(
    env: &ModuleEnv<'_>,
    index: u32,
    body: &FunctionBody<'_>,
) -> Result<Result<MachineCode, &'static str>> {
    x64::compile(env, index, body)
}
