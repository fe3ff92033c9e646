//! `kiln run IN.wasm [--board B] [--env K=V]... [--dir HOST::GUEST]...
//! [--timeout SECONDS] [-- ARGS...]`
//!
//! Compiles for the board, links the firmware (both cached) and runs it:
//! as a process on the host board, under QEMU on the others. Exits with the
//! program's exit status. `--timeout` is the firmware's own deadline (the
//! board's watchdog, status 124); kiln stops the board from outside only if
//! that fails.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use kiln_compiler::board::{self, run::Invocation};

use super::program::{Program, ProgramArgs};

#[derive(Args)]
pub struct Opts {
    #[command(flatten)]
    program: ProgramArgs,
    /// Sample where the run spends its time and write the profile to FILE,
    /// for a profile-guided compile (`--profile FILE`). Host board only:
    /// the profile serves every board.
    #[arg(long, value_name = "FILE")]
    profile_out: Option<PathBuf>,
}

/// How much longer than its deadline kiln lets a board run before it stops
/// the process from outside (QEMU's start-up comes before the board's clock
/// starts; the watchdog itself gives a host call 1 s to return).
const BACKSTOP: Duration = Duration::from_secs(10);

pub fn run(opts: Opts) -> Result<ExitCode> {
    let board = board::find(&opts.program.board)?;
    let profile_out = match &opts.profile_out {
        Some(path) => Some(profile_destination(path, &board)?),
        None => None,
    };
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
        profile_out: profile_out.clone(),
    };
    let outcome = board::run::run(&board, &firmware, &inv)?;
    if outcome.timed_out {
        eprintln!(
            "kiln: timeout: the board did not stop the program at its deadline of {} s; kiln stopped it",
            program.deadline_ms as f64 / 1000.0
        );
    }
    if let Some(path) = &profile_out
        && !path.is_file()
    {
        bail!("the run wrote no profile to {}", path.display());
    }
    Ok(ExitCode::from(outcome.status.clamp(0, 255) as u8))
}

/// Checks `--profile-out FILE` before the run: the host board, a writable
/// folder; returns the absolute path (the firmware may change folders), with
/// any older profile there removed so that a failed run cannot leave it
/// looking new.
fn profile_destination(path: &Path, board: &board::Board) -> Result<PathBuf> {
    if !board.is_host() {
        bail!(
            "--profile-out needs the host board (profiles are recorded on this machine and serve every board); {} cannot record one",
            board.name
        );
    }
    let absolute = std::path::absolute(path)
        .with_context(|| format!("bad --profile-out {}", path.display()))?;
    if let Some(folder) = absolute.parent()
        && !folder.is_dir()
    {
        bail!(
            "bad --profile-out {}: {} is not a folder",
            path.display(),
            folder.display()
        );
    }
    match std::fs::remove_file(&absolute) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot replace {}", absolute.display()))
        }
        _ => Ok(absolute),
    }
}
