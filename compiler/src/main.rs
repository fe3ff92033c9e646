//! The `kiln` command: compile, build, run and test WebAssembly for boards.
//! One module per subcommand in `cli/`; each parses its options and calls the
//! library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // One line: the error and its causes.
            let mut line = format!("kiln: error: {e}");
            for cause in e.chain().skip(1) {
                line.push_str(&format!(": {cause}"));
            }
            eprintln!("{line}");
            ExitCode::from(1)
        }
    }
}
