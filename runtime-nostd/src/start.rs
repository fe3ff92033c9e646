//! What a board calls after boot: checks the app manifest, then runs the
//! program (`_start` with WASI) or the spec-test script it carries, and exits
//! through the board with the outcome's status (see `abi::exit_status`).

use alloc::vec::Vec;
use core::ffi::c_void;
use core::fmt::Write as _;

use crate::abi::{self, exit_status, AppManifest, ModuleDescriptor};
use crate::board::{Board, Stream};
use crate::console::Console;
use crate::instance::{Extern, Instance, Resolve};
use crate::trap::Trap;
use crate::wasi::{self, WasiCtx};

/// Runs the app described by `manifest` on `board` and exits.
pub fn start<B: Board>(board: &mut B, manifest: &'static AppManifest) -> ! {
    if manifest.magic != abi::APP_MAGIC || manifest.abi_version != abi::ABI_VERSION {
        let _ = writeln!(
            Console::new(board, Stream::Stderr),
            "kiln: error: firmware manifest is for runtime ABI {}, this runtime has {}",
            manifest.abi_version,
            abi::ABI_VERSION
        );
        board.exit(exit_status::LOAD_ERROR);
    }
    let status = match manifest.mode {
        abi::app_mode::WAST => crate::wast::run_script(board, manifest),
        _ => run_program(board, manifest),
    };
    board.exit(status)
}

/// Imports of a WASI program: `wasi_snapshot_preview1` only.
struct ProgramImports<B>(core::marker::PhantomData<B>);

impl<B: Board> Resolve for ProgramImports<B> {
    fn resolve(&mut self, module: &[u8], name: &[u8]) -> Option<Extern> {
        if module == wasi::MODULE {
            return wasi::resolve::<B>(name);
        }
        None
    }
}

fn run_program<B: Board>(board: &mut B, manifest: &'static AppManifest) -> u32 {
    // SAFETY: the manifest is static data written by `kiln build`.
    let modules = unsafe { manifest.modules.as_slice() };
    let Some(&module) = modules.first() else {
        let _ = writeln!(Console::new(board, Stream::Stderr), "kiln: error: firmware has no module");
        return exit_status::LOAD_ERROR;
    };
    // SAFETY: module pointers in the manifest are static descriptors.
    let module: &'static ModuleDescriptor = unsafe { &*module };
    let args: Vec<&[u8]> = unsafe { manifest.args.as_slice() }.iter().map(|s| unsafe { s.as_bytes() }).collect();
    let env: Vec<&[u8]> = unsafe { manifest.env.as_slice() }.iter().map(|s| unsafe { s.as_bytes() }).collect();
    let stack_limit = board.stack_limit();
    let mut ctx = WasiCtx::new(board, args, env);
    let host: *mut c_void = (&mut ctx as *mut WasiCtx<B>).cast();
    let mut imports = ProgramImports::<B>(core::marker::PhantomData);
    let outcome = Instance::new(module, &mut imports, host, stack_limit);
    let board = &mut *ctx.board;
    let instance = match outcome {
        Ok(instance) => instance,
        Err(crate::instance::InstantiateError::Trap(trap)) => return report_trap(board, &trap),
        Err(e) => {
            let _ = writeln!(Console::new(board, Stream::Stderr), "kiln: error: {e}");
            return exit_status::LOAD_ERROR;
        }
    };
    let Some(entry) = instance.export_func(b"_start") else {
        let _ = writeln!(
            Console::new(board, Stream::Stderr),
            "kiln: error: module has no `_start` function to run"
        );
        return exit_status::LOAD_ERROR;
    };
    let mut values = [0u64; 1];
    match instance.call(&entry, &mut values) {
        Ok(()) => 0,
        Err(trap) if trap.kind == abi::TrapKind::Exit => trap.exit_status,
        Err(trap) => report_trap(ctx.board, &trap),
    }
}

/// Prints `kiln: trap: <kind> in <func>` and gives the trap exit status.
pub fn report_trap<B: Board>(board: &mut B, trap: &Trap) -> u32 {
    let mut out = Console::new(board, Stream::Stderr);
    let _ = write!(out, "kiln: trap: {}", trap.kind.message());
    if let Some(site) = &trap.site {
        let _ = match site.func_name() {
            Some(name) => write!(out, " in {}", crate::instance::Bytes(name)),
            None => write!(out, " in func[{}]", site.func_index),
        };
    }
    let _ = writeln!(out);
    exit_status::TRAP
}
