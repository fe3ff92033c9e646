//! A small AArch64 assembler: the instruction forms the baseline compiler
//! emits, encoded straight into little-endian instruction words (no
//! intermediate instruction list, so encoding costs a few nanoseconds per
//! instruction), plus labels for branches and jump tables. Every form has a
//! golden-bytes test below, checked against llvm-mc.
//!
//! Register number 31 is the zero register (`xzr`/`wzr`) or the stack
//! pointer depending on the operand, as in the architecture: each method
//! says which of its operands may be `sp`; everywhere else 31 is `zr`.
//!
//! Whatever does not fit its field (a branch beyond its range, a memory or
//! pair offset no form encodes) emits `udf #0` in its place and makes
//! `finish` fail, so the caller declines the function rather than run
//! wrong code; `mem_offset_fits` and `Imm12::new` let it choose another
//! sequence up front.

/// A general-purpose register (0-30, or 31 for `sp`/`zr`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Reg(pub u8);

impl Reg {
    pub const X0: Reg = Reg(0);
    pub const X1: Reg = Reg(1);
    pub const X2: Reg = Reg(2);
    pub const X3: Reg = Reg(3);
    /// The intra-procedure-call scratch registers (ip0, ip1).
    pub const X16: Reg = Reg(16);
    pub const X17: Reg = Reg(17);
    /// Frame pointer and link register.
    pub const FP: Reg = Reg(29);
    pub const LR: Reg = Reg(30);
    /// 31 as the stack pointer (`add`/`sub` immediate and extended register,
    /// memory bases, `ldp`/`stp`).
    pub const SP: Reg = Reg(31);
    /// 31 as the zero register (everywhere else).
    pub const ZR: Reg = Reg(31);
}

/// A SIMD/floating-point register (v0-v31, used as `s` or `d`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VReg(pub u8);

/// Operand width of an integer instruction: `w` or `x` registers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Width {
    W32,
    W64,
}

impl Width {
    /// The `sf` bit (31).
    fn sf(self) -> u32 {
        (self as u32) << 31
    }

    fn bits(self) -> u32 {
        32 << self as u32
    }
}

/// Precision of a float instruction: `s` or `d` registers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FWidth {
    F32,
    F64,
}

impl FWidth {
    /// The `ftype` field (bits 22-23).
    fn ftype(self) -> u32 {
        (self as u32) << 22
    }
}

/// Condition codes (`b.cond`, `csel`, `cset` ...).
///
/// After `cmp a, b` on integers: `Eq`, `Ne`; signed `Lt`, `Le`, `Gt`, `Ge`;
/// unsigned `Lo`, `Ls`, `Hi`, `Hs`.
///
/// After `fcmp a, b` (unordered sets C and V), Wasm's comparisons, which are
/// false on NaN except `ne`, are: eq `Eq`, ne `Ne`, lt `Mi`, le `Ls`, gt
/// `Gt`, ge `Ge`. (`Lt` and `Le` would be true on NaN.) The inverses
/// (`invert`) are then exactly the negated Wasm results, true on NaN.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cond {
    Eq = 0,
    Ne = 1,
    /// Carry set: unsigned `>=`.
    Hs = 2,
    /// Carry clear: unsigned `<`.
    Lo = 3,
    Mi = 4,
    Pl = 5,
    Vs = 6,
    Vc = 7,
    Hi = 8,
    Ls = 9,
    Ge = 10,
    Lt = 11,
    Gt = 12,
    Le = 13,
    Al = 14,
}

impl Cond {
    /// The opposite condition (not for `Al`).
    pub fn invert(self) -> Cond {
        use Cond::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            Hs => Lo,
            Lo => Hs,
            Mi => Pl,
            Pl => Mi,
            Vs => Vc,
            Vc => Vs,
            Hi => Ls,
            Ls => Hi,
            Ge => Lt,
            Lt => Ge,
            Gt => Le,
            Le => Gt,
            Al => panic!("no inverse of al"),
        }
    }
}

/// Add/subtract, the `op` and `S` bits (30, 29) of all three forms.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AddSub {
    Add = 0,
    Adds = 1,
    Sub = 2,
    Subs = 3,
}

/// Logical (shifted register) operations: `opc` and `N` bits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum Logic {
    And = 0x0A00_0000,
    Bic = 0x0A20_0000,
    Orr = 0x2A00_0000,
    Orn = 0x2A20_0000,
    Eor = 0x4A00_0000,
    Ands = 0x6A00_0000,
}

/// Shifts and rotates: the low bits of `lslv`/`lsrv`/`asrv`/`rorv`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shift {
    Lsl = 0,
    Lsr = 1,
    Asr = 2,
    Ror = 3,
}

/// Integer loads: `size` (bits 30-31) and `opc` (22-23). `Ldrb`, `Ldrh`
/// and `Ldr32` zero-extend to 64 bits; the `32`/`64` suffix of a
/// sign-extending load is the width it sign-extends to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum Load {
    Ldrb = 0x0040_0000,
    Ldrsb64 = 0x0080_0000,
    Ldrsb32 = 0x00C0_0000,
    Ldrh = 0x4040_0000,
    Ldrsh64 = 0x4080_0000,
    Ldrsh32 = 0x40C0_0000,
    Ldr32 = 0x8040_0000,
    Ldrsw = 0x8080_0000,
    Ldr64 = 0xC040_0000,
}

/// Integer stores: `size` (bits 30-31).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u32)]
pub enum Store {
    Strb = 0x0000_0000,
    Strh = 0x4000_0000,
    Str32 = 0x8000_0000,
    Str64 = 0xC000_0000,
}

/// A memory operand of `ldr`/`str` and their variants.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mem {
    /// `[base, #off]` (`base` may be `sp`): the unsigned 12-bit form scaled
    /// by the access size when `off` is a non-negative multiple of it that
    /// fits, else the unscaled signed 9-bit `ldur`/`stur` form (-256..=255);
    /// see `mem_offset_fits`.
    Off(Reg, i32),
    /// `[base, wm, uxtw]`: a zero-extended 32-bit index in bytes.
    Uxtw(Reg, Reg),
    /// `[base, wm, uxtw #log2(access size)]`: a zero-extended 32-bit
    /// element index (`ldrsw` of a jump-table entry).
    UxtwScaled(Reg, Reg),
    /// `[base, xm]`: a 64-bit index in bytes.
    Index(Reg, Reg),
    /// `[base, xm, lsl #log2(access size)]`: a 64-bit element index
    /// (`lsl #3` for 64-bit elements).
    Lsl(Reg, Reg),
}

/// Whether `Mem::Off(_, off)` is encodable for an access of `1 << log2_size`
/// bytes (scaled unsigned 12-bit or unscaled signed 9-bit offset).
pub fn mem_offset_fits(log2_size: u32, off: i32) -> bool {
    (off >= 0 && off & ((1 << log2_size) - 1) == 0 && off >> log2_size < 4096)
        || (-256..256).contains(&off)
}

/// Addressing of `ldp`/`stp`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pair {
    /// `[base, #off]`.
    Offset,
    /// `[base, #off]!`: base updated before the access.
    PreIndex,
    /// `[base], #off`: base updated after the access.
    PostIndex,
}

/// Two-operand float arithmetic: the `opcode` field (bits 12-15).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FloatOp {
    Mul = 0,
    Div = 1,
    Add = 2,
    Sub = 3,
    /// NaN-propagating, -0 < +0: Wasm's `max`.
    Max = 4,
    /// NaN-propagating, -0 < +0: Wasm's `min`.
    Min = 5,
}

/// One-operand float operations: the `opcode` field (bits 15-20).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FloatUnary {
    Mov = 0,
    Abs = 1,
    Neg = 2,
    Sqrt = 3,
    /// Round to nearest, ties to even (Wasm's `nearest`).
    Frintn = 8,
    /// Toward +inf (`ceil`).
    Frintp = 9,
    /// Toward -inf (`floor`).
    Frintm = 10,
    /// Toward zero (`trunc`).
    Frintz = 11,
}

/// An add/subtract immediate: 12 bits, optionally shifted left by 12,
/// already placed in bits 10-22.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Imm12(u32);

impl Imm12 {
    pub const ZERO: Imm12 = Imm12(0);
    pub const ONE: Imm12 = Imm12(1 << 10);

    /// `v` as `(imm12 << 12, imm12)`, two immediates that add up to it, if
    /// it is below 2^24.
    pub fn split(v: u32) -> Option<(Imm12, Imm12)> {
        (v < 1 << 24).then_some((Imm12(1 << 22 | (v >> 12) << 10), Imm12((v & 0xFFF) << 10)))
    }
    /// `v` as `imm12` or `imm12 << 12`, if it is either.
    pub fn new(v: u64) -> Option<Imm12> {
        if v < 1 << 12 {
            Some(Imm12((v as u32) << 10))
        } else if v & 0xFFF == 0 && v < 1 << 24 {
            Some(Imm12(1 << 22 | ((v >> 12) as u32) << 10))
        } else {
            None
        }
    }

    /// The value it stands for.
    pub fn value(self) -> u64 {
        let v = u64::from(self.0 >> 10 & 0xFFF);
        if self.0 & 1 << 22 != 0 { v << 12 } else { v }
    }
}

pub(crate) use crate::baseline::masm::Label;

/// How a use of a label encodes the distance to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fixup {
    /// `b`: words, signed 26 bits in bits 0-25.
    Imm26,
    /// `b.cond`, `cbz`, `cbnz`: words, signed 19 bits in bits 5-23.
    Imm19,
    /// `tbz`, `tbnz`: words, signed 14 bits in bits 5-18.
    Imm14,
    /// `adr`: bytes, signed 21 bits, low 2 in bits 29-30, high 19 in 5-23.
    Adr,
    /// A jump-table entry: the 32-bit `target - base`.
    Table(u32),
}

#[derive(Default)]
struct LabelState {
    offset: Option<u32>,
    /// Fields to fill in at `bind`: (instruction or entry offset, kind).
    uses: Vec<(u32, Fixup)>,
}

/// `udf #0`, emitted where an operand did not fit.
const UDF0: u32 = 0;

/// The machine code of one function under construction.
#[derive(Default)]
pub struct Assembler {
    code: Vec<u8>,
    labels: Vec<LabelState>,
    /// Set when an operand did not fit its field (see the file comment).
    out_of_range: bool,
}

fn rd(r: Reg) -> u32 {
    u32::from(r.0)
}

fn rn(r: Reg) -> u32 {
    u32::from(r.0) << 5
}

fn rm(r: Reg) -> u32 {
    u32::from(r.0) << 16
}

fn vd(r: VReg) -> u32 {
    u32::from(r.0)
}

fn vn(r: VReg) -> u32 {
    u32::from(r.0) << 5
}

fn vm(r: VReg) -> u32 {
    u32::from(r.0) << 16
}

impl Assembler {
    pub fn with_capacity(bytes: usize) -> Assembler {
        Assembler {
            code: Vec::with_capacity(bytes),
            labels: Vec::new(),
            out_of_range: false,
        }
    }

    /// The offset the next instruction starts at.
    pub fn offset(&self) -> u32 {
        self.code.len() as u32
    }

    /// The code; every label that was used must have been bound. Fails when
    /// a branch, offset or immediate did not fit (then the function needs
    /// another compiler).
    pub fn finish(self) -> Result<Vec<u8>, &'static str> {
        debug_assert!(
            self.labels
                .iter()
                .all(|l| l.offset.is_some() || l.uses.is_empty())
        );
        if self.out_of_range {
            return Err("aarch64 branch or offset out of range");
        }
        Ok(self.code)
    }

    /// Appends one instruction word.
    pub fn emit(&mut self, word: u32) {
        self.code.extend_from_slice(&word.to_le_bytes());
    }

    fn word_at(&self, at: u32) -> u32 {
        let at = at as usize;
        u32::from_le_bytes(self.code[at..at + 4].try_into().unwrap())
    }

    /// Overwrites the instruction word at `at`.
    pub fn patch_u32(&mut self, at: u32, word: u32) {
        let at = at as usize;
        self.code[at..at + 4].copy_from_slice(&word.to_le_bytes());
    }

    /// Sets the immediate of the `add`/`sub` (immediate) at `at` (a frame
    /// size known only at the end; two of them, one shifted, reach 16 MiB).
    pub fn patch_imm12(&mut self, at: u32, imm: Imm12) {
        let w = self.word_at(at) & !(0x1FFF << 10);
        self.patch_u32(at, w | imm.0);
    }

    /// Sets the 16-bit immediate of the `movz`/`movk`/`movn` at `at`.
    pub fn patch_imm16(&mut self, at: u32, imm: u16) {
        let w = self.word_at(at) & !(0xFFFF << 5);
        self.patch_u32(at, w | u32::from(imm) << 5);
    }

    fn fail(&mut self) -> u32 {
        self.out_of_range = true;
        UDF0
    }

    // -- integer arithmetic and logic ----------------------------------------

    /// `add`/`adds`/`sub`/`subs rd, rn, rm` (no `sp`; 31 is `zr`).
    pub fn add_sub(&mut self, op: AddSub, w: Width, d: Reg, n: Reg, m: Reg) {
        self.emit(0x0B00_0000 | w.sf() | (op as u32) << 29 | rm(m) | rn(n) | rd(d));
    }

    /// `add`/`adds`/`sub`/`subs rd, rn, #imm` (`rn` may be `sp`, and so may
    /// `rd` for `add`/`sub`).
    pub fn add_sub_imm(&mut self, op: AddSub, w: Width, d: Reg, n: Reg, imm: Imm12) {
        self.emit(0x1100_0000 | w.sf() | (op as u32) << 29 | imm.0 | rn(n) | rd(d));
    }

    /// `add xd, xn, wm, uxtw`: a base plus a zero-extended 32-bit index
    /// (`xn` and `xd` may be `sp`).
    pub fn add_uxtw(&mut self, d: Reg, n: Reg, m: Reg) {
        self.emit(0x8B20_4000 | rm(m) | rn(n) | rd(d));
    }

    /// `cmp rn, rm` (`subs zr, rn, rm`).
    pub fn cmp(&mut self, w: Width, n: Reg, m: Reg) {
        self.add_sub(AddSub::Subs, w, Reg::ZR, n, m);
    }

    /// `cmn rn, rm` (`adds zr, rn, rm`).
    pub fn cmn(&mut self, w: Width, n: Reg, m: Reg) {
        self.add_sub(AddSub::Adds, w, Reg::ZR, n, m);
    }

    /// `cmp rn, #imm` (`rn` may be `sp`).
    pub fn cmp_imm(&mut self, w: Width, n: Reg, imm: Imm12) {
        self.add_sub_imm(AddSub::Subs, w, Reg::ZR, n, imm);
    }

    /// `cmn rn, #imm`: compares with `-imm`.
    pub fn cmn_imm(&mut self, w: Width, n: Reg, imm: Imm12) {
        self.add_sub_imm(AddSub::Adds, w, Reg::ZR, n, imm);
    }

    /// `and`/`bic`/`orr`/`orn`/`eor`/`ands rd, rn, rm`.
    pub fn logic(&mut self, op: Logic, w: Width, d: Reg, n: Reg, m: Reg) {
        self.emit(op as u32 | w.sf() | rm(m) | rn(n) | rd(d));
    }

    /// `tst rn, rm` (`ands zr, rn, rm`).
    pub fn tst(&mut self, w: Width, n: Reg, m: Reg) {
        self.logic(Logic::Ands, w, Reg::ZR, n, m);
    }

    /// `mov rd, rm` (`orr rd, zr, rm`); with `W32` it zero-extends (`uxtw`).
    pub fn mov(&mut self, w: Width, d: Reg, m: Reg) {
        self.logic(Logic::Orr, w, d, Reg::ZR, m);
    }

    /// `mov xd, xn` when either is `sp` (`add xd, xn, #0`).
    pub fn mov_sp(&mut self, d: Reg, n: Reg) {
        self.emit(0x9100_0000 | rn(n) | rd(d));
    }

    /// `movz rd, #imm, lsl #shift` (`shift` 0, 16, 32 or 48).
    pub fn movz(&mut self, w: Width, d: Reg, imm: u16, shift: u8) {
        self.mov_wide(0x5280_0000, w, d, imm, shift);
    }

    /// `movk rd, #imm, lsl #shift`: replaces 16 bits, keeps the others.
    pub fn movk(&mut self, w: Width, d: Reg, imm: u16, shift: u8) {
        self.mov_wide(0x7280_0000, w, d, imm, shift);
    }

    /// `movn rd, #imm, lsl #shift`: the complement of `imm << shift`.
    pub fn movn(&mut self, w: Width, d: Reg, imm: u16, shift: u8) {
        self.mov_wide(0x1280_0000, w, d, imm, shift);
    }

    fn mov_wide(&mut self, op: u32, w: Width, d: Reg, imm: u16, shift: u8) {
        debug_assert!(shift.is_multiple_of(16) && u32::from(shift) < w.bits());
        self.emit(op | w.sf() | u32::from(shift / 16) << 21 | u32::from(imm) << 5 | rd(d));
    }

    /// Loads a constant with the fewest `movz`/`movn` + `movk`: a value
    /// whose upper half is zero with `w` instructions (which zero the upper
    /// half), so a 32-bit value can be passed as `v as u32 as u64`; then
    /// `movn` when more 16-bit chunks are all ones than all zeros.
    pub fn mov_imm(&mut self, d: Reg, v: u64) {
        let (w, chunks) = if v >> 32 == 0 {
            (Width::W32, 2)
        } else {
            (Width::W64, 4)
        };
        let chunk = |i: u32| (v >> (16 * i)) as u16;
        let zeros = (0..chunks).filter(|&i| chunk(i) == 0).count();
        let ones = (0..chunks).filter(|&i| chunk(i) == 0xFFFF).count();
        // Chunks equal to `fill` come free with the first instruction.
        let (invert, fill) = if ones > zeros {
            (true, 0xFFFF)
        } else {
            (false, 0)
        };
        let mut first = true;
        for i in 0..chunks {
            let c = chunk(i);
            if c == fill {
                continue;
            }
            let shift = 16 * i as u8;
            if !first {
                self.movk(w, d, c, shift);
            } else if invert {
                self.movn(w, d, !c, shift);
            } else {
                self.movz(w, d, c, shift);
            }
            first = false;
        }
        if first {
            // Every chunk is `fill`: 0, or all ones.
            if invert {
                self.movn(w, d, 0, 0);
            } else {
                self.movz(w, d, 0, 0);
            }
        }
    }

    /// `mul rd, rn, rm` (`madd rd, rn, rm, zr`).
    pub fn mul(&mut self, w: Width, d: Reg, n: Reg, m: Reg) {
        self.madd(w, d, n, m, Reg::ZR);
    }

    /// `madd rd, rn, rm, ra`: `ra + rn * rm`.
    pub fn madd(&mut self, w: Width, d: Reg, n: Reg, m: Reg, a: Reg) {
        self.emit(0x1B00_0000 | w.sf() | rm(m) | u32::from(a.0) << 10 | rn(n) | rd(d));
    }

    /// `msub rd, rn, rm, ra`: `ra - rn * rm` (a remainder from a quotient).
    pub fn msub(&mut self, w: Width, d: Reg, n: Reg, m: Reg, a: Reg) {
        self.emit(0x1B00_8000 | w.sf() | rm(m) | u32::from(a.0) << 10 | rn(n) | rd(d));
    }

    /// `sdiv`/`udiv rd, rn, rm` (no trap: division by zero gives 0, and
    /// `MIN / -1` gives `MIN`).
    pub fn div(&mut self, signed: bool, w: Width, d: Reg, n: Reg, m: Reg) {
        let op = if signed { 0x0C00 } else { 0x0800 };
        self.emit(0x1AC0_0000 | op | w.sf() | rm(m) | rn(n) | rd(d));
    }

    /// `lslv`/`lsrv`/`asrv`/`rorv rd, rn, rm` (the amount modulo the width).
    pub fn shift(&mut self, op: Shift, w: Width, d: Reg, n: Reg, m: Reg) {
        self.emit(0x1AC0_2000 | (op as u32) << 10 | w.sf() | rm(m) | rn(n) | rd(d));
    }

    /// `lsl`/`lsr`/`asr`/`ror rd, rn, #amount` (the amount modulo the
    /// width), as `ubfm`/`sbfm`/`extr`.
    pub fn shift_imm(&mut self, op: Shift, w: Width, d: Reg, n: Reg, amount: u32) {
        let bits = w.bits();
        let s = amount & (bits - 1);
        match op {
            Shift::Lsl => self.ubfm(w, d, n, s.wrapping_neg() & (bits - 1), bits - 1 - s),
            Shift::Lsr => self.ubfm(w, d, n, s, bits - 1),
            Shift::Asr => self.sbfm(w, d, n, s, bits - 1),
            Shift::Ror => self.extr(w, d, n, n, s),
        }
    }

    /// `sbfm rd, rn, #immr, #imms`.
    pub fn sbfm(&mut self, w: Width, d: Reg, n: Reg, immr: u32, imms: u32) {
        self.bitfield(0x1300_0000, w, d, n, immr, imms);
    }

    /// `ubfm rd, rn, #immr, #imms`.
    pub fn ubfm(&mut self, w: Width, d: Reg, n: Reg, immr: u32, imms: u32) {
        self.bitfield(0x5300_0000, w, d, n, immr, imms);
    }

    fn bitfield(&mut self, op: u32, w: Width, d: Reg, n: Reg, immr: u32, imms: u32) {
        debug_assert!(immr < w.bits() && imms < w.bits());
        // N (bit 22) equals sf.
        let sf = w.sf();
        self.emit(op | sf | sf >> 9 | immr << 16 | imms << 10 | rn(n) | rd(d));
    }

    /// `extr rd, rn, rm, #lsb`: bits `lsb..` of the pair `rn:rm`.
    pub fn extr(&mut self, w: Width, d: Reg, n: Reg, m: Reg, lsb: u32) {
        let sf = w.sf();
        self.emit(0x1380_0000 | sf | sf >> 9 | rm(m) | lsb << 10 | rn(n) | rd(d));
    }

    /// `sxtb`/`sxth`/`sxtw rd, wn` (`bits` 8, 16 or 32; 32 needs `W64`).
    pub fn sxt(&mut self, w: Width, d: Reg, n: Reg, bits: u32) {
        debug_assert!(bits < w.bits());
        self.sbfm(w, d, n, 0, bits - 1);
    }

    /// `uxtb`/`uxth wd, wn` or `mov wd, wn` (`bits` 8, 16 or 32): zero
    /// extension to 64 bits.
    pub fn uxt(&mut self, d: Reg, n: Reg, bits: u32) {
        if bits == 32 {
            self.mov(Width::W32, d, n);
        } else {
            self.ubfm(Width::W32, d, n, 0, bits - 1);
        }
    }

    /// `clz rd, rn`.
    pub fn clz(&mut self, w: Width, d: Reg, n: Reg) {
        self.emit(0x5AC0_1000 | w.sf() | rn(n) | rd(d));
    }

    /// `rbit rd, rn` (with `clz`, count trailing zeros).
    pub fn rbit(&mut self, w: Width, d: Reg, n: Reg) {
        self.emit(0x5AC0_0000 | w.sf() | rn(n) | rd(d));
    }

    /// `csel rd, rn, rm, cc`: `cc ? rn : rm`.
    pub fn csel(&mut self, w: Width, d: Reg, n: Reg, m: Reg, cc: Cond) {
        self.emit(0x1A80_0000 | w.sf() | rm(m) | (cc as u32) << 12 | rn(n) | rd(d));
    }

    /// `csinc rd, rn, rm, cc`: `cc ? rn : rm + 1`.
    pub fn csinc(&mut self, w: Width, d: Reg, n: Reg, m: Reg, cc: Cond) {
        self.emit(0x1A80_0400 | w.sf() | rm(m) | (cc as u32) << 12 | rn(n) | rd(d));
    }

    /// `cset rd, cc`: 1 if `cc`, else 0 (`csinc rd, zr, zr, !cc`).
    pub fn cset(&mut self, w: Width, d: Reg, cc: Cond) {
        self.csinc(w, d, Reg::ZR, Reg::ZR, cc.invert());
    }

    // -- loads and stores ----------------------------------------------------

    /// One load/store of the register-offset / unsigned-offset / unscaled
    /// family; `op` holds `size`, `V` and `opc`.
    fn ldst(&mut self, op: u32, t: u32, m: Mem) {
        let log2 = op >> 30;
        let word = match m {
            Mem::Off(base, off) => {
                if off >= 0 && off & ((1 << log2) - 1) == 0 && off >> log2 < 4096 {
                    0x3900_0000 | op | ((off >> log2) as u32) << 10 | rn(base) | t
                } else if (-256..256).contains(&off) {
                    0x3800_0000 | op | (off as u32 & 0x1FF) << 12 | rn(base) | t
                } else {
                    self.fail()
                }
            }
            // Register offset: `option` (bits 13-15) 010 uxtw or 011 lsl,
            // `S` (bit 12) shifts by the access size.
            Mem::Uxtw(base, index) => 0x3820_4800 | op | rm(index) | rn(base) | t,
            Mem::UxtwScaled(base, index) => 0x3820_5800 | op | rm(index) | rn(base) | t,
            Mem::Index(base, index) => 0x3820_6800 | op | rm(index) | rn(base) | t,
            Mem::Lsl(base, index) => 0x3820_7800 | op | rm(index) | rn(base) | t,
        };
        self.emit(word);
    }

    /// `ldrb`/`ldrsb`/`ldrh`/`ldrsh`/`ldr`/`ldrsw` (or `ldur...`) `rt, m`.
    pub fn load(&mut self, op: Load, t: Reg, m: Mem) {
        self.ldst(op as u32, rd(t), m);
    }

    /// `strb`/`strh`/`str` (or `stur...`) `rt, m`.
    pub fn store(&mut self, op: Store, t: Reg, m: Mem) {
        self.ldst(op as u32, rd(t), m);
    }

    /// `ldr st/dt, m` (or `ldur`).
    pub fn fload(&mut self, fw: FWidth, t: VReg, m: Mem) {
        // size 10/11, V, opc 01.
        let op = 0x8440_0000 | (fw as u32) << 30;
        self.ldst(op, vd(t), m);
    }

    /// `str st/dt, m` (or `stur`).
    pub fn fstore(&mut self, fw: FWidth, t: VReg, m: Mem) {
        let op = 0x8400_0000 | (fw as u32) << 30;
        self.ldst(op, vd(t), m);
    }

    /// `stp xt, xt2, ...` (`base` may be `sp`; `off` a multiple of 8 in
    /// -512..=504).
    pub fn stp(&mut self, mode: Pair, t: Reg, t2: Reg, base: Reg, off: i32) {
        self.pair(0, mode, t, t2, base, off);
    }

    /// `ldp xt, xt2, ...` (as `stp`).
    pub fn ldp(&mut self, mode: Pair, t: Reg, t2: Reg, base: Reg, off: i32) {
        self.pair(1 << 22, mode, t, t2, base, off);
    }

    fn pair(&mut self, load: u32, mode: Pair, t: Reg, t2: Reg, base: Reg, off: i32) {
        let op = match mode {
            Pair::Offset => 0xA900_0000,
            Pair::PreIndex => 0xA980_0000,
            Pair::PostIndex => 0xA880_0000,
        };
        let word = if off & 7 == 0 && (-512..512).contains(&off) {
            op | load | (off as u32 >> 3 & 0x7F) << 15 | u32::from(t2.0) << 10 | rn(base) | rd(t)
        } else {
            self.fail()
        };
        self.emit(word);
    }

    // -- calls, branches, labels ---------------------------------------------

    /// `bl 0`; returns its offset, for an R_AARCH64_CALL26 relocation.
    pub fn call(&mut self) -> u32 {
        let at = self.offset();
        self.emit(0x9400_0000);
        at
    }

    /// `blr xn`.
    pub fn blr(&mut self, n: Reg) {
        self.emit(0xD63F_0000 | rn(n));
    }

    /// `br xn`.
    pub fn br(&mut self, n: Reg) {
        self.emit(0xD61F_0000 | rn(n));
    }

    /// `ret` (to `x30`).
    pub fn ret(&mut self) {
        self.emit(0xD65F_03C0);
    }

    /// `udf #imm`: a permanently undefined instruction (a trap).
    pub fn udf(&mut self, imm: u16) {
        self.emit(u32::from(imm));
    }

    pub fn nop(&mut self) {
        self.emit(0xD503_201F);
    }

    pub fn new_label(&mut self) -> Label {
        self.labels.push(LabelState::default());
        Label(self.labels.len() as u32 - 1)
    }

    /// Whether `label` has been bound (a backward target).
    pub fn is_bound(&self, label: Label) -> bool {
        self.labels[label.0 as usize].offset.is_some()
    }

    /// Places `label` here and fills in the uses seen so far.
    pub fn bind(&mut self, label: Label) {
        let here = self.offset();
        let state = &mut self.labels[label.0 as usize];
        debug_assert!(state.offset.is_none(), "label bound twice");
        state.offset = Some(here);
        for (at, kind) in std::mem::take(&mut state.uses) {
            let field = self.field(kind, at, here);
            let word = self.word_at(at);
            self.patch_u32(at, word | field);
        }
    }

    /// The bits that encode `target` for the use at `at`, or sets the
    /// out-of-range flag.
    fn field(&mut self, kind: Fixup, at: u32, target: u32) -> u32 {
        let delta = i64::from(target) - i64::from(at);
        let (v, bits, shift) = match kind {
            Fixup::Imm26 => (delta >> 2, 26, 0),
            Fixup::Imm19 => (delta >> 2, 19, 5),
            Fixup::Imm14 => (delta >> 2, 14, 5),
            Fixup::Adr => {
                if !(-(1 << 20)..1 << 20).contains(&delta) {
                    self.out_of_range = true;
                    return 0;
                }
                let d = delta as u32;
                return (d & 3) << 29 | (d >> 2 & 0x7_FFFF) << 5;
            }
            Fixup::Table(base) => return target.wrapping_sub(base),
        };
        if !(-(1 << (bits - 1))..1 << (bits - 1)).contains(&v) {
            self.out_of_range = true;
            return 0;
        }
        (v as u32 & ((1 << bits) - 1)) << shift
    }

    /// Emits `word` with the field for `label` filled now or at `bind`.
    fn label_use(&mut self, label: Label, kind: Fixup, word: u32) {
        let at = self.offset();
        match self.labels[label.0 as usize].offset {
            Some(target) => {
                let field = self.field(kind, at, target);
                self.emit(word | field);
            }
            None => {
                self.labels[label.0 as usize].uses.push((at, kind));
                self.emit(word);
            }
        }
    }

    /// `b label` (+-128 MiB).
    pub fn b(&mut self, label: Label) {
        self.label_use(label, Fixup::Imm26, 0x1400_0000);
    }

    /// `b.cc label` (+-1 MiB).
    pub fn b_cond(&mut self, cc: Cond, label: Label) {
        self.label_use(label, Fixup::Imm19, 0x5400_0000 | cc as u32);
    }

    /// `cbz rt, label` (+-1 MiB).
    pub fn cbz(&mut self, w: Width, t: Reg, label: Label) {
        self.label_use(label, Fixup::Imm19, 0x3400_0000 | w.sf() | rd(t));
    }

    /// `cbnz rt, label` (+-1 MiB).
    pub fn cbnz(&mut self, w: Width, t: Reg, label: Label) {
        self.label_use(label, Fixup::Imm19, 0x3500_0000 | w.sf() | rd(t));
    }

    /// `tbz rt, #bit, label` (+-32 KiB).
    pub fn tbz(&mut self, t: Reg, bit: u32, label: Label) {
        self.label_use(
            label,
            Fixup::Imm14,
            0x3600_0000 | Self::test_bit(bit) | rd(t),
        );
    }

    /// `tbnz rt, #bit, label` (+-32 KiB).
    pub fn tbnz(&mut self, t: Reg, bit: u32, label: Label) {
        self.label_use(
            label,
            Fixup::Imm14,
            0x3700_0000 | Self::test_bit(bit) | rd(t),
        );
    }

    /// `b5` (bit 31, which also selects `x`) and `b40` (19-23) of `tbz`.
    fn test_bit(bit: u32) -> u32 {
        debug_assert!(bit < 64);
        (bit >> 5) << 31 | (bit & 31) << 19
    }

    /// `adr xd, label` (+-1 MiB): a jump table's address.
    pub fn adr(&mut self, d: Reg, label: Label) {
        self.label_use(label, Fixup::Adr, 0x1000_0000 | rd(d));
    }

    /// A jump-table entry: `label - table` as a 32-bit value.
    pub fn table_entry(&mut self, label: Label, table: u32) {
        self.label_use(label, Fixup::Table(table), 0);
    }

    // -- floats --------------------------------------------------------------

    /// `fadd`/`fsub`/`fmul`/`fdiv`/`fmin`/`fmax vd, vn, vm`.
    pub fn float_op(&mut self, op: FloatOp, fw: FWidth, d: VReg, n: VReg, m: VReg) {
        self.emit(0x1E20_0800 | fw.ftype() | (op as u32) << 12 | vm(m) | vn(n) | vd(d));
    }

    /// `fmov`/`fabs`/`fneg`/`fsqrt`/`frintn`/`frintp`/`frintm`/`frintz vd, vn`.
    pub fn float_unary(&mut self, op: FloatUnary, fw: FWidth, d: VReg, n: VReg) {
        self.emit(0x1E20_4000 | fw.ftype() | (op as u32) << 15 | vn(n) | vd(d));
    }

    /// `fcvt`: to double from single (`to` is `F64`) or the reverse.
    pub fn fcvt(&mut self, to: FWidth, d: VReg, n: VReg) {
        let word = match to {
            FWidth::F64 => 0x1E22_C000,
            FWidth::F32 => 0x1E62_4000,
        };
        self.emit(word | vn(n) | vd(d));
    }

    /// `fcmp vn, vm` (flags: see `Cond`).
    pub fn fcmp(&mut self, fw: FWidth, n: VReg, m: VReg) {
        self.emit(0x1E20_2000 | fw.ftype() | vm(m) | vn(n));
    }

    /// `fcmp vn, #0.0`.
    pub fn fcmp_zero(&mut self, fw: FWidth, n: VReg) {
        self.emit(0x1E20_2008 | fw.ftype() | vn(n));
    }

    /// `fcsel vd, vn, vm, cc`: `cc ? vn : vm`.
    pub fn fcsel(&mut self, fw: FWidth, d: VReg, n: VReg, m: VReg, cc: Cond) {
        self.emit(0x1E20_0C00 | fw.ftype() | vm(m) | (cc as u32) << 12 | vn(n) | vd(d));
    }

    /// `scvtf`/`ucvtf vd, rn`: an integer of width `w` to a float.
    pub fn int_to_float(&mut self, signed: bool, w: Width, fw: FWidth, d: VReg, n: Reg) {
        let op = if signed { 0x1E22_0000 } else { 0x1E23_0000 };
        self.emit(op | w.sf() | fw.ftype() | rn(n) | vd(d));
    }

    /// `fcvtzs`/`fcvtzu rd, vn`: toward zero, saturating, NaN to 0 (Wasm's
    /// `trunc_sat`; the trapping `trunc` needs range checks first).
    pub fn float_to_int(&mut self, signed: bool, w: Width, fw: FWidth, d: Reg, n: VReg) {
        let op = if signed { 0x1E38_0000 } else { 0x1E39_0000 };
        self.emit(op | w.sf() | fw.ftype() | vn(n) | rd(d));
    }

    /// `fmov sd, wn` (`W32`) or `fmov dd, xn` (`W64`): the bits, unchanged
    /// (`zr` gives +0.0).
    pub fn fmov_from_gpr(&mut self, w: Width, d: VReg, n: Reg) {
        let op = match w {
            Width::W32 => 0x1E27_0000,
            Width::W64 => 0x9E67_0000,
        };
        self.emit(op | rn(n) | vd(d));
    }

    /// `fmov wd, sn` (`W32`) or `fmov xd, dn` (`W64`).
    pub fn fmov_to_gpr(&mut self, w: Width, d: Reg, n: VReg) {
        let op = match w {
            Width::W32 => 0x1E26_0000,
            Width::W64 => 0x9E66_0000,
        };
        self.emit(op | vn(n) | rd(d));
    }

    /// `cnt vd.8b, vn.8b`: the population count of each byte (popcount:
    /// `fmov d, x`; `cnt`; `addv`; `fmov w, s`).
    pub fn cnt_8b(&mut self, d: VReg, n: VReg) {
        self.emit(0x0E20_5800 | vn(n) | vd(d));
    }

    /// `addv bd, vn.8b`: the sum of the 8 bytes (zeroes the rest of `vd`).
    pub fn addv_8b(&mut self, d: VReg, n: VReg) {
        self.emit(0x0E31_B800 | vn(n) | vd(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imm12_split_adds_up_and_stops_at_2_pow_24() {
        for v in [0u32, 1, 0xFFF, 0x1000, 0x12345, 0xFF_FFFF] {
            let (high, low) = Imm12::split(v).unwrap();
            assert_eq!(high.value() + low.value(), u64::from(v), "{v:#x}");
        }
        assert!(Imm12::split(1 << 24).is_none());
        assert_eq!(Imm12::ONE.value(), 1);
        assert_eq!(Imm12::ZERO.value(), 0);
    }
    use FWidth::{F32, F64};
    use Width::{W32, W64};

    fn words(f: impl FnOnce(&mut Assembler)) -> Vec<u32> {
        let mut a = Assembler::default();
        f(&mut a);
        let code = a.finish().unwrap();
        code.chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn x(n: u8) -> Reg {
        Reg(n)
    }

    fn v(n: u8) -> VReg {
        VReg(n)
    }

    fn imm(n: u64) -> Imm12 {
        Imm12::new(n).unwrap()
    }

    /// Each form against the words llvm-mc (`--triple=aarch64
    /// -show-encoding`) encodes the instructions in the comment to.
    #[test]
    fn encodings_match_llvm_mc() {
        let cases: Vec<(Vec<u32>, &[u32])> = vec![
            // add w0, w1, w2
            (
                words(|a| a.add_sub(AddSub::Add, W32, x(0), x(1), x(2))),
                &[0x0B02_0020],
            ),
            // adds x3, x4, x5
            (
                words(|a| a.add_sub(AddSub::Adds, W64, x(3), x(4), x(5))),
                &[0xAB05_0083],
            ),
            // sub x9, x10, x11
            (
                words(|a| a.add_sub(AddSub::Sub, W64, x(9), x(10), x(11))),
                &[0xCB0B_0149],
            ),
            // subs w12, w13, w14
            (
                words(|a| a.add_sub(AddSub::Subs, W32, x(12), x(13), x(14))),
                &[0x6B0E_01AC],
            ),
            // sub x0, xzr, x1
            (
                words(|a| a.add_sub(AddSub::Sub, W64, x(0), Reg::ZR, x(1))),
                &[0xCB01_03E0],
            ),
            // add x0, sp, #16
            (
                words(|a| a.add_sub_imm(AddSub::Add, W64, x(0), Reg::SP, imm(16))),
                &[0x9100_43E0],
            ),
            // sub sp, sp, #4095
            (
                words(|a| a.add_sub_imm(AddSub::Sub, W64, Reg::SP, Reg::SP, imm(4095))),
                &[0xD13F_FFFF],
            ),
            // sub sp, sp, #1, lsl #12
            (
                words(|a| a.add_sub_imm(AddSub::Sub, W64, Reg::SP, Reg::SP, imm(4096))),
                &[0xD140_07FF],
            ),
            // adds w1, w2, #4095, lsl #12
            (
                words(|a| a.add_sub_imm(AddSub::Adds, W32, x(1), x(2), imm(0xFF_F000))),
                &[0x317F_FC41],
            ),
            // subs x1, x2, #7
            (
                words(|a| a.add_sub_imm(AddSub::Subs, W64, x(1), x(2), imm(7))),
                &[0xF100_1C41],
            ),
            // add x0, x1, w2, uxtw
            (words(|a| a.add_uxtw(x(0), x(1), x(2))), &[0x8B22_4020]),
            // add x3, sp, w4, uxtw
            (words(|a| a.add_uxtw(x(3), Reg::SP, x(4))), &[0x8B24_43E3]),
            // cmp w0, w1
            (words(|a| a.cmp(W32, x(0), x(1))), &[0x6B01_001F]),
            // cmn x2, x3
            (words(|a| a.cmn(W64, x(2), x(3))), &[0xAB03_005F]),
            // cmp x0, #42
            (words(|a| a.cmp_imm(W64, x(0), imm(42))), &[0xF100_A81F]),
            // cmp sp, #16
            (words(|a| a.cmp_imm(W64, Reg::SP, imm(16))), &[0xF100_43FF]),
            // cmn w5, #1
            (words(|a| a.cmn_imm(W32, x(5), imm(1))), &[0x3100_04BF]),
            // and w0, w1, w2
            (
                words(|a| a.logic(Logic::And, W32, x(0), x(1), x(2))),
                &[0x0A02_0020],
            ),
            // bic x0, x1, x2
            (
                words(|a| a.logic(Logic::Bic, W64, x(0), x(1), x(2))),
                &[0x8A22_0020],
            ),
            // orr x3, x4, x5
            (
                words(|a| a.logic(Logic::Orr, W64, x(3), x(4), x(5))),
                &[0xAA05_0083],
            ),
            // orn w6, wzr, w7
            (
                words(|a| a.logic(Logic::Orn, W32, x(6), Reg::ZR, x(7))),
                &[0x2A27_03E6],
            ),
            // eor x8, x9, x10
            (
                words(|a| a.logic(Logic::Eor, W64, x(8), x(9), x(10))),
                &[0xCA0A_0128],
            ),
            // ands w11, w12, w13
            (
                words(|a| a.logic(Logic::Ands, W32, x(11), x(12), x(13))),
                &[0x6A0D_018B],
            ),
            // tst x0, x1
            (words(|a| a.tst(W64, x(0), x(1))), &[0xEA01_001F]),
            // mov x0, x1
            (words(|a| a.mov(W64, x(0), x(1))), &[0xAA01_03E0]),
            // mov w2, w3
            (words(|a| a.mov(W32, x(2), x(3))), &[0x2A03_03E2]),
            // mov x29, sp
            (words(|a| a.mov_sp(Reg::FP, Reg::SP)), &[0x9100_03FD]),
            // mov sp, x29
            (words(|a| a.mov_sp(Reg::SP, Reg::FP)), &[0x9100_03BF]),
            // movz x0, #0x1234, lsl #48
            (words(|a| a.movz(W64, x(0), 0x1234, 48)), &[0xD2E2_4680]),
            // movk w1, #0xffff, lsl #16
            (words(|a| a.movk(W32, x(1), 0xFFFF, 16)), &[0x72BF_FFE1]),
            // movn x2, #5, lsl #32
            (words(|a| a.movn(W64, x(2), 5, 32)), &[0x92C0_00A2]),
            // mul w0, w1, w2
            (words(|a| a.mul(W32, x(0), x(1), x(2))), &[0x1B02_7C20]),
            // madd x3, x4, x5, x6
            (
                words(|a| a.madd(W64, x(3), x(4), x(5), x(6))),
                &[0x9B05_1883],
            ),
            // msub w7, w8, w9, w10
            (
                words(|a| a.msub(W32, x(7), x(8), x(9), x(10))),
                &[0x1B09_A907],
            ),
            // sdiv x0, x1, x2
            (
                words(|a| a.div(true, W64, x(0), x(1), x(2))),
                &[0x9AC2_0C20],
            ),
            // udiv w3, w4, w5
            (
                words(|a| a.div(false, W32, x(3), x(4), x(5))),
                &[0x1AC5_0883],
            ),
            // lslv w0, w1, w2
            (
                words(|a| a.shift(Shift::Lsl, W32, x(0), x(1), x(2))),
                &[0x1AC2_2020],
            ),
            // lsrv x3, x4, x5
            (
                words(|a| a.shift(Shift::Lsr, W64, x(3), x(4), x(5))),
                &[0x9AC5_2483],
            ),
            // asrv w6, w7, w8
            (
                words(|a| a.shift(Shift::Asr, W32, x(6), x(7), x(8))),
                &[0x1AC8_28E6],
            ),
            // rorv x9, x10, x11
            (
                words(|a| a.shift(Shift::Ror, W64, x(9), x(10), x(11))),
                &[0x9ACB_2D49],
            ),
            // lsl w0, w1, #3
            (
                words(|a| a.shift_imm(Shift::Lsl, W32, x(0), x(1), 3)),
                &[0x531D_7020],
            ),
            // lsl w0, w1, #1
            (
                words(|a| a.shift_imm(Shift::Lsl, W32, x(0), x(1), 33)),
                &[0x531F_7820],
            ),
            // lsl x0, x1, #63
            (
                words(|a| a.shift_imm(Shift::Lsl, W64, x(0), x(1), 63)),
                &[0xD341_0020],
            ),
            // lsl x2, x3, #0
            (
                words(|a| a.shift_imm(Shift::Lsl, W64, x(2), x(3), 0)),
                &[0xD340_FC62],
            ),
            // lsr w4, w5, #31
            (
                words(|a| a.shift_imm(Shift::Lsr, W32, x(4), x(5), 31)),
                &[0x531F_7CA4],
            ),
            // lsr x4, x5, #1
            (
                words(|a| a.shift_imm(Shift::Lsr, W64, x(4), x(5), 1)),
                &[0xD341_FCA4],
            ),
            // asr w6, w7, #5
            (
                words(|a| a.shift_imm(Shift::Asr, W32, x(6), x(7), 5)),
                &[0x1305_7CE6],
            ),
            // asr x6, x7, #63
            (
                words(|a| a.shift_imm(Shift::Asr, W64, x(6), x(7), 63)),
                &[0x937F_FCE6],
            ),
            // ror w8, w9, #7
            (
                words(|a| a.shift_imm(Shift::Ror, W32, x(8), x(9), 7)),
                &[0x1389_1D28],
            ),
            // ror x8, x9, #60
            (
                words(|a| a.shift_imm(Shift::Ror, W64, x(8), x(9), 60)),
                &[0x93C9_F128],
            ),
            // sbfm x0, x1, #4, #11
            (words(|a| a.sbfm(W64, x(0), x(1), 4, 11)), &[0x9344_2C20]),
            // ubfm w2, w3, #8, #15
            (words(|a| a.ubfm(W32, x(2), x(3), 8, 15)), &[0x5308_3C62]),
            // extr x0, x1, x2, #12
            (words(|a| a.extr(W64, x(0), x(1), x(2), 12)), &[0x93C2_3020]),
            // sxtb w0, w1
            (words(|a| a.sxt(W32, x(0), x(1), 8)), &[0x1300_1C20]),
            // sxtb x0, w1
            (words(|a| a.sxt(W64, x(0), x(1), 8)), &[0x9340_1C20]),
            // sxth w2, w3
            (words(|a| a.sxt(W32, x(2), x(3), 16)), &[0x1300_3C62]),
            // sxth x2, w3
            (words(|a| a.sxt(W64, x(2), x(3), 16)), &[0x9340_3C62]),
            // sxtw x4, w5
            (words(|a| a.sxt(W64, x(4), x(5), 32)), &[0x9340_7CA4]),
            // uxtb w0, w1
            (words(|a| a.uxt(x(0), x(1), 8)), &[0x5300_1C20]),
            // uxth w2, w3
            (words(|a| a.uxt(x(2), x(3), 16)), &[0x5300_3C62]),
            // mov w4, w5
            (words(|a| a.uxt(x(4), x(5), 32)), &[0x2A05_03E4]),
            // clz w0, w1
            (words(|a| a.clz(W32, x(0), x(1))), &[0x5AC0_1020]),
            // clz x2, x3
            (words(|a| a.clz(W64, x(2), x(3))), &[0xDAC0_1062]),
            // rbit w4, w5
            (words(|a| a.rbit(W32, x(4), x(5))), &[0x5AC0_00A4]),
            // rbit x6, x7
            (words(|a| a.rbit(W64, x(6), x(7))), &[0xDAC0_00E6]),
            // csel w0, w1, w2, eq
            (
                words(|a| a.csel(W32, x(0), x(1), x(2), Cond::Eq)),
                &[0x1A82_0020],
            ),
            // csel x3, x4, x5, lt
            (
                words(|a| a.csel(W64, x(3), x(4), x(5), Cond::Lt)),
                &[0x9A85_B083],
            ),
            // csinc x0, x1, x2, hi
            (
                words(|a| a.csinc(W64, x(0), x(1), x(2), Cond::Hi)),
                &[0x9A82_8420],
            ),
            // cset w0, eq
            (words(|a| a.cset(W32, x(0), Cond::Eq)), &[0x1A9F_17E0]),
            // cset x1, lo
            (words(|a| a.cset(W64, x(1), Cond::Lo)), &[0x9A9F_27E1]),
            // cset w2, mi
            (words(|a| a.cset(W32, x(2), Cond::Mi)), &[0x1A9F_57E2]),
            // cset w3, le
            (words(|a| a.cset(W32, x(3), Cond::Le)), &[0x1A9F_C7E3]),
            // fmov d0, x1 ; cnt v0.8b, v0.8b ; addv b0, v0.8b ; fmov w1, s0
            (
                words(|a| {
                    a.fmov_from_gpr(W64, v(0), x(1));
                    a.cnt_8b(v(0), v(0));
                    a.addv_8b(v(0), v(0));
                    a.fmov_to_gpr(W32, x(1), v(0));
                }),
                &[0x9E67_0020, 0x0E20_5800, 0x0E31_B800, 0x1E26_0001],
            ),
            // ldrb w0, [x1]
            (
                words(|a| a.load(Load::Ldrb, x(0), Mem::Off(x(1), 0))),
                &[0x3940_0020],
            ),
            // ldrb w0, [x1, #4095]
            (
                words(|a| a.load(Load::Ldrb, x(0), Mem::Off(x(1), 4095))),
                &[0x397F_FC20],
            ),
            // ldrsb w2, [x3, #1]
            (
                words(|a| a.load(Load::Ldrsb32, x(2), Mem::Off(x(3), 1))),
                &[0x39C0_0462],
            ),
            // ldrsb x2, [x3, #7]
            (
                words(|a| a.load(Load::Ldrsb64, x(2), Mem::Off(x(3), 7))),
                &[0x3980_1C62],
            ),
            // ldrh w4, [x5, #8190]
            (
                words(|a| a.load(Load::Ldrh, x(4), Mem::Off(x(5), 8190))),
                &[0x797F_FCA4],
            ),
            // ldrsh w6, [x7, #2]
            (
                words(|a| a.load(Load::Ldrsh32, x(6), Mem::Off(x(7), 2))),
                &[0x79C0_04E6],
            ),
            // ldrsh x6, [x7, #4]
            (
                words(|a| a.load(Load::Ldrsh64, x(6), Mem::Off(x(7), 4))),
                &[0x7980_08E6],
            ),
            // ldr w8, [x9, #16380]
            (
                words(|a| a.load(Load::Ldr32, x(8), Mem::Off(x(9), 16380))),
                &[0xB97F_FD28],
            ),
            // ldrsw x10, [x11, #4]
            (
                words(|a| a.load(Load::Ldrsw, x(10), Mem::Off(x(11), 4))),
                &[0xB980_056A],
            ),
            // ldr x12, [sp, #32760]
            (
                words(|a| a.load(Load::Ldr64, x(12), Mem::Off(Reg::SP, 32760))),
                &[0xF97F_FFEC],
            ),
            // ldr x12, [x13, #8]
            (
                words(|a| a.load(Load::Ldr64, x(12), Mem::Off(x(13), 8))),
                &[0xF940_05AC],
            ),
            // ldurb w0, [x1, #-1]
            (
                words(|a| a.load(Load::Ldrb, x(0), Mem::Off(x(1), -1))),
                &[0x385F_F020],
            ),
            // ldursb w0, [x1, #-256]
            (
                words(|a| a.load(Load::Ldrsb32, x(0), Mem::Off(x(1), -256))),
                &[0x38D0_0020],
            ),
            // ldursb x0, [x1, #-7]
            (
                words(|a| a.load(Load::Ldrsb64, x(0), Mem::Off(x(1), -7))),
                &[0x389F_9020],
            ),
            // ldurh w2, [x3, #1]
            (
                words(|a| a.load(Load::Ldrh, x(2), Mem::Off(x(3), 1))),
                &[0x7840_1062],
            ),
            // ldursh w2, [x3, #-2]
            (
                words(|a| a.load(Load::Ldrsh32, x(2), Mem::Off(x(3), -2))),
                &[0x78DF_E062],
            ),
            // ldursh x2, [x3, #3]
            (
                words(|a| a.load(Load::Ldrsh64, x(2), Mem::Off(x(3), 3))),
                &[0x7880_3062],
            ),
            // ldur w4, [x5, #-4]
            (
                words(|a| a.load(Load::Ldr32, x(4), Mem::Off(x(5), -4))),
                &[0xB85F_C0A4],
            ),
            // ldur w4, [x5, #2]
            (
                words(|a| a.load(Load::Ldr32, x(4), Mem::Off(x(5), 2))),
                &[0xB840_20A4],
            ),
            // ldursw x6, [x7, #-8]
            (
                words(|a| a.load(Load::Ldrsw, x(6), Mem::Off(x(7), -8))),
                &[0xB89F_80E6],
            ),
            // ldur x8, [x29, #-16]
            (
                words(|a| a.load(Load::Ldr64, x(8), Mem::Off(Reg::FP, -16))),
                &[0xF85F_03A8],
            ),
            // ldur x8, [x9, #255]
            (
                words(|a| a.load(Load::Ldr64, x(8), Mem::Off(x(9), 255))),
                &[0xF84F_F128],
            ),
            // ldrb w0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldrb, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x3862_4820],
            ),
            // ldrsb w0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldrsb32, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x38E2_4820],
            ),
            // ldrsb x0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldrsb64, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x38A2_4820],
            ),
            // ldrh w0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldrh, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x7862_4820],
            ),
            // ldrsh w0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldrsh32, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x78E2_4820],
            ),
            // ldrsh x0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldrsh64, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x78A2_4820],
            ),
            // ldr w0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldr32, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0xB862_4820],
            ),
            // ldrsw x0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldrsw, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0xB8A2_4820],
            ),
            // ldr x0, [x1, w2, uxtw]
            (
                words(|a| a.load(Load::Ldr64, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0xF862_4820],
            ),
            // ldrsw x17, [x16, w0, uxtw #2]
            (
                words(|a| a.load(Load::Ldrsw, x(17), Mem::UxtwScaled(x(16), x(0)))),
                &[0xB8A0_5A11],
            ),
            // ldr x3, [x4, x5, lsl #3]
            (
                words(|a| a.load(Load::Ldr64, x(3), Mem::Lsl(x(4), x(5)))),
                &[0xF865_7883],
            ),
            // ldr w3, [x4, x5, lsl #2]
            (
                words(|a| a.load(Load::Ldr32, x(3), Mem::Lsl(x(4), x(5)))),
                &[0xB865_7883],
            ),
            // ldr x3, [x4, x5]
            (
                words(|a| a.load(Load::Ldr64, x(3), Mem::Index(x(4), x(5)))),
                &[0xF865_6883],
            ),
            // strb w0, [x1, #4095]
            (
                words(|a| a.store(Store::Strb, x(0), Mem::Off(x(1), 4095))),
                &[0x393F_FC20],
            ),
            // strh w2, [x3, #2]
            (
                words(|a| a.store(Store::Strh, x(2), Mem::Off(x(3), 2))),
                &[0x7900_0462],
            ),
            // str w4, [x5, #4]
            (
                words(|a| a.store(Store::Str32, x(4), Mem::Off(x(5), 4))),
                &[0xB900_04A4],
            ),
            // str x6, [sp, #8]
            (
                words(|a| a.store(Store::Str64, x(6), Mem::Off(Reg::SP, 8))),
                &[0xF900_07E6],
            ),
            // str xzr, [x29, #16]
            (
                words(|a| a.store(Store::Str64, Reg::ZR, Mem::Off(Reg::FP, 16))),
                &[0xF900_0BBF],
            ),
            // sturb w0, [x1, #-1]
            (
                words(|a| a.store(Store::Strb, x(0), Mem::Off(x(1), -1))),
                &[0x381F_F020],
            ),
            // sturh w2, [x3, #-2]
            (
                words(|a| a.store(Store::Strh, x(2), Mem::Off(x(3), -2))),
                &[0x781F_E062],
            ),
            // stur w4, [x5, #1]
            (
                words(|a| a.store(Store::Str32, x(4), Mem::Off(x(5), 1))),
                &[0xB800_10A4],
            ),
            // stur x6, [x29, #-8]
            (
                words(|a| a.store(Store::Str64, x(6), Mem::Off(Reg::FP, -8))),
                &[0xF81F_83A6],
            ),
            // strb w0, [x1, w2, uxtw]
            (
                words(|a| a.store(Store::Strb, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x3822_4820],
            ),
            // strh w0, [x1, w2, uxtw]
            (
                words(|a| a.store(Store::Strh, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0x7822_4820],
            ),
            // str w0, [x1, w2, uxtw]
            (
                words(|a| a.store(Store::Str32, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0xB822_4820],
            ),
            // str x0, [x1, w2, uxtw]
            (
                words(|a| a.store(Store::Str64, x(0), Mem::Uxtw(x(1), x(2)))),
                &[0xF822_4820],
            ),
            // str x0, [x1, x2, lsl #3]
            (
                words(|a| a.store(Store::Str64, x(0), Mem::Lsl(x(1), x(2)))),
                &[0xF822_7820],
            ),
            // ldr s0, [x1, #4]
            (
                words(|a| a.fload(F32, v(0), Mem::Off(x(1), 4))),
                &[0xBD40_0420],
            ),
            // ldr d2, [x3, #32760]
            (
                words(|a| a.fload(F64, v(2), Mem::Off(x(3), 32760))),
                &[0xFD7F_FC62],
            ),
            // ldur s4, [x5, #-4]
            (
                words(|a| a.fload(F32, v(4), Mem::Off(x(5), -4))),
                &[0xBC5F_C0A4],
            ),
            // ldur d6, [x29, #-24]
            (
                words(|a| a.fload(F64, v(6), Mem::Off(Reg::FP, -24))),
                &[0xFC5E_83A6],
            ),
            // ldr s0, [x1, w2, uxtw]
            (
                words(|a| a.fload(F32, v(0), Mem::Uxtw(x(1), x(2)))),
                &[0xBC62_4820],
            ),
            // ldr d0, [x1, w2, uxtw]
            (
                words(|a| a.fload(F64, v(0), Mem::Uxtw(x(1), x(2)))),
                &[0xFC62_4820],
            ),
            // ldr d3, [x4, x5, lsl #3]
            (
                words(|a| a.fload(F64, v(3), Mem::Lsl(x(4), x(5)))),
                &[0xFC65_7883],
            ),
            // str s7, [x8]
            (
                words(|a| a.fstore(F32, v(7), Mem::Off(x(8), 0))),
                &[0xBD00_0107],
            ),
            // str d9, [sp, #16]
            (
                words(|a| a.fstore(F64, v(9), Mem::Off(Reg::SP, 16))),
                &[0xFD00_0BE9],
            ),
            // stur s10, [x11, #-1]
            (
                words(|a| a.fstore(F32, v(10), Mem::Off(x(11), -1))),
                &[0xBC1F_F16A],
            ),
            // stur d12, [x13, #-256]
            (
                words(|a| a.fstore(F64, v(12), Mem::Off(x(13), -256))),
                &[0xFC10_01AC],
            ),
            // str s0, [x1, w2, uxtw]
            (
                words(|a| a.fstore(F32, v(0), Mem::Uxtw(x(1), x(2)))),
                &[0xBC22_4820],
            ),
            // str d31, [x1, w2, uxtw]
            (
                words(|a| a.fstore(F64, v(31), Mem::Uxtw(x(1), x(2)))),
                &[0xFC22_483F],
            ),
            // stp x29, x30, [sp, #-16]!
            (
                words(|a| a.stp(Pair::PreIndex, Reg::FP, Reg::LR, Reg::SP, -16)),
                &[0xA9BF_7BFD],
            ),
            // ldp x29, x30, [sp], #16
            (
                words(|a| a.ldp(Pair::PostIndex, Reg::FP, Reg::LR, Reg::SP, 16)),
                &[0xA8C1_7BFD],
            ),
            // stp x19, x20, [sp, #16]
            (
                words(|a| a.stp(Pair::Offset, x(19), x(20), Reg::SP, 16)),
                &[0xA901_53F3],
            ),
            // ldp x19, x20, [x29, #-512]
            (
                words(|a| a.ldp(Pair::Offset, x(19), x(20), Reg::FP, -512)),
                &[0xA960_53B3],
            ),
            // stp x0, x1, [x2, #504]
            (
                words(|a| a.stp(Pair::Offset, x(0), x(1), x(2), 504)),
                &[0xA91F_8440],
            ),
            // ldp x21, x22, [sp, #32]!
            (
                words(|a| a.ldp(Pair::PreIndex, x(21), x(22), Reg::SP, 32)),
                &[0xA9C2_5BF5],
            ),
            // stp x1, x2, [sp], #-16
            (
                words(|a| a.stp(Pair::PostIndex, x(1), x(2), Reg::SP, -16)),
                &[0xA8BF_0BE1],
            ),
            // bl #0
            (
                words(|a| {
                    a.call();
                }),
                &[0x9400_0000],
            ),
            // blr x16
            (words(|a| a.blr(Reg::X16)), &[0xD63F_0200]),
            // br x17
            (words(|a| a.br(Reg::X17)), &[0xD61F_0220]),
            // ret
            (words(|a| a.ret()), &[0xD65F_03C0]),
            // udf #0
            (words(|a| a.udf(0)), &[0x0000_0000]),
            // udf #49439
            (words(|a| a.udf(0xC11F)), &[0x0000_C11F]),
            // nop
            (words(|a| a.nop()), &[0xD503_201F]),
            // fadd s0, s1, s2
            (
                words(|a| a.float_op(FloatOp::Add, F32, v(0), v(1), v(2))),
                &[0x1E22_2820],
            ),
            // fsub d3, d4, d5
            (
                words(|a| a.float_op(FloatOp::Sub, F64, v(3), v(4), v(5))),
                &[0x1E65_3883],
            ),
            // fmul s6, s7, s8
            (
                words(|a| a.float_op(FloatOp::Mul, F32, v(6), v(7), v(8))),
                &[0x1E28_08E6],
            ),
            // fdiv d9, d10, d11
            (
                words(|a| a.float_op(FloatOp::Div, F64, v(9), v(10), v(11))),
                &[0x1E6B_1949],
            ),
            // fmin s12, s13, s14
            (
                words(|a| a.float_op(FloatOp::Min, F32, v(12), v(13), v(14))),
                &[0x1E2E_59AC],
            ),
            // fmax d15, d16, d17
            (
                words(|a| a.float_op(FloatOp::Max, F64, v(15), v(16), v(17))),
                &[0x1E71_4A0F],
            ),
            // fmin d18, d19, d20
            (
                words(|a| a.float_op(FloatOp::Min, F64, v(18), v(19), v(20))),
                &[0x1E74_5A72],
            ),
            // fmax s21, s22, s31
            (
                words(|a| a.float_op(FloatOp::Max, F32, v(21), v(22), v(31))),
                &[0x1E3F_4AD5],
            ),
            // fmov s0, s1
            (
                words(|a| a.float_unary(FloatUnary::Mov, F32, v(0), v(1))),
                &[0x1E20_4020],
            ),
            // fmov d2, d3
            (
                words(|a| a.float_unary(FloatUnary::Mov, F64, v(2), v(3))),
                &[0x1E60_4062],
            ),
            // fabs s4, s5
            (
                words(|a| a.float_unary(FloatUnary::Abs, F32, v(4), v(5))),
                &[0x1E20_C0A4],
            ),
            // fabs d6, d7
            (
                words(|a| a.float_unary(FloatUnary::Abs, F64, v(6), v(7))),
                &[0x1E60_C0E6],
            ),
            // fneg s8, s9
            (
                words(|a| a.float_unary(FloatUnary::Neg, F32, v(8), v(9))),
                &[0x1E21_4128],
            ),
            // fneg d10, d11
            (
                words(|a| a.float_unary(FloatUnary::Neg, F64, v(10), v(11))),
                &[0x1E61_416A],
            ),
            // fsqrt s12, s13
            (
                words(|a| a.float_unary(FloatUnary::Sqrt, F32, v(12), v(13))),
                &[0x1E21_C1AC],
            ),
            // fsqrt d14, d15
            (
                words(|a| a.float_unary(FloatUnary::Sqrt, F64, v(14), v(15))),
                &[0x1E61_C1EE],
            ),
            // frintn s0, s1
            (
                words(|a| a.float_unary(FloatUnary::Frintn, F32, v(0), v(1))),
                &[0x1E24_4020],
            ),
            // frintn d0, d1
            (
                words(|a| a.float_unary(FloatUnary::Frintn, F64, v(0), v(1))),
                &[0x1E64_4020],
            ),
            // frintm s2, s3
            (
                words(|a| a.float_unary(FloatUnary::Frintm, F32, v(2), v(3))),
                &[0x1E25_4062],
            ),
            // frintm d2, d3
            (
                words(|a| a.float_unary(FloatUnary::Frintm, F64, v(2), v(3))),
                &[0x1E65_4062],
            ),
            // frintp s4, s5
            (
                words(|a| a.float_unary(FloatUnary::Frintp, F32, v(4), v(5))),
                &[0x1E24_C0A4],
            ),
            // frintp d4, d5
            (
                words(|a| a.float_unary(FloatUnary::Frintp, F64, v(4), v(5))),
                &[0x1E64_C0A4],
            ),
            // frintz s6, s7
            (
                words(|a| a.float_unary(FloatUnary::Frintz, F32, v(6), v(7))),
                &[0x1E25_C0E6],
            ),
            // frintz d6, d7
            (
                words(|a| a.float_unary(FloatUnary::Frintz, F64, v(6), v(7))),
                &[0x1E65_C0E6],
            ),
            // fcvt d0, s1
            (words(|a| a.fcvt(F64, v(0), v(1))), &[0x1E22_C020]),
            // fcvt s2, d3
            (words(|a| a.fcvt(F32, v(2), v(3))), &[0x1E62_4062]),
            // fcmp s0, s1
            (words(|a| a.fcmp(F32, v(0), v(1))), &[0x1E21_2000]),
            // fcmp d2, d3
            (words(|a| a.fcmp(F64, v(2), v(3))), &[0x1E63_2040]),
            // fcmp s4, #0.0
            (words(|a| a.fcmp_zero(F32, v(4))), &[0x1E20_2088]),
            // fcmp d5, #0.0
            (words(|a| a.fcmp_zero(F64, v(5))), &[0x1E60_20A8]),
            // fcsel s0, s1, s2, eq
            (
                words(|a| a.fcsel(F32, v(0), v(1), v(2), Cond::Eq)),
                &[0x1E22_0C20],
            ),
            // fcsel d3, d4, d5, gt
            (
                words(|a| a.fcsel(F64, v(3), v(4), v(5), Cond::Gt)),
                &[0x1E65_CC83],
            ),
            // scvtf s0, w1
            (
                words(|a| a.int_to_float(true, W32, F32, v(0), x(1))),
                &[0x1E22_0020],
            ),
            // scvtf s0, x1
            (
                words(|a| a.int_to_float(true, W64, F32, v(0), x(1))),
                &[0x9E22_0020],
            ),
            // scvtf d2, w3
            (
                words(|a| a.int_to_float(true, W32, F64, v(2), x(3))),
                &[0x1E62_0062],
            ),
            // scvtf d2, x3
            (
                words(|a| a.int_to_float(true, W64, F64, v(2), x(3))),
                &[0x9E62_0062],
            ),
            // ucvtf s4, w5
            (
                words(|a| a.int_to_float(false, W32, F32, v(4), x(5))),
                &[0x1E23_00A4],
            ),
            // ucvtf s4, x5
            (
                words(|a| a.int_to_float(false, W64, F32, v(4), x(5))),
                &[0x9E23_00A4],
            ),
            // ucvtf d6, w7
            (
                words(|a| a.int_to_float(false, W32, F64, v(6), x(7))),
                &[0x1E63_00E6],
            ),
            // ucvtf d6, x7
            (
                words(|a| a.int_to_float(false, W64, F64, v(6), x(7))),
                &[0x9E63_00E6],
            ),
            // fcvtzs w0, s1
            (
                words(|a| a.float_to_int(true, W32, F32, x(0), v(1))),
                &[0x1E38_0020],
            ),
            // fcvtzs x0, s1
            (
                words(|a| a.float_to_int(true, W64, F32, x(0), v(1))),
                &[0x9E38_0020],
            ),
            // fcvtzs w2, d3
            (
                words(|a| a.float_to_int(true, W32, F64, x(2), v(3))),
                &[0x1E78_0062],
            ),
            // fcvtzs x2, d3
            (
                words(|a| a.float_to_int(true, W64, F64, x(2), v(3))),
                &[0x9E78_0062],
            ),
            // fcvtzu w4, s5
            (
                words(|a| a.float_to_int(false, W32, F32, x(4), v(5))),
                &[0x1E39_00A4],
            ),
            // fcvtzu x4, s5
            (
                words(|a| a.float_to_int(false, W64, F32, x(4), v(5))),
                &[0x9E39_00A4],
            ),
            // fcvtzu w6, d7
            (
                words(|a| a.float_to_int(false, W32, F64, x(6), v(7))),
                &[0x1E79_00E6],
            ),
            // fcvtzu x6, d7
            (
                words(|a| a.float_to_int(false, W64, F64, x(6), v(7))),
                &[0x9E79_00E6],
            ),
            // fmov s0, w1
            (words(|a| a.fmov_from_gpr(W32, v(0), x(1))), &[0x1E27_0020]),
            // fmov d2, x3
            (words(|a| a.fmov_from_gpr(W64, v(2), x(3))), &[0x9E67_0062]),
            // fmov d0, xzr
            (
                words(|a| a.fmov_from_gpr(W64, v(0), Reg::ZR)),
                &[0x9E67_03E0],
            ),
            // fmov w4, s5
            (words(|a| a.fmov_to_gpr(W32, x(4), v(5))), &[0x1E26_00A4]),
            // fmov x6, d7
            (words(|a| a.fmov_to_gpr(W64, x(6), v(7))), &[0x9E66_00E6]),
            // sub sp, sp, #48 ; sub sp, sp, #1, lsl #12 ; movk x16, #0x1234, lsl #16
            (
                words(|a| {
                    let at = a.offset();
                    a.add_sub_imm(AddSub::Sub, W64, Reg::SP, Reg::SP, imm(4095));
                    a.add_sub_imm(AddSub::Sub, W64, Reg::SP, Reg::SP, imm(0));
                    a.movk(W64, Reg::X16, 0xFFFF, 16);
                    a.patch_imm12(at, imm(48));
                    a.patch_imm12(at + 4, imm(4096));
                    a.patch_imm16(at + 8, 0x1234);
                }),
                &[0xD100_C3FF, 0xD140_07FF, 0xF2A2_4690],
            ),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(got.as_slice(), *want, "case {i}");
        }
    }

    /// `mov_imm` picks the shortest `movz`/`movn` + `movk` sequence; a
    /// value with a zero upper half (any 32-bit value) uses `w` forms, which
    /// zero the upper half, so `u32::MAX` is one `movn w` as a 32-bit and
    /// as a 64-bit value.
    #[test]
    fn mov_imm_sequences_match_llvm_mc() {
        let m = |v: u64| words(|a| a.mov_imm(x(0), v));
        let cases: Vec<(Vec<u32>, &[u32])> = vec![
            // movz w0, #0
            (m(0), &[0x5280_0000]),
            // movz w0, #0xffff
            (m(0xFFFF), &[0x529F_FFE0]),
            // movz w0, #1, lsl #16
            (m(0x1_0000), &[0x52A0_0020]),
            // movz w0, #0x5678 ; movk w0, #0x1234, lsl #16
            (m(0x1234_5678), &[0x528A_CF00, 0x72A2_4680]),
            // movn w0, #0
            (m(u64::from(u32::MAX)), &[0x1280_0000]),
            // movn w0, #1
            (m(u64::from(-2i32 as u32)), &[0x1280_0020]),
            // movz w0, #0x8000, lsl #16
            (m(u64::from(i32::MIN as u32)), &[0x52B0_0000]),
            // movn w0, #0xedcb
            (m(0xFFFF_1234), &[0x129D_B960]),
            // movn w0, #0xedcb, lsl #16
            (m(0x1234_FFFF), &[0x12BD_B960]),
            // movn x0, #0
            (m(u64::MAX), &[0x9280_0000]),
            // movn x0, #1
            (m(-2i64 as u64), &[0x9280_0020]),
            // movz x0, #0x8000, lsl #48
            (m(i64::MIN as u64), &[0xD2F0_0000]),
            // movz x0, #0xdef0 ; movk x0, #0x9abc, lsl #16
            // movk x0, #0x5678, lsl #32 ; movk x0, #0x1234, lsl #48
            (
                m(0x1234_5678_9ABC_DEF0),
                &[0xD29B_DE00, 0xF2B3_5780, 0xF2CA_CF00, 0xF2E2_4680],
            ),
            // movz x0, #1, lsl #32
            (m(0x1_0000_0000), &[0xD2C0_0020]),
            // movz x0, #0xffff, lsl #32 ; movk x0, #0xffff, lsl #48
            (m(0xFFFF_FFFF_0000_0000), &[0xD2DF_FFE0, 0xF2FF_FFE0]),
            // movn x0, #0xffff ; movk x0, #0x8000, lsl #16
            (m(i64::from(i32::MIN) as u64), &[0x929F_FFE0, 0xF2B0_0000]),
            // movn x0, #0xedcb, lsl #16
            (m(0xFFFF_FFFF_1234_FFFF), &[0x92BD_B960]),
            // movz x0, #1 ; movk x0, #0xffff, lsl #32
            (m(0x0000_FFFF_0000_0001), &[0xD280_0020, 0xF2DF_FFE0]),
            // movz x17, #0x2a, lsl #48
            (words(|a| a.mov_imm(Reg::X17, 42 << 48)), &[0xD2E0_0551]),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(got.as_slice(), *want, "case {i}");
        }
    }

    /// Runs a `movz`/`movn`/`movk` sequence.
    fn run_mov_wide(code: &[u32]) -> u64 {
        let mut r = 0u64;
        for &w in code {
            assert_eq!(w >> 23 & 0x3F, 0b10_0101, "{w:#x} is not a move wide");
            let shift = 16 * (w >> 21 & 3);
            let imm = u64::from(w >> 5 & 0xFFFF) << shift;
            r = match w >> 29 & 3 {
                0 => !imm,
                2 => imm,
                3 => r & !(0xFFFF << shift) | imm,
                _ => panic!("{w:#x}"),
            };
            if w >> 31 == 0 {
                r &= 0xFFFF_FFFF;
            }
        }
        r
    }

    #[test]
    fn mov_imm_builds_every_value_in_the_fewest_moves() {
        let mut values = vec![0, 1, u64::MAX, 0xFFFF_0000_FFFF_0000, 0x0000_FFFF_0000_FFFF];
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // Random chunks of 0, 0xFFFF or anything, to hit every choice.
            let mut v = 0;
            for i in 0..4 {
                let c = match s >> (60 - 4 * i) & 3 {
                    0 => 0,
                    1 => 0xFFFF,
                    _ => s >> (16 * i) & 0xFFFF,
                };
                v |= c << (16 * i);
            }
            values.push(v);
        }
        for v in values {
            let code = words(|a| a.mov_imm(x(3), v));
            assert_eq!(run_mov_wide(&code), v, "{v:#x}");
            assert!(code.iter().all(|w| w & 31 == 3));
            let chunks: &[u64] = if v >> 32 == 0 { &[0, 1] } else { &[0, 1, 2, 3] };
            let differ = |fill| {
                chunks
                    .iter()
                    .filter(|&&i| v >> (16 * i) & 0xFFFF != fill)
                    .count()
            };
            let fewest = differ(0).min(differ(0xFFFF)).max(1);
            assert_eq!(code.len(), fewest, "{v:#x}");
        }
    }

    fn code_words(code: &[u8]) -> Vec<u32> {
        code.chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn labels_resolve_forward_and_backward_branches_and_tables() {
        let mut a = Assembler::default();
        let top = a.new_label();
        let out = a.new_label();
        let table = a.new_label();
        let fwd = a.new_label();
        a.bind(top); // 0
        a.b_cond(Cond::Ne, out); // 0
        a.cbz(W32, x(0), out); // 4
        a.cbnz(W64, x(1), top); // 8
        a.tbz(x(2), 3, out); // 12
        a.tbnz(x(3), 40, top); // 16
        a.adr(x(4), table); // 20
        a.b(top); // 24
        a.b(out); // 28
        a.bind(out); // 32
        a.b_cond(Cond::Eq, top); // 32
        a.adr(x(5), top); // 36
        a.cbz(W64, x(6), out); // 40
        a.bind(table); // 44
        let base = a.offset();
        a.table_entry(top, base);
        a.table_entry(out, base);
        a.table_entry(fwd, base);
        a.bind(fwd); // 56
        a.b_cond(Cond::Lt, fwd);
        let code = code_words(&a.finish().unwrap());
        assert_eq!(code.len(), 15);
        let cases: Vec<(Vec<u32>, &[u32])> = vec![
            // b.ne #32 ; cbz w0, #28 ; cbnz x1, #-8 ; tbz w2, #3, #20
            // tbnz x3, #40, #-16 ; adr x4, #24 ; b #-24 ; b #4
            (
                code[..8].to_vec(),
                &[
                    0x5400_0101,
                    0x3400_00E0,
                    0xB5FF_FFC1,
                    0x3618_00A2,
                    0xB747_FF83,
                    0x1000_00C4,
                    0x17FF_FFFA,
                    0x1400_0001,
                ],
            ),
            // b.eq #-32 ; adr x5, #-36 ; cbz x6, #-8
            (
                code[8..11].to_vec(),
                &[0x54FF_FF00, 0x10FF_FEE5, 0xB4FF_FFC6],
            ),
            // b.lt #0
            (code[14..].to_vec(), &[0x5400_000B]),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(got.as_slice(), *want, "case {i}");
        }
        // The table: top - table, out - table, fwd - table.
        assert_eq!(&code[11..14], &[-44i32 as u32, -12i32 as u32, 12]);
    }

    /// A jump table as the code generator would emit it for `br_table`.
    #[test]
    fn jump_table_dispatch() {
        let mut a = Assembler::default();
        let table = a.new_label();
        let cases = [a.new_label(), a.new_label()];
        a.adr(Reg::X16, table);
        a.load(Load::Ldrsw, Reg::X17, Mem::UxtwScaled(Reg::X16, x(0)));
        a.add_sub(AddSub::Add, W64, Reg::X16, Reg::X16, Reg::X17);
        a.br(Reg::X16);
        a.bind(table); // 16
        let base = a.offset();
        for &case in &cases {
            a.table_entry(case, base);
        }
        a.bind(cases[0]); // 24
        a.ret();
        a.bind(cases[1]); // 28
        a.udf(0);
        let code = code_words(&a.finish().unwrap());
        let cases: Vec<(Vec<u32>, &[u32])> = vec![
            // adr x16, #16 ; ldrsw x17, [x16, w0, uxtw #2] ; add x16, x16, x17 ; br x16
            (
                code[..4].to_vec(),
                &[0x1000_0090, 0xB8A0_5A11, 0x8B11_0210, 0xD61F_0200],
            ),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(got.as_slice(), *want, "case {i}");
        }
        assert_eq!(&code[4..6], &[8, 12]);
    }

    /// Each fixup kind at the ends of its range, forward and backward.
    #[test]
    fn branch_ranges() {
        let check = |kind: Fixup, at: u32, target: u32, want: Option<u32>| {
            let mut a = Assembler::default();
            let field = a.field(kind, at, target);
            assert_eq!(
                (!a.out_of_range).then_some(field),
                want,
                "{kind:?} {at} -> {target}"
            );
        };
        const MB: u32 = 1 << 20;
        // b: +-128 MiB in words.
        check(Fixup::Imm26, 0, 128 * MB - 4, Some(0x1FF_FFFF));
        check(Fixup::Imm26, 0, 128 * MB, None);
        check(Fixup::Imm26, 128 * MB, 0, Some(0x200_0000));
        check(Fixup::Imm26, 128 * MB + 4, 0, None);
        // b.cond, cbz, cbnz: +-1 MiB.
        check(Fixup::Imm19, 0, MB - 4, Some(0x3_FFFF << 5));
        check(Fixup::Imm19, 0, MB, None);
        check(Fixup::Imm19, MB, 0, Some(0x4_0000 << 5));
        check(Fixup::Imm19, MB + 4, 0, None);
        // tbz, tbnz: +-32 KiB.
        check(Fixup::Imm14, 0, 32 * 1024 - 4, Some(0x1FFF << 5));
        check(Fixup::Imm14, 0, 32 * 1024, None);
        check(Fixup::Imm14, 32 * 1024, 0, Some(0x2000 << 5));
        check(Fixup::Imm14, 32 * 1024 + 4, 0, None);
        // adr: +-1 MiB in bytes (immlo in bits 29-30).
        check(Fixup::Adr, 0, MB - 4, Some(0x3_FFFF << 5));
        check(Fixup::Adr, 0, MB, None);
        check(Fixup::Adr, MB, 0, Some(0x4_0000 << 5));
        check(Fixup::Adr, MB + 4, 0, None);
        // Table entries: any distance.
        check(Fixup::Table(100), 0, 0, Some(-100i32 as u32));

        // A real b.cond at the end of its range, then one word beyond it.
        let far = |nops: u32| {
            let mut a = Assembler::default();
            let l = a.new_label();
            a.b_cond(Cond::Eq, l);
            for _ in 0..nops {
                a.nop();
            }
            a.bind(l);
            a.finish().map(|code| code_words(&code[..4])[0])
        };
        let cases: Vec<(Vec<u32>, &[u32])> = vec![
            // b.eq #1048572
            (vec![far((1 << 18) - 2).unwrap()], &[0x547F_FFE0]),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            assert_eq!(got.as_slice(), *want, "case {i}");
        }
        assert!(far((1 << 18) - 1).is_err());
    }

    #[test]
    fn operands_out_of_range_fail_the_function() {
        let fails = |f: &dyn Fn(&mut Assembler)| {
            let mut a = Assembler::default();
            f(&mut a);
            a.finish().is_err()
        };
        assert!(!fails(&|a| a.load(
            Load::Ldr64,
            x(0),
            Mem::Off(x(1), 32760)
        )));
        assert!(fails(&|a| a.load(Load::Ldr64, x(0), Mem::Off(x(1), 32768))));
        assert!(fails(&|a| a.load(Load::Ldr64, x(0), Mem::Off(x(1), 257))));
        assert!(fails(&|a| a.store(Store::Strb, x(0), Mem::Off(x(1), -257))));
        assert!(fails(&|a| a.fload(F32, v(0), Mem::Off(x(1), 16384))));
        assert!(fails(&|a| a.stp(Pair::Offset, x(0), x(1), Reg::SP, 512)));
        assert!(fails(&|a| a.ldp(Pair::PreIndex, x(0), x(1), Reg::SP, -520)));
        assert!(fails(&|a| a.ldp(Pair::PostIndex, x(0), x(1), Reg::SP, 4)));
        assert!(!fails(&|a| a.ldp(
            Pair::PostIndex,
            x(0),
            x(1),
            Reg::SP,
            -512
        )));
    }

    #[test]
    fn immediates_and_offsets_that_fit() {
        for (v, fits) in [
            (0, true),
            (4095, true),
            (4096, true),
            (4097, false),
            (0xFF_F000, true),
            (0x100_0000, false),
            (u64::MAX, false),
        ] {
            assert_eq!(Imm12::new(v).map(Imm12::value), fits.then_some(v), "{v:#x}");
        }
        for (log2, off, fits) in [
            (0, 4095, true),
            (0, 4096, false),
            (0, -256, true),
            (0, -257, false),
            (1, 8190, true),
            (1, 8191, false),
            (1, 255, true),
            (2, 16380, true),
            (2, 16384, false),
            (3, 32760, true),
            (3, 257, false),
            (3, -256, true),
            (3, i32::MIN, false),
        ] {
            assert_eq!(mem_offset_fits(log2, off), fits, "{log2} {off}");
        }
    }

    #[test]
    fn conditions_invert() {
        use Cond::*;
        for cc in [Eq, Ne, Hs, Lo, Mi, Pl, Vs, Vc, Hi, Ls, Ge, Lt, Gt, Le] {
            assert_eq!(cc.invert() as u8, cc as u8 ^ 1);
            assert_eq!(cc.invert().invert(), cc);
        }
    }
}
