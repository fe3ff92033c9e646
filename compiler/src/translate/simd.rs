//! 128-bit SIMD (the Wasm 2.0 `v128` instructions): constants, lane access,
//! vector loads and stores, integer and float lane arithmetic, comparisons
//! and conversions.
//!
//! A `v128` on the operand stack, in locals, globals, block parameters and
//! signatures is always Cranelift's `i8x16`; each operator bitcasts its
//! operands to the lane shape it works on and its result back. The bitcasts
//! between 128-bit vector types cost nothing in the machine code of any
//! backend, and keeping one type everywhere means control flow, locals and
//! calls never need to know a value's last shape. Cranelift's vector
//! instructions have Wasm's lane semantics (saturation, NaN-aware min/max,
//! shift masking, out-of-range swizzle lanes as zero), so most operators map
//! one to one; the rest are built from two or three instructions.

use anyhow::Result;
use cranelift_codegen::ir::{
    ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value,
    condcodes::{FloatCC, IntCC},
    types::{F32X4, F64X2, I8X16, I16X8, I32, I32X4, I64, I64X2},
};
use wasmparser::{MemArg, Operator};

use super::FuncTranslator;
use super::memory::Widen;

/// The canonical Cranelift type of a `v128` value.
pub(crate) const V128: Type = I8X16;

impl FuncTranslator<'_, '_> {
    /// Reinterprets a vector as another 128-bit vector type (a no-op when
    /// it already has that type).
    pub(crate) fn reshape(&mut self, ty: Type, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == ty {
            return v;
        }
        let flags = MemFlagsData::new().with_endianness(Endianness::Little);
        self.b.ins().bitcast(ty, flags, v)
    }

    /// Pops a `v128` as lanes of `ty`.
    fn pop_lanes(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.reshape(ty, v)
    }

    /// Pushes a vector of any lane shape as a `v128`.
    fn push_v128(&mut self, v: Value) {
        let v = self.reshape(V128, v);
        self.push(v);
    }

    fn vector_unary(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop_lanes(ty);
        let v = f(self, a);
        self.push_v128(v);
    }

    fn vector_binary(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let b = self.pop_lanes(ty);
        let a = self.pop_lanes(ty);
        let v = f(self, a, b);
        self.push_v128(v);
    }

    fn vector_icmp(&mut self, ty: Type, cc: IntCC) {
        self.vector_binary(ty, |t, a, b| t.b.ins().icmp(cc, a, b));
    }

    fn vector_fcmp(&mut self, ty: Type, cc: FloatCC) {
        self.vector_binary(ty, |t, a, b| t.b.ins().fcmp(cc, a, b));
    }

    /// Shifts: the amount is an `i32`, masked to the lane width by Cranelift.
    fn vector_shift(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let amount = self.pop();
        let a = self.pop_lanes(ty);
        let v = f(self, a, amount);
        self.push_v128(v);
    }

    /// `all_true` / `any_true` / `bitmask`: an `i32` from a vector.
    fn vector_test(&mut self, ty: Type, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop_lanes(ty);
        let v = f(self, a);
        let ty = self.b.func.dfg.value_type(v);
        let v = if ty == I32 {
            v
        } else {
            self.b.ins().uextend(I32, v)
        };
        self.push(v);
    }

    fn splat(&mut self, ty: Type) {
        let x = self.pop();
        let lane = ty.lane_type();
        let x = if lane.is_int() && lane.bits() < self.b.func.dfg.value_type(x).bits() {
            self.b.ins().ireduce(lane, x)
        } else {
            x
        };
        let v = self.b.ins().splat(ty, x);
        self.push_v128(v);
    }

    /// `extract_lane`: `extend` widens 8- and 16-bit lanes to `i32`.
    fn extract_lane(&mut self, ty: Type, lane: u8, extend: Widen) {
        let a = self.pop_lanes(ty);
        let x = self.b.ins().extractlane(a, lane);
        let x = match extend {
            Widen::None => x,
            Widen::Signed => self.b.ins().sextend(I32, x),
            Widen::Unsigned => self.b.ins().uextend(I32, x),
        };
        self.push(x);
    }

    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let x = self.pop();
        let a = self.pop_lanes(ty);
        let lane_ty = ty.lane_type();
        let x = if lane_ty.is_int() && lane_ty.bits() < self.b.func.dfg.value_type(x).bits() {
            self.b.ins().ireduce(lane_ty, x)
        } else {
            x
        };
        let v = self.b.ins().insertlane(a, x, lane);
        self.push_v128(v);
    }

    /// `extmul_{low,high}`: widen both operands' halves, then multiply.
    fn extmul(&mut self, ty: Type, high: bool, signed: bool) {
        self.vector_binary(ty, |t, a, b| {
            let (a, b) = match (high, signed) {
                (false, true) => (t.b.ins().swiden_low(a), t.b.ins().swiden_low(b)),
                (true, true) => (t.b.ins().swiden_high(a), t.b.ins().swiden_high(b)),
                (false, false) => (t.b.ins().uwiden_low(a), t.b.ins().uwiden_low(b)),
                (true, false) => (t.b.ins().uwiden_high(a), t.b.ins().uwiden_high(b)),
            };
            t.b.ins().imul(a, b)
        });
    }

    fn extadd_pairwise(&mut self, ty: Type, signed: bool) {
        self.vector_unary(ty, |t, a| {
            let (lo, hi) = if signed {
                (t.b.ins().swiden_low(a), t.b.ins().swiden_high(a))
            } else {
                (t.b.ins().uwiden_low(a), t.b.ins().uwiden_high(a))
            };
            t.b.ins().iadd_pairwise(lo, hi)
        });
    }

    /// `pmin` / `pmax`: `b < a ? b : a` and `a < b ? b : a`, bit for bit
    /// (no NaN handling, unlike `min`/`max`).
    fn pseudo_min_max(&mut self, ty: Type, max: bool) {
        self.vector_binary(ty, |t, a, b| {
            let mask = if max {
                t.b.ins().fcmp(FloatCC::LessThan, a, b)
            } else {
                t.b.ins().fcmp(FloatCC::LessThan, b, a)
            };
            let mask = t.reshape(ty, mask);
            t.b.ins().bitselect(mask, b, a)
        });
    }

    /// A 128-bit constant of type `ty` from its 16 bytes (little-endian).
    pub(crate) fn vector_const(&mut self, ty: Type, bytes: [u8; 16]) -> Value {
        let c = self.b.func.dfg.constants.insert(bytes.to_vec().into());
        self.b.ins().vconst(ty, c)
    }

    fn zero_vector(&mut self, ty: Type) -> Value {
        self.vector_const(ty, [0; 16])
    }

    // -- memory -------------------------------------------------------------

    /// `v128.loadNxM_{s,u}`: 64 bits widened lane by lane.
    fn load_extend(&mut self, memarg: &MemArg, narrow: Type, signed: bool) {
        self.load(memarg, I64, I64, Widen::None);
        let x = self.pop();
        let v = self.b.ins().scalar_to_vector(I64X2, x);
        let v = self.reshape(narrow, v);
        let v = if signed {
            self.b.ins().swiden_low(v)
        } else {
            self.b.ins().uwiden_low(v)
        };
        self.push_v128(v);
    }

    fn load_splat(&mut self, memarg: &MemArg, ty: Type) {
        let lane = ty.lane_type();
        self.load(memarg, lane, lane, Widen::None);
        let x = self.pop();
        let v = self.b.ins().splat(ty, x);
        self.push_v128(v);
    }

    /// `v128.load{32,64}_zero`: the scalar in lane 0, the other lanes zero.
    fn load_zero(&mut self, memarg: &MemArg, ty: Type) {
        let lane = ty.lane_type();
        self.load(memarg, lane, lane, Widen::None);
        let x = self.pop();
        let v = self.b.ins().scalar_to_vector(ty, x);
        self.push_v128(v);
    }

    fn load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let a = self.pop_lanes(ty);
        let lane_ty = ty.lane_type();
        self.load(memarg, lane_ty, lane_ty, Widen::None);
        let x = self.pop();
        let v = self.b.ins().insertlane(a, x, lane);
        self.push_v128(v);
    }

    fn store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let a = self.pop_lanes(ty);
        let x = self.b.ins().extractlane(a, lane);
        self.push(x);
        self.store(memarg, ty.lane_type());
    }

    pub(crate) fn simd_operator(&mut self, op: &Operator<'_>) -> Result<bool> {
        use FloatCC as F;
        use IntCC as C;
        match *op {
            // -- constants, memory ------------------------------------------
            Operator::V128Const { value } => {
                let v = self.vector_const(V128, *value.bytes());
                self.push(v);
            }
            Operator::V128Load { memarg } => self.load(&memarg, V128, V128, Widen::None),
            Operator::V128Store { memarg } => self.store(&memarg, V128),
            Operator::V128Load8x8S { memarg } => self.load_extend(&memarg, I8X16, true),
            Operator::V128Load8x8U { memarg } => self.load_extend(&memarg, I8X16, false),
            Operator::V128Load16x4S { memarg } => self.load_extend(&memarg, I16X8, true),
            Operator::V128Load16x4U { memarg } => self.load_extend(&memarg, I16X8, false),
            Operator::V128Load32x2S { memarg } => self.load_extend(&memarg, I32X4, true),
            Operator::V128Load32x2U { memarg } => self.load_extend(&memarg, I32X4, false),
            Operator::V128Load8Splat { memarg } => self.load_splat(&memarg, I8X16),
            Operator::V128Load16Splat { memarg } => self.load_splat(&memarg, I16X8),
            Operator::V128Load32Splat { memarg } => self.load_splat(&memarg, I32X4),
            Operator::V128Load64Splat { memarg } => self.load_splat(&memarg, I64X2),
            Operator::V128Load32Zero { memarg } => self.load_zero(&memarg, I32X4),
            Operator::V128Load64Zero { memarg } => self.load_zero(&memarg, I64X2),
            Operator::V128Load8Lane { memarg, lane } => self.load_lane(&memarg, I8X16, lane),
            Operator::V128Load16Lane { memarg, lane } => self.load_lane(&memarg, I16X8, lane),
            Operator::V128Load32Lane { memarg, lane } => self.load_lane(&memarg, I32X4, lane),
            Operator::V128Load64Lane { memarg, lane } => self.load_lane(&memarg, I64X2, lane),
            Operator::V128Store8Lane { memarg, lane } => self.store_lane(&memarg, I8X16, lane),
            Operator::V128Store16Lane { memarg, lane } => self.store_lane(&memarg, I16X8, lane),
            Operator::V128Store32Lane { memarg, lane } => self.store_lane(&memarg, I32X4, lane),
            Operator::V128Store64Lane { memarg, lane } => self.store_lane(&memarg, I64X2, lane),

            // -- lanes ------------------------------------------------------
            Operator::I8x16Shuffle { lanes } => {
                let b = self.pop_lanes(I8X16);
                let a = self.pop_lanes(I8X16);
                let mask = self
                    .b
                    .func
                    .dfg
                    .immediates
                    .push(ConstantData::from(&lanes[..]));
                let v = self.b.ins().shuffle(a, b, mask);
                self.push_v128(v);
            }
            Operator::I8x16Swizzle => self.vector_binary(I8X16, |t, a, b| t.b.ins().swizzle(a, b)),
            Operator::I8x16Splat => self.splat(I8X16),
            Operator::I16x8Splat => self.splat(I16X8),
            Operator::I32x4Splat => self.splat(I32X4),
            Operator::I64x2Splat => self.splat(I64X2),
            Operator::F32x4Splat => self.splat(F32X4),
            Operator::F64x2Splat => self.splat(F64X2),
            Operator::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, Widen::Signed),
            Operator::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, Widen::Unsigned),
            Operator::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, Widen::Signed),
            Operator::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, Widen::Unsigned),
            Operator::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, Widen::None),
            Operator::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, Widen::None),
            Operator::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, Widen::None),
            Operator::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, Widen::None),
            Operator::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            Operator::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            Operator::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            Operator::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            Operator::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            Operator::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),

            // -- comparisons ------------------------------------------------
            Operator::I8x16Eq => self.vector_icmp(I8X16, C::Equal),
            Operator::I8x16Ne => self.vector_icmp(I8X16, C::NotEqual),
            Operator::I8x16LtS => self.vector_icmp(I8X16, C::SignedLessThan),
            Operator::I8x16LtU => self.vector_icmp(I8X16, C::UnsignedLessThan),
            Operator::I8x16GtS => self.vector_icmp(I8X16, C::SignedGreaterThan),
            Operator::I8x16GtU => self.vector_icmp(I8X16, C::UnsignedGreaterThan),
            Operator::I8x16LeS => self.vector_icmp(I8X16, C::SignedLessThanOrEqual),
            Operator::I8x16LeU => self.vector_icmp(I8X16, C::UnsignedLessThanOrEqual),
            Operator::I8x16GeS => self.vector_icmp(I8X16, C::SignedGreaterThanOrEqual),
            Operator::I8x16GeU => self.vector_icmp(I8X16, C::UnsignedGreaterThanOrEqual),
            Operator::I16x8Eq => self.vector_icmp(I16X8, C::Equal),
            Operator::I16x8Ne => self.vector_icmp(I16X8, C::NotEqual),
            Operator::I16x8LtS => self.vector_icmp(I16X8, C::SignedLessThan),
            Operator::I16x8LtU => self.vector_icmp(I16X8, C::UnsignedLessThan),
            Operator::I16x8GtS => self.vector_icmp(I16X8, C::SignedGreaterThan),
            Operator::I16x8GtU => self.vector_icmp(I16X8, C::UnsignedGreaterThan),
            Operator::I16x8LeS => self.vector_icmp(I16X8, C::SignedLessThanOrEqual),
            Operator::I16x8LeU => self.vector_icmp(I16X8, C::UnsignedLessThanOrEqual),
            Operator::I16x8GeS => self.vector_icmp(I16X8, C::SignedGreaterThanOrEqual),
            Operator::I16x8GeU => self.vector_icmp(I16X8, C::UnsignedGreaterThanOrEqual),
            Operator::I32x4Eq => self.vector_icmp(I32X4, C::Equal),
            Operator::I32x4Ne => self.vector_icmp(I32X4, C::NotEqual),
            Operator::I32x4LtS => self.vector_icmp(I32X4, C::SignedLessThan),
            Operator::I32x4LtU => self.vector_icmp(I32X4, C::UnsignedLessThan),
            Operator::I32x4GtS => self.vector_icmp(I32X4, C::SignedGreaterThan),
            Operator::I32x4GtU => self.vector_icmp(I32X4, C::UnsignedGreaterThan),
            Operator::I32x4LeS => self.vector_icmp(I32X4, C::SignedLessThanOrEqual),
            Operator::I32x4LeU => self.vector_icmp(I32X4, C::UnsignedLessThanOrEqual),
            Operator::I32x4GeS => self.vector_icmp(I32X4, C::SignedGreaterThanOrEqual),
            Operator::I32x4GeU => self.vector_icmp(I32X4, C::UnsignedGreaterThanOrEqual),
            Operator::I64x2Eq => self.vector_icmp(I64X2, C::Equal),
            Operator::I64x2Ne => self.vector_icmp(I64X2, C::NotEqual),
            Operator::I64x2LtS => self.vector_icmp(I64X2, C::SignedLessThan),
            Operator::I64x2GtS => self.vector_icmp(I64X2, C::SignedGreaterThan),
            Operator::I64x2LeS => self.vector_icmp(I64X2, C::SignedLessThanOrEqual),
            Operator::I64x2GeS => self.vector_icmp(I64X2, C::SignedGreaterThanOrEqual),
            Operator::F32x4Eq => self.vector_fcmp(F32X4, F::Equal),
            Operator::F32x4Ne => self.vector_fcmp(F32X4, F::NotEqual),
            Operator::F32x4Lt => self.vector_fcmp(F32X4, F::LessThan),
            Operator::F32x4Gt => self.vector_fcmp(F32X4, F::GreaterThan),
            Operator::F32x4Le => self.vector_fcmp(F32X4, F::LessThanOrEqual),
            Operator::F32x4Ge => self.vector_fcmp(F32X4, F::GreaterThanOrEqual),
            Operator::F64x2Eq => self.vector_fcmp(F64X2, F::Equal),
            Operator::F64x2Ne => self.vector_fcmp(F64X2, F::NotEqual),
            Operator::F64x2Lt => self.vector_fcmp(F64X2, F::LessThan),
            Operator::F64x2Gt => self.vector_fcmp(F64X2, F::GreaterThan),
            Operator::F64x2Le => self.vector_fcmp(F64X2, F::LessThanOrEqual),
            Operator::F64x2Ge => self.vector_fcmp(F64X2, F::GreaterThanOrEqual),

            // -- bitwise ----------------------------------------------------
            Operator::V128Not => self.vector_unary(V128, |t, a| t.b.ins().bnot(a)),
            Operator::V128And => self.vector_binary(V128, |t, a, b| t.b.ins().band(a, b)),
            Operator::V128AndNot => self.vector_binary(V128, |t, a, b| t.b.ins().band_not(a, b)),
            Operator::V128Or => self.vector_binary(V128, |t, a, b| t.b.ins().bor(a, b)),
            Operator::V128Xor => self.vector_binary(V128, |t, a, b| t.b.ins().bxor(a, b)),
            Operator::V128Bitselect => {
                let c = self.pop_lanes(V128);
                let b = self.pop_lanes(V128);
                let a = self.pop_lanes(V128);
                let v = self.b.ins().bitselect(c, a, b);
                self.push_v128(v);
            }
            Operator::V128AnyTrue => self.vector_test(V128, |t, a| t.b.ins().vany_true(a)),
            Operator::I8x16AllTrue => self.vector_test(I8X16, |t, a| t.b.ins().vall_true(a)),
            Operator::I16x8AllTrue => self.vector_test(I16X8, |t, a| t.b.ins().vall_true(a)),
            Operator::I32x4AllTrue => self.vector_test(I32X4, |t, a| t.b.ins().vall_true(a)),
            Operator::I64x2AllTrue => self.vector_test(I64X2, |t, a| t.b.ins().vall_true(a)),
            Operator::I8x16Bitmask => self.vector_test(I8X16, |t, a| t.b.ins().vhigh_bits(I32, a)),
            Operator::I16x8Bitmask => self.vector_test(I16X8, |t, a| t.b.ins().vhigh_bits(I32, a)),
            Operator::I32x4Bitmask => self.vector_test(I32X4, |t, a| t.b.ins().vhigh_bits(I32, a)),
            Operator::I64x2Bitmask => self.vector_test(I64X2, |t, a| t.b.ins().vhigh_bits(I32, a)),

            // -- integer lanes ----------------------------------------------
            Operator::I8x16Abs => self.vector_unary(I8X16, |t, a| t.b.ins().iabs(a)),
            Operator::I16x8Abs => self.vector_unary(I16X8, |t, a| t.b.ins().iabs(a)),
            Operator::I32x4Abs => self.vector_unary(I32X4, |t, a| t.b.ins().iabs(a)),
            Operator::I64x2Abs => self.vector_unary(I64X2, |t, a| t.b.ins().iabs(a)),
            Operator::I8x16Neg => self.vector_unary(I8X16, |t, a| t.b.ins().ineg(a)),
            Operator::I16x8Neg => self.vector_unary(I16X8, |t, a| t.b.ins().ineg(a)),
            Operator::I32x4Neg => self.vector_unary(I32X4, |t, a| t.b.ins().ineg(a)),
            Operator::I64x2Neg => self.vector_unary(I64X2, |t, a| t.b.ins().ineg(a)),
            Operator::I8x16Popcnt => self.vector_unary(I8X16, |t, a| t.b.ins().popcnt(a)),
            Operator::I8x16Add => self.vector_binary(I8X16, |t, a, b| t.b.ins().iadd(a, b)),
            Operator::I16x8Add => self.vector_binary(I16X8, |t, a, b| t.b.ins().iadd(a, b)),
            Operator::I32x4Add => self.vector_binary(I32X4, |t, a, b| t.b.ins().iadd(a, b)),
            Operator::I64x2Add => self.vector_binary(I64X2, |t, a, b| t.b.ins().iadd(a, b)),
            Operator::I8x16Sub => self.vector_binary(I8X16, |t, a, b| t.b.ins().isub(a, b)),
            Operator::I16x8Sub => self.vector_binary(I16X8, |t, a, b| t.b.ins().isub(a, b)),
            Operator::I32x4Sub => self.vector_binary(I32X4, |t, a, b| t.b.ins().isub(a, b)),
            Operator::I64x2Sub => self.vector_binary(I64X2, |t, a, b| t.b.ins().isub(a, b)),
            Operator::I16x8Mul => self.vector_binary(I16X8, |t, a, b| t.b.ins().imul(a, b)),
            Operator::I32x4Mul => self.vector_binary(I32X4, |t, a, b| t.b.ins().imul(a, b)),
            Operator::I64x2Mul => self.vector_binary(I64X2, |t, a, b| t.b.ins().imul(a, b)),
            Operator::I8x16AddSatS => self.vector_binary(I8X16, |t, a, b| t.b.ins().sadd_sat(a, b)),
            Operator::I8x16AddSatU => self.vector_binary(I8X16, |t, a, b| t.b.ins().uadd_sat(a, b)),
            Operator::I16x8AddSatS => self.vector_binary(I16X8, |t, a, b| t.b.ins().sadd_sat(a, b)),
            Operator::I16x8AddSatU => self.vector_binary(I16X8, |t, a, b| t.b.ins().uadd_sat(a, b)),
            Operator::I8x16SubSatS => self.vector_binary(I8X16, |t, a, b| t.b.ins().ssub_sat(a, b)),
            Operator::I8x16SubSatU => self.vector_binary(I8X16, |t, a, b| t.b.ins().usub_sat(a, b)),
            Operator::I16x8SubSatS => self.vector_binary(I16X8, |t, a, b| t.b.ins().ssub_sat(a, b)),
            Operator::I16x8SubSatU => self.vector_binary(I16X8, |t, a, b| t.b.ins().usub_sat(a, b)),
            Operator::I8x16MinS => self.vector_binary(I8X16, |t, a, b| t.b.ins().smin(a, b)),
            Operator::I8x16MinU => self.vector_binary(I8X16, |t, a, b| t.b.ins().umin(a, b)),
            Operator::I8x16MaxS => self.vector_binary(I8X16, |t, a, b| t.b.ins().smax(a, b)),
            Operator::I8x16MaxU => self.vector_binary(I8X16, |t, a, b| t.b.ins().umax(a, b)),
            Operator::I16x8MinS => self.vector_binary(I16X8, |t, a, b| t.b.ins().smin(a, b)),
            Operator::I16x8MinU => self.vector_binary(I16X8, |t, a, b| t.b.ins().umin(a, b)),
            Operator::I16x8MaxS => self.vector_binary(I16X8, |t, a, b| t.b.ins().smax(a, b)),
            Operator::I16x8MaxU => self.vector_binary(I16X8, |t, a, b| t.b.ins().umax(a, b)),
            Operator::I32x4MinS => self.vector_binary(I32X4, |t, a, b| t.b.ins().smin(a, b)),
            Operator::I32x4MinU => self.vector_binary(I32X4, |t, a, b| t.b.ins().umin(a, b)),
            Operator::I32x4MaxS => self.vector_binary(I32X4, |t, a, b| t.b.ins().smax(a, b)),
            Operator::I32x4MaxU => self.vector_binary(I32X4, |t, a, b| t.b.ins().umax(a, b)),
            Operator::I8x16AvgrU => self.vector_binary(I8X16, |t, a, b| t.b.ins().avg_round(a, b)),
            Operator::I16x8AvgrU => self.vector_binary(I16X8, |t, a, b| t.b.ins().avg_round(a, b)),
            Operator::I16x8Q15MulrSatS => {
                self.vector_binary(I16X8, |t, a, b| t.b.ins().sqmul_round_sat(a, b))
            }
            Operator::I32x4DotI16x8S => self.vector_binary(I16X8, |t, a, b| {
                let (alo, blo) = (t.b.ins().swiden_low(a), t.b.ins().swiden_low(b));
                let (ahi, bhi) = (t.b.ins().swiden_high(a), t.b.ins().swiden_high(b));
                let lo = t.b.ins().imul(alo, blo);
                let hi = t.b.ins().imul(ahi, bhi);
                t.b.ins().iadd_pairwise(lo, hi)
            }),
            Operator::I8x16Shl => self.vector_shift(I8X16, |t, a, n| t.b.ins().ishl(a, n)),
            Operator::I16x8Shl => self.vector_shift(I16X8, |t, a, n| t.b.ins().ishl(a, n)),
            Operator::I32x4Shl => self.vector_shift(I32X4, |t, a, n| t.b.ins().ishl(a, n)),
            Operator::I64x2Shl => self.vector_shift(I64X2, |t, a, n| t.b.ins().ishl(a, n)),
            Operator::I8x16ShrS => self.vector_shift(I8X16, |t, a, n| t.b.ins().sshr(a, n)),
            Operator::I16x8ShrS => self.vector_shift(I16X8, |t, a, n| t.b.ins().sshr(a, n)),
            Operator::I32x4ShrS => self.vector_shift(I32X4, |t, a, n| t.b.ins().sshr(a, n)),
            Operator::I64x2ShrS => self.vector_shift(I64X2, |t, a, n| t.b.ins().sshr(a, n)),
            Operator::I8x16ShrU => self.vector_shift(I8X16, |t, a, n| t.b.ins().ushr(a, n)),
            Operator::I16x8ShrU => self.vector_shift(I16X8, |t, a, n| t.b.ins().ushr(a, n)),
            Operator::I32x4ShrU => self.vector_shift(I32X4, |t, a, n| t.b.ins().ushr(a, n)),
            Operator::I64x2ShrU => self.vector_shift(I64X2, |t, a, n| t.b.ins().ushr(a, n)),

            // -- widening and narrowing -------------------------------------
            Operator::I8x16NarrowI16x8S => {
                self.vector_binary(I16X8, |t, a, b| t.b.ins().snarrow(a, b))
            }
            Operator::I8x16NarrowI16x8U => {
                self.vector_binary(I16X8, |t, a, b| t.b.ins().unarrow(a, b))
            }
            Operator::I16x8NarrowI32x4S => {
                self.vector_binary(I32X4, |t, a, b| t.b.ins().snarrow(a, b))
            }
            Operator::I16x8NarrowI32x4U => {
                self.vector_binary(I32X4, |t, a, b| t.b.ins().unarrow(a, b))
            }
            Operator::I16x8ExtendLowI8x16S => {
                self.vector_unary(I8X16, |t, a| t.b.ins().swiden_low(a))
            }
            Operator::I16x8ExtendHighI8x16S => {
                self.vector_unary(I8X16, |t, a| t.b.ins().swiden_high(a))
            }
            Operator::I16x8ExtendLowI8x16U => {
                self.vector_unary(I8X16, |t, a| t.b.ins().uwiden_low(a))
            }
            Operator::I16x8ExtendHighI8x16U => {
                self.vector_unary(I8X16, |t, a| t.b.ins().uwiden_high(a))
            }
            Operator::I32x4ExtendLowI16x8S => {
                self.vector_unary(I16X8, |t, a| t.b.ins().swiden_low(a))
            }
            Operator::I32x4ExtendHighI16x8S => {
                self.vector_unary(I16X8, |t, a| t.b.ins().swiden_high(a))
            }
            Operator::I32x4ExtendLowI16x8U => {
                self.vector_unary(I16X8, |t, a| t.b.ins().uwiden_low(a))
            }
            Operator::I32x4ExtendHighI16x8U => {
                self.vector_unary(I16X8, |t, a| t.b.ins().uwiden_high(a))
            }
            Operator::I64x2ExtendLowI32x4S => {
                self.vector_unary(I32X4, |t, a| t.b.ins().swiden_low(a))
            }
            Operator::I64x2ExtendHighI32x4S => {
                self.vector_unary(I32X4, |t, a| t.b.ins().swiden_high(a))
            }
            Operator::I64x2ExtendLowI32x4U => {
                self.vector_unary(I32X4, |t, a| t.b.ins().uwiden_low(a))
            }
            Operator::I64x2ExtendHighI32x4U => {
                self.vector_unary(I32X4, |t, a| t.b.ins().uwiden_high(a))
            }
            Operator::I16x8ExtMulLowI8x16S => self.extmul(I8X16, false, true),
            Operator::I16x8ExtMulHighI8x16S => self.extmul(I8X16, true, true),
            Operator::I16x8ExtMulLowI8x16U => self.extmul(I8X16, false, false),
            Operator::I16x8ExtMulHighI8x16U => self.extmul(I8X16, true, false),
            Operator::I32x4ExtMulLowI16x8S => self.extmul(I16X8, false, true),
            Operator::I32x4ExtMulHighI16x8S => self.extmul(I16X8, true, true),
            Operator::I32x4ExtMulLowI16x8U => self.extmul(I16X8, false, false),
            Operator::I32x4ExtMulHighI16x8U => self.extmul(I16X8, true, false),
            Operator::I64x2ExtMulLowI32x4S => self.extmul(I32X4, false, true),
            Operator::I64x2ExtMulHighI32x4S => self.extmul(I32X4, true, true),
            Operator::I64x2ExtMulLowI32x4U => self.extmul(I32X4, false, false),
            Operator::I64x2ExtMulHighI32x4U => self.extmul(I32X4, true, false),
            Operator::I16x8ExtAddPairwiseI8x16S => self.extadd_pairwise(I8X16, true),
            Operator::I16x8ExtAddPairwiseI8x16U => self.extadd_pairwise(I8X16, false),
            Operator::I32x4ExtAddPairwiseI16x8S => self.extadd_pairwise(I16X8, true),
            Operator::I32x4ExtAddPairwiseI16x8U => self.extadd_pairwise(I16X8, false),

            // -- float lanes ------------------------------------------------
            Operator::F32x4Ceil => self.vector_unary(F32X4, |t, a| t.b.ins().ceil(a)),
            Operator::F64x2Ceil => self.vector_unary(F64X2, |t, a| t.b.ins().ceil(a)),
            Operator::F32x4Floor => self.vector_unary(F32X4, |t, a| t.b.ins().floor(a)),
            Operator::F64x2Floor => self.vector_unary(F64X2, |t, a| t.b.ins().floor(a)),
            Operator::F32x4Trunc => self.vector_unary(F32X4, |t, a| t.b.ins().trunc(a)),
            Operator::F64x2Trunc => self.vector_unary(F64X2, |t, a| t.b.ins().trunc(a)),
            Operator::F32x4Nearest => self.vector_unary(F32X4, |t, a| t.b.ins().nearest(a)),
            Operator::F64x2Nearest => self.vector_unary(F64X2, |t, a| t.b.ins().nearest(a)),
            Operator::F32x4Abs => self.vector_unary(F32X4, |t, a| t.b.ins().fabs(a)),
            Operator::F64x2Abs => self.vector_unary(F64X2, |t, a| t.b.ins().fabs(a)),
            Operator::F32x4Neg => self.vector_unary(F32X4, |t, a| t.b.ins().fneg(a)),
            Operator::F64x2Neg => self.vector_unary(F64X2, |t, a| t.b.ins().fneg(a)),
            Operator::F32x4Sqrt => self.vector_unary(F32X4, |t, a| t.b.ins().sqrt(a)),
            Operator::F64x2Sqrt => self.vector_unary(F64X2, |t, a| t.b.ins().sqrt(a)),
            Operator::F32x4Add => self.vector_binary(F32X4, |t, a, b| t.b.ins().fadd(a, b)),
            Operator::F64x2Add => self.vector_binary(F64X2, |t, a, b| t.b.ins().fadd(a, b)),
            Operator::F32x4Sub => self.vector_binary(F32X4, |t, a, b| t.b.ins().fsub(a, b)),
            Operator::F64x2Sub => self.vector_binary(F64X2, |t, a, b| t.b.ins().fsub(a, b)),
            Operator::F32x4Mul => self.vector_binary(F32X4, |t, a, b| t.b.ins().fmul(a, b)),
            Operator::F64x2Mul => self.vector_binary(F64X2, |t, a, b| t.b.ins().fmul(a, b)),
            Operator::F32x4Div => self.vector_binary(F32X4, |t, a, b| t.b.ins().fdiv(a, b)),
            Operator::F64x2Div => self.vector_binary(F64X2, |t, a, b| t.b.ins().fdiv(a, b)),
            Operator::F32x4Min => self.vector_binary(F32X4, |t, a, b| t.b.ins().fmin(a, b)),
            Operator::F64x2Min => self.vector_binary(F64X2, |t, a, b| t.b.ins().fmin(a, b)),
            Operator::F32x4Max => self.vector_binary(F32X4, |t, a, b| t.b.ins().fmax(a, b)),
            Operator::F64x2Max => self.vector_binary(F64X2, |t, a, b| t.b.ins().fmax(a, b)),
            Operator::F32x4PMin => self.pseudo_min_max(F32X4, false),
            Operator::F64x2PMin => self.pseudo_min_max(F64X2, false),
            Operator::F32x4PMax => self.pseudo_min_max(F32X4, true),
            Operator::F64x2PMax => self.pseudo_min_max(F64X2, true),

            // -- conversions ------------------------------------------------
            Operator::I32x4TruncSatF32x4S => {
                self.vector_unary(F32X4, |t, a| t.b.ins().fcvt_to_sint_sat(I32X4, a))
            }
            Operator::I32x4TruncSatF32x4U => {
                self.vector_unary(F32X4, |t, a| t.b.ins().fcvt_to_uint_sat(I32X4, a))
            }
            Operator::F32x4ConvertI32x4S => {
                self.vector_unary(I32X4, |t, a| t.b.ins().fcvt_from_sint(F32X4, a))
            }
            Operator::F32x4ConvertI32x4U => {
                self.vector_unary(I32X4, |t, a| t.b.ins().fcvt_from_uint(F32X4, a))
            }
            Operator::I32x4TruncSatF64x2SZero => self.vector_unary(F64X2, |t, a| {
                let wide = t.b.ins().fcvt_to_sint_sat(I64X2, a);
                let zero = t.zero_vector(I64X2);
                t.b.ins().snarrow(wide, zero)
            }),
            Operator::I32x4TruncSatF64x2UZero => self.vector_unary(F64X2, |t, a| {
                let wide = t.b.ins().fcvt_to_uint_sat(I64X2, a);
                let zero = t.zero_vector(I64X2);
                t.b.ins().uunarrow(wide, zero)
            }),
            Operator::F64x2ConvertLowI32x4S => self.vector_unary(I32X4, |t, a| {
                let wide = t.b.ins().swiden_low(a);
                t.b.ins().fcvt_from_sint(F64X2, wide)
            }),
            Operator::F64x2ConvertLowI32x4U => self.vector_unary(I32X4, |t, a| {
                let wide = t.b.ins().uwiden_low(a);
                t.b.ins().fcvt_from_uint(F64X2, wide)
            }),
            Operator::F32x4DemoteF64x2Zero => {
                self.vector_unary(F64X2, |t, a| t.b.ins().fvdemote(a))
            }
            Operator::F64x2PromoteLowF32x4 => {
                self.vector_unary(F32X4, |t, a| t.b.ins().fvpromote_low(a))
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
