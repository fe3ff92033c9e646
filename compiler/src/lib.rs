//! Kiln's ahead-of-time compiler: WebAssembly modules to native relocatable
//! objects for aarch64, riscv64 and x86_64 with Cranelift, and everything
//! around it that the `kiln` CLI needs (boards, linking, running, spec tests).
//!
//! Layers point down only: the CLI (`src/cli`) calls [`compile`] and the
//! pipeline modules; the pipeline uses `module` (what the Wasm declares),
//! `translate` (Wasm to Cranelift IR) and `emit` (object and descriptor);
//! all of them read the ABI from `kiln_runtime::abi`.

pub mod board;
pub mod cache;
mod emit;
pub mod firmware;
pub mod module;
pub mod target;
mod translate;
pub mod wast;

use std::borrow::Cow;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

pub use emit::Stats;
pub use target::{CodegenOptions, Target};

/// What to compile for, and how.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// A triple from [`target::SUPPORTED`].
    pub target: String,
    /// Symbol of the module descriptor.
    pub name: String,
    pub codegen: CodegenOptions,
}

impl CompileOptions {
    pub fn new(target: &str) -> Self {
        CompileOptions {
            target: target.to_string(),
            name: kiln_runtime::abi::DEFAULT_MODULE_NAME.to_string(),
            codegen: CodegenOptions::default(),
        }
    }
}

/// A compiled module: the object file and what it took.
pub struct Compiled {
    pub object: Vec<u8>,
    pub stats: Stats,
}

/// Accepts a binary module or the text format; returns the binary.
pub fn wasm_binary(input: &[u8]) -> Result<Cow<'_, [u8]>> {
    if input.starts_with(b"\0asm") {
        return Ok(Cow::Borrowed(input));
    }
    let text = std::str::from_utf8(input)
        .context("input is neither a Wasm binary (no \\0asm header) nor UTF-8 text")?;
    let binary = wat::parse_str(text).map_err(|e| anyhow::anyhow!("malformed text module: {e}"))?;
    Ok(Cow::Owned(binary))
}

/// Checks that `name` can be a symbol in every object format and assembler.
pub fn check_symbol_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        bail!("bad module name `{name}`: use letters, digits and `_`, not starting with a digit");
    }
    Ok(())
}

/// Compiles a Wasm binary to an object file. `progress(done, total)` is
/// called as functions finish (from worker threads).
pub fn compile(
    wasm: &[u8],
    options: &CompileOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Compiled> {
    check_symbol_name(&options.name)?;
    let start = std::time::Instant::now();
    let target = Target::new(&options.target, &options.codegen)?;
    let module = module::ModuleInfo::parse(wasm)?;
    if std::env::var_os("KILN_TIMINGS").is_some() {
        eprintln!(
            "kiln: validate+parse: {:.3} s",
            start.elapsed().as_secs_f64()
        );
    }
    let sha: [u8; 32] = Sha256::digest(wasm).into();
    let (object, stats) = emit::emit_object(&module, sha, &target, &options.name, progress)?;
    Ok(Compiled { object, stats })
}
