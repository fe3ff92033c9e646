//! Calls: direct calls between the module's functions (relocated), calls
//! of imports through their function reference, `call_indirect` with its
//! table, null and signature checks, and the runtime's builtins. The
//! operand stack leaves the registers first (they are all caller-saved);
//! arguments go where the target's calling convention puts them.

use kiln_runtime::abi::TrapKind;
use wasmparser::Operator;

use super::{Compiler, Step, Val, check_results, decline, invalid, value_type};
use crate::baseline::masm::{ArgPlace, Callee, Loc, MacroAssembler, TableCall, Ty};

impl<M: MacroAssembler> Compiler<'_, '_, M> {
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
            return invalid(format!("type {type_index} out of range"));
        };
        let params: Vec<Ty> = ty
            .params()
            .iter()
            .map(|t| value_type(*t))
            .collect::<Step<_>>()?;
        let results: Vec<Ty> = ty
            .results()
            .iter()
            .map(|t| value_type(*t))
            .collect::<Step<_>>()?;
        check_results(&results)?;
        Ok((params, results))
    }

    /// Puts call arguments where the calling convention wants them, in
    /// order (so no argument may be in a register an earlier one goes to).
    fn pass_arguments(&mut self, args: &[Val]) {
        let types: Vec<Ty> = args.iter().map(|v| v.ty).collect();
        for (v, place) in args.iter().zip(M::arg_places(&types)) {
            match place {
                ArgPlace::Reg(r) => self.m.load(v.ty, r, v.loc),
                ArgPlace::FReg(f) => self.m.load_float(v.ty, f, v.loc),
                ArgPlace::Stack(k) => {
                    self.max_outgoing = self.max_outgoing.max(k + 1);
                    self.m.store_argument(v.ty, k, v.loc);
                }
            }
        }
    }

    /// Puts call arguments where the calling convention wants them, moving
    /// those in registers directly (the rest of the operand stack already
    /// in its slots). An argument whose register is another argument's
    /// destination goes through its slot first, so that no move overwrites
    /// a value still to be read; then all argument registers are free.
    fn pass_arguments_from_registers(&mut self, mut args: Vec<Val>) {
        let types: Vec<Ty> = args.iter().map(|v| v.ty).collect();
        let places = M::arg_places(&types);
        let (mut dest_gprs, mut dest_fprs) = (0u32, 0u32);
        for place in &places {
            match place {
                ArgPlace::Reg(r) => dest_gprs |= 1 << r.0,
                ArgPlace::FReg(f) => dest_fprs |= 1 << f.0,
                ArgPlace::Stack(_) => {}
            }
        }
        let depth = self.stack.len();
        for (i, (v, place)) in args.iter_mut().zip(&places).enumerate() {
            let clobbered = match (v.loc, place) {
                (Loc::Reg(r), ArgPlace::Reg(d)) => dest_gprs & 1 << r.0 != 0 && r != *d,
                (Loc::Reg(r), _) => dest_gprs & 1 << r.0 != 0,
                (Loc::FReg(f), ArgPlace::FReg(d)) => dest_fprs & 1 << f.0 != 0 && f != *d,
                (Loc::FReg(f), _) => dest_fprs & 1 << f.0 != 0,
                _ => false,
            };
            if clobbered {
                let slot = self.slot(depth + i);
                self.m.store_slot(v.ty, slot, v.loc);
                self.free(*v);
                v.loc = Loc::Slot(slot);
            }
        }
        self.pass_arguments(&args);
        for v in args {
            self.free(v);
        }
    }

    fn pop_arguments(&mut self, n: usize) -> Step<Vec<Val>> {
        if n > self.stack.len() {
            return invalid("operand stack underflow");
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    /// Pushes a call's result from the result register.
    fn push_result(&mut self, results: &[Ty]) {
        if let Some(&ty) = results.first() {
            if ty.is_float() {
                self.free_fprs &= !(1 << M::FLOAT_RESULT.0);
                self.push(ty, Loc::FReg(M::FLOAT_RESULT));
            } else {
                self.free_gprs &= !(1 << M::RESULT.0);
                if ty == Ty::I32 {
                    // The callee leaves the upper half undefined.
                    self.m.canonical_i32(M::RESULT);
                }
                self.push(ty, Loc::Reg(M::RESULT));
            }
        }
    }

    fn call(&mut self, index: u32) -> Step {
        let module = self.env.module;
        let Some(&type_index) = module.funcs.get(index as usize) else {
            return invalid(format!("function {index} out of range"));
        };
        let (params, results) = self.signature(type_index)?;
        let args = self.pop_arguments(params.len())?;
        self.spill_registers();
        self.pass_arguments_from_registers(args);
        if module.is_imported_func(index) {
            self.m.call(Callee::Import(index));
        } else {
            let at = self.m.call(Callee::Direct);
            self.calls.push((at, index));
        }
        self.push_result(&results);
        Ok(())
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Step {
        let (params, results) = self.signature(type_index)?;
        let Some(ty) = self.env.module.types.get(type_index as usize) else {
            return invalid(format!("type {type_index} out of range"));
        };
        let checks = TableCall {
            table,
            signature: crate::module::signature_id(ty),
            undefined: self.trap_label(TrapKind::UndefinedElement),
            null: self.trap_label(TrapKind::UninitializedElement),
            mismatch: self.trap_label(TrapKind::IndirectCallTypeMismatch),
        };
        self.spill_registers();
        let index = self.pop()?;
        let args = self.pop_arguments(params.len())?;
        self.m.prepare_table_call(index.loc, &checks);
        self.pass_arguments(&args);
        self.m.call(Callee::Table);
        self.push_result(&results);
        Ok(())
    }

    /// Calls builtin `index` with the constants `fixed`, then the top
    /// `from_stack` operands, all as 64-bit integers (i32s zero-extended).
    /// Its result, if any, is in the result register.
    pub(super) fn call_builtin(&mut self, index: usize, fixed: &[u64], from_stack: usize) -> Step {
        self.spill_registers();
        let args = self.pop_arguments(from_stack)?;
        let places = M::arg_places(&vec![Ty::I64; fixed.len() + args.len()]);
        let values = fixed
            .iter()
            .map(|&c| Val {
                ty: Ty::I64,
                loc: Loc::Imm(c),
                copy_of: None,
            })
            .chain(args);
        for (v, place) in values.zip(places) {
            let ArgPlace::Reg(r) = place else {
                return decline("builtin arguments on the stack");
            };
            self.m.load(v.ty, r, v.loc);
            if v.ty == Ty::I32 {
                self.m.zero_extend_i32(r);
            }
        }
        self.m.call(Callee::Builtin(index));
        Ok(())
    }

    /// Pushes the i32 a grow builtin returned.
    pub(super) fn push_builtin_result(&mut self) {
        self.push_result(&[Ty::I32]);
    }

    /// Traps with `kind` when the builtin just called returned non-zero.
    pub(super) fn trap_on_status(&mut self, kind: TrapKind) {
        let trap = self.trap_label(kind);
        self.m.branch_on_status(trap);
    }
}
