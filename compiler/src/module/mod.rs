//! What the compiler knows about a module before translating code: its types,
//! imports, functions, tables, memory, globals, exports, segments and names,
//! parsed with wasmparser after validation with Kiln's feature set.

pub mod features;

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow, bail};
use kiln_runtime::abi::{self, extern_kind, valtype};
use wasmparser::{
    ElementItems, ElementKind, ExternalKind, FuncType, FunctionBody, KnownCustom, Name, Operator,
    Parser, Payload, RefType, TypeRef, ValType,
};

/// A constant expression, as the runtime evaluates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstInit {
    /// A number (f32 in the low 32 bits) or 0 for `ref.null`.
    Value(u64),
    /// A `v128` constant (its bytes, little-endian).
    V128(u128),
    GlobalGet(u32),
    RefNull,
    RefFunc(u32),
}

pub struct Table {
    pub elem_type: RefType,
    pub min: u32,
    pub max: Option<u32>,
    pub imported: bool,
}

pub struct Memory {
    pub min_pages: u64,
    pub max_pages: Option<u64>,
    pub imported: bool,
}

pub struct Global {
    pub ty: ValType,
    pub mutable: bool,
    /// `None` for imported globals.
    pub init: Option<ConstInit>,
}

pub struct Import {
    pub module: String,
    pub name: String,
    /// An `abi::extern_kind`.
    pub kind: u8,
    /// Index in the index space of `kind`.
    pub index: u32,
}

pub struct Export {
    pub name: String,
    pub kind: u8,
    pub index: u32,
}

pub enum SegmentMode {
    Active { index: u32, offset: ConstInit },
    Passive,
    Declared,
}

pub struct ElemSegment {
    pub mode: SegmentMode,
    pub elem_type: RefType,
    pub items: Vec<ConstInit>,
}

pub struct DataSegment<'a> {
    pub mode: SegmentMode,
    pub bytes: &'a [u8],
}

/// A parsed, validated module.
pub struct ModuleInfo<'a> {
    pub types: Vec<FuncType>,
    /// Type index of every function, imports first.
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<Table>,
    pub memories: Vec<Memory>,
    pub globals: Vec<Global>,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment<'a>>,
    /// Bodies of the defined functions, in order.
    pub bodies: Vec<FunctionBody<'a>>,
    /// Function names from the name section.
    pub func_names: HashMap<u32, String>,
    /// Functions whose address is taken (`ref.func`, elements, exports).
    pub escaping: Vec<bool>,
}

impl<'a> ModuleInfo<'a> {
    /// Validates and parses `wasm`.
    pub fn parse(wasm: &'a [u8]) -> Result<ModuleInfo<'a>> {
        if let Err(rejection) = features::validate(wasm) {
            return Err(match rejection {
                features::Rejection::Invalid(e) => {
                    // One line: some of wasmparser's messages pretty-print
                    // byte arrays over several lines.
                    let message: Vec<&str> = e.message().split_whitespace().collect();
                    anyhow!(
                        "invalid module: {} (at offset {:#x})",
                        message.join(" "),
                        e.offset()
                    )
                }
                features::Rejection::Unsupported {
                    proposal,
                    offset,
                    func,
                } => match func {
                    Some(f) => anyhow!(
                        "unsupported feature: the module uses the {proposal} proposal (first in function {f}, at offset {offset:#x}); Kiln supports WebAssembly 2.0, SIMD included"
                    ),
                    None => anyhow!(
                        "unsupported feature: the module uses the {proposal} proposal (at offset {offset:#x}); Kiln supports WebAssembly 2.0, SIMD included"
                    ),
                },
            });
        }
        let mut info = ModuleInfo {
            types: Vec::new(),
            funcs: Vec::new(),
            num_imported_funcs: 0,
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            imports: Vec::new(),
            exports: Vec::new(),
            start: None,
            elems: Vec::new(),
            datas: Vec::new(),
            bodies: Vec::new(),
            func_names: HashMap::new(),
            escaping: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(wasm) {
            info.payload(payload?)?;
        }
        info.escaping = vec![false; info.funcs.len()];
        let mut escapes: Vec<u32> = Vec::new();
        for e in &info.exports {
            if e.kind == extern_kind::FUNC {
                escapes.push(e.index);
            }
        }
        for seg in &info.elems {
            escapes.extend(seg.items.iter().filter_map(|i| match i {
                ConstInit::RefFunc(f) => Some(*f),
                _ => None,
            }));
        }
        for g in &info.globals {
            if let Some(ConstInit::RefFunc(f)) = g.init {
                escapes.push(f);
            }
        }
        for f in escapes {
            if let Some(slot) = info.escaping.get_mut(f as usize) {
                *slot = true;
            }
        }
        Ok(info)
    }

    fn payload(&mut self, payload: Payload<'a>) -> Result<()> {
        match payload {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    self.types.push(ty?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let (kind, index) = match import.ty {
                        TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                            self.funcs.push(ty);
                            self.num_imported_funcs += 1;
                            (extern_kind::FUNC, self.funcs.len() - 1)
                        }
                        TypeRef::Table(t) => {
                            self.tables.push(Table {
                                elem_type: t.element_type,
                                min: t.initial as u32,
                                max: t.maximum.map(|m| m as u32),
                                imported: true,
                            });
                            (extern_kind::TABLE, self.tables.len() - 1)
                        }
                        TypeRef::Memory(m) => {
                            self.memories.push(Memory {
                                min_pages: m.initial,
                                max_pages: m.maximum,
                                imported: true,
                            });
                            (extern_kind::MEMORY, self.memories.len() - 1)
                        }
                        TypeRef::Global(g) => {
                            self.globals.push(Global {
                                ty: g.content_type,
                                mutable: g.mutable,
                                init: None,
                            });
                            (extern_kind::GLOBAL, self.globals.len() - 1)
                        }
                        TypeRef::Tag(_) => bail!("tags need the exception-handling proposal"),
                    };
                    self.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind,
                        index: index as u32,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    self.funcs.push(ty?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let t = table?.ty;
                    self.tables.push(Table {
                        elem_type: t.element_type,
                        min: t.initial as u32,
                        max: t.maximum.map(|m| m as u32),
                        imported: false,
                    });
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let m = memory?;
                    self.memories.push(Memory {
                        min_pages: m.initial,
                        max_pages: m.maximum,
                        imported: false,
                    });
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let g = global?;
                    self.globals.push(Global {
                        ty: g.ty.content_type,
                        mutable: g.ty.mutable,
                        init: Some(const_init(&g.init_expr)?),
                    });
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let e = export?;
                    let kind = match e.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => extern_kind::FUNC,
                        ExternalKind::Table => extern_kind::TABLE,
                        ExternalKind::Memory => extern_kind::MEMORY,
                        ExternalKind::Global => extern_kind::GLOBAL,
                        ExternalKind::Tag => bail!("tags need the exception-handling proposal"),
                    };
                    self.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    let elem = elem?;
                    let mode = match elem.kind {
                        ElementKind::Passive => SegmentMode::Passive,
                        ElementKind::Declared => SegmentMode::Declared,
                        ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: const_init(&offset_expr)?,
                        },
                    };
                    let (elem_type, items) = match elem.items {
                        ElementItems::Functions(funcs) => (
                            RefType::FUNCREF,
                            funcs
                                .into_iter()
                                .map(|f| f.map(ConstInit::RefFunc))
                                .collect::<Result<_, _>>()?,
                        ),
                        ElementItems::Expressions(ty, exprs) => (
                            ty,
                            exprs
                                .into_iter()
                                .map(|e| const_init(&e?))
                                .collect::<Result<_>>()?,
                        ),
                    };
                    self.elems.push(ElemSegment {
                        mode,
                        elem_type,
                        items,
                    });
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let mode = match data.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: const_init(&offset_expr)?,
                        },
                    };
                    self.datas.push(DataSegment {
                        mode,
                        bytes: data.data,
                    });
                }
            }
            Payload::CodeSectionEntry(body) => self.bodies.push(body),
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(names) = reader.as_known() {
                    // A broken name section is ignored, as engines do.
                    for name in names.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            for naming in map.into_iter().flatten() {
                                self.func_names
                                    .insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.funcs[func as usize] as usize]
    }

    pub fn is_imported_func(&self, func: u32) -> bool {
        func < self.num_imported_funcs
    }
}

/// Reads a Wasm 2.0 constant expression.
fn const_init(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstInit> {
    let mut reader = expr.get_operators_reader();
    let init = match reader.read().context("reading a constant expression")? {
        Operator::I32Const { value } => ConstInit::Value(value as u32 as u64),
        Operator::I64Const { value } => ConstInit::Value(value as u64),
        Operator::F32Const { value } => ConstInit::Value(value.bits() as u64),
        Operator::F64Const { value } => ConstInit::Value(value.bits()),
        Operator::V128Const { value } => ConstInit::V128(value.i128() as u128),
        Operator::RefNull { .. } => ConstInit::RefNull,
        Operator::RefFunc { function_index } => ConstInit::RefFunc(function_index),
        Operator::GlobalGet { global_index } => ConstInit::GlobalGet(global_index),
        other => bail!("unsupported constant expression operator {other:?}"),
    };
    match reader.read()? {
        Operator::End => Ok(init),
        other => bail!(
            "unsupported constant expression operator {other:?} (extended constant expressions)"
        ),
    }
}

/// The ABI code of a value type.
pub fn valtype_code(ty: ValType) -> u8 {
    match ty {
        ValType::I32 => valtype::I32,
        ValType::I64 => valtype::I64,
        ValType::F32 => valtype::F32,
        ValType::F64 => valtype::F64,
        ValType::V128 => valtype::V128,
        ValType::Ref(r) => reftype_code(r),
    }
}

/// The ABI code of a reference type (Wasm 2.0 has funcref and externref).
pub fn reftype_code(r: RefType) -> u8 {
    if r.is_func_ref() {
        valtype::FUNCREF
    } else {
        valtype::EXTERNREF
    }
}

/// The signature id the runtime compares for a function type.
pub fn signature_id(ty: &FuncType) -> u64 {
    let params: Vec<u8> = ty.params().iter().map(|t| valtype_code(*t)).collect();
    let results: Vec<u8> = ty.results().iter().map(|t| valtype_code(*t)).collect();
    abi::signature_id(&params, &results)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `compile` fuzz target: a bad magic number gave a
    /// message with the expected and actual bytes over nine lines.
    #[test]
    fn validation_errors_are_one_line() {
        for bytes in [&b"\x09\0\0asm\x01\0\0\0"[..], b"\0asm\x02\0\0\0", b"\0as"] {
            let Err(e) = ModuleInfo::parse(bytes) else {
                panic!("{bytes:?} must be refused");
            };
            let message = format!("{e:#}");
            assert!(
                message.starts_with("invalid module: ") && !message.contains('\n'),
                "{message:?}"
            );
        }
    }
}
