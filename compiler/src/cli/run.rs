//! `kiln run IN.wasm [--board B] [--env K=V]... [--dir HOST::GUEST]... [-- ARGS...]`
//!
//! Compiles for the board, links the firmware (both cached) and runs it:
//! as a process on the host board, under QEMU on the others. Exits with the
//! program's exit status.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use kiln_compiler::board::{self, run::Invocation};

use super::program::{Program, ProgramArgs};

#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    program: ProgramArgs,
    /// Stop the program after this many seconds (exit status 124).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
}

pub fn run(opts: Opts) -> Result<ExitCode> {
    let board = board::find(&opts.program.board)?;
    let program = Program::prepare(&opts.program, &board)?;
    let firmware = program.firmware(&board, false)?;
    let inv = Invocation {
        args: opts.program.args.iter().map(OsString::from).collect(),
        argv0: program.argv0.clone().into(),
        env: program
            .env
            .iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        dirs: program
            .dirs
            .iter()
            .map(|(h, g)| (h.into(), g.into()))
            .collect(),
        capture: false,
        timeout: opts.timeout.map(Duration::from_secs_f64),
    };
    let outcome = board::run::run(&board, &firmware, &inv)?;
    if outcome.timed_out {
        eprintln!(
            "kiln: timeout: the program ran longer than {}s",
            opts.timeout.unwrap_or_default()
        );
    }
    Ok(ExitCode::from(outcome.status.clamp(0, 255) as u8))
}
