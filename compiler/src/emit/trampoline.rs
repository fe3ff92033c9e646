//! The small functions at the boundary between Rust and compiled code, both
//! in the array-call convention (`values[i]` holds one value as 64 bits):
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

use crate::translate::environ::{self, POINTER, funcref};
use crate::translate::{ModuleEnv, NAMESPACE_FUNC};

/// Loads a value of `ty` from a 64-bit slot.
fn load_value(b: &mut FunctionBuilder<'_>, ty: ValType, base: Value, slot: usize) -> Value {
    let flags = MemFlagsData::trusted();
    b.ins()
        .load(environ::clif_type(ty), flags, base, (slot * 8) as i32)
}

/// Stores a value into a 64-bit slot, zero-extending 32-bit values so the
/// whole slot is defined.
fn store_value(b: &mut FunctionBuilder<'_>, ty: ValType, value: Value, base: Value, slot: usize) {
    let flags = MemFlagsData::trusted();
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
    for (i, p) in ty.params().iter().enumerate() {
        args.push(load_value(&mut b, *p, values, i));
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
    for (i, (r, ty)) in results.iter().zip(ty.results()).enumerate() {
        store_value(&mut b, *ty, *r, values, i);
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

    let slots = ty.params().len().max(ty.results().len()).max(1);
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (slots * 8) as u32,
        3,
    ));
    let values = b.ins().stack_addr(POINTER, slot, 0);
    for (i, (p, ty)) in params[1..].iter().zip(ty.params()).enumerate() {
        store_value(&mut b, *ty, *p, values, i);
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
        .enumerate()
        .map(|(i, r)| load_value(&mut b, *r, values, i))
        .collect();
    b.ins().return_(&results);
    b.finalize(env.frontend_config);
    Ok(func)
}
