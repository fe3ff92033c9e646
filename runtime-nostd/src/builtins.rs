//! The runtime services compiled code calls through `vmctx.builtins`:
//! `memory.grow`, the bulk-memory and the table instructions that are not
//! inlined. Each finds its instance through `vmctx.instance`.

use crate::abi::{Builtins, VmCtx};
use crate::instance::{Instance, range};

pub static BUILTINS: Builtins = Builtins {
    memory_grow,
    memory_fill,
    memory_copy,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
};

/// # Safety
/// `vmctx` must be the context of a live instance (compiled code passes its own).
unsafe fn instance<'a>(vmctx: *mut VmCtx) -> &'a mut Instance {
    // SAFETY: the runtime sets `instance` to the owning Instance before any
    // compiled code runs, and instances are never freed while code runs.
    unsafe { &mut *(*vmctx).instance.cast::<Instance>() }
}

fn status(r: Result<(), ()>) -> u64 {
    r.is_err() as u64
}

unsafe extern "C" fn memory_grow(vmctx: *mut VmCtx, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    let instance = unsafe { instance(vmctx) };
    instance
        .memory()
        .and_then(|m| m.grow(delta))
        .unwrap_or(u64::MAX)
}

unsafe extern "C" fn memory_fill(vmctx: *mut VmCtx, dst: u64, val: u64, len: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let bytes = instance.memory().ok_or(())?.bytes();
        let r = range(dst, len, bytes.len())?;
        crate::memory::fill(bytes, r.start, r.len(), val as u8);
        Ok(())
    })())
}

unsafe extern "C" fn memory_copy(vmctx: *mut VmCtx, dst: u64, src: u64, len: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    let instance = unsafe { instance(vmctx) };
    status((|| {
        let bytes = instance.memory().ok_or(())?.bytes();
        let s = range(src, len, bytes.len())?;
        range(dst, len, bytes.len())?;
        crate::memory::copy_within(bytes, s.start, dst as usize, s.len());
        Ok(())
    })())
}

unsafe extern "C" fn memory_init(
    vmctx: *mut VmCtx,
    data: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    status(unsafe { instance(vmctx) }.memory_init(data as u32, dst, src, len))
}

unsafe extern "C" fn data_drop(vmctx: *mut VmCtx, data: u64) {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { instance(vmctx) }.data_drop(data as u32)
}

unsafe extern "C" fn table_grow(vmctx: *mut VmCtx, table: u64, init: u64, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { instance(vmctx) }
        .table_grow(table as u32, init as usize, delta)
        .unwrap_or(u64::MAX)
}

unsafe extern "C" fn table_fill(
    vmctx: *mut VmCtx,
    table: u64,
    dst: u64,
    val: u64,
    len: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    status(unsafe { instance(vmctx) }.table_fill(table as u32, dst, val as usize, len))
}

unsafe extern "C" fn table_copy(
    vmctx: *mut VmCtx,
    dst_table: u64,
    src_table: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    status(unsafe { instance(vmctx) }.table_copy(dst_table as u32, src_table as u32, dst, src, len))
}

unsafe extern "C" fn table_init(
    vmctx: *mut VmCtx,
    table: u64,
    elem: u64,
    dst: u64,
    src: u64,
    len: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    status(unsafe { instance(vmctx) }.table_init(table as u32, elem as u32, dst, src, len))
}

unsafe extern "C" fn elem_drop(vmctx: *mut VmCtx, elem: u64) {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { instance(vmctx) }.elem_drop(elem as u32)
}
