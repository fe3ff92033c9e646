//! `kiln build IN.wasm --board B -o FIRMWARE [--format elf|bin] [--env K=V]...
//! [--dir HOST::GUEST]... [--timeout SECONDS] [-- ARGS...]`: one firmware image with the module,
//! the runtime and the board; arguments, environment and folders built in.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use kiln_compiler::board;
use kiln_compiler::firmware::image;

use super::output;
use super::program::{Program, ProgramArgs};

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// An ELF file, for QEMU, gdb and objdump.
    Elf,
    /// A raw memory image for flashing, starting at the board's load address.
    Bin,
}

#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    program: ProgramArgs,
    /// Where to write the firmware.
    #[arg(short, long)]
    output: PathBuf,
    #[arg(long, value_enum, default_value = "elf")]
    format: Format,
}

pub fn run(opts: Opts) -> Result<ExitCode> {
    let board = board::find(&opts.program.board)?;
    let program = Program::prepare(&opts.program, &board)?;
    let firmware = program.firmware(&board, true)?;
    let elf =
        std::fs::read(&firmware).with_context(|| format!("cannot read {}", firmware.display()))?;
    match opts.format {
        Format::Elf => {
            output::write_atomically(&opts.output, &elf)?;
            output::make_executable(&opts.output)?;
        }
        Format::Bin => {
            let (load_address, bytes) = image::flat_binary(&elf)?;
            output::write_atomically(&opts.output, &bytes)?;
            println!(
                "kiln: wrote {} ({} bytes, load address {load_address:#x})",
                opts.output.display(),
                bytes.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
