//! Calls of the runtime's builtins through `vmctx.builtins` (memory.grow,
//! bulk memory, table operations), and the traps their status results raise.

use cranelift_codegen::ir::{AbiParam, InstBuilder, Signature, Value, types};
use kiln_runtime::abi::{TrapKind, builtin};

use super::FuncTranslator;
use super::environ::{self, POINTER};

/// Whether a builtin returns a value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Returns {
    Nothing,
    /// A value or a status (non-zero = trap).
    Value,
}

impl FuncTranslator<'_, '_> {
    /// Calls builtin `index` with `vmctx` and `args` (each zero-extended to 64 bits).
    pub(crate) fn call_builtin(
        &mut self,
        index: usize,
        args: &[Value],
        returns: Returns,
    ) -> Option<Value> {
        // Bulk memory, memory.grow and friends change what memory holds.
        self.known.forget_contents();
        let mut sig = Signature::new(self.env.call_conv);
        sig.params.push(AbiParam::new(POINTER));
        let mut call_args = vec![self.vmctx];
        for &arg in args {
            sig.params.push(AbiParam::new(types::I64));
            let ty = self.b.func.dfg.value_type(arg);
            call_args.push(if ty == types::I64 {
                arg
            } else {
                self.b.ins().uextend(types::I64, arg)
            });
        }
        if returns == Returns::Value {
            sig.returns.push(AbiParam::new(types::I64));
        }
        let sig = self.b.import_signature(sig);
        let table = self.hoisted_load(self.vmctx, environ::vmctx::BUILTINS);
        let f = self.hoisted_load(table, (index * 8) as i32);
        let inst = self.b.ins().call_indirect(sig, f, &call_args);
        self.b.inst_results(inst).first().copied()
    }

    /// Calls a status-returning builtin and traps with `kind` on failure.
    pub(crate) fn call_checked_builtin(&mut self, index: usize, args: &[Value], kind: TrapKind) {
        if let Some(status) = self.call_builtin(index, args, Returns::Value) {
            self.b.ins().trapnz(status, environ::trap(kind));
        }
    }

    /// Calls a builtin that returns a size or `u64::MAX`, as a Wasm i32.
    pub(crate) fn call_grow_builtin(&mut self, index: usize, args: &[Value]) -> Value {
        debug_assert!(index == builtin::MEMORY_GROW || index == builtin::TABLE_GROW);
        let result = self
            .call_builtin(index, args, Returns::Value)
            .expect("grow builtins return a value");
        self.b.ins().ireduce(types::I32, result)
    }
}
