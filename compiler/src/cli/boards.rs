//! `kiln boards`: the boards this kiln can build for, with their target,
//! memory and how they run.

use std::process::ExitCode;

use anyhow::Result;
use kiln_compiler::board;

pub fn run() -> Result<ExitCode> {
    let boards = board::catalogue()?;
    println!("{:<20} {:<28} {:>8}  RUNS", "BOARD", "TARGET", "RAM");
    for b in boards {
        let ram = match b.ram_bytes() {
            0 => "host".to_string(),
            n => format!("{} MiB", n >> 20),
        };
        let runs = if b.is_host() {
            "natively (a Linux process)".to_string()
        } else {
            b.run[0].clone()
        };
        println!(
            "{:<20} {:<28} {:>8}  {}",
            b.name, b.compile_target, ram, runs
        );
        println!("{:<20} {}", "", b.summary);
    }
    Ok(ExitCode::SUCCESS)
}
