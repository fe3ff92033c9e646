//! The board catalogue: every board is a crate under `boards/<name>/` with a
//! `board.toml` describing it as data (targets, memory map, how it runs).
//! `library` builds a board's runtime library; `run` starts a firmware.

pub mod library;
pub mod run;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// How a board reports the program's exit status.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ExitDevice {
    /// A Linux process: its exit status.
    Native,
    /// QEMU's exit status is the program's (riscv64 sifive_test).
    SifiveTest,
    /// QEMU's exit status is the program's (Arm semihosting SYS_EXIT).
    Semihosting,
    /// QEMU exits with `(status << 1) | 1` (x86 isa-debug-exit).
    IsaDebugExit,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MemoryRegion {
    pub name: String,
    pub base: u64,
    pub size: u64,
    #[serde(default)]
    pub comment: String,
}

/// A board as its `board.toml` describes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Board {
    pub name: String,
    pub summary: String,
    /// Rust target the board library is built for.
    pub rust_target: String,
    /// Triple `kiln compile` uses for the modules.
    pub compile_target: String,
    #[serde(default)]
    pub rustflags: Vec<String>,
    /// Linker script, relative to the board folder.
    pub linker_script: Option<String>,
    pub load_address: u64,
    pub exit: ExitDevice,
    /// Command that runs a firmware; `{firmware}` is replaced by its path.
    pub run: Vec<String>,
    #[serde(default)]
    pub memory: Vec<MemoryRegion>,
    /// "guard" when the board maps guard regions for linear memories with
    /// its MMU (code then has no bounds checks), else explicit checks.
    #[serde(default)]
    pub bounds_checks: Option<String>,
    /// ISA flags for the board's CPU beyond Kiln's baseline for its
    /// architecture (Cranelift names, or `native` for everything the machine
    /// compiling has); `--isa-flag` replaces them.
    #[serde(default)]
    pub isa_flags: Vec<String>,
    /// The board's folder (filled in when loaded).
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Board {
    pub fn is_host(&self) -> bool {
        self.exit == ExitDevice::Native
    }

    /// The crate name of the board library.
    pub fn crate_name(&self) -> String {
        format!("kiln-board-{}", self.name)
    }

    /// Code generation options for this board: `options`, with the board's
    /// bounds-check mode and ISA flags unless the user chose them. Guard
    /// regions on a board that cannot map them are refused here, before
    /// compiling.
    pub fn codegen(&self, options: &crate::CodegenOptions) -> Result<crate::CodegenOptions> {
        let mut options = options.clone();
        if options.isa_flags.is_empty() {
            options.isa_flags = self.isa_flags.clone();
        }
        let has_guard_regions = self.bounds_checks.as_deref() == Some("guard");
        match options.guard_regions {
            None => options.guard_regions = Some(has_guard_regions),
            Some(true) if !has_guard_regions => bail!(
                "board `{}` cannot map guard regions (no virtual memory): use --bounds-checks explicit",
                self.name
            ),
            Some(_) => {}
        }
        Ok(options)
    }

    /// Bytes of RAM the board has (sum of regions named `ram`).
    pub fn ram_bytes(&self) -> u64 {
        self.memory
            .iter()
            .filter(|m| m.name == "ram")
            .map(|m| m.size)
            .sum()
    }
}

/// The folder holding Kiln's sources (runtime and boards): `$KILN_ROOT`, or
/// the checkout this `kiln` was built from.
pub fn root() -> PathBuf {
    if let Some(root) = std::env::var_os("KILN_ROOT") {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn load(dir: &Path) -> Result<Board> {
    let path = dir.join("board.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut board: Board = toml::from_str(&text)
        .with_context(|| format!("bad board description {}", path.display()))?;
    board.dir = dir.to_path_buf();
    if let Some(mode) = &board.bounds_checks
        && mode != "guard"
        && mode != "explicit"
    {
        bail!(
            "bad board description {}: bounds-checks must be \"guard\" or \"explicit\", not \"{mode}\"",
            path.display()
        );
    }
    Ok(board)
}

/// Every board under `<root>/boards`, sorted by name (host first).
pub fn catalogue() -> Result<Vec<Board>> {
    let boards_dir = root().join("boards");
    let entries = std::fs::read_dir(&boards_dir).with_context(|| {
        format!(
            "cannot read the board folder {} (set KILN_ROOT to a Kiln checkout)",
            boards_dir.display()
        )
    })?;
    let mut boards = Vec::new();
    for entry in entries {
        let dir = entry?.path();
        if dir.join("board.toml").is_file() {
            boards.push(load(&dir)?);
        }
    }
    boards.sort_by(|a, b| (!a.is_host(), &a.name).cmp(&(!b.is_host(), &b.name)));
    Ok(boards)
}

/// The board called `name`.
pub fn find(name: &str) -> Result<Board> {
    let boards = catalogue()?;
    if let Some(b) = boards.iter().find(|b| b.name == name) {
        return Ok(b.clone());
    }
    let names: Vec<&str> = boards.iter().map(|b| b.name.as_str()).collect();
    bail!("unknown board `{name}`; boards: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The board's default follows `bounds-checks`; asking a board without
    /// an MMU mapping (no `bounds-checks = "guard"`) for guard regions is
    /// refused before compiling, and explicit checks work everywhere.
    #[test]
    fn guard_regions_need_the_board_s_mmu() {
        let board = find("qemu-virt-riscv64").expect("the riscv64 board");
        let default = crate::CodegenOptions::default();
        let chosen = board.codegen(&default).expect("the board's default");
        assert_eq!(chosen.guard_regions, Some(true));

        let mut no_mmu = board.clone();
        no_mmu.name = "no-mmu".into();
        no_mmu.bounds_checks = None;
        let chosen = no_mmu.codegen(&default).expect("the default");
        assert_eq!(chosen.guard_regions, Some(false));
        let guard = crate::CodegenOptions {
            guard_regions: Some(true),
            ..default.clone()
        };
        let err = no_mmu.codegen(&guard).expect_err("refused").to_string();
        assert_eq!(
            err,
            "board `no-mmu` cannot map guard regions (no virtual memory): use --bounds-checks explicit"
        );
        let explicit = crate::CodegenOptions {
            guard_regions: Some(false),
            ..default
        };
        for b in [&board, &no_mmu] {
            let chosen = b.codegen(&explicit).expect("explicit checks");
            assert_eq!(chosen.guard_regions, Some(false));
        }
    }

    /// A board's ISA flags apply unless the user names some; `baseline`
    /// names none.
    #[test]
    fn the_user_s_isa_flags_replace_the_board_s() {
        let board = find("qemu-virt-riscv64").expect("the riscv64 board");
        assert!(board.isa_flags.iter().any(|f| f == "has_zba"));
        let default = crate::CodegenOptions::default();
        assert_eq!(
            board.codegen(&default).expect("default").isa_flags,
            board.isa_flags
        );
        let baseline = crate::CodegenOptions {
            isa_flags: vec!["baseline".into()],
            ..default
        };
        let chosen = board.codegen(&baseline).expect("baseline");
        let target = crate::target::Target::new(&board.compile_target, &chosen).expect("target");
        assert!(target.isa_flags.is_empty(), "{:?}", target.isa_flags);
    }
}
