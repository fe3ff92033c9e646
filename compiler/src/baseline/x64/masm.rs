//! The baseline compiler's macro-assembler for x86_64.
//!
//! Frame (after the prologue):
//!
//! ```text
//! [rbp + 16 + 8 k]       incoming stack argument k
//! [rbp + 8]              return address
//! [rbp]                  caller's rbp
//! [rbp - 8], [rbp - 16]  saved r14 (vmctx), r15 (memory base)
//! [rbp - 24 - 8 k]       slot k
//! [rsp + 8 k]            outgoing stack argument k
//! ```
//!
//! The operand stack uses rax, rcx, rdx, rsi, rdi, r8, r9 and xmm0-14; r10,
//! r11 and xmm15 are scratch. An i32 in a register is zero-extended (every
//! 32-bit instruction does that). Division needs rax and rdx and a variable
//! shift count cl, which the compiler arranges (DIVISION, SHIFT_COUNT).

use cranelift_codegen::binemit::Reloc;
use kiln_runtime::memory::PAGE_SIZE;

use super::asm::{Alu, Assembler, Bits, Cond, Gpr, Mem, Shift, Sse, Unary, Width, Xmm};
use crate::baseline::masm::{
    ArgPlace, Callee, Count, Division, Extend, FReg, FloatCc, FloatOp, FloatUnary, Heap, IntCc,
    IntOp, Label, Load, Loc, MacroAssembler, Reg, ShiftOp, TableCall, Truncation, Ty,
    is_low_half_mask,
};
use crate::target::BoundsChecks;
use crate::translate::environ::{self, funcref, memory as vm_memory, table as vm_table, vmctx};

const SCRATCH: Gpr = Gpr::R11;
/// Holds a table call's function reference, a global's cell, and with
/// explicit bounds checks the memory's base.
const SCRATCH2: Gpr = Gpr::R10;
const SCRATCH_XMM: Xmm = Xmm(15);
const VMCTX: Gpr = Gpr::R14;
const MEMORY_BASE: Gpr = Gpr::R15;
/// Bytes the prologue pushes below the return address (rbp, r14, r15).
const PUSHED: i32 = 24;

pub(crate) struct X64 {
    a: Assembler,
    /// The `sub rsp, imm32` of the prologue, patched with the frame size.
    frame_size_at: u32,
}

fn gpr(r: Reg) -> Gpr {
    Gpr(r.0)
}

fn xmm(f: FReg) -> Xmm {
    Xmm(f.0)
}

fn width(ty: Ty) -> Width {
    if ty.is_64() { Width::W64 } else { Width::W32 }
}

fn slot_mem(k: u32) -> Mem {
    Mem::at(Gpr::RBP, -(PUSHED + 8 * k as i32))
}

/// A constant as an instruction's 32-bit immediate, when it fits (32-bit
/// operations use the low 32 bits; 64-bit ones sign-extend).
fn imm32(ty: Ty, bits: u64) -> Option<i32> {
    match ty.is_64() {
        false => Some(bits as u32 as i32),
        true => i32::try_from(bits as i64).ok(),
    }
}

fn cond(cc: IntCc) -> Cond {
    match cc {
        IntCc::Eq => Cond::E,
        IntCc::Ne => Cond::Ne,
        IntCc::LtS => Cond::L,
        IntCc::LtU => Cond::B,
        IntCc::GtS => Cond::G,
        IntCc::GtU => Cond::A,
        IntCc::LeS => Cond::Le,
        IntCc::LeU => Cond::Be,
        IntCc::GeS => Cond::Ge,
        IntCc::GeU => Cond::Ae,
    }
}

impl X64 {
    /// Stores `value` (any location) to `m` with `ty`'s width.
    fn store_to(&mut self, ty: Ty, m: Mem, value: Loc) {
        match value {
            Loc::Reg(r) => self.a.store(width(ty), m, gpr(r)),
            Loc::FReg(f) => self.a.movs_store(ty.is_64(), m, xmm(f)),
            Loc::Imm(bits) => match imm32(ty, bits) {
                Some(imm) => self.a.store_imm(width(ty), m, imm),
                None => {
                    self.a.mov_imm(SCRATCH, bits);
                    self.a.store(Width::W64, m, SCRATCH);
                }
            },
            Loc::Slot(k) => {
                self.a.load(Width::W64, SCRATCH, slot_mem(k));
                self.a.store(width(ty), m, SCRATCH);
            }
        }
    }

    /// The right operand of an integer instruction as a register (r11
    /// for a constant that does not fit an immediate).
    /// Sets the flags from `lhs - rhs`.
    fn cmp(&mut self, ty: Ty, lhs: Reg, rhs: Loc) {
        let (w, a) = (width(ty), gpr(lhs));
        match rhs {
            Loc::Imm(bits) if let Some(imm) = imm32(ty, bits) => self.a.alu_ri(Alu::Cmp, w, a, imm),
            _ => {
                let b = self.rhs_reg(ty, rhs);
                self.a.alu_rr(Alu::Cmp, w, a, b);
            }
        }
    }

    fn rhs_reg(&mut self, ty: Ty, rhs: Loc) -> Gpr {
        match rhs {
            Loc::Reg(r) => gpr(r),
            other => {
                self.load(ty, Reg(SCRATCH.0), other);
                SCRATCH
            }
        }
    }

    /// The operand of a linear-memory access at `index + offset` (`size`
    /// bytes): with explicit checks, after comparing its end with the
    /// memory's length (r10 then holds the base and r11 the index).
    fn heap_operand(&mut self, heap: &Heap, index: Loc, offset: u64, size: u32) -> Mem {
        let offset32 = offset as i32;
        if let (Some(label), BoundsChecks::Explicit) = (heap.out_of_bounds, heap.checks) {
            self.load(Ty::I32, Reg(SCRATCH.0), index);
            self.a
                .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::MEMORY));
            self.a
                .load(Width::W64, SCRATCH2, Mem::at(SCRATCH2, vm_memory::LENGTH));
            // index + offset + size > length: out of bounds (offset and
            // size below 2^31 + 16, so the subtraction cannot wrap twice).
            let end = (offset + u64::from(size)) as i64;
            match i32::try_from(end) {
                Ok(end) => self.a.alu_ri(Alu::Sub, Width::W64, SCRATCH2, end),
                Err(_) => {
                    self.a.alu_ri(Alu::Sub, Width::W64, SCRATCH2, i32::MAX);
                    self.a.alu_ri(
                        Alu::Sub,
                        Width::W64,
                        SCRATCH2,
                        (end - i64::from(i32::MAX)) as i32,
                    );
                }
            }
            self.a.jcc(Cond::B, label);
            self.a.alu_rr(Alu::Cmp, Width::W64, SCRATCH, SCRATCH2);
            self.a.jcc(Cond::A, label);
            self.a
                .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::MEMORY));
            self.a
                .load(Width::W64, SCRATCH2, Mem::at(SCRATCH2, vm_memory::BASE));
            return Mem::indexed(SCRATCH2, SCRATCH, 0, offset32);
        }
        match index {
            Loc::Imm(address) => match i32::try_from(address + offset) {
                Ok(disp) => Mem::at(MEMORY_BASE, disp),
                Err(_) => {
                    self.a.mov_imm(SCRATCH, address);
                    Mem::indexed(MEMORY_BASE, SCRATCH, 0, offset32)
                }
            },
            // i32s are zero-extended in registers: the index is the register.
            Loc::Reg(r) => Mem::indexed(MEMORY_BASE, gpr(r), 0, offset32),
            other => {
                self.load(Ty::I32, Reg(SCRATCH.0), other);
                Mem::indexed(MEMORY_BASE, SCRATCH, 0, offset32)
            }
        }
    }

    /// r10 = the address of element `index` (an i32 register) of `table`,
    /// after the bounds check.
    fn table_element(&mut self, table: u32, index: Gpr, out_of_bounds: Label) {
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::TABLES));
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(SCRATCH2, table as i32 * 8));
        self.a.alu_rm(
            Alu::Cmp,
            Width::W64,
            index,
            Mem::at(SCRATCH2, vm_table::LENGTH),
        );
        self.a.jcc(Cond::Ae, out_of_bounds);
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(SCRATCH2, vm_table::ELEMENTS));
        self.a.lea(SCRATCH2, Mem::indexed(SCRATCH2, index, 3, 0));
    }

    /// r10 = global `index`'s cell.
    fn global_cell(&mut self, index: u32) {
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::GLOBALS));
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(SCRATCH2, index as i32 * 8));
    }

    fn load_float_bits(&mut self, ty: Ty, x: Xmm, bits: u64) {
        if bits == 0 {
            self.a.bits(Bits::Xor, x, x);
        } else {
            self.a.mov_imm(SCRATCH, bits);
            self.a.gpr_to_xmm(width(ty), x, SCRATCH);
        }
    }

    /// Wasm's `min`/`max`: NaN if either operand is, and -0 below +0
    /// (which `minss`/`maxss` alone get wrong).
    fn min_max(&mut self, ty: Ty, min: bool, xa: Xmm, xb: Xmm) {
        let d = ty.is_64();
        let (nan, equal, done) = (self.new_label(), self.new_label(), self.new_label());
        self.a.ucomis(d, xa, xb);
        self.a.jcc(Cond::P, nan);
        self.a.jcc(Cond::E, equal);
        self.a.sse(if min { Sse::Min } else { Sse::Max }, d, xa, xb);
        self.a.jmp(done);
        self.a.bind(equal);
        // Equal: only the signs of zeros can differ.
        self.a.bits(if min { Bits::Or } else { Bits::And }, xa, xb);
        self.a.jmp(done);
        self.a.bind(nan);
        self.a.sse(Sse::Add, d, xa, xb);
        self.a.bind(done);
    }
}

impl MacroAssembler for X64 {
    const GPRS: &'static [Reg] = &[
        Reg(0), // rax
        Reg(1), // rcx
        Reg(2), // rdx
        Reg(6), // rsi
        Reg(7), // rdi
        Reg(8),
        Reg(9),
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
        FReg(8),
        FReg(9),
        FReg(10),
        FReg(11),
        FReg(12),
        FReg(13),
        FReg(14),
    ];
    // rbx, r12, r13 (r14 and r15 hold the vmctx and the memory base).
    const PINNED: &'static [Reg] = &[Reg(3), Reg(12), Reg(13)];
    const DIVISION: Option<(Reg, Reg)> = Some((Reg(0), Reg(2)));
    const SHIFT_COUNT: Option<Reg> = Some(Reg(1));
    const RESULT: Reg = Reg(0);
    const FLOAT_RESULT: FReg = FReg(0);
    /// rsi, rdx, rcx, r8, r9 (rdi is the vmctx); xmm0-7.
    const INT_ARGS: &'static [Reg] = &[
        Reg(Gpr::RSI.0),
        Reg(Gpr::RDX.0),
        Reg(Gpr::RCX.0),
        Reg(Gpr::R8.0),
        Reg(Gpr::R9.0),
    ];
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

    fn new(capacity: usize, _isa_flags: &[String]) -> X64 {
        X64 {
            a: Assembler::with_capacity(capacity),
            frame_size_at: 0,
        }
    }

    fn finish(self) -> Result<Vec<u8>, &'static str> {
        Ok(self.a.finish())
    }

    fn new_label(&mut self) -> Label {
        self.a.new_label()
    }

    fn bind(&mut self, label: Label) {
        self.a.bind(label);
    }

    fn call_reloc() -> (u32, Reloc, i64) {
        (0, Reloc::X86CallPCRel4, -4)
    }

    fn prologue(&mut self, params: &[Ty], memory_base: bool, overflow: Label) -> u32 {
        let a = &mut self.a;
        // rsp - (pushes + frame) must not go below vmctx.stack_limit.
        a.load(Width::W64, SCRATCH, Mem::at(Gpr::RDI, vmctx::STACK_LIMIT));
        let check = a.alu_ri32(Alu::Add, Width::W64, SCRATCH, 0);
        a.alu_rr(Alu::Cmp, Width::W64, Gpr::RSP, SCRATCH);
        a.jcc(Cond::B, overflow);
        a.push(Gpr::RBP);
        a.mov_rr(Width::W64, Gpr::RBP, Gpr::RSP);
        a.push(VMCTX);
        a.push(MEMORY_BASE);
        self.frame_size_at = a.alu_ri32(Alu::Sub, Width::W64, Gpr::RSP, 0);
        a.mov_rr(Width::W64, VMCTX, Gpr::RDI);
        if memory_base {
            a.load(Width::W64, MEMORY_BASE, Mem::at(VMCTX, vmctx::MEMORY));
            a.load(
                Width::W64,
                MEMORY_BASE,
                Mem::at(MEMORY_BASE, vm_memory::BASE),
            );
        }
        for (k, (ty, place)) in params.iter().zip(Self::arg_places(params)).enumerate() {
            let slot = slot_mem(k as u32);
            match place {
                ArgPlace::Reg(r) => a.store(width(*ty), slot, gpr(r)),
                ArgPlace::FReg(f) => a.movs_store(ty.is_64(), slot, xmm(f)),
                ArgPlace::Stack(j) => {
                    // Above the return address and the saved rbp.
                    a.load(Width::W64, SCRATCH, Mem::at(Gpr::RBP, 16 + 8 * j as i32));
                    a.store(Width::W64, slot, SCRATCH);
                }
            }
        }
        check
    }

    fn finish_frame(&mut self, patch: u32, slots: usize, outgoing: usize) {
        let bytes = (slots + outgoing) as i32 * 8;
        let frame = (bytes + 15) & !15;
        self.a.patch_i32(patch, PUSHED + frame);
        self.a.patch_i32(self.frame_size_at, frame);
    }

    fn epilogue(&mut self) {
        let a = &mut self.a;
        a.lea(Gpr::RSP, Mem::at(Gpr::RBP, -16));
        a.pop(MEMORY_BASE);
        a.pop(VMCTX);
        a.pop(Gpr::RBP);
        a.ret();
    }

    fn zero_slots(&mut self, from: usize, to: usize) {
        if from < to {
            self.a.mov_imm(SCRATCH, 0);
            for k in from..to {
                self.a.store(Width::W64, slot_mem(k as u32), SCRATCH);
            }
        }
    }

    fn load(&mut self, ty: Ty, dst: Reg, from: Loc) {
        match from {
            Loc::Reg(r) if r == dst => {}
            Loc::Reg(r) => self.a.mov_rr(Width::W64, gpr(dst), gpr(r)),
            Loc::Imm(bits) => self.a.mov_imm(gpr(dst), bits),
            Loc::Slot(k) => self.a.load(width(ty), gpr(dst), slot_mem(k)),
            Loc::FReg(f) => self.a.xmm_to_gpr(width(ty), gpr(dst), xmm(f)),
        }
    }

    fn load_float(&mut self, ty: Ty, dst: FReg, from: Loc) {
        match from {
            Loc::FReg(f) if f == dst => {}
            Loc::FReg(f) => self.a.movaps(xmm(dst), xmm(f)),
            Loc::Imm(bits) => self.load_float_bits(ty, xmm(dst), bits),
            Loc::Slot(k) => self.a.movs_load(ty.is_64(), xmm(dst), slot_mem(k)),
            Loc::Reg(r) => self.a.gpr_to_xmm(width(ty), xmm(dst), gpr(r)),
        }
    }

    fn store_slot(&mut self, ty: Ty, k: u32, value: Loc) {
        if value != Loc::Slot(k) {
            self.store_to(ty, slot_mem(k), value);
        }
    }

    fn store_argument(&mut self, ty: Ty, k: usize, value: Loc) {
        self.store_to(ty, Mem::at(Gpr::RSP, 8 * k as i32), value);
    }

    fn canonical_i32(&mut self, r: Reg) {
        self.a.mov_rr(Width::W32, gpr(r), gpr(r));
    }

    fn zero_extend_i32(&mut self, _r: Reg) {
        // Canonical i32s are zero-extended already.
    }

    fn int_op(&mut self, op: IntOp, ty: Ty, dst: Reg, rhs: Loc) {
        let (w, d) = (width(ty), gpr(dst));
        if is_low_half_mask(op, ty, rhs) {
            // A 32-bit move clears the upper half: no 64-bit mask to load.
            self.a.mov_rr(Width::W32, d, d);
            return;
        }
        let alu = match op {
            IntOp::Add => Alu::Add,
            IntOp::Sub => Alu::Sub,
            IntOp::And => Alu::And,
            IntOp::Or => Alu::Or,
            IntOp::Xor => Alu::Xor,
            IntOp::Mul => {
                match rhs {
                    Loc::Imm(bits) if let Some(imm) = imm32(ty, bits) => {
                        self.a.imul_rri(w, d, d, imm)
                    }
                    _ => {
                        let r = self.rhs_reg(ty, rhs);
                        self.a.imul_rr(w, d, r);
                    }
                }
                return;
            }
        };
        match rhs {
            Loc::Imm(bits) if let Some(imm) = imm32(ty, bits) => self.a.alu_ri(alu, w, d, imm),
            _ => {
                let r = self.rhs_reg(ty, rhs);
                self.a.alu_rr(alu, w, d, r);
            }
        }
    }

    fn shift(&mut self, op: ShiftOp, ty: Ty, dst: Reg, count: Loc) {
        let op = match op {
            ShiftOp::Shl => Shift::Shl,
            ShiftOp::ShrS => Shift::Sar,
            ShiftOp::ShrU => Shift::Shr,
            ShiftOp::Rotl => Shift::Rol,
            ShiftOp::Rotr => Shift::Ror,
        };
        match count {
            Loc::Imm(c) => self.a.shift_ri(
                op,
                width(ty),
                gpr(dst),
                (c & u64::from(ty.bits() - 1)) as u8,
            ),
            // The compiler put the count in cl (SHIFT_COUNT); x86 masks it.
            _ => self.a.shift_cl(op, width(ty), gpr(dst)),
        }
    }

    fn compare(&mut self, cc: IntCc, ty: Ty, dst: Reg, rhs: Loc) {
        self.cmp(ty, dst, rhs);
        self.a.setcc(cond(cc), gpr(dst));
        self.a.zx8_rr(gpr(dst), gpr(dst));
    }

    fn eqz(&mut self, ty: Ty, r: Reg) {
        let r = gpr(r);
        self.a.test_rr(width(ty), r, r);
        self.a.setcc(Cond::E, r);
        self.a.zx8_rr(r, r);
    }

    /// `dst` is rax (DIVISION); x86's divisions fault on a zero divisor
    /// and on `MIN / -1`, so both are checked first, and `MIN % -1` is 0.
    fn divide(&mut self, division: &Division, _dst: Reg, divisor: Reg) {
        let Division {
            ty,
            signed,
            remainder,
            by_zero,
            overflow,
        } = *division;
        let (w, rb) = (width(ty), gpr(divisor));
        self.a.test_rr(w, rb, rb);
        self.a.jcc(Cond::E, by_zero);
        let done = self.new_label();
        if signed {
            let divide = self.new_label();
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
    }

    fn count(&mut self, what: Count, ty: Ty, dst: Reg, src: Reg) {
        let (w, d, s) = (width(ty), gpr(dst), gpr(src));
        let bits = u64::from(ty.bits());
        match what {
            Count::LeadingZeros => {
                // bsr gives the highest set bit's index (ZF for 0): bits - 1 - it.
                self.a.bsr(w, d, s);
                let minus_one = if ty.is_64() { u64::MAX } else { 0xFFFF_FFFF };
                self.a.mov_imm(SCRATCH, minus_one);
                self.a.cmov(Cond::E, w, d, SCRATCH);
                self.a.unary(Unary::Neg, w, d);
                self.a.alu_ri(Alu::Add, w, d, bits as i32 - 1);
            }
            Count::TrailingZeros => {
                self.a.bsf(w, d, s);
                self.a.mov_imm(SCRATCH, bits);
                self.a.cmov(Cond::E, w, d, SCRATCH);
            }
            Count::Ones => self.a.popcnt(w, d, s),
        }
    }

    fn extend(&mut self, how: Extend, r: Reg) {
        let r = gpr(r);
        match how {
            Extend::Wrap => self.a.mov_rr(Width::W32, r, r),
            // Canonical i32s are zero-extended: already an i64.
            Extend::I32U => {}
            Extend::I32S | Extend::Low32 => self.a.sx_rr(Width::W64, r, r, 4),
            // A 32-bit destination zero-extends, keeping i32s canonical.
            Extend::Low8(ty) => self.a.sx_rr(width(ty), r, r, 1),
            Extend::Low16(ty) => self.a.sx_rr(width(ty), r, r, 2),
        }
    }

    fn select(&mut self, _ty: Ty, cond: Reg, dst: Reg, other: Reg) {
        self.a.test_rr(Width::W32, gpr(cond), gpr(cond));
        self.a.cmov(Cond::E, Width::W64, gpr(dst), gpr(other));
    }

    fn select_float(&mut self, _ty: Ty, cond: Reg, dst: FReg, other: FReg) {
        self.a.test_rr(Width::W32, gpr(cond), gpr(cond));
        let keep = self.new_label();
        self.a.jcc(Cond::Ne, keep);
        self.a.movaps(xmm(dst), xmm(other));
        self.a.bind(keep);
    }

    fn float_op(&mut self, op: FloatOp, ty: Ty, dst: FReg, rhs: FReg) {
        let (d, xa, xb) = (ty.is_64(), xmm(dst), xmm(rhs));
        let sse = match op {
            FloatOp::Add => Sse::Add,
            FloatOp::Sub => Sse::Sub,
            FloatOp::Mul => Sse::Mul,
            FloatOp::Div => Sse::Div,
            FloatOp::Min | FloatOp::Max => return self.min_max(ty, op == FloatOp::Min, xa, xb),
            FloatOp::Copysign => {
                let (w, sign) = (width(ty), ty.bits() - 1);
                self.a.xmm_to_gpr(w, SCRATCH, xa);
                self.a.bit_reset(w, SCRATCH, sign);
                self.a.xmm_to_gpr(w, SCRATCH2, xb);
                self.a.shift_ri(Shift::Shr, w, SCRATCH2, sign);
                self.a.shift_ri(Shift::Shl, w, SCRATCH2, sign);
                self.a.alu_rr(Alu::Or, w, SCRATCH, SCRATCH2);
                self.a.gpr_to_xmm(w, xa, SCRATCH);
                return;
            }
        };
        self.a.sse(sse, d, xa, xb);
    }

    fn float_unary(&mut self, op: FloatUnary, ty: Ty, r: FReg) {
        let (d, x) = (ty.is_64(), xmm(r));
        // roundss/roundsd (SSE4.1, in Kiln's x86-64-v2 baseline) modes.
        let mode = match op {
            FloatUnary::Sqrt => return self.a.sse(Sse::Sqrt, d, x, x),
            FloatUnary::Nearest => 0,
            FloatUnary::Floor => 1,
            FloatUnary::Ceil => 2,
            FloatUnary::Trunc => 3,
            FloatUnary::Abs | FloatUnary::Neg => {
                let w = width(ty);
                self.a.xmm_to_gpr(w, SCRATCH, x);
                if op == FloatUnary::Neg {
                    self.a.bit_flip(w, SCRATCH, ty.bits() - 1);
                } else {
                    self.a.bit_reset(w, SCRATCH, ty.bits() - 1);
                }
                self.a.gpr_to_xmm(w, x, SCRATCH);
                return;
            }
        };
        self.a.round(d, x, x, mode);
    }

    /// Unordered sets ZF, PF and CF: `a` and `ae` after comparing in the
    /// right order are false for NaN, and eq/ne look at PF.
    fn float_compare(&mut self, cc: FloatCc, ty: Ty, dst: Reg, a: FReg, b: FReg) {
        let (d, r, xa, xb) = (ty.is_64(), gpr(dst), xmm(a), xmm(b));
        match cc {
            FloatCc::Eq | FloatCc::Ne => {
                self.a.ucomis(d, xa, xb);
                let (c, parity, combine) = match cc {
                    FloatCc::Eq => (Cond::E, Cond::Np, Alu::And),
                    _ => (Cond::Ne, Cond::P, Alu::Or),
                };
                self.a.setcc(c, r);
                self.a.setcc(parity, SCRATCH);
                self.a.alu_rr(combine, Width::W32, r, SCRATCH);
            }
            FloatCc::Gt => {
                self.a.ucomis(d, xa, xb);
                self.a.setcc(Cond::A, r);
            }
            FloatCc::Ge => {
                self.a.ucomis(d, xa, xb);
                self.a.setcc(Cond::Ae, r);
            }
            FloatCc::Lt => {
                self.a.ucomis(d, xb, xa);
                self.a.setcc(Cond::A, r);
            }
            FloatCc::Le => {
                self.a.ucomis(d, xb, xa);
                self.a.setcc(Cond::Ae, r);
            }
        }
        self.a.zx8_rr(r, r);
    }

    fn int_to_float(&mut self, signed: bool, from: Ty, to: Ty, dst: FReg, src: Reg) {
        let (d, x, r) = (to.is_64(), xmm(dst), gpr(src));
        self.a.bits(Bits::Xor, x, x);
        match (signed, from) {
            (true, _) => self.a.int_to_float(d, width(from), x, r),
            // A zero-extended u32 is a non-negative i64.
            (false, Ty::I32) => self.a.int_to_float(d, Width::W64, x, r),
            // Values with the top bit set are halved (keeping the lowest bit
            // for rounding), converted and doubled.
            (false, _) => {
                let (large, done) = (self.new_label(), self.new_label());
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
            }
        }
    }

    fn float_to_float(&mut self, to: Ty, r: FReg) {
        self.a.float_convert(to.is_64(), xmm(r), xmm(r));
    }

    /// `cvtt` gives the integer minimum for every value it cannot convert,
    /// so the signed forms look closer only then; the unsigned ones compare
    /// against the limits first.
    fn truncate(&mut self, truncation: &Truncation, dst: Reg, src: FReg) {
        let Truncation {
            signed,
            saturating,
            from,
            to,
            invalid,
            overflow,
        } = *truncation;
        let (d, w, r, x, limit) = (from.is_64(), width(to), gpr(dst), xmm(src), SCRATCH_XMM);
        let float = |v: f64| {
            if d {
                v.to_bits()
            } else {
                u64::from((v as f32).to_bits())
            }
        };
        let done = self.new_label();
        let bits = f64::from(to.bits());
        if signed {
            self.a.cvtt(d, w, r, x);
            match w {
                Width::W32 => self.a.alu_ri(Alu::Cmp, w, r, i32::MIN),
                Width::W64 => {
                    self.a.mov_imm(SCRATCH, i64::MIN as u64);
                    self.a.alu_rr(Alu::Cmp, w, r, SCRATCH);
                }
            }
            self.a.jcc(Cond::Ne, done);
            // The minimum: NaN, out of range, or the minimum itself.
            self.a.ucomis(d, x, x);
            self.a.jcc(Cond::P, invalid);
            // Valid down to the minimum (see `Truncation::bounds`).
            let (bound, low_out, _) = truncation.bounds();
            let cc = if low_out { Cond::Be } else { Cond::B };
            self.load_float_bits(from, limit, bound);
            self.a.ucomis(d, x, limit);
            self.a.jcc(cc, if saturating { done } else { overflow });
            self.a.bits(Bits::Xor, limit, limit);
            self.a.ucomis(d, x, limit);
            self.a.jcc(Cond::Ae, overflow);
            self.a.jmp(done);
            if saturating {
                self.a.bind(overflow);
                let max = if to.is_64() {
                    i64::MAX as u64
                } else {
                    u64::from(i32::MAX as u32)
                };
                self.a.mov_imm(r, max);
                self.a.jmp(done);
            }
        } else {
            // NaN and everything at or below -1 (saturating: at or below 0).
            self.a.ucomis(d, x, x);
            self.a.jcc(Cond::P, invalid);
            let zero = self.new_label();
            let low = if saturating { 0.0 } else { -1.0 };
            self.load_float_bits(from, limit, float(low));
            self.a.ucomis(d, x, limit);
            self.a
                .jcc(Cond::Be, if saturating { zero } else { overflow });
            self.load_float_bits(from, limit, float(2f64.powf(bits)));
            self.a.ucomis(d, x, limit);
            self.a.jcc(Cond::Ae, overflow);
            if !to.is_64() {
                self.a.cvtt(d, Width::W64, r, x);
            } else {
                let large = self.new_label();
                self.load_float_bits(from, limit, float(2f64.powf(63.0)));
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
                let max = if to.is_64() { u64::MAX } else { 0xFFFF_FFFF };
                self.a.mov_imm(r, max);
                self.a.jmp(done);
            }
        }
        if saturating {
            self.a.bind(invalid);
            self.a.mov_imm(r, 0);
        }
        self.a.bind(done);
    }

    fn bits_to_int(&mut self, ty: Ty, dst: Reg, src: FReg) {
        self.a.xmm_to_gpr(width(ty), gpr(dst), xmm(src));
    }

    fn bits_to_float(&mut self, ty: Ty, dst: FReg, src: Reg) {
        self.a.gpr_to_xmm(width(ty), xmm(dst), gpr(src));
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
        let m = self.heap_operand(heap, index, offset, size);
        let at = self.a.offset();
        match dst {
            Loc::FReg(f) => self.a.movs_load(ty.is_64(), xmm(f), m),
            Loc::Reg(r) => {
                let r = gpr(r);
                match kind {
                    Load::Plain => self.a.load(width(ty), r, m),
                    Load::Unsigned(4) => self.a.load(Width::W32, r, m),
                    Load::Unsigned(b) => self.a.load_zx(r, m, b),
                    Load::Signed(b) => self.a.load_sx(width(ty), r, m, b),
                }
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
        // A value in a slot or a wide constant goes through r10 with guard
        // regions (r10 is the base with explicit checks, where a constant
        // is stored as two halves instead: the check came first).
        let value = match value {
            Loc::Slot(_) if heap.checks == BoundsChecks::Guard => {
                self.load(Ty::I64, Reg(SCRATCH2.0), value);
                Loc::Reg(Reg(SCRATCH2.0))
            }
            Loc::Imm(bits) if bytes == 8 && imm32(Ty::I64, bits).is_none() => {
                if heap.checks == BoundsChecks::Guard {
                    self.a.mov_imm(SCRATCH2, bits);
                    Loc::Reg(Reg(SCRATCH2.0))
                } else {
                    let m = self.heap_operand(heap, index, offset, 8);
                    let at = self.a.offset();
                    self.a.store_imm(Width::W32, m, bits as u32 as i32);
                    let high = Mem {
                        disp: m.disp + 4,
                        ..m
                    };
                    self.a
                        .store_imm(Width::W32, high, (bits >> 32) as u32 as i32);
                    return at;
                }
            }
            other => other,
        };
        let m = self.heap_operand(heap, index, offset, u32::from(bytes));
        let at = self.a.offset();
        match value {
            Loc::Imm(bits) => match bytes {
                1 => self.a.store8_imm(m, bits as u8),
                2 => self.a.store16_imm(m, bits as u16),
                4 => self.a.store_imm(Width::W32, m, bits as u32 as i32),
                _ => self.a.store_imm(Width::W64, m, bits as i64 as i32),
            },
            Loc::FReg(f) => self.a.movs_store(ty.is_64(), m, xmm(f)),
            Loc::Reg(r) => match bytes {
                1 => self.a.store8(m, gpr(r)),
                2 => self.a.store16(m, gpr(r)),
                4 => self.a.store(Width::W32, m, gpr(r)),
                _ => self.a.store(Width::W64, m, gpr(r)),
            },
            // Explicit checks: the compiler hands over registers and constants.
            Loc::Slot(_) => {}
        }
        at
    }

    fn memory_size(&mut self, dst: Reg) {
        let r = gpr(dst);
        self.a.load(Width::W64, r, Mem::at(VMCTX, vmctx::MEMORY));
        self.a.load(Width::W64, r, Mem::at(r, vm_memory::LENGTH));
        self.a
            .shift_ri(Shift::Shr, Width::W64, r, PAGE_SIZE.trailing_zeros() as u8);
    }

    fn global_get(&mut self, ty: Ty, dst: Loc, index: u32) {
        self.global_cell(index);
        match dst {
            Loc::FReg(f) => self.a.movs_load(ty.is_64(), xmm(f), Mem::at(SCRATCH2, 0)),
            Loc::Reg(r) => self.a.load(width(ty), gpr(r), Mem::at(SCRATCH2, 0)),
            _ => {}
        }
    }

    fn global_set(&mut self, ty: Ty, index: u32, value: Loc) {
        self.global_cell(index);
        self.store_to(ty, Mem::at(SCRATCH2, 0), value);
    }

    fn table_size(&mut self, dst: Reg, table: u32) {
        let r = gpr(dst);
        self.a.load(Width::W64, r, Mem::at(VMCTX, vmctx::TABLES));
        self.a.load(Width::W64, r, Mem::at(r, table as i32 * 8));
        self.a.load(Width::W32, r, Mem::at(r, vm_table::LENGTH));
    }

    fn table_get(&mut self, table: u32, index: Reg, out_of_bounds: Label) {
        self.table_element(table, gpr(index), out_of_bounds);
        self.a.load(Width::W64, gpr(index), Mem::at(SCRATCH2, 0));
    }

    fn table_set(&mut self, table: u32, index: Reg, value: Loc, out_of_bounds: Label) {
        self.table_element(table, gpr(index), out_of_bounds);
        self.store_to(Ty::I64, Mem::at(SCRATCH2, 0), value);
    }

    fn func_ref(&mut self, dst: Reg, index: u32) {
        let r = gpr(dst);
        self.a.load(Width::W64, r, Mem::at(VMCTX, vmctx::FUNCREFS));
        let offset = i64::from(index) * environ::FUNCREF_SIZE;
        match i32::try_from(offset) {
            Ok(offset) => self.a.lea(r, Mem::at(r, offset)),
            Err(_) => {
                self.a.mov_imm(SCRATCH, offset as u64);
                self.a.alu_rr(Alu::Add, Width::W64, r, SCRATCH);
            }
        }
    }

    fn jump(&mut self, label: Label) {
        self.a.jmp(label);
    }

    fn branch(&mut self, r: Reg, nonzero: bool, label: Label) {
        self.a.test_rr(Width::W32, gpr(r), gpr(r));
        self.a.jcc(if nonzero { Cond::Ne } else { Cond::E }, label);
    }

    fn compare_branch(&mut self, cc: IntCc, ty: Ty, lhs: Reg, rhs: Loc, label: Label) {
        self.cmp(ty, lhs, rhs);
        self.a.jcc(cond(cc), label);
    }

    fn jump_table(&mut self, index: Reg, targets: &[Label], default: Label) {
        let r = gpr(index);
        // Out of range (unsigned): the default.
        self.a.alu_ri(Alu::Cmp, Width::W32, r, targets.len() as i32);
        self.a.jcc(Cond::Ae, default);
        let table = self.new_label();
        self.a.lea_label(SCRATCH, table);
        self.a
            .load_sx(Width::W64, r, Mem::indexed(SCRATCH, r, 2, 0), 4);
        self.a.alu_rr(Alu::Add, Width::W64, r, SCRATCH);
        self.a.jmp_reg(r);
        self.a.bind(table);
        let base = self.a.offset();
        for label in targets {
            self.a.table_entry(*label, base);
        }
    }

    fn trap(&mut self) -> u32 {
        let at = self.a.offset();
        self.a.ud2();
        at
    }

    fn prepare_table_call(&mut self, index: Loc, checks: &TableCall) {
        // r10 = the function reference, after the checks (rax is free:
        // the operand stack left the registers).
        self.load(Ty::I32, Reg(0), index);
        let entry = SCRATCH2;
        self.a
            .load(Width::W64, entry, Mem::at(VMCTX, vmctx::TABLES));
        self.a
            .load(Width::W64, entry, Mem::at(entry, checks.table as i32 * 8));
        self.a.alu_rm(
            Alu::Cmp,
            Width::W64,
            Gpr::RAX,
            Mem::at(entry, vm_table::LENGTH),
        );
        self.a.jcc(Cond::Ae, checks.undefined);
        self.a
            .load(Width::W64, entry, Mem::at(entry, vm_table::ELEMENTS));
        self.a
            .load(Width::W64, entry, Mem::indexed(entry, Gpr::RAX, 3, 0));
        self.a.test_rr(Width::W64, entry, entry);
        self.a.jcc(Cond::E, checks.null);
        self.a.mov_imm(Gpr::RAX, checks.signature);
        self.a.alu_rm(
            Alu::Cmp,
            Width::W64,
            Gpr::RAX,
            Mem::at(entry, funcref::SIGNATURE),
        );
        self.a.jcc(Cond::Ne, checks.mismatch);
    }

    fn call(&mut self, callee: Callee) -> u32 {
        match callee {
            Callee::Direct => {
                self.a.mov_rr(Width::W64, Gpr::RDI, VMCTX);
                self.a.call_rel32()
            }
            Callee::Import(index) => {
                let entry = (i64::from(index) * environ::FUNCREF_SIZE) as i32;
                self.a
                    .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::FUNCREFS));
                self.a.load(
                    Width::W64,
                    Gpr::RDI,
                    Mem::at(SCRATCH2, entry + funcref::VMCTX),
                );
                self.a.call_mem(Mem::at(SCRATCH2, entry + funcref::CODE));
                0
            }
            Callee::Table => {
                self.a
                    .load(Width::W64, Gpr::RDI, Mem::at(SCRATCH2, funcref::VMCTX));
                self.a.call_mem(Mem::at(SCRATCH2, funcref::CODE));
                0
            }
            Callee::Builtin(index) => {
                self.a.mov_rr(Width::W64, Gpr::RDI, VMCTX);
                self.a
                    .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::BUILTINS));
                self.a.call_mem(Mem::at(SCRATCH2, (index * 8) as i32));
                0
            }
        }
    }

    fn branch_on_status(&mut self, label: Label) {
        self.a.test_rr(Width::W64, Gpr::RAX, Gpr::RAX);
        self.a.jcc(Cond::Ne, label);
    }
}
