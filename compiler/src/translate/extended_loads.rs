//! `i32` loads whose value riscv64 code then sign-extends, loaded extended
//! (riscv64).
//!
//! riscv64's `lw` sign-extends the word it loads to 64 bits, and `lbu`,
//! `lhu`, `lb` and `lh` leave their value extended too, but Cranelift does
//! not know that a register holding an `i32` load already is its own sign
//! extension: a compare on sign-extended operands (translate/numeric.rs,
//! `cmp64`) or a branch on the value (`brif` of an `i32` extends it
//! first) adds a `sext.w` after the load. Cranelift folds the extension
//! into the load only where the extension is the load's one use, and
//! CPython's -O0 code loads a variable, tests it and uses it again: half
//! of the `sext.w` pystone ran on riscv64 followed an `lw` of the same
//! register.
//!
//! Here such a load becomes the extending load to `i64` (`sload32`, or
//! `uload8` ... of `i64`), the `i32` value its `ireduce` (no instruction),
//! each sign extension of the value the wide load itself, and each `brif`
//! on the value a `brif` on the wide load (non-zero exactly when the `i32`
//! is).

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::entity::SecondaryMap;
use cranelift_codegen::ir::{
    Function, Inst, InstBuilder, InstructionData, Opcode, Value, ValueDef, types,
};

/// Rewrites `func`'s `i32` loads that feed a sign extension or a branch;
/// whether it changed anything. The extensions become aliases of the wide
/// loads, which Cranelift resolves before its own passes.
pub fn load_extended(func: &mut Function) -> bool {
    // The extensions and branches that want the wide value, per loaded value.
    let mut wide_uses: SecondaryMap<Value, Vec<Inst>> = SecondaryMap::new();
    let mut loaded = Vec::new();
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            let value = match func.dfg.insts[inst] {
                InstructionData::Unary {
                    opcode: Opcode::Sextend,
                    arg,
                } if func.dfg.ctrl_typevar(inst) == types::I64 => arg,
                InstructionData::Brif { arg, .. } => arg,
                _ => continue,
            };
            if extended_load(func, value).is_some() {
                if wide_uses[value].is_empty() {
                    loaded.push(value);
                }
                wide_uses[value].push(inst);
            }
        }
    }
    for &narrow in &loaded {
        let Some(load) = extended_load(func, narrow) else {
            continue;
        };
        let InstructionData::Load {
            opcode,
            arg,
            flags,
            offset,
        } = func.dfg.insts[load]
        else {
            continue;
        };
        let flags = func.dfg.mem_flags[flags];
        let mut pos = FuncCursor::new(func).at_inst(load);
        // `uload8`/`uload16` zero-extend, which for values below 2^31 is
        // sign extension too.
        let wide = match opcode {
            Opcode::Load => pos.ins().sload32(flags, arg, offset),
            Opcode::Sload8 => pos.ins().sload8(types::I64, flags, arg, offset),
            Opcode::Sload16 => pos.ins().sload16(types::I64, flags, arg, offset),
            Opcode::Uload8 => pos.ins().uload8(types::I64, flags, arg, offset),
            Opcode::Uload16 => pos.ins().uload16(types::I64, flags, arg, offset),
            _ => continue,
        };
        pos.func.replace(load).ireduce(types::I32, wide);
        for &user in &wide_uses[narrow] {
            match &mut pos.func.dfg.insts[user] {
                InstructionData::Brif { arg, .. } => *arg = wide,
                _ => {
                    let extended = pos.func.dfg.first_result(user);
                    pos.func.dfg.clear_results(user);
                    pos.func.layout.remove_inst(user);
                    pos.func.dfg.change_to_alias(extended, wide);
                }
            }
        }
    }
    !loaded.is_empty()
}

/// The load that defines `value`, if it is an `i32` load whose register
/// riscv64 leaves sign-extended to 64 bits.
pub(super) fn extended_load(func: &Function, value: Value) -> Option<Inst> {
    let ValueDef::Result(inst, 0) = func.dfg.value_def(value) else {
        return None;
    };
    match func.dfg.insts[inst] {
        InstructionData::Load {
            opcode:
                Opcode::Load | Opcode::Sload8 | Opcode::Sload16 | Opcode::Uload8 | Opcode::Uload16,
            ..
        } if func.dfg.value_type(value) == types::I32 => Some(inst),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{
        AbiParam, MemFlagsData, Signature, UserFuncName, condcodes::IntCC,
    };
    use cranelift_codegen::isa::CallConv;
    use cranelift_codegen::settings;

    /// `x = load(p)`, then `sextend(x) < 10`, `uextend(x)`, `brif x` and
    /// `x + 1`, with `load` the given i32 load.
    fn uses_of_a_load(opcode: Opcode) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I32));
        let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
        let (entry, yes, no) = (
            func.dfg.make_block(),
            func.dfg.make_block(),
            func.dfg.make_block(),
        );
        for b in [entry, yes, no] {
            func.layout.append_block(b);
        }
        let p = func.dfg.append_block_param(entry, types::I64);
        let mut pos = FuncCursor::new(&mut func).at_bottom(entry);
        let flags = MemFlagsData::trusted();
        let x = match opcode {
            Opcode::Load => pos.ins().load(types::I32, flags, p, 8),
            Opcode::Uload8 => pos.ins().uload8(types::I32, flags, p, 8),
            _ => pos.ins().sload16(types::I32, flags, p, 8),
        };
        let wide = pos.ins().sextend(types::I64, x);
        let less = pos.ins().icmp_imm_s(IntCC::SignedLessThan, wide, 10);
        let zero = pos.ins().uextend(types::I64, x);
        let sum = pos.ins().iadd_imm_s(x, 1);
        pos.ins().brif(x, yes, &[], no, &[]);
        pos.goto_bottom(yes);
        let less = pos.ins().uextend(types::I64, less);
        pos.ins().return_(&[less, sum]);
        pos.goto_bottom(no);
        pos.ins().return_(&[zero, sum]);
        func
    }

    /// The entry block's opcodes, constants left out.
    fn opcodes(func: &Function) -> Vec<Opcode> {
        let entry = func.layout.entry_block().expect("has a block");
        func.layout
            .block_insts(entry)
            .map(|i| func.dfg.insts[i].opcode())
            .filter(|&op| op != Opcode::Iconst)
            .collect()
    }

    fn verify(func: &Function) {
        let flags = settings::Flags::new(settings::builder());
        cranelift_codegen::verify_function(func, &flags).expect("valid IR");
    }

    /// `load` becomes `wide` of `i64` and its `ireduce`; the sign extension
    /// goes, the zero extension stays (a word may be 2^31 or more, and it
    /// is left alone for all kinds), and the branch tests the wide load.
    fn loads_wide(load: Opcode, wide: Opcode) {
        let mut func = uses_of_a_load(load);
        assert!(load_extended(&mut func));
        assert_eq!(
            opcodes(&func),
            [
                wide,
                Opcode::Ireduce,
                Opcode::Icmp,
                Opcode::Uextend,
                Opcode::Iadd,
                Opcode::Brif
            ]
        );
        let entry = func.layout.entry_block().expect("has a block");
        let first = func.layout.first_inst(entry).expect("a load");
        assert_eq!(func.dfg.ctrl_typevar(first), types::I64);
        let loaded = func.dfg.first_result(first);
        let last = func.layout.last_inst(entry).expect("ends in a branch");
        assert!(matches!(func.dfg.insts[last], InstructionData::Brif { arg, .. } if arg == loaded));
        verify(&func);
    }

    #[test]
    fn a_word_load_is_loaded_sign_extended() {
        loads_wide(Opcode::Load, Opcode::Sload32);
    }

    #[test]
    fn a_byte_load_is_loaded_wide() {
        loads_wide(Opcode::Uload8, Opcode::Uload8);
    }

    #[test]
    fn a_signed_halfword_is_loaded_wide() {
        loads_wide(Opcode::Sload16, Opcode::Sload16);
    }

    #[test]
    fn an_extension_for_an_address_is_the_load() {
        // `sextend(x)` added to a base, with no compare or branch.
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
        let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
        let entry = func.dfg.make_block();
        func.layout.append_block(entry);
        let p = func.dfg.append_block_param(entry, types::I64);
        let mut pos = FuncCursor::new(&mut func).at_bottom(entry);
        let x = pos.ins().load(types::I32, MemFlagsData::trusted(), p, 0);
        let extended = pos.ins().sextend(types::I64, x);
        let address = pos.ins().iadd(p, extended);
        pos.ins().return_(&[address]);
        assert!(load_extended(&mut func));
        assert_eq!(
            opcodes(&func),
            [
                Opcode::Sload32,
                Opcode::Ireduce,
                Opcode::Iadd,
                Opcode::Return
            ]
        );
        let load = func.layout.first_inst(entry).expect("a load");
        assert_eq!(
            func.dfg.resolve_aliases(extended),
            func.dfg.first_result(load)
        );
        verify(&func);
    }
}
