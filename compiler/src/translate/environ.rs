//! Everything translated code needs from the runtime, behind names: the
//! vmctx layout (read from `kiln_runtime::abi`), memory base and length,
//! globals, tables, function references, builtins, trap codes and the
//! memory-flag conventions. Operator translation never uses an offset itself.

use std::mem::offset_of;

use cranelift_codegen::ir::{
    self, AbiParam, AliasRegionData, MemFlagsData, Signature, TrapCode, Type, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use kiln_runtime::abi::{TrapKind, VmCtx, VmFuncRef, VmMemory, VmTable};
use wasmparser::{FuncType, ValType};

/// Pointer type of every Kiln target.
pub const POINTER: Type = types::I64;

/// Size of one `VmFuncRef` (the stride of `vmctx.funcrefs`).
pub const FUNCREF_SIZE: i64 = std::mem::size_of::<VmFuncRef>() as i64;

pub mod vmctx {
    use super::*;
    pub const MEMORY: i32 = offset_of!(VmCtx, memory) as i32;
    pub const STACK_LIMIT: i32 = offset_of!(VmCtx, stack_limit) as i32;
    pub const GLOBALS: i32 = offset_of!(VmCtx, globals) as i32;
    pub const TABLES: i32 = offset_of!(VmCtx, tables) as i32;
    pub const FUNCREFS: i32 = offset_of!(VmCtx, funcrefs) as i32;
    pub const BUILTINS: i32 = offset_of!(VmCtx, builtins) as i32;
    pub const FEATURES: i32 = offset_of!(VmCtx, features) as i32;
}

pub mod funcref {
    use super::*;
    pub const CODE: i32 = offset_of!(VmFuncRef, code) as i32;
    pub const VMCTX: i32 = offset_of!(VmFuncRef, vmctx) as i32;
    pub const SIGNATURE: i32 = offset_of!(VmFuncRef, signature_id) as i32;
    pub const HOST: i32 = offset_of!(VmFuncRef, host) as i32;
}

pub mod memory {
    use super::*;
    pub const BASE: i32 = offset_of!(VmMemory, base) as i32;
    pub const LENGTH: i32 = offset_of!(VmMemory, length) as i32;
}

pub mod table {
    use super::*;
    pub const ELEMENTS: i32 = offset_of!(VmTable, elements) as i32;
    pub const LENGTH: i32 = offset_of!(VmTable, length) as i32;
}

/// The Cranelift trap code for a Wasm trap kind.
pub fn trap(kind: TrapKind) -> TrapCode {
    TrapCode::unwrap_user(kind as u8)
}

/// The Wasm trap kind of a Cranelift trap code found in compiled code.
pub fn trap_kind(code: TrapCode) -> Option<TrapKind> {
    Some(match code {
        TrapCode::STACK_OVERFLOW => TrapKind::StackOverflow,
        TrapCode::INTEGER_OVERFLOW => TrapKind::IntegerOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => TrapKind::MemoryOutOfBounds,
        TrapCode::INTEGER_DIVISION_BY_ZERO => TrapKind::IntegerDivideByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => TrapKind::InvalidConversionToInteger,
        other => return TrapKind::from_u8(other.as_raw().get()),
    })
}

/// The Cranelift type of a Wasm value type (references are pointers).
pub fn clif_type(ty: ValType) -> Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => POINTER,
    }
}

/// The native-call signature of a Wasm function: `(vmctx, params) -> results`.
pub fn wasm_signature(ty: &FuncType, call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params
        .push(AbiParam::special(POINTER, ir::ArgumentPurpose::VMContext));
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(ty.results().iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// The array-call signature: `(vmctx, values)`.
pub fn array_call_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(POINTER));
    sig.params.push(AbiParam::new(POINTER));
    sig
}

/// Memory flags of the accesses translated code makes.
#[derive(Clone, Copy)]
pub struct Flags {
    /// vmctx fields and the arrays they point to that never change while
    /// an instance lives (pointers to memory, globals, tables, builtins).
    pub readonly: MemFlagsData,
    /// Immutable data reached through a pointer that was checked first
    /// (a function reference after its null check): must not move above it.
    pub checked: MemFlagsData,
    /// Runtime state that calls may change: memory base/length, table
    /// length and elements, global cells.
    pub runtime: MemFlagsData,
    /// Linear memory, after an explicit bounds check.
    pub heap: MemFlagsData,
    /// Linear memory in a guard region: the access itself may fault, and
    /// the fault is the out-of-bounds trap.
    pub heap_trapping: MemFlagsData,
}

impl Flags {
    pub fn new(builder: &mut FunctionBuilder<'_>) -> Flags {
        let mut region = |user_id: u32, description: &'static str| {
            Some(builder.func.dfg.alias_regions.insert(AliasRegionData {
                user_id,
                description: description.into(),
            }))
        };
        let vm = region(1, "runtime");
        let heap = region(2, "heap");
        Flags {
            readonly: MemFlagsData::trusted().with_readonly().with_can_move(),
            checked: MemFlagsData::trusted().with_readonly(),
            runtime: MemFlagsData::trusted().with_alias_region(vm),
            heap: MemFlagsData::new()
                .with_notrap()
                .with_endianness(ir::Endianness::Little)
                .with_alias_region(heap),
            heap_trapping: MemFlagsData::new()
                .with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
                .with_endianness(ir::Endianness::Little)
                .with_alias_region(heap),
        }
    }
}
