//! `wasi_snapshot_preview1` on top of a [`Board`].
//!
//! The host functions are generated from one list ([`wasi_functions!`]): each
//! entry gives the WASI name and its parameters; the macro makes the
//! array-call shim that decodes the parameters, finds the [`WasiCtx`] through
//! `vmctx.host` and the caller's memory through `vmctx.memory`, calls the
//! method of the same name and stores the errno. [`resolve`] maps an import
//! name to its shim.

pub mod errno;
pub mod memory;

use alloc::vec::Vec;

use crate::abi::{self, valtype, VmCtx};
use crate::board::{Board, Stream};
use crate::instance::Extern;
use crate::trap;
use errno::Errno;
use memory::GuestMemory;

/// The import module name of WASI preview1.
pub const MODULE: &[u8] = b"wasi_snapshot_preview1";

/// WASI clock ids.
mod clockid {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME: u32 = 2;
    pub const THREAD_CPUTIME: u32 = 3;
}

/// State of WASI for one program: the board, arguments and environment.
pub struct WasiCtx<'b, B: Board> {
    pub board: &'b mut B,
    args: Vec<&'b [u8]>,
    env: Vec<&'b [u8]>,
}

impl<'b, B: Board> WasiCtx<'b, B> {
    pub fn new(board: &'b mut B, args: Vec<&'b [u8]>, env: Vec<&'b [u8]>) -> Self {
        WasiCtx { board, args, env }
    }

    /// Shared by `args_*` and `environ_*`: writes pointers to NUL-terminated
    /// copies of `items` at `ptrs` and the strings themselves at `buf`.
    fn write_strings(memory: &mut GuestMemory, items: &[&[u8]], ptrs: u32, buf: u32) -> Result<(), Errno> {
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

    fn sizes(memory: &mut GuestMemory, items: &[&[u8]], count: u32, size: u32) -> Result<(), Errno> {
        memory.write_u32(count, items.len() as u32)?;
        let bytes: usize = items.iter().map(|a| a.len() + 1).sum();
        memory.write_u32(size, bytes as u32)
    }

    fn args_get(&mut self, memory: &mut GuestMemory, argv: u32, argv_buf: u32) -> Result<(), Errno> {
        Self::write_strings(memory, &self.args, argv, argv_buf)
    }

    fn args_sizes_get(&mut self, memory: &mut GuestMemory, argc: u32, size: u32) -> Result<(), Errno> {
        Self::sizes(memory, &self.args, argc, size)
    }

    fn environ_get(&mut self, memory: &mut GuestMemory, environ: u32, buf: u32) -> Result<(), Errno> {
        Self::write_strings(memory, &self.env, environ, buf)
    }

    fn environ_sizes_get(&mut self, memory: &mut GuestMemory, count: u32, size: u32) -> Result<(), Errno> {
        Self::sizes(memory, &self.env, count, size)
    }

    fn clock_res_get(&mut self, memory: &mut GuestMemory, id: u32, resolution: u32) -> Result<(), Errno> {
        let res = match id {
            clockid::REALTIME | clockid::MONOTONIC | clockid::PROCESS_CPUTIME | clockid::THREAD_CPUTIME => {
                self.board.resolution_ns()
            }
            _ => return Err(errno::INVAL),
        };
        memory.write_u64(resolution, res)
    }

    fn clock_time_get(&mut self, memory: &mut GuestMemory, id: u32, _precision: u64, time: u32) -> Result<(), Errno> {
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

    fn fd_write(&mut self, memory: &mut GuestMemory, fd: u32, iovs: u32, iovs_len: u32, nwritten: u32) -> Result<(), Errno> {
        let stream = match fd {
            1 => Stream::Stdout,
            2 => Stream::Stderr,
            _ => return Err(errno::BADF),
        };
        let mut iovs = memory.iovecs(iovs, iovs_len)?;
        let mut total: u32 = 0;
        while let Some((buf, len)) = iovs.next(memory) {
            let bytes = memory.bytes(buf, len)?;
            embedded_io::Write::write_all(self.board.output(stream), bytes).map_err(|_| errno::IO)?;
            total = total.wrapping_add(len);
        }
        embedded_io::Write::flush(self.board.output(stream)).map_err(|_| errno::IO)?;
        memory.write_u32(nwritten, total)
    }

    fn proc_exit(&mut self, _memory: &mut GuestMemory, code: u32) -> Result<(), Errno> {
        trap::raise(abi::TrapKind::Exit, code)
    }

    fn random_get(&mut self, memory: &mut GuestMemory, buf: u32, len: u32) -> Result<(), Errno> {
        let bytes = memory.bytes(buf, len)?;
        if self.board.fill_random(bytes) { Ok(()) } else { Err(errno::NOSYS) }
    }

    fn sched_yield(&mut self, _memory: &mut GuestMemory) -> Result<(), Errno> {
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

/// Declares the WASI functions: for each, an array-call shim and an entry in
/// [`resolve`]. Functions marked `noreturn` have no result (`proc_exit`).
macro_rules! wasi_functions {
    ($( $(#[$noreturn:ident])? fn $name:ident($($arg:ident: $ty:ident),*); )*) => {
        $(
            /// # Safety
            /// Called by compiled code with its vmctx and a values array.
            unsafe extern "C" fn $name<B: Board>(vmctx: *mut VmCtx, values: *mut u64) {
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
            }
        )*

        /// The host function for the WASI import `name`, if Kiln has it.
        pub fn resolve<B: Board>(name: &[u8]) -> Option<Extern> {
            $(
                if name == stringify!($name).as_bytes() {
                    const PARAMS: &[u8] = &[$(wasi_valtype!($ty)),*];
                    let results: &[u8] = wasi_functions!(@results $($noreturn)?);
                    return Some(Extern::HostFunc {
                        signature_id: abi::signature_id(PARAMS, results),
                        func: $name::<B>,
                    });
                }
            )*
            None
        }
    };
    (@results noreturn) => { &[] };
    (@results) => { &[valtype::I32] };
}

wasi_functions! {
    fn args_get(argv: u32, argv_buf: u32);
    fn args_sizes_get(argc: u32, argv_buf_size: u32);
    fn environ_get(environ: u32, environ_buf: u32);
    fn environ_sizes_get(environc: u32, environ_buf_size: u32);
    fn clock_res_get(id: u32, resolution: u32);
    fn clock_time_get(id: u32, precision: u64, time: u32);
    fn fd_write(fd: u32, iovs: u32, iovs_len: u32, nwritten: u32);
    #[noreturn] fn proc_exit(rval: u32);
    fn random_get(buf: u32, buf_len: u32);
    fn sched_yield();
}
