//! Calls in Cranelift's System V convention (vmctx in rdi, integer
//! arguments in rsi, rdx, rcx, r8, r9, floats in xmm0-7, the result in rax or
//! xmm0): direct calls between the module's functions (a relocated `call
//! rel32`), calls of imports through their function reference,
//! `call_indirect` with its table, null and signature checks, and the
//! runtime's builtins. The operand stack leaves the registers first: they
//! are all caller-saved.

use kiln_runtime::abi::TrapKind;
use wasmparser::Operator;

use super::asm::{Alu, Cond, Gpr, Mem, Width, Xmm};
use super::{
    ArgPlace, Compiler, INT_ARGS, Loc, SCRATCH2, Step, Stop, Ty, VMCTX, Val, arg_places,
    check_signature, decline,
};
use crate::translate::environ::{self, funcref, table as vm_table, vmctx};

impl Compiler<'_, '_> {
    pub(super) fn call_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        match *op {
            Operator::Call { function_index } => self.call(function_index)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The parameter and result types of Wasm type `type_index`, if the
    /// baseline compiler can pass them.
    fn signature(&self, type_index: u32) -> Step<(Vec<Ty>, Vec<Ty>)> {
        let Some(ty) = self.env.module.types.get(type_index as usize) else {
            return Err(Stop::Invalid(anyhow::anyhow!(
                "type {type_index} out of range"
            )));
        };
        let params: Vec<Ty> = ty
            .params()
            .iter()
            .map(|t| Ty::of(*t))
            .collect::<Step<_>>()?;
        let results: Vec<Ty> = ty
            .results()
            .iter()
            .map(|t| Ty::of(*t))
            .collect::<Step<_>>()?;
        check_signature(&results)?;
        Ok((params, results))
    }

    /// Moves call arguments (popped after the registers were spilled, so
    /// in slots or constants) into the argument registers and the stack
    /// slots at rsp (at the bottom of the frame). Uses r11, never r10.
    fn pass_arguments(&mut self, args: &[Val]) {
        let types: Vec<Ty> = args.iter().map(|v| v.ty).collect();
        for (&v, place) in args.iter().zip(arg_places(&types)) {
            match place {
                ArgPlace::Int(r) => self.load_into(r, v),
                ArgPlace::Float(x) => self.load_into_xmm(x, v),
                ArgPlace::Stack(k) => {
                    self.max_outgoing = self.max_outgoing.max(k + 1);
                    self.store_val(v, Mem::at(Gpr::RSP, 8 * k as i32));
                }
            }
        }
    }

    fn pop_arguments(&mut self, n: usize) -> Step<Vec<Val>> {
        if n > self.stack.len() {
            return Err(Stop::Invalid(anyhow::anyhow!("operand stack underflow")));
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    fn push_result(&mut self, results: &[Ty]) -> Step {
        if let Some(&ty) = results.first() {
            if ty.is_float() {
                self.free_xmms &= !1;
                self.push(ty, Loc::Xmm(Xmm(0)));
            } else {
                self.free_gprs &= !(1 << Gpr::RAX.0);
                if ty == Ty::I32 {
                    // The callee leaves the upper half undefined.
                    self.a.mov_rr(Width::W32, Gpr::RAX, Gpr::RAX);
                }
                self.push(ty, Loc::Gpr(Gpr::RAX));
            }
        }
        Ok(())
    }

    fn call(&mut self, index: u32) -> Step {
        let module = self.env.module;
        let Some(&type_index) = module.funcs.get(index as usize) else {
            return Err(Stop::Invalid(anyhow::anyhow!(
                "function {index} out of range"
            )));
        };
        let (params, results) = self.signature(type_index)?;
        self.spill_registers();
        let args = self.pop_arguments(params.len())?;
        self.pass_arguments(&args);
        if module.is_imported_func(index) {
            let Ok(entry) = i32::try_from(i64::from(index) * environ::FUNCREF_SIZE) else {
                return decline("function index");
            };
            self.a
                .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::FUNCREFS));
            self.a.load(
                Width::W64,
                Gpr::RDI,
                Mem::at(SCRATCH2, entry + funcref::VMCTX),
            );
            self.a.call_mem(Mem::at(SCRATCH2, entry + funcref::CODE));
        } else {
            self.a.mov_rr(Width::W64, Gpr::RDI, VMCTX);
            let at = self.a.call_rel32();
            self.calls.push((at, index));
        }
        self.push_result(&results)
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Step {
        let (params, results) = self.signature(type_index)?;
        let Some(ty) = self.env.module.types.get(type_index as usize) else {
            return Err(Stop::Invalid(anyhow::anyhow!(
                "type {type_index} out of range"
            )));
        };
        let expected = crate::module::signature_id(ty);
        self.spill_registers();
        let index = self.pop()?;
        let args = self.pop_arguments(params.len())?;
        // r10 = the function reference at `index`, after the checks.
        self.load_into(Gpr::RAX, index);
        let entry = SCRATCH2;
        self.a
            .load(Width::W64, entry, Mem::at(VMCTX, vmctx::TABLES));
        self.a
            .load(Width::W64, entry, Mem::at(entry, table as i32 * 8));
        self.a.alu_rm(
            Alu::Cmp,
            Width::W64,
            Gpr::RAX,
            Mem::at(entry, vm_table::LENGTH),
        );
        let undefined = self.trap_label(TrapKind::UndefinedElement);
        self.a.jcc(Cond::Ae, undefined);
        self.a
            .load(Width::W64, entry, Mem::at(entry, vm_table::ELEMENTS));
        self.a
            .load(Width::W64, entry, Mem::indexed(entry, Gpr::RAX, 3, 0));
        self.a.test_rr(Width::W64, entry, entry);
        let null = self.trap_label(TrapKind::UninitializedElement);
        self.a.jcc(Cond::E, null);
        self.a.mov_imm(Gpr::RAX, expected);
        self.a.alu_rm(
            Alu::Cmp,
            Width::W64,
            Gpr::RAX,
            Mem::at(entry, funcref::SIGNATURE),
        );
        let mismatch = self.trap_label(TrapKind::IndirectCallTypeMismatch);
        self.a.jcc(Cond::Ne, mismatch);
        self.pass_arguments(&args);
        self.a
            .load(Width::W64, Gpr::RDI, Mem::at(entry, funcref::VMCTX));
        self.a.call_mem(Mem::at(entry, funcref::CODE));
        self.push_result(&results)
    }

    /// Calls builtin `index` with the vmctx, the constants `fixed`, then
    /// the top `from_stack` operands (each zero-extended to 64 bits). Its
    /// result, if any, is in rax.
    pub(super) fn call_builtin(&mut self, index: usize, fixed: &[u64], from_stack: usize) -> Step {
        if fixed.len() + from_stack > INT_ARGS.len() {
            return decline("builtin arguments");
        }
        self.spill_registers();
        let args = self.pop_arguments(from_stack)?;
        for (k, &c) in fixed.iter().enumerate() {
            self.a.mov_imm(INT_ARGS[k], c);
        }
        for (k, &v) in args.iter().enumerate() {
            self.load_into(INT_ARGS[fixed.len() + k], v);
        }
        self.a.mov_rr(Width::W64, Gpr::RDI, VMCTX);
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::BUILTINS));
        self.a.call_mem(Mem::at(SCRATCH2, (index * 8) as i32));
        Ok(())
    }

    /// Pushes the i32 a grow builtin returned in rax.
    pub(super) fn push_builtin_result(&mut self, ty: Ty) -> Step {
        self.push_result(&[ty])
    }
}
