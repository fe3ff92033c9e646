//! Numeric instructions: constants, integer and float arithmetic,
//! comparisons, conversions (trapping and saturating) and reinterpretations.
//! Cranelift's instructions have Wasm's semantics (shift masking, NaN-aware
//! min/max, trapping division and float-to-int), so most map one to one.

use anyhow::Result;
use cranelift_codegen::ir::{
    self, InstBuilder, MemFlagsData, Type, Value,
    condcodes::{CondCode, FloatCC, IntCC},
    immediates::{Ieee32, Ieee64},
    types,
};
use wasmparser::Operator;

use super::FuncTranslator;

impl FuncTranslator<'_, '_> {
    fn unary(&mut self, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop();
        let v = f(self, a);
        self.push(v);
    }

    fn binary(&mut self, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(self, a, b);
        self.push(v);
    }

    /// On riscv64 (`wide_compares`) an i32 comparison compares the
    /// operands sign-extended to i64. Cranelift's riscv64 backend extends
    /// i32 operands itself before every compare (zero-extends for unsigned
    /// ones), but it does not fold the extension of a constant (`lui; addi;
    /// zext.w` in a loop's exit test), and it zero-extends even `addw`
    /// results, which are sign-extended already. Sign extension keeps the
    /// unsigned order too (0..2^31 stay, 2^31..2^32 move above them),
    /// `sextend` of a constant folds to an i64 constant, and of an `iadd`
    /// costs nothing.
    fn icmp(&mut self, cc: IntCC) {
        let (mut a, mut b) = self.pop2();
        if self.env.wide_compares && self.b.func.dfg.value_type(a) == types::I32 {
            a = self.b.ins().sextend(types::I64, a);
            b = self.b.ins().sextend(types::I64, b);
        }
        let v = self.b.ins().icmp(cc, a, b);
        self.push_bool(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let v = self.b.ins().fcmp(cc, a, b);
        self.push_bool(v);
    }

    /// On riscv64 (`wide_compares`) a loaded operand is sign-extended as in
    /// [`Self::icmp`], so that `extended_loads` loads it extended instead
    /// of extending it again for the compare.
    fn eqz(&mut self) {
        let a = self.pop();
        let v = match self.float_compare(a) {
            // Cranelift folds `eqz` of an integer comparison into the
            // complementary comparison, but not of a float one: `f64.lt;
            // i32.eqz; br_if` would set a byte, widen and test it.
            Some((cc, x, y)) => self.b.ins().fcmp(cc.complement(), x, y),
            _ if self.env.wide_compares && self.is_i32_load(a) => {
                let wide = self.b.ins().sextend(types::I64, a);
                self.b.ins().icmp_imm_s(IntCC::Equal, wide, 0)
            }
            _ => self.b.ins().icmp_imm_s(IntCC::Equal, a, 0),
        };
        self.push_bool(v);
    }

    /// The value a branch on the i32 `cond` tests, and whether the branch's
    /// targets swap. On riscv64 (`wide_compares`) a branch on `eqz(x)`,
    /// where `x` is an `i32.add`, `i32.sub` or a load, branches on `x`
    /// itself, sign-extended, with the targets swapped: the extension is
    /// free (`addw`, `subw`, or `lw` through `extended_loads`). Left as an
    /// i32 compare with zero, Cranelift's e-graph turns C's `--refcnt ==
    /// 0` into `refcnt == 1` and `a - b == 0` into `a == b`, which the
    /// backend compares as `sext.w; li; sext.w; bne`; the widened `eqz` it
    /// narrows back to that. Every other condition stays as it was.
    pub(super) fn branch_condition(&mut self, cond: Value) -> (Value, bool) {
        if !self.env.wide_compares {
            return (cond, false);
        }
        let Some(x) = self.eqz_operand(cond) else {
            return (cond, false);
        };
        let opcode = self
            .b
            .func
            .dfg
            .value_def(x)
            .inst()
            .map(|i| self.b.func.dfg.insts[i].opcode());
        let free =
            matches!(opcode, Some(ir::Opcode::Iadd | ir::Opcode::Isub)) || self.is_i32_load(x);
        match free {
            true => (self.b.ins().sextend(types::I64, x), true),
            false => (cond, false),
        }
    }

    /// The i32 `x` where `v` is `eqz(x)` (`uextend(icmp eq x, 0)`, `x`
    /// maybe sign-extended first, see [`Self::eqz`]).
    fn eqz_operand(&self, v: Value) -> Option<Value> {
        let dfg = &self.b.func.dfg;
        let arg = self.uextend_operand(v)?;
        let ir::InstructionData::IntCompare {
            cond: IntCC::Equal,
            args: [x, zero],
            ..
        } = dfg.insts[dfg.value_def(arg).inst()?]
        else {
            return None;
        };
        if super::iconst_value(dfg, zero) != Some(0) {
            return None;
        }
        let x = match dfg.insts[dfg.value_def(x).inst()?] {
            ir::InstructionData::Unary {
                opcode: ir::Opcode::Sextend,
                arg,
            } => arg,
            _ => x,
        };
        (dfg.value_type(x) == types::I32).then_some(x)
    }

    /// `x` where `v` is `uextend(x)` (how a Wasm comparison's result is
    /// pushed, see `push_bool`).
    fn uextend_operand(&self, v: Value) -> Option<Value> {
        let dfg = &self.b.func.dfg;
        match dfg.insts[dfg.value_def(v).inst()?] {
            ir::InstructionData::Unary {
                opcode: ir::Opcode::Uextend,
                arg,
            } => Some(arg),
            _ => None,
        }
    }

    /// Whether `v` is an i32 load that `extended_loads` can load extended.
    fn is_i32_load(&self, v: Value) -> bool {
        super::extended_loads::extended_load(self.b.func, v).is_some()
    }

    /// `(cc, x, y)` where `v` is a Wasm float comparison, `uextend (fcmp cc x y)`.
    fn float_compare(&self, v: Value) -> Option<(FloatCC, Value, Value)> {
        let dfg = &self.b.func.dfg;
        let arg = self.uextend_operand(v)?;
        match dfg.insts[dfg.value_def(arg).inst()?] {
            ir::InstructionData::FloatCompare {
                opcode: ir::Opcode::Fcmp,
                cond,
                args: [x, y],
            } => Some((cond, x, y)),
            _ => None,
        }
    }

    /// Sign-extends the low `from` bits of the top value in place.
    fn extend_low(&mut self, from: Type, to: Type) {
        self.unary(|t, a| {
            let narrow = t.b.ins().ireduce(from, a);
            t.b.ins().sextend(to, narrow)
        });
    }

    fn bitcast(&mut self, to: Type) {
        self.unary(|t, a| t.b.ins().bitcast(to, MemFlagsData::new(), a));
    }

    pub(crate) fn numeric_operator(&mut self, op: &Operator<'_>) -> Result<bool> {
        use types::{F32, F64, I8, I16, I32, I64};
        match *op {
            // -- constants ---------------------------------------------------
            Operator::I32Const { value } => {
                let v = self.b.ins().iconst(I32, value as i64);
                self.push(v);
            }
            Operator::I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v);
            }
            Operator::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            Operator::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // -- integer comparisons -----------------------------------------
            Operator::I32Eqz | Operator::I64Eqz => self.eqz(),
            Operator::I32Eq | Operator::I64Eq => self.icmp(IntCC::Equal),
            Operator::I32Ne | Operator::I64Ne => self.icmp(IntCC::NotEqual),
            Operator::I32LtS | Operator::I64LtS => self.icmp(IntCC::SignedLessThan),
            Operator::I32LtU | Operator::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            Operator::I32GtS | Operator::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            Operator::I32GtU | Operator::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            Operator::I32LeS | Operator::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            Operator::I32LeU | Operator::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            Operator::I32GeS | Operator::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            Operator::I32GeU | Operator::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            // -- float comparisons (ordered, except `ne`) --------------------
            Operator::F32Eq | Operator::F64Eq => self.fcmp(FloatCC::Equal),
            Operator::F32Ne | Operator::F64Ne => self.fcmp(FloatCC::NotEqual),
            Operator::F32Lt | Operator::F64Lt => self.fcmp(FloatCC::LessThan),
            Operator::F32Gt | Operator::F64Gt => self.fcmp(FloatCC::GreaterThan),
            Operator::F32Le | Operator::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            Operator::F32Ge | Operator::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            // -- integer arithmetic ------------------------------------------
            Operator::I32Clz | Operator::I64Clz => self.unary(|t, a| t.b.ins().clz(a)),
            Operator::I32Ctz | Operator::I64Ctz => self.unary(|t, a| t.b.ins().ctz(a)),
            Operator::I32Popcnt | Operator::I64Popcnt => self.unary(|t, a| t.b.ins().popcnt(a)),
            Operator::I32Add | Operator::I64Add => self.binary(|t, a, b| t.b.ins().iadd(a, b)),
            Operator::I32Sub | Operator::I64Sub => self.binary(|t, a, b| t.b.ins().isub(a, b)),
            Operator::I32Mul | Operator::I64Mul => self.binary(|t, a, b| t.b.ins().imul(a, b)),
            // Cranelift's divisions trap on zero and on signed overflow, and
            // `srem` is defined for MIN % -1, as Wasm requires.
            Operator::I32DivS | Operator::I64DivS => self.binary(|t, a, b| t.b.ins().sdiv(a, b)),
            Operator::I32DivU | Operator::I64DivU => self.binary(|t, a, b| t.b.ins().udiv(a, b)),
            Operator::I32RemS | Operator::I64RemS => self.binary(|t, a, b| t.b.ins().srem(a, b)),
            Operator::I32RemU | Operator::I64RemU => self.binary(|t, a, b| t.b.ins().urem(a, b)),
            Operator::I32And | Operator::I64And => self.binary(|t, a, b| t.b.ins().band(a, b)),
            Operator::I32Or | Operator::I64Or => self.binary(|t, a, b| t.b.ins().bor(a, b)),
            Operator::I32Xor | Operator::I64Xor => self.binary(|t, a, b| t.b.ins().bxor(a, b)),
            Operator::I32Shl | Operator::I64Shl => self.binary(|t, a, b| t.b.ins().ishl(a, b)),
            Operator::I32ShrS | Operator::I64ShrS => self.binary(|t, a, b| t.b.ins().sshr(a, b)),
            Operator::I32ShrU | Operator::I64ShrU => self.binary(|t, a, b| t.b.ins().ushr(a, b)),
            Operator::I32Rotl | Operator::I64Rotl => self.binary(|t, a, b| t.b.ins().rotl(a, b)),
            Operator::I32Rotr | Operator::I64Rotr => self.binary(|t, a, b| t.b.ins().rotr(a, b)),

            // -- float arithmetic --------------------------------------------
            Operator::F32Abs | Operator::F64Abs => self.unary(|t, a| t.b.ins().fabs(a)),
            Operator::F32Neg | Operator::F64Neg => self.unary(|t, a| t.b.ins().fneg(a)),
            Operator::F32Ceil | Operator::F64Ceil => self.unary(|t, a| t.b.ins().ceil(a)),
            Operator::F32Floor | Operator::F64Floor => self.unary(|t, a| t.b.ins().floor(a)),
            Operator::F32Trunc | Operator::F64Trunc => self.unary(|t, a| t.b.ins().trunc(a)),
            Operator::F32Nearest | Operator::F64Nearest => self.unary(|t, a| t.b.ins().nearest(a)),
            Operator::F32Sqrt | Operator::F64Sqrt => self.unary(|t, a| t.b.ins().sqrt(a)),
            Operator::F32Add | Operator::F64Add => self.binary(|t, a, b| t.b.ins().fadd(a, b)),
            Operator::F32Sub | Operator::F64Sub => self.binary(|t, a, b| t.b.ins().fsub(a, b)),
            Operator::F32Mul | Operator::F64Mul => self.binary(|t, a, b| t.b.ins().fmul(a, b)),
            Operator::F32Div | Operator::F64Div => self.binary(|t, a, b| t.b.ins().fdiv(a, b)),
            Operator::F32Min | Operator::F64Min => self.binary(|t, a, b| t.b.ins().fmin(a, b)),
            Operator::F32Max | Operator::F64Max => self.binary(|t, a, b| t.b.ins().fmax(a, b)),
            Operator::F32Copysign | Operator::F64Copysign => {
                self.binary(|t, a, b| t.b.ins().fcopysign(a, b))
            }

            // -- integer width changes ---------------------------------------
            Operator::I32WrapI64 => self.unary(|t, a| t.b.ins().ireduce(I32, a)),
            Operator::I64ExtendI32S => self.unary(|t, a| t.b.ins().sextend(I64, a)),
            Operator::I64ExtendI32U => self.unary(|t, a| t.b.ins().uextend(I64, a)),
            Operator::I32Extend8S => self.extend_low(I8, I32),
            Operator::I32Extend16S => self.extend_low(I16, I32),
            Operator::I64Extend8S => self.extend_low(I8, I64),
            Operator::I64Extend16S => self.extend_low(I16, I64),
            Operator::I64Extend32S => self.extend_low(I32, I64),

            // -- float <-> int -----------------------------------------------
            Operator::I32TruncF32S | Operator::I32TruncF64S => {
                self.unary(|t, a| t.b.ins().fcvt_to_sint(I32, a))
            }
            Operator::I32TruncF32U | Operator::I32TruncF64U => {
                self.unary(|t, a| t.b.ins().fcvt_to_uint(I32, a))
            }
            Operator::I64TruncF32S | Operator::I64TruncF64S => {
                self.unary(|t, a| t.b.ins().fcvt_to_sint(I64, a))
            }
            Operator::I64TruncF32U | Operator::I64TruncF64U => {
                self.unary(|t, a| t.b.ins().fcvt_to_uint(I64, a))
            }
            Operator::I32TruncSatF32S | Operator::I32TruncSatF64S => {
                self.unary(|t, a| t.b.ins().fcvt_to_sint_sat(I32, a))
            }
            Operator::I32TruncSatF32U | Operator::I32TruncSatF64U => {
                self.unary(|t, a| t.b.ins().fcvt_to_uint_sat(I32, a))
            }
            Operator::I64TruncSatF32S | Operator::I64TruncSatF64S => {
                self.unary(|t, a| t.b.ins().fcvt_to_sint_sat(I64, a))
            }
            Operator::I64TruncSatF32U | Operator::I64TruncSatF64U => {
                self.unary(|t, a| t.b.ins().fcvt_to_uint_sat(I64, a))
            }
            Operator::F32ConvertI32S | Operator::F32ConvertI64S => {
                self.unary(|t, a| t.b.ins().fcvt_from_sint(F32, a))
            }
            Operator::F32ConvertI32U | Operator::F32ConvertI64U => {
                self.unary(|t, a| t.b.ins().fcvt_from_uint(F32, a))
            }
            Operator::F64ConvertI32S | Operator::F64ConvertI64S => {
                self.unary(|t, a| t.b.ins().fcvt_from_sint(F64, a))
            }
            Operator::F64ConvertI32U | Operator::F64ConvertI64U => {
                self.unary(|t, a| t.b.ins().fcvt_from_uint(F64, a))
            }
            Operator::F32DemoteF64 => self.unary(|t, a| t.b.ins().fdemote(F32, a)),
            Operator::F64PromoteF32 => self.unary(|t, a| t.b.ins().fpromote(F64, a)),

            // -- reinterpretations -------------------------------------------
            Operator::I32ReinterpretF32 => self.bitcast(I32),
            Operator::I64ReinterpretF64 => self.bitcast(I64),
            Operator::F32ReinterpretI32 => self.bitcast(F32),
            Operator::F64ReinterpretI64 => self.bitcast(F64),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
