//! The baseline compiler's x86_64 backend: the assembler (`asm`) and the
//! macro-assembler the compiler drives (`masm`).

mod asm;
mod masm;

pub(crate) use masm::X64;
