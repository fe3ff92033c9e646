//! Inlining of small leaf functions into their direct callers.
//!
//! An AOT compiler sees every call site of the module. Direct calls to tiny
//! functions that call nothing themselves (accessors, reference counting,
//! the `static inline` helpers a C program built at -O0 keeps as real
//! functions) are replaced by the callee's body with Cranelift's inliner:
//! the call, the callee's prologue and stack check and the caller's spills
//! around the call disappear, and the body is optimised together with the
//! caller (its stores and loads of the shadow stack meet the caller's).
//!
//! Only leaves are inlined, so inlining never recurses and a caller's frame
//! grows by at most the leaf's (the caller's own stack check covers it). A
//! trap inside an inlined body is reported in the caller.

use std::borrow::Cow;

use cranelift_codegen::inline::{Inline, InlineCommand};
use cranelift_codegen::ir::{self, ExternalName};
use wasmparser::Operator;

use super::NAMESPACE_FUNC;
use crate::module::ModuleInfo;

/// Largest body, in Wasm operators, that is inlined.
pub const MAX_OPERATORS: usize = 30;

/// Per function index: whether direct calls to it are inlined. A candidate
/// is a defined function of at most [`MAX_OPERATORS`] operators that makes
/// no call of any kind (functions, imports, tables, runtime builtins).
pub fn candidates(module: &ModuleInfo<'_>) -> Vec<bool> {
    let mut out = vec![false; module.funcs.len()];
    for (i, body) in module.bodies.iter().enumerate() {
        let index = module.num_imported_funcs as usize + i;
        out[index] = is_small_leaf(body).unwrap_or(false);
    }
    out
}

fn is_small_leaf(body: &wasmparser::FunctionBody<'_>) -> wasmparser::Result<bool> {
    let range = body.range();
    // A cheap first cut: an operator takes at least one byte.
    if range.end - range.start > (MAX_OPERATORS * 6) as u64 {
        return Ok(false);
    }
    let mut ops = body.get_operators_reader()?;
    let mut count = 0;
    while !ops.eof() {
        count += 1;
        if count > MAX_OPERATORS + 1 {
            return Ok(false);
        }
        if makes_call(&ops.read()?) {
            return Ok(false);
        }
    }
    // The count includes the final `end`.
    Ok(count <= MAX_OPERATORS + 1)
}

/// Whether `op` is translated as a call: of a function, through a table,
/// or of one of the runtime's builtins.
pub(crate) fn makes_call(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::MemoryGrow { .. }
            | Operator::MemoryFill { .. }
            | Operator::MemoryCopy { .. }
            | Operator::MemoryInit { .. }
            | Operator::DataDrop { .. }
            | Operator::TableGrow { .. }
            | Operator::TableFill { .. }
            | Operator::TableCopy { .. }
            | Operator::TableInit { .. }
            | Operator::ElemDrop { .. }
    )
}

/// Gives Cranelift the translated body of each inlined callee.
pub struct Inliner<'a> {
    /// Per function index: the translated candidate, `None` for the others.
    pub bodies: &'a [Option<ir::Function>],
}

impl Inline for &Inliner<'_> {
    fn inline(
        &mut self,
        caller: &ir::Function,
        _call_inst: ir::Inst,
        _call_opcode: ir::Opcode,
        callee: ir::FuncRef,
        _call_args: &[ir::Value],
    ) -> InlineCommand<'_> {
        let ExternalName::User(name) = &caller.dfg.ext_funcs[callee].name else {
            return InlineCommand::KeepCall;
        };
        let name = &caller.params.user_named_funcs()[*name];
        if name.namespace != NAMESPACE_FUNC {
            return InlineCommand::KeepCall;
        }
        match self.bodies.get(name.index as usize) {
            Some(Some(body)) => InlineCommand::Inline {
                callee: Cow::Borrowed(body),
                visit_callee: false,
            },
            _ => InlineCommand::KeepCall,
        }
    }
}
