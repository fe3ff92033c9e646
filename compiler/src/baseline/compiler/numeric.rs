//! Numeric operators: constants, integer arithmetic (division with Wasm's
//! traps), comparisons, bit counts, width changes, float arithmetic,
//! comparisons, conversions (truncations trapping or saturating) and
//! reinterpretations. Constants stay constants until an instruction needs
//! them, so most end up as immediates.

use kiln_runtime::abi::TrapKind;
use wasmparser::Operator;

use super::{Compiler, Step, invalid};
use crate::baseline::masm::{
    Count, Division, Extend, FloatCc, FloatOp, FloatUnary, IntCc, IntOp, Loc, MacroAssembler,
    ShiftOp, Truncation, Ty,
};

impl<M: MacroAssembler> Compiler<'_, '_, M> {
    pub(super) fn numeric_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        use Ty::{F32, F64, I32, I64};
        match *op {
            Operator::I32Const { value } => self.push(I32, Loc::Imm(u64::from(value as u32))),
            Operator::I64Const { value } => self.push(I64, Loc::Imm(value as u64)),
            Operator::F32Const { value } => self.push(F32, Loc::Imm(u64::from(value.bits()))),
            Operator::F64Const { value } => self.push(F64, Loc::Imm(value.bits())),

            // `x == 0`, so that a branch on it becomes a compare-and-branch.
            Operator::I32Eqz => {
                self.push(I32, Loc::Imm(0));
                self.defer_compare(I32, IntCc::Eq);
            }
            Operator::I64Eqz => {
                self.push(I64, Loc::Imm(0));
                self.defer_compare(I64, IntCc::Eq);
            }
            Operator::I32Eq => self.defer_compare(I32, IntCc::Eq),
            Operator::I32Ne => self.defer_compare(I32, IntCc::Ne),
            Operator::I32LtS => self.defer_compare(I32, IntCc::LtS),
            Operator::I32LtU => self.defer_compare(I32, IntCc::LtU),
            Operator::I32GtS => self.defer_compare(I32, IntCc::GtS),
            Operator::I32GtU => self.defer_compare(I32, IntCc::GtU),
            Operator::I32LeS => self.defer_compare(I32, IntCc::LeS),
            Operator::I32LeU => self.defer_compare(I32, IntCc::LeU),
            Operator::I32GeS => self.defer_compare(I32, IntCc::GeS),
            Operator::I32GeU => self.defer_compare(I32, IntCc::GeU),
            Operator::I64Eq => self.defer_compare(I64, IntCc::Eq),
            Operator::I64Ne => self.defer_compare(I64, IntCc::Ne),
            Operator::I64LtS => self.defer_compare(I64, IntCc::LtS),
            Operator::I64LtU => self.defer_compare(I64, IntCc::LtU),
            Operator::I64GtS => self.defer_compare(I64, IntCc::GtS),
            Operator::I64GtU => self.defer_compare(I64, IntCc::GtU),
            Operator::I64LeS => self.defer_compare(I64, IntCc::LeS),
            Operator::I64LeU => self.defer_compare(I64, IntCc::LeU),
            Operator::I64GeS => self.defer_compare(I64, IntCc::GeS),
            Operator::I64GeU => self.defer_compare(I64, IntCc::GeU),

            Operator::I32Add => self.int_op(I32, IntOp::Add)?,
            Operator::I32Sub => self.int_op(I32, IntOp::Sub)?,
            Operator::I32Mul => self.int_op(I32, IntOp::Mul)?,
            Operator::I32And => self.int_op(I32, IntOp::And)?,
            Operator::I32Or => self.int_op(I32, IntOp::Or)?,
            Operator::I32Xor => self.int_op(I32, IntOp::Xor)?,
            Operator::I64Add => self.int_op(I64, IntOp::Add)?,
            Operator::I64Sub => self.int_op(I64, IntOp::Sub)?,
            Operator::I64Mul => self.int_op(I64, IntOp::Mul)?,
            Operator::I64And => self.int_op(I64, IntOp::And)?,
            Operator::I64Or => self.int_op(I64, IntOp::Or)?,
            Operator::I64Xor => self.int_op(I64, IntOp::Xor)?,
            Operator::I32Shl => self.shift(I32, ShiftOp::Shl)?,
            Operator::I32ShrS => self.shift(I32, ShiftOp::ShrS)?,
            Operator::I32ShrU => self.shift(I32, ShiftOp::ShrU)?,
            Operator::I32Rotl => self.shift(I32, ShiftOp::Rotl)?,
            Operator::I32Rotr => self.shift(I32, ShiftOp::Rotr)?,
            Operator::I64Shl => self.shift(I64, ShiftOp::Shl)?,
            Operator::I64ShrS => self.shift(I64, ShiftOp::ShrS)?,
            Operator::I64ShrU => self.shift(I64, ShiftOp::ShrU)?,
            Operator::I64Rotl => self.shift(I64, ShiftOp::Rotl)?,
            Operator::I64Rotr => self.shift(I64, ShiftOp::Rotr)?,
            Operator::I32DivS => self.divide(I32, true, false)?,
            Operator::I32DivU => self.divide(I32, false, false)?,
            Operator::I32RemS => self.divide(I32, true, true)?,
            Operator::I32RemU => self.divide(I32, false, true)?,
            Operator::I64DivS => self.divide(I64, true, false)?,
            Operator::I64DivU => self.divide(I64, false, false)?,
            Operator::I64RemS => self.divide(I64, true, true)?,
            Operator::I64RemU => self.divide(I64, false, true)?,
            Operator::I32Clz => self.count(I32, Count::LeadingZeros)?,
            Operator::I32Ctz => self.count(I32, Count::TrailingZeros)?,
            Operator::I32Popcnt => self.count(I32, Count::Ones)?,
            Operator::I64Clz => self.count(I64, Count::LeadingZeros)?,
            Operator::I64Ctz => self.count(I64, Count::TrailingZeros)?,
            Operator::I64Popcnt => self.count(I64, Count::Ones)?,

            Operator::I32WrapI64 => self.extend(I64, I32, Extend::Wrap)?,
            Operator::I64ExtendI32S => self.extend(I32, I64, Extend::I32S)?,
            Operator::I64ExtendI32U => self.extend(I32, I64, Extend::I32U)?,
            Operator::I32Extend8S => self.extend(I32, I32, Extend::Low8(I32))?,
            Operator::I32Extend16S => self.extend(I32, I32, Extend::Low16(I32))?,
            Operator::I64Extend8S => self.extend(I64, I64, Extend::Low8(I64))?,
            Operator::I64Extend16S => self.extend(I64, I64, Extend::Low16(I64))?,
            Operator::I64Extend32S => self.extend(I64, I64, Extend::Low32)?,

            Operator::F32Add => self.float_op(F32, FloatOp::Add)?,
            Operator::F32Sub => self.float_op(F32, FloatOp::Sub)?,
            Operator::F32Mul => self.float_op(F32, FloatOp::Mul)?,
            Operator::F32Div => self.float_op(F32, FloatOp::Div)?,
            Operator::F32Min => self.float_op(F32, FloatOp::Min)?,
            Operator::F32Max => self.float_op(F32, FloatOp::Max)?,
            Operator::F32Copysign => self.float_op(F32, FloatOp::Copysign)?,
            Operator::F64Add => self.float_op(F64, FloatOp::Add)?,
            Operator::F64Sub => self.float_op(F64, FloatOp::Sub)?,
            Operator::F64Mul => self.float_op(F64, FloatOp::Mul)?,
            Operator::F64Div => self.float_op(F64, FloatOp::Div)?,
            Operator::F64Min => self.float_op(F64, FloatOp::Min)?,
            Operator::F64Max => self.float_op(F64, FloatOp::Max)?,
            Operator::F64Copysign => self.float_op(F64, FloatOp::Copysign)?,
            Operator::F32Sqrt => self.float_unary(F32, FloatUnary::Sqrt)?,
            Operator::F32Ceil => self.float_unary(F32, FloatUnary::Ceil)?,
            Operator::F32Floor => self.float_unary(F32, FloatUnary::Floor)?,
            Operator::F32Trunc => self.float_unary(F32, FloatUnary::Trunc)?,
            Operator::F32Nearest => self.float_unary(F32, FloatUnary::Nearest)?,
            Operator::F32Abs => self.float_unary(F32, FloatUnary::Abs)?,
            Operator::F32Neg => self.float_unary(F32, FloatUnary::Neg)?,
            Operator::F64Sqrt => self.float_unary(F64, FloatUnary::Sqrt)?,
            Operator::F64Ceil => self.float_unary(F64, FloatUnary::Ceil)?,
            Operator::F64Floor => self.float_unary(F64, FloatUnary::Floor)?,
            Operator::F64Trunc => self.float_unary(F64, FloatUnary::Trunc)?,
            Operator::F64Nearest => self.float_unary(F64, FloatUnary::Nearest)?,
            Operator::F64Abs => self.float_unary(F64, FloatUnary::Abs)?,
            Operator::F64Neg => self.float_unary(F64, FloatUnary::Neg)?,

            Operator::F32Eq => self.float_compare(F32, FloatCc::Eq)?,
            Operator::F32Ne => self.float_compare(F32, FloatCc::Ne)?,
            Operator::F32Lt => self.float_compare(F32, FloatCc::Lt)?,
            Operator::F32Gt => self.float_compare(F32, FloatCc::Gt)?,
            Operator::F32Le => self.float_compare(F32, FloatCc::Le)?,
            Operator::F32Ge => self.float_compare(F32, FloatCc::Ge)?,
            Operator::F64Eq => self.float_compare(F64, FloatCc::Eq)?,
            Operator::F64Ne => self.float_compare(F64, FloatCc::Ne)?,
            Operator::F64Lt => self.float_compare(F64, FloatCc::Lt)?,
            Operator::F64Gt => self.float_compare(F64, FloatCc::Gt)?,
            Operator::F64Le => self.float_compare(F64, FloatCc::Le)?,
            Operator::F64Ge => self.float_compare(F64, FloatCc::Ge)?,

            Operator::F32ConvertI32S => self.int_to_float(true, I32, F32)?,
            Operator::F32ConvertI32U => self.int_to_float(false, I32, F32)?,
            Operator::F32ConvertI64S => self.int_to_float(true, I64, F32)?,
            Operator::F32ConvertI64U => self.int_to_float(false, I64, F32)?,
            Operator::F64ConvertI32S => self.int_to_float(true, I32, F64)?,
            Operator::F64ConvertI32U => self.int_to_float(false, I32, F64)?,
            Operator::F64ConvertI64S => self.int_to_float(true, I64, F64)?,
            Operator::F64ConvertI64U => self.int_to_float(false, I64, F64)?,
            Operator::F32DemoteF64 => self.float_to_float(F64, F32)?,
            Operator::F64PromoteF32 => self.float_to_float(F32, F64)?,
            Operator::I32ReinterpretF32 => self.reinterpret(I32)?,
            Operator::I64ReinterpretF64 => self.reinterpret(I64)?,
            Operator::F32ReinterpretI32 => self.reinterpret(F32)?,
            Operator::F64ReinterpretI64 => self.reinterpret(F64)?,

            Operator::I32TruncF32S => self.truncate(F32, I32, true, false)?,
            Operator::I32TruncF32U => self.truncate(F32, I32, false, false)?,
            Operator::I32TruncF64S => self.truncate(F64, I32, true, false)?,
            Operator::I32TruncF64U => self.truncate(F64, I32, false, false)?,
            Operator::I64TruncF32S => self.truncate(F32, I64, true, false)?,
            Operator::I64TruncF32U => self.truncate(F32, I64, false, false)?,
            Operator::I64TruncF64S => self.truncate(F64, I64, true, false)?,
            Operator::I64TruncF64U => self.truncate(F64, I64, false, false)?,
            Operator::I32TruncSatF32S => self.truncate(F32, I32, true, true)?,
            Operator::I32TruncSatF32U => self.truncate(F32, I32, false, true)?,
            Operator::I32TruncSatF64S => self.truncate(F64, I32, true, true)?,
            Operator::I32TruncSatF64U => self.truncate(F64, I32, false, true)?,
            Operator::I64TruncSatF32S => self.truncate(F32, I64, true, true)?,
            Operator::I64TruncSatF32U => self.truncate(F32, I64, false, true)?,
            Operator::I64TruncSatF64S => self.truncate(F64, I64, true, true)?,
            Operator::I64TruncSatF64U => self.truncate(F64, I64, false, true)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The right operand of an integer instruction: constants stay
    /// constants (the macro-assembler makes immediates of what fits).
    pub(super) fn rhs(&mut self, ty: Ty) -> Step<(Loc, Option<crate::baseline::masm::Reg>)> {
        let b = self.pop()?;
        if b.ty != ty {
            return invalid("operand type");
        }
        Ok(match b.loc {
            Loc::Imm(_) => (b.loc, None),
            // Read in place.
            Loc::Reg(r) if Self::is_pinned(r) => (b.loc, None),
            _ => {
                let r = self.gpr_of(b)?;
                (Loc::Reg(r), Some(r))
            }
        })
    }

    fn int_op(&mut self, ty: Ty, op: IntOp) -> Step {
        let (rhs, rb) = self.rhs(ty)?;
        let a = self.pop()?;
        let (ra, src) = self.result_and_source(a)?;
        self.m.int_op_from(op, ty, ra, src, rhs);
        if let Some(rb) = rb {
            self.free_gpr(rb);
        }
        self.push(ty, Loc::Reg(ra));
        Ok(())
    }

    /// Leaves a comparison to the next operator (see `pending_compare`).
    fn defer_compare(&mut self, ty: Ty, cc: IntCc) {
        self.pending_compare = Some((ty, cc));
    }

    /// Emits the pending comparison as a 0/1 value.
    pub(super) fn compare(&mut self, ty: Ty, cc: IntCc) -> Step {
        let (rhs, rb) = self.rhs(ty)?;
        let a = self.pop()?;
        let (ra, src) = self.result_and_source(a)?;
        self.m.compare_from(cc, ty, ra, src, rhs);
        if let Some(rb) = rb {
            self.free_gpr(rb);
        }
        self.push(Ty::I32, Loc::Reg(ra));
        Ok(())
    }

    /// Shifts and rotates; a variable count goes where the architecture
    /// wants it.
    fn shift(&mut self, ty: Ty, op: ShiftOp) -> Step {
        if let Loc::Imm(_) = self.peek()?.loc {
            let count = self.pop()?;
            let a = self.pop()?;
            let (ra, src) = self.result_and_source(a)?;
            self.m.shift_from(op, ty, ra, src, count.loc);
            self.push(ty, Loc::Reg(ra));
            return Ok(());
        }
        let (a, rc) = match M::SHIFT_COUNT {
            Some(fixed) => {
                self.take_gpr(fixed)?;
                let count = self.pop()?;
                let a = self.pop()?;
                self.m.load(ty, fixed, count.loc);
                self.free(count);
                (a, fixed)
            }
            None => {
                let count = self.pop()?;
                let a = self.pop()?;
                (a, self.gpr_of(count)?)
            }
        };
        let ra = self.gpr_of(a)?;
        self.m.shift(op, ty, ra, Loc::Reg(rc));
        self.free_gpr(rc);
        self.push(ty, Loc::Reg(ra));
        Ok(())
    }

    /// Division and remainder with Wasm's traps.
    fn divide(&mut self, ty: Ty, signed: bool, remainder: bool) -> Step {
        let by_zero = self.trap_label(TrapKind::IntegerDivideByZero);
        let overflow = match signed && !remainder {
            true => self.trap_label(TrapKind::IntegerOverflow),
            false => by_zero,
        };
        let division = Division {
            ty,
            signed,
            remainder,
            by_zero,
            overflow,
        };
        let result = match M::DIVISION {
            Some((quotient, rest)) => {
                self.take_gpr(quotient)?;
                self.take_gpr(rest)?;
                let b = self.pop()?;
                let a = self.pop()?;
                let rb = self.gpr_of(b)?;
                self.m.load(ty, quotient, a.loc);
                self.free(a);
                self.m.divide(&division, quotient, rb);
                self.free_gpr(rb);
                let (result, other) = match remainder {
                    true => (rest, quotient),
                    false => (quotient, rest),
                };
                self.free_gpr(other);
                result
            }
            None => {
                let b = self.pop()?;
                let a = self.pop()?;
                let rb = self.gpr_of(b)?;
                let ra = self.gpr_of(a)?;
                self.m.divide(&division, ra, rb);
                self.free_gpr(rb);
                ra
            }
        };
        self.push(ty, Loc::Reg(result));
        Ok(())
    }

    fn count(&mut self, ty: Ty, what: Count) -> Step {
        let a = self.pop()?;
        let ra = self.gpr_of(a)?;
        let rd = self.alloc_gpr()?;
        self.m.count(what, ty, rd, ra);
        self.free_gpr(ra);
        self.push(ty, Loc::Reg(rd));
        Ok(())
    }

    fn extend(&mut self, from: Ty, to: Ty, how: Extend) -> Step {
        let a = self.pop()?;
        if a.ty != from {
            return invalid("operand type");
        }
        // Constants change at compile time.
        if let Loc::Imm(bits) = a.loc {
            let bits = match how {
                Extend::Wrap | Extend::I32U => bits & 0xFFFF_FFFF,
                Extend::I32S | Extend::Low32 => bits as i32 as i64 as u64,
                Extend::Low8(_) => bits as i8 as i64 as u64,
                Extend::Low16(_) => bits as i16 as i64 as u64,
            };
            let bits = if to.is_64() { bits } else { bits & 0xFFFF_FFFF };
            self.push(to, Loc::Imm(bits));
            return Ok(());
        }
        let r = self.gpr_of(a)?;
        self.m.extend(how, r);
        self.push(to, Loc::Reg(r));
        Ok(())
    }

    fn float_op(&mut self, ty: Ty, op: FloatOp) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let fa = self.fpr_of(a)?;
        let fb = self.fpr_of(b)?;
        self.m.float_op(op, ty, fa, fb);
        self.free_fpr(fb);
        self.push(ty, Loc::FReg(fa));
        Ok(())
    }

    fn float_unary(&mut self, ty: Ty, op: FloatUnary) -> Step {
        let a = self.pop()?;
        let f = self.fpr_of(a)?;
        self.m.float_unary(op, ty, f);
        self.push(ty, Loc::FReg(f));
        Ok(())
    }

    fn float_compare(&mut self, ty: Ty, cc: FloatCc) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let fa = self.fpr_of(a)?;
        let fb = self.fpr_of(b)?;
        let r = self.alloc_gpr()?;
        self.m.float_compare(cc, ty, r, fa, fb);
        self.free_fpr(fa);
        self.free_fpr(fb);
        self.push(Ty::I32, Loc::Reg(r));
        Ok(())
    }

    fn int_to_float(&mut self, signed: bool, from: Ty, to: Ty) -> Step {
        let a = self.pop()?;
        let r = self.gpr_of(a)?;
        let f = self.alloc_fpr()?;
        self.m.int_to_float(signed, from, to, f, r);
        self.free_gpr(r);
        self.push(to, Loc::FReg(f));
        Ok(())
    }

    fn float_to_float(&mut self, from: Ty, to: Ty) -> Step {
        let a = self.pop()?;
        if a.ty != from {
            return invalid("operand type");
        }
        let f = self.fpr_of(a)?;
        self.m.float_to_float(to, f);
        self.push(to, Loc::FReg(f));
        Ok(())
    }

    /// Float to integer, toward zero: trapping on NaN ("invalid
    /// conversion") and out-of-range values ("integer overflow"), or
    /// saturating.
    fn truncate(&mut self, from: Ty, to: Ty, signed: bool, saturating: bool) -> Step {
        let a = self.pop()?;
        let f = self.fpr_of(a)?;
        let r = self.alloc_gpr()?;
        let (invalid, overflow) = match saturating {
            true => (self.m.new_label(), self.m.new_label()),
            false => (
                self.trap_label(TrapKind::InvalidConversionToInteger),
                self.trap_label(TrapKind::IntegerOverflow),
            ),
        };
        let truncation = Truncation {
            signed,
            saturating,
            from,
            to,
            invalid,
            overflow,
        };
        self.m.truncate(&truncation, r, f);
        self.free_fpr(f);
        self.push(to, Loc::Reg(r));
        Ok(())
    }

    /// The same bits as another type of the same width.
    fn reinterpret(&mut self, to: Ty) -> Step {
        let a = self.pop()?;
        let loc = match a.loc {
            Loc::Imm(_) | Loc::Slot(_) => a.loc,
            Loc::FReg(f) => {
                let r = self.alloc_gpr()?;
                self.m.bits_to_int(to, r, f);
                self.free_fpr(f);
                Loc::Reg(r)
            }
            Loc::Reg(r) => {
                let f = self.alloc_fpr()?;
                self.m.bits_to_float(to, f, r);
                self.free_gpr(r);
                Loc::FReg(f)
            }
        };
        self.push(to, loc);
        Ok(())
    }
}
