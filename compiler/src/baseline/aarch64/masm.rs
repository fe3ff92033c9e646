//! The baseline compiler's macro-assembler for aarch64 (ARMv8.0).
//!
//! Frame (after the prologue):
//!
//! ```text
//! [x29 + 48 + 8 k]       incoming stack argument k
//! [x29 .. x29 + 48]      saved x29, x30, x19, x20 (vmctx), x21 (memory base)
//! [x19 + 8 k]            slot k (x19 = sp + the outgoing-argument area)
//! [sp + 8 k]             outgoing stack argument k
//! ```
//!
//! The operand stack uses x0-x7, x9-x14, v0-v7 and v16-v30; x8, x15, x16,
//! x17 and v31 are scratch. An i32 in a register is zero-extended (every
//! `w` instruction does that). aarch64 divides by zero without a trap and
//! its float-to-integer conversions saturate, so Wasm's traps are checked
//! explicitly; `fmin`/`fmax` and the `frint` family have Wasm's semantics.

use cranelift_codegen::binemit::Reloc;
use kiln_runtime::memory::PAGE_SIZE;

use super::asm::{
    self, AddSub, Assembler, Cond, FWidth, Imm12, Logic, Mem, Pair, Shift, Store, Width,
    mem_offset_fits,
};
use crate::baseline::masm::{
    ArgPlace, Callee, Count, Division, Extend, FReg, FloatCc, FloatOp, FloatUnary, Heap, IntCc,
    IntOp, Label, Load, Loc, MacroAssembler, Reg, ShiftOp, TableCall, Truncation, Ty,
    is_low_half_mask,
};
use crate::target::BoundsChecks;
use crate::translate::environ::{self, funcref, memory as vm_memory, table as vm_table, vmctx};

type R = asm::Reg;
type V = asm::VReg;

const ZR: R = asm::Reg::ZR;
const SP: R = asm::Reg::SP;
const X8: R = asm::Reg(8);
/// A table call's function reference, between `prepare_table_call` and
/// `call` (passing arguments uses x16 and x17 only).
const ENTRY: R = asm::Reg(15);
const X16: R = asm::Reg::X16;
const X17: R = asm::Reg::X17;
const V31: V = asm::VReg(31);
const SLOTS: R = asm::Reg(19);
const VMCTX: R = asm::Reg(20);
const MEMORY_BASE: R = asm::Reg(21);
const FP: R = asm::Reg::FP;
const LR: R = asm::Reg::LR;
/// Bytes the prologue saves (x29, x30, x19, x20, x21 and padding).
const SAVED: i32 = 48;

pub(crate) struct Aarch64 {
    a: Assembler,
    /// Instructions whose 12-bit immediates `finish_frame` fills in: the
    /// stack check's frame size (two), `sp`'s (two), `x19`'s (two).
    patches: [u32; 6],
    frame_too_large: bool,
}

fn cond(cc: IntCc) -> Cond {
    match cc {
        IntCc::Eq => Cond::Eq,
        IntCc::Ne => Cond::Ne,
        IntCc::LtS => Cond::Lt,
        IntCc::LtU => Cond::Lo,
        IntCc::GtS => Cond::Gt,
        IntCc::GtU => Cond::Hi,
        IntCc::LeS => Cond::Le,
        IntCc::LeU => Cond::Ls,
        IntCc::GeS => Cond::Ge,
        IntCc::GeU => Cond::Hs,
    }
}

fn r(reg: Reg) -> R {
    asm::Reg(reg.0)
}

fn v(reg: FReg) -> V {
    asm::VReg(reg.0)
}

fn w(ty: Ty) -> Width {
    if ty.is_64() { Width::W64 } else { Width::W32 }
}

fn fw(ty: Ty) -> FWidth {
    if ty.is_64() { FWidth::F64 } else { FWidth::F32 }
}

fn load_op(ty: Ty) -> asm::Load {
    if ty.is_64() {
        asm::Load::Ldr64
    } else {
        asm::Load::Ldr32
    }
}

fn store_op(ty: Ty) -> Store {
    if ty.is_64() {
        Store::Str64
    } else {
        Store::Str32
    }
}

fn log2_size(ty: Ty) -> u32 {
    if ty.is_64() { 3 } else { 2 }
}

fn slot(k: u32) -> i32 {
    8 * k as i32
}

impl Aarch64 {
    /// `[base + off]` for an access of `1 << log2` bytes, through x17 when
    /// the offset does not fit an instruction.
    fn mem(&mut self, base: R, off: i64, log2: u32) -> Mem {
        match i32::try_from(off) {
            Ok(o) if mem_offset_fits(log2, o) => Mem::Off(base, o),
            _ => {
                self.a.mov_imm(X17, off as u64);
                Mem::Index(base, X17)
            }
        }
    }

    /// Stores `value` (any location) to `m` with `ty`'s width (a constant or
    /// a slot through x16).
    fn store_to(&mut self, ty: Ty, m: Mem, value: Loc) {
        match value {
            Loc::Reg(x) => self.a.store(store_op(ty), r(x), m),
            Loc::FReg(x) => self.a.fstore(fw(ty), v(x), m),
            Loc::Imm(bits) => {
                let bits = if ty.is_64() { bits } else { bits & 0xFFFF_FFFF };
                let src = if bits == 0 {
                    ZR
                } else {
                    self.a.mov_imm(X16, bits);
                    X16
                };
                self.a.store(store_op(ty), src, m);
            }
            Loc::Slot(k) => {
                let from = self.mem(SLOTS, i64::from(slot(k)), 3);
                self.a.load(asm::Load::Ldr64, X16, from);
                self.a.store(store_op(ty), X16, m);
            }
        }
    }

    fn store_slot_at(&mut self, ty: Ty, k: u32, value: Loc) {
        // The slot's address may need x17; the value goes through x16.
        let m = self.mem(SLOTS, i64::from(slot(k)), log2_size(ty));
        self.store_to(ty, m, value);
    }

    /// The right operand of an integer instruction in a register (x16 for
    /// a constant).
    /// Sets the flags from `lhs - rhs`.
    fn cmp(&mut self, ty: Ty, lhs: Reg, rhs: Loc) {
        let (wd, a) = (w(ty), r(lhs));
        match rhs {
            Loc::Imm(bits) if let Some(i) = Imm12::new(bits) => self.a.cmp_imm(wd, a, i),
            _ => {
                let b = self.rhs_reg(ty, rhs);
                self.a.cmp(wd, a, b);
            }
        }
    }

    fn rhs_reg(&mut self, ty: Ty, rhs: Loc) -> R {
        match rhs {
            Loc::Reg(x) => r(x),
            Loc::Imm(0) => ZR,
            other => {
                self.load(ty, Reg(X16.0), other);
                X16
            }
        }
    }

    fn load_float_bits(&mut self, ty: Ty, dst: V, bits: u64) {
        let src = if bits == 0 {
            ZR
        } else {
            self.a.mov_imm(X16, bits);
            X16
        };
        self.a.fmov_from_gpr(w(ty), dst, src);
    }

    /// Zero-extends the i32 `index` (any location) into x8.
    fn index_to_x8(&mut self, index: Loc) {
        match index {
            Loc::Imm(bits) => self.a.mov_imm(X8, bits & 0xFFFF_FFFF),
            Loc::Reg(x) => self.a.mov(Width::W32, X8, r(x)),
            other => self.load(Ty::I32, Reg(X8.0), other),
        }
    }

    /// The operand of a linear-memory access at `index + offset`: with
    /// explicit checks, after comparing the access's end with the length.
    fn heap_operand(&mut self, heap: &Heap, index: Loc, offset: u64, size: u32, log2: u32) -> Mem {
        if let (BoundsChecks::Explicit, Some(oob)) = (heap.checks, heap.out_of_bounds) {
            self.index_to_x8(index);
            self.a
                .load(asm::Load::Ldr64, X16, Mem::Off(VMCTX, vmctx::MEMORY));
            self.a
                .load(asm::Load::Ldr64, X17, Mem::Off(X16, vm_memory::LENGTH));
            // length < end, or index > length - end: out of bounds.
            self.a.mov_imm(ENTRY, offset + u64::from(size));
            self.a.add_sub(AddSub::Subs, Width::W64, X17, X17, ENTRY);
            self.a.b_cond(Cond::Lo, oob);
            self.a.cmp(Width::W64, X8, X17);
            self.a.b_cond(Cond::Hi, oob);
            self.a
                .load(asm::Load::Ldr64, X16, Mem::Off(X16, vm_memory::BASE));
            self.a.add_sub(AddSub::Add, Width::W64, X16, X16, X8);
            return self.mem(X16, offset as i64, log2);
        }
        let index = match index {
            Loc::Imm(bits) => {
                // At most 2^32 + 2^31: inside the reservation either way.
                self.a.mov_imm(X16, (bits & 0xFFFF_FFFF) + offset);
                return Mem::Index(MEMORY_BASE, X16);
            }
            Loc::Reg(x) => r(x),
            other => {
                self.load(Ty::I32, Reg(X8.0), other);
                X8
            }
        };
        if offset == 0 {
            return Mem::Uxtw(MEMORY_BASE, index);
        }
        self.a.add_uxtw(X16, MEMORY_BASE, index);
        self.mem(X16, offset as i64, log2)
    }

    /// The operand of element `index` (an i32 register) of `table`, after
    /// the bounds check (x17 the elements, x8 the index).
    fn table_element(&mut self, table: u32, index: Reg, out_of_bounds: Label) -> Mem {
        self.a
            .load(asm::Load::Ldr64, X17, Mem::Off(VMCTX, vmctx::TABLES));
        let m = self.mem(X17, 8 * i64::from(table), 3);
        self.a.load(asm::Load::Ldr64, X17, m);
        self.a
            .load(asm::Load::Ldr64, X16, Mem::Off(X17, vm_table::LENGTH));
        self.a.mov(Width::W32, X8, r(index));
        self.a.cmp(Width::W64, X8, X16);
        self.a.b_cond(Cond::Hs, out_of_bounds);
        self.a
            .load(asm::Load::Ldr64, X17, Mem::Off(X17, vm_table::ELEMENTS));
        Mem::Lsl(X17, X8)
    }

    /// x17 = global `index`'s cell.
    fn global_cell(&mut self, index: u32) {
        self.a
            .load(asm::Load::Ldr64, X17, Mem::Off(VMCTX, vmctx::GLOBALS));
        let m = match mem_offset_fits(3, 8 * index as i32) {
            true => Mem::Off(X17, 8 * index as i32),
            false => {
                self.a.mov_imm(X16, 8 * u64::from(index));
                Mem::Index(X17, X16)
            }
        };
        self.a.load(asm::Load::Ldr64, X17, m);
    }

    /// `d = n + imm` for any 64-bit constant (through x16).
    fn add_imm(&mut self, d: R, n: R, imm: u64) {
        match Imm12::new(imm) {
            Some(i) => self.a.add_sub_imm(AddSub::Add, Width::W64, d, n, i),
            None => {
                self.a.mov_imm(X16, imm);
                self.a.add_sub(AddSub::Add, Width::W64, d, n, X16);
            }
        }
    }

    /// Emits `add`/`sub d, n, #hi, lsl 12` + `#lo` with zero immediates;
    /// returns their offsets for `finish_frame`.
    fn patchable_add(&mut self, op: AddSub, d: R, n: R) -> (u32, u32) {
        let high = self.a.offset();
        self.a.add_sub_imm(op, Width::W64, d, n, Imm12::ZERO);
        let low = self.a.offset();
        self.a.add_sub_imm(op, Width::W64, d, d, Imm12::ZERO);
        (high, low)
    }

    /// Fills in a `patchable_add` pair; a frame of 16 MiB or more makes
    /// `finish` decline the function.
    fn patch_add(&mut self, at: (u32, u32), v: u32) {
        match Imm12::split(v) {
            Some((high, low)) => {
                self.a.patch_imm12(at.0, high);
                self.a.patch_imm12(at.1, low);
            }
            None => self.frame_too_large = true,
        }
    }
}

impl MacroAssembler for Aarch64 {
    const GPRS: &'static [Reg] = &[
        Reg(0),
        Reg(1),
        Reg(2),
        Reg(3),
        Reg(4),
        Reg(5),
        Reg(6),
        Reg(7),
        Reg(9),
        Reg(10),
        Reg(11),
        Reg(12),
        Reg(13),
        Reg(14),
    ];
    const FPRS: &'static [FReg] = &[
        FReg(0),
        FReg(1),
        FReg(2),
        FReg(3),
        FReg(4),
        FReg(5),
        FReg(6),
        FReg(7),
        FReg(16),
        FReg(17),
        FReg(18),
        FReg(19),
        FReg(20),
        FReg(21),
        FReg(22),
        FReg(23),
        FReg(24),
        FReg(25),
        FReg(26),
        FReg(27),
        FReg(28),
        FReg(29),
        FReg(30),
    ];
    // x22-x28 (x19-x21 hold the slots' base, the vmctx and the memory base).
    const PINNED: &'static [Reg] = &[
        Reg(22),
        Reg(23),
        Reg(24),
        Reg(25),
        Reg(26),
        Reg(27),
        Reg(28),
    ];
    const DIVISION: Option<(Reg, Reg)> = None;
    const SHIFT_COUNT: Option<Reg> = None;
    const RESULT: Reg = Reg(0);
    const FLOAT_RESULT: FReg = FReg(0);
    /// x1-x7 (x0 is the vmctx); v0-v7.
    const INT_ARGS: &'static [Reg] = &[Reg(1), Reg(2), Reg(3), Reg(4), Reg(5), Reg(6), Reg(7)];
    const FLOAT_ARGS: &'static [FReg] = &[
        FReg(0),
        FReg(1),
        FReg(2),
        FReg(3),
        FReg(4),
        FReg(5),
        FReg(6),
        FReg(7),
    ];

    fn new(capacity: usize, _isa_flags: &[String]) -> Aarch64 {
        Aarch64 {
            a: Assembler::with_capacity(capacity),
            patches: [0; 6],
            frame_too_large: false,
        }
    }

    fn finish(self) -> Result<Vec<u8>, &'static str> {
        if self.frame_too_large {
            return Err("frame of 16 MiB or more");
        }
        self.a.finish()
    }

    fn new_label(&mut self) -> Label {
        self.a.new_label()
    }

    fn bind(&mut self, label: Label) {
        self.a.bind(label);
    }

    fn call_reloc() -> (u32, Reloc, i64) {
        (0, Reloc::Arm64Call, 0)
    }

    fn prologue(&mut self, params: &[Ty], memory_base: bool, overflow: Label) -> u32 {
        // sp - (saved + frame) must not go below vmctx.stack_limit.
        self.a.load(
            asm::Load::Ldr64,
            X16,
            Mem::Off(asm::Reg::X0, vmctx::STACK_LIMIT),
        );
        let (h, l) = self.patchable_add(AddSub::Add, X16, X16);
        self.patches[0] = h;
        self.patches[1] = l;
        self.a.mov_sp(X17, SP);
        self.a.cmp(Width::W64, X17, X16);
        self.a.b_cond(Cond::Lo, overflow);
        self.a.stp(Pair::PreIndex, FP, LR, SP, -SAVED);
        self.a.mov_sp(FP, SP);
        self.a.stp(Pair::Offset, SLOTS, VMCTX, SP, 16);
        self.a.store(Store::Str64, MEMORY_BASE, Mem::Off(SP, 32));
        let (h, l) = self.patchable_add(AddSub::Sub, SP, SP);
        self.patches[2] = h;
        self.patches[3] = l;
        let (h, l) = self.patchable_add(AddSub::Add, SLOTS, SP);
        self.patches[4] = h;
        self.patches[5] = l;
        self.a.mov(Width::W64, VMCTX, asm::Reg::X0);
        if memory_base {
            self.a.load(
                asm::Load::Ldr64,
                MEMORY_BASE,
                Mem::Off(VMCTX, vmctx::MEMORY),
            );
            self.a.load(
                asm::Load::Ldr64,
                MEMORY_BASE,
                Mem::Off(MEMORY_BASE, vm_memory::BASE),
            );
        }
        for (k, (ty, place)) in params.iter().zip(Self::arg_places(params)).enumerate() {
            let k = k as u32;
            match place {
                ArgPlace::Reg(x) => self.store_slot_at(*ty, k, Loc::Reg(x)),
                ArgPlace::FReg(x) => self.store_slot_at(*ty, k, Loc::FReg(x)),
                ArgPlace::Stack(j) => {
                    let m = self.mem(FP, i64::from(SAVED) + 8 * j as i64, 3);
                    self.a.load(asm::Load::Ldr64, X16, m);
                    self.store_slot_at(Ty::I64, k, Loc::Reg(Reg(X16.0)));
                }
            }
        }
        0
    }

    fn finish_frame(&mut self, _patch: u32, slots: usize, outgoing: usize) {
        let bytes = (slots + outgoing) as u32 * 8;
        let frame = (bytes + 15) & !15;
        self.patch_add((self.patches[0], self.patches[1]), SAVED as u32 + frame);
        self.patch_add((self.patches[2], self.patches[3]), frame);
        self.patch_add((self.patches[4], self.patches[5]), outgoing as u32 * 8);
    }

    fn epilogue(&mut self) {
        self.a.mov_sp(SP, FP);
        self.a.ldp(Pair::Offset, SLOTS, VMCTX, SP, 16);
        self.a.load(asm::Load::Ldr64, MEMORY_BASE, Mem::Off(SP, 32));
        self.a.ldp(Pair::PostIndex, FP, LR, SP, SAVED);
        self.a.ret();
    }

    fn zero_slots(&mut self, from: usize, to: usize) {
        for k in from..to {
            self.store_slot_at(Ty::I64, k as u32, Loc::Imm(0));
        }
    }

    fn load(&mut self, ty: Ty, dst: Reg, from: Loc) {
        match from {
            Loc::Reg(x) if x == dst => {}
            Loc::Reg(x) => self.a.mov(Width::W64, r(dst), r(x)),
            Loc::Imm(bits) => {
                let bits = if ty.is_64() { bits } else { bits & 0xFFFF_FFFF };
                self.a.mov_imm(r(dst), bits);
            }
            Loc::Slot(k) => {
                let m = self.mem(SLOTS, i64::from(slot(k)), log2_size(ty));
                self.a.load(load_op(ty), r(dst), m);
            }
            Loc::FReg(x) => self.a.fmov_to_gpr(w(ty), r(dst), v(x)),
        }
    }

    fn load_float(&mut self, ty: Ty, dst: FReg, from: Loc) {
        match from {
            Loc::FReg(x) if x == dst => {}
            Loc::FReg(x) => self
                .a
                .float_unary(asm::FloatUnary::Mov, fw(ty), v(dst), v(x)),
            Loc::Imm(bits) => self.load_float_bits(ty, v(dst), bits),
            Loc::Slot(k) => {
                let m = self.mem(SLOTS, i64::from(slot(k)), log2_size(ty));
                self.a.fload(fw(ty), v(dst), m);
            }
            Loc::Reg(x) => self.a.fmov_from_gpr(w(ty), v(dst), r(x)),
        }
    }

    fn store_slot(&mut self, ty: Ty, k: u32, value: Loc) {
        if value != Loc::Slot(k) {
            self.store_slot_at(ty, k, value);
        }
    }

    fn store_argument(&mut self, ty: Ty, k: usize, value: Loc) {
        let m = self.mem(SP, 8 * k as i64, log2_size(ty));
        self.store_to(ty, m, value);
    }

    fn canonical_i32(&mut self, reg: Reg) {
        self.a.mov(Width::W32, r(reg), r(reg));
    }

    fn zero_extend_i32(&mut self, _reg: Reg) {
        // Canonical i32s are zero-extended already.
    }

    fn int_op(&mut self, op: IntOp, ty: Ty, dst: Reg, rhs: Loc) {
        self.int_op_from(op, ty, dst, dst, rhs);
    }

    fn int_op_from(&mut self, op: IntOp, ty: Ty, dst: Reg, src: Reg, rhs: Loc) {
        let (wd, d, s) = (w(ty), r(dst), r(src));
        if is_low_half_mask(op, ty, rhs) {
            // A 32-bit move clears the upper half: no mask to build.
            self.a.mov(Width::W32, d, s);
            return;
        }
        if let (Loc::Imm(bits), IntOp::Add | IntOp::Sub) = (rhs, op) {
            let (bits, mask) = match ty.is_64() {
                true => (bits, u64::MAX),
                false => (bits & 0xFFFF_FFFF, 0xFFFF_FFFF),
            };
            let negated = bits.wrapping_neg() & mask;
            let (add, sub) = (AddSub::Add, AddSub::Sub);
            let (direct, inverse) = if op == IntOp::Add {
                (add, sub)
            } else {
                (sub, add)
            };
            if let Some(i) = Imm12::new(bits) {
                return self.a.add_sub_imm(direct, wd, d, s, i);
            }
            if let Some(i) = Imm12::new(negated) {
                return self.a.add_sub_imm(inverse, wd, d, s, i);
            }
        }
        let b = self.rhs_reg(ty, rhs);
        match op {
            IntOp::Add => self.a.add_sub(AddSub::Add, wd, d, s, b),
            IntOp::Sub => self.a.add_sub(AddSub::Sub, wd, d, s, b),
            IntOp::Mul => self.a.mul(wd, d, s, b),
            IntOp::And => self.a.logic(Logic::And, wd, d, s, b),
            IntOp::Or => self.a.logic(Logic::Orr, wd, d, s, b),
            IntOp::Xor => self.a.logic(Logic::Eor, wd, d, s, b),
        }
    }

    fn shift(&mut self, op: ShiftOp, ty: Ty, dst: Reg, count: Loc) {
        self.shift_from(op, ty, dst, dst, count);
    }

    fn shift_from(&mut self, op: ShiftOp, ty: Ty, dst: Reg, src: Reg, count: Loc) {
        let (wd, d, s, bits) = (w(ty), r(dst), r(src), u32::from(ty.bits()));
        if let Loc::Imm(c) = count {
            let c = c as u32 & (bits - 1);
            let (shift, amount) = match op {
                ShiftOp::Shl => (Shift::Lsl, c),
                ShiftOp::ShrS => (Shift::Asr, c),
                ShiftOp::ShrU => (Shift::Lsr, c),
                ShiftOp::Rotr => (Shift::Ror, c),
                ShiftOp::Rotl => (Shift::Ror, (bits - c) & (bits - 1)),
            };
            return self.a.shift_imm(shift, wd, d, s, amount);
        }
        // lslv and friends use the count modulo the width, as Wasm does.
        let c = self.rhs_reg(ty, count);
        match op {
            ShiftOp::Shl => self.a.shift(Shift::Lsl, wd, d, s, c),
            ShiftOp::ShrS => self.a.shift(Shift::Asr, wd, d, s, c),
            ShiftOp::ShrU => self.a.shift(Shift::Lsr, wd, d, s, c),
            ShiftOp::Rotr => self.a.shift(Shift::Ror, wd, d, s, c),
            ShiftOp::Rotl => {
                // Rotating left by c is rotating right by -c.
                self.a.add_sub(AddSub::Sub, wd, X17, ZR, c);
                self.a.shift(Shift::Ror, wd, d, s, X17);
            }
        }
    }

    fn compare(&mut self, cc: IntCc, ty: Ty, dst: Reg, rhs: Loc) {
        self.compare_from(cc, ty, dst, dst, rhs);
    }

    fn compare_from(&mut self, cc: IntCc, ty: Ty, dst: Reg, src: Reg, rhs: Loc) {
        self.cmp(ty, src, rhs);
        self.a.cset(Width::W32, r(dst), cond(cc));
    }

    fn eqz(&mut self, ty: Ty, reg: Reg) {
        self.a.cmp_imm(w(ty), r(reg), Imm12::ZERO);
        self.a.cset(Width::W32, r(reg), Cond::Eq);
    }

    /// aarch64 divides by zero giving 0 and `MIN / -1` giving `MIN`; Wasm
    /// traps on both. `MIN % -1` is 0 through `msub` as Wasm wants.
    fn divide(&mut self, division: &Division, dst: Reg, divisor: Reg) {
        let Division {
            ty,
            signed,
            remainder,
            by_zero,
            overflow,
        } = *division;
        let (wd, a, b) = (w(ty), r(dst), r(divisor));
        self.a.cbz(wd, b, by_zero);
        if signed && !remainder {
            let ok = self.a.new_label();
            // divisor == -1?
            self.a.cmn_imm(wd, b, Imm12::ONE);
            self.a.b_cond(Cond::Ne, ok);
            let min = if ty.is_64() {
                i64::MIN as u64
            } else {
                0x8000_0000
            };
            self.a.mov_imm(X16, min);
            self.a.cmp(wd, a, X16);
            self.a.b_cond(Cond::Eq, overflow);
            self.a.bind(ok);
        }
        if remainder {
            self.a.div(signed, wd, X16, a, b);
            self.a.msub(wd, a, X16, b, a);
        } else {
            self.a.div(signed, wd, a, a, b);
        }
    }

    fn count(&mut self, what: Count, ty: Ty, dst: Reg, src: Reg) {
        let (wd, d, s) = (w(ty), r(dst), r(src));
        match what {
            Count::LeadingZeros => self.a.clz(wd, d, s),
            Count::TrailingZeros => {
                self.a.rbit(wd, X16, s);
                self.a.clz(wd, d, X16);
            }
            Count::Ones => {
                self.a.fmov_from_gpr(wd, V31, s);
                self.a.cnt_8b(V31, V31);
                self.a.addv_8b(V31, V31);
                self.a.fmov_to_gpr(Width::W32, d, V31);
            }
        }
    }

    fn extend(&mut self, how: Extend, reg: Reg) {
        let x = r(reg);
        match how {
            Extend::Wrap => self.a.mov(Width::W32, x, x),
            // Canonical i32s are zero-extended: already an i64.
            Extend::I32U => {}
            Extend::I32S | Extend::Low32 => self.a.sxt(Width::W64, x, x, 32),
            // A `w` destination zero-extends, keeping i32s canonical.
            Extend::Low8(ty) => self.a.sxt(w(ty), x, x, 8),
            Extend::Low16(ty) => self.a.sxt(w(ty), x, x, 16),
        }
    }

    fn select(&mut self, _ty: Ty, cond: Reg, dst: Reg, other: Reg) {
        self.a.cmp_imm(Width::W32, r(cond), Imm12::ZERO);
        self.a.csel(Width::W64, r(dst), r(dst), r(other), Cond::Ne);
    }

    fn select_float(&mut self, ty: Ty, cond: Reg, dst: FReg, other: FReg) {
        self.a.cmp_imm(Width::W32, r(cond), Imm12::ZERO);
        self.a.fcsel(fw(ty), v(dst), v(dst), v(other), Cond::Ne);
    }

    fn float_op(&mut self, op: FloatOp, ty: Ty, dst: FReg, rhs: FReg) {
        let (f, a, b) = (fw(ty), v(dst), v(rhs));
        let op = match op {
            FloatOp::Add => asm::FloatOp::Add,
            FloatOp::Sub => asm::FloatOp::Sub,
            FloatOp::Mul => asm::FloatOp::Mul,
            FloatOp::Div => asm::FloatOp::Div,
            // fmin/fmax: NaN-propagating, -0 below +0, as Wasm.
            FloatOp::Min => asm::FloatOp::Min,
            FloatOp::Max => asm::FloatOp::Max,
            FloatOp::Copysign => {
                let (wd, sign) = (w(ty), u32::from(ty.bits()) - 1);
                self.a.fmov_to_gpr(wd, X16, a);
                self.a.fmov_to_gpr(wd, X17, b);
                // Clear a's sign bit; keep only b's.
                self.a.shift_imm(Shift::Lsl, wd, X16, X16, 1);
                self.a.shift_imm(Shift::Lsr, wd, X16, X16, 1);
                self.a.shift_imm(Shift::Lsr, wd, X17, X17, sign);
                self.a.shift_imm(Shift::Lsl, wd, X17, X17, sign);
                self.a.logic(Logic::Orr, wd, X16, X16, X17);
                self.a.fmov_from_gpr(wd, a, X16);
                return;
            }
        };
        self.a.float_op(op, f, a, a, b);
    }

    fn float_unary(&mut self, op: FloatUnary, ty: Ty, reg: FReg) {
        let op = match op {
            FloatUnary::Sqrt => asm::FloatUnary::Sqrt,
            FloatUnary::Ceil => asm::FloatUnary::Frintp,
            FloatUnary::Floor => asm::FloatUnary::Frintm,
            FloatUnary::Trunc => asm::FloatUnary::Frintz,
            FloatUnary::Nearest => asm::FloatUnary::Frintn,
            FloatUnary::Abs => asm::FloatUnary::Abs,
            FloatUnary::Neg => asm::FloatUnary::Neg,
        };
        self.a.float_unary(op, fw(ty), v(reg), v(reg));
    }

    fn float_compare(&mut self, cc: FloatCc, ty: Ty, dst: Reg, a: FReg, b: FReg) {
        self.a.fcmp(fw(ty), v(a), v(b));
        // False on NaN (unordered sets C and V), except ne.
        let cond = match cc {
            FloatCc::Eq => Cond::Eq,
            FloatCc::Ne => Cond::Ne,
            FloatCc::Lt => Cond::Mi,
            FloatCc::Gt => Cond::Gt,
            FloatCc::Le => Cond::Ls,
            FloatCc::Ge => Cond::Ge,
        };
        self.a.cset(Width::W32, r(dst), cond);
    }

    fn int_to_float(&mut self, signed: bool, from: Ty, to: Ty, dst: FReg, src: Reg) {
        self.a.int_to_float(signed, w(from), fw(to), v(dst), r(src));
    }

    fn float_to_float(&mut self, to: Ty, reg: FReg) {
        self.a.fcvt(fw(to), v(reg), v(reg));
    }

    /// `fcvtzs`/`fcvtzu` saturate, NaN to 0: exactly Wasm's saturating
    /// truncations; the trapping ones check NaN and the range first.
    fn truncate(&mut self, truncation: &Truncation, dst: Reg, src: FReg) {
        let Truncation {
            signed,
            saturating,
            from,
            to,
            invalid,
            overflow,
        } = *truncation;
        let (f, x) = (fw(from), v(src));
        if !saturating {
            self.a.fcmp(f, x, x);
            self.a.b_cond(Cond::Vs, invalid);
            let (low, low_out, high) = truncation.bounds();
            let below = if low_out { Cond::Ls } else { Cond::Mi };
            self.load_float_bits(from, V31, low);
            self.a.fcmp(f, x, V31);
            self.a.b_cond(below, overflow);
            self.load_float_bits(from, V31, high);
            self.a.fcmp(f, x, V31);
            self.a.b_cond(Cond::Ge, overflow);
        }
        self.a.float_to_int(signed, w(to), f, r(dst), x);
    }

    fn bits_to_int(&mut self, ty: Ty, dst: Reg, src: FReg) {
        self.a.fmov_to_gpr(w(ty), r(dst), v(src));
    }

    fn bits_to_float(&mut self, ty: Ty, dst: FReg, src: Reg) {
        self.a.fmov_from_gpr(w(ty), v(dst), r(src));
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
        let (size, op) = match (kind, ty.is_64()) {
            (Load::Plain, _) => (ty.bits() / 8, load_op(ty)),
            (Load::Unsigned(1), _) => (1, asm::Load::Ldrb),
            (Load::Unsigned(2), _) => (2, asm::Load::Ldrh),
            (Load::Unsigned(_), _) => (4, asm::Load::Ldr32),
            (Load::Signed(1), false) => (1, asm::Load::Ldrsb32),
            (Load::Signed(1), true) => (1, asm::Load::Ldrsb64),
            (Load::Signed(2), false) => (2, asm::Load::Ldrsh32),
            (Load::Signed(2), true) => (2, asm::Load::Ldrsh64),
            (Load::Signed(_), _) => (4, asm::Load::Ldrsw),
        };
        let m = self.heap_operand(heap, index, offset, u32::from(size), size.trailing_zeros());
        let at = self.a.offset();
        match dst {
            Loc::FReg(x) => self.a.fload(fw(ty), v(x), m),
            Loc::Reg(x) => self.a.load(op, r(x), m),
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
        let m = self.heap_operand(
            heap,
            index,
            offset,
            u32::from(bytes),
            bytes.trailing_zeros(),
        );
        let op = match bytes {
            1 => Store::Strb,
            2 => Store::Strh,
            4 => Store::Str32,
            _ => Store::Str64,
        };
        // x16 and x17 may be in the operand; a constant goes through x8
        // (the index's copy is in the address by now).
        let src = match value {
            Loc::Reg(x) => r(x),
            Loc::Imm(0) => ZR,
            Loc::Imm(bits) => {
                self.a.mov_imm(X8, bits);
                X8
            }
            Loc::FReg(x) => {
                let at = self.a.offset();
                self.a.fstore(fw(ty), v(x), m);
                return at;
            }
            // The compiler hands over registers and constants.
            Loc::Slot(_) => ZR,
        };
        let at = self.a.offset();
        self.a.store(op, src, m);
        at
    }

    fn memory_size(&mut self, dst: Reg) {
        self.a
            .load(asm::Load::Ldr64, X16, Mem::Off(VMCTX, vmctx::MEMORY));
        self.a
            .load(asm::Load::Ldr64, r(dst), Mem::Off(X16, vm_memory::LENGTH));
        self.a.shift_imm(
            Shift::Lsr,
            Width::W64,
            r(dst),
            r(dst),
            PAGE_SIZE.trailing_zeros(),
        );
    }

    fn global_get(&mut self, ty: Ty, dst: Loc, index: u32) {
        self.global_cell(index);
        match dst {
            Loc::FReg(x) => self.a.fload(fw(ty), v(x), Mem::Off(X17, 0)),
            Loc::Reg(x) => self.a.load(load_op(ty), r(x), Mem::Off(X17, 0)),
            _ => {}
        }
    }

    fn global_set(&mut self, ty: Ty, index: u32, value: Loc) {
        self.global_cell(index);
        self.store_to(ty, Mem::Off(X17, 0), value);
    }

    fn table_size(&mut self, dst: Reg, table: u32) {
        self.a
            .load(asm::Load::Ldr64, X17, Mem::Off(VMCTX, vmctx::TABLES));
        let m = self.mem(X17, 8 * i64::from(table), 3);
        self.a.load(asm::Load::Ldr64, X17, m);
        self.a
            .load(asm::Load::Ldr32, r(dst), Mem::Off(X17, vm_table::LENGTH));
    }

    fn table_get(&mut self, table: u32, index: Reg, out_of_bounds: Label) {
        let m = self.table_element(table, index, out_of_bounds);
        self.a.load(asm::Load::Ldr64, r(index), m);
    }

    fn table_set(&mut self, table: u32, index: Reg, value: Loc, out_of_bounds: Label) {
        let m = self.table_element(table, index, out_of_bounds);
        self.store_to(Ty::I64, m, value);
    }

    fn func_ref(&mut self, dst: Reg, index: u32) {
        self.a
            .load(asm::Load::Ldr64, r(dst), Mem::Off(VMCTX, vmctx::FUNCREFS));
        let offset = i64::from(index) * environ::FUNCREF_SIZE;
        self.add_imm(r(dst), r(dst), offset as u64);
    }

    fn jump(&mut self, label: Label) {
        self.a.b(label);
    }

    fn branch(&mut self, reg: Reg, nonzero: bool, label: Label) {
        if nonzero {
            self.a.cbnz(Width::W32, r(reg), label);
        } else {
            self.a.cbz(Width::W32, r(reg), label);
        }
    }

    fn compare_branch(&mut self, cc: IntCc, ty: Ty, lhs: Reg, rhs: Loc, label: Label) {
        self.cmp(ty, lhs, rhs);
        self.a.b_cond(cond(cc), label);
    }

    fn jump_table(&mut self, index: Reg, targets: &[Label], default: Label) {
        self.a.mov(Width::W32, X8, r(index));
        let n = targets.len() as u64;
        match Imm12::new(n) {
            Some(i) => self.a.cmp_imm(Width::W32, X8, i),
            None => {
                self.a.mov_imm(X16, n);
                self.a.cmp(Width::W32, X8, X16);
            }
        }
        self.a.b_cond(Cond::Hs, default);
        let table = self.a.new_label();
        self.a.adr(X16, table);
        self.a.load(asm::Load::Ldrsw, X17, Mem::UxtwScaled(X16, X8));
        self.a.add_sub(AddSub::Add, Width::W64, X16, X16, X17);
        self.a.br(X16);
        self.a.bind(table);
        let base = self.a.offset();
        for label in targets {
            self.a.table_entry(*label, base);
        }
    }

    fn trap(&mut self) -> u32 {
        let at = self.a.offset();
        self.a.udf(0);
        at
    }

    fn prepare_table_call(&mut self, index: Loc, checks: &TableCall) {
        self.index_to_x8(index);
        self.a
            .load(asm::Load::Ldr64, ENTRY, Mem::Off(VMCTX, vmctx::TABLES));
        let m = self.mem(ENTRY, 8 * i64::from(checks.table), 3);
        self.a.load(asm::Load::Ldr64, ENTRY, m);
        self.a
            .load(asm::Load::Ldr64, X16, Mem::Off(ENTRY, vm_table::LENGTH));
        self.a.cmp(Width::W64, X8, X16);
        self.a.b_cond(Cond::Hs, checks.undefined);
        self.a
            .load(asm::Load::Ldr64, ENTRY, Mem::Off(ENTRY, vm_table::ELEMENTS));
        self.a.load(asm::Load::Ldr64, ENTRY, Mem::Lsl(ENTRY, X8));
        self.a.cbz(Width::W64, ENTRY, checks.null);
        self.a
            .load(asm::Load::Ldr64, X16, Mem::Off(ENTRY, funcref::SIGNATURE));
        self.a.mov_imm(X17, checks.signature);
        self.a.cmp(Width::W64, X16, X17);
        self.a.b_cond(Cond::Ne, checks.mismatch);
    }

    fn call(&mut self, callee: Callee) -> u32 {
        match callee {
            Callee::Direct => {
                self.a.mov(Width::W64, asm::Reg::X0, VMCTX);
                self.a.call()
            }
            Callee::Import(index) => {
                self.a
                    .load(asm::Load::Ldr64, ENTRY, Mem::Off(VMCTX, vmctx::FUNCREFS));
                let offset = i64::from(index) * environ::FUNCREF_SIZE;
                self.add_imm(ENTRY, ENTRY, offset as u64);
                self.a.load(
                    asm::Load::Ldr64,
                    asm::Reg::X0,
                    Mem::Off(ENTRY, funcref::VMCTX),
                );
                self.a
                    .load(asm::Load::Ldr64, X16, Mem::Off(ENTRY, funcref::CODE));
                self.a.blr(X16);
                0
            }
            Callee::Table => {
                self.a.load(
                    asm::Load::Ldr64,
                    asm::Reg::X0,
                    Mem::Off(ENTRY, funcref::VMCTX),
                );
                self.a
                    .load(asm::Load::Ldr64, X16, Mem::Off(ENTRY, funcref::CODE));
                self.a.blr(X16);
                0
            }
            Callee::Builtin(index) => {
                self.a.mov(Width::W64, asm::Reg::X0, VMCTX);
                self.a
                    .load(asm::Load::Ldr64, X16, Mem::Off(VMCTX, vmctx::BUILTINS));
                let m = self.mem(X16, 8 * index as i64, 3);
                self.a.load(asm::Load::Ldr64, X16, m);
                self.a.blr(X16);
                0
            }
        }
    }

    fn branch_on_status(&mut self, label: Label) {
        self.a.cbnz(Width::W64, asm::Reg::X0, label);
    }
}
