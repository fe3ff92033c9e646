//! `kiln compile IN.wasm --target TRIPLE -o OUT.o`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use kiln_compiler::CompileOptions;

use super::output;

#[derive(Args)]
pub struct Opts {
    /// The module: a .wasm binary or a .wat text file.
    input: PathBuf,
    /// Target triple (see `kiln compile --help`): x86_64-unknown-linux-gnu,
    /// x86_64-unknown-none, aarch64-unknown-none, aarch64-unknown-linux-gnu,
    /// riscv64gc-unknown-none-elf, riscv64gc-unknown-linux-gnu.
    #[arg(long, default_value_t = kiln_compiler::Target::host_name().to_string())]
    target: String,
    /// Where to write the object.
    #[arg(short, long)]
    output: PathBuf,
    /// Symbol of the module descriptor in the object.
    #[arg(long, default_value = kiln_runtime::abi::DEFAULT_MODULE_NAME)]
    name: String,
    #[command(flatten)]
    codegen: super::CodegenArgs,
}

pub fn run(opts: Opts) -> Result<ExitCode> {
    let input = std::fs::read(&opts.input)
        .with_context(|| format!("cannot read {}", opts.input.display()))?;
    let wasm = kiln_compiler::wasm_binary(&input, &opts.input)
        .with_context(|| format!("{}", opts.input.display()))?;
    let options = CompileOptions {
        target: opts.target,
        name: opts.name,
        codegen: opts.codegen.options()?,
    };
    let progress = super::progress::Progress::new("compiling");
    let compiled =
        kiln_compiler::compile(&wasm, &options, &|done, total| progress.update(done, total))
            .with_context(|| format!("{}", opts.input.display()))?;
    progress.finish();
    output::write_atomically(&opts.output, &compiled.object)?;
    Ok(ExitCode::SUCCESS)
}
