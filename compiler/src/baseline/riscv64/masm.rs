//! The baseline compiler's macro-assembler for riscv64 (RV64GC: no Zba or
//! Zbb, so bit counts are short loops and rotates are shift pairs).
//!
//! Frame (after the prologue; s0 is the caller's stack pointer):
//!
//! ```text
//! [s0 + 8 k]             incoming stack argument k
//! [s0 - 8 .. s0 - 40]    saved ra, s0, s1, s2 (vmctx), s3 (memory base)
//! [s1 + 8 k]             slot k (s1 = sp + the outgoing-argument area)
//! [sp + 8 k]             outgoing stack argument k
//! ```
//!
//! The operand stack uses a0-a7, t0-t2 and ft0-ft9, fa0-fa7; t3-t6 and
//! ft10-ft11 are scratch. An i32 in a register is sign-extended to 64 bits,
//! RV64's own convention (every W instruction keeps it), so comparisons
//! and bitwise operations use the 64-bit instructions and an i32 used as an
//! address or passed to the runtime is zero-extended first. RISC-V traps on
//! nothing: division by zero, `MIN / -1` and float conversions are checked
//! explicitly; `fmin`/`fmax` prefer a number to a NaN, so NaNs are checked
//! too.

use cranelift_codegen::binemit::Reloc;
use kiln_runtime::memory::PAGE_SIZE;

use super::asm::{self, Alu, Assembler, Cond, FAlu, FCmp, Round, Store, Width, fits_imm12};
use crate::baseline::masm::{
    ArgPlace, Callee, Count, Division, Extend, FReg, FloatCc, FloatOp, FloatUnary, Heap, IntCc,
    IntOp, Label, Load, Loc, MacroAssembler, Reg, ShiftOp, TableCall, Truncation, Ty,
    is_low_half_mask,
};
use crate::target::BoundsChecks;
use crate::translate::environ::{self, funcref, memory as vm_memory, table as vm_table, vmctx};

type R = asm::Reg;
type F = asm::FReg;

const ZERO: R = R::ZERO;
/// Values and addresses in the macro-assembler's own sequences.
const T3: R = R::T3;
const T4: R = R::T4;
const T5: R = R::T5;
const T6: R = R::T6;
/// A table call's function reference, between `prepare_table_call` and
/// `call` (passing arguments uses t6 and t5 only).
const ENTRY: R = R::T3;
const FT10: F = asm::FReg(30);
const FT11: F = asm::FReg(31);
const SLOTS: R = R::S1;
const VMCTX: R = R::S2;
const MEMORY_BASE: R = R::S3;
const FA0: u8 = 10;
/// Bytes the prologue saves below the caller's stack pointer.
const SAVED: i32 = 48;

pub(crate) struct Riscv64 {
    a: Assembler,
    /// The patchable constants of the prologue: frame size for the stack
    /// check, frame size for `sp`, the outgoing area for `s1`.
    patches: [u32; 3],
}

/// How RISC-V asks an ordering: `x < y` (`slt`/`sltu`, `blt`/`bltu`) of
/// the operands in order or swapped, negated for `>=` (`bge`/`bgeu`).
struct Order {
    unsigned: bool,
    swapped: bool,
    negated: bool,
}

impl Order {
    /// `None` for equality, which is asked directly.
    fn of(cc: IntCc) -> Option<Order> {
        let (unsigned, swapped, negated) = match cc {
            IntCc::Eq | IntCc::Ne => return None,
            IntCc::LtS => (false, false, false),
            IntCc::LtU => (true, false, false),
            IntCc::GtS => (false, true, false),
            IntCc::GtU => (true, true, false),
            IntCc::LeS => (false, true, true),
            IntCc::LeU => (true, true, true),
            IntCc::GeS => (false, false, true),
            IntCc::GeU => (true, false, true),
        };
        Some(Order {
            unsigned,
            swapped,
            negated,
        })
    }
}

fn r(reg: Reg) -> R {
    asm::Reg(reg.0)
}

fn f(reg: FReg) -> F {
    asm::FReg(reg.0)
}

fn w(ty: Ty) -> Width {
    if ty.is_64() { Width::W64 } else { Width::W32 }
}

/// An i32 constant in its canonical (sign-extended) form.
fn canonical(ty: Ty, bits: u64) -> u64 {
    match ty {
        Ty::I32 | Ty::F32 => bits as u32 as i32 as i64 as u64,
        _ => bits,
    }
}

fn load_op(ty: Ty) -> asm::Load {
    if ty.is_64() {
        asm::Load::Ld
    } else {
        asm::Load::Lw
    }
}

fn store_op(ty: Ty) -> Store {
    if ty.is_64() { Store::Sd } else { Store::Sw }
}

impl Riscv64 {
    /// `base + offset` as a base register and a 12-bit offset, through
    /// `tmp` when the offset does not fit.
    fn address(&mut self, base: R, offset: i64, tmp: R) -> (R, i32) {
        if fits_imm12(offset) {
            (base, offset as i32)
        } else {
            self.a.add_imm(tmp, base, offset, tmp);
            (tmp, 0)
        }
    }

    fn load_from(&mut self, op: asm::Load, dst: R, base: R, offset: i64) {
        let (b, o) = self.address(base, offset, T5);
        self.a.load(op, dst, b, o);
    }

    fn store_at(&mut self, op: Store, src: R, base: R, offset: i64) {
        let (b, o) = self.address(base, offset, T5);
        self.a.store(op, src, b, o);
    }

    fn slot(k: u32) -> i64 {
        8 * i64::from(k)
    }

    /// Stores `value` (any location) to `base + offset` with `ty`'s width
    /// (through t6, and t5 for a far offset).
    fn store_to(&mut self, ty: Ty, base: R, offset: i64, value: Loc) {
        let (b, o) = self.address(base, offset, T5);
        match value {
            Loc::Reg(v) => self.a.store(store_op(ty), r(v), b, o),
            Loc::FReg(v) => self.a.fstore(ty.is_64(), f(v), b, o),
            Loc::Imm(bits) => {
                let bits = canonical(ty, bits);
                let src = if bits == 0 {
                    ZERO
                } else {
                    self.a.li(T6, bits);
                    T6
                };
                self.a.store(store_op(ty), src, b, o);
            }
            Loc::Slot(k) => {
                self.load_from(asm::Load::Ld, T6, SLOTS, Self::slot(k));
                let (b, o) = self.address(base, offset, T5);
                self.a.store(store_op(ty), T6, b, o);
            }
        }
    }

    /// The right operand of an integer instruction in a register (t6 for
    /// a constant).
    fn rhs_reg(&mut self, ty: Ty, rhs: Loc) -> R {
        match rhs {
            Loc::Reg(v) => r(v),
            Loc::Imm(0) => ZERO,
            other => {
                self.load(ty, Reg(T6.0), other);
                T6
            }
        }
    }

    fn load_float_bits(&mut self, ty: Ty, dst: F, bits: u64) {
        let src = if bits == 0 {
            ZERO
        } else {
            self.a.li(T6, bits);
            T6
        };
        self.a.fmv_from_int(ty.is_64(), dst, src);
    }

    /// Zero-extends the i32 `index` (any location) into t4.
    fn index_to_t4(&mut self, index: Loc) {
        match index {
            Loc::Imm(bits) => self.a.li(T4, bits & 0xFFFF_FFFF),
            other => {
                self.load(Ty::I32, Reg(T4.0), other);
                self.a.zext_w(T4, T4);
            }
        }
    }

    /// The address of a linear-memory access at `index + offset` as a base
    /// register (t6) and a 12-bit offset; with explicit checks, after
    /// comparing the access's end with the memory's length.
    fn heap_address(&mut self, heap: &Heap, index: Loc, offset: u64, size: u32) -> (R, i32) {
        if heap.checks == BoundsChecks::Guard && self.a.zba && !matches!(index, Loc::Imm(_)) {
            // Zba: the zero extension and the add in one `add.uw`, which
            // reads only the index's low 32 bits.
            let index = match index {
                Loc::Reg(v) => r(v),
                other => {
                    self.load(Ty::I32, Reg(T4.0), other);
                    T4
                }
            };
            self.a.add_uw(T6, index, MEMORY_BASE);
            return self.plus_offset(offset);
        }
        self.index_to_t4(index);
        if let (BoundsChecks::Explicit, Some(oob)) = (heap.checks, heap.out_of_bounds) {
            self.a.load(asm::Load::Ld, T6, VMCTX, vmctx::MEMORY);
            self.a.load(asm::Load::Ld, T5, T6, vm_memory::LENGTH);
            // length < end, or index > length - end: out of bounds.
            self.a.li(T3, offset + u64::from(size));
            self.a.branch(Cond::Ltu, T5, T3, oob);
            self.a.alu(Alu::Sub, Width::W64, T5, T5, T3);
            self.a.branch(Cond::Ltu, T5, T4, oob);
            self.a.load(asm::Load::Ld, T6, T6, vm_memory::BASE);
        }
        let base = match heap.checks {
            BoundsChecks::Explicit => T6,
            BoundsChecks::Guard => MEMORY_BASE,
        };
        self.a.alu(Alu::Add, Width::W64, T6, base, T4);
        self.plus_offset(offset)
    }

    /// The address t6 + `offset` as a base register and a 12-bit offset.
    fn plus_offset(&mut self, offset: u64) -> (R, i32) {
        let offset = offset as i64;
        if fits_imm12(offset) {
            (T6, offset as i32)
        } else {
            self.a.li(T5, offset as u64);
            self.a.alu(Alu::Add, Width::W64, T6, T6, T5);
            (T6, 0)
        }
    }

    /// t3 = the address of element `index` (a canonical i32 register) of
    /// `table`, after the bounds check.
    fn table_element(&mut self, table: u32, index: Reg, out_of_bounds: Label) {
        self.a.load(asm::Load::Ld, T3, VMCTX, vmctx::TABLES);
        self.load_from(asm::Load::Ld, T3, T3, 8 * i64::from(table));
        self.a.zext_w(T4, r(index));
        self.a.load(asm::Load::Ld, T6, T3, vm_table::LENGTH);
        self.a.branch(Cond::Geu, T4, T6, out_of_bounds);
        self.a.load(asm::Load::Ld, T3, T3, vm_table::ELEMENTS);
        self.a.alu_imm(Alu::Sll, Width::W64, T4, T4, 3);
        self.a.alu(Alu::Add, Width::W64, T3, T3, T4);
    }

    /// t3 = global `index`'s cell.
    fn global_cell(&mut self, index: u32) {
        self.a.load(asm::Load::Ld, T3, VMCTX, vmctx::GLOBALS);
        self.load_from(asm::Load::Ld, T3, T3, 8 * i64::from(index));
    }

    /// Sets `dst` to 1 if `a cc b` (signed or unsigned), else 0.
    fn set_if(&mut self, cc: IntCc, dst: R, a: R, b: R) {
        let Some(o) = Order::of(cc) else {
            let x = if b == ZERO {
                a
            } else {
                self.a.alu(Alu::Xor, Width::W64, dst, a, b);
                dst
            };
            if cc == IntCc::Eq {
                self.a.seqz(dst, x);
            } else {
                self.a.snez(dst, x);
            }
            return;
        };
        let (x, y) = if o.swapped { (b, a) } else { (a, b) };
        let lt = if o.unsigned { Alu::Sltu } else { Alu::Slt };
        self.a.alu(lt, Width::W64, dst, x, y);
        if o.negated {
            self.a.alu_imm(Alu::Xor, Width::W64, dst, dst, 1);
        }
    }

    /// Wasm's `min`/`max`: NaN when either operand is one.
    fn min_max(&mut self, ty: Ty, min: bool, fa: F, fb: F) {
        let d = ty.is_64();
        let (nan, done) = (self.a.new_label(), self.a.new_label());
        self.a.fcmp(FCmp::Eq, d, T6, fa, fa);
        self.a.fcmp(FCmp::Eq, d, T5, fb, fb);
        self.a.alu(Alu::And, Width::W64, T6, T6, T5);
        self.a.branch(Cond::Eq, T6, ZERO, nan);
        self.a
            .falu(if min { FAlu::Min } else { FAlu::Max }, d, fa, fa, fb);
        self.a.jump(done);
        self.a.bind(nan);
        self.a.falu(FAlu::Add, d, fa, fa, fb);
        self.a.bind(done);
    }

    /// ceil/floor/trunc/nearest without Zfa: through a 64-bit integer with
    /// the rounding mode when |x| is below 2^52 (2^23), keeping the sign
    /// (so -0.5 rounds to -0); larger values are integers already, and a
    /// NaN is made quiet.
    fn round(&mut self, ty: Ty, x: F, mode: Round) {
        let d = ty.is_64();
        let (large, done) = (self.a.new_label(), self.a.new_label());
        let limit = if d {
            2f64.powi(52).to_bits()
        } else {
            u64::from(2f32.powi(23).to_bits())
        };
        self.load_float_bits(ty, FT10, limit);
        self.a.fabs(d, FT11, x);
        self.a.fcmp(FCmp::Lt, d, T6, FT11, FT10);
        self.a.branch(Cond::Eq, T6, ZERO, large);
        self.a.fcvt_to_int(d, Width::W64, true, T6, x, mode);
        self.a
            .fcvt_from_int(d, Width::W64, true, FT11, T6, Round::Rne);
        self.a.falu(FAlu::Sgnj, d, x, FT11, x);
        self.a.jump(done);
        self.a.bind(large);
        self.a.fcmp(FCmp::Eq, d, T6, x, x);
        self.a.branch(Cond::Ne, T6, ZERO, done);
        self.a.falu(FAlu::Add, d, x, x, x);
        self.a.bind(done);
    }

    /// Bit counts as loops (no Zbb): `src` is copied to t6 (zero-extended
    /// for an i32) and `dst` counts.
    fn count_loop(&mut self, what: Count, ty: Ty, dst: R, src: R) {
        let bits = u64::from(ty.bits());
        let (top, done) = (self.a.new_label(), self.a.new_label());
        self.a.mv(T6, src);
        if !ty.is_64() {
            self.a.zext_w(T6, T6);
        }
        self.a.li(dst, 0);
        match what {
            Count::Ones => {
                // Clear the lowest set bit until none is left.
                self.a.bind(top);
                self.a.branch(Cond::Eq, T6, ZERO, done);
                self.a.alu_imm(Alu::Add, Width::W64, T5, T6, -1);
                self.a.alu(Alu::And, Width::W64, T6, T6, T5);
                self.a.alu_imm(Alu::Add, Width::W64, dst, dst, 1);
                self.a.jump(top);
            }
            Count::LeadingZeros => {
                // Shift left until the top bit (of 64) is set.
                let zero = self.a.new_label();
                self.a.branch(Cond::Eq, T6, ZERO, zero);
                if !ty.is_64() {
                    self.a.alu_imm(Alu::Sll, Width::W64, T6, T6, 32);
                }
                self.a.bind(top);
                self.a.branch(Cond::Lt, T6, ZERO, done);
                self.a.alu_imm(Alu::Sll, Width::W64, T6, T6, 1);
                self.a.alu_imm(Alu::Add, Width::W64, dst, dst, 1);
                self.a.jump(top);
                self.a.bind(zero);
                self.a.li(dst, bits);
            }
            Count::TrailingZeros => {
                let zero = self.a.new_label();
                self.a.branch(Cond::Eq, T6, ZERO, zero);
                self.a.bind(top);
                self.a.alu_imm(Alu::And, Width::W64, T5, T6, 1);
                self.a.branch(Cond::Ne, T5, ZERO, done);
                self.a.alu_imm(Alu::Srl, Width::W64, T6, T6, 1);
                self.a.alu_imm(Alu::Add, Width::W64, dst, dst, 1);
                self.a.jump(top);
                self.a.bind(zero);
                self.a.li(dst, bits);
            }
        }
        self.a.bind(done);
    }
}

impl MacroAssembler for Riscv64 {
    const GPRS: &'static [Reg] = &[
        Reg(10), // a0
        Reg(11),
        Reg(12),
        Reg(13),
        Reg(14),
        Reg(15),
        Reg(16),
        Reg(17), // a7
        Reg(5),  // t0
        Reg(6),
        Reg(7), // t2
    ];
    const FPRS: &'static [FReg] = &[
        FReg(0), // ft0-ft7
        FReg(1),
        FReg(2),
        FReg(3),
        FReg(4),
        FReg(5),
        FReg(6),
        FReg(7),
        FReg(10), // fa0-fa7
        FReg(11),
        FReg(12),
        FReg(13),
        FReg(14),
        FReg(15),
        FReg(16),
        FReg(17),
        FReg(28), // ft8-ft9
        FReg(29),
    ];
    // s4-s11 (s1-s3 hold the slots' base, the vmctx and the memory base).
    const PINNED: &'static [Reg] = &[
        Reg(20),
        Reg(21),
        Reg(22),
        Reg(23),
        Reg(24),
        Reg(25),
        Reg(26),
        Reg(27),
    ];
    const DIVISION: Option<(Reg, Reg)> = None;
    const SHIFT_COUNT: Option<Reg> = None;
    const RESULT: Reg = Reg(10);
    const FLOAT_RESULT: FReg = FReg(FA0);
    /// a1-a7 (a0 is the vmctx); fa0-fa7.
    const INT_ARGS: &'static [Reg] = &[
        Reg(11),
        Reg(12),
        Reg(13),
        Reg(14),
        Reg(15),
        Reg(16),
        Reg(17),
    ];
    const FLOAT_ARGS: &'static [FReg] = &[
        FReg(10),
        FReg(11),
        FReg(12),
        FReg(13),
        FReg(14),
        FReg(15),
        FReg(16),
        FReg(17),
    ];

    fn new(capacity: usize, isa_flags: &[String]) -> Riscv64 {
        let mut a = Assembler::with_capacity(capacity);
        a.zba = isa_flags.iter().any(|f| f == "has_zba");
        a.zbb = isa_flags.iter().any(|f| f == "has_zbb");
        Riscv64 { a, patches: [0; 3] }
    }

    fn finish(self) -> Result<Vec<u8>, &'static str> {
        self.a.finish()
    }

    fn new_label(&mut self) -> Label {
        self.a.new_label()
    }

    fn bind(&mut self, label: Label) {
        self.a.bind(label);
    }

    fn call_reloc() -> (u32, Reloc, i64) {
        (0, Reloc::RiscvCallPlt, 0)
    }

    fn prologue(&mut self, params: &[Ty], memory_base: bool, overflow: Label) -> u32 {
        // sp - (saved + frame) must not go below vmctx.stack_limit.
        self.a.load(asm::Load::Ld, T6, R::A0, vmctx::STACK_LIMIT);
        self.patches[0] = self.a.li32_patchable(T5);
        self.a.alu(Alu::Add, Width::W64, T6, T6, T5);
        self.a.branch(Cond::Ltu, R::SP, T6, overflow);
        self.a.alu_imm(Alu::Add, Width::W64, R::SP, R::SP, -SAVED);
        for (k, reg) in [R::RA, R::S0, SLOTS, VMCTX, MEMORY_BASE].iter().enumerate() {
            self.a
                .store(Store::Sd, *reg, R::SP, SAVED - 8 - 8 * k as i32);
        }
        self.a.alu_imm(Alu::Add, Width::W64, R::S0, R::SP, SAVED);
        self.patches[1] = self.a.li32_patchable(T5);
        self.a.alu(Alu::Sub, Width::W64, R::SP, R::SP, T5);
        self.patches[2] = self.a.li32_patchable(T5);
        self.a.alu(Alu::Add, Width::W64, SLOTS, R::SP, T5);
        self.a.mv(VMCTX, R::A0);
        if memory_base {
            self.a
                .load(asm::Load::Ld, MEMORY_BASE, VMCTX, vmctx::MEMORY);
            self.a
                .load(asm::Load::Ld, MEMORY_BASE, MEMORY_BASE, vm_memory::BASE);
        }
        for (k, (ty, place)) in params.iter().zip(Self::arg_places(params)).enumerate() {
            let slot = Self::slot(k as u32);
            match place {
                ArgPlace::Reg(v) => self.store_at(store_op(*ty), r(v), SLOTS, slot),
                ArgPlace::FReg(v) => {
                    let (b, o) = self.address(SLOTS, slot, T5);
                    self.a.fstore(ty.is_64(), f(v), b, o);
                }
                ArgPlace::Stack(j) => {
                    self.load_from(asm::Load::Ld, T6, R::S0, 8 * j as i64);
                    self.store_at(Store::Sd, T6, SLOTS, slot);
                }
            }
        }
        0
    }

    fn finish_frame(&mut self, _patch: u32, slots: usize, outgoing: usize) {
        let bytes = (slots + outgoing) as i32 * 8;
        let frame = (bytes + 15) & !15;
        self.a.patch_li32(self.patches[0], SAVED + frame);
        self.a.patch_li32(self.patches[1], frame);
        self.a.patch_li32(self.patches[2], outgoing as i32 * 8);
    }

    fn epilogue(&mut self) {
        self.a.alu_imm(Alu::Add, Width::W64, R::SP, R::S0, -SAVED);
        for (k, reg) in [R::RA, R::S0, SLOTS, VMCTX, MEMORY_BASE].iter().enumerate() {
            self.a
                .load(asm::Load::Ld, *reg, R::SP, SAVED - 8 - 8 * k as i32);
        }
        self.a.alu_imm(Alu::Add, Width::W64, R::SP, R::SP, SAVED);
        self.a.ret();
    }

    fn zero_slots(&mut self, from: usize, to: usize) {
        for k in from..to {
            self.store_at(Store::Sd, ZERO, SLOTS, Self::slot(k as u32));
        }
    }

    fn load(&mut self, ty: Ty, dst: Reg, from: Loc) {
        match from {
            Loc::Reg(v) if v == dst => {}
            Loc::Reg(v) => self.a.mv(r(dst), r(v)),
            Loc::Imm(bits) => self.a.li(r(dst), canonical(ty, bits)),
            Loc::Slot(k) => self.load_from(load_op(ty), r(dst), SLOTS, Self::slot(k)),
            Loc::FReg(v) => self.a.fmv_to_int(ty.is_64(), r(dst), f(v)),
        }
    }

    fn load_float(&mut self, ty: Ty, dst: FReg, from: Loc) {
        match from {
            Loc::FReg(v) if v == dst => {}
            Loc::FReg(v) => self.a.fmv(ty.is_64(), f(dst), f(v)),
            Loc::Imm(bits) => self.load_float_bits(ty, f(dst), bits),
            Loc::Slot(k) => {
                let (b, o) = self.address(SLOTS, Self::slot(k), T5);
                self.a.fload(ty.is_64(), f(dst), b, o);
            }
            Loc::Reg(v) => self.a.fmv_from_int(ty.is_64(), f(dst), r(v)),
        }
    }

    fn store_slot(&mut self, ty: Ty, k: u32, value: Loc) {
        if value != Loc::Slot(k) {
            self.store_to(ty, SLOTS, Self::slot(k), value);
        }
    }

    fn store_argument(&mut self, ty: Ty, k: usize, value: Loc) {
        self.store_to(ty, R::SP, 8 * k as i64, value);
    }

    fn canonical_i32(&mut self, reg: Reg) {
        self.a.sext_w(r(reg), r(reg));
    }

    fn zero_extend_i32(&mut self, reg: Reg) {
        self.a.zext_w(r(reg), r(reg));
    }

    fn int_op(&mut self, op: IntOp, ty: Ty, dst: Reg, rhs: Loc) {
        self.int_op_from(op, ty, dst, dst, rhs);
    }

    fn int_op_from(&mut self, op: IntOp, ty: Ty, dst: Reg, src: Reg, rhs: Loc) {
        let (wd, d, s) = (w(ty), r(dst), r(src));
        if is_low_half_mask(op, ty, rhs) {
            // No mask to build: `andi` takes 12 bits.
            self.a.zext_w(d, s);
            return;
        }
        if let Loc::Imm(bits) = rhs {
            let imm = canonical(ty, bits) as i64;
            let imm = if op == IntOp::Sub {
                imm.checked_neg()
            } else {
                Some(imm)
            };
            if let Some(imm) = imm.filter(|i| fits_imm12(*i)) {
                let (alu, width) = match op {
                    IntOp::Add | IntOp::Sub => (Some(Alu::Add), wd),
                    IntOp::And => (Some(Alu::And), Width::W64),
                    IntOp::Or => (Some(Alu::Or), Width::W64),
                    IntOp::Xor => (Some(Alu::Xor), Width::W64),
                    IntOp::Mul => (None, wd),
                };
                if let Some(alu) = alu {
                    self.a.alu_imm(alu, width, d, s, imm as i32);
                    return;
                }
            }
        }
        let b = self.rhs_reg(ty, rhs);
        let (alu, width) = match op {
            IntOp::Add => (Alu::Add, wd),
            IntOp::Sub => (Alu::Sub, wd),
            IntOp::Mul => (Alu::Mul, wd),
            // Bitwise operations keep sign-extended i32s sign-extended.
            IntOp::And => (Alu::And, Width::W64),
            IntOp::Or => (Alu::Or, Width::W64),
            IntOp::Xor => (Alu::Xor, Width::W64),
        };
        self.a.alu(alu, width, d, s, b);
    }

    fn shift(&mut self, op: ShiftOp, ty: Ty, dst: Reg, count: Loc) {
        self.shift_from(op, ty, dst, dst, count);
    }

    fn shift_from(&mut self, op: ShiftOp, ty: Ty, dst: Reg, src: Reg, count: Loc) {
        let (wd, d, s, bits) = (w(ty), r(dst), r(src), ty.bits() as i64);
        if let Loc::Imm(c) = count {
            let c = (c as i64) & (bits - 1);
            let simple = match op {
                ShiftOp::Shl => Some(Alu::Sll),
                ShiftOp::ShrS => Some(Alu::Sra),
                ShiftOp::ShrU => Some(Alu::Srl),
                _ => None,
            };
            if let Some(alu) = simple {
                self.a.alu_imm(alu, wd, d, s, c as i32);
                return;
            }
            // Rotates: two shifts and an or.
            let left = if op == ShiftOp::Rotl {
                c
            } else {
                (bits - c) & (bits - 1)
            };
            if left == 0 {
                return self.load(ty, dst, Loc::Reg(src));
            }
            if self.a.zbb {
                self.a.rotate_right_imm(wd, d, s, (bits - left) as u32);
                return;
            }
            self.a.alu_imm(Alu::Sll, wd, T6, s, left as i32);
            self.a.alu_imm(Alu::Srl, wd, d, s, (bits - left) as i32);
            self.a.alu(Alu::Or, Width::W64, d, d, T6);
            return;
        }
        let c = self.rhs_reg(ty, count);
        match op {
            // The W forms use the count's low 5 bits, the others 6: Wasm's masks.
            ShiftOp::Shl => self.a.alu(Alu::Sll, wd, d, s, c),
            ShiftOp::ShrS => self.a.alu(Alu::Sra, wd, d, s, c),
            ShiftOp::ShrU => self.a.alu(Alu::Srl, wd, d, s, c),
            ShiftOp::Rotl | ShiftOp::Rotr if self.a.zbb => {
                self.a.rotate(op == ShiftOp::Rotl, wd, d, s, c);
            }
            ShiftOp::Rotl | ShiftOp::Rotr => {
                let (first, second) = if op == ShiftOp::Rotl {
                    (Alu::Sll, Alu::Srl)
                } else {
                    (Alu::Srl, Alu::Sll)
                };
                // x op1 c | x op2 (-c mod bits).
                self.a.neg(Width::W64, T5, c);
                self.a.alu(first, wd, T6, s, c);
                self.a.alu(second, wd, d, s, T5);
                self.a.alu(Alu::Or, Width::W64, d, d, T6);
            }
        }
    }

    fn compare(&mut self, cc: IntCc, ty: Ty, dst: Reg, rhs: Loc) {
        self.compare_from(cc, ty, dst, dst, rhs);
    }

    fn compare_from(&mut self, cc: IntCc, ty: Ty, dst: Reg, src: Reg, rhs: Loc) {
        let b = self.rhs_reg(ty, rhs);
        self.set_if(cc, r(dst), r(src), b);
    }

    fn eqz(&mut self, _ty: Ty, reg: Reg) {
        self.a.seqz(r(reg), r(reg));
    }

    /// RISC-V divides by zero and overflows without a trap (giving -1 and
    /// `MIN`); Wasm traps on both, except `MIN % -1`, which is 0 here too.
    fn divide(&mut self, division: &Division, dst: Reg, divisor: Reg) {
        let Division {
            ty,
            signed,
            remainder,
            by_zero,
            overflow,
        } = *division;
        let (wd, a, b) = (w(ty), r(dst), r(divisor));
        self.a.branch(Cond::Eq, b, ZERO, by_zero);
        if signed && !remainder {
            let ok = self.a.new_label();
            self.a.li(T6, u64::MAX);
            self.a.branch(Cond::Ne, b, T6, ok);
            let min = if ty.is_64() {
                i64::MIN
            } else {
                i64::from(i32::MIN)
            };
            self.a.li(T6, min as u64);
            self.a.branch(Cond::Eq, a, T6, overflow);
            self.a.bind(ok);
        }
        let alu = match (signed, remainder) {
            (true, false) => Alu::Div,
            (false, false) => Alu::Divu,
            (true, true) => Alu::Rem,
            (false, true) => Alu::Remu,
        };
        self.a.alu(alu, wd, a, a, b);
    }

    fn count(&mut self, what: Count, ty: Ty, dst: Reg, src: Reg) {
        if self.a.zbb {
            let which = match what {
                Count::LeadingZeros => 0,
                Count::TrailingZeros => 1,
                Count::Ones => 2,
            };
            // The counts are 0..=64: no extension needed.
            self.a.bit_count(which, w(ty), r(dst), r(src));
            return;
        }
        self.count_loop(what, ty, r(dst), r(src));
        if !ty.is_64() {
            self.a.sext_w(r(dst), r(dst));
        }
    }

    fn extend(&mut self, how: Extend, reg: Reg) {
        let x = r(reg);
        match how {
            Extend::Wrap | Extend::Low32 => self.a.sext_w(x, x),
            // Canonical i32s are sign-extended: already an i64.
            Extend::I32S => {}
            Extend::I32U => self.a.zext_w(x, x),
            // Sign-extending to 64 bits is the canonical i32 too.
            Extend::Low8(_) => {
                self.a.alu_imm(Alu::Sll, Width::W64, x, x, 56);
                self.a.alu_imm(Alu::Sra, Width::W64, x, x, 56);
            }
            Extend::Low16(_) => {
                self.a.alu_imm(Alu::Sll, Width::W64, x, x, 48);
                self.a.alu_imm(Alu::Sra, Width::W64, x, x, 48);
            }
        }
    }

    fn select(&mut self, _ty: Ty, cond: Reg, dst: Reg, other: Reg) {
        let keep = self.a.new_label();
        self.a.branch_near(Cond::Ne, r(cond), ZERO, keep);
        self.a.mv(r(dst), r(other));
        self.a.bind(keep);
    }

    fn select_float(&mut self, ty: Ty, cond: Reg, dst: FReg, other: FReg) {
        let keep = self.a.new_label();
        self.a.branch_near(Cond::Ne, r(cond), ZERO, keep);
        self.a.fmv(ty.is_64(), f(dst), f(other));
        self.a.bind(keep);
    }

    fn float_op(&mut self, op: FloatOp, ty: Ty, dst: FReg, rhs: FReg) {
        let (d, fa, fb) = (ty.is_64(), f(dst), f(rhs));
        let alu = match op {
            FloatOp::Add => FAlu::Add,
            FloatOp::Sub => FAlu::Sub,
            FloatOp::Mul => FAlu::Mul,
            FloatOp::Div => FAlu::Div,
            FloatOp::Copysign => FAlu::Sgnj,
            FloatOp::Min | FloatOp::Max => return self.min_max(ty, op == FloatOp::Min, fa, fb),
        };
        self.a.falu(alu, d, fa, fa, fb);
    }

    fn float_unary(&mut self, op: FloatUnary, ty: Ty, reg: FReg) {
        let (d, x) = (ty.is_64(), f(reg));
        match op {
            FloatUnary::Sqrt => self.a.fsqrt(d, x, x),
            FloatUnary::Abs => self.a.fabs(d, x, x),
            FloatUnary::Neg => self.a.fneg(d, x, x),
            FloatUnary::Ceil => self.round(ty, x, Round::Rup),
            FloatUnary::Floor => self.round(ty, x, Round::Rdn),
            FloatUnary::Trunc => self.round(ty, x, Round::Rtz),
            FloatUnary::Nearest => self.round(ty, x, Round::Rne),
        }
    }

    fn float_compare(&mut self, cc: FloatCc, ty: Ty, dst: Reg, a: FReg, b: FReg) {
        let (d, x, fa, fb) = (ty.is_64(), r(dst), f(a), f(b));
        match cc {
            FloatCc::Eq => self.a.fcmp(FCmp::Eq, d, x, fa, fb),
            FloatCc::Ne => {
                self.a.fcmp(FCmp::Eq, d, x, fa, fb);
                self.a.alu_imm(Alu::Xor, Width::W64, x, x, 1);
            }
            FloatCc::Lt => self.a.fcmp(FCmp::Lt, d, x, fa, fb),
            FloatCc::Gt => self.a.fcmp(FCmp::Lt, d, x, fb, fa),
            FloatCc::Le => self.a.fcmp(FCmp::Le, d, x, fa, fb),
            FloatCc::Ge => self.a.fcmp(FCmp::Le, d, x, fb, fa),
        }
    }

    fn int_to_float(&mut self, signed: bool, from: Ty, to: Ty, dst: FReg, src: Reg) {
        // The 32-bit forms read the low 32 bits, whatever the upper half.
        self.a
            .fcvt_from_int(to.is_64(), w(from), signed, f(dst), r(src), Round::Rne);
    }

    fn float_to_float(&mut self, to: Ty, reg: FReg) {
        self.a.fcvt_float(to.is_64(), f(reg), f(reg));
    }

    /// `fcvt` with `rtz` saturates (NaN to the maximum): Wasm's trapping
    /// forms check NaN and the range first; the saturating ones only NaN.
    fn truncate(&mut self, truncation: &Truncation, dst: Reg, src: FReg) {
        let Truncation {
            signed,
            saturating,
            from,
            to,
            invalid,
            overflow,
        } = *truncation;
        let (d, x, y) = (from.is_64(), f(src), r(dst));
        let done = self.a.new_label();
        self.a.fcmp(FCmp::Eq, d, T6, x, x);
        if saturating {
            let number = self.a.new_label();
            self.a.branch_near(Cond::Ne, T6, ZERO, number);
            self.a.li(y, 0);
            self.a.jump(done);
            self.a.bind(number);
        } else {
            self.a.branch(Cond::Eq, T6, ZERO, invalid);
            let (low, low_out, high) = truncation.bounds();
            self.load_float_bits(from, FT10, low);
            let op = if low_out { FCmp::Le } else { FCmp::Lt };
            self.a.fcmp(op, d, T6, x, FT10);
            self.a.branch(Cond::Ne, T6, ZERO, overflow);
            self.load_float_bits(from, FT10, high);
            self.a.fcmp(FCmp::Le, d, T6, FT10, x);
            self.a.branch(Cond::Ne, T6, ZERO, overflow);
        }
        self.a.fcvt_to_int(d, w(to), signed, y, x, Round::Rtz);
        self.a.bind(done);
    }

    fn bits_to_int(&mut self, ty: Ty, dst: Reg, src: FReg) {
        // fmv.x.w sign-extends: a canonical i32.
        self.a.fmv_to_int(ty.is_64(), r(dst), f(src));
    }

    fn bits_to_float(&mut self, ty: Ty, dst: FReg, src: Reg) {
        self.a.fmv_from_int(ty.is_64(), f(dst), r(src));
    }

    fn heap_load(
        &mut self,
        heap: &Heap,
        kind: Load,
        ty: Ty,
        dst: Loc,
        index: Loc,
        offset: u64,
    ) -> u32 {
        let size = match kind {
            Load::Plain => u32::from(ty.bits() / 8),
            Load::Signed(b) | Load::Unsigned(b) => u32::from(b),
        };
        let (base, off) = self.heap_address(heap, index, offset, size);
        let at = self.a.offset();
        match dst {
            Loc::FReg(v) => self.a.fload(ty.is_64(), f(v), base, off),
            Loc::Reg(v) => {
                let op = match kind {
                    Load::Plain => load_op(ty),
                    Load::Signed(1) => asm::Load::Lb,
                    Load::Signed(2) => asm::Load::Lh,
                    Load::Signed(_) => asm::Load::Lw,
                    Load::Unsigned(1) => asm::Load::Lbu,
                    Load::Unsigned(2) => asm::Load::Lhu,
                    Load::Unsigned(_) => asm::Load::Lwu,
                };
                self.a.load(op, r(v), base, off);
            }
            _ => {}
        }
        at
    }

    fn heap_store(
        &mut self,
        heap: &Heap,
        bytes: u8,
        ty: Ty,
        value: Loc,
        index: Loc,
        offset: u64,
    ) -> u32 {
        let (base, off) = self.heap_address(heap, index, offset, u32::from(bytes));
        let op = match bytes {
            1 => Store::Sb,
            2 => Store::Sh,
            4 => Store::Sw,
            _ => Store::Sd,
        };
        // t6 holds the address; a constant goes through t5.
        let src = match value {
            Loc::Reg(v) => r(v),
            Loc::Imm(0) => ZERO,
            Loc::Imm(bits) => {
                self.a.li(T5, bits);
                T5
            }
            Loc::FReg(v) => {
                let at = self.a.offset();
                self.a.fstore(ty.is_64(), f(v), base, off);
                return at;
            }
            // The compiler hands over registers and constants.
            Loc::Slot(_) => ZERO,
        };
        let at = self.a.offset();
        self.a.store(op, src, base, off);
        at
    }

    fn memory_size(&mut self, dst: Reg) {
        self.a.load(asm::Load::Ld, T6, VMCTX, vmctx::MEMORY);
        self.a.load(asm::Load::Ld, r(dst), T6, vm_memory::LENGTH);
        self.a.alu_imm(
            Alu::Srl,
            Width::W64,
            r(dst),
            r(dst),
            PAGE_SIZE.trailing_zeros() as i32,
        );
    }

    fn global_get(&mut self, ty: Ty, dst: Loc, index: u32) {
        self.global_cell(index);
        match dst {
            Loc::FReg(v) => self.a.fload(ty.is_64(), f(v), T3, 0),
            Loc::Reg(v) => self.a.load(load_op(ty), r(v), T3, 0),
            _ => {}
        }
    }

    fn global_set(&mut self, ty: Ty, index: u32, value: Loc) {
        self.global_cell(index);
        self.store_to(ty, T3, 0, value);
    }

    fn table_size(&mut self, dst: Reg, table: u32) {
        self.a.load(asm::Load::Ld, T3, VMCTX, vmctx::TABLES);
        self.load_from(asm::Load::Ld, T3, T3, 8 * i64::from(table));
        // A table's length fits 32 bits; lw gives the canonical i32.
        self.a.load(asm::Load::Lw, r(dst), T3, vm_table::LENGTH);
    }

    fn table_get(&mut self, table: u32, index: Reg, out_of_bounds: Label) {
        self.table_element(table, index, out_of_bounds);
        self.a.load(asm::Load::Ld, r(index), T3, 0);
    }

    fn table_set(&mut self, table: u32, index: Reg, value: Loc, out_of_bounds: Label) {
        self.table_element(table, index, out_of_bounds);
        self.store_to(Ty::I64, T3, 0, value);
    }

    fn func_ref(&mut self, dst: Reg, index: u32) {
        self.a.load(asm::Load::Ld, r(dst), VMCTX, vmctx::FUNCREFS);
        let offset = i64::from(index) * environ::FUNCREF_SIZE;
        self.a.add_imm(r(dst), r(dst), offset, T6);
    }

    fn jump(&mut self, label: Label) {
        self.a.jump(label);
    }

    fn branch(&mut self, reg: Reg, nonzero: bool, label: Label) {
        let cond = if nonzero { Cond::Ne } else { Cond::Eq };
        self.a.branch(cond, r(reg), ZERO, label);
    }

    fn compare_branch(&mut self, cc: IntCc, ty: Ty, lhs: Reg, rhs: Loc, label: Label) {
        let (a, b) = (r(lhs), self.rhs_reg(ty, rhs));
        // i32s are kept sign-extended, so 64-bit comparisons order them
        // right, signed and unsigned.
        let Some(o) = Order::of(cc) else {
            let cond = if cc == IntCc::Eq { Cond::Eq } else { Cond::Ne };
            self.a.branch(cond, a, b, label);
            return;
        };
        let cond = match (o.unsigned, o.negated) {
            (false, false) => Cond::Lt,
            (true, false) => Cond::Ltu,
            (false, true) => Cond::Ge,
            (true, true) => Cond::Geu,
        };
        let (x, y) = if o.swapped { (b, a) } else { (a, b) };
        self.a.branch(cond, x, y, label);
    }

    fn jump_table(&mut self, index: Reg, targets: &[Label], default: Label) {
        self.a.zext_w(T4, r(index));
        self.a.li(T5, targets.len() as u64);
        self.a.branch(Cond::Geu, T4, T5, default);
        let table = self.a.new_label();
        self.a.la(T6, table);
        self.a.alu_imm(Alu::Sll, Width::W64, T4, T4, 2);
        self.a.alu(Alu::Add, Width::W64, T5, T6, T4);
        self.a.load(asm::Load::Lw, T5, T5, 0);
        self.a.alu(Alu::Add, Width::W64, T6, T6, T5);
        self.a.jump_reg(T6);
        self.a.bind(table);
        let base = self.a.offset();
        for label in targets {
            self.a.table_entry(*label, base);
        }
    }

    fn trap(&mut self) -> u32 {
        self.a.trap()
    }

    fn prepare_table_call(&mut self, index: Loc, checks: &TableCall) {
        self.index_to_t4(index);
        self.a.load(asm::Load::Ld, ENTRY, VMCTX, vmctx::TABLES);
        self.load_from(asm::Load::Ld, ENTRY, ENTRY, 8 * i64::from(checks.table));
        self.a.load(asm::Load::Ld, T6, ENTRY, vm_table::LENGTH);
        self.a.branch(Cond::Geu, T4, T6, checks.undefined);
        self.a.load(asm::Load::Ld, ENTRY, ENTRY, vm_table::ELEMENTS);
        self.a.alu_imm(Alu::Sll, Width::W64, T4, T4, 3);
        self.a.alu(Alu::Add, Width::W64, ENTRY, ENTRY, T4);
        self.a.load(asm::Load::Ld, ENTRY, ENTRY, 0);
        self.a.branch(Cond::Eq, ENTRY, ZERO, checks.null);
        self.a.load(asm::Load::Ld, T6, ENTRY, funcref::SIGNATURE);
        self.a.li(T5, checks.signature);
        self.a.branch(Cond::Ne, T6, T5, checks.mismatch);
    }

    fn call(&mut self, callee: Callee) -> u32 {
        match callee {
            Callee::Direct => {
                self.a.mv(R::A0, VMCTX);
                self.a.call()
            }
            Callee::Import(index) => {
                self.a.load(asm::Load::Ld, ENTRY, VMCTX, vmctx::FUNCREFS);
                let offset = i64::from(index) * environ::FUNCREF_SIZE;
                self.a.add_imm(ENTRY, ENTRY, offset, T6);
                self.a.load(asm::Load::Ld, R::A0, ENTRY, funcref::VMCTX);
                self.a.load(asm::Load::Ld, T6, ENTRY, funcref::CODE);
                self.a.call_reg(T6);
                0
            }
            Callee::Table => {
                self.a.load(asm::Load::Ld, R::A0, ENTRY, funcref::VMCTX);
                self.a.load(asm::Load::Ld, T6, ENTRY, funcref::CODE);
                self.a.call_reg(T6);
                0
            }
            Callee::Builtin(index) => {
                self.a.mv(R::A0, VMCTX);
                self.a.load(asm::Load::Ld, T6, VMCTX, vmctx::BUILTINS);
                self.load_from(asm::Load::Ld, T6, T6, 8 * index as i64);
                self.a.call_reg(T6);
                0
            }
        }
    }

    fn branch_on_status(&mut self, label: Label) {
        self.a.branch(Cond::Ne, R::A0, ZERO, label);
    }
}
