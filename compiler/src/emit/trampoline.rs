//! The small functions at the boundary between Rust and compiled code, both
//! in the array-call convention (one 64-bit slot per value, two for a
//! `v128`; see `kiln_runtime::abi::ArrayCall`):
//!
//! - export trampolines `fn(vmctx, values)`: read the arguments, call the
//!   Wasm function with its native signature, write the results back;
//! - import adapters with the import's native signature: spill the
//!   arguments, call the host function found in the import's function
//!   reference, reload the results.

use anyhow::Result;
use cranelift_codegen::ir::{
    self, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind,
    UserExternalName, UserFuncName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use wasmparser::ValType;

use kiln_runtime::abi::value_slots;

use crate::module;
use crate::translate::environ::{self, POINTER, funcref};
use crate::translate::{ModuleEnv, NAMESPACE_FUNC};

/// The first slot of each value of `types` in an array-call values array,
/// and the number of slots they take together.
fn slots(types: &[ValType]) -> (Vec<usize>, usize) {
    let mut next = 0;
    let starts = types
        .iter()
        .map(|ty| {
            let at = next;
            next += value_slots(module::valtype_code(*ty));
            at
        })
        .collect();
    (starts, next)
}

/// Flags of a slot access: slots are 8-byte aligned, so a `v128` in two of
/// them may not be 16-byte aligned.
fn slot_flags(ty: ValType) -> MemFlagsData {
    match ty {
        ValType::V128 => MemFlagsData::new().with_notrap(),
        _ => MemFlagsData::trusted(),
    }
}

/// Loads a value of `ty` from slot `slot`.
fn load_value(b: &mut FunctionBuilder<'_>, ty: ValType, base: Value, slot: usize) -> Value {
    b.ins().load(
        environ::clif_type(ty),
        slot_flags(ty),
        base,
        (slot * 8) as i32,
    )
}

/// Stores a value into slot `slot`, zero-extending 32-bit values so the
/// whole slot is defined.
fn store_value(b: &mut FunctionBuilder<'_>, ty: ValType, value: Value, base: Value, slot: usize) {
    let flags = slot_flags(ty);
    let wide = match ty {
        ValType::I32 => b.ins().uextend(types::I64, value),
        ValType::F32 => {
            let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), value);
            b.ins().uextend(types::I64, bits)
        }
        _ => value,
    };
    b.ins().store(flags, wide, base, (slot * 8) as i32);
}

/// Builds the export trampoline for function `index`.
pub fn export_trampoline(
    env: &ModuleEnv<'_>,
    index: u32,
    ctx: &mut FunctionBuilderContext,
) -> Result<ir::Function> {
    let module = env.module;
    let ty = module.func_type(index);
    let sig = environ::array_call_signature(env.call_conv);
    let mut func = ir::Function::with_name_signature(UserFuncName::user(2, index), sig);
    let mut b = FunctionBuilder::new(&mut func, ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let (vmctx, values) = (b.block_params(entry)[0], b.block_params(entry)[1]);

    let mut args = Vec::new();
    for (p, slot) in ty.params().iter().zip(slots(ty.params()).0) {
        args.push(load_value(&mut b, *p, values, slot));
    }
    let callee_sig = b.import_signature(environ::wasm_signature(ty, env.call_conv));
    let call = if module.is_imported_func(index) {
        // A re-exported import: call through its function reference.
        let flags = MemFlagsData::trusted().with_readonly();
        let base = b
            .ins()
            .load(POINTER, flags, vmctx, environ::vmctx::FUNCREFS);
        let entry = b
            .ins()
            .iadd_imm_s(base, index as i64 * environ::FUNCREF_SIZE);
        let code = b.ins().load(POINTER, flags, entry, funcref::CODE);
        let callee_vmctx = b.ins().load(POINTER, flags, entry, funcref::VMCTX);
        let mut call_args = vec![callee_vmctx];
        call_args.extend(args);
        b.ins().call_indirect(callee_sig, code, &call_args)
    } else {
        let name = b.func.declare_imported_user_function(UserExternalName {
            namespace: NAMESPACE_FUNC,
            index,
        });
        let callee = b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature: callee_sig,
            colocated: true,
            patchable: false,
        });
        let mut call_args = vec![vmctx];
        call_args.extend(args);
        b.ins().call(callee, &call_args)
    };
    let results = b.inst_results(call).to_vec();
    for ((r, ty), slot) in results.iter().zip(ty.results()).zip(slots(ty.results()).0) {
        store_value(&mut b, *ty, *r, values, slot);
    }
    b.ins().return_(&[]);
    b.finalize(env.frontend_config);
    Ok(func)
}

/// Builds the adapter through which imported function `index` reaches a
/// host function.
pub fn import_adapter(
    env: &ModuleEnv<'_>,
    index: u32,
    ctx: &mut FunctionBuilderContext,
) -> Result<ir::Function> {
    let ty = env.module.func_type(index);
    let sig = environ::wasm_signature(ty, env.call_conv);
    let mut func =
        ir::Function::with_name_signature(UserFuncName::user(NAMESPACE_FUNC, index), sig);
    let mut b = FunctionBuilder::new(&mut func, ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let vmctx = params[0];

    let (param_slots, param_count) = slots(ty.params());
    let (result_slots, result_count) = slots(ty.results());
    let count = param_count.max(result_count).max(1);
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (count * 8) as u32,
        3,
    ));
    let values = b.ins().stack_addr(POINTER, slot, 0);
    for ((p, ty), at) in params[1..].iter().zip(ty.params()).zip(param_slots) {
        store_value(&mut b, *ty, *p, values, at);
    }
    let flags = MemFlagsData::trusted().with_readonly();
    let base = b
        .ins()
        .load(POINTER, flags, vmctx, environ::vmctx::FUNCREFS);
    let host = b.ins().load(
        POINTER,
        flags,
        base,
        index as i32 * environ::FUNCREF_SIZE as i32 + funcref::HOST,
    );
    let host_sig = b.import_signature(environ::array_call_signature(env.call_conv));
    b.ins().call_indirect(host_sig, host, &[vmctx, values]);
    let results: Vec<Value> = ty
        .results()
        .iter()
        .zip(result_slots)
        .map(|(r, at)| load_value(&mut b, *r, values, at))
        .collect();
    b.ins().return_(&results);
    b.finalize(env.frontend_config);
    Ok(func)
}
