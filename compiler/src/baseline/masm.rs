//! What the baseline compiler asks of an architecture: the `MacroAssembler`
//! trait, and the vocabulary it is written in (value types, registers,
//! where a value is, operations, conditions).
//!
//! The compiler (`compiler/`) decides everything that does not depend on
//! the instruction set: the operand stack and which register or frame slot
//! holds each value, control flow, calls, traps. A macro-assembler turns
//! each request into instructions, using its own scratch registers (never
//! one of [`MacroAssembler::GPRS`] or [`MacroAssembler::FPRS`] unless the
//! method names it) and its architecture's conventions:
//!
//! - an i32 in a 64-bit register has one canonical form, the
//!   architecture's (zero-extended on x86_64 and aarch64, sign-extended on
//!   riscv64); every method that produces an i32 produces that form, and
//!   the compiler never assumes which one it is;
//! - the frame holds slot `k` for `k` in locals, then one slot per
//!   operand-stack depth, 8 bytes each, and below them the stack
//!   arguments of calls (a local pinned to one of [`MacroAssembler::PINNED`]
//!   keeps the caller's value of that register in its slot);
//! - calls follow Cranelift's calling convention for the target, so code
//!   from both tiers calls each other.

use crate::target::BoundsChecks;

/// A value type as the baseline compiler keeps it (references are pointers).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ty {
    I32,
    I64,
    F32,
    F64,
}

impl Ty {
    pub fn is_float(self) -> bool {
        matches!(self, Ty::F32 | Ty::F64)
    }

    pub fn is_64(self) -> bool {
        matches!(self, Ty::I64 | Ty::F64)
    }

    pub fn bits(self) -> u8 {
        if self.is_64() { 64 } else { 32 }
    }
}

/// An integer register (the architecture's number).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Reg(pub u8);

/// A float register (the architecture's number).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct FReg(pub u8);

/// A branch target in the function being compiled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Label(pub u32);

/// Where an operand-stack value is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Loc {
    Reg(Reg),
    FReg(FReg),
    /// A constant: the value's bits, i32 and f32 zero-extended.
    Imm(u64),
    /// In frame slot `k`.
    Slot(u32),
}

/// Integer operations `dst = dst op rhs`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IntOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
}

/// `i64.and x, 0xffffffff`, which 64-bit multiply code does for every low
/// half: every architecture clears the upper half with one instruction
/// instead of building the mask.
pub(crate) fn is_low_half_mask(op: IntOp, ty: Ty, rhs: Loc) -> bool {
    op == IntOp::And && ty == Ty::I64 && rhs == Loc::Imm(0xffff_ffff)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ShiftOp {
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

/// Integer comparisons.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IntCc {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

impl IntCc {
    /// The comparison that holds exactly when this one does not.
    pub(crate) fn inverse(self) -> IntCc {
        match self {
            IntCc::Eq => IntCc::Ne,
            IntCc::Ne => IntCc::Eq,
            IntCc::LtS => IntCc::GeS,
            IntCc::LtU => IntCc::GeU,
            IntCc::GtS => IntCc::LeS,
            IntCc::GtU => IntCc::LeU,
            IntCc::LeS => IntCc::GtS,
            IntCc::LeU => IntCc::GtU,
            IntCc::GeS => IntCc::LtS,
            IntCc::GeU => IntCc::LtU,
        }
    }
}

/// Bit counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Count {
    LeadingZeros,
    TrailingZeros,
    Ones,
}

/// Integer width changes, in place.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Extend {
    /// i64 to i32.
    Wrap,
    /// i32 to i64, signed or unsigned.
    I32S,
    I32U,
    /// Sign-extend the low 8/16/32 bits, within type `Ty`.
    Low8(Ty),
    Low16(Ty),
    Low32,
}

/// Float operations `dst = dst op rhs`, with Wasm's NaN and signed-zero
/// rules for `Min` and `Max`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Copysign,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FloatUnary {
    Sqrt,
    Ceil,
    Floor,
    Trunc,
    Nearest,
    Abs,
    Neg,
}

/// Float comparisons (false for NaN, except `Ne`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FloatCc {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// How a load widens its value to its type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Load {
    /// The full width of the type.
    Plain,
    Signed(u8),
    Unsigned(u8),
}

/// How a linear-memory access stays in bounds.
pub(crate) struct Heap {
    pub checks: BoundsChecks,
    /// Where an explicit check that fails goes (`None` with guard regions,
    /// where the access itself faults).
    pub out_of_bounds: Option<Label>,
}

/// What a call needs after its arguments are in place.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Callee {
    /// A function of this module (a relocated direct call; the compiler
    /// records which).
    Direct,
    /// An imported function, through its function reference in the vmctx.
    Import(u32),
    /// The function reference `prepare_table_call` checked.
    Table,
    /// Runtime builtin `index` (through `vmctx.builtins`).
    Builtin(usize),
}

/// Checks of `call_indirect`, with their traps.
pub(crate) struct TableCall {
    pub table: u32,
    pub signature: u64,
    pub undefined: Label,
    pub null: Label,
    pub mismatch: Label,
}

/// An integer division or remainder, with the traps Wasm gives it.
pub(crate) struct Division {
    pub ty: Ty,
    pub signed: bool,
    pub remainder: bool,
    pub by_zero: Label,
    /// `MIN / -1` (signed division only).
    pub overflow: Label,
}

/// A float-to-integer truncation, trapping or saturating.
pub(crate) struct Truncation {
    pub signed: bool,
    pub saturating: bool,
    pub from: Ty,
    pub to: Ty,
    /// NaN and out-of-range values (trapping only).
    pub invalid: Label,
    pub overflow: Label,
}

impl Truncation {
    /// The range a trapping truncation accepts, as the float bits of its
    /// bounds (exclusive, in `from`'s type): (low, whether `low` itself is
    /// out of range, high). At or above 2^(N-1) (signed) or 2^N is out of
    /// range; below, -2^(N-1) - 1 and anything at or under it for f64 to
    /// i32, -2^(N-1) itself being valid where -2^(N-1) - 1 is not
    /// representable (f32, and f64 to i64); -1 and under for unsigned.
    pub fn bounds(&self) -> (u64, bool, u64) {
        let bits = f64::from(self.to.bits());
        let double = self.from.is_64();
        let float = |v: f64| match double {
            true => v.to_bits(),
            false => u64::from((v as f32).to_bits()),
        };
        let (low, low_out) = match (self.signed, double && !self.to.is_64()) {
            (true, true) => (-(2f64.powf(bits - 1.0)) - 1.0, true),
            (true, false) => (-(2f64.powf(bits - 1.0)), false),
            (false, _) => (-1.0, true),
        };
        let high = match self.signed {
            true => 2f64.powf(bits - 1.0),
            false => 2f64.powf(bits),
        };
        (float(low), low_out, float(high))
    }
}

/// Where a call argument goes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ArgPlace {
    Reg(Reg),
    FReg(FReg),
    /// The k-th 8-byte stack slot at the caller's stack pointer.
    Stack(usize),
}

/// An architecture for the baseline compiler.
pub(crate) trait MacroAssembler {
    /// Integer registers the operand stack may use (caller-saved).
    const GPRS: &'static [Reg];
    /// Float registers the operand stack may use.
    const FPRS: &'static [FReg];
    /// Callee-saved integer registers that hold a function's most used
    /// integer locals for its whole body (disjoint from GPRS and from the
    /// macro-assembler's own registers). Their callers' values wait in
    /// those locals' frame slots, which the locals no longer need.
    const PINNED: &'static [Reg];
    /// Registers an integer division must use: (dividend and quotient,
    /// remainder), when the architecture fixes them.
    const DIVISION: Option<(Reg, Reg)>;
    /// The register a variable shift count must be in, if fixed.
    const SHIFT_COUNT: Option<Reg>;
    /// Where results come back.
    const RESULT: Reg;
    const FLOAT_RESULT: FReg;
    /// Integer argument registers after the vmctx, and float ones, in
    /// Cranelift's calling convention for the target.
    const INT_ARGS: &'static [Reg];
    const FLOAT_ARGS: &'static [FReg];

    /// `isa_flags`: the target's extensions beyond the baseline (Cranelift
    /// names), for the backends that use some.
    fn new(capacity: usize, isa_flags: &[String]) -> Self;
    /// The code; `Err` names why the function cannot be assembled (a
    /// branch beyond the architecture's reach, say), and the compiler
    /// leaves it to Cranelift.
    fn finish(self) -> Result<Vec<u8>, &'static str>;
    fn new_label(&mut self) -> Label;
    fn bind(&mut self, label: Label);

    /// Relocation of a direct call made by `call`: (offset of the
    /// relocated field from the offset `call` returned, kind, addend).
    fn call_reloc() -> (u32, cranelift_codegen::binemit::Reloc, i64);

    /// Where each of `params` is passed (after the vmctx): integers and
    /// floats in their argument registers in order, the rest in 8-byte
    /// stack slots in parameter order (System V, AAPCS64 and LP64D as
    /// Cranelift implements them all do this).
    fn arg_places(params: &[Ty]) -> Vec<ArgPlace> {
        let (mut ints, mut floats, mut stack) = (0, 0, 0);
        params
            .iter()
            .map(|ty| match ty.is_float() {
                true if floats < Self::FLOAT_ARGS.len() => {
                    floats += 1;
                    ArgPlace::FReg(Self::FLOAT_ARGS[floats - 1])
                }
                false if ints < Self::INT_ARGS.len() => {
                    ints += 1;
                    ArgPlace::Reg(Self::INT_ARGS[ints - 1])
                }
                _ => {
                    stack += 1;
                    ArgPlace::Stack(stack - 1)
                }
            })
            .collect()
    }

    // -- the frame -----------------------------------------------------------

    /// The stack check against `vmctx.stack_limit` (to `overflow`), the
    /// frame, the vmctx in its register (and the memory base in its own
    /// when `memory_base`: a memory in a guard region never moves), and
    /// the parameters stored to slots `0..params.len()`. Returns what
    /// `finish_frame` patches.
    fn prologue(&mut self, params: &[Ty], memory_base: bool, overflow: Label) -> u32;
    /// Sets the frame's size: `slots` slots and `outgoing` stack arguments.
    fn finish_frame(&mut self, patch: u32, slots: usize, outgoing: usize);
    /// Returns (the result is in RESULT or FLOAT_RESULT).
    fn epilogue(&mut self);
    /// Zeroes slots `from..to` (declared locals).
    fn zero_slots(&mut self, from: usize, to: usize);

    // -- moving values -------------------------------------------------------

    /// Loads a value of type `ty` (not a float register) into `dst`.
    fn load(&mut self, ty: Ty, dst: Reg, from: Loc);
    /// Loads a float value into `dst`.
    fn load_float(&mut self, ty: Ty, dst: FReg, from: Loc);
    /// Stores `value` to slot `k` (a slot to itself does nothing).
    fn store_slot(&mut self, ty: Ty, k: u32, value: Loc);
    /// Stores `value` to the k-th outgoing stack argument.
    fn store_argument(&mut self, ty: Ty, k: usize, value: Loc);
    /// Makes an i32 that came back from a call canonical.
    fn canonical_i32(&mut self, r: Reg);
    /// Zero-extends an i32 to 64 bits (for the runtime's u64 arguments).
    fn zero_extend_i32(&mut self, r: Reg);

    // -- integers ------------------------------------------------------------

    fn int_op(&mut self, op: IntOp, ty: Ty, dst: Reg, rhs: Loc);
    /// `dst = src op rhs`, `src` only read (a pinned local's register).
    /// Architectures with three-operand instructions override it; the
    /// default copies `src` first, as x86_64 must.
    fn int_op_from(&mut self, op: IntOp, ty: Ty, dst: Reg, src: Reg, rhs: Loc) {
        self.load(ty, dst, Loc::Reg(src));
        self.int_op(op, ty, dst, rhs);
    }
    /// `dst = dst shift count` (count: a register or a constant).
    fn shift(&mut self, op: ShiftOp, ty: Ty, dst: Reg, count: Loc);
    /// `dst = src shift count`, `src` only read (see [`Self::int_op_from`]).
    fn shift_from(&mut self, op: ShiftOp, ty: Ty, dst: Reg, src: Reg, count: Loc) {
        self.load(ty, dst, Loc::Reg(src));
        self.shift(op, ty, dst, count);
    }
    /// `dst = (dst cc rhs) as i32`.
    fn compare(&mut self, cc: IntCc, ty: Ty, dst: Reg, rhs: Loc);
    /// `dst = (src cc rhs) as i32`, `src` only read (see
    /// [`Self::int_op_from`]).
    fn compare_from(&mut self, cc: IntCc, ty: Ty, dst: Reg, src: Reg, rhs: Loc) {
        self.load(ty, dst, Loc::Reg(src));
        self.compare(cc, ty, dst, rhs);
    }
    /// `r = (r == 0) as i32`.
    fn eqz(&mut self, ty: Ty, r: Reg);
    /// `dst = dst / divisor` or `dst % divisor` with Wasm's traps; on an
    /// architecture with DIVISION, `dst` is its first register and a
    /// remainder ends in its second.
    fn divide(&mut self, division: &Division, dst: Reg, divisor: Reg);
    fn count(&mut self, what: Count, ty: Ty, dst: Reg, src: Reg);
    fn extend(&mut self, how: Extend, r: Reg);
    /// `dst = if cond != 0 { dst } else { other }` (cond is an i32).
    fn select(&mut self, ty: Ty, cond: Reg, dst: Reg, other: Reg);
    fn select_float(&mut self, ty: Ty, cond: Reg, dst: FReg, other: FReg);

    // -- floats --------------------------------------------------------------

    fn float_op(&mut self, op: FloatOp, ty: Ty, dst: FReg, rhs: FReg);
    fn float_unary(&mut self, op: FloatUnary, ty: Ty, r: FReg);
    /// `dst = (a cc b) as i32`.
    fn float_compare(&mut self, cc: FloatCc, ty: Ty, dst: Reg, a: FReg, b: FReg);
    /// Integer `src` (type `from`, may be clobbered) to float `dst`.
    fn int_to_float(&mut self, signed: bool, from: Ty, to: Ty, dst: FReg, src: Reg);
    /// f32 to f64 or back, in place.
    fn float_to_float(&mut self, to: Ty, r: FReg);
    /// Float `src` (may be clobbered) to integer `dst`, toward zero.
    fn truncate(&mut self, truncation: &Truncation, dst: Reg, src: FReg);
    fn bits_to_int(&mut self, ty: Ty, dst: Reg, src: FReg);
    fn bits_to_float(&mut self, ty: Ty, dst: FReg, src: Reg);

    // -- linear memory -------------------------------------------------------

    /// Loads `dst` (a register of either kind) from `index + offset`
    /// (`offset + size` at most 2 GiB with guard regions); returns the
    /// offset of the instruction that faults when out of bounds.
    fn heap_load(
        &mut self,
        heap: &Heap,
        kind: Load,
        ty: Ty,
        dst: Loc,
        index: Loc,
        offset: u64,
    ) -> u32;
    /// Stores the low `bytes` bytes of `value` (a register or a constant)
    /// at `index + offset`; returns the offset of the instruction that
    /// faults when out of bounds.
    #[allow(clippy::too_many_arguments)]
    fn heap_store(
        &mut self,
        heap: &Heap,
        bytes: u8,
        ty: Ty,
        value: Loc,
        index: Loc,
        offset: u64,
    ) -> u32;
    /// `dst = memory.size` in pages.
    fn memory_size(&mut self, dst: Reg);

    // -- globals and tables --------------------------------------------------

    fn global_get(&mut self, ty: Ty, dst: Loc, index: u32);
    fn global_set(&mut self, ty: Ty, index: u32, value: Loc);
    fn table_size(&mut self, dst: Reg, table: u32);
    /// `index = table[index]` (an i32 index in, a reference out).
    fn table_get(&mut self, table: u32, index: Reg, out_of_bounds: Label);
    fn table_set(&mut self, table: u32, index: Reg, value: Loc, out_of_bounds: Label);
    /// `dst = &vmctx.funcrefs[index]`.
    fn func_ref(&mut self, dst: Reg, index: u32);

    // -- control -------------------------------------------------------------

    fn jump(&mut self, label: Label);
    /// Branches when the i32 in `r` is (`nonzero`) or is not zero.
    fn branch(&mut self, r: Reg, nonzero: bool, label: Label);
    /// Branches when `lhs cc rhs` (a comparison and a branch, without the
    /// 0/1 value in between).
    fn compare_branch(&mut self, cc: IntCc, ty: Ty, lhs: Reg, rhs: Loc, label: Label);
    /// Jumps to `targets[index]`, or `default` past their end.
    fn jump_table(&mut self, index: Reg, targets: &[Label], default: Label);
    /// An illegal instruction; returns its offset (a trap site).
    fn trap(&mut self) -> u32;

    // -- calls ---------------------------------------------------------------

    /// Loads the function reference `table[index]` after `call_indirect`'s
    /// checks; it stays in a scratch register that passing arguments does
    /// not touch, until `call`.
    fn prepare_table_call(&mut self, index: Loc, checks: &TableCall);
    /// Calls (arguments in place); returns the offset of a direct call.
    fn call(&mut self, callee: Callee) -> u32;
    /// Branches to `label` when the runtime status in RESULT is non-zero.
    fn branch_on_status(&mut self, label: Label);
}
