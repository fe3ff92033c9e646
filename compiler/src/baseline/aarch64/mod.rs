//! The baseline compiler's aarch64 backend: the assembler (`asm`) and the
//! macro-assembler the compiler drives (`masm`).

// The assembler has every form its golden tests check against llvm-mc;
// the compiler uses most, not all, of them.
#[allow(dead_code)]
mod asm;
mod masm;

pub(crate) use masm::Aarch64;
