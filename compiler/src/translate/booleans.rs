//! Wasm's 0/1 comparison results (`uextend.i32` of an `icmp` or `fcmp`)
//! and the folds on them that Cranelift's e-graph lacks.
//!
//! Cranelift folds `eqz` of an integer comparison into the complementary
//! comparison, but not of a float one, and it does not know that a
//! comparison's result is 0 or 1: code built at -O0 masks every C boolean
//! with `& 1` before it branches on it (and negates one with `^ -1` or
//! `^ 1` first), which then costs a set, a widening and a test before the
//! branch. Here those become the comparison itself or its complement,
//! which the backends fuse with the branch or select that uses it.

use cranelift_codegen::ir::{
    self, InstBuilder, Value,
    condcodes::{CondCode, FloatCC, IntCC},
    types,
};

use super::{FuncTranslator, iconst_value};

/// A comparison whose 0/1 result Wasm code holds as an `i32`.
#[derive(Clone, Copy)]
enum Comparison {
    Int(IntCC, Value, Value),
    Float(FloatCC, Value, Value),
}

impl FuncTranslator<'_, '_> {
    /// `i32.eqz` and `i64.eqz`.
    pub(super) fn eqz(&mut self) {
        let a = self.pop();
        let v = match self.comparison(a) {
            Some(c) => self.complement(c),
            None => self.b.ins().icmp_imm_s(IntCC::Equal, a, 0),
        };
        self.push_bool(v);
    }

    /// `i32.and`: `c & 1` is `c`, and `(c ^ k) & 1` for an odd `k` is the
    /// complement of `c`.
    pub(super) fn and_i32(&mut self) {
        let (a, b) = self.pop2();
        let v = match self.masked_bool(a, b) {
            Some(v) => v,
            None => self.b.ins().band(a, b),
        };
        self.push(v);
    }

    /// `i32.xor`: `c ^ 1` is the complement of `c`.
    pub(super) fn xor_i32(&mut self) {
        let (a, b) = self.pop2();
        let v = match self.with_constant(a, b) {
            Some((x, 1)) => match self.comparison(x) {
                Some(c) => {
                    let v = self.complement(c);
                    self.b.ins().uextend(types::I32, v)
                }
                None => self.b.ins().bxor(a, b),
            },
            _ => self.b.ins().bxor(a, b),
        };
        self.push(v);
    }

    fn masked_bool(&mut self, a: Value, b: Value) -> Option<Value> {
        let (x, 1) = self.with_constant(a, b)? else {
            return None;
        };
        if self.comparison(x).is_some() {
            return Some(x);
        }
        let (y, k) = self.xor_operands(x)?;
        let c = self.comparison(y)?;
        Some(match k & 1 {
            0 => y,
            _ => {
                let v = self.complement(c);
                self.b.ins().uextend(types::I32, v)
            }
        })
    }

    /// `(other, k)` where one of `a`, `b` is the constant `k`.
    fn with_constant(&self, a: Value, b: Value) -> Option<(Value, i64)> {
        let dfg = &self.b.func.dfg;
        match (iconst_value(dfg, a), iconst_value(dfg, b)) {
            (_, Some(k)) => Some((a, k)),
            (Some(k), _) => Some((b, k)),
            _ => None,
        }
    }

    /// `(y, k)` where `v` is `bxor y k` for a constant `k`.
    fn xor_operands(&self, v: Value) -> Option<(Value, i64)> {
        let dfg = &self.b.func.dfg;
        match dfg.insts[dfg.value_def(v).inst()?] {
            ir::InstructionData::Binary {
                opcode: ir::Opcode::Bxor,
                args: [a, b],
            } => self.with_constant(a, b),
            _ => None,
        }
    }

    /// The comparison `v` is the Wasm result of, if any.
    fn comparison(&self, v: Value) -> Option<Comparison> {
        let dfg = &self.b.func.dfg;
        let ir::InstructionData::Unary {
            opcode: ir::Opcode::Uextend,
            arg,
        } = dfg.insts[dfg.value_def(v).inst()?]
        else {
            return None;
        };
        if dfg.value_type(v) != types::I32 {
            return None;
        }
        match dfg.insts[dfg.value_def(arg).inst()?] {
            ir::InstructionData::IntCompare {
                opcode: ir::Opcode::Icmp,
                cond,
                args: [x, y],
            } => Some(Comparison::Int(cond, x, y)),
            ir::InstructionData::FloatCompare {
                opcode: ir::Opcode::Fcmp,
                cond,
                args: [x, y],
            } => Some(Comparison::Float(cond, x, y)),
            _ => None,
        }
    }

    /// The complementary comparison (NaN-aware: not `lt` is `uge`), as Cranelift's `i8`.
    fn complement(&mut self, c: Comparison) -> Value {
        match c {
            Comparison::Int(cc, x, y) => self.b.ins().icmp(cc.complement(), x, y),
            Comparison::Float(cc, x, y) => self.b.ins().fcmp(cc.complement(), x, y),
        }
    }
}
