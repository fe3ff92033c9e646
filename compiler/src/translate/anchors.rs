//! Large constant offsets of memory accesses, moved where the target
//! encodes them cheaply (riscv64 and aarch64).
//!
//! Cranelift's riscv64 and aarch64 backends emit an access whose offset the
//! instruction cannot encode by building the offset in a scratch register
//! in front of that access alone: `lui; addi; add` on riscv64, `mov; movk;
//! add` on aarch64. Such offsets are common: a global array at a constant
//! address (the C kernels' `A[i][j]`, in the `sext(x) + C` form) and a
//! large stack frame in linear memory (`sp + 5920`, ...: CPython's -O0
//! frames, ed25519). Here each such access through `iadd(p, q)` goes
//! through `iadd(iadd(p, anchor), q)` instead, with the rest of the offset
//! in the access:
//!
//! - riscv64 (12-bit signed offsets): `anchor` is the multiple of 4096
//!   nearest the offset (one `lui`), and the rest fits. Accesses in a
//!   block with nearby offsets share one `lui; add; add` (Cranelift's value
//!   numbering merges the copies).
//! - aarch64 (scaled unsigned 12-bit or signed 9-bit offsets, and no
//!   immediate at all with an extended index register): `anchor` is the
//!   whole offset, so the access becomes `add; ldr [base, w, sxtw]`, and
//!   the constant is built once outside the loop instead of on every
//!   access.
//!
//! Cranelift recomputes `p + anchor` in each block that uses it, as it
//! does every addition of a constant. The anchor must sit one addition
//! deep: Cranelift's address-mode rules fold an `iadd(address, constant)`
//! back into the offset.
//!
//! An access at a constant address (a C global: `base + uext(C)`) has no
//! variable part to hide the anchor behind. On riscv64 with guard regions
//! the runtime aligns the memory's base to 2 GiB, so such an access goes
//! through `base | anchor` instead, which Cranelift does not fold (and
//! also recomputes in each block that uses it).

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{
    Function, Inst, InstBuilder, InstructionData, Opcode, Value, ValueDef, types,
};
use kiln_runtime::memory::BASE_ALIGN;

/// How a target encodes access offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Riscv64,
    Aarch64,
}

impl Encoding {
    /// Whether an access of `size` bytes encodes `offset` itself.
    fn fits(self, offset: i32, size: u32) -> bool {
        match self {
            Encoding::Riscv64 => (-2048..=2047).contains(&offset),
            Encoding::Aarch64 => {
                let size = size.max(1) as i32;
                (-256..=255).contains(&offset)
                    || (offset >= 0 && offset % size == 0 && offset / size <= 4095)
            }
        }
    }

    /// Whether a 128-bit vector access encodes `offset` itself (RVV loads
    /// and stores take none).
    pub fn vector_fits(self, offset: i32) -> bool {
        match self {
            Encoding::Riscv64 => offset == 0,
            Encoding::Aarch64 => self.fits(offset, 16),
        }
    }

    /// `(anchor, rest)` with `anchor + rest == offset` and `rest` encoded.
    fn split(self, offset: i32) -> (i64, i32) {
        let anchor = match self {
            // The nearest multiple of 4096: the rest is in -2048..=2047.
            Encoding::Riscv64 => (i64::from(offset) + 2048) & !4095,
            Encoding::Aarch64 => i64::from(offset),
        };
        (anchor, (i64::from(offset) - anchor) as i32)
    }
}

/// Rewrites `func`'s loads and stores whose offset `encoding` does not fit.
/// `aligned_base`: the linear memory's base where it is a multiple of
/// [`BASE_ALIGN`] (guard regions), so that accesses at constant addresses
/// can be anchored too (riscv64 only).
pub fn anchor_large_offsets(func: &mut Function, encoding: Encoding, aligned_base: Option<Value>) {
    let aligned_base = aligned_base.filter(|_| encoding == Encoding::Riscv64);
    let mut cursor = FuncCursor::new(func);
    while cursor.next_block().is_some() {
        while let Some(inst) = cursor.next_inst() {
            let Some((address, offset, size)) = access(cursor.func, inst) else {
                continue;
            };
            let (address, rest) = if let Some((base, anchor, rest)) =
                aligned_base.and_then(|base| {
                    constant_address(cursor.func, address, base, offset).map(|(a, r)| (base, a, r))
                }) {
                // `base | anchor`, not `base + anchor`: Cranelift folds an
                // added constant back into the access's offset, but not an
                // or. The two agree since the base is aligned beyond it.
                (cursor.ins().bor_imm_s(base, anchor), rest)
            } else if encoding.fits(offset, size) {
                continue;
            } else if let Some((p, q)) = sum_of_variables(cursor.func, address) {
                let (anchor, rest) = encoding.split(offset);
                let anchored = cursor.ins().iadd_imm_s(p, anchor);
                (cursor.ins().iadd(anchored, q), rest)
            } else {
                continue;
            };
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

/// `(anchor, rest)` for an access at `address + offset` where `address` is
/// `base + uext(constant)` (a C global's address, `i32.const` in Wasm):
/// `anchor` is a multiple of 4096 below [`BASE_ALIGN`], and `rest` fits
/// riscv64's 12-bit offset.
fn constant_address(
    func: &Function,
    address: Value,
    base: Value,
    offset: i32,
) -> Option<(i64, i32)> {
    let (p, q) = sum(func, address)?;
    if p != base {
        return None;
    }
    let index = match func.dfg.insts[func.dfg.value_def(q).inst()?] {
        InstructionData::Unary {
            opcode: Opcode::Uextend,
            arg,
        } if func.dfg.value_type(arg) == types::I32 => super::iconst_value(&func.dfg, arg)? as u32,
        _ => return None,
    };
    let total = i64::from(index) + i64::from(offset);
    let (anchor, rest) = Encoding::Riscv64.split(i32::try_from(total).ok()?);
    (anchor > 0 && anchor < BASE_ALIGN as i64).then_some((anchor, rest))
}

/// The address, offset and access size of a load or store.
fn access(func: &Function, inst: Inst) -> Option<(Value, i32, u32)> {
    let narrow = |opcode: Opcode| match opcode {
        Opcode::Uload8 | Opcode::Sload8 | Opcode::Istore8 => Some(1),
        Opcode::Uload16 | Opcode::Sload16 | Opcode::Istore16 => Some(2),
        Opcode::Uload32 | Opcode::Sload32 | Opcode::Istore32 => Some(4),
        Opcode::Uload8x8 | Opcode::Sload8x8 => Some(8),
        Opcode::Uload16x4 | Opcode::Sload16x4 => Some(8),
        Opcode::Uload32x2 | Opcode::Sload32x2 => Some(8),
        _ => None,
    };
    match func.dfg.insts[inst] {
        InstructionData::Load {
            opcode,
            arg,
            offset,
            ..
        } => {
            let size = narrow(opcode).unwrap_or_else(|| func.dfg.ctrl_typevar(inst).bytes());
            Some((arg, i32::from(offset), size))
        }
        InstructionData::Store {
            opcode,
            args,
            offset,
            ..
        } => {
            let size = narrow(opcode).unwrap_or_else(|| func.dfg.value_type(args[0]).bytes());
            Some((args[1], i32::from(offset), size))
        }
        _ => None,
    }
}

/// `(p, q)` if `v` is `iadd(p, q)`.
fn sum(func: &Function, v: Value) -> Option<(Value, Value)> {
    let ValueDef::Result(def, 0) = func.dfg.value_def(v) else {
        return None;
    };
    match func.dfg.insts[def] {
        InstructionData::Binary {
            opcode: Opcode::Iadd,
            args: [p, q],
        } => Some((p, q)),
        _ => None,
    }
}

/// `(p, q)` if `address` is the i64 `iadd(p, q)` and neither is a constant.
fn sum_of_variables(func: &Function, address: Value) -> Option<(Value, Value)> {
    let (p, q) = sum(func, address)?;
    let constant = |v: Value| super::iconst_value(&func.dfg, v).is_some();
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
        anchor_large_offsets(&mut func, Encoding::Riscv64, None);
        assert_eq!(accesses(&func), [(0, 0), (8, 0), (-2048, 0), (2047, 0)]);
        let mut func = loads(&[0, -256, 255, 5920, 32760]);
        anchor_large_offsets(&mut func, Encoding::Aarch64, None);
        assert_eq!(
            accesses(&func),
            [(0, 0), (-256, 0), (255, 0), (5920, 0), (32760, 0)]
        );
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
        anchor_large_offsets(&mut func, Encoding::Riscv64, None);
        assert_eq!(accesses(&func), [(5000, 0)]);
    }

    #[test]
    fn large_offsets_keep_their_sum() {
        let offsets = [2048, 5920, 6128, 6143, 6144, -4000, -4100, 0x7fff_0000];
        let mut func = loads(&offsets);
        anchor_large_offsets(&mut func, Encoding::Riscv64, None);
        let got = accesses(&func);
        for ((rest, anchor), offset) in got.iter().zip(offsets) {
            assert_eq!(i64::from(*rest) + anchor, i64::from(offset));
            assert!(Encoding::Riscv64.fits(*rest, 8), "{offset}: rest {rest}");
        }
        // Multiples of 4096 (one `lui`), shared by nearby offsets.
        let anchors: Vec<i64> = got.iter().map(|&(_, anchor)| anchor).collect();
        assert_eq!(
            anchors,
            [4096, 4096, 4096, 4096, 8192, -4096, -4096, 0x7fff_0000]
        );
    }

    #[test]
    fn aarch64_moves_whole_offsets_its_access_cannot_encode() {
        // Unaligned, beyond the scaled range, below -256.
        let mut func = loads(&[5921, 32768, -257]);
        anchor_large_offsets(&mut func, Encoding::Aarch64, None);
        assert_eq!(accesses(&func), [(0, 5921), (0, 32768), (0, -257)]);
        // A byte load's scaled range ends at 4095.
        let mut func = loads(&[]);
        let block = func.layout.entry_block().expect("has a block");
        let address = func.dfg.block_params(block)[0];
        let ret = func.layout.last_inst(block).expect("has a return");
        let mut cursor = FuncCursor::new(&mut func).at_inst(ret);
        let index = cursor.func.dfg.block_params(block)[1];
        let address = cursor.ins().iadd(address, index);
        for offset in [4095, 4096] {
            cursor
                .ins()
                .uload8(types::I32, MemFlagsData::new(), address, offset);
        }
        anchor_large_offsets(&mut func, Encoding::Aarch64, None);
        assert_eq!(accesses(&func), [(4095, 0), (0, 4096)]);
    }

    /// `load(base + uext(C) + offset)` for each `(C, offset)`; the loads'
    /// (anchor, rest) after the pass, (0, offset) for one left alone.
    fn constant_loads(
        accesses: &[(u32, i32)],
        encoding: Encoding,
        aligned: bool,
    ) -> Vec<(i64, i32)> {
        let mut func = loads(&[]);
        let block = func.layout.entry_block().expect("has a block");
        let base = func.dfg.block_params(block)[0];
        let ret = func.layout.last_inst(block).expect("has a return");
        let mut cursor = FuncCursor::new(&mut func).at_inst(ret);
        for &(c, offset) in accesses {
            let c = cursor.ins().iconst(types::I32, i64::from(c));
            let wide = cursor.ins().uextend(types::I64, c);
            let address = cursor.ins().iadd(base, wide);
            cursor
                .ins()
                .load(types::I32, MemFlagsData::new(), address, offset);
        }
        anchor_large_offsets(&mut func, encoding, aligned.then_some(base));
        func.layout
            .block_insts(block)
            .filter_map(|inst| match func.dfg.insts[inst] {
                InstructionData::Load { arg, offset, .. } => Some((arg, i32::from(offset))),
                _ => None,
            })
            .map(|(arg, offset)| match func.dfg.value_def(arg) {
                ValueDef::Result(i, 0) => match func.dfg.insts[i] {
                    InstructionData::Binary {
                        opcode: Opcode::Bor,
                        args: [p, k],
                    } if p == base => (
                        super::super::iconst_value(&func.dfg, k).expect("an iconst"),
                        offset,
                    ),
                    _ => (0, offset),
                },
                _ => (0, offset),
            })
            .collect()
    }

    #[test]
    fn constant_addresses_go_through_an_aligned_base() {
        let accesses = [
            (2044, 0),
            (2048, 0),
            (48, 2000),
            (6143, 0),
            (6144, 0),
            (0, 70000),
            (0x7fff_f7ff, 0),
            (0x7fff_f800, 0),
            (0xffff_fff0, 16),
        ];
        assert_eq!(
            constant_loads(&accesses, Encoding::Riscv64, true),
            [
                (0, 0),
                (4096, -2048),
                (4096, -2048),
                (4096, 2047),
                (8192, -2048),
                (69632, 368),
                (0x7fff_f000, 2047),
                // The anchor would reach the base's alignment.
                (0, 0),
                (0, 16),
            ]
        );
        // Not without the aligned base, nor on aarch64: no `bor`, and only
        // the large offset is split as any other (its anchor added).
        let added = |rest| -> Vec<(i64, i32)> {
            accesses
                .iter()
                .map(|&(_, o)| (0, if o == 70000 { rest } else { o }))
                .collect()
        };
        assert_eq!(
            constant_loads(&accesses, Encoding::Riscv64, false),
            added(368)
        );
        assert_eq!(constant_loads(&accesses, Encoding::Aarch64, true), added(0));
    }
}
