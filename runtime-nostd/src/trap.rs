//! Traps: calling into compiled code so that a trap comes back as an error,
//! and turning a CPU fault inside compiled code into that error.
//!
//! Compiled code traps with an illegal instruction (Cranelift's `trap`) at a
//! place the object's trap table names. The board's fault handler (a signal
//! handler on the host, an exception vector on bare metal) calls [`on_fault`]
//! with the faulting PC; when it names a trap site, the handler makes the CPU
//! continue at `kiln_resume` with the arguments in [`Resume`], which restores
//! the registers saved by the innermost [`call`] and returns the trap code
//! from it. The happy path costs nothing but the register save on entry.
//!
//! The watchdog uses the same resume: a board whose deadline timer fires
//! calls [`on_interrupt`] with the interrupted PC; inside compiled code the
//! call ends with [`TrapKind::Interrupted`], anywhere else (the runtime, a
//! host function, the board) the board tries again shortly after, because
//! Rust code cannot be abandoned halfway. Once the deadline has passed,
//! every later call into Wasm ends at once the same way, and so does every
//! WASI function on its way back to Wasm ([`interrupt_host_call`]).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::abi::{ArrayCall, ModuleDescriptor, TrapKind, VmCtx};
use crate::arch::JMPBUF_WORDS;
use crate::global::Global;

#[repr(C)]
struct JmpBuf {
    words: [usize; JMPBUF_WORDS],
}

unsafe extern "C" {
    fn kiln_call_guarded(
        buf: *mut JmpBuf,
        f: ArrayCall,
        vmctx: *mut VmCtx,
        values: *mut u64,
    ) -> u32;
    fn kiln_resume(buf: *mut JmpBuf, code: u32) -> !;
}

/// A trap that ended a call into Wasm.
#[derive(Clone, Copy)]
pub struct Trap {
    pub kind: TrapKind,
    /// Where it happened, when the PC was inside compiled code.
    pub site: Option<TrapSite>,
    /// The WASI function that was running when the deadline passed, for an
    /// [`TrapKind::Interrupted`] raised by [`interrupt_host_call`].
    pub host_func: Option<&'static str>,
    /// For [`TrapKind::Exit`]: the status passed to `proc_exit`.
    pub exit_status: u32,
}

/// The Wasm function in which a trap happened.
#[derive(Clone, Copy)]
pub struct TrapSite {
    pub module: &'static ModuleDescriptor,
    pub func_index: u32,
    pub offset: u32,
}

impl TrapSite {
    /// The function's name from the name section, if the module had one.
    pub fn func_name(&self) -> Option<&'static [u8]> {
        // SAFETY: descriptors are static data emitted by the compiler.
        let funcs = unsafe { self.module.funcs.as_slice() };
        let name = unsafe { funcs.get(self.func_index as usize)?.name.as_bytes() };
        (!name.is_empty()).then_some(name)
    }
}

/// Where a fault handler makes the CPU continue: at `pc`, with the first two
/// argument registers set to `args`. The stack pointer may be left as it is.
#[derive(Clone, Copy, Debug)]
pub struct Resume {
    pub pc: usize,
    pub args: [usize; 2],
}

struct State {
    /// Jump buffer of the innermost guarded call, null outside Wasm.
    current: *mut JmpBuf,
    last: Option<Trap>,
    modules: Vec<&'static ModuleDescriptor>,
}

/// The deadline has passed: calls into Wasm end with `Interrupted`. An
/// atomic because the watchdog interrupt may set it anywhere.
static EXPIRED: AtomicBool = AtomicBool::new(false);

static STATE: Global<State> = Global::new(State {
    current: core::ptr::null_mut(),
    last: None,
    modules: Vec::new(),
});

/// Makes the code of `module` known to the fault handler.
pub fn register_module(module: &'static ModuleDescriptor) {
    // SAFETY: single core; not called from a fault handler.
    let state = unsafe { STATE.get() };
    if !state.modules.iter().any(|m| core::ptr::eq(*m, module)) {
        state.modules.push(module);
    }
}

/// Calls `f(vmctx, values)` (an array-call trampoline or host function) so
/// that a trap inside it returns as `Err`.
///
/// # Safety
/// `f` must be a function of the array-call convention, `vmctx` an
/// instantiated context and `values` large enough for its params and results.
pub unsafe fn call(f: ArrayCall, vmctx: *mut VmCtx, values: *mut u64) -> Result<(), Trap> {
    let mut buf = JmpBuf {
        words: [0; JMPBUF_WORDS],
    };
    if EXPIRED.load(Ordering::Relaxed) {
        return Err(Trap {
            kind: TrapKind::Interrupted,
            site: None,
            host_func: None,
            exit_status: 0,
        });
    }
    // SAFETY: single core; the borrow ends before compiled code runs.
    let prev = unsafe {
        let state = STATE.get();
        core::mem::replace(&mut state.current, &mut buf)
    };
    // SAFETY: the caller guarantees the arguments; `buf` outlives the call.
    let code = unsafe { kiln_call_guarded(&mut buf, f, vmctx, values) };
    // SAFETY: compiled code has returned or been resumed from.
    let state = unsafe { STATE.get() };
    state.current = prev;
    if code == 0 {
        return Ok(());
    }
    Err(state.last.take().unwrap_or(Trap {
        kind: TrapKind::from_u8(code as u8).unwrap_or(TrapKind::HostError),
        site: None,
        host_func: None,
        exit_status: 0,
    }))
}

/// Ends the innermost guarded call with `kind`, from a host function running
/// inside it (for example `proc_exit`). Rust frames between here and the
/// guarded call are skipped without running destructors: callers hold no
/// resources when they raise.
pub fn raise(kind: TrapKind, exit_status: u32) -> ! {
    end_guarded_call(Trap {
        kind,
        site: None,
        host_func: None,
        exit_status,
    })
}

/// Ends the innermost guarded call with [`TrapKind::Interrupted`] when the
/// deadline has passed, from the WASI function `name` about to return to
/// Wasm. The watchdog cannot stop Rust code halfway, so a program that
/// spends most of its time in host calls is stopped here, on the way out of
/// the first one that returns after the deadline, instead of waiting for an
/// interrupt to land in compiled code. Same rules as [`raise`].
pub fn interrupt_host_call(name: &'static str) {
    if EXPIRED.load(Ordering::Relaxed) {
        end_guarded_call(Trap {
            kind: TrapKind::Interrupted,
            site: None,
            host_func: Some(name),
            exit_status: 0,
        })
    }
}

fn end_guarded_call(trap: Trap) -> ! {
    // SAFETY: single core; we leave through kiln_resume and never come back.
    let state = unsafe { STATE.get() };
    let buf = state.current;
    if buf.is_null() {
        panic!("kiln: trap raised outside Wasm");
    }
    let code = trap.kind as u32;
    state.last = Some(trap);
    // SAFETY: `buf` belongs to a live guarded call further up this stack.
    unsafe { kiln_resume(buf, code) }
}

/// The compiled function whose code holds `pc`, if any.
fn function_at(pc: usize) -> Option<(TrapSite, &'static [crate::abi::TrapSite])> {
    // SAFETY: read-only use; registration never runs inside a fault or an
    // interrupt of compiled code.
    let state = unsafe { STATE.get() };
    for module in state.modules.iter().copied() {
        // SAFETY: descriptors are static data emitted by the compiler.
        let funcs = unsafe { module.funcs.as_slice() };
        for (index, func) in funcs.iter().enumerate() {
            let start = func.code as usize;
            if pc < start || pc >= start + func.code_len as usize {
                continue;
            }
            let site = TrapSite {
                module,
                func_index: index as u32,
                offset: (pc - start) as u32,
            };
            // SAFETY: as above.
            return Some((site, unsafe { func.traps.as_slice() }));
        }
    }
    None
}

/// Looks `pc` up in the trap tables: the trap site, if `pc` is one.
pub fn lookup(pc: usize) -> Option<(TrapKind, TrapSite)> {
    let (site, traps) = function_at(pc)?;
    let found = traps
        .binary_search_by_key(&site.offset, |t| t.offset)
        .ok()?;
    let kind = TrapKind::from_u8(traps[found].kind as u8)?;
    Some((kind, site))
}

/// Called by a board's watchdog interrupt with the interrupted PC, once the
/// deadline has passed. Marks the run as expired; when `pc` is in compiled
/// code inside a guarded call, returns where to resume (that call ends with
/// [`TrapKind::Interrupted`]), exactly as [`on_fault`] does for a trap. `None`
/// means the CPU was elsewhere (runtime, host function, board): the board
/// returns from the interrupt and tries again shortly after.
pub fn on_interrupt(pc: usize) -> Option<Resume> {
    EXPIRED.store(true, Ordering::Relaxed);
    // SAFETY: the state is only touched further when a guarded call is
    // running (`current` is set), and while one runs the runtime never
    // changes the module list, so the walk below cannot see it half-updated;
    // `last` is written only when the PC is in compiled code, which holds
    // no borrow of the state.
    let state = unsafe { STATE.get() };
    if state.current.is_null() {
        return None;
    }
    let (site, _) = function_at(pc)?;
    state.last = Some(Trap {
        kind: TrapKind::Interrupted,
        site: Some(site),
        host_func: None,
        exit_status: 0,
    });
    Some(Resume {
        pc: kiln_resume as *const () as usize,
        args: [state.current as usize, TrapKind::Interrupted as usize],
    })
}

/// Whether the deadline has passed (a watchdog interrupt arrived).
pub fn expired() -> bool {
    EXPIRED.load(Ordering::Relaxed)
}

/// Called by a board's fault handler with the faulting PC. Returns where to
/// resume when the fault is a Wasm trap inside a guarded call; `None` means
/// the fault is not a trap (a runtime or board bug) and the board should
/// report the CPU state.
pub fn on_fault(pc: usize) -> Option<Resume> {
    // SAFETY: the fault interrupted compiled code, never the runtime's own
    // use of the state (see `global`).
    let state = unsafe { STATE.get() };
    if state.current.is_null() {
        return None;
    }
    let (kind, site) = lookup(pc)?;
    state.last = Some(Trap {
        kind,
        site: Some(site),
        host_func: None,
        exit_status: 0,
    });
    Some(Resume {
        pc: kiln_resume as *const () as usize,
        args: [state.current as usize, kind as usize],
    })
}
