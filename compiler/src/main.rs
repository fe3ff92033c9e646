//! The `kiln` command: compile, build, run and test WebAssembly for boards.
//! One module per subcommand in `cli/`; each parses its options and calls the
//! library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Internal errors (panics) are reported as one line like any error:
    // the library turns those inside a function's compilation into errors
    // naming the function, and anything else ends here.
    std::panic::set_hook(Box::new(|_| {}));
    let args = cli::Cli::parse();
    let outcome = std::panic::catch_unwind(|| cli::run(args)).unwrap_or_else(|payload| {
        Err(anyhow::anyhow!(
            "internal error: {}",
            kiln_compiler::panic_message(&*payload)
        ))
    });
    match outcome {
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
