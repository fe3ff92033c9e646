//! The baseline compiler, written once for every architecture: one pass
//! over a function's operators, with the operand stack, its register cache
//! and its frame slots, control flow, calls and traps decided here, and the
//! instructions left to a [`MacroAssembler`].
//!
//! A function's most used integer locals live in callee-saved registers for
//! its whole body (`pinning`), the others in their frame slots. An
//! operand-stack value lives in a register, as a constant, or in the slot
//! of its depth; at every block boundary all of them are stored to their
//! slots, so that every path into a label agrees on where each value is.
//! The operand stack owns only caller-saved registers, so a call spills
//! them first. A `local.get` of a pinned local pushes the local's own
//! register: instructions that only read an operand use it in place, one
//! that would write it gets a copy (`gpr_of`), and before the local
//! changes, operands still reading it get copies (`unshare_pinned`).
//!
//! A free register may still hold the value `local.set` just stored from
//! it: a `local.get` of that local soon after takes the register instead of
//! loading the slot. Likewise for linear memory, where code built at -O0
//! keeps its variables: a full-width store through a local's value leaves
//! its register holding what is at `local + offset` (or that constant known
//! to be there), and a load of the same kind from there copies the register
//! (keeping it for the next load) or takes it when no other is free. That
//! knowledge is dropped at every label and call (every operator but the
//! straight-line ones, see `operator`).

mod calls;
mod control;
mod memory;
mod numeric;
mod pinning;

use anyhow::Result;
use kiln_runtime::abi::TrapKind;
use wasmparser::{FunctionBody, Operator, ValType};

use super::MachineCode;
use super::masm::{FReg, IntCc, Label, Loc, MacroAssembler, Reg, Ty};
use crate::translate::ModuleEnv;
use control::Frame;

/// Of the free registers in `free`, those that hold no local and no
/// memory contents, if any do.
fn prefer_uncached(free: u32, cached: &[Option<u32>; 32], stored: &[Option<Stored>; 32]) -> u32 {
    let uncached = (0..32).fold(free, |m, n| {
        if cached[n].is_some() || stored[n].is_some() {
            m & !(1 << n)
        } else {
            m
        }
    });
    if uncached != 0 { uncached } else { free }
}

/// What a full-width store through local `local` at `offset` wrote, as a
/// free register may still hold it. The effective address `index + offset`
/// does not wrap, so accesses through the same index value at disjoint
/// bytes cannot overlap; through different values they may.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stored {
    local: u32,
    offset: u64,
    ty: Ty,
}

impl Stored {
    fn overlaps(&self, offset: u64, bytes: u64) -> bool {
        let end = self.offset + u64::from(self.ty.bits() / 8);
        self.offset < offset + bytes && offset < end
    }
}

/// Why a function is left to Cranelift, or a malformed body.
pub(super) enum Stop {
    Declined(&'static str),
    Invalid(anyhow::Error),
}

impl From<wasmparser::BinaryReaderError> for Stop {
    fn from(e: wasmparser::BinaryReaderError) -> Stop {
        Stop::Invalid(e.into())
    }
}

type Step<T = ()> = Result<T, Stop>;

fn decline<T>(why: &'static str) -> Step<T> {
    Err(Stop::Declined(why))
}

fn invalid<T>(why: impl std::fmt::Display) -> Step<T> {
    Err(Stop::Invalid(anyhow::anyhow!("{why}")))
}

fn value_type(t: ValType) -> Step<Ty> {
    Ok(match t {
        ValType::I32 => Ty::I32,
        ValType::I64 | ValType::Ref(_) => Ty::I64,
        ValType::F32 => Ty::F32,
        ValType::F64 => Ty::F64,
        ValType::V128 => return decline("v128"),
    })
}

/// Signatures the baseline compiler can call and be called with: at most
/// one result (Cranelift returns more through memory of its own layout).
fn check_results(results: &[Ty]) -> Step {
    if results.len() > 1 {
        return decline("multiple results");
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Val {
    ty: Ty,
    loc: Loc,
    /// The value is local `k`'s, unchanged since the last label or call.
    copy_of: Option<u32>,
}

pub(super) struct Compiler<'a, 'm, M: MacroAssembler> {
    env: &'a ModuleEnv<'m>,
    m: M,
    stack: Vec<Val>,
    control: Vec<Frame>,
    locals: Vec<Ty>,
    /// The pinned locals with their callee-saved registers (a few at most).
    pins: Vec<(u32, Reg)>,
    /// Bit `n` set: register `n` of [`MacroAssembler::GPRS`] is free.
    free_gprs: u32,
    free_fprs: u32,
    max_depth: usize,
    /// Most stack arguments any call passes.
    max_outgoing: usize,
    traps: Vec<(u32, u8)>,
    trap_stubs: Vec<(TrapKind, Label)>,
    calls: Vec<(u32, u32)>,
    reachable: bool,
    unreachable_depth: u32,
    /// An integer comparison whose operands are still the top two stack
    /// values: emitted with the next operator, as a compare-and-branch
    /// when that is `br_if` or `if`.
    pending_compare: Option<(Ty, IntCc)>,
    /// `gpr_local[n] == Some(k)`: register `n` is free and holds local `k`.
    gpr_local: [Option<u32>; 32],
    fpr_local: [Option<u32>; 32],
    /// `gpr_stored[n] == Some(s)`: register `n` is free and holds the value
    /// in linear memory at `s`.
    gpr_stored: [Option<Stored>; 32],
    fpr_stored: [Option<Stored>; 32],
    /// The constants full-width stores wrote (their bits, as `Loc::Imm`).
    stored_constants: Vec<(Stored, u64)>,
}

/// Compiles defined function `index` for the architecture of `M`.
pub(super) fn compile<M: MacroAssembler>(
    env: &ModuleEnv<'_>,
    index: u32,
    body: &FunctionBody<'_>,
) -> Result<Result<MachineCode, &'static str>> {
    let range = body.range();
    let mut c = Compiler {
        env,
        m: M::new((range.end - range.start) as usize * 4 + 64, env.isa_flags),
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        pins: Vec::new(),
        free_gprs: M::GPRS.iter().fold(0, |m, r| m | 1 << r.0),
        free_fprs: M::FPRS.iter().fold(0, |m, r| m | 1 << r.0),
        max_depth: 0,
        max_outgoing: 0,
        traps: Vec::new(),
        trap_stubs: Vec::new(),
        calls: Vec::new(),
        reachable: true,
        unreachable_depth: 0,
        pending_compare: None,
        gpr_local: [None; 32],
        fpr_local: [None; 32],
        gpr_stored: [None; 32],
        fpr_stored: [None; 32],
        stored_constants: Vec::new(),
    };
    match c.function(index, body) {
        Ok(()) => {}
        Err(Stop::Declined(why)) => return Ok(Err(why)),
        Err(Stop::Invalid(e)) => return Err(e),
    }
    c.traps.sort_unstable();
    let (field, reloc, addend) = M::call_reloc();
    let bytes = match c.m.finish() {
        Ok(bytes) => bytes,
        Err(why) => return Ok(Err(why)),
    };
    Ok(Ok(MachineCode {
        bytes,
        calls: c.calls.iter().map(|&(at, f)| (at + field, f)).collect(),
        call_reloc: reloc,
        call_addend: addend,
        traps: c.traps,
    }))
}

impl<M: MacroAssembler> Compiler<'_, '_, M> {
    fn function(&mut self, index: u32, body: &FunctionBody<'_>) -> Step {
        let ty = self.env.module.func_type(index);
        let params: Vec<Ty> = ty
            .params()
            .iter()
            .map(|t| value_type(*t))
            .collect::<Step<_>>()?;
        let results: Vec<Ty> = ty
            .results()
            .iter()
            .map(|t| value_type(*t))
            .collect::<Step<_>>()?;
        check_results(&results)?;
        self.locals = params.clone();
        let mut reader = body.get_locals_reader()?;
        for _ in 0..reader.get_count() {
            let (count, t) = reader.read()?;
            let t = value_type(t)?;
            if self.locals.len() + count as usize > 1 << 20 {
                return decline("too many locals");
            }
            self.locals.extend(std::iter::repeat_n(t, count as usize));
        }

        let overflow = self.trap_label(TrapKind::StackOverflow);
        // A memory in a guard region never moves: its base stays in a register.
        let memory_base = !self.env.module.memories.is_empty()
            && self.env.bounds_checks == crate::target::BoundsChecks::Guard;
        let patch = self.m.prologue(&params, memory_base, overflow);
        self.pin_locals(body, params.len())?;
        let epilogue = self.m.new_label();
        self.control.push(Frame::function(epilogue, results));
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            let op = ops.read()?;
            if self.reachable {
                self.operator(&op)?;
            } else {
                self.unreachable_operator(&op)?;
            }
        }
        if !self.control.is_empty() {
            return invalid("function body ends inside a block");
        }
        // The function's `end` placed the epilogue; the trap stubs follow.
        for (kind, label) in std::mem::take(&mut self.trap_stubs) {
            self.m.bind(label);
            let at = self.m.trap();
            self.traps.push((at, kind as u8));
        }
        self.m
            .finish_frame(patch, self.locals.len() + self.max_depth, self.max_outgoing);
        Ok(())
    }

    // -- traps ---------------------------------------------------------------

    /// The out-of-line trap for `kind`, placed after the function.
    fn trap_label(&mut self, kind: TrapKind) -> Label {
        if let Some((_, l)) = self.trap_stubs.iter().find(|(k, _)| *k == kind) {
            return *l;
        }
        let l = self.m.new_label();
        self.trap_stubs.push((kind, l));
        l
    }

    // -- the operand stack -----------------------------------------------------

    fn push(&mut self, ty: Ty, loc: Loc) {
        self.push_val(Val {
            ty,
            loc,
            copy_of: None,
        });
    }

    fn push_val(&mut self, v: Val) {
        self.stack.push(v);
        self.max_depth = self.max_depth.max(self.stack.len());
    }

    fn pop(&mut self) -> Step<Val> {
        match self.stack.pop() {
            Some(v) => Ok(v),
            None => invalid("operand stack underflow"),
        }
    }

    fn peek(&self) -> Step<Val> {
        match self.stack.last() {
            Some(v) => Ok(*v),
            None => invalid("operand stack underflow"),
        }
    }

    /// The frame slot of operand-stack depth `depth`.
    fn slot(&self, depth: usize) -> u32 {
        (self.locals.len() + depth) as u32
    }

    /// Marks a popped value's register free.
    fn free(&mut self, v: Val) {
        match v.loc {
            Loc::Reg(r) => self.free_gpr(r),
            Loc::FReg(f) => self.free_fpr(f),
            _ => {}
        }
    }

    /// A pinned local's register is never the operand stack's to free.
    fn free_gpr(&mut self, r: Reg) {
        if !Self::is_pinned(r) {
            self.free_gprs |= 1 << r.0;
        }
    }

    fn free_fpr(&mut self, f: FReg) {
        self.free_fprs |= 1 << f.0;
    }

    /// A free integer register, spilling the deepest value held in one if
    /// none is free.
    fn alloc_gpr(&mut self) -> Step<Reg> {
        if self.free_gprs == 0 {
            let owned = |v: &Val| matches!(v.loc, Loc::Reg(r) if !Self::is_pinned(r));
            let Some(d) = self.stack.iter().position(owned) else {
                return decline("integer register pressure");
            };
            self.spill(d);
        }
        let free = prefer_uncached(self.free_gprs, &self.gpr_local, &self.gpr_stored);
        let r = Reg(free.trailing_zeros() as u8);
        self.claim_gpr(r.0 as usize);
        Ok(r)
    }

    fn alloc_fpr(&mut self) -> Step<FReg> {
        if self.free_fprs == 0 {
            let Some(d) = self
                .stack
                .iter()
                .position(|v| matches!(v.loc, Loc::FReg(_)))
            else {
                return decline("float register pressure");
            };
            self.spill(d);
        }
        let free = prefer_uncached(self.free_fprs, &self.fpr_local, &self.fpr_stored);
        let f = FReg(free.trailing_zeros() as u8);
        self.claim_fpr(f.0 as usize);
        Ok(f)
    }

    /// Makes `r` free, spilling the stack value held in it, and takes it.
    fn take_gpr(&mut self, r: Reg) -> Step {
        if let Some(d) = self.stack.iter().position(|v| v.loc == Loc::Reg(r)) {
            self.spill(d);
        }
        if self.free_gprs & 1 << r.0 == 0 {
            return decline("fixed register in use");
        }
        self.claim_gpr(r.0 as usize);
        Ok(())
    }

    /// Takes free integer register `n`: it holds nothing known any more.
    fn claim_gpr(&mut self, n: usize) {
        self.free_gprs &= !(1 << n);
        self.gpr_local[n] = None;
        self.gpr_stored[n] = None;
    }

    fn claim_fpr(&mut self, n: usize) {
        self.free_fprs &= !(1 << n);
        self.fpr_local[n] = None;
        self.fpr_stored[n] = None;
    }

    // -- locals cached in free registers ---------------------------------------

    /// Takes the free register that holds local `k`, if one does. Unlike
    /// memory contents it is not copied to keep it: a later `local.get`
    /// reloads a slot just written, and the copies cost more code than
    /// they saved time (measured on CPython).
    fn take_cached_local(&mut self, ty: Ty, k: u32) -> Option<Loc> {
        if ty.is_float() {
            let n = self.fpr_local.iter().position(|l| *l == Some(k))?;
            self.claim_fpr(n);
            Some(Loc::FReg(FReg(n as u8)))
        } else {
            let n = self.gpr_local.iter().position(|l| *l == Some(k))?;
            self.claim_gpr(n);
            Some(Loc::Reg(Reg(n as u8)))
        }
    }

    /// An operand with the value `held` (from [`Self::stored`]): a constant
    /// as it is; for a free register a copy where another register is
    /// free, so that it keeps what it is known to hold (a move is cheaper
    /// than the load the next use would need), else that register itself.
    fn copy_free(&mut self, ty: Ty, held: Loc) -> Step<Loc> {
        if let Loc::Imm(_) = held {
            return Ok(held);
        }
        // Allocation prefers registers that hold nothing known, and takes
        // `held` (which leaves its value in place) only when all are taken.
        let dst = self.alloc_for(ty)?;
        if dst != held {
            self.load_loc(ty, dst, held);
        }
        Ok(dst)
    }

    /// Local `k` changed: no register holds its value, nor memory contents
    /// through it, and no operand is a copy of it any more.
    fn forget_local(&mut self, k: u32) {
        for l in self.gpr_local.iter_mut().chain(self.fpr_local.iter_mut()) {
            if *l == Some(k) {
                *l = None;
            }
        }
        for s in self.gpr_stored.iter_mut().chain(self.fpr_stored.iter_mut()) {
            if s.is_some_and(|s| s.local == k) {
                *s = None;
            }
        }
        self.stored_constants.retain(|(s, _)| s.local != k);
        for v in &mut self.stack {
            if v.copy_of == Some(k) {
                v.copy_of = None;
            }
        }
    }

    /// At a label or call: nothing is known about registers, memory or
    /// which operands are copies of locals.
    fn forget_known(&mut self) {
        self.gpr_local = [None; 32];
        self.fpr_local = [None; 32];
        self.gpr_stored = [None; 32];
        self.fpr_stored = [None; 32];
        self.stored_constants.clear();
        for v in &mut self.stack {
            v.copy_of = None;
        }
    }

    // -- memory contents held in free registers ---------------------------------

    /// Where the value at `s` is known to be: the constant stored there
    /// (`Loc::Imm`), or the free register that holds it.
    fn stored(&self, s: Stored) -> Option<Loc> {
        if let Some((_, bits)) = self.stored_constants.iter().find(|(x, _)| *x == s) {
            return Some(Loc::Imm(*bits));
        }
        if s.ty.is_float() {
            let n = self.fpr_stored.iter().position(|x| *x == Some(s))?;
            Some(Loc::FReg(FReg(n as u8)))
        } else {
            let n = self.gpr_stored.iter().position(|x| *x == Some(s))?;
            Some(Loc::Reg(Reg(n as u8)))
        }
    }

    /// A store through `index` wrote `bytes` bytes at `offset`: forget every
    /// value it may have overwritten.
    fn forget_stored(&mut self, index: Val, offset: u64, bytes: u64) {
        let kept = |x: &Stored| index.copy_of == Some(x.local) && !x.overlaps(offset, bytes);
        for s in self.gpr_stored.iter_mut().chain(self.fpr_stored.iter_mut()) {
            if !s.as_ref().is_some_and(kept) {
                *s = None;
            }
        }
        self.stored_constants.retain(|(s, _)| kept(s));
    }

    /// The value at `s` is `loc`: a free register or a constant.
    fn remember_stored(&mut self, loc: Loc, s: Stored) {
        match loc {
            Loc::Reg(r) if !Self::is_pinned(r) => self.gpr_stored[r.0 as usize] = Some(s),
            Loc::FReg(f) => self.fpr_stored[f.0 as usize] = Some(s),
            // Few stay known at once: -O0 code stores what it computes.
            Loc::Imm(bits) if self.stored_constants.len() < 16 => {
                self.stored_constants.push((s, bits))
            }
            _ => {}
        }
    }

    /// Stores the value at depth `d` to its slot.
    fn spill(&mut self, d: usize) {
        let v = self.stack[d];
        let k = self.slot(d);
        if v.loc == Loc::Slot(k) {
            return;
        }
        self.m.store_slot(v.ty, k, v.loc);
        self.free(v);
        self.stack[d].loc = Loc::Slot(k);
    }

    /// Frees every register the operand stack holds (before a call; a
    /// pinned local's register is callee-saved and stays).
    fn spill_registers(&mut self) {
        for d in 0..self.stack.len() {
            if matches!(self.stack[d].loc, Loc::Reg(r) if !Self::is_pinned(r))
                || matches!(self.stack[d].loc, Loc::FReg(_))
            {
                self.spill(d);
            }
        }
    }

    /// Puts every operand-stack value in its slot (at block boundaries).
    fn spill_all(&mut self) {
        for d in 0..self.stack.len() {
            self.spill(d);
        }
    }

    /// A register holding integer value `v`, owned by the caller (a copy
    /// of a pinned local's).
    fn gpr_of(&mut self, v: Val) -> Step<Reg> {
        Ok(match v.loc {
            Loc::Reg(r) if !Self::is_pinned(r) => r,
            Loc::FReg(_) => return invalid("integer value in a float register"),
            loc => {
                let r = self.alloc_gpr()?;
                self.m.load(v.ty, r, loc);
                r
            }
        })
    }

    /// The registers of an operation on integer value `v` that writes its
    /// result: (result, source). A pinned local's register is only read,
    /// into a fresh register (one three-operand instruction on aarch64 and
    /// riscv64); any other value is operated on in its own register.
    fn result_and_source(&mut self, v: Val) -> Step<(Reg, Reg)> {
        match v.loc {
            Loc::Reg(local) if Self::is_pinned(local) => Ok((self.alloc_gpr()?, local)),
            _ => {
                let r = self.gpr_of(v)?;
                Ok((r, r))
            }
        }
    }

    /// A register holding integer value `v` for an instruction that only
    /// reads it: a pinned local's register as it is.
    fn read_gpr(&mut self, v: Val) -> Step<Reg> {
        match v.loc {
            Loc::Reg(r) if Self::is_pinned(r) => Ok(r),
            _ => self.gpr_of(v),
        }
    }

    /// A register holding float value `v`, owned by the caller.
    fn fpr_of(&mut self, v: Val) -> Step<FReg> {
        Ok(match v.loc {
            Loc::FReg(f) => f,
            Loc::Reg(_) => return invalid("float value in an integer register"),
            loc => {
                let f = self.alloc_fpr()?;
                self.m.load_float(v.ty, f, loc);
                f
            }
        })
    }

    /// A fresh register for a result of type `ty`.
    fn alloc_for(&mut self, ty: Ty) -> Step<Loc> {
        Ok(match ty.is_float() {
            true => Loc::FReg(self.alloc_fpr()?),
            false => Loc::Reg(self.alloc_gpr()?),
        })
    }

    // -- operators -----------------------------------------------------------

    fn operator(&mut self, op: &Operator<'_>) -> Step {
        if let Some((ty, cc)) = self.pending_compare {
            match op {
                Operator::I32Eqz => {
                    self.pending_compare = Some((ty, cc.inverse()));
                    return Ok(());
                }
                // They take the comparison themselves (`pop_test`).
                Operator::BrIf { .. } | Operator::If { .. } => {}
                _ => {
                    self.pending_compare = None;
                    self.compare(ty, cc)?;
                }
            }
        }
        // Whether what is known (free registers' contents, memory
        // contents, operands that are copies of locals) still holds after
        // `op`: no label (no other path comes in), no call or bulk memory
        // operation (they may write memory), nothing that writes a register
        // it was not given.
        let keeps_known = if self.control_operator(op)? {
            matches!(
                op,
                Operator::Nop
                    | Operator::Block { .. }
                    | Operator::If { .. }
                    | Operator::BrIf { .. }
                    | Operator::Drop
                    | Operator::Select
                    | Operator::TypedSelect { .. }
            )
        } else if self.numeric_operator(op)?
            || self.access_operator(op)?
            || self.variable_operator(op)?
        {
            true
        } else if self.memory_operator(op)? || self.call_operator(op)? {
            false
        } else {
            return decline("operator");
        };
        if !keeps_known {
            self.forget_known();
        }
        Ok(())
    }

    /// Locals and globals.
    fn variable_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        match *op {
            Operator::LocalGet { local_index } => {
                let ty = self.local_type(local_index)?;
                // A pinned local's register is the operand itself, read
                // in place until something would write it (`gpr_of`).
                let loc = match self.pinned_register(local_index) {
                    Some(r) => Loc::Reg(r),
                    None => match self.take_cached_local(ty, local_index) {
                        Some(loc) => loc,
                        None => {
                            let loc = self.alloc_for(ty)?;
                            self.load_loc(ty, loc, Loc::Slot(local_index));
                            loc
                        }
                    },
                };
                self.push_val(Val {
                    ty,
                    loc,
                    copy_of: Some(local_index),
                });
            }
            Operator::LocalSet { local_index } => {
                let ty = self.local_type(local_index)?;
                let v = self.pop()?;
                self.set_local(ty, local_index, v.loc)?;
                self.free(v);
                self.forget_local(local_index);
                // The freed register still holds the value for a later
                // `local.get` (a pinned local is read in place instead).
                if self.pinned_register(local_index).is_none() {
                    match v.loc {
                        Loc::Reg(r) if !Self::is_pinned(r) => {
                            self.gpr_local[r.0 as usize] = Some(local_index)
                        }
                        Loc::FReg(f) => self.fpr_local[f.0 as usize] = Some(local_index),
                        _ => {}
                    }
                }
            }
            Operator::LocalTee { local_index } => {
                let ty = self.local_type(local_index)?;
                // Operands that read the pinned register get their own
                // copies first, which may move the value teed.
                self.unshare_pinned(local_index)?;
                let v = self.peek()?;
                self.set_local(ty, local_index, v.loc)?;
                self.forget_local(local_index);
                if let Some(top) = self.stack.last_mut() {
                    top.copy_of = Some(local_index);
                }
            }
            Operator::GlobalGet { global_index } => self.global_get(global_index)?,
            Operator::GlobalSet { global_index } => {
                let v = self.pop()?;
                self.m.global_set(v.ty, global_index, v.loc);
                self.free(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The callee-saved register local `k` lives in, if it is pinned.
    fn pinned_register(&self, k: u32) -> Option<Reg> {
        self.pins.iter().find(|&&(j, _)| j == k).map(|&(_, r)| r)
    }

    /// Whether `r` is a pinned local's register (not an operand's to own).
    fn is_pinned(r: Reg) -> bool {
        M::PINNED.contains(&r)
    }

    /// Gives local `k` the value at `value`: its register (once operands
    /// that still read it have copies) or its slot.
    fn set_local(&mut self, ty: Ty, k: u32, value: Loc) -> Step {
        match self.pinned_register(k) {
            Some(r) if value == Loc::Reg(r) => {}
            Some(r) => {
                self.unshare_pinned(k)?;
                self.m.load(ty, r, value);
            }
            None => self.m.store_slot(ty, k, value),
        }
        Ok(())
    }

    /// Before pinned local `k` changes: operands that are its register get
    /// a register of their own holding its current value.
    fn unshare_pinned(&mut self, k: u32) -> Step {
        let Some(pinned) = self.pinned_register(k) else {
            return Ok(());
        };
        for d in 0..self.stack.len() {
            if self.stack[d].loc == Loc::Reg(pinned) {
                let r = self.alloc_gpr()?;
                self.m.load(Ty::I64, r, Loc::Reg(pinned));
                self.stack[d].loc = Loc::Reg(r);
            }
        }
        Ok(())
    }

    /// Loads `from` into the register location `dst`.
    fn load_loc(&mut self, ty: Ty, dst: Loc, from: Loc) {
        match dst {
            Loc::FReg(f) => self.m.load_float(ty, f, from),
            Loc::Reg(r) => self.m.load(ty, r, from),
            _ => {}
        }
    }

    fn local_type(&self, index: u32) -> Step<Ty> {
        match self.locals.get(index as usize) {
            Some(t) => Ok(*t),
            None => invalid(format!("local {index} out of range")),
        }
    }

    fn global_get(&mut self, index: u32) -> Step {
        let Some(global) = self.env.module.globals.get(index as usize) else {
            return invalid(format!("global {index} out of range"));
        };
        let ty = value_type(global.ty)?;
        // An immutable global with a constant initialiser is that constant.
        if let (false, Some(crate::module::ConstInit::Value(bits))) = (global.mutable, global.init)
        {
            let bits = if ty.is_64() { bits } else { bits & 0xFFFF_FFFF };
            self.push(ty, Loc::Imm(bits));
            return Ok(());
        }
        let dst = self.alloc_for(ty)?;
        self.m.global_get(ty, dst, index);
        self.push(ty, dst);
        Ok(())
    }

    /// Skips an operator of unreachable code, keeping track of nesting.
    fn unreachable_operator(&mut self, op: &Operator<'_>) -> Step {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.unreachable_depth += 1;
            }
            Operator::Else if self.unreachable_depth == 0 => self.enter_else()?,
            Operator::End if self.unreachable_depth > 0 => self.unreachable_depth -= 1,
            Operator::End => self.end()?,
            _ => {}
        }
        Ok(())
    }
}
