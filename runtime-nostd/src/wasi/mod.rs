//! `wasi_snapshot_preview1` on top of a [`Board`] and a [`FileSystem`].
//!
//! The host functions are generated from one list ([`wasi_functions!`]): each
//! entry gives the WASI name and its parameters; the macro makes the
//! array-call shim that decodes the parameters, finds the [`WasiCtx`] through
//! `vmctx.host` and the caller's memory through `vmctx.memory`, calls the
//! method of the same name and stores the errno. Firmware binds imports to
//! them at link time (`export_board!` defines a symbol per function and the
//! compiler points each import at its symbol); [`resolve`] maps a name to
//! its shim for embedders that resolve by name.
//!
//! Every function has a defined result, modelled on `wasmtime run` (which
//! the WASI test suite encodes): the real operation where the board can do
//! it, an errno where it cannot. The methods live by topic: this file
//! (arguments, environment, clocks, randomness, process, sockets),
//! [`fd`] (the descriptor table and `fd_*`), [`path`] (path resolution,
//! the sandbox, `path_*`) and [`poll`] (`poll_oneoff`).
//!
//! Differences from wasmtime, on purpose: a guest pointer outside memory is
//! `EFAULT` (wasmtime traps); `fd_allocate` grows the file (wasmtime says
//! `ENOTSUP`); the CPU-time clocks read the monotonic clock, since the
//! program is the only thing running (wasmtime says `EBADF`).

pub mod errno;
mod fd;
pub mod memory;
mod path;
mod poll;
#[cfg(test)]
pub(crate) mod tests;
pub mod types;

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::abi::{self, VmCtx, valtype};
use crate::board::{Board, Stream};
use crate::fs::{FileSystem, Mount};
use crate::instance::Extern;
use crate::trap;
use errno::Errno;
use memory::GuestMemory;
use types::*;

pub(crate) use fd::Desc;

/// The import module name of WASI preview1.
pub const MODULE: &[u8] = b"wasi_snapshot_preview1";

/// Time measured between `bench.start` and `bench.end` (see `start`).
#[derive(Default)]
pub(crate) struct Bench {
    /// Monotonic time and cycle count at the pending `bench.start`.
    pub started: Option<(u64, Option<u64>)>,
    pub total_ns: u64,
    pub total_cycles: Option<u64>,
    pub intervals: u32,
}

/// State of WASI for one program: the board, arguments and environment,
/// the file system and the descriptor table.
pub struct WasiCtx<'b, B: Board> {
    pub board: &'b mut B,
    args: Vec<&'b [u8]>,
    env: Vec<&'b [u8]>,
    fs: Option<Box<dyn FileSystem>>,
    /// Descriptors by number; `None` is a closed one.
    fds: Vec<Option<Desc<'b>>>,
    pub(crate) bench: Bench,
    /// Console fds (bit `1 << fd`) that are not terminals.
    not_terminal: u32,
}

impl<'b, B: Board> WasiCtx<'b, B> {
    /// A context with stdin, stdout and stderr as fds 0, 1 and 2.
    pub fn new(board: &'b mut B, args: Vec<&'b [u8]>, env: Vec<&'b [u8]>) -> Self {
        WasiCtx {
            board,
            args,
            env,
            fs: None,
            fds: alloc::vec![Some(Desc::Stdin), Some(Desc::Stdout), Some(Desc::Stderr)],
            bench: Bench::default(),
            not_terminal: 0,
        }
    }

    /// Console streams (bit `1 << fd`) that are not terminals whatever the
    /// board says (`abi::APP_FLAG_NOT_TERMINAL`).
    pub fn set_not_terminal(&mut self, mask: u32) {
        self.not_terminal = mask;
    }

    /// Adds the preopened directories of `mount` as the next fds (3, 4 ...
    /// for a fresh context), named `names[i]` for the guest
    /// (`fd_prestat_dir_name`).
    pub fn add_preopens(&mut self, mount: Mount, names: &[&'b [u8]]) {
        self.fs = Some(mount.fs);
        for (&handle, &name) in mount.roots.iter().zip(names) {
            self.fds.push(Some(Desc::Dir {
                handle,
                preopen: Some(name),
                flags: 0,
            }));
        }
    }

    /// Wall-clock time for timestamps: the board's date, or its monotonic
    /// time when it has none.
    fn wall_now(&mut self) -> u64 {
        match self.board.realtime_ns() {
            Some(t) => t,
            None => self.board.monotonic_ns(),
        }
    }

    /// Shared by `args_*` and `environ_*`: writes pointers to NUL-terminated
    /// copies of `items` at `ptrs` and the strings themselves at `buf`.
    fn write_strings(
        memory: &mut GuestMemory,
        items: &[&[u8]],
        ptrs: u32,
        buf: u32,
    ) -> Result<(), Errno> {
        let mut at = buf;
        for (i, item) in items.iter().enumerate() {
            memory.write_u32(ptrs.wrapping_add(4 * i as u32), at)?;
            memory.write_bytes(at, item)?;
            let end = at.checked_add(item.len() as u32).ok_or(errno::FAULT)?;
            memory.write_bytes(end, &[0])?;
            at = end + 1;
        }
        Ok(())
    }

    fn sizes(
        memory: &mut GuestMemory,
        items: &[&[u8]],
        count: u32,
        size: u32,
    ) -> Result<(), Errno> {
        memory.write_u32(count, items.len() as u32)?;
        let bytes: usize = items.iter().map(|a| a.len() + 1).sum();
        memory.write_u32(size, bytes as u32)
    }

    pub(crate) fn args_get(
        &mut self,
        memory: &mut GuestMemory,
        argv: u32,
        argv_buf: u32,
    ) -> Result<(), Errno> {
        Self::write_strings(memory, &self.args, argv, argv_buf)
    }

    pub(crate) fn args_sizes_get(
        &mut self,
        memory: &mut GuestMemory,
        argc: u32,
        size: u32,
    ) -> Result<(), Errno> {
        Self::sizes(memory, &self.args, argc, size)
    }

    pub(crate) fn environ_get(
        &mut self,
        memory: &mut GuestMemory,
        environ: u32,
        buf: u32,
    ) -> Result<(), Errno> {
        Self::write_strings(memory, &self.env, environ, buf)
    }

    pub(crate) fn environ_sizes_get(
        &mut self,
        memory: &mut GuestMemory,
        count: u32,
        size: u32,
    ) -> Result<(), Errno> {
        Self::sizes(memory, &self.env, count, size)
    }

    pub(crate) fn clock_res_get(
        &mut self,
        memory: &mut GuestMemory,
        id: u32,
        resolution: u32,
    ) -> Result<(), Errno> {
        let res = match id {
            clockid::REALTIME
            | clockid::MONOTONIC
            | clockid::PROCESS_CPUTIME
            | clockid::THREAD_CPUTIME => self.board.resolution_ns(),
            _ => return Err(errno::INVAL),
        };
        memory.write_u64(resolution, res)
    }

    pub(crate) fn clock_time_get(
        &mut self,
        memory: &mut GuestMemory,
        id: u32,
        _precision: u64,
        time: u32,
    ) -> Result<(), Errno> {
        let now = match id {
            clockid::REALTIME => self.board.realtime_ns().ok_or(errno::NOTSUP)?,
            // The program is the only thing running: its CPU time is the time since boot.
            clockid::MONOTONIC | clockid::PROCESS_CPUTIME | clockid::THREAD_CPUTIME => {
                self.board.monotonic_ns()
            }
            _ => return Err(errno::INVAL),
        };
        memory.write_u64(time, now)
    }

    pub(crate) fn proc_exit(&mut self, _memory: &mut GuestMemory, code: u32) -> Result<(), Errno> {
        // As wasmtime: statuses from 126 up are the runtime's own.
        if code >= abi::exit_status::LOAD_ERROR {
            let out = self.board.output(Stream::Stderr);
            let _ = embedded_io::Write::write_all(
                out,
                b"kiln: error: exit with invalid exit status outside of [0..126)\n",
            );
            let _ = embedded_io::Write::flush(out);
            trap::raise(abi::TrapKind::Exit, abi::exit_status::TRAP)
        }
        trap::raise(abi::TrapKind::Exit, code)
    }

    pub(crate) fn proc_raise(&mut self, _memory: &mut GuestMemory, sig: u32) -> Result<(), Errno> {
        if sig > signal::MAX {
            return Err(errno::INVAL);
        }
        // There are no signal handlers in WASI and no other process to signal.
        Err(errno::NOTSUP)
    }

    pub(crate) fn random_get(
        &mut self,
        memory: &mut GuestMemory,
        buf: u32,
        len: u32,
    ) -> Result<(), Errno> {
        let bytes = memory.bytes(buf, len)?;
        if self.board.fill_random(bytes) {
            Ok(())
        } else {
            Err(errno::NOSYS)
        }
    }

    pub(crate) fn sched_yield(&mut self, _memory: &mut GuestMemory) -> Result<(), Errno> {
        // The program is the only thing running: there is nobody to yield to.
        Ok(())
    }

    /// The socket functions: no board has sockets yet, and no descriptor is
    /// one (`EBADF` for a closed fd, `ENOTSOCK` otherwise, as wasmtime).
    fn not_a_socket(&mut self, fd: u32) -> Result<(), Errno> {
        self.desc(fd)?;
        Err(errno::NOTSOCK)
    }

    pub(crate) fn sock_accept(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        flags: u32,
        _result: u32,
    ) -> Result<(), Errno> {
        check_flags(flags, fdflags::ALL)?;
        self.not_a_socket(fd)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sock_recv(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        _ri_data: u32,
        _ri_data_len: u32,
        ri_flags: u32,
        _ro_datalen: u32,
        _ro_flags: u32,
    ) -> Result<(), Errno> {
        check_flags(ri_flags, riflags::ALL)?;
        self.not_a_socket(fd)
    }

    pub(crate) fn sock_send(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        _si_data: u32,
        _si_data_len: u32,
        si_flags: u32,
        _so_datalen: u32,
    ) -> Result<(), Errno> {
        check_flags(si_flags, u16::MAX as u32)?;
        self.not_a_socket(fd)
    }

    pub(crate) fn sock_shutdown(
        &mut self,
        _memory: &mut GuestMemory,
        fd: u32,
        how: u32,
    ) -> Result<(), Errno> {
        check_flags(how, sdflags::ALL)?;
        self.not_a_socket(fd)
    }
}

/// `INVAL` when `value` has bits outside `all` (what wiggle does for a flags
/// parameter).
fn check_flags(value: u32, all: u32) -> Result<(), Errno> {
    if value & !all != 0 {
        Err(errno::INVAL)
    } else {
        Ok(())
    }
}

/// Maps a parameter type of the list to its Wasm value type.
macro_rules! wasi_valtype {
    (u32) => {
        valtype::I32
    };
    (u64) => {
        valtype::I64
    };
}

/// Declares the WASI functions from one list. For each: an array-call shim
/// (in `shims`, generic over the board), its signature id (in
/// `signatures`), its name (in [`NAMES`]); and for all of them the
/// `__kiln_wasi_symbols!` macro with which `export_board!` defines the
/// link-time symbols `kiln_wasi_NAME`. `$d` is a `$` token, so that the
/// generated macro can have metavariables of its own. Functions marked
/// `noreturn` have no result (`proc_exit`).
macro_rules! wasi_functions {
    ($d:tt $( $(#[$noreturn:ident])? fn $name:ident($($arg:ident: $ty:ident),*); )*) => {
        /// The array-call shims: decode the parameters, call the
        /// [`WasiCtx`] method of the same name, store the errno.
        pub mod shims {
            use super::*;
            $(
                /// # Safety
                /// Called by compiled code with its vmctx and a values array,
                /// the vmctx's `host` being this program's `WasiCtx<B>`.
                pub unsafe extern "C" fn $name<B: Board>(vmctx: *mut VmCtx, values: *mut u64) {
                    let mut _index = 0usize;
                    $(
                        // SAFETY: the caller passes one u64 per parameter.
                        let $arg = unsafe { *values.add(_index) } as $ty;
                        _index += 1;
                    )*
                    // SAFETY: the runtime set `host` to this program's WasiCtx and
                    // nothing else borrows it while the guest runs.
                    let ctx = unsafe { &mut *(*vmctx).host.cast::<WasiCtx<'static, B>>() };
                    // SAFETY: `vmctx` is the caller's live context.
                    let mut memory = unsafe { GuestMemory::of(vmctx) };
                    let errno = match ctx.$name(&mut memory, $($arg),*) {
                        Ok(()) => errno::SUCCESS,
                        Err(e) => e,
                    };
                    // SAFETY: there is room for the one result.
                    unsafe { *values = errno as u64 };
                    trap::interrupt_host_call(stringify!($name));
                }
            )*
        }

        /// The signature id of each function.
        #[allow(non_upper_case_globals)]
        pub mod signatures {
            use super::*;
            $(
                pub const $name: u64 =
                    abi::signature_id(&[$(wasi_valtype!($ty)),*], wasi_functions!(@results $($noreturn)?));
            )*
        }

        /// Every function of the list, by name.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Every WASI function: (name, signature id, host function), in one
        /// table (a loop over data is smaller than one comparison per name).
        struct Table<B>(core::marker::PhantomData<B>);

        impl<B: Board> Table<B> {
            const FUNCS: &'static [(&'static str, u64, abi::ArrayCall)] =
                &[$((stringify!($name), signatures::$name, shims::$name::<B> as abi::ArrayCall)),*];
        }

        /// The host function for the WASI import `name`, if Kiln has it:
        /// resolution by name, for embedders that do not bind imports at
        /// link time (firmware does, see `abi::WASI_SYMBOL_PREFIX`).
        pub fn resolve<B: Board>(name: &[u8]) -> Option<Extern> {
            let &(_, signature_id, func) = Table::<B>::FUNCS.iter().find(|f| f.0.as_bytes() == name)?;
            Some(Extern::HostFunc { signature_id, func })
        }

        /// Defines the symbols `kiln_wasi_NAME` for board type `$board`.
        #[doc(hidden)]
        #[macro_export]
        macro_rules! __kiln_wasi_symbols {
            ($d board:ty) => {
                $(
                    #[unsafe(export_name = concat!("kiln_wasi_", stringify!($name)))]
                    #[allow(non_upper_case_globals)]
                    static $name: $crate::abi::HostFunc = $crate::abi::HostFunc {
                        func: $crate::wasi::shims::$name::<$d board>,
                        signature_id: $crate::wasi::signatures::$name,
                    };
                )*
            };
        }
    };
    (@results noreturn) => { &[] };
    (@results) => { &[valtype::I32] };
}

wasi_functions! {
    $
    fn args_get(argv: u32, argv_buf: u32);
    fn args_sizes_get(argc: u32, argv_buf_size: u32);
    fn environ_get(environ: u32, environ_buf: u32);
    fn environ_sizes_get(environc: u32, environ_buf_size: u32);
    fn clock_res_get(id: u32, resolution: u32);
    fn clock_time_get(id: u32, precision: u64, time: u32);
    fn fd_advise(fd: u32, offset: u64, len: u64, advice: u32);
    fn fd_allocate(fd: u32, offset: u64, len: u64);
    fn fd_close(fd: u32);
    fn fd_datasync(fd: u32);
    fn fd_fdstat_get(fd: u32, stat: u32);
    fn fd_fdstat_set_flags(fd: u32, flags: u32);
    fn fd_fdstat_set_rights(fd: u32, rights_base: u64, rights_inheriting: u64);
    fn fd_filestat_get(fd: u32, stat: u32);
    fn fd_filestat_set_size(fd: u32, size: u64);
    fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fst_flags: u32);
    fn fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nread: u32);
    fn fd_prestat_get(fd: u32, prestat: u32);
    fn fd_prestat_dir_name(fd: u32, path: u32, path_len: u32);
    fn fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, nwritten: u32);
    fn fd_read(fd: u32, iovs: u32, iovs_len: u32, nread: u32);
    fn fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, bufused: u32);
    fn fd_renumber(fd: u32, to: u32);
    fn fd_seek(fd: u32, offset: u64, whence: u32, newoffset: u32);
    fn fd_sync(fd: u32);
    fn fd_tell(fd: u32, offset: u32);
    fn fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32);
    fn path_create_directory(fd: u32, path: u32, path_len: u32);
    fn path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, stat: u32);
    fn path_filestat_set_times(fd: u32, flags: u32, path: u32, path_len: u32, atim: u64, mtim: u64, fst_flags: u32);
    fn path_link(old_fd: u32, old_flags: u32, old_path: u32, old_path_len: u32, new_fd: u32, new_path: u32, new_path_len: u32);
    fn path_open(fd: u32, dirflags: u32, path: u32, path_len: u32, oflags: u32, rights_base: u64, rights_inheriting: u64, fdflags: u32, opened_fd: u32);
    fn path_readlink(fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, bufused: u32);
    fn path_remove_directory(fd: u32, path: u32, path_len: u32);
    fn path_rename(fd: u32, old_path: u32, old_path_len: u32, new_fd: u32, new_path: u32, new_path_len: u32);
    fn path_symlink(old_path: u32, old_path_len: u32, fd: u32, new_path: u32, new_path_len: u32);
    fn path_unlink_file(fd: u32, path: u32, path_len: u32);
    fn poll_oneoff(subscriptions: u32, events: u32, nsubscriptions: u32, nevents: u32);
    #[noreturn] fn proc_exit(rval: u32);
    fn proc_raise(sig: u32);
    fn sched_yield();
    fn random_get(buf: u32, buf_len: u32);
    fn sock_accept(fd: u32, flags: u32, result_fd: u32);
    fn sock_recv(fd: u32, ri_data: u32, ri_data_len: u32, ri_flags: u32, ro_datalen: u32, ro_flags: u32);
    fn sock_send(fd: u32, si_data: u32, si_data_len: u32, si_flags: u32, so_datalen: u32);
    fn sock_shutdown(fd: u32, how: u32);
}
