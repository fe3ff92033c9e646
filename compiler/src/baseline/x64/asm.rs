//! A small x86-64 assembler: the instruction forms the baseline compiler
//! emits, encoded straight into bytes (no intermediate instruction list, so
//! encoding costs a few nanoseconds per instruction), plus labels for
//! branches and jump tables. Every form has a golden-bytes test below,
//! checked against GNU objdump.

pub(crate) use crate::baseline::masm::Label;

/// A general-purpose register (hardware number 0-15).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Gpr(pub u8);

impl Gpr {
    pub const RAX: Gpr = Gpr(0);
    pub const RCX: Gpr = Gpr(1);
    pub const RDX: Gpr = Gpr(2);
    pub const RSP: Gpr = Gpr(4);
    pub const RBP: Gpr = Gpr(5);
    pub const RSI: Gpr = Gpr(6);
    pub const RDI: Gpr = Gpr(7);
    pub const R8: Gpr = Gpr(8);
    pub const R9: Gpr = Gpr(9);
    pub const R10: Gpr = Gpr(10);
    pub const R11: Gpr = Gpr(11);
    pub const R14: Gpr = Gpr(14);
    pub const R15: Gpr = Gpr(15);
}

/// An SSE register (xmm0-15).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Xmm(pub u8);

/// A memory operand `[base + index << scale + disp]`.
#[derive(Clone, Copy, Debug)]
pub struct Mem {
    pub base: Gpr,
    pub index: Option<(Gpr, u8)>,
    pub disp: i32,
}

impl Mem {
    pub fn at(base: Gpr, disp: i32) -> Mem {
        Mem {
            base,
            index: None,
            disp,
        }
    }

    /// `[base + index << scale + disp]` (`index` must not be rsp).
    pub fn indexed(base: Gpr, index: Gpr, scale: u8, disp: i32) -> Mem {
        Mem {
            base,
            index: Some((index, scale)),
            disp,
        }
    }
}

/// Operand width of an integer instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Width {
    W32,
    W64,
}

/// Condition codes (the low nibble of `jcc`, `setcc`, `cmovcc`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cond {
    B = 2,
    Ae = 3,
    E = 4,
    Ne = 5,
    Be = 6,
    A = 7,
    S = 8,
    P = 10,
    Np = 11,
    L = 12,
    Ge = 13,
    Le = 14,
    G = 15,
}

/// The ALU group that shares its encodings: `op r/m, r` is `0x01 + 8 * op`,
/// `op r, r/m` is `0x03 + 8 * op`, and `0x81`/`0x83 /op` take an immediate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Alu {
    Add = 0,
    Or = 1,
    And = 4,
    Sub = 5,
    Xor = 6,
    Cmp = 7,
}

/// Shifts and rotates: `0xD3 /op` (by `cl`), `0xC1 /op ib`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shift {
    Rol = 0,
    Ror = 1,
    Shl = 4,
    Shr = 5,
    Sar = 7,
}

/// One-operand group `0xF7 /op`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unary {
    Neg = 3,
    Div = 6,
    Idiv = 7,
}

/// Scalar SSE arithmetic, `F3 0F op` (single) or `F2 0F op` (double).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sse {
    Sqrt = 0x51,
    Add = 0x58,
    Mul = 0x59,
    Sub = 0x5C,
    Min = 0x5D,
    Div = 0x5E,
    Max = 0x5F,
}

/// Packed bitwise SSE operations (`0F op`), used on scalars.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bits {
    And = 0x54,
    Or = 0x56,
    Xor = 0x57,
}

#[derive(Default)]
struct LabelState {
    offset: Option<u32>,
    /// 32-bit fields to fill with `target - base`: (field offset, base).
    uses: Vec<(u32, u32)>,
}

/// The machine code of one function under construction.
#[derive(Default)]
pub struct Assembler {
    code: Vec<u8>,
    labels: Vec<LabelState>,
}

fn is_i8(v: i32) -> bool {
    i8::try_from(v).is_ok()
}

impl Assembler {
    pub fn with_capacity(bytes: usize) -> Assembler {
        Assembler {
            code: Vec::with_capacity(bytes),
            labels: Vec::new(),
        }
    }

    /// The offset the next instruction starts at.
    pub fn offset(&self) -> u32 {
        self.code.len() as u32
    }

    /// The code; every label that was used must have been bound.
    pub fn finish(self) -> Vec<u8> {
        debug_assert!(
            self.labels
                .iter()
                .all(|l| l.offset.is_some() || l.uses.is_empty())
        );
        self.code
    }

    fn byte(&mut self, b: u8) {
        self.code.push(b);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.code.extend_from_slice(b);
    }

    fn imm32(&mut self, v: i32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Overwrites the 32-bit field at `at` (a frame size known only at the end).
    pub fn patch_i32(&mut self, at: u32, v: i32) {
        let at = at as usize;
        self.code[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    // -- encoding core -------------------------------------------------------

    /// REX prefix for `reg` (ModRM.reg), `index` (SIB.index) and `rm`
    /// (ModRM.rm or SIB.base); `byte_regs` forces one so that registers
    /// 4-7 mean spl/bpl/sil/dil rather than ah/ch/dh/bh.
    fn rex(&mut self, w: bool, reg: u8, index: u8, rm: u8, byte_regs: bool) {
        let rex =
            0x40 | u8::from(w) << 3 | (reg >> 3 & 1) << 2 | (index >> 3 & 1) << 1 | (rm >> 3 & 1);
        if rex != 0x40 || byte_regs {
            self.byte(rex);
        }
    }

    fn modrm_mem(&mut self, reg: u8, m: Mem) {
        let base = m.base.0 & 7;
        // [rbp] / [r13] without displacement would mean rip-relative.
        let (mode, disp) = if m.disp == 0 && base != 5 {
            (0, 0)
        } else if is_i8(m.disp) {
            (1, 1)
        } else {
            (2, 4)
        };
        match m.index {
            None if base != 4 => self.byte(mode << 6 | (reg & 7) << 3 | base),
            None => {
                self.byte(mode << 6 | (reg & 7) << 3 | 4);
                self.byte(0x24);
            }
            Some((index, scale)) => {
                debug_assert!(index != Gpr::RSP && scale <= 3);
                self.byte(mode << 6 | (reg & 7) << 3 | 4);
                self.byte(scale << 6 | (index.0 & 7) << 3 | base);
            }
        }
        match disp {
            1 => self.byte(m.disp as i8 as u8),
            4 => self.imm32(m.disp),
            _ => {}
        }
    }

    /// `[prefix] REX opcode ModRM` with a register `rm`.
    fn op_rr(
        &mut self,
        prefix: Option<u8>,
        w: bool,
        opcode: &[u8],
        reg: u8,
        rm: u8,
        byte_regs: bool,
    ) {
        if let Some(p) = prefix {
            self.byte(p);
        }
        let force = byte_regs && ((4..8).contains(&reg) || (4..8).contains(&rm));
        self.rex(w, reg, 0, rm, force);
        self.bytes(opcode);
        self.byte(0xC0 | (reg & 7) << 3 | (rm & 7));
    }

    /// `[prefix] REX opcode ModRM [SIB] [disp]` with a memory `rm`.
    fn op_rm(
        &mut self,
        prefix: Option<u8>,
        w: bool,
        opcode: &[u8],
        reg: u8,
        m: Mem,
        byte_reg: bool,
    ) {
        if let Some(p) = prefix {
            self.byte(p);
        }
        let index = m.index.map_or(0, |(i, _)| i.0);
        self.rex(w, reg, index, m.base.0, byte_reg && (4..8).contains(&reg));
        self.bytes(opcode);
        self.modrm_mem(reg, m);
    }

    // -- integer moves -------------------------------------------------------

    pub fn mov_rr(&mut self, w: Width, dst: Gpr, src: Gpr) {
        self.op_rr(None, w == Width::W64, &[0x89], src.0, dst.0, false);
    }

    pub fn load(&mut self, w: Width, dst: Gpr, m: Mem) {
        self.op_rm(None, w == Width::W64, &[0x8B], dst.0, m, false);
    }

    pub fn store(&mut self, w: Width, m: Mem, src: Gpr) {
        self.op_rm(None, w == Width::W64, &[0x89], src.0, m, false);
    }

    pub fn store8(&mut self, m: Mem, src: Gpr) {
        self.op_rm(None, false, &[0x88], src.0, m, true);
    }

    pub fn store16(&mut self, m: Mem, src: Gpr) {
        self.op_rm(Some(0x66), false, &[0x89], src.0, m, false);
    }

    /// `mov m, imm32` (sign-extended to 64 bits for `W64`).
    pub fn store_imm(&mut self, w: Width, m: Mem, imm: i32) {
        self.op_rm(None, w == Width::W64, &[0xC7], 0, m, false);
        self.imm32(imm);
    }

    pub fn store8_imm(&mut self, m: Mem, imm: u8) {
        self.op_rm(None, false, &[0xC6], 0, m, false);
        self.byte(imm);
    }

    pub fn store16_imm(&mut self, m: Mem, imm: u16) {
        self.op_rm(Some(0x66), false, &[0xC7], 0, m, false);
        self.bytes(&imm.to_le_bytes());
    }

    /// Loads a constant with the shortest form: `xor` for 0, `mov r32,
    /// imm32` for values that zero-extend, `mov r64, simm32`, `movabs`.
    pub fn mov_imm(&mut self, dst: Gpr, v: u64) {
        if v == 0 {
            self.alu_rr(Alu::Xor, Width::W32, dst, dst);
        } else if v <= u64::from(u32::MAX) {
            self.rex(false, 0, 0, dst.0, false);
            self.byte(0xB8 + (dst.0 & 7));
            self.imm32(v as u32 as i32);
        } else if let Ok(s) = i32::try_from(v as i64) {
            self.op_rr(None, true, &[0xC7], 0, dst.0, false);
            self.imm32(s);
        } else {
            self.rex(true, 0, 0, dst.0, false);
            self.byte(0xB8 + (dst.0 & 7));
            self.bytes(&v.to_le_bytes());
        }
    }

    /// `movzx r32, byte/word [m]` (`bytes` 1 or 2).
    pub fn load_zx(&mut self, dst: Gpr, m: Mem, bytes: u8) {
        let op = if bytes == 1 { 0xB6 } else { 0xB7 };
        self.op_rm(None, false, &[0x0F, op], dst.0, m, false);
    }

    /// `movsx r, byte/word/dword [m]` (`bytes` 1, 2 or 4).
    pub fn load_sx(&mut self, w: Width, dst: Gpr, m: Mem, bytes: u8) {
        match bytes {
            1 => self.op_rm(None, w == Width::W64, &[0x0F, 0xBE], dst.0, m, false),
            2 => self.op_rm(None, w == Width::W64, &[0x0F, 0xBF], dst.0, m, false),
            _ => self.op_rm(None, true, &[0x63], dst.0, m, false),
        }
    }

    /// `movsx r, r8/r16/r32` (`bytes` 1, 2 or 4).
    pub fn sx_rr(&mut self, w: Width, dst: Gpr, src: Gpr, bytes: u8) {
        match bytes {
            1 => self.op_rr(None, w == Width::W64, &[0x0F, 0xBE], dst.0, src.0, true),
            2 => self.op_rr(None, w == Width::W64, &[0x0F, 0xBF], dst.0, src.0, false),
            _ => self.op_rr(None, true, &[0x63], dst.0, src.0, false),
        }
    }

    /// `movzx r32, r8`.
    pub fn zx8_rr(&mut self, dst: Gpr, src: Gpr) {
        self.op_rr(None, false, &[0x0F, 0xB6], dst.0, src.0, true);
    }

    pub fn lea(&mut self, dst: Gpr, m: Mem) {
        self.op_rm(None, true, &[0x8D], dst.0, m, false);
    }

    // -- integer arithmetic --------------------------------------------------

    pub fn alu_rr(&mut self, op: Alu, w: Width, dst: Gpr, src: Gpr) {
        self.op_rr(
            None,
            w == Width::W64,
            &[0x01 + 8 * op as u8],
            src.0,
            dst.0,
            false,
        );
    }

    pub fn alu_rm(&mut self, op: Alu, w: Width, dst: Gpr, m: Mem) {
        self.op_rm(
            None,
            w == Width::W64,
            &[0x03 + 8 * op as u8],
            dst.0,
            m,
            false,
        );
    }

    pub fn alu_ri(&mut self, op: Alu, w: Width, dst: Gpr, imm: i32) {
        if is_i8(imm) {
            self.op_rr(None, w == Width::W64, &[0x83], op as u8, dst.0, false);
            self.byte(imm as i8 as u8);
        } else {
            self.op_rr(None, w == Width::W64, &[0x81], op as u8, dst.0, false);
            self.imm32(imm);
        }
    }

    /// `op r, imm32` always with a 32-bit immediate; returns the offset of
    /// the immediate (to patch later).
    pub fn alu_ri32(&mut self, op: Alu, w: Width, dst: Gpr, imm: i32) -> u32 {
        self.op_rr(None, w == Width::W64, &[0x81], op as u8, dst.0, false);
        let at = self.offset();
        self.imm32(imm);
        at
    }

    pub fn test_rr(&mut self, w: Width, a: Gpr, b: Gpr) {
        self.op_rr(None, w == Width::W64, &[0x85], b.0, a.0, false);
    }

    pub fn imul_rr(&mut self, w: Width, dst: Gpr, src: Gpr) {
        self.op_rr(None, w == Width::W64, &[0x0F, 0xAF], dst.0, src.0, false);
    }

    pub fn imul_rri(&mut self, w: Width, dst: Gpr, src: Gpr, imm: i32) {
        if is_i8(imm) {
            self.op_rr(None, w == Width::W64, &[0x6B], dst.0, src.0, false);
            self.byte(imm as i8 as u8);
        } else {
            self.op_rr(None, w == Width::W64, &[0x69], dst.0, src.0, false);
            self.imm32(imm);
        }
    }

    pub fn unary(&mut self, op: Unary, w: Width, r: Gpr) {
        self.op_rr(None, w == Width::W64, &[0xF7], op as u8, r.0, false);
    }

    pub fn shift_cl(&mut self, op: Shift, w: Width, r: Gpr) {
        self.op_rr(None, w == Width::W64, &[0xD3], op as u8, r.0, false);
    }

    pub fn shift_ri(&mut self, op: Shift, w: Width, r: Gpr, imm: u8) {
        self.op_rr(None, w == Width::W64, &[0xC1], op as u8, r.0, false);
        self.byte(imm);
    }

    /// `cdq` / `cqo`: sign-extends eax/rax into edx/rdx.
    pub fn sign_extend_ax(&mut self, w: Width) {
        self.rex(w == Width::W64, 0, 0, 0, false);
        self.byte(0x99);
    }

    pub fn setcc(&mut self, cc: Cond, r: Gpr) {
        self.op_rr(None, false, &[0x0F, 0x90 + cc as u8], 0, r.0, true);
    }

    pub fn cmov(&mut self, cc: Cond, w: Width, dst: Gpr, src: Gpr) {
        self.op_rr(
            None,
            w == Width::W64,
            &[0x0F, 0x40 + cc as u8],
            dst.0,
            src.0,
            false,
        );
    }

    pub fn bsr(&mut self, w: Width, dst: Gpr, src: Gpr) {
        self.op_rr(None, w == Width::W64, &[0x0F, 0xBD], dst.0, src.0, false);
    }

    pub fn bsf(&mut self, w: Width, dst: Gpr, src: Gpr) {
        self.op_rr(None, w == Width::W64, &[0x0F, 0xBC], dst.0, src.0, false);
    }

    pub fn popcnt(&mut self, w: Width, dst: Gpr, src: Gpr) {
        self.op_rr(
            Some(0xF3),
            w == Width::W64,
            &[0x0F, 0xB8],
            dst.0,
            src.0,
            false,
        );
    }

    /// `btr`/`btc r, imm8`: clears / flips one bit (a float's sign).
    pub fn bit_reset(&mut self, w: Width, r: Gpr, bit: u8) {
        self.op_rr(None, w == Width::W64, &[0x0F, 0xBA], 6, r.0, false);
        self.byte(bit);
    }

    pub fn bit_flip(&mut self, w: Width, r: Gpr, bit: u8) {
        self.op_rr(None, w == Width::W64, &[0x0F, 0xBA], 7, r.0, false);
        self.byte(bit);
    }

    // -- stack, calls, branches ----------------------------------------------

    pub fn push(&mut self, r: Gpr) {
        self.rex(false, 0, 0, r.0, false);
        self.byte(0x50 + (r.0 & 7));
    }

    pub fn pop(&mut self, r: Gpr) {
        self.rex(false, 0, 0, r.0, false);
        self.byte(0x58 + (r.0 & 7));
    }

    pub fn ret(&mut self) {
        self.byte(0xC3);
    }

    pub fn ud2(&mut self) {
        self.bytes(&[0x0F, 0x0B]);
    }

    /// `call rel32` with a zero displacement; returns the offset of the
    /// displacement (for the relocation).
    pub fn call_rel32(&mut self) -> u32 {
        self.byte(0xE8);
        let at = self.offset();
        self.imm32(0);
        at
    }

    /// `call [m]`.
    pub fn call_mem(&mut self, m: Mem) {
        self.op_rm(None, false, &[0xFF], 2, m, false);
    }

    /// `jmp r`.
    pub fn jmp_reg(&mut self, r: Gpr) {
        self.op_rr(None, false, &[0xFF], 4, r.0, false);
    }

    pub fn new_label(&mut self) -> Label {
        self.labels.push(LabelState::default());
        Label(self.labels.len() as u32 - 1)
    }

    /// Places `label` here and fills in the uses seen so far.
    pub fn bind(&mut self, label: Label) {
        let here = self.offset();
        let state = &mut self.labels[label.0 as usize];
        debug_assert!(state.offset.is_none(), "label bound twice");
        state.offset = Some(here);
        for (at, base) in std::mem::take(&mut state.uses) {
            let at = at as usize;
            let v = here.wrapping_sub(base) as i32;
            self.code[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
    }

    /// A 32-bit field holding `label - base`, filled now or at `bind`.
    fn label_field(&mut self, label: Label, base: u32) {
        let at = self.offset();
        let state = &mut self.labels[label.0 as usize];
        match state.offset {
            Some(target) => {
                let v = target.wrapping_sub(base) as i32;
                self.imm32(v);
            }
            None => {
                state.uses.push((at, base));
                self.imm32(0);
            }
        }
    }

    pub fn jmp(&mut self, label: Label) {
        self.byte(0xE9);
        let end = self.offset() + 4;
        self.label_field(label, end);
    }

    pub fn jcc(&mut self, cc: Cond, label: Label) {
        self.bytes(&[0x0F, 0x80 + cc as u8]);
        let end = self.offset() + 4;
        self.label_field(label, end);
    }

    /// `lea r, [rip + label]`.
    pub fn lea_label(&mut self, dst: Gpr, label: Label) {
        self.rex(true, dst.0, 0, 0, false);
        self.byte(0x8D);
        self.byte((dst.0 & 7) << 3 | 5);
        let end = self.offset() + 4;
        self.label_field(label, end);
    }

    /// A jump-table entry: `label - table` as a 32-bit value.
    pub fn table_entry(&mut self, label: Label, table: u32) {
        self.label_field(label, table);
    }

    // -- SSE -----------------------------------------------------------------

    fn float_prefix(double: bool) -> u8 {
        if double { 0xF2 } else { 0xF3 }
    }

    pub fn movs_load(&mut self, double: bool, dst: Xmm, m: Mem) {
        self.op_rm(
            Some(Self::float_prefix(double)),
            false,
            &[0x0F, 0x10],
            dst.0,
            m,
            false,
        );
    }

    pub fn movs_store(&mut self, double: bool, m: Mem, src: Xmm) {
        self.op_rm(
            Some(Self::float_prefix(double)),
            false,
            &[0x0F, 0x11],
            src.0,
            m,
            false,
        );
    }

    /// `movaps dst, src`: a register copy of either width.
    pub fn movaps(&mut self, dst: Xmm, src: Xmm) {
        self.op_rr(None, false, &[0x0F, 0x28], dst.0, src.0, false);
    }

    pub fn sse(&mut self, op: Sse, double: bool, dst: Xmm, src: Xmm) {
        self.op_rr(
            Some(Self::float_prefix(double)),
            false,
            &[0x0F, op as u8],
            dst.0,
            src.0,
            false,
        );
    }

    pub fn bits(&mut self, op: Bits, dst: Xmm, src: Xmm) {
        self.op_rr(None, false, &[0x0F, op as u8], dst.0, src.0, false);
    }

    /// `ucomiss`/`ucomisd a, b`.
    pub fn ucomis(&mut self, double: bool, a: Xmm, b: Xmm) {
        let prefix = double.then_some(0x66);
        self.op_rr(prefix, false, &[0x0F, 0x2E], a.0, b.0, false);
    }

    /// `movd`/`movq xmm, r`.
    pub fn gpr_to_xmm(&mut self, w: Width, dst: Xmm, src: Gpr) {
        self.op_rr(
            Some(0x66),
            w == Width::W64,
            &[0x0F, 0x6E],
            dst.0,
            src.0,
            false,
        );
    }

    /// `movd`/`movq r, xmm`.
    pub fn xmm_to_gpr(&mut self, w: Width, dst: Gpr, src: Xmm) {
        self.op_rr(
            Some(0x66),
            w == Width::W64,
            &[0x0F, 0x7E],
            src.0,
            dst.0,
            false,
        );
    }

    /// `cvtsi2ss`/`cvtsi2sd xmm, r32/r64`.
    pub fn int_to_float(&mut self, double: bool, w: Width, dst: Xmm, src: Gpr) {
        let p = Self::float_prefix(double);
        self.op_rr(Some(p), w == Width::W64, &[0x0F, 0x2A], dst.0, src.0, false);
    }

    /// `cvttss2si`/`cvttsd2si r32/r64, xmm`: toward zero; the integer
    /// minimum for NaN and out-of-range values.
    pub fn cvtt(&mut self, double: bool, w: Width, dst: Gpr, src: Xmm) {
        let p = Self::float_prefix(double);
        self.op_rr(Some(p), w == Width::W64, &[0x0F, 0x2C], dst.0, src.0, false);
    }

    /// `cvtss2sd` (`to_double`) or `cvtsd2ss`.
    pub fn float_convert(&mut self, to_double: bool, dst: Xmm, src: Xmm) {
        let p = Self::float_prefix(!to_double);
        self.op_rr(Some(p), false, &[0x0F, 0x5A], dst.0, src.0, false);
    }

    /// `roundss`/`roundsd dst, src, mode` (SSE4.1; mode 0 nearest, 1 floor,
    /// 2 ceil, 3 truncate; bit 3 keeps the precision exception quiet).
    pub fn round(&mut self, double: bool, dst: Xmm, src: Xmm, mode: u8) {
        let op = if double { 0x0B } else { 0x0A };
        self.op_rr(Some(0x66), false, &[0x0F, 0x3A, op], dst.0, src.0, false);
        self.byte(mode | 8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Width::{W32, W64};

    fn bytes(f: impl FnOnce(&mut Assembler)) -> Vec<u8> {
        let mut a = Assembler::default();
        f(&mut a);
        a.finish()
    }

    /// Each form against the bytes GNU objdump decodes to the instruction
    /// in the comment.
    #[test]
    fn encodings_match_objdump() {
        let cases: Vec<(Vec<u8>, &[u8])> = vec![
            // mov %rsi,%rax ; mov %r8d,%r11d
            (
                bytes(|a| a.mov_rr(W64, Gpr::RAX, Gpr::RSI)),
                &[0x48, 0x89, 0xF0],
            ),
            (
                bytes(|a| a.mov_rr(W32, Gpr::R11, Gpr::R8)),
                &[0x45, 0x89, 0xC3],
            ),
            // mov -0x18(%rbp),%ecx ; mov 0x0(%r13)? (not used) ; mov (%r14),%rax
            (
                bytes(|a| a.load(W32, Gpr::RCX, Mem::at(Gpr::RBP, -24))),
                &[0x8B, 0x4D, 0xE8],
            ),
            (
                bytes(|a| a.load(W64, Gpr::RAX, Mem::at(Gpr::R14, 0))),
                &[0x49, 0x8B, 0x06],
            ),
            // mov 0x10(%rsp),%rdx (SIB for rsp)
            (
                bytes(|a| a.load(W64, Gpr::RDX, Mem::at(Gpr::RSP, 16))),
                &[0x48, 0x8B, 0x54, 0x24, 0x10],
            ),
            // mov 0x18(%r15,%rcx,1),%eax ; mov 0x12345(%r15,%r9,1),%r10
            (
                bytes(|a| a.load(W32, Gpr::RAX, Mem::indexed(Gpr::R15, Gpr::RCX, 0, 24))),
                &[0x41, 0x8B, 0x44, 0x0F, 0x18],
            ),
            (
                bytes(|a| a.load(W64, Gpr::R10, Mem::indexed(Gpr::R15, Gpr::R9, 0, 0x12345))),
                &[0x4F, 0x8B, 0x94, 0x0F, 0x45, 0x23, 0x01, 0x00],
            ),
            // mov (%r11,%rax,8),%r11
            (
                bytes(|a| a.load(W64, Gpr::R11, Mem::indexed(Gpr::R11, Gpr::RAX, 3, 0))),
                &[0x4D, 0x8B, 0x1C, 0xC3],
            ),
            // mov %sil,0x3(%r15,%rdx,1) ; mov %dx,(%r15,%rax,1)
            (
                bytes(|a| a.store8(Mem::indexed(Gpr::R15, Gpr::RDX, 0, 3), Gpr::RSI)),
                &[0x41, 0x88, 0x74, 0x17, 0x03],
            ),
            (
                bytes(|a| a.store16(Mem::indexed(Gpr::R15, Gpr::RAX, 0, 0), Gpr::RDX)),
                &[0x66, 0x41, 0x89, 0x14, 0x07],
            ),
            // movl $0x7,-0x20(%rbp) ; movq $-1,-0x20(%rbp) ; movb $0x41,(%r15,%rcx,1) ; movw $0x1234,(%r15)
            (
                bytes(|a| a.store_imm(W32, Mem::at(Gpr::RBP, -32), 7)),
                &[0xC7, 0x45, 0xE0, 7, 0, 0, 0],
            ),
            (
                bytes(|a| a.store_imm(W64, Mem::at(Gpr::RBP, -32), -1)),
                &[0x48, 0xC7, 0x45, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF],
            ),
            (
                bytes(|a| a.store8_imm(Mem::indexed(Gpr::R15, Gpr::RCX, 0, 0), 0x41)),
                &[0x41, 0xC6, 0x04, 0x0F, 0x41],
            ),
            (
                bytes(|a| a.store16_imm(Mem::at(Gpr::R15, 0), 0x1234)),
                &[0x66, 0x41, 0xC7, 0x07, 0x34, 0x12],
            ),
            // xor %eax,%eax ; mov $0x12345678,%r9d ; mov $-2,%rcx ; movabs $0x123456789,%rdx
            (bytes(|a| a.mov_imm(Gpr::RAX, 0)), &[0x31, 0xC0]),
            (
                bytes(|a| a.mov_imm(Gpr::R9, 0x1234_5678)),
                &[0x41, 0xB9, 0x78, 0x56, 0x34, 0x12],
            ),
            (
                bytes(|a| a.mov_imm(Gpr::RCX, (-2i64) as u64)),
                &[0x48, 0xC7, 0xC1, 0xFE, 0xFF, 0xFF, 0xFF],
            ),
            (
                bytes(|a| a.mov_imm(Gpr::RDX, 0x1_2345_6789)),
                &[0x48, 0xBA, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0],
            ),
            // movzbl (%r15,%rax,1),%edi ; movswq 0x2(%r15,%rax,1),%rax ; movslq (%r15),%r8
            (
                bytes(|a| a.load_zx(Gpr::RDI, Mem::indexed(Gpr::R15, Gpr::RAX, 0, 0), 1)),
                &[0x41, 0x0F, 0xB6, 0x3C, 0x07],
            ),
            (
                bytes(|a| a.load_sx(W64, Gpr::RAX, Mem::indexed(Gpr::R15, Gpr::RAX, 0, 2), 2)),
                &[0x49, 0x0F, 0xBF, 0x44, 0x07, 0x02],
            ),
            (
                bytes(|a| a.load_sx(W64, Gpr::R8, Mem::at(Gpr::R15, 0), 4)),
                &[0x4D, 0x63, 0x07],
            ),
            // movsbl %sil,%ecx ; movslq %edx,%rdx ; movzbl %dil,%edi
            (
                bytes(|a| a.sx_rr(W32, Gpr::RCX, Gpr::RSI, 1)),
                &[0x40, 0x0F, 0xBE, 0xCE],
            ),
            (
                bytes(|a| a.sx_rr(W64, Gpr::RDX, Gpr::RDX, 4)),
                &[0x48, 0x63, 0xD2],
            ),
            (
                bytes(|a| a.zx8_rr(Gpr::RDI, Gpr::RDI)),
                &[0x40, 0x0F, 0xB6, 0xFF],
            ),
            // add %ecx,%eax ; sub %r8,%rsi ; cmp -0x8(%rbp),%r10d
            (
                bytes(|a| a.alu_rr(Alu::Add, W32, Gpr::RAX, Gpr::RCX)),
                &[0x01, 0xC8],
            ),
            (
                bytes(|a| a.alu_rr(Alu::Sub, W64, Gpr::RSI, Gpr::R8)),
                &[0x4C, 0x29, 0xC6],
            ),
            (
                bytes(|a| a.alu_rm(Alu::Cmp, W32, Gpr::R10, Mem::at(Gpr::RBP, -8))),
                &[0x44, 0x3B, 0x55, 0xF8],
            ),
            // and $0x7f,%edx ; xor $0x12345,%rdi ; add $0x30,%r11 (imm32 form)
            (
                bytes(|a| a.alu_ri(Alu::And, W32, Gpr::RDX, 0x7F)),
                &[0x83, 0xE2, 0x7F],
            ),
            (
                bytes(|a| a.alu_ri(Alu::Xor, W64, Gpr::RDI, 0x12345)),
                &[0x48, 0x81, 0xF7, 0x45, 0x23, 0x01, 0x00],
            ),
            (
                bytes(|a| {
                    a.alu_ri32(Alu::Add, W64, Gpr::R11, 0x30);
                }),
                &[0x49, 0x81, 0xC3, 0x30, 0, 0, 0],
            ),
            // test %r9,%r9 ; imul %esi,%eax ; imul $0x64,%rcx,%rdx ; imul $0x1000,%eax,%eax
            (
                bytes(|a| a.test_rr(W64, Gpr::R9, Gpr::R9)),
                &[0x4D, 0x85, 0xC9],
            ),
            (
                bytes(|a| a.imul_rr(W32, Gpr::RAX, Gpr::RSI)),
                &[0x0F, 0xAF, 0xC6],
            ),
            (
                bytes(|a| a.imul_rri(W64, Gpr::RDX, Gpr::RCX, 100)),
                &[0x48, 0x6B, 0xD1, 0x64],
            ),
            (
                bytes(|a| a.imul_rri(W32, Gpr::RAX, Gpr::RAX, 0x1000)),
                &[0x69, 0xC0, 0, 0x10, 0, 0],
            ),
            // neg %r8 ; idiv %esi ; div %r10
            (
                bytes(|a| a.unary(Unary::Neg, W64, Gpr::R8)),
                &[0x49, 0xF7, 0xD8],
            ),
            (
                bytes(|a| a.unary(Unary::Idiv, W32, Gpr::RSI)),
                &[0xF7, 0xFE],
            ),
            (
                bytes(|a| a.unary(Unary::Div, W64, Gpr::R10)),
                &[0x49, 0xF7, 0xF2],
            ),
            // shl %cl,%eax ; sar $0x3,%r9 ; rol %cl,%rdi ; cltd ; cqto
            (
                bytes(|a| a.shift_cl(Shift::Shl, W32, Gpr::RAX)),
                &[0xD3, 0xE0],
            ),
            (
                bytes(|a| a.shift_ri(Shift::Sar, W64, Gpr::R9, 3)),
                &[0x49, 0xC1, 0xF9, 0x03],
            ),
            (
                bytes(|a| a.shift_cl(Shift::Rol, W64, Gpr::RDI)),
                &[0x48, 0xD3, 0xC7],
            ),
            (bytes(|a| a.sign_extend_ax(W32)), &[0x99]),
            (bytes(|a| a.sign_extend_ax(W64)), &[0x48, 0x99]),
            // setl %sil ; sete %al ; cmove %r11,%rdx ; bsr %ecx,%eax ; bsf %r8,%r9 ; popcnt %rdx,%rax
            (
                bytes(|a| a.setcc(Cond::L, Gpr::RSI)),
                &[0x40, 0x0F, 0x9C, 0xC6],
            ),
            (bytes(|a| a.setcc(Cond::E, Gpr::RAX)), &[0x0F, 0x94, 0xC0]),
            (
                bytes(|a| a.cmov(Cond::E, W64, Gpr::RDX, Gpr::R11)),
                &[0x49, 0x0F, 0x44, 0xD3],
            ),
            (
                bytes(|a| a.bsr(W32, Gpr::RAX, Gpr::RCX)),
                &[0x0F, 0xBD, 0xC1],
            ),
            (
                bytes(|a| a.bsf(W64, Gpr::R9, Gpr::R8)),
                &[0x4D, 0x0F, 0xBC, 0xC8],
            ),
            (
                bytes(|a| a.popcnt(W64, Gpr::RAX, Gpr::RDX)),
                &[0xF3, 0x48, 0x0F, 0xB8, 0xC2],
            ),
            // btr $0x3f,%r11 ; btc $0x1f,%eax
            (
                bytes(|a| a.bit_reset(W64, Gpr::R11, 63)),
                &[0x49, 0x0F, 0xBA, 0xF3, 0x3F],
            ),
            (
                bytes(|a| a.bit_flip(W32, Gpr::RAX, 31)),
                &[0x0F, 0xBA, 0xF8, 0x1F],
            ),
            // lea 0x8(%r11),%rsi ; push %r14 ; pop %r15 ; push %rbp ; ret ; ud2
            (
                bytes(|a| a.lea(Gpr::RSI, Mem::at(Gpr::R11, 8))),
                &[0x49, 0x8D, 0x73, 0x08],
            ),
            (bytes(|a| a.push(Gpr::R14)), &[0x41, 0x56]),
            (bytes(|a| a.pop(Gpr::R15)), &[0x41, 0x5F]),
            (bytes(|a| a.push(Gpr::RBP)), &[0x55]),
            (bytes(|a| a.ret()), &[0xC3]),
            (bytes(|a| a.ud2()), &[0x0F, 0x0B]),
            // call *0x10(%r11) ; jmp *%rax ; call 0 (rel32)
            (
                bytes(|a| a.call_mem(Mem::at(Gpr::R11, 16))),
                &[0x41, 0xFF, 0x53, 0x10],
            ),
            (bytes(|a| a.jmp_reg(Gpr::RAX)), &[0xFF, 0xE0]),
            (
                bytes(|a| {
                    a.call_rel32();
                }),
                &[0xE8, 0, 0, 0, 0],
            ),
            // movss 0x4(%r15,%rax,1),%xmm1 ; movsd %xmm9,-0x18(%rbp) ; movaps %xmm2,%xmm10
            (
                bytes(|a| a.movs_load(false, Xmm(1), Mem::indexed(Gpr::R15, Gpr::RAX, 0, 4))),
                &[0xF3, 0x41, 0x0F, 0x10, 0x4C, 0x07, 0x04],
            ),
            (
                bytes(|a| a.movs_store(true, Mem::at(Gpr::RBP, -24), Xmm(9))),
                &[0xF2, 0x44, 0x0F, 0x11, 0x4D, 0xE8],
            ),
            (
                bytes(|a| a.movaps(Xmm(10), Xmm(2))),
                &[0x44, 0x0F, 0x28, 0xD2],
            ),
            // addss %xmm1,%xmm0 ; divsd %xmm12,%xmm3 ; sqrtsd %xmm3,%xmm3 ; xorps %xmm15,%xmm15
            (
                bytes(|a| a.sse(Sse::Add, false, Xmm(0), Xmm(1))),
                &[0xF3, 0x0F, 0x58, 0xC1],
            ),
            (
                bytes(|a| a.sse(Sse::Div, true, Xmm(3), Xmm(12))),
                &[0xF2, 0x41, 0x0F, 0x5E, 0xDC],
            ),
            (
                bytes(|a| a.sse(Sse::Sqrt, true, Xmm(3), Xmm(3))),
                &[0xF2, 0x0F, 0x51, 0xDB],
            ),
            (
                bytes(|a| a.bits(Bits::Xor, Xmm(15), Xmm(15))),
                &[0x45, 0x0F, 0x57, 0xFF],
            ),
            // ucomiss %xmm1,%xmm0 ; ucomisd %xmm8,%xmm2
            (
                bytes(|a| a.ucomis(false, Xmm(0), Xmm(1))),
                &[0x0F, 0x2E, 0xC1],
            ),
            (
                bytes(|a| a.ucomis(true, Xmm(2), Xmm(8))),
                &[0x66, 0x41, 0x0F, 0x2E, 0xD0],
            ),
            // movd %eax,%xmm0 ; movq %r11,%xmm15 ; movq %xmm2,%rcx ; movd %xmm9,%r8d
            (
                bytes(|a| a.gpr_to_xmm(W32, Xmm(0), Gpr::RAX)),
                &[0x66, 0x0F, 0x6E, 0xC0],
            ),
            (
                bytes(|a| a.gpr_to_xmm(W64, Xmm(15), Gpr::R11)),
                &[0x66, 0x4D, 0x0F, 0x6E, 0xFB],
            ),
            (
                bytes(|a| a.xmm_to_gpr(W64, Gpr::RCX, Xmm(2))),
                &[0x66, 0x48, 0x0F, 0x7E, 0xD1],
            ),
            (
                bytes(|a| a.xmm_to_gpr(W32, Gpr::R8, Xmm(9))),
                &[0x66, 0x45, 0x0F, 0x7E, 0xC8],
            ),
            // cvtsi2sd %rax,%xmm1 ; cvtsi2ss %ecx,%xmm0 ; cvtss2sd %xmm1,%xmm2 ; cvtsd2ss %xmm3,%xmm3
            (
                bytes(|a| a.int_to_float(true, W64, Xmm(1), Gpr::RAX)),
                &[0xF2, 0x48, 0x0F, 0x2A, 0xC8],
            ),
            (
                bytes(|a| a.int_to_float(false, W32, Xmm(0), Gpr::RCX)),
                &[0xF3, 0x0F, 0x2A, 0xC1],
            ),
            (
                bytes(|a| a.float_convert(true, Xmm(2), Xmm(1))),
                &[0xF3, 0x0F, 0x5A, 0xD1],
            ),
            (
                bytes(|a| a.float_convert(false, Xmm(3), Xmm(3))),
                &[0xF2, 0x0F, 0x5A, 0xDB],
            ),
            // cvttsd2si %xmm1,%eax ; cvttss2si %xmm9,%r10
            (
                bytes(|a| a.cvtt(true, W32, Gpr::RAX, Xmm(1))),
                &[0xF2, 0x0F, 0x2C, 0xC1],
            ),
            (
                bytes(|a| a.cvtt(false, W64, Gpr::R10, Xmm(9))),
                &[0xF3, 0x4D, 0x0F, 0x2C, 0xD1],
            ),
            // roundsd $0x9,%xmm1,%xmm0 ; roundss $0xb,%xmm11,%xmm2
            (
                bytes(|a| a.round(true, Xmm(0), Xmm(1), 1)),
                &[0x66, 0x0F, 0x3A, 0x0B, 0xC1, 0x09],
            ),
            (
                bytes(|a| a.round(false, Xmm(2), Xmm(11), 3)),
                &[0x66, 0x41, 0x0F, 0x3A, 0x0A, 0xD3, 0x0B],
            ),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(got.as_slice(), *want, "case {i}");
        }
    }

    #[test]
    fn labels_resolve_forward_and_backward_branches_and_tables() {
        let mut a = Assembler::default();
        let top = a.new_label();
        let out = a.new_label();
        a.bind(top);
        a.jcc(Cond::E, out); // 0: 0f 84 rel32 -> out (at 11)
        a.jmp(top); // 6: e9 rel32 -> 0
        a.ud2(); // 11? no: 6 + 5 = 11
        a.bind(out); // 13
        let table = a.offset();
        a.table_entry(top, table);
        a.table_entry(out, table);
        let code = a.finish();
        assert_eq!(&code[..6], &[0x0F, 0x84, 7, 0, 0, 0]);
        assert_eq!(&code[6..11], &[0xE9, 0xF5, 0xFF, 0xFF, 0xFF]);
        assert_eq!(&code[13..21], &[0xF3, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
    }
}
