//! Large constant offsets of memory accesses from shared anchors (riscv64).
//!
//! A riscv64 load or store encodes a 12-bit signed offset. Cranelift's
//! backend emits a larger one as `lui; addi; add` into a scratch register
//! in front of that access alone, so code addressing a large stack frame in
//! linear memory (`sp + 5920`, `sp + 6128`, ...: CPython's -O0 frames,
//! ed25519) or a global array at a constant address (the C kernels) pays
//! three instructions per access. Here each such access through `iadd(p,
//! q)` goes through `iadd(iadd(p, anchor), q)` instead, with `anchor` the
//! multiple of 4096 (one `lui`) nearest the offset and the rest, which
//! fits, in the access. Accesses in a block with nearby offsets then share
//! one `lui; add; add` (Cranelift's value numbering merges the copies; it
//! recomputes `p + anchor` in each block that uses it, as it does every
//! addition of a constant).
//!
//! Cranelift's address-mode rule folds an `iadd(address, constant)` back
//! into the offset; the anchor sits one addition deeper, where that rule
//! does not look.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{
    Function, Inst, InstBuilder, InstructionData, Opcode, Value, ValueDef, types,
};

/// Offsets a riscv64 access encodes itself.
const FITS: core::ops::RangeInclusive<i32> = -2048..=2047;

/// Rewrites `func`'s loads and stores whose offset does not fit.
pub fn anchor_large_offsets(func: &mut Function) {
    let mut cursor = FuncCursor::new(func);
    while cursor.next_block().is_some() {
        while let Some(inst) = cursor.next_inst() {
            let Some((address, offset)) = access(cursor.func, inst) else {
                continue;
            };
            if FITS.contains(&offset) {
                continue;
            }
            let Some((p, q)) = sum_of_variables(cursor.func, address) else {
                continue;
            };
            // The nearest multiple of 4096: the rest is in -2048..=2047.
            let anchor = (i64::from(offset) + 2048) & !4095;
            let rest = (i64::from(offset) - anchor) as i32;
            let anchored = cursor.ins().iadd_imm_s(p, anchor);
            let address = cursor.ins().iadd(anchored, q);
            match &mut cursor.func.dfg.insts[inst] {
                InstructionData::Load { arg, offset, .. } => {
                    (*arg, *offset) = (address, rest.into());
                }
                InstructionData::Store { args, offset, .. } => {
                    (args[1], *offset) = (address, rest.into());
                }
                _ => {}
            }
        }
    }
}

/// The address and offset of a load or store.
fn access(func: &Function, inst: Inst) -> Option<(Value, i32)> {
    match func.dfg.insts[inst] {
        InstructionData::Load { arg, offset, .. } => Some((arg, i32::from(offset))),
        InstructionData::Store { args, offset, .. } => Some((args[1], i32::from(offset))),
        _ => None,
    }
}

/// `(p, q)` if `address` is the i64 `iadd(p, q)` and neither is a constant.
fn sum_of_variables(func: &Function, address: Value) -> Option<(Value, Value)> {
    let ValueDef::Result(def, 0) = func.dfg.value_def(address) else {
        return None;
    };
    let InstructionData::Binary {
        opcode: Opcode::Iadd,
        args: [p, q],
    } = func.dfg.insts[def]
    else {
        return None;
    };
    let constant = |v: Value| match func.dfg.value_def(v) {
        ValueDef::Result(i, _) => func.dfg.insts[i].opcode() == Opcode::Iconst,
        _ => false,
    };
    (func.dfg.value_type(address) == types::I64 && !constant(p) && !constant(q)).then_some((p, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{AbiParam, MemFlagsData, Signature, UserFuncName};
    use cranelift_codegen::isa::CallConv;

    /// `load(iadd(base, index) + offset)` for each offset.
    fn loads(offsets: &[i32]) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.params.push(AbiParam::new(types::I64));
        let mut func = Function::with_name_signature(UserFuncName::user(0, 0), sig);
        let block = func.dfg.make_block();
        func.layout.append_block(block);
        let mut cursor = FuncCursor::new(&mut func).at_bottom(block);
        let base = cursor.func.dfg.append_block_param(block, types::I64);
        let index = cursor.func.dfg.append_block_param(block, types::I64);
        let address = cursor.ins().iadd(base, index);
        for &offset in offsets {
            cursor
                .ins()
                .load(types::I64, MemFlagsData::new(), address, offset);
        }
        cursor.ins().return_(&[]);
        func
    }

    /// The offsets of the loads, and the anchors their addresses add.
    fn accesses(func: &Function) -> Vec<(i32, i64)> {
        let block = func.layout.entry_block().expect("has a block");
        func.layout
            .block_insts(block)
            .filter_map(|inst| match func.dfg.insts[inst] {
                InstructionData::Load { arg, offset, .. } => Some((arg, i32::from(offset))),
                _ => None,
            })
            .map(|(arg, offset)| {
                // The address is `iadd(iadd(p, iconst anchor), q)`.
                let constant = |v: Value| match func.dfg.value_def(v) {
                    ValueDef::Result(i, 0) => match func.dfg.insts[i] {
                        InstructionData::UnaryImm { imm, .. } => Some(imm.bits()),
                        _ => None,
                    },
                    _ => None,
                };
                let anchor = sum_of_variables(func, arg)
                    .and_then(|(p, _)| match func.dfg.value_def(p) {
                        ValueDef::Result(i, 0) => match func.dfg.insts[i] {
                            InstructionData::Binary { args, .. } => constant(args[1]),
                            _ => None,
                        },
                        _ => None,
                    })
                    .unwrap_or(0);
                (offset, anchor)
            })
            .collect()
    }

    #[test]
    fn offsets_that_fit_stay() {
        let mut func = loads(&[0, 8, -2048, 2047]);
        anchor_large_offsets(&mut func);
        assert_eq!(accesses(&func), [(0, 0), (8, 0), (-2048, 0), (2047, 0)]);
    }

    #[test]
    fn addresses_with_a_constant_term_stay() {
        // `iadd(p, constant)`: Cranelift folds it into the offset anyway.
        let mut func = loads(&[]);
        let block = func.layout.entry_block().expect("has a block");
        let base = func.dfg.block_params(block)[0];
        let ret = func.layout.last_inst(block).expect("has a return");
        let mut cursor = FuncCursor::new(&mut func).at_inst(ret);
        let address = cursor.ins().iadd_imm_s(base, 64);
        cursor
            .ins()
            .load(types::I64, MemFlagsData::new(), address, 5000);
        anchor_large_offsets(&mut func);
        assert_eq!(accesses(&func), [(5000, 0)]);
    }

    #[test]
    fn large_offsets_keep_their_sum() {
        let offsets = [2048, 5920, 6128, 6143, 6144, -4000, -4100, 0x7fff_0000];
        let mut func = loads(&offsets);
        anchor_large_offsets(&mut func);
        let got = accesses(&func);
        for ((rest, anchor), offset) in got.iter().zip(offsets) {
            assert_eq!(i64::from(*rest) + anchor, i64::from(offset));
            assert!(FITS.contains(rest), "{offset}: rest {rest}");
        }
        // Multiples of 4096 (one `lui`), shared by nearby offsets.
        let anchors: Vec<i64> = got.iter().map(|&(_, anchor)| anchor).collect();
        assert_eq!(
            anchors,
            [4096, 4096, 4096, 4096, 8192, -4096, -4096, 0x7fff_0000]
        );
    }
}
