//! Instantiation: from a [`ModuleDescriptor`] and resolved imports to a live
//! instance with its vmctx, memory, tables, globals and function references,
//! following the Wasm 2.0 order (imports, globals, tables and memory, element
//! segments, data segments, start function).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::fmt;

use crate::abi::{
    self, ArrayCall, ConstExpr, ModuleDescriptor, VmCtx, VmFuncRef, VmGlobal, VmTable, extern_kind,
    segment_mode, valtype,
};
use crate::builtins::BUILTINS;
use crate::console::{FmtSink, Sink};
use crate::trap::{self, Trap};

pub use crate::memory::{MemoryStore, PAGE_SIZE};
/// Largest table this runtime creates, whatever the module declares.
const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// Something an import can be satisfied with.
#[derive(Clone, Copy)]
pub enum Extern {
    /// A function of another instance (a copy of its function reference).
    Func(*const VmFuncRef),
    /// A host function of the array-call convention.
    HostFunc {
        signature_id: u64,
        func: ArrayCall,
    },
    Table(*mut TableStore),
    Memory(*mut MemoryStore),
    Global {
        cell: *mut VmGlobal,
        ty: u8,
        mutable: bool,
    },
}

/// Resolves imports by (module, name).
pub trait Resolve {
    fn resolve(&mut self, module: &[u8], name: &[u8]) -> Option<Extern>;
}

/// Why instantiation failed.
pub enum InstantiateError {
    /// The descriptor was made for another runtime ABI (or is not one).
    BadDescriptor { found_version: u32 },
    /// An import is missing or has the wrong type.
    Link {
        module: &'static [u8],
        name: &'static [u8],
        reason: LinkReason,
    },
    /// The board cannot hold the module's memory or tables.
    OutOfMemory { what: &'static str, bytes: u64 },
    /// The code uses a CPU feature (Cranelift's name) this CPU lacks.
    CpuFeature { name: &'static str },
    /// A segment initialiser or the start function trapped.
    Trap(Trap),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkReason {
    Unknown,
    IncompatibleType,
}

impl InstantiateError {
    /// Writes the error as one line's text (without `kiln: error: `).
    pub fn write<S: Sink>(&self, out: &mut S) {
        match self {
            InstantiateError::BadDescriptor { found_version } => {
                out.text("module was compiled for runtime ABI version ")
                    .dec(*found_version as u64)
                    .text(", this runtime has version ")
                    .dec(abi::ABI_VERSION as u64)
                    .text("; recompile it with this kiln");
            }
            InstantiateError::Link {
                module,
                name,
                reason,
            } => {
                out.text(match reason {
                    LinkReason::Unknown => "unknown import: ",
                    LinkReason::IncompatibleType => "incompatible import type: ",
                })
                .name(module)
                .text(".")
                .name(name);
            }
            InstantiateError::OutOfMemory { what, bytes } => {
                out.text("out of memory: the board cannot hold the ")
                    .text(what)
                    .text(" (")
                    .dec(*bytes)
                    .text(" bytes)");
            }
            InstantiateError::CpuFeature { name } => {
                out.text("module was compiled for CPU feature `")
                    .text(name)
                    .text("`, which this CPU lacks (or the system does not enable); recompile it for this machine (`--isa-flag native`) or without the feature (`--isa-flag baseline`)");
            }
            InstantiateError::Trap(trap) => {
                out.text(trap.kind.message());
            }
        }
    }
}

impl fmt::Display for InstantiateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(&mut FmtSink(f));
        Ok(())
    }
}

/// Displays bytes as text, escaping what is not printable.
pub struct Bytes<'a>(pub &'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FmtSink(f).name(self.0);
        Ok(())
    }
}

/// A table with the runtime's bookkeeping (see [`MemoryStore`]).
#[repr(C)]
pub struct TableStore {
    pub vm: VmTable,
    pub declared_max: Option<u64>,
}

impl TableStore {
    pub fn new(
        elem_type: u8,
        min: u64,
        max: Option<u64>,
        init: usize,
    ) -> Result<Box<TableStore>, InstantiateError> {
        let limit = (max.unwrap_or(u32::MAX as u64) as usize).min(MAX_TABLE_ELEMENTS);
        if min as usize > limit {
            return Err(InstantiateError::OutOfMemory {
                what: "table",
                bytes: min * 8,
            });
        }
        let mut elements: Vec<usize> = Vec::new();
        if elements.try_reserve_exact(min as usize).is_err() {
            return Err(InstantiateError::OutOfMemory {
                what: "table",
                bytes: min * 8,
            });
        }
        elements.resize(min as usize, init);
        let mut elements = core::mem::ManuallyDrop::new(elements);
        Ok(Box::new(TableStore {
            vm: VmTable {
                elements: elements.as_mut_ptr(),
                length: elements.len(),
                capacity: elements.capacity(),
                max_length: limit,
                elem_type,
            },
            declared_max: max,
        }))
    }

    fn take_vec(&mut self) -> Vec<usize> {
        // SAFETY: the parts came from a Vec in `new` or `grow`.
        let v = unsafe { Vec::from_raw_parts(self.vm.elements, self.vm.length, self.vm.capacity) };
        self.vm.elements = core::ptr::NonNull::dangling().as_ptr();
        self.vm.length = 0;
        self.vm.capacity = 0;
        v
    }

    fn put_vec(&mut self, v: Vec<usize>) {
        let mut v = core::mem::ManuallyDrop::new(v);
        self.vm.elements = v.as_mut_ptr();
        self.vm.length = v.len();
        self.vm.capacity = v.capacity();
    }

    /// `table.grow`: the old length, or `None` when the table cannot grow.
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.vm.length;
        let new = (old as u64).checked_add(delta)?;
        if new > self.vm.max_length as u64 {
            return None;
        }
        let mut v = self.take_vec();
        let ok = v.try_reserve(delta as usize).is_ok();
        if ok {
            v.resize(new as usize, init);
        }
        self.put_vec(v);
        ok.then_some(old as u64)
    }

    pub fn elements(&mut self) -> &mut [usize] {
        // SAFETY: elements..elements+length belong to this table.
        unsafe { core::slice::from_raw_parts_mut(self.vm.elements, self.vm.length) }
    }
}

impl Drop for TableStore {
    fn drop(&mut self) {
        drop(self.take_vec());
    }
}

/// A live instance. Boxed: compiled code and other instances hold pointers
/// into it (its vmctx, memory, tables, globals and function references).
pub struct Instance {
    pub module: &'static ModuleDescriptor,
    vmctx: VmCtx,
    memory: Option<Box<MemoryStore>>,
    memory_ptr: *mut MemoryStore,
    // Boxed: vmctx.tables and importers point at each table.
    #[allow(clippy::vec_box)]
    tables: Vec<Box<TableStore>>,
    table_ptrs: Vec<*mut VmTable>,
    globals: Box<[VmGlobal]>,
    global_ptrs: Vec<*mut VmGlobal>,
    funcrefs: Box<[VmFuncRef]>,
    dropped_elems: Vec<bool>,
    dropped_datas: Vec<bool>,
}

impl Instance {
    /// Instantiates `module`, resolving its imports with `imports`. `host` is
    /// stored in the vmctx for host functions; `stack_limit` bounds the stack
    /// compiled code may use.
    pub fn new(
        module: &'static ModuleDescriptor,
        imports: &mut dyn Resolve,
        host: *mut c_void,
        stack_limit: usize,
    ) -> Result<Box<Instance>, InstantiateError> {
        if module.magic != abi::MODULE_MAGIC || module.abi_version != abi::ABI_VERSION {
            return Err(InstantiateError::BadDescriptor {
                found_version: if module.magic == abi::MODULE_MAGIC {
                    module.abi_version
                } else {
                    0
                },
            });
        }
        // SAFETY (all `as_slice`/`as_bytes` below): the descriptor is static
        // data emitted by the compiler for this ABI version.
        let d = unsafe { Descriptor::of(module) };
        if let Some(name) = crate::cpu::missing(module.flags) {
            return Err(InstantiateError::CpuFeature { name });
        }
        // Code compiled for guard regions needs memories in reservations,
        // which only boards with virtual memory give (see `memory`).
        if module.flags & abi::FLAG_EXPLICIT_BOUNDS_CHECKS == 0
            && !d.memories.is_empty()
            && crate::board::virtual_memory().is_none()
        {
            return Err(InstantiateError::OutOfMemory {
                what: "guard region the module was compiled for (this board has no virtual memory: compile for its target)",
                bytes: crate::memory::RESERVATION_BYTES as u64,
            });
        }
        let mut instance = Box::new(Instance {
            module,
            vmctx: VmCtx {
                memory: core::ptr::null_mut(),
                stack_limit,
                globals: core::ptr::null(),
                tables: core::ptr::null(),
                funcrefs: core::ptr::null_mut(),
                builtins: &BUILTINS,
                features: crate::cpu::vmctx_features(),
                instance: core::ptr::null_mut(),
                host,
            },
            memory: None,
            memory_ptr: core::ptr::null_mut(),
            tables: Vec::new(),
            table_ptrs: vec![core::ptr::null_mut(); d.tables.len()],
            globals: (0..d.globals.len()).map(|_| VmGlobal::new(0)).collect(),
            global_ptrs: vec![core::ptr::null_mut(); d.globals.len()],
            funcrefs: (0..d.funcs.len())
                .map(|_| VmFuncRef {
                    code: core::ptr::null(),
                    vmctx: core::ptr::null_mut(),
                    signature_id: 0,
                    host: None,
                })
                .collect(),
            dropped_elems: vec![false; d.elems.len()],
            dropped_datas: vec![false; d.datas.len()],
        });
        let self_ptr: *mut Instance = &mut *instance;
        instance.vmctx.instance = self_ptr.cast();
        let vmctx: *mut VmCtx = &mut instance.vmctx;

        instance.resolve_imports(&d, imports, vmctx)?;

        // Defined functions.
        for (index, func) in d
            .funcs
            .iter()
            .enumerate()
            .skip(module.num_imported_funcs as usize)
        {
            instance.funcrefs[index] = VmFuncRef {
                code: func.code,
                vmctx,
                signature_id: d.signature(func.type_index),
                host: None,
            };
        }
        // Defined memory.
        for mem in d.memories.iter().filter(|m| m.imported == 0) {
            let mut store =
                MemoryStore::new(mem.min_pages, (mem.has_max != 0).then_some(mem.max_pages))?;
            instance.memory_ptr = &mut *store;
            instance.memory = Some(store);
        }
        // Defined globals, in order (initialisers may read earlier globals).
        for (index, global) in d.globals.iter().enumerate() {
            if global.imported == 0 {
                let value = instance.eval(&global.init);
                instance.globals[index].set_value(value);
                instance.global_ptrs[index] = &mut instance.globals[index];
            }
        }
        // Defined tables (Wasm 2.0 tables start out null).
        for (index, table) in d.tables.iter().enumerate() {
            if table.imported == 0 {
                let mut store = TableStore::new(
                    table.elem_type,
                    table.min as u64,
                    (table.has_max != 0).then_some(table.max as u64),
                    0,
                )?;
                instance.table_ptrs[index] = &mut store.vm;
                instance.tables.push(store);
            }
        }
        instance.vmctx.memory = instance.memory_ptr.cast();
        instance.vmctx.globals = instance.global_ptrs.as_ptr();
        instance.vmctx.tables = instance.table_ptrs.as_ptr();
        instance.vmctx.funcrefs = instance.funcrefs.as_mut_ptr();
        trap::register_module(module);

        // Element segments, then data segments, each in order; a failing
        // segment traps and leaves the earlier ones applied (Wasm 2.0).
        for (index, elem) in d.elems.iter().enumerate() {
            match elem.mode {
                segment_mode::ACTIVE => {
                    let offset = instance.eval(&elem.offset) as u32 as u64;
                    // SAFETY: static descriptor data.
                    let items = unsafe { elem.items.as_slice() };
                    let len = items.len() as u64;
                    if instance
                        .table_init(elem.table, index as u32, offset, 0, len)
                        .is_err()
                    {
                        return Err(instance.fail_after_init(Trap {
                            kind: abi::TrapKind::TableOutOfBounds,
                            site: None,
                            host_func: None,
                            exit_status: 0,
                        }));
                    }
                    instance.dropped_elems[index] = true;
                }
                segment_mode::DECLARED => instance.dropped_elems[index] = true,
                _ => {}
            }
        }
        for (index, data) in d.datas.iter().enumerate() {
            if data.mode == segment_mode::ACTIVE {
                let offset = instance.eval(&data.offset) as u32 as u64;
                let len = data.bytes.len as u64;
                if instance.memory_init(index as u32, offset, 0, len).is_err() {
                    return Err(instance.fail_after_init(Trap {
                        kind: abi::TrapKind::MemoryOutOfBounds,
                        site: None,
                        host_func: None,
                        exit_status: 0,
                    }));
                }
                instance.dropped_datas[index] = true;
            }
        }

        if module.start != abi::NO_START {
            let func = &instance.funcrefs[module.start as usize];
            let (code, callee) = (func.code, func.vmctx);
            // The start function has type [] -> []: its native entry takes only
            // the vmctx, so it can be called as an array-call function (the
            // extra argument register is ignored by every supported C ABI).
            // SAFETY: `code` is a compiled function or import adapter.
            let entry: ArrayCall = unsafe { core::mem::transmute(code) };
            let mut values = [0u64; 1];
            // SAFETY: instantiated above.
            if let Err(trap) = unsafe { trap::call(entry, callee, values.as_mut_ptr()) } {
                return Err(instance.fail_after_init(trap));
            }
        }
        Ok(instance)
    }

    /// A trap after segments began to apply: in Wasm 2.0 their effects
    /// stay (another instance's table may now hold this instance's
    /// functions), so the instance must outlive the failure. It is leaked.
    fn fail_after_init(self: Box<Self>, trap: Trap) -> InstantiateError {
        Box::leak(self);
        InstantiateError::Trap(trap)
    }

    fn resolve_imports(
        &mut self,
        d: &Descriptor,
        imports: &mut dyn Resolve,
        vmctx: *mut VmCtx,
    ) -> Result<(), InstantiateError> {
        for import in d.imports {
            // SAFETY: static descriptor data.
            let (module_name, name) = unsafe { (import.module.as_bytes(), import.name.as_bytes()) };
            let err = |reason| InstantiateError::Link {
                module: module_name,
                name,
                reason,
            };
            // An import bound at link time carries its host function.
            // SAFETY: a non-null `host` points to a static HostFunc.
            let found = match unsafe { import.host.as_ref() } {
                Some(h) => Extern::HostFunc {
                    signature_id: h.signature_id,
                    func: h.func,
                },
                None => imports
                    .resolve(module_name, name)
                    .ok_or(err(LinkReason::Unknown))?,
            };
            let index = import.index as usize;
            match (import.kind, found) {
                (extern_kind::FUNC, Extern::Func(funcref)) => {
                    let expected = d.signature(d.funcs[index].type_index);
                    // SAFETY: function references live as long as their instance.
                    let f = unsafe { &*funcref };
                    if f.signature_id != expected {
                        return Err(err(LinkReason::IncompatibleType));
                    }
                    self.funcrefs[index] = VmFuncRef {
                        code: f.code,
                        vmctx: f.vmctx,
                        signature_id: f.signature_id,
                        host: f.host,
                    };
                }
                (extern_kind::FUNC, Extern::HostFunc { signature_id, func }) => {
                    if signature_id != d.signature(d.funcs[index].type_index) {
                        return Err(err(LinkReason::IncompatibleType));
                    }
                    // The module's import adapter forwards to the host function.
                    self.funcrefs[index] = VmFuncRef {
                        code: d.funcs[index].code,
                        vmctx,
                        signature_id,
                        host: Some(func),
                    };
                }
                (extern_kind::TABLE, Extern::Table(table)) => {
                    let want = &d.tables[index];
                    // SAFETY: tables live as long as their owner.
                    let t = unsafe { &*table };
                    let max_ok =
                        want.has_max == 0 || t.declared_max.is_some_and(|m| m <= want.max as u64);
                    if t.vm.elem_type != want.elem_type
                        || (t.vm.length as u64) < want.min as u64
                        || !max_ok
                    {
                        return Err(err(LinkReason::IncompatibleType));
                    }
                    self.table_ptrs[index] = table.cast();
                }
                (extern_kind::MEMORY, Extern::Memory(memory)) => {
                    let want = &d.memories[index];
                    // SAFETY: memories live as long as their owner.
                    let m = unsafe { &*memory };
                    let max_ok =
                        want.has_max == 0 || m.declared_max.is_some_and(|x| x <= want.max_pages);
                    if m.pages() < want.min_pages || !max_ok {
                        return Err(err(LinkReason::IncompatibleType));
                    }
                    self.memory_ptr = memory;
                }
                (extern_kind::GLOBAL, Extern::Global { cell, ty, mutable }) => {
                    let want = &d.globals[index];
                    if want.ty != ty || (want.mutable != 0) != mutable {
                        return Err(err(LinkReason::IncompatibleType));
                    }
                    self.global_ptrs[index] = cell;
                }
                _ => return Err(err(LinkReason::IncompatibleType)),
            }
        }
        Ok(())
    }

    /// Evaluates a constant expression (128 bits wide for `v128`; other
    /// types in the low 64).
    fn eval(&self, expr: &ConstExpr) -> u128 {
        match expr.kind {
            ConstExpr::GLOBAL_GET => {
                let cell = self.global_ptrs[expr.index as usize];
                // SAFETY: imported or earlier globals are initialised (validation
                // guarantees the index refers to one).
                unsafe { (*cell).value() }
            }
            ConstExpr::REF_NULL => 0,
            ConstExpr::REF_FUNC => {
                (&self.funcrefs[expr.index as usize] as *const VmFuncRef) as u64 as u128
            }
            _ => u128::from(expr.bits) | u128::from(expr.high) << 64,
        }
    }

    pub fn vmctx(&self) -> *mut VmCtx {
        (&self.vmctx as *const VmCtx).cast_mut()
    }

    /// The instance's memory 0, defined or imported.
    pub fn memory(&mut self) -> Option<&mut MemoryStore> {
        // SAFETY: points to a live memory for the instance's lifetime.
        unsafe { self.memory_ptr.as_mut() }
    }

    fn table(&mut self, index: u32) -> Option<&mut TableStore> {
        let ptr = *self.table_ptrs.get(index as usize)?;
        // SAFETY: tables are TableStores (repr(C), VmTable first) that live as
        // long as the instances using them.
        unsafe { ptr.cast::<TableStore>().as_mut() }
    }

    /// Looks up an export.
    pub fn export(&self, name: &[u8]) -> Option<Extern> {
        // SAFETY: static descriptor data.
        let exports = unsafe { self.module.exports.as_slice() };
        let export = exports
            .iter()
            .find(|e| unsafe { e.name.as_bytes() } == name)?;
        let index = export.index as usize;
        let d = unsafe { Descriptor::of(self.module) };
        Some(match export.kind {
            extern_kind::FUNC => Extern::Func(&self.funcrefs[index]),
            extern_kind::TABLE => Extern::Table(self.table_ptrs[index].cast()),
            extern_kind::MEMORY => Extern::Memory(self.memory_ptr),
            _ => Extern::Global {
                cell: self.global_ptrs[index],
                ty: d.globals[index].ty,
                mutable: d.globals[index].mutable != 0,
            },
        })
    }

    /// The exported function `name`: its trampoline and type.
    pub fn export_func(&self, name: &[u8]) -> Option<ExportedFunc> {
        // SAFETY: static descriptor data.
        let d = unsafe { Descriptor::of(self.module) };
        let export = d
            .exports
            .iter()
            .find(|e| e.kind == extern_kind::FUNC && unsafe { e.name.as_bytes() } == name)?;
        let ty = &d.types[d.funcs[export.index as usize].type_index as usize];
        Some(ExportedFunc {
            trampoline: export.trampoline?,
            // SAFETY: static descriptor data.
            params: unsafe { ty.params.as_slice() },
            results: unsafe { ty.results.as_slice() },
        })
    }

    /// Calls an exported function with the array-call convention.
    pub fn call(&self, func: &ExportedFunc, values: &mut [u64]) -> Result<(), Trap> {
        assert!(values.len() >= abi::slots_of(func.params).max(abi::slots_of(func.results)));
        // SAFETY: the trampoline belongs to this instance's module and
        // `values` is large enough.
        unsafe { trap::call(func.trampoline, self.vmctx(), values.as_mut_ptr()) }
    }

    // -- operations shared with the builtins -----------------------------

    pub(crate) fn memory_init(
        &mut self,
        data: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), ()> {
        // SAFETY: static descriptor data.
        let d = unsafe { Descriptor::of(self.module) };
        let segment = &d.datas[data as usize];
        // SAFETY: static descriptor data.
        let bytes: &[u8] = if self.dropped_datas[data as usize] {
            &[]
        } else {
            unsafe { segment.bytes.as_slice() }
        };
        let memory = self.memory().ok_or(())?.bytes();
        let src_range = range(src, len, bytes.len())?;
        let dst_range = range(dst, len, memory.len())?;
        memory[dst_range].copy_from_slice(&bytes[src_range]);
        Ok(())
    }

    pub(crate) fn data_drop(&mut self, data: u32) {
        self.dropped_datas[data as usize] = true;
    }

    pub(crate) fn table_init(
        &mut self,
        table: u32,
        elem: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), ()> {
        // SAFETY: static descriptor data.
        let d = unsafe { Descriptor::of(self.module) };
        let segment = &d.elems[elem as usize];
        // SAFETY: static descriptor data.
        let items: &[ConstExpr] = if self.dropped_elems[elem as usize] {
            &[]
        } else {
            unsafe { segment.items.as_slice() }
        };
        let src_range = range(src, len, items.len())?;
        let values: Vec<usize> = items[src_range]
            .iter()
            .map(|e| self.eval(e) as u64 as usize)
            .collect();
        let elements = self.table(table).ok_or(())?.elements();
        let dst_range = range(dst, len, elements.len())?;
        elements[dst_range].copy_from_slice(&values);
        Ok(())
    }

    pub(crate) fn elem_drop(&mut self, elem: u32) {
        self.dropped_elems[elem as usize] = true;
    }

    pub(crate) fn table_grow(&mut self, table: u32, init: usize, delta: u64) -> Option<u64> {
        self.table(table)?.grow(delta, init)
    }

    pub(crate) fn table_fill(
        &mut self,
        table: u32,
        dst: u64,
        val: usize,
        len: u64,
    ) -> Result<(), ()> {
        let elements = self.table(table).ok_or(())?.elements();
        let r = range(dst, len, elements.len())?;
        elements[r].fill(val);
        Ok(())
    }

    pub(crate) fn table_copy(
        &mut self,
        dst_t: u32,
        src_t: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), ()> {
        let src_len = self.table(src_t).ok_or(())?.vm.length;
        let src_range = range(src, len, src_len)?;
        if dst_t == src_t
            || core::ptr::eq(
                self.table_ptrs[dst_t as usize],
                self.table_ptrs[src_t as usize],
            )
        {
            let elements = self.table(dst_t).ok_or(())?.elements();
            range(dst, len, elements.len())?;
            elements.copy_within(src_range, dst as usize);
        } else {
            let values: Vec<usize> = self.table(src_t).ok_or(())?.elements()[src_range].to_vec();
            let elements = self.table(dst_t).ok_or(())?.elements();
            let dst_range = range(dst, len, elements.len())?;
            elements[dst_range].copy_from_slice(&values);
        }
        Ok(())
    }
}

/// An exported function ready to be called with [`Instance::call`].
pub struct ExportedFunc {
    pub trampoline: ArrayCall,
    pub params: &'static [u8],
    pub results: &'static [u8],
}

/// `start..start+len` if it lies within `0..size`.
pub(crate) fn range(start: u64, len: u64, size: usize) -> Result<core::ops::Range<usize>, ()> {
    let end = start.checked_add(len).ok_or(())?;
    if end > size as u64 {
        return Err(());
    }
    Ok(start as usize..end as usize)
}

/// The descriptor's arrays as slices.
struct Descriptor {
    types: &'static [abi::FuncTypeDesc],
    funcs: &'static [abi::FuncDesc],
    tables: &'static [abi::TableDesc],
    memories: &'static [abi::MemoryDesc],
    globals: &'static [abi::GlobalDesc],
    imports: &'static [abi::ImportDesc],
    exports: &'static [abi::ExportDesc],
    elems: &'static [abi::ElemDesc],
    datas: &'static [abi::DataDesc],
}

impl Descriptor {
    /// # Safety
    /// `m` must be a descriptor emitted by the compiler for this ABI version.
    unsafe fn of(m: &'static ModuleDescriptor) -> Descriptor {
        // SAFETY: the caller vouches for the descriptor.
        unsafe {
            Descriptor {
                types: m.types.as_slice(),
                funcs: m.funcs.as_slice(),
                tables: m.tables.as_slice(),
                memories: m.memories.as_slice(),
                globals: m.globals.as_slice(),
                imports: m.imports.as_slice(),
                exports: m.exports.as_slice(),
                elems: m.elems.as_slice(),
                datas: m.datas.as_slice(),
            }
        }
    }

    fn signature(&self, type_index: u32) -> u64 {
        self.types[type_index as usize].signature_id
    }
}

/// True if `ty` is a reference type.
pub fn is_ref(ty: u8) -> bool {
    ty == valtype::FUNCREF || ty == valtype::EXTERNREF
}
