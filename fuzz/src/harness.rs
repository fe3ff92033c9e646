//! Kiln's side of the differential target: the recorded run, written as a
//! spec-test script, goes through `kiln_compiler::wast::run_file` (compile,
//! link one firmware for the board, run it once) and every failure it reports
//! is a divergence, except the one ambiguity the reference cannot resolve
//! (see [`crate::oracle::Outcome::Trap`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use kiln_compiler::CodegenOptions;
use kiln_compiler::board::{self, Board};
use kiln_runtime::abi::TrapKind;

use crate::oracle::Step;

/// How long one firmware may run. Generated modules are small and have
/// fuel; hitting this means Kiln hangs where wasmi finished.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs scripts through Kiln on a set of boards.
pub struct Kiln {
    /// Each board with its code generation options (its own bounds-check
    /// mode: guard regions on host, aarch64 and x86_64, explicit on riscv64).
    boards: Vec<(Board, CodegenOptions)>,
    opt_level: String,
    work: PathBuf,
    cache: PathBuf,
}

/// A difference between Kiln and the reference.
pub struct Divergence {
    /// The script that shows it.
    pub script: String,
    /// What Kiln reported, one line per failed step.
    pub failures: Vec<String>,
}

impl Kiln {
    /// `boards` are the boards to run on (names); `work` is a private
    /// folder for scripts; `cache` must be the folder `KILN_CACHE_DIR` names
    /// (emptied after every run so it does not grow). The code generation
    /// options are Kiln's defaults with [`opt_level`]'s level.
    pub fn new(boards: &[&str], work: &Path, cache: &Path) -> Result<Kiln> {
        let options = CodegenOptions {
            opt_level: opt_level()?,
            ..CodegenOptions::default()
        };
        let mut found = Vec::new();
        for name in boards {
            let board = board::find(name)?;
            // Build the board library now, not inside the first run's timing.
            board::library::ensure_built(&board)
                .with_context(|| format!("building the {name} board library"))?;
            let codegen = board.codegen(&options)?;
            found.push((board, codegen));
        }
        std::fs::create_dir_all(work)?;
        std::fs::create_dir_all(cache)?;
        Ok(Kiln {
            boards: found,
            opt_level: options.opt_level,
            work: work.to_path_buf(),
            cache: cache.to_path_buf(),
        })
    }

    /// The boards, in the order given to [`Kiln::new`].
    pub fn boards(&self) -> impl Iterator<Item = &str> {
        self.boards.iter().map(|(b, _)| b.name.as_str())
    }

    /// The optimisation level every case compiles with (see [`opt_level`]).
    pub fn opt_level(&self) -> &str {
        &self.opt_level
    }

    /// Runs `script` (written by [`crate::script::write`] for `steps`, with
    /// `lines` mapping its lines to steps) on board number `board`.
    /// `Ok(None)` when Kiln agrees.
    pub fn check(
        &self,
        board: usize,
        script: &str,
        steps: &[Step],
        lines: &[Option<usize>],
    ) -> Result<Option<Divergence>> {
        let path = self.work.join("case.wast");
        std::fs::write(&path, script)?;
        let (board, codegen) = &self.boards[board % self.boards.len()];
        let report = kiln_compiler::wast::run_file(&path, board, codegen, TIMEOUT);
        self.empty_cache();
        let report = report?;
        let failures: Vec<String> = report
            .failures
            .into_iter()
            .filter(|f| !tolerated(f, steps, lines))
            .collect();
        Ok((!failures.is_empty()).then(|| Divergence {
            script: script.to_string(),
            failures,
        }))
    }

    fn empty_cache(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.cache) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// The optimisation level the cases compile with: `KILN_FUZZ_OPT_LEVEL`
/// (`none`, `speed` or `speed_and_size`, as `kiln --opt-level`), else
/// Kiln's default (`speed`). `none` is the fast tier: the baseline compiler
/// on every board.
pub fn opt_level() -> Result<String> {
    let default = CodegenOptions::default().opt_level;
    match std::env::var("KILN_FUZZ_OPT_LEVEL") {
        Ok(level) if level.trim().is_empty() => Ok(default),
        Ok(level) => match level.trim() {
            l @ ("none" | "speed" | "speed_and_size") => Ok(l.to_string()),
            other => anyhow::bail!(
                "KILN_FUZZ_OPT_LEVEL: unknown level `{other}` (none, speed or speed_and_size)"
            ),
        },
        Err(_) => Ok(default),
    }
}

/// A failure `FILE:LINE: expected trap "A", got trap: B` where the step
/// accepts B as well.
fn tolerated(failure: &str, steps: &[Step], lines: &[Option<usize>]) -> bool {
    let mut parts = failure.splitn(3, ':');
    let (_, Some(line), Some(message)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(step) = line
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|l| lines.get(l.checked_sub(1)?).copied().flatten())
        .and_then(|i| steps.get(i))
    else {
        return false;
    };
    // An invocation says "got trap: KIND", an instantiation "got: KIND".
    let Some((_, got)) = message
        .split_once("got trap: ")
        .or_else(|| message.split_once("got: "))
    else {
        return false;
    };
    crate::script::accepted_traps(step)
        .iter()
        .any(|k: &TrapKind| k.message() == got.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_element_counts_as_wasmis_table_trap_everywhere() {
        let steps = [Step::InstantiationTrap(vec![
            TrapKind::TableOutOfBounds,
            TrapKind::UndefinedElement,
        ])];
        let lines = [None, Some(0)];
        // What `kiln wast` prints for a module and for an invocation.
        for failure in [
            "case.wast:2: expected trap \"out of bounds table access\", got: undefined element",
            "case.wast:2: expected trap \"out of bounds table access\", got trap: undefined element",
        ] {
            assert!(tolerated(failure, &steps, &lines), "{failure}");
        }
        let other = "case.wast:2: expected trap \"out of bounds table access\", got: unreachable";
        assert!(!tolerated(other, &steps, &lines));
    }
}
