//! Kiln's ahead-of-time compiler: WebAssembly modules to native relocatable
//! objects for aarch64, riscv64 and x86_64 with Cranelift, and everything
//! around it that the `kiln` CLI needs (boards, linking, running, spec tests).
//!
//! Layers point down only: the CLI (`src/cli`) calls [`compile`] and the
//! pipeline modules; the pipeline uses `module` (what the Wasm declares),
//! `translate` (Wasm to Cranelift IR) and `emit` (object and descriptor);
//! all of them read the ABI from `kiln_runtime::abi`.

mod baseline;
pub mod board;
pub mod cache;
mod emit;
pub mod firmware;
pub mod module;
pub mod profile;
pub mod target;
mod translate;
pub mod wast;

use std::borrow::Cow;

use anyhow::{Result, bail};
use sha2::{Digest, Sha256};

pub use emit::Stats;
pub use profile::Profile;
pub use target::{CodegenOptions, Target, Tier};

/// The first line of a caught panic's message, for reporting an internal
/// error in one line.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("no message");
    message.lines().next().unwrap_or("")
}

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

/// Accepts a binary module or the text format; returns the binary. `path`
/// decides what is expected: a `.wat`/`.wast` file is text, anything else
/// a binary unless it does not start with the Wasm magic and reads as text.
pub fn wasm_binary<'a>(input: &'a [u8], path: &std::path::Path) -> Result<Cow<'a, [u8]>> {
    if input.starts_with(b"\0asm") {
        return Ok(Cow::Borrowed(input));
    }
    let text_name = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wat" | "wast")
    );
    let Ok(text) = std::str::from_utf8(input) else {
        bail!("not a WebAssembly module: no \\0asm header, and not text either");
    };
    if !text_name && !text.trim_start().starts_with('(') && !text.trim_start().starts_with(';') {
        bail!("not a WebAssembly module: no \\0asm header (and not the text format)");
    }
    match wat::parse_str(text) {
        Ok(binary) => Ok(Cow::Owned(binary)),
        Err(mut e) => {
            // One line: the message and where, without the source excerpt.
            e.set_path(path);
            let message = e.to_string();
            let first = message.lines().next().unwrap_or("").to_string();
            let at = message
                .lines()
                .find_map(|l| l.trim_start().strip_prefix("--> "))
                .unwrap_or("");
            bail!("malformed text module: {first} (at {at})")
        }
    }
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
