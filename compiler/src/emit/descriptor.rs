//! The module descriptor: one read-only data object that lays out
//! `kiln_runtime::abi::ModuleDescriptor` and everything it points to (types,
//! functions with their trap tables, tables, memories, globals, imports,
//! exports, segments, names). Field offsets come from the ABI types
//! themselves, so the compiler and the runtime cannot disagree.

use std::mem::{offset_of, size_of};

use cranelift_module::FuncId;

use super::blob::{Blob, Target};
use kiln_runtime::abi::{
    self, ConstExpr, DataDesc, ElemDesc, ExportDesc, FuncDesc, FuncTypeDesc, GlobalDesc,
    ImportDesc, MemoryDesc, ModuleDescriptor, Str, TableDesc, TrapSite, segment_mode,
};

use crate::module::{self, ConstInit, ModuleInfo, SegmentMode};

/// What the descriptor needs to know about each compiled function.
pub struct FuncCode {
    /// Symbol of the function's code (the import adapter for imports).
    pub id: FuncId,
    pub len: u32,
    /// (offset, `TrapKind`) pairs, sorted by offset.
    pub traps: Vec<(u32, u8)>,
}

/// Everything the descriptor describes.
pub struct Inputs<'a> {
    pub module: &'a ModuleInfo<'a>,
    pub name: &'a str,
    pub wasm_sha256: [u8; 32],
    pub funcs: &'a [FuncCode],
    /// Export trampolines by function index.
    pub trampolines: &'a std::collections::HashMap<u32, FuncId>,
    /// The code checks memory bounds itself; without it, the code relies on
    /// a guard region and the runtime refuses it on boards without one.
    pub explicit_bounds_checks: bool,
    /// The CPU features beyond the baseline the code may use (descriptor
    /// flag bits, `abi::CPU_FEATURE_FLAGS`).
    pub cpu_feature_flags: u32,
}

/// Lays out the descriptor; offset 0 of the blob is the `ModuleDescriptor`.
pub fn build(inputs: &Inputs<'_>) -> Blob {
    let m = inputs.module;
    let mut b = Blob::default();
    let d = b.array::<ModuleDescriptor>(1);
    b.put(d + offset_of!(ModuleDescriptor, magic), &abi::MODULE_MAGIC);
    b.u32(
        d + offset_of!(ModuleDescriptor, abi_version),
        abi::ABI_VERSION,
    );
    let mut flags = inputs.cpu_feature_flags;
    if inputs.explicit_bounds_checks {
        flags |= abi::FLAG_EXPLICIT_BOUNDS_CHECKS;
    }
    b.u32(d + offset_of!(ModuleDescriptor, flags), flags);
    b.put(
        d + offset_of!(ModuleDescriptor, wasm_sha256),
        &inputs.wasm_sha256,
    );
    b.bytes_field(
        d + offset_of!(ModuleDescriptor, name),
        inputs.name.as_bytes(),
    );
    b.u32(
        d + offset_of!(ModuleDescriptor, num_imported_funcs),
        m.num_imported_funcs,
    );
    b.u32(
        d + offset_of!(ModuleDescriptor, start),
        m.start.unwrap_or(abi::NO_START),
    );

    // Types.
    let types = b.array::<FuncTypeDesc>(m.types.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, types),
        types,
        m.types.len(),
    );
    for (i, ty) in m.types.iter().enumerate() {
        let at = types + i * size_of::<FuncTypeDesc>();
        b.u64(
            at + offset_of!(FuncTypeDesc, signature_id),
            module::signature_id(ty),
        );
        let params: Vec<u8> = ty
            .params()
            .iter()
            .map(|t| module::valtype_code(*t))
            .collect();
        let results: Vec<u8> = ty
            .results()
            .iter()
            .map(|t| module::valtype_code(*t))
            .collect();
        b.bytes_field(at + offset_of!(FuncTypeDesc, params), &params);
        b.bytes_field(at + offset_of!(FuncTypeDesc, results), &results);
    }

    // Functions with their trap tables and names.
    let funcs = b.array::<FuncDesc>(m.funcs.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, funcs),
        funcs,
        m.funcs.len(),
    );
    for (i, code) in inputs.funcs.iter().enumerate() {
        let at = funcs + i * size_of::<FuncDesc>();
        b.pointer(at + offset_of!(FuncDesc, code), Target::Func(code.id));
        b.u32(at + offset_of!(FuncDesc, code_len), code.len);
        b.u32(at + offset_of!(FuncDesc, type_index), m.funcs[i]);
        let traps = b.array::<TrapSite>(code.traps.len());
        for (k, (offset, kind)) in code.traps.iter().enumerate() {
            let t = traps + k * size_of::<TrapSite>();
            b.u32(t + offset_of!(TrapSite, offset), *offset);
            b.u32(t + offset_of!(TrapSite, kind), *kind as u32);
        }
        b.slice(at + offset_of!(FuncDesc, traps), traps, code.traps.len());
        if let Some(name) = m.func_names.get(&(i as u32)) {
            b.bytes_field(at + offset_of!(FuncDesc, name), name.as_bytes());
        }
    }

    // Tables and memories.
    let tables = b.array::<TableDesc>(m.tables.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, tables),
        tables,
        m.tables.len(),
    );
    for (i, t) in m.tables.iter().enumerate() {
        let at = tables + i * size_of::<TableDesc>();
        b.u8(
            at + offset_of!(TableDesc, elem_type),
            module::reftype_code(t.elem_type),
        );
        b.u8(at + offset_of!(TableDesc, imported), t.imported as u8);
        b.u8(at + offset_of!(TableDesc, has_max), t.max.is_some() as u8);
        b.u32(at + offset_of!(TableDesc, min), t.min);
        b.u32(at + offset_of!(TableDesc, max), t.max.unwrap_or(0));
    }
    let memories = b.array::<MemoryDesc>(m.memories.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, memories),
        memories,
        m.memories.len(),
    );
    for (i, mem) in m.memories.iter().enumerate() {
        let at = memories + i * size_of::<MemoryDesc>();
        b.u8(at + offset_of!(MemoryDesc, imported), mem.imported as u8);
        b.u8(
            at + offset_of!(MemoryDesc, has_max),
            mem.max_pages.is_some() as u8,
        );
        b.u64(at + offset_of!(MemoryDesc, min_pages), mem.min_pages);
        b.u64(
            at + offset_of!(MemoryDesc, max_pages),
            mem.max_pages.unwrap_or(0),
        );
    }

    // Globals.
    let globals = b.array::<GlobalDesc>(m.globals.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, globals),
        globals,
        m.globals.len(),
    );
    for (i, g) in m.globals.iter().enumerate() {
        let at = globals + i * size_of::<GlobalDesc>();
        b.u8(at + offset_of!(GlobalDesc, ty), module::valtype_code(g.ty));
        b.u8(at + offset_of!(GlobalDesc, mutable), g.mutable as u8);
        b.u8(
            at + offset_of!(GlobalDesc, imported),
            g.init.is_none() as u8,
        );
        const_expr(
            &mut b,
            at + offset_of!(GlobalDesc, init),
            g.init.unwrap_or(ConstInit::Value(0)),
        );
    }

    // Imports and exports.
    let imports = b.array::<ImportDesc>(m.imports.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, imports),
        imports,
        m.imports.len(),
    );
    for (i, imp) in m.imports.iter().enumerate() {
        let at = imports + i * size_of::<ImportDesc>();
        b.bytes_field(at + offset_of!(ImportDesc, module), imp.module.as_bytes());
        b.bytes_field(at + offset_of!(ImportDesc, name), imp.name.as_bytes());
        b.u8(at + offset_of!(ImportDesc, kind), imp.kind);
        b.u32(at + offset_of!(ImportDesc, index), imp.index);
        if let Some(symbol) = host_symbol(imp) {
            b.pointer(at + offset_of!(ImportDesc, host), Target::Symbol(symbol));
        }
    }
    let exports = b.array::<ExportDesc>(m.exports.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, exports),
        exports,
        m.exports.len(),
    );
    for (i, exp) in m.exports.iter().enumerate() {
        let at = exports + i * size_of::<ExportDesc>();
        b.bytes_field(at + offset_of!(ExportDesc, name), exp.name.as_bytes());
        b.u8(at + offset_of!(ExportDesc, kind), exp.kind);
        b.u32(at + offset_of!(ExportDesc, index), exp.index);
        if exp.kind == abi::extern_kind::FUNC
            && let Some(id) = inputs.trampolines.get(&exp.index)
        {
            b.pointer(at + offset_of!(ExportDesc, trampoline), Target::Func(*id));
        }
    }

    // Element and data segments.
    let elems = b.array::<ElemDesc>(m.elems.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, elems),
        elems,
        m.elems.len(),
    );
    for (i, seg) in m.elems.iter().enumerate() {
        let at = elems + i * size_of::<ElemDesc>();
        let (mode, index, offset) = segment(&seg.mode);
        b.u8(at + offset_of!(ElemDesc, mode), mode);
        b.u8(
            at + offset_of!(ElemDesc, elem_type),
            module::reftype_code(seg.elem_type),
        );
        b.u32(at + offset_of!(ElemDesc, table), index);
        const_expr(&mut b, at + offset_of!(ElemDesc, offset), offset);
        let items = b.array::<ConstExpr>(seg.items.len());
        for (k, item) in seg.items.iter().enumerate() {
            const_expr(&mut b, items + k * size_of::<ConstExpr>(), *item);
        }
        b.slice(at + offset_of!(ElemDesc, items), items, seg.items.len());
    }
    let datas = b.array::<DataDesc>(m.datas.len());
    b.slice(
        d + offset_of!(ModuleDescriptor, datas),
        datas,
        m.datas.len(),
    );
    for (i, seg) in m.datas.iter().enumerate() {
        let at = datas + i * size_of::<DataDesc>();
        let (mode, index, offset) = segment(&seg.mode);
        b.u8(at + offset_of!(DataDesc, mode), mode);
        b.u32(at + offset_of!(DataDesc, memory), index);
        const_expr(&mut b, at + offset_of!(DataDesc, offset), offset);
        b.bytes_field(at + offset_of!(DataDesc, bytes), seg.bytes);
    }
    b
}

/// The symbol a host-function import is bound to at link time, for the
/// host modules the board library provides (WASI preview1 and `bench`).
pub(crate) fn host_symbol(import: &crate::module::Import) -> Option<String> {
    if import.kind != abi::extern_kind::FUNC {
        return None;
    }
    match import.module.as_str() {
        "wasi_snapshot_preview1" if kiln_runtime::wasi::NAMES.contains(&import.name.as_str()) => {
            Some(format!("{}{}", abi::WASI_SYMBOL_PREFIX, import.name))
        }
        "bench" if matches!(import.name.as_str(), "start" | "end") => {
            Some(format!("{}{}", abi::BENCH_SYMBOL_PREFIX, import.name))
        }
        _ => None,
    }
}

fn segment(mode: &SegmentMode) -> (u8, u32, ConstInit) {
    match mode {
        SegmentMode::Active { index, offset } => (segment_mode::ACTIVE, *index, *offset),
        SegmentMode::Passive => (segment_mode::PASSIVE, 0, ConstInit::Value(0)),
        SegmentMode::Declared => (segment_mode::DECLARED, 0, ConstInit::Value(0)),
    }
}

const _: () = assert!(size_of::<Str>() == 16);

fn const_expr(b: &mut Blob, at: usize, init: ConstInit) {
    let (kind, index, bits) = match init {
        ConstInit::Value(bits) => (ConstExpr::VALUE, 0, bits),
        ConstInit::V128(bits) => {
            b.u64(at + offset_of!(ConstExpr, high), (bits >> 64) as u64);
            (ConstExpr::VALUE, 0, bits as u64)
        }
        ConstInit::GlobalGet(g) => (ConstExpr::GLOBAL_GET, g, 0),
        ConstInit::RefNull => (ConstExpr::REF_NULL, 0, 0),
        ConstInit::RefFunc(f) => (ConstExpr::REF_FUNC, f, 0),
    };
    b.u32(at + offset_of!(ConstExpr, kind), kind);
    b.u32(at + offset_of!(ConstExpr, index), index);
    b.u64(at + offset_of!(ConstExpr, bits), bits);
}
