//! The baseline compiler for aarch64: so far only its assembler, ahead of
//! the code generator that will use it.

pub(crate) mod asm;
