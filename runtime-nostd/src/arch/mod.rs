//! Per-architecture pieces behind one set of names: `JMPBUF_WORDS` and the
//! assembly routines `kiln_call_guarded` / `kiln_resume` (see `trap`).

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::JMPBUF_WORDS;

#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "riscv64")]
pub use riscv64::JMPBUF_WORDS;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::JMPBUF_WORDS;

#[cfg(not(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "x86_64"
)))]
compile_error!("kiln-runtime supports aarch64, riscv64 and x86_64");
