//! `i32` division and remainder by a constant as one 64-bit multiply.
//!
//! Cranelift's mid-end turns `x / d` for a constant `d` into a multiply by
//! a magic number, but in 32-bit form: `umulhi`/`smulhi` of `i32`, a
//! shift, and for some divisors an add-and-halve fix-up. riscv64 and
//! aarch64 have no 32-bit multiply-high, so each `umulhi.i32` is lowered
//! as two zero-extensions, a 64-bit multiply and a shift, then shifted
//! again: shootout-random's `seed % 139968` took seven riscv64 and six
//! aarch64 instructions besides the constants, x86_64 a `mul` through
//! `edx:eax`.
//!
//! Here, before the e-graph sees them, such divisions become the same
//! arithmetic done once in 64 bits, where the product of a 32-bit value and
//! a magic number of up to 33 bits fits: extend, multiply, one shift
//! (Granlund and Montgomery, "Division by invariant integers using
//! multiplication", 1994, theorems 4.2 and 5.1), and for a remainder
//! `x - q * d`. riscv64 needs five instructions for `x % 139968`
//! (`zext.w; mul; srli; mulw; subw` with the constants held), aarch64
//! four (`mov w, w; mul; lsr; msub`). Divisors that are 0, ±1 or a power of two
//! (either sign) stay as they are: Cranelift traps on zero, and turns the
//! others into shifts and masks. 64-bit divisions stay too: their
//! product needs 128 bits.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{Function, InstBuilder, InstructionData, Opcode, Value, types};

/// Rewrites `func`'s `i32` divisions and remainders by constants; whether
/// it changed anything. The old results become aliases of the new ones,
/// which Cranelift resolves before its own passes.
pub fn expand_constant_divisions(func: &mut Function) -> bool {
    let mut changed = false;
    let mut pos = FuncCursor::new(func);
    while pos.next_block().is_some() {
        while let Some(inst) = pos.next_inst() {
            let InstructionData::Binary {
                opcode,
                args: [x, divisor],
            } = pos.func.dfg.insts[inst]
            else {
                continue;
            };
            if !matches!(
                opcode,
                Opcode::Udiv | Opcode::Urem | Opcode::Sdiv | Opcode::Srem
            ) || pos.func.dfg.value_type(x) != types::I32
            {
                continue;
            }
            let Some(d) = super::iconst_value(&pos.func.dfg, divisor) else {
                continue;
            };
            let signed = matches!(opcode, Opcode::Sdiv | Opcode::Srem);
            let q = if signed {
                match SignedMagic::new(d as i32) {
                    Some(magic) => magic.quotient(&mut pos, x),
                    None => continue,
                }
            } else {
                match UnsignedMagic::new(d as u32) {
                    Some(magic) => magic.quotient(&mut pos, x),
                    None => continue,
                }
            };
            let value = match opcode {
                Opcode::Udiv | Opcode::Sdiv => q,
                _ => {
                    let product = pos.ins().imul(q, divisor);
                    pos.ins().isub(x, product)
                }
            };
            let result = pos.func.dfg.first_result(inst);
            pos.func.dfg.clear_results(inst);
            pos.remove_inst_and_step_back();
            pos.func.dfg.change_to_alias(result, value);
            changed = true;
        }
    }
    changed
}

/// `x / d` for `u32` `x` as `(x * multiplier) >> shift` in 64 bits, or,
/// where the multiplier needs 33 bits, `(x + ((x * low) >> 32)) >> shift`
/// with `low` its lower 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct UnsignedMagic {
    multiplier: u64,
    shift: u32,
    /// The multiplier is `2^32 + multiplier` (the second form).
    add: bool,
}

impl UnsignedMagic {
    /// None for divisors Cranelift handles as well: 0, 1, powers of two.
    fn new(d: u32) -> Option<Self> {
        if d.is_power_of_two() || d == 0 {
            return None;
        }
        let d = u64::from(d);
        let l = 64 - (d - 1).leading_zeros(); // ceil(log2 d), 2..=32
        // The smallest shift whose rounded-up reciprocal is exact for every
        // 32-bit `x` (theorem 4.2: m * d <= 2^(32+s) + 2^s) and fits in 32
        // bits; a smaller multiplier is cheaper to build on riscv64.
        for s in 0..l {
            let m = (1u64 << (32 + s)).div_ceil(d);
            if m < 1 << 32 && m * d <= (1 << (32 + s)) + (1 << s) {
                return Some(UnsignedMagic {
                    multiplier: m,
                    shift: 32 + s,
                    add: false,
                });
            }
        }
        // s = l always satisfies the bound, with a multiplier of 33 bits.
        let m = (1u128 << (32 + l)).div_ceil(u128::from(d));
        Some(UnsignedMagic {
            multiplier: (m - (1 << 32)) as u64,
            shift: l,
            add: true,
        })
    }

    fn quotient(self, pos: &mut FuncCursor, x: Value) -> Value {
        let wide = pos.ins().uextend(types::I64, x);
        let multiplier = pos.ins().iconst(types::I64, self.multiplier as i64);
        let product = pos.ins().imul(wide, multiplier);
        let q = match self.add {
            false => pos.ins().ushr_imm_u(product, i64::from(self.shift)),
            true => {
                let high = pos.ins().ushr_imm_u(product, 32);
                let sum = pos.ins().iadd(high, wide);
                pos.ins().ushr_imm_u(sum, i64::from(self.shift))
            }
        };
        pos.ins().ireduce(types::I32, q)
    }

    /// What the instructions `quotient` emits compute.
    #[cfg(test)]
    fn apply(self, x: u32) -> u32 {
        let wide = u64::from(x);
        let product = wide.wrapping_mul(self.multiplier);
        let q = match self.add {
            false => product >> self.shift,
            true => ((product >> 32) + wide) >> self.shift,
        };
        q as u32
    }
}

/// `x / d` for `i32` `x`, truncated: `((x * multiplier) >> shift) + (x <
/// 0)` in 64 bits (theorem 5.1), negated for a negative divisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SignedMagic {
    multiplier: i64,
    shift: u32,
    negative: bool,
}

impl SignedMagic {
    /// None for divisors Cranelift handles as well: 0, ±1, ± powers of two.
    fn new(d: i32) -> Option<Self> {
        let magnitude = u64::from(d.unsigned_abs());
        if magnitude.is_power_of_two() || magnitude == 0 {
            return None;
        }
        let l = 64 - (magnitude - 1).leading_zeros(); // ceil(log2 |d|), 2..=31
        // The smallest shift with 2^(31+s) < m * |d| <= 2^(31+s) + 2^s;
        // s = l always qualifies, with m <= 2^32, and |x * m| <= 2^63.
        let s = (0..=l)
            .find(|&s| {
                let m = (1u64 << (31 + s)) / magnitude + 1;
                m * magnitude <= (1 << (31 + s)) + (1 << s)
            })
            .unwrap_or(l);
        let multiplier = ((1u64 << (31 + s)) / magnitude + 1) as i64;
        Some(SignedMagic {
            multiplier,
            shift: 31 + s,
            negative: d < 0,
        })
    }

    fn quotient(self, pos: &mut FuncCursor, x: Value) -> Value {
        let wide = pos.ins().sextend(types::I64, x);
        let multiplier = pos.ins().iconst(types::I64, self.multiplier);
        let product = pos.ins().imul(wide, multiplier);
        let shifted = pos.ins().sshr_imm_u(product, i64::from(self.shift));
        let q = pos.ins().ireduce(types::I32, shifted);
        // Rounds toward zero: floor(x / d) + 1 for a negative `x`.
        let sign = pos.ins().ushr_imm_u(x, 31);
        let q = pos.ins().iadd(q, sign);
        match self.negative {
            false => q,
            true => pos.ins().ineg(q),
        }
    }

    /// What the instructions `quotient` emits compute.
    #[cfg(test)]
    fn apply(self, x: i32) -> i32 {
        let product = i64::from(x).wrapping_mul(self.multiplier);
        let q = ((product >> self.shift) as i32).wrapping_add((x as u32 >> 31) as i32);
        match self.negative {
            false => q,
            true => q.wrapping_neg(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numerators around the edges of the range and of `d`'s multiples.
    fn numerators(d: u64) -> Vec<u64> {
        let mut xs = vec![
            0,
            1,
            2,
            0x7fff_ffff,
            0x8000_0000,
            0x8000_0001,
            0xffff_fffe,
            0xffff_ffff,
        ];
        for k in [1, 2, 3, 1000, (1 << 32) / d, (1 << 31) / d] {
            let m = k * d;
            xs.extend([m.wrapping_sub(1), m, m + 1]);
        }
        // A fixed pseudo-random spread.
        let mut r = 0x9e37_79b9_7f4a_7c15u64 ^ d;
        for _ in 0..200 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            xs.push(r);
        }
        xs.into_iter().filter(|&x| x <= 0xffff_ffff).collect()
    }

    fn divisors() -> Vec<u32> {
        let mut ds: Vec<u32> = (0..=5000).collect();
        ds.extend([
            139968,
            641,
            6700417,
            0x7fff_ffff,
            0x8000_0001,
            0xffff_fffd,
            0xffff_ffff,
        ]);
        ds.extend(
            (1..32).flat_map(|k| [(1u32 << k) - 1, (1u32 << k) + 1, (1u32 << k) / 3 * 2 + 1]),
        );
        let mut r = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            ds.push((r >> (r % 32)) as u32);
        }
        ds
    }

    #[test]
    fn unsigned_quotients_are_exact() {
        for d in divisors() {
            let Some(magic) = UnsignedMagic::new(d) else {
                assert!(d == 0 || d.is_power_of_two(), "{d} left alone");
                continue;
            };
            for x in numerators(u64::from(d)) {
                let x = x as u32;
                assert_eq!(magic.apply(x), x / d, "{x} / {d} with {magic:?}");
            }
        }
    }

    #[test]
    fn signed_quotients_are_exact() {
        for d in divisors() {
            for d in [d as i32, (d as i32).wrapping_neg()] {
                let Some(magic) = SignedMagic::new(d) else {
                    let m = d.unsigned_abs();
                    assert!(m == 0 || m.is_power_of_two(), "{d} left alone");
                    continue;
                };
                for x in numerators(u64::from(d.unsigned_abs())) {
                    for x in [x as u32 as i32, (x as u32 as i32).wrapping_neg()] {
                        let want = x.wrapping_div(d);
                        assert_eq!(magic.apply(x), want, "{x} / {d} with {magic:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn both_unsigned_forms_occur() {
        // 7 needs 33 bits, 139968 and 10 do not.
        assert!(UnsignedMagic::new(7).is_some_and(|m| m.add));
        assert!(UnsignedMagic::new(10).is_some_and(|m| !m.add));
        assert!(UnsignedMagic::new(139968).is_some_and(|m| !m.add));
    }
}
