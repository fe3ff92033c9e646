//! Calls: direct calls between functions of the module, calls of imports
//! through their function reference in the vmctx, and `call_indirect` with
//! its table bounds, null and signature checks.

use anyhow::Result;
use cranelift_codegen::ir::{
    self, ExtFuncData, ExternalName, InstBuilder, SigRef, UserExternalName, Value, condcodes::IntCC,
};
use kiln_runtime::abi::TrapKind;

use super::environ::{self, POINTER, funcref, table};
use super::{FuncTranslator, NAMESPACE_FUNC};

impl FuncTranslator<'_, '_> {
    /// The imported signature of Wasm type `type_index`.
    pub(crate) fn signature(&mut self, type_index: u32) -> SigRef {
        if let Some(sig) = self.sigs.get(&type_index) {
            return *sig;
        }
        let ty = &self.env.module.types[type_index as usize];
        let sig = self
            .b
            .import_signature(environ::wasm_signature(ty, self.env.call_conv));
        self.sigs.insert(type_index, sig);
        sig
    }

    fn push_results(&mut self, inst: ir::Inst) {
        let results = self.b.inst_results(inst).to_vec();
        self.stack.extend(results);
    }

    /// The address of function `index`'s reference in this instance's vmctx.
    pub(crate) fn funcref_address(&mut self, index: u32) -> Value {
        let base = self.hoisted_load(self.vmctx, environ::vmctx::FUNCREFS);
        self.b
            .ins()
            .iadd_imm_s(base, index as i64 * environ::FUNCREF_SIZE)
    }

    pub(crate) fn call(&mut self, index: u32) -> Result<()> {
        let module = self.env.module;
        let ty = module.func_type(index);
        let args = self.popn(ty.params().len());
        // The callee may write memory.
        self.known.forget_contents();
        let inst = if module.is_imported_func(index) {
            let type_index = module.funcs[index as usize];
            let sig = self.signature(type_index);
            let entry = self.funcref_address(index);
            let code = self
                .b
                .ins()
                .load(POINTER, self.flags.readonly, entry, funcref::CODE);
            let callee_vmctx =
                self.b
                    .ins()
                    .load(POINTER, self.flags.readonly, entry, funcref::VMCTX);
            let mut call_args = vec![callee_vmctx];
            call_args.extend(args);
            self.b.ins().call_indirect(sig, code, &call_args)
        } else {
            let callee = self.direct_ref(index);
            let mut call_args = vec![self.vmctx];
            call_args.extend(args);
            self.b.ins().call(callee, &call_args)
        };
        self.push_results(inst);
        Ok(())
    }

    /// A direct reference to defined function `index` (same object, so the
    /// call is PC-relative).
    fn direct_ref(&mut self, index: u32) -> ir::FuncRef {
        if let Some(f) = self.direct.get(&index) {
            return *f;
        }
        let type_index = self.env.module.funcs[index as usize];
        let signature = self.signature(type_index);
        let name = self
            .b
            .func
            .declare_imported_user_function(UserExternalName {
                namespace: NAMESPACE_FUNC,
                index,
            });
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.direct.insert(index, f);
        f
    }

    pub(crate) fn call_indirect(&mut self, type_index: u32, table_index: u32) -> Result<()> {
        let index = self.pop();
        let ty = &self.env.module.types[type_index as usize];
        let expected = crate::module::signature_id(ty);
        let args = self.popn(ty.params().len());
        self.known.forget_contents();
        let table = self.table_pointer(table_index);
        let length = self
            .b
            .ins()
            .load(POINTER, self.flags.runtime, table, table::LENGTH);
        let index = self.b.ins().uextend(POINTER, index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.b
            .ins()
            .trapnz(oob, environ::trap(TrapKind::UndefinedElement));
        let elements = self
            .b
            .ins()
            .load(POINTER, self.flags.runtime, table, table::ELEMENTS);
        let offset = self.b.ins().ishl_imm_u(index, 3);
        let slot = self.b.ins().iadd(elements, offset);
        let entry = self.b.ins().load(POINTER, self.flags.runtime, slot, 0);
        self.b
            .ins()
            .trapz(entry, environ::trap(TrapKind::UninitializedElement));
        let actual = self.b.ins().load(
            ir::types::I64,
            self.flags.checked,
            entry,
            funcref::SIGNATURE,
        );
        let mismatch = self
            .b
            .ins()
            .icmp_imm_s(IntCC::NotEqual, actual, expected as i64);
        self.b
            .ins()
            .trapnz(mismatch, environ::trap(TrapKind::IndirectCallTypeMismatch));
        let code = self
            .b
            .ins()
            .load(POINTER, self.flags.checked, entry, funcref::CODE);
        let callee_vmctx = self
            .b
            .ins()
            .load(POINTER, self.flags.checked, entry, funcref::VMCTX);
        let sig = self.signature(type_index);
        let mut call_args = vec![callee_vmctx];
        call_args.extend(args);
        let inst = self.b.ins().call_indirect(sig, code, &call_args);
        self.push_results(inst);
        Ok(())
    }
}
