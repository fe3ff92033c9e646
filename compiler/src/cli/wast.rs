//! `kiln wast FILE.wast... [--board B]`: runs spec-test scripts through the
//! real pipeline and prints a line per failure, then `N passed, M failed`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use kiln_compiler::board;
use kiln_compiler::wast::{self, Report};
use rayon::prelude::*;

#[derive(Args)]
pub struct Opts {
    /// Spec-test scripts.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The board to run on (`kiln boards` lists them).
    #[arg(long, default_value = "host")]
    board: String,
    /// Stop a script's firmware after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    #[command(flatten)]
    codegen: super::CodegenArgs,
}

pub fn run(opts: Opts) -> Result<ExitCode> {
    let board = board::find(&opts.board)?;
    let codegen = board.codegen(&opts.codegen.options()?)?;
    let timeout = Duration::from_secs(opts.timeout);
    let reports: Vec<(PathBuf, Result<Report>)> = opts
        .files
        .par_iter()
        .map(|f| (f.clone(), wast::run_file(f, &board, &codegen, timeout)))
        .collect();
    let (mut passed, mut failed) = (0u64, 0u64);
    let mut errors = 0;
    for (file, report) in reports {
        match report {
            Ok(r) => {
                for line in &r.failures {
                    println!("{line}");
                }
                passed += r.passed as u64;
                failed += r.failed as u64;
            }
            Err(e) => {
                errors += 1;
                println!("{}: error: {e:#}", file.display());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 && errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
