//! The baseline compiler for riscv64 (RV64GC): so far only its assembler.

#![allow(dead_code)]

pub(crate) mod asm;
