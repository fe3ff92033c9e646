//! Firmware: compile the modules for a board, add the manifest, link with
//! the board library. Every step is cached by content, so building the same
//! firmware again costs only the checks.

pub mod image;
pub mod link;
pub mod manifest;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::board::{self, Board};
use crate::cache;
use crate::target::Target;
use crate::{CodegenOptions, CompileOptions};
pub use manifest::{Folder, Manifest};

/// Compiles `wasm` for `target` (or takes the object from the cache).
pub fn compile_cached(
    wasm: &[u8],
    target: &str,
    name: &str,
    codegen: &CodegenOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<PathBuf> {
    // `native` in the ISA flags stands for this machine's CPU: the key names
    // the features it resolved to.
    let isa_flags = Target::new(target, codegen)?.isa_flags;
    let key = cache::Key::new("object")
        .part(wasm)
        .part(target)
        .part(name)
        .part(format!("{codegen:?} {isa_flags:?}"));
    cache::get_or_make(key, "o", |path| {
        let options = CompileOptions {
            target: target.to_string(),
            name: name.to_string(),
            codegen: codegen.clone(),
        };
        let compiled = crate::compile(wasm, &options, progress)?;
        std::fs::write(path, &compiled.object)
            .with_context(|| format!("cannot write {}", path.display()))
    })
}

/// Links compiled `objects` with `manifest` and the board library into a
/// firmware ELF (cached); returns its path.
pub fn link_cached(board: &Board, objects: &[PathBuf], manifest: &Manifest) -> Result<PathBuf> {
    let lib = board::library::ensure_built(board)?;
    let target = Target::new(&board.compile_target, &CodegenOptions::default())?;
    let manifest_object = manifest.object(&target)?;
    let mut key = cache::Key::new("firmware")
        .part(&board.name)
        .part(&manifest_object)
        .add_file_stamp(&lib);
    if let Some(script) = &board.linker_script {
        key = key.part(std::fs::read(board.dir.join(script)).unwrap_or_default());
    }
    for o in objects {
        key = key.add_input(o);
    }
    cache::get_or_make(key, "elf", |path| {
        let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
        let manifest_path = dir.path().join("kiln_app.o");
        std::fs::write(&manifest_path, &manifest_object)?;
        let mut inputs = objects.to_vec();
        inputs.push(manifest_path);
        inputs.push(lib.clone());
        link::link(board, &inputs, path)?;
        let mut elf = std::fs::read(path)?;
        manifest::seal(&mut elf)?;
        std::fs::write(path, &elf)?;
        make_executable(path)
    })
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(path, perms)
        .with_context(|| format!("cannot make {} executable", path.display()))
}
