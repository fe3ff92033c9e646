//! Command-line interface: the subcommands and their dispatch.

mod boards;
mod build;
mod compile;
mod image;
mod output;
mod program;
mod progress;
mod run;
mod wast;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Ahead-of-time WebAssembly for edge and IoT devices"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a Wasm module (binary or text) to a native relocatable object.
    Compile(compile::Opts),
    /// Compile, link and run a module on a board (default: this machine).
    Run(run::Opts),
    /// Build a firmware image (module + runtime + board) for a board.
    Build(build::Opts),
    /// List the boards, their targets, memory and how they run.
    Boards,
    /// Run spec-test scripts (.wast) through the real pipeline on a board.
    Wast(wast::Opts),
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Compile(opts) => compile::run(opts),
        Command::Run(opts) => run::run(opts),
        Command::Wast(opts) => wast::run(opts),
        Command::Build(opts) => build::run(opts),
        Command::Boards => boards::run(),
    }
}

/// Code generation flags shared by the subcommands that compile.
#[derive(clap::Args, Clone)]
pub struct CodegenArgs {
    /// Optimisation level: `none` is the fast tier (the quickest compile,
    /// slower code), `speed` Cranelift's optimisations.
    #[arg(long, default_value = "speed", value_parser = ["none", "speed", "speed_and_size"])]
    opt_level: String,
    /// Run Cranelift's IR verifier on every function (slow).
    #[arg(long)]
    verify: bool,
    /// ISA flag for Cranelift beyond Kiln's baseline, e.g. `has_avx2` or
    /// `has_zbb` (repeatable); `native`: this machine's CPU features,
    /// `baseline`: none. Replaces the board's `isa-flags`.
    #[arg(long = "isa-flag", value_name = "FLAG")]
    isa_flags: Vec<String>,
    /// Memory bounds checks: `explicit` (any core) or `guard` (no checks:
    /// needs a board that maps guard regions). Default: the board's choice,
    /// else guard regions for Linux targets and explicit checks otherwise.
    #[arg(long, value_parser = ["explicit", "guard"])]
    bounds_checks: Option<String>,
    /// Profile-guided compile: optimise only the functions this profile
    /// (from `kiln run --profile-out`) saw run, and compile the rest with the
    /// fast tier. Repeatable: the profiles add up.
    #[arg(long = "profile", value_name = "FILE")]
    profiles: Vec<std::path::PathBuf>,
}

impl CodegenArgs {
    pub fn options(&self) -> Result<kiln_compiler::CodegenOptions> {
        let profile = match self.profiles.as_slice() {
            [] => None,
            paths => Some(kiln_compiler::Profile::load(paths)?),
        };
        Ok(kiln_compiler::CodegenOptions {
            opt_level: self.opt_level.clone(),
            verify: self.verify,
            isa_flags: self.isa_flags.clone(),
            guard_regions: self.bounds_checks.as_deref().map(|m| m == "guard"),
            profile,
            ..Default::default()
        })
    }
}
