//! Numeric operators: constants, integer arithmetic (division with Wasm's
//! traps), comparisons, bit counts, width changes, float arithmetic with
//! Wasm's NaN and signed-zero rules, conversions and reinterpretations.

use kiln_runtime::abi::TrapKind;
use wasmparser::Operator;

use super::asm::{Alu, Bits, Cond, Gpr, Shift, Sse, Unary, Width};
use super::{Compiler, Loc, SCRATCH, SCRATCH2, Step, Ty, decline};

impl Compiler<'_, '_> {
    pub(super) fn numeric_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        use Ty::{F32, F64, I32, I64};
        match *op {
            Operator::I32Const { value } => self.push(I32, Loc::Imm(u64::from(value as u32))),
            Operator::I64Const { value } => self.push(I64, Loc::Imm(value as u64)),
            Operator::F32Const { value } => self.push(F32, Loc::Imm(u64::from(value.bits()))),
            Operator::F64Const { value } => self.push(F64, Loc::Imm(value.bits())),

            Operator::I32Eqz => self.eqz(Width::W32)?,
            Operator::I64Eqz => self.eqz(Width::W64)?,
            Operator::I32Eq => self.compare(Width::W32, Cond::E)?,
            Operator::I32Ne => self.compare(Width::W32, Cond::Ne)?,
            Operator::I32LtS => self.compare(Width::W32, Cond::L)?,
            Operator::I32LtU => self.compare(Width::W32, Cond::B)?,
            Operator::I32GtS => self.compare(Width::W32, Cond::G)?,
            Operator::I32GtU => self.compare(Width::W32, Cond::A)?,
            Operator::I32LeS => self.compare(Width::W32, Cond::Le)?,
            Operator::I32LeU => self.compare(Width::W32, Cond::Be)?,
            Operator::I32GeS => self.compare(Width::W32, Cond::Ge)?,
            Operator::I32GeU => self.compare(Width::W32, Cond::Ae)?,
            Operator::I64Eq => self.compare(Width::W64, Cond::E)?,
            Operator::I64Ne => self.compare(Width::W64, Cond::Ne)?,
            Operator::I64LtS => self.compare(Width::W64, Cond::L)?,
            Operator::I64LtU => self.compare(Width::W64, Cond::B)?,
            Operator::I64GtS => self.compare(Width::W64, Cond::G)?,
            Operator::I64GtU => self.compare(Width::W64, Cond::A)?,
            Operator::I64LeS => self.compare(Width::W64, Cond::Le)?,
            Operator::I64LeU => self.compare(Width::W64, Cond::Be)?,
            Operator::I64GeS => self.compare(Width::W64, Cond::Ge)?,
            Operator::I64GeU => self.compare(Width::W64, Cond::Ae)?,

            Operator::I32Add => self.alu(I32, Alu::Add)?,
            Operator::I32Sub => self.alu(I32, Alu::Sub)?,
            Operator::I32And => self.alu(I32, Alu::And)?,
            Operator::I32Or => self.alu(I32, Alu::Or)?,
            Operator::I32Xor => self.alu(I32, Alu::Xor)?,
            Operator::I64Add => self.alu(I64, Alu::Add)?,
            Operator::I64Sub => self.alu(I64, Alu::Sub)?,
            Operator::I64And => self.alu(I64, Alu::And)?,
            Operator::I64Or => self.alu(I64, Alu::Or)?,
            Operator::I64Xor => self.alu(I64, Alu::Xor)?,
            Operator::I32Mul => self.mul(I32)?,
            Operator::I64Mul => self.mul(I64)?,
            Operator::I32Shl => self.shift(I32, Shift::Shl)?,
            Operator::I32ShrS => self.shift(I32, Shift::Sar)?,
            Operator::I32ShrU => self.shift(I32, Shift::Shr)?,
            Operator::I32Rotl => self.shift(I32, Shift::Rol)?,
            Operator::I32Rotr => self.shift(I32, Shift::Ror)?,
            Operator::I64Shl => self.shift(I64, Shift::Shl)?,
            Operator::I64ShrS => self.shift(I64, Shift::Sar)?,
            Operator::I64ShrU => self.shift(I64, Shift::Shr)?,
            Operator::I64Rotl => self.shift(I64, Shift::Rol)?,
            Operator::I64Rotr => self.shift(I64, Shift::Ror)?,
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

            Operator::I32WrapI64 => {
                let v = self.pop()?;
                if let Loc::Imm(bits) = v.loc {
                    self.push(I32, Loc::Imm(bits & 0xFFFF_FFFF));
                } else {
                    let r = self.gpr_of(v)?;
                    self.a.mov_rr(Width::W32, r, r);
                    self.push(I32, Loc::Gpr(r));
                }
            }
            Operator::I64ExtendI32S => self.sign_extend(I64, 4)?,
            Operator::I64ExtendI32U => {
                let v = self.pop()?;
                // Registers and constants hold i32s zero-extended already.
                let loc = match v.loc {
                    Loc::Slot(_) => Loc::Gpr(self.gpr_of(v)?),
                    other => other,
                };
                self.push(I64, loc);
            }
            Operator::I32Extend8S => self.sign_extend(I32, 1)?,
            Operator::I32Extend16S => self.sign_extend(I32, 2)?,
            Operator::I64Extend8S => self.sign_extend(I64, 1)?,
            Operator::I64Extend16S => self.sign_extend(I64, 2)?,
            Operator::I64Extend32S => self.sign_extend(I64, 4)?,

            Operator::F32Add => self.float_binary(F32, Sse::Add)?,
            Operator::F32Sub => self.float_binary(F32, Sse::Sub)?,
            Operator::F32Mul => self.float_binary(F32, Sse::Mul)?,
            Operator::F32Div => self.float_binary(F32, Sse::Div)?,
            Operator::F64Add => self.float_binary(F64, Sse::Add)?,
            Operator::F64Sub => self.float_binary(F64, Sse::Sub)?,
            Operator::F64Mul => self.float_binary(F64, Sse::Mul)?,
            Operator::F64Div => self.float_binary(F64, Sse::Div)?,
            Operator::F32Min => self.min_max(F32, Sse::Min)?,
            Operator::F32Max => self.min_max(F32, Sse::Max)?,
            Operator::F64Min => self.min_max(F64, Sse::Min)?,
            Operator::F64Max => self.min_max(F64, Sse::Max)?,
            Operator::F32Sqrt => self.float_unary(F32, |a, x| a.sse(Sse::Sqrt, false, x, x))?,
            Operator::F64Sqrt => self.float_unary(F64, |a, x| a.sse(Sse::Sqrt, true, x, x))?,
            Operator::F32Nearest => self.float_unary(F32, |a, x| a.round(false, x, x, 0))?,
            Operator::F32Floor => self.float_unary(F32, |a, x| a.round(false, x, x, 1))?,
            Operator::F32Ceil => self.float_unary(F32, |a, x| a.round(false, x, x, 2))?,
            Operator::F32Trunc => self.float_unary(F32, |a, x| a.round(false, x, x, 3))?,
            Operator::F64Nearest => self.float_unary(F64, |a, x| a.round(true, x, x, 0))?,
            Operator::F64Floor => self.float_unary(F64, |a, x| a.round(true, x, x, 1))?,
            Operator::F64Ceil => self.float_unary(F64, |a, x| a.round(true, x, x, 2))?,
            Operator::F64Trunc => self.float_unary(F64, |a, x| a.round(true, x, x, 3))?,
            Operator::F32Abs | Operator::F64Abs | Operator::F32Neg | Operator::F64Neg => {
                let ty = if matches!(op, Operator::F32Abs | Operator::F32Neg) {
                    F32
                } else {
                    F64
                };
                let negate = matches!(op, Operator::F32Neg | Operator::F64Neg);
                self.sign_bit(ty, negate)?;
            }
            Operator::F32Copysign => self.copysign(F32)?,
            Operator::F64Copysign => self.copysign(F64)?,

            Operator::F32Eq => self.float_compare(F32, FloatCmp::Eq)?,
            Operator::F32Ne => self.float_compare(F32, FloatCmp::Ne)?,
            Operator::F32Lt => self.float_compare(F32, FloatCmp::Lt)?,
            Operator::F32Gt => self.float_compare(F32, FloatCmp::Gt)?,
            Operator::F32Le => self.float_compare(F32, FloatCmp::Le)?,
            Operator::F32Ge => self.float_compare(F32, FloatCmp::Ge)?,
            Operator::F64Eq => self.float_compare(F64, FloatCmp::Eq)?,
            Operator::F64Ne => self.float_compare(F64, FloatCmp::Ne)?,
            Operator::F64Lt => self.float_compare(F64, FloatCmp::Lt)?,
            Operator::F64Gt => self.float_compare(F64, FloatCmp::Gt)?,
            Operator::F64Le => self.float_compare(F64, FloatCmp::Le)?,
            Operator::F64Ge => self.float_compare(F64, FloatCmp::Ge)?,

            Operator::F32ConvertI32S => self.int_to_float(F32, Width::W32)?,
            Operator::F32ConvertI64S => self.int_to_float(F32, Width::W64)?,
            Operator::F64ConvertI32S => self.int_to_float(F64, Width::W32)?,
            Operator::F64ConvertI64S => self.int_to_float(F64, Width::W64)?,
            // A zero-extended u32 is a non-negative i64.
            Operator::F32ConvertI32U => self.int_to_float(F32, Width::W64)?,
            Operator::F64ConvertI32U => self.int_to_float(F64, Width::W64)?,
            Operator::F32ConvertI64U => self.u64_to_float(F32)?,
            Operator::F64ConvertI64U => self.u64_to_float(F64)?,
            Operator::F32DemoteF64 => {
                self.float_unary_to(F64, F32, |a, x| a.float_convert(false, x, x))?
            }
            Operator::F64PromoteF32 => {
                self.float_unary_to(F32, F64, |a, x| a.float_convert(true, x, x))?
            }
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

    /// `op a, b` for the ALU group, with `b` as an immediate when it fits.
    fn alu(&mut self, ty: Ty, op: Alu) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let w = ty.width();
        let ra = self.gpr_of(a)?;
        match imm_operand(w, b.loc) {
            Some(imm) => self.a.alu_ri(op, w, ra, imm),
            None => {
                let rb = self.gpr_of(b)?;
                self.a.alu_rr(op, w, ra, rb);
                self.free_gpr(rb);
            }
        }
        self.push(ty, Loc::Gpr(ra));
        Ok(())
    }

    fn mul(&mut self, ty: Ty) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let w = ty.width();
        let ra = self.gpr_of(a)?;
        match imm_operand(w, b.loc) {
            Some(imm) => self.a.imul_rri(w, ra, ra, imm),
            None => {
                let rb = self.gpr_of(b)?;
                self.a.imul_rr(w, ra, rb);
                self.free_gpr(rb);
            }
        }
        self.push(ty, Loc::Gpr(ra));
        Ok(())
    }

    /// `a cc b` as an i32 0 or 1.
    fn compare(&mut self, w: Width, cc: Cond) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let ra = self.gpr_of(a)?;
        match imm_operand(w, b.loc) {
            Some(imm) => self.a.alu_ri(Alu::Cmp, w, ra, imm),
            None => {
                let rb = self.gpr_of(b)?;
                self.a.alu_rr(Alu::Cmp, w, ra, rb);
                self.free_gpr(rb);
            }
        }
        self.a.setcc(cc, ra);
        self.a.zx8_rr(ra, ra);
        self.push(Ty::I32, Loc::Gpr(ra));
        Ok(())
    }

    fn eqz(&mut self, w: Width) -> Step {
        let a = self.pop()?;
        let r = self.gpr_of(a)?;
        self.a.test_rr(w, r, r);
        self.a.setcc(Cond::E, r);
        self.a.zx8_rr(r, r);
        self.push(Ty::I32, Loc::Gpr(r));
        Ok(())
    }

    /// Shifts and rotates; a variable count goes through cl (x86 masks it
    /// to the operand width, as Wasm does).
    fn shift(&mut self, ty: Ty, op: Shift) -> Step {
        let w = ty.width();
        if let Loc::Imm(count) = self.peek()?.loc {
            self.pop()?;
            let a = self.pop()?;
            let ra = self.gpr_of(a)?;
            self.a
                .shift_ri(op, w, ra, (count & u64::from(ty.bits() - 1)) as u8);
            self.push(ty, Loc::Gpr(ra));
            return Ok(());
        }
        self.take_gpr(Gpr::RCX)?;
        let count = self.pop()?;
        let a = self.pop()?;
        self.load_into(Gpr::RCX, count);
        self.free(count);
        let ra = self.gpr_of(a)?;
        self.a.shift_cl(op, w, ra);
        self.free_gpr(Gpr::RCX);
        self.push(ty, Loc::Gpr(ra));
        Ok(())
    }

    /// Division and remainder: traps on a zero divisor and on signed
    /// overflow (`MIN / -1`); `MIN % -1` is 0 (x86 would fault on it).
    fn divide(&mut self, ty: Ty, signed: bool, remainder: bool) -> Step {
        let w = ty.width();
        self.take_gpr(Gpr::RAX)?;
        self.take_gpr(Gpr::RDX)?;
        let b = self.pop()?;
        let a = self.pop()?;
        let rb = self.gpr_of(b)?;
        self.load_into(Gpr::RAX, a);
        self.free(a);
        self.a.test_rr(w, rb, rb);
        let by_zero = self.trap_label(TrapKind::IntegerDivideByZero);
        self.a.jcc(Cond::E, by_zero);
        let done = self.a.new_label();
        if signed {
            let divide = self.a.new_label();
            self.a.alu_ri(Alu::Cmp, w, rb, -1);
            self.a.jcc(Cond::Ne, divide);
            if remainder {
                self.a.mov_imm(Gpr::RDX, 0);
                self.a.jmp(done);
            } else {
                match w {
                    Width::W32 => self.a.alu_ri(Alu::Cmp, w, Gpr::RAX, i32::MIN),
                    Width::W64 => {
                        self.a.mov_imm(SCRATCH, i64::MIN as u64);
                        self.a.alu_rr(Alu::Cmp, w, Gpr::RAX, SCRATCH);
                    }
                }
                let overflow = self.trap_label(TrapKind::IntegerOverflow);
                self.a.jcc(Cond::E, overflow);
            }
            self.a.bind(divide);
            self.a.sign_extend_ax(w);
            self.a.unary(Unary::Idiv, w, rb);
        } else {
            self.a.mov_imm(Gpr::RDX, 0);
            self.a.unary(Unary::Div, w, rb);
        }
        self.a.bind(done);
        self.free_gpr(rb);
        let (result, other) = if remainder {
            (Gpr::RDX, Gpr::RAX)
        } else {
            (Gpr::RAX, Gpr::RDX)
        };
        self.free_gpr(other);
        self.push(ty, Loc::Gpr(result));
        Ok(())
    }

    fn count(&mut self, ty: Ty, what: Count) -> Step {
        let w = ty.width();
        let a = self.pop()?;
        let ra = self.gpr_of(a)?;
        let rd = self.alloc_gpr()?;
        let bits = u64::from(ty.bits());
        match what {
            Count::LeadingZeros => {
                // bsr gives the highest set bit's index (ZF for 0): bits - 1 - it.
                self.a.bsr(w, rd, ra);
                self.a.mov_imm(
                    SCRATCH,
                    if w == Width::W32 {
                        0xFFFF_FFFF
                    } else {
                        u64::MAX
                    },
                );
                self.a.cmov(Cond::E, w, rd, SCRATCH);
                self.a.unary(Unary::Neg, w, rd);
                self.a.alu_ri(Alu::Add, w, rd, bits as i32 - 1);
            }
            Count::TrailingZeros => {
                self.a.bsf(w, rd, ra);
                self.a.mov_imm(SCRATCH, bits);
                self.a.cmov(Cond::E, w, rd, SCRATCH);
            }
            Count::Ones => self.a.popcnt(w, rd, ra),
        }
        self.free_gpr(ra);
        self.push(ty, Loc::Gpr(rd));
        Ok(())
    }

    /// Sign-extends the low `bytes` bytes of the top value to `ty`.
    fn sign_extend(&mut self, ty: Ty, bytes: u8) -> Step {
        let a = self.pop()?;
        let r = self.gpr_of(a)?;
        // A 32-bit destination zero-extends, keeping i32s as they must be.
        self.a.sx_rr(ty.width(), r, r, bytes);
        self.push(ty, Loc::Gpr(r));
        Ok(())
    }

    fn float_binary(&mut self, ty: Ty, op: Sse) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let xa = self.xmm_of(a)?;
        let xb = self.xmm_of(b)?;
        self.a.sse(op, ty.is_double(), xa, xb);
        self.free_xmm(xb);
        self.push(ty, Loc::Xmm(xa));
        Ok(())
    }

    /// Wasm's `min`/`max`: NaN if either operand is, and -0 below +0
    /// (which `minss`/`maxss` alone get wrong).
    fn min_max(&mut self, ty: Ty, op: Sse) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let xa = self.xmm_of(a)?;
        let xb = self.xmm_of(b)?;
        let d = ty.is_double();
        let (nan, equal, done) = (self.a.new_label(), self.a.new_label(), self.a.new_label());
        self.a.ucomis(d, xa, xb);
        self.a.jcc(Cond::P, nan);
        self.a.jcc(Cond::E, equal);
        self.a.sse(op, d, xa, xb);
        self.a.jmp(done);
        self.a.bind(equal);
        // Equal: only the signs of zeros can differ.
        let bits = if op == Sse::Min { Bits::Or } else { Bits::And };
        self.a.bits(bits, xa, xb);
        self.a.jmp(done);
        self.a.bind(nan);
        self.a.sse(Sse::Add, d, xa, xb);
        self.a.bind(done);
        self.free_xmm(xb);
        self.push(ty, Loc::Xmm(xa));
        Ok(())
    }

    fn float_unary(
        &mut self,
        ty: Ty,
        emit: impl FnOnce(&mut super::asm::Assembler, super::asm::Xmm),
    ) -> Step {
        self.float_unary_to(ty, ty, emit)
    }

    fn float_unary_to(
        &mut self,
        from: Ty,
        to: Ty,
        emit: impl FnOnce(&mut super::asm::Assembler, super::asm::Xmm),
    ) -> Step {
        let a = self.pop()?;
        if a.ty != from {
            return decline("operand type");
        }
        let x = self.xmm_of(a)?;
        emit(&mut self.a, x);
        self.push(to, Loc::Xmm(x));
        Ok(())
    }

    /// `abs` (clear the sign bit) or `neg` (flip it), through r11.
    fn sign_bit(&mut self, ty: Ty, negate: bool) -> Step {
        let a = self.pop()?;
        let x = self.xmm_of(a)?;
        let w = ty.width();
        self.a.xmm_to_gpr(w, SCRATCH, x);
        if negate {
            self.a.bit_flip(w, SCRATCH, ty.bits() - 1);
        } else {
            self.a.bit_reset(w, SCRATCH, ty.bits() - 1);
        }
        self.a.gpr_to_xmm(w, x, SCRATCH);
        self.push(ty, Loc::Xmm(x));
        Ok(())
    }

    fn copysign(&mut self, ty: Ty) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let xa = self.xmm_of(a)?;
        let xb = self.xmm_of(b)?;
        let (w, sign) = (ty.width(), ty.bits() - 1);
        self.a.xmm_to_gpr(w, SCRATCH, xa);
        self.a.bit_reset(w, SCRATCH, sign);
        self.a.xmm_to_gpr(w, SCRATCH2, xb);
        self.a.shift_ri(Shift::Shr, w, SCRATCH2, sign);
        self.a.shift_ri(Shift::Shl, w, SCRATCH2, sign);
        self.a.alu_rr(Alu::Or, w, SCRATCH, SCRATCH2);
        self.a.gpr_to_xmm(w, xa, SCRATCH);
        self.free_xmm(xb);
        self.push(ty, Loc::Xmm(xa));
        Ok(())
    }

    fn float_compare(&mut self, ty: Ty, cmp: FloatCmp) -> Step {
        let b = self.pop()?;
        let a = self.pop()?;
        let xa = self.xmm_of(a)?;
        let xb = self.xmm_of(b)?;
        let r = self.alloc_gpr()?;
        let d = ty.is_double();
        // Unordered sets ZF, PF and CF: `a` and `ae` after comparing in the
        // right order are false for NaN, and eq/ne look at PF.
        match cmp {
            FloatCmp::Eq | FloatCmp::Ne => {
                self.a.ucomis(d, xa, xb);
                let (cc, parity, combine) = match cmp {
                    FloatCmp::Eq => (Cond::E, Cond::Np, Alu::And),
                    _ => (Cond::Ne, Cond::P, Alu::Or),
                };
                self.a.setcc(cc, r);
                self.a.setcc(parity, SCRATCH);
                self.a.alu_rr(combine, Width::W32, r, SCRATCH);
            }
            FloatCmp::Gt => {
                self.a.ucomis(d, xa, xb);
                self.a.setcc(Cond::A, r);
            }
            FloatCmp::Ge => {
                self.a.ucomis(d, xa, xb);
                self.a.setcc(Cond::Ae, r);
            }
            FloatCmp::Lt => {
                self.a.ucomis(d, xb, xa);
                self.a.setcc(Cond::A, r);
            }
            FloatCmp::Le => {
                self.a.ucomis(d, xb, xa);
                self.a.setcc(Cond::Ae, r);
            }
        }
        self.a.zx8_rr(r, r);
        self.free_xmm(xa);
        self.free_xmm(xb);
        self.push(Ty::I32, Loc::Gpr(r));
        Ok(())
    }

    /// Signed integer (of width `w`) to float.
    fn int_to_float(&mut self, to: Ty, w: Width) -> Step {
        let a = self.pop()?;
        let r = self.gpr_of(a)?;
        let x = self.alloc_xmm()?;
        self.a.bits(Bits::Xor, x, x);
        self.a.int_to_float(to.is_double(), w, x, r);
        self.free_gpr(r);
        self.push(to, Loc::Xmm(x));
        Ok(())
    }

    /// Unsigned i64 to float: values with the top bit set are halved
    /// (keeping the lowest bit for rounding), converted and doubled.
    fn u64_to_float(&mut self, to: Ty) -> Step {
        let a = self.pop()?;
        let r = self.gpr_of(a)?;
        let x = self.alloc_xmm()?;
        let d = to.is_double();
        let (large, done) = (self.a.new_label(), self.a.new_label());
        self.a.bits(Bits::Xor, x, x);
        self.a.test_rr(Width::W64, r, r);
        self.a.jcc(Cond::S, large);
        self.a.int_to_float(d, Width::W64, x, r);
        self.a.jmp(done);
        self.a.bind(large);
        self.a.mov_rr(Width::W64, SCRATCH, r);
        self.a.shift_ri(Shift::Shr, Width::W64, SCRATCH, 1);
        self.a.alu_ri(Alu::And, Width::W64, r, 1);
        self.a.alu_rr(Alu::Or, Width::W64, SCRATCH, r);
        self.a.int_to_float(d, Width::W64, x, SCRATCH);
        self.a.sse(Sse::Add, d, x, x);
        self.a.bind(done);
        self.free_gpr(r);
        self.push(to, Loc::Xmm(x));
        Ok(())
    }

    /// Float to integer, toward zero: trapping on NaN ("invalid conversion")
    /// and out-of-range values ("integer overflow"), or saturating. `cvtt`
    /// gives the integer minimum for every value it cannot convert, so the
    /// signed forms look closer only then; unsigned ones compare first.
    fn truncate(&mut self, from: Ty, to: Ty, signed: bool, saturating: bool) -> Step {
        let a = self.pop()?;
        let x = self.xmm_of(a)?;
        let limit = self.alloc_xmm()?;
        let r = self.alloc_gpr()?;
        let (d, w) = (from.is_double(), to.width());
        let float = |v: f64| {
            if d {
                v.to_bits()
            } else {
                u64::from((v as f32).to_bits())
            }
        };
        let done = self.a.new_label();
        let overflow = if saturating {
            self.a.new_label()
        } else {
            self.trap_label(TrapKind::IntegerOverflow)
        };
        let nan = if saturating {
            self.a.new_label()
        } else {
            self.trap_label(TrapKind::InvalidConversionToInteger)
        };
        let bits = f64::from(to.bits());
        if signed {
            self.a.cvtt(d, w, r, x);
            let min = if w == Width::W32 {
                u64::from(i32::MIN as u32)
            } else {
                i64::MIN as u64
            };
            match w {
                Width::W32 => self.a.alu_ri(Alu::Cmp, w, r, i32::MIN),
                Width::W64 => {
                    self.a.mov_imm(SCRATCH, min);
                    self.a.alu_rr(Alu::Cmp, w, r, SCRATCH);
                }
            }
            self.a.jcc(Cond::Ne, done);
            // The minimum: NaN, out of range, or the minimum itself.
            self.a.ucomis(d, x, x);
            self.a.jcc(Cond::P, nan);
            // Valid down to the minimum; for f64 to i32 down to min - 1
            // exclusive (f32 and the i64 bound have nothing in between).
            let exact_min = -(2f64.powf(bits - 1.0));
            let (bound, cc) = if d && w == Width::W32 {
                (exact_min - 1.0, Cond::Be)
            } else {
                (exact_min, Cond::B)
            };
            self.load_float_bits(limit, from, float(bound));
            self.a.ucomis(d, x, limit);
            let below = if saturating { done } else { overflow };
            self.a.jcc(cc, below);
            self.a.bits(Bits::Xor, limit, limit);
            self.a.ucomis(d, x, limit);
            self.a.jcc(Cond::Ae, overflow);
            self.a.jmp(done);
            if saturating {
                self.a.bind(overflow);
                let max = if w == Width::W32 {
                    u64::from(i32::MAX as u32)
                } else {
                    i64::MAX as u64
                };
                self.a.mov_imm(r, max);
                self.a.jmp(done);
            }
        } else {
            // NaN and everything at or below -1 (saturating: at or below 0).
            self.a.ucomis(d, x, x);
            self.a.jcc(Cond::P, nan);
            let (low, low_cc) = if saturating {
                (0.0, Cond::Be)
            } else {
                (-1.0, Cond::Be)
            };
            self.load_float_bits(limit, from, float(low));
            self.a.ucomis(d, x, limit);
            let zero = self.a.new_label();
            self.a.jcc(low_cc, if saturating { zero } else { overflow });
            self.load_float_bits(limit, from, float(2f64.powf(bits)));
            self.a.ucomis(d, x, limit);
            self.a.jcc(Cond::Ae, overflow);
            if w == Width::W32 {
                self.a.cvtt(d, Width::W64, r, x);
            } else {
                let large = self.a.new_label();
                self.load_float_bits(limit, from, float(2f64.powf(63.0)));
                self.a.ucomis(d, x, limit);
                self.a.jcc(Cond::Ae, large);
                self.a.cvtt(d, Width::W64, r, x);
                self.a.jmp(done);
                self.a.bind(large);
                self.a.sse(Sse::Sub, d, x, limit);
                self.a.cvtt(d, Width::W64, r, x);
                self.a.bit_flip(Width::W64, r, 63);
            }
            self.a.jmp(done);
            // (-1, 0) truncates to 0.
            self.a.bind(zero);
            self.a.mov_imm(r, 0);
            self.a.jmp(done);
            if saturating {
                self.a.bind(overflow);
                self.a.mov_imm(
                    r,
                    if w == Width::W32 {
                        0xFFFF_FFFF
                    } else {
                        u64::MAX
                    },
                );
                self.a.jmp(done);
            }
        }
        if saturating {
            self.a.bind(nan);
            self.a.mov_imm(r, 0);
        }
        self.a.bind(done);
        self.free_xmm(x);
        self.free_xmm(limit);
        self.push(to, Loc::Gpr(r));
        Ok(())
    }

    /// The same bits as another type of the same width.
    fn reinterpret(&mut self, to: Ty) -> Step {
        let a = self.pop()?;
        let loc = match a.loc {
            Loc::Imm(_) | Loc::Slot(_) => a.loc,
            Loc::Xmm(x) => {
                let r = self.alloc_gpr()?;
                self.a.xmm_to_gpr(to.width(), r, x);
                self.free_xmm(x);
                Loc::Gpr(r)
            }
            Loc::Gpr(r) => {
                let x = self.alloc_xmm()?;
                self.a.gpr_to_xmm(to.width(), x, r);
                self.free_gpr(r);
                Loc::Xmm(x)
            }
        };
        self.push(to, loc);
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Count {
    LeadingZeros,
    TrailingZeros,
    Ones,
}

#[derive(Clone, Copy)]
enum FloatCmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// A constant operand as an instruction's 32-bit immediate, when it fits
/// (32-bit operations use the low 32 bits; 64-bit ones sign-extend).
fn imm_operand(w: Width, loc: Loc) -> Option<i32> {
    match (loc, w) {
        (Loc::Imm(bits), Width::W32) => Some(bits as u32 as i32),
        (Loc::Imm(bits), Width::W64) => i32::try_from(bits as i64).ok(),
        _ => None,
    }
}
