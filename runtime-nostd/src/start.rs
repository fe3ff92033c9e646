//! What a board calls after boot: checks the app manifest, then runs the
//! program (`_start` with WASI) or the spec-test script it carries, and exits
//! through the board with the outcome's status (see `abi::exit_status`).

use alloc::vec::Vec;
use core::ffi::c_void;

use crate::abi::{self, AppManifest, ModuleDescriptor, VmCtx, exit_status};
use crate::board::{Board, Stream};
use crate::console::{Console, Sink};
use crate::instance::{Extern, Instance, Resolve};
use crate::trap::Trap;
use crate::wasi::{self, WasiCtx};

/// Runs the app described by `manifest` on `board` and exits: checks the
/// manifest, then calls the entry point it names (`kiln_run_program` or
/// `kiln_run_wast`, see [`export_board!`](crate::export_board)).
pub fn start<B: Board>(board: &mut B, manifest: &'static AppManifest) -> ! {
    if manifest.magic != abi::APP_MAGIC || manifest.abi_version != abi::ABI_VERSION {
        Console::error(board)
            .text("firmware manifest is for runtime ABI ")
            .dec(manifest.abi_version as u64)
            .text(", this runtime has ")
            .dec(abi::ABI_VERSION as u64)
            .text("\n");
        board.exit(exit_status::LOAD_ERROR);
    }
    if let Err(bad) = crate::integrity::verify(&manifest.seal) {
        Console::error(board)
            .text("firmware image is corrupt: its code and constant data hash to ")
            .name(&crate::integrity::short_hex(&bad.computed))
            .text("..., its seal says ")
            .name(&crate::integrity::short_hex(&bad.expected))
            .text("... (rebuild it with kiln build)\n");
        board.exit(exit_status::LOAD_ERROR);
    }
    let Some(entry) = manifest.entry else {
        Console::error(board).text("firmware manifest has no entry point\n");
        board.exit(exit_status::LOAD_ERROR);
    };
    // SAFETY: the entry points are defined by this board library's own
    // `export_board!` for this board type, and take it as `board`.
    let status = unsafe { entry((board as *mut B).cast(), manifest) };
    board.exit(status)
}

/// Defines, for board type `$board`, everything a firmware links by symbol:
/// the entry points `kiln_run_program`, `kiln_run_program_with_files` and
/// `kiln_run_wast`, the WASI
/// functions `kiln_wasi_NAME` and the `bench` functions. Each board library
/// invokes it once; the linker keeps only what the firmware's manifest and
/// modules refer to, so a program does not carry the spec-test driver, and
/// carries only the WASI functions it imports.
#[macro_export]
macro_rules! export_board {
    ($board:ty) => {
        #[doc(hidden)]
        mod __kiln_board_exports {
            #[allow(unused_imports)]
            use super::*;

            $crate::__kiln_wasi_symbols!($board);

            #[unsafe(export_name = "kiln_bench_start")]
            static BENCH_START: $crate::abi::HostFunc = $crate::abi::HostFunc {
                func: $crate::start::bench_start::<$board>,
                signature_id: $crate::abi::signature_id(&[], &[]),
            };
            #[unsafe(export_name = "kiln_bench_end")]
            static BENCH_END: $crate::abi::HostFunc = $crate::abi::HostFunc {
                func: $crate::start::bench_end::<$board>,
                signature_id: $crate::abi::signature_id(&[], &[]),
            };

            /// # Safety
            /// `board` is the running board, of type `$board`.
            #[unsafe(export_name = "kiln_run_program")]
            unsafe extern "C" fn run_program(
                board: *mut core::ffi::c_void,
                manifest: &'static $crate::abi::AppManifest,
            ) -> u32 {
                // SAFETY: `start` passes the board it was called with.
                $crate::start::run_program::<$board, false>(
                    unsafe { &mut *board.cast::<$board>() },
                    manifest,
                )
            }

            /// # Safety
            /// `board` is the running board, of type `$board`.
            #[unsafe(export_name = "kiln_run_program_with_files")]
            unsafe extern "C" fn run_program_with_files(
                board: *mut core::ffi::c_void,
                manifest: &'static $crate::abi::AppManifest,
            ) -> u32 {
                // SAFETY: `start` passes the board it was called with.
                $crate::start::run_program::<$board, true>(
                    unsafe { &mut *board.cast::<$board>() },
                    manifest,
                )
            }

            /// # Safety
            /// `board` is the running board, of type `$board`.
            #[unsafe(export_name = "kiln_run_wast")]
            unsafe extern "C" fn run_wast(
                board: *mut core::ffi::c_void,
                manifest: &'static $crate::abi::AppManifest,
            ) -> u32 {
                // SAFETY: `start` passes the board it was called with.
                $crate::wast::run_script(unsafe { &mut *board.cast::<$board>() }, manifest)
            }
        }
    };
}

/// Imports of a WASI program that are not bound at link time: none are
/// resolved by name in a firmware (the linker binds `wasi_snapshot_preview1`
/// and `bench`), so anything left is an unknown import.
struct ProgramImports;

impl Resolve for ProgramImports {
    fn resolve(&mut self, _module: &[u8], _name: &[u8]) -> Option<Extern> {
        None
    }
}

/// `bench.start`: notes the board's monotonic time and cycle count.
///
/// # Safety
/// Called by compiled code with its vmctx, whose `host` is the program's WasiCtx.
pub unsafe extern "C" fn bench_start<B: Board>(vmctx: *mut VmCtx, _values: *mut u64) {
    // SAFETY: `run_program` set `host` to the WasiCtx, which outlives the guest.
    let ctx = unsafe { &mut *(*vmctx).host.cast::<WasiCtx<'static, B>>() };
    let cycles = ctx.board.cycles();
    ctx.bench.started = Some((ctx.board.monotonic_ns(), cycles));
}

/// `bench.end`: adds the time since `bench.start` to the measurement.
///
/// # Safety
/// As [`bench_start`].
pub unsafe extern "C" fn bench_end<B: Board>(vmctx: *mut VmCtx, _values: *mut u64) {
    // SAFETY: as in `bench_start`.
    let ctx = unsafe { &mut *(*vmctx).host.cast::<WasiCtx<'static, B>>() };
    let (now, cycles) = (ctx.board.monotonic_ns(), ctx.board.cycles());
    let bench = &mut ctx.bench;
    if let Some((t0, c0)) = bench.started.take() {
        bench.total_ns += now.saturating_sub(t0);
        bench.total_cycles = match (c0, cycles) {
            (Some(c0), Some(c1)) => Some(bench.total_cycles.unwrap_or(0) + c1.wrapping_sub(c0)),
            _ => None,
        };
        bench.intervals += 1;
    }
}

/// Prints `kiln: bench SECONDS s (N cycles)` on stderr.
fn report_bench<B: Board>(board: &mut B, bench: &wasi::Bench) {
    let mut out = Console::new(board, Stream::Stderr);
    if bench.intervals == 0 {
        out.text("kiln: bench: the program never called bench.start and bench.end\n");
        return;
    }
    let ns = bench.total_ns;
    out.text("kiln: bench ")
        .dec(ns / 1_000_000_000)
        .text(".")
        .dec_padded(ns % 1_000_000_000, 9)
        .text(" s");
    if let Some(cycles) = bench.total_cycles {
        out.text(" (").dec(cycles).text(" cycles)");
    }
    out.text("\n");
}

/// Builds the WASI context (arguments, environment, preopens from the
/// manifest), instantiates module 0 and runs its `_start`. With `FILES`
/// false the file systems are not linked at all (a firmware without folders).
pub fn run_program<B: Board, const FILES: bool>(
    board: &mut B,
    manifest: &'static AppManifest,
) -> u32 {
    // SAFETY: the manifest is static data written by `kiln build`.
    let modules = unsafe { manifest.modules.as_slice() };
    let Some(&module) = modules.first() else {
        Console::error(board).text("firmware has no module\n");
        return exit_status::LOAD_ERROR;
    };
    // SAFETY: module pointers in the manifest are static descriptors.
    let module: &'static ModuleDescriptor = unsafe { &*module };
    // SAFETY (here and below): strings and arrays in the manifest are static data.
    let args: Vec<&[u8]> = unsafe { manifest.args.as_slice() }
        .iter()
        .map(|s| unsafe { s.as_bytes() })
        .collect();
    let env: Vec<&[u8]> = unsafe { manifest.env.as_slice() }
        .iter()
        .map(|s| unsafe { s.as_bytes() })
        .collect();
    // SAFETY: as above.
    let preopens = unsafe { manifest.preopens.as_slice() };
    let mount = if preopens.is_empty() {
        None
    } else if !FILES {
        Console::error(board)
            .text("this firmware was built without folders; build it with --dir to give it some\n");
        return exit_status::LOAD_ERROR;
    } else {
        match board.mount(preopens) {
            Ok(mount) => Some(mount),
            Err(e) => {
                let p = preopens.get(e.preopen);
                // SAFETY: the preopen's strings are static manifest data.
                let (guest, host) = p.map_or((&[][..], &[][..]), |p| unsafe {
                    (p.guest_path.as_bytes(), p.host_path.as_bytes())
                });
                let mut out = Console::error(board);
                out.text("cannot open the preopened directory `")
                    .name(guest)
                    .text("`");
                if !host.is_empty() {
                    out.text(" (host folder `").name(host).text("`)");
                }
                let why = match e.errno {
                    wasi::errno::NOENT => "it does not exist",
                    wasi::errno::NOTDIR => "it is not a directory",
                    wasi::errno::ACCES | wasi::errno::PERM => "permission denied",
                    wasi::errno::INVAL => "its packed image is corrupt",
                    wasi::errno::NOTSUP => {
                        "this board cannot open host folders and the firmware has no image of it"
                    }
                    _ => "",
                };
                out.text(": ")
                    .text(why)
                    .text(" (WASI errno ")
                    .dec(e.errno as u64)
                    .text(")\n");
                return exit_status::LOAD_ERROR;
            }
        }
    };
    let stack_limit = board.stack_limit();
    let mut ctx = WasiCtx::new(board, args, env);
    ctx.set_not_terminal((manifest.flags / abi::APP_FLAG_NOT_TERMINAL) & 0b111);
    if let Some(mount) = mount {
        let names: Vec<&[u8]> = preopens
            .iter()
            // SAFETY: the preopen's strings are static manifest data.
            .map(|p| unsafe { p.guest_path.as_bytes() })
            .collect();
        ctx.add_preopens(mount, &names);
    }
    let host: *mut c_void = (&mut ctx as *mut WasiCtx<B>).cast();
    let mut imports = ProgramImports;
    let outcome = Instance::new(module, &mut imports, host, stack_limit);
    let board = &mut *ctx.board;
    let instance = match outcome {
        Ok(instance) => instance,
        Err(crate::instance::InstantiateError::Trap(trap)) => return report_trap(board, &trap),
        Err(e) => {
            let mut out = Console::error(board);
            e.write(&mut out);
            out.text("\n");
            return exit_status::LOAD_ERROR;
        }
    };
    let Some(entry) = instance.export_func(b"_start") else {
        Console::error(board).text("module has no `_start` function to run\n");
        return exit_status::LOAD_ERROR;
    };
    let mut values = [0u64; 1];
    let status = match instance.call(&entry, &mut values) {
        Ok(()) => 0,
        Err(trap) if trap.kind == abi::TrapKind::Exit => trap.exit_status,
        Err(trap) => report_trap(ctx.board, &trap),
    };
    if manifest.flags & abi::APP_FLAG_BENCH != 0 {
        report_bench(ctx.board, &ctx.bench);
    }
    status
}

/// Prints `kiln: trap: <kind> in <func>` and gives the trap exit status
/// ([`exit_status::TIMEOUT`] when the watchdog stopped the run).
pub fn report_trap<B: Board>(board: &mut B, trap: &Trap) -> u32 {
    let mut out = Console::new(board, Stream::Stderr);
    out.text("kiln: trap: ").text(trap.kind.message());
    if let Some(site) = &trap.site {
        match site.func_name() {
            Some(name) => out.text(" in ").name(name),
            None => out.text(" in func[").dec(site.func_index as u64).text("]"),
        };
    } else if let Some(name) = trap.host_func {
        out.text(" in ").text(name);
    }
    out.text("\n");
    if trap.kind == abi::TrapKind::Interrupted {
        exit_status::TIMEOUT
    } else {
        exit_status::TRAP
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasi::tests::FakeBoard;

    fn vmctx(ctx: &mut WasiCtx<FakeBoard>) -> VmCtx {
        VmCtx {
            memory: core::ptr::null_mut(),
            stack_limit: 0,
            globals: core::ptr::null(),
            tables: core::ptr::null(),
            funcrefs: core::ptr::null_mut(),
            builtins: core::ptr::null(),
            features: 0,
            instance: core::ptr::null_mut(),
            host: (ctx as *mut WasiCtx<FakeBoard>).cast(),
        }
    }

    fn import(module: &[u8], name: &[u8]) -> Option<(u64, abi::ArrayCall)> {
        let func: abi::ArrayCall = match (module, name) {
            (b"bench", b"start") => bench_start::<FakeBoard>,
            (b"bench", b"end") => bench_end::<FakeBoard>,
            _ => return None,
        };
        Some((abi::signature_id(&[], &[]), func))
    }

    #[test]
    fn nothing_is_resolved_by_name_in_a_program() {
        assert!(
            ProgramImports
                .resolve(b"wasi_snapshot_preview1", b"fd_write")
                .is_none()
        );
        assert!(ProgramImports.resolve(b"env", b"start").is_none());
    }

    #[test]
    fn bench_measures_between_start_and_end() {
        let mut board = FakeBoard::new();
        let mut ctx = WasiCtx::new(&mut board, Vec::new(), Vec::new());
        let mut vm = vmctx(&mut ctx);
        let (_, start) = import(b"bench", b"start").unwrap();
        let (_, end) = import(b"bench", b"end").unwrap();
        let mut values = [0u64; 1];
        // SAFETY: the vmctx's host is the live WasiCtx; the shims take no values.
        unsafe {
            assert!(crate::trap::call(start, &mut vm, values.as_mut_ptr()).is_ok());
            ctx.board.mono += 1_500_000_000;
            assert!(crate::trap::call(end, &mut vm, values.as_mut_ptr()).is_ok());
            // A second interval adds up; an `end` without `start` is ignored.
            assert!(crate::trap::call(start, &mut vm, values.as_mut_ptr()).is_ok());
            ctx.board.mono += 250;
            assert!(crate::trap::call(end, &mut vm, values.as_mut_ptr()).is_ok());
            assert!(crate::trap::call(end, &mut vm, values.as_mut_ptr()).is_ok());
        }
        assert_eq!(
            (ctx.bench.total_ns, ctx.bench.intervals),
            (1_500_000_250, 2)
        );
        report_bench(ctx.board, &ctx.bench);
        assert_eq!(
            core::str::from_utf8(&ctx.board.stderr.0).unwrap(),
            "kiln: bench 1.500000250 s (4500000750 cycles)\n"
        );
        let mut board = FakeBoard::new();
        report_bench(&mut board, &wasi::Bench::default());
        assert!(
            board
                .stderr
                .0
                .starts_with(b"kiln: bench: the program never called")
        );
    }
}
