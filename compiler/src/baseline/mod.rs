//! The baseline compiler: the fast tier's own code generator, one pass from
//! Wasm operators straight to machine code, in the style of V8's Liftoff
//! and Wasmtime's Winch. It compiles a function in a small fraction of
//! Cranelift's time (no IR, no register allocation beyond a cache of the
//! operand stack), for code that runs a few times slower: right for the
//! functions a profile never saw run (`--profile`) and for `--opt-level
//! none`. It follows the same ABI as Cranelift's code (calling convention,
//! vmctx layout, trap table), so the two tiers call each other freely.
//!
//! The compiler (`compiler/`) is written once; each architecture has an
//! assembler and a macro-assembler (`masm.rs` is the interface). It covers
//! Wasm 2.0 without SIMD; for a `v128` or a signature with several results
//! it declines and the function goes to Cranelift's fast settings instead.

mod aarch64;
mod compiler;
mod masm;
mod riscv64;
mod x64;

use anyhow::Result;
use cranelift_codegen::binemit::Reloc;
use wasmparser::FunctionBody;

use crate::target::Target;
use crate::translate::ModuleEnv;

/// A function's machine code from the baseline compiler.
pub(crate) struct MachineCode {
    pub bytes: Vec<u8>,
    /// Direct calls: (offset of the relocated field, callee index).
    pub calls: Vec<(u32, u32)>,
    /// The relocation of those calls, and its addend.
    pub call_reloc: Reloc,
    pub call_addend: i64,
    /// Trap sites, sorted: (offset, trap kind).
    pub traps: Vec<(u32, u8)>,
}

/// The architectures the baseline compiler generates code for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Backend {
    X64,
    Aarch64,
    Riscv64,
}

/// The baseline compiler's backend for `target`, if it has one.
pub(crate) fn backend(target: &Target) -> Option<Backend> {
    match target.isa.triple().architecture {
        target_lexicon::Architecture::X86_64 => Some(Backend::X64),
        target_lexicon::Architecture::Aarch64(_) => Some(Backend::Aarch64),
        target_lexicon::Architecture::Riscv64(_) => Some(Backend::Riscv64),
        _ => None,
    }
}

/// Compiles defined function `index`; `Ok(Err(reason))` when the function
/// uses something the baseline compiler leaves to Cranelift.
pub(crate) fn compile(
    backend: Backend,
    env: &ModuleEnv<'_>,
    index: u32,
    body: &FunctionBody<'_>,
) -> Result<Result<MachineCode, &'static str>> {
    match backend {
        Backend::X64 => compiler::compile::<x64::X64>(env, index, body),
        Backend::Aarch64 => compiler::compile::<aarch64::Aarch64>(env, index, body),
        Backend::Riscv64 => compiler::compile::<riscv64::Riscv64>(env, index, body),
    }
}
