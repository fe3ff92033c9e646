//! `kiln run IN.wasm [--board B] [--env K=V]... [--dir HOST::GUEST]...
//! [--timeout SECONDS] [-- ARGS...]`
//!
//! Compiles for the board, links the firmware (both cached) and runs it:
//! as a process on the host board, under QEMU on the others. Exits with the
//! program's exit status. `--timeout` is the firmware's own deadline (the
//! board's watchdog, status 124); kiln stops the board from outside only if
//! that fails.

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
}

/// How much longer than its deadline kiln lets a board run before it stops
/// the process from outside (QEMU's start-up comes before the board's clock
/// starts; the watchdog itself gives a host call 1 s to return).
const BACKSTOP: Duration = Duration::from_secs(10);

pub fn run(opts: Opts) -> Result<ExitCode> {
    let board = board::find(&opts.program.board)?;
    let mut program = Program::prepare(&opts.program, &board)?;
    program.use_this_console();
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
        timeout: (program.deadline_ms > 0)
            .then(|| Duration::from_millis(program.deadline_ms) + BACKSTOP),
    };
    let outcome = board::run::run(&board, &firmware, &inv)?;
    if outcome.timed_out {
        eprintln!(
            "kiln: timeout: the board did not stop the program at its deadline of {} s; kiln stopped it",
            program.deadline_ms as f64 / 1000.0
        );
    }
    Ok(ExitCode::from(outcome.status.clamp(0, 255) as u8))
}
