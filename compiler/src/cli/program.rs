//! What `kiln run` and `kiln build` share: the program's options (board,
//! environment, folders, arguments) and turning them into a firmware.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use kiln_compiler::board::Board;
use kiln_compiler::firmware::{self, Folder, Manifest};

use super::progress::Progress;

#[derive(Args)]
pub struct ProgramArgs {
    /// The module: a .wasm binary or a .wat text file.
    pub input: PathBuf,
    /// The board to run on (`kiln boards` lists them).
    #[arg(long, default_value = "host")]
    pub board: String,
    /// Set an environment variable for the program (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Give the program a host folder as GUEST (repeatable).
    #[arg(long = "dir", value_name = "HOST::GUEST")]
    pub dirs: Vec<String>,
    /// Report the time between the program's `bench.start` and `bench.end`.
    #[arg(long)]
    pub bench: bool,
    /// Stop the program after this many seconds of wall-clock time: the
    /// board's watchdog ends it with `kiln: trap: interrupted` and status 124.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<String>,
    #[command(flatten)]
    pub codegen: super::CodegenArgs,
    /// Arguments for the program.
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// A program ready to be linked for a board.
pub struct Program {
    pub object: PathBuf,
    pub argv0: String,
    pub env: Vec<(String, String)>,
    /// (host, guest) folders.
    pub dirs: Vec<(String, String)>,
    pub bench: bool,
    pub args: Vec<String>,
    /// The watchdog's deadline in milliseconds (0: none).
    pub deadline_ms: u64,
    /// Console streams that are not terminals (`APP_FLAG_NOT_TERMINAL << fd`
    /// bits), for boards whose console is a serial line.
    pub not_terminal: u32,
}

/// Longest `--timeout`: about 115 days, far beyond any test or benchmark.
const MAX_TIMEOUT_SECONDS: f64 = 1e7;

/// Parses `--timeout SECONDS` into milliseconds (at least 1).
pub fn parse_timeout(text: &str) -> Result<u64> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= MAX_TIMEOUT_SECONDS => {
            Ok(((s * 1000.0).ceil() as u64).max(1))
        }
        _ => bail!(
            "bad --timeout `{text}`: expected a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS}"
        ),
    }
}

impl Program {
    /// Checks the options and compiles the module for `board`.
    pub fn prepare(opts: &ProgramArgs, board: &Board) -> Result<Program> {
        let deadline_ms = match &opts.timeout {
            Some(t) => parse_timeout(t)?,
            None => 0,
        };
        let mut env = Vec::new();
        for e in &opts.env {
            let Some((k, v)) = e.split_once('=') else {
                bail!("bad --env `{e}`: expected KEY=VALUE");
            };
            if k.is_empty() {
                bail!("bad --env `{e}`: the name is empty");
            }
            env.push((k.to_string(), v.to_string()));
        }
        let mut dirs = Vec::new();
        for d in &opts.dirs {
            let (host, guest) = match d.rsplit_once("::") {
                Some((h, g)) => (h.to_string(), g.to_string()),
                None => (d.clone(), d.clone()),
            };
            if !Path::new(&host).is_dir() {
                bail!("bad --dir `{d}`: {host} is not a folder");
            }
            let host = std::fs::canonicalize(&host)
                .with_context(|| format!("bad --dir `{d}`"))?
                .to_string_lossy()
                .into_owned();
            dirs.push((host, guest));
        }
        let input = std::fs::read(&opts.input)
            .with_context(|| format!("cannot read {}", opts.input.display()))?;
        let wasm = kiln_compiler::wasm_binary(&input, &opts.input)
            .with_context(|| opts.input.display().to_string())?;
        let progress = Progress::new("compiling");
        let object = firmware::compile_cached(
            &wasm,
            &board.compile_target,
            kiln_runtime::abi::DEFAULT_MODULE_NAME,
            &board.codegen(&opts.codegen.options()?)?,
            &|done, total| progress.update(done, total),
        )
        .with_context(|| opts.input.display().to_string())?;
        progress.finish();
        let argv0 = opts
            .input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "main.wasm".into());
        Ok(Program {
            object,
            argv0,
            env,
            dirs,
            bench: opts.bench,
            args: opts.args.clone(),
            deadline_ms,
            not_terminal: 0,
        })
    }

    /// The manifest. With `built_in`, arguments, environment and folders
    /// are part of it (bare-metal boards always; `kiln build`); otherwise the
    /// host board gets them when its process starts.
    pub fn manifest(&self, board: &Board, built_in: bool) -> Result<Manifest> {
        let mut m = Manifest::program(kiln_runtime::abi::DEFAULT_MODULE_NAME);
        if self.bench {
            m.flags |= kiln_runtime::abi::APP_FLAG_BENCH;
        }
        m.files = !self.dirs.is_empty();
        m.deadline_ms = self.deadline_ms;
        m.flags |= self.not_terminal;
        if built_in || !board.is_host() {
            m.args.push(self.argv0.clone().into_bytes());
            m.args
                .extend(self.args.iter().map(|a| a.clone().into_bytes()));
            m.env = self
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}").into_bytes())
                .collect();
            for (host, guest) in &self.dirs {
                m.folders.push(if board.is_host() {
                    Folder {
                        guest_path: guest.clone(),
                        image: Vec::new(),
                        host_path: host.clone(),
                    }
                } else {
                    Folder {
                        guest_path: guest.clone(),
                        image: super::image::pack_folder(Path::new(host))?,
                        host_path: String::new(),
                    }
                });
            }
        }
        Ok(m)
    }

    /// Marks the console streams that are not terminals here, so that a
    /// program behind a serial console sees redirection as it would on the
    /// host (`kiln run`; a built firmware's console is a terminal).
    pub fn use_this_console(&mut self) {
        use std::io::IsTerminal;
        let streams = [
            std::io::stdin().is_terminal(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        ];
        self.not_terminal = streams
            .iter()
            .enumerate()
            .filter(|(_, tty)| !**tty)
            .map(|(fd, _)| kiln_runtime::abi::APP_FLAG_NOT_TERMINAL << fd)
            .sum();
    }

    pub fn firmware(&self, board: &Board, built_in: bool) -> Result<PathBuf> {
        let manifest = self.manifest(board, built_in)?;
        firmware::link_cached(board, std::slice::from_ref(&self.object), &manifest)
    }
}
