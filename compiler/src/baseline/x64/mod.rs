//! The baseline compiler for x86_64: the operand stack, its register cache
//! and spill slots, the frame, and the operator loop.
//!
//! Frame (after the prologue):
//!
//! ```text
//! [rbp + 8]              return address
//! [rbp]                  caller's rbp
//! [rbp - 8], [rbp - 16]  saved r14 (vmctx), r15 (memory base)
//! [rbp - 24 - 8 k]       slot k: the locals, then one slot per operand-stack depth
//! ```
//!
//! Locals always live in their slots. An operand-stack value lives in a
//! register, as a constant, or in the slot of its depth; at every block
//! boundary all of them are stored to their slots, so that every path into
//! a label agrees on where each value is. Registers are caller-saved ones
//! only (calls spill them); r14 holds the vmctx and r15 the memory base,
//! which never moves with guard regions. r10 and r11 are scratch; all 16
//! xmm registers hold float operands.

mod asm;
mod calls;
mod control;
mod memory;
mod numeric;

use anyhow::Result;
use kiln_runtime::abi::TrapKind;
use wasmparser::{FunctionBody, Operator, ValType};

use super::MachineCode;
use crate::translate::ModuleEnv;
use crate::translate::environ::{memory as vm_memory, vmctx};
use asm::{Alu, Assembler, Gpr, Label, Mem, Width, Xmm};
use control::Frame;

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

/// A value type as the baseline compiler keeps it (references are pointers).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Ty {
    I32,
    I64,
    F32,
    F64,
}

impl Ty {
    fn of(t: ValType) -> Step<Ty> {
        Ok(match t {
            ValType::I32 => Ty::I32,
            ValType::I64 | ValType::Ref(_) => Ty::I64,
            ValType::F32 => Ty::F32,
            ValType::F64 => Ty::F64,
            ValType::V128 => return decline("v128"),
        })
    }

    fn is_float(self) -> bool {
        matches!(self, Ty::F32 | Ty::F64)
    }

    fn width(self) -> Width {
        match self {
            Ty::I32 | Ty::F32 => Width::W32,
            Ty::I64 | Ty::F64 => Width::W64,
        }
    }

    fn is_double(self) -> bool {
        self == Ty::F64
    }

    fn bits(self) -> u8 {
        match self.width() {
            Width::W32 => 32,
            Width::W64 => 64,
        }
    }
}

/// Where an operand-stack value is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Loc {
    Gpr(Gpr),
    Xmm(Xmm),
    /// A constant (i32 and f32 bits zero-extended).
    Imm(u64),
    /// In the slot of this operand-stack depth.
    Slot(u32),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Val {
    ty: Ty,
    loc: Loc,
}

/// Integer registers the operand stack may use (caller-saved, not scratch).
const GPRS: [Gpr; 7] = [
    Gpr::RAX,
    Gpr::RCX,
    Gpr::RDX,
    Gpr::RSI,
    Gpr::RDI,
    Gpr::R8,
    Gpr::R9,
];
/// Scratch registers, never holding an operand across instructions.
const SCRATCH: Gpr = Gpr::R11;
const SCRATCH2: Gpr = Gpr::R10;
const VMCTX: Gpr = Gpr::R14;
const MEMORY_BASE: Gpr = Gpr::R15;
/// Argument registers after the vmctx (rdi), and for floats.
const INT_ARGS: [Gpr; 5] = [Gpr::RSI, Gpr::RDX, Gpr::RCX, Gpr::R8, Gpr::R9];
const FLOAT_ARGS: usize = 8;

fn gpr_mask() -> u16 {
    GPRS.iter().fold(0, |m, r| m | 1 << r.0)
}

/// Bytes the prologue pushes below the return address (rbp, r14, r15).
const PUSHED: i32 = 24;

pub(super) struct Compiler<'a, 'm> {
    env: &'a ModuleEnv<'m>,
    a: Assembler,
    stack: Vec<Val>,
    control: Vec<Frame>,
    locals: Vec<Ty>,
    free_gprs: u16,
    free_xmms: u16,
    max_depth: usize,
    /// Most stack arguments any call passes.
    max_outgoing: usize,
    traps: Vec<(u32, u8)>,
    trap_stubs: Vec<(TrapKind, Label)>,
    calls: Vec<(u32, u32)>,
    reachable: bool,
    unreachable_depth: u32,
}

pub(super) fn compile(
    env: &ModuleEnv<'_>,
    index: u32,
    body: &FunctionBody<'_>,
) -> Result<Result<MachineCode, &'static str>> {
    let mut c = Compiler {
        env,
        a: Assembler::with_capacity((body.range().end - body.range().start) as usize * 4 + 64),
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        free_gprs: gpr_mask(),
        free_xmms: 0xFFFF,
        max_depth: 0,
        max_outgoing: 0,
        traps: Vec::new(),
        trap_stubs: Vec::new(),
        calls: Vec::new(),
        reachable: true,
        unreachable_depth: 0,
    };
    match c.function(index, body) {
        Ok(()) => {}
        Err(Stop::Declined(why)) => return Ok(Err(why)),
        Err(Stop::Invalid(e)) => return Err(e),
    }
    c.traps.sort_unstable();
    Ok(Ok(MachineCode {
        bytes: c.a.finish(),
        calls: c.calls,
        traps: c.traps,
    }))
}

impl Compiler<'_, '_> {
    fn function(&mut self, index: u32, body: &FunctionBody<'_>) -> Step {
        let ty = self.env.module.func_type(index);
        let params: Vec<Ty> = ty
            .params()
            .iter()
            .map(|t| Ty::of(*t))
            .collect::<Step<_>>()?;
        let results: Vec<Ty> = ty
            .results()
            .iter()
            .map(|t| Ty::of(*t))
            .collect::<Step<_>>()?;
        check_signature(&results)?;
        self.locals = params.clone();
        let mut reader = body.get_locals_reader()?;
        for _ in 0..reader.get_count() {
            let (count, t) = reader.read()?;
            let t = Ty::of(t)?;
            if self.locals.len() + count as usize > 1 << 20 {
                return decline("too many locals");
            }
            self.locals.extend(std::iter::repeat_n(t, count as usize));
        }

        let patches = self.prologue(&params);
        let epilogue = self.a.new_label();
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
            return Err(Stop::Invalid(anyhow::anyhow!(
                "function body ends inside a block"
            )));
        }
        // The function's `end` placed the epilogue; the trap stubs follow.
        for (kind, label) in std::mem::take(&mut self.trap_stubs) {
            self.a.bind(label);
            self.trap_here(kind);
            self.a.ud2();
        }
        // The frame's size is known now: one slot per local and per depth,
        // and below them the stack arguments of the calls.
        let slots = (self.locals.len() + self.max_depth + self.max_outgoing) as i32 * 8;
        let frame = (slots + 15) & !15;
        self.a.patch_i32(patches.0, PUSHED + frame);
        self.a.patch_i32(patches.1, frame);
        Ok(())
    }

    /// The stack check, the frame, vmctx and memory base in their
    /// registers, parameters and zeroed locals in their slots. Returns the
    /// offsets of the two frame sizes to patch at the end.
    fn prologue(&mut self, params: &[Ty]) -> (u32, u32) {
        let a = &mut self.a;
        // rsp - (pushes + frame) must not go below vmctx.stack_limit.
        a.load(Width::W64, SCRATCH, Mem::at(Gpr::RDI, vmctx::STACK_LIMIT));
        let check = a.alu_ri32(Alu::Add, Width::W64, SCRATCH, 0);
        a.alu_rr(Alu::Cmp, Width::W64, Gpr::RSP, SCRATCH);
        let overflow = self.trap_label(TrapKind::StackOverflow);
        let a = &mut self.a;
        a.jcc(asm::Cond::B, overflow);
        a.push(Gpr::RBP);
        a.mov_rr(Width::W64, Gpr::RBP, Gpr::RSP);
        a.push(VMCTX);
        a.push(MEMORY_BASE);
        let frame = a.alu_ri32(Alu::Sub, Width::W64, Gpr::RSP, 0);
        a.mov_rr(Width::W64, VMCTX, Gpr::RDI);
        if !self.env.module.memories.is_empty() {
            a.load(Width::W64, MEMORY_BASE, Mem::at(VMCTX, vmctx::MEMORY));
            a.load(
                Width::W64,
                MEMORY_BASE,
                Mem::at(MEMORY_BASE, vm_memory::BASE),
            );
        }
        for (i, (ty, place)) in params.iter().zip(arg_places(params)).enumerate() {
            let slot = local_mem(i);
            match place {
                ArgPlace::Int(r) => a.store(ty.width(), slot, r),
                ArgPlace::Float(x) => a.movs_store(ty.is_double(), slot, x),
                ArgPlace::Stack(k) => {
                    // Above the return address and the saved rbp.
                    a.load(Width::W64, SCRATCH, Mem::at(Gpr::RBP, 16 + 8 * k as i32));
                    a.store(Width::W64, slot, SCRATCH);
                }
            }
        }
        if self.locals.len() > params.len() {
            a.mov_imm(Gpr::RAX, 0);
            for i in params.len()..self.locals.len() {
                a.store(Width::W64, local_mem(i), Gpr::RAX);
            }
        }
        (check, frame)
    }

    /// Returns from the function (the results are in rax / xmm0).
    fn epilogue(&mut self) {
        let a = &mut self.a;
        a.lea(Gpr::RSP, Mem::at(Gpr::RBP, -16));
        a.pop(MEMORY_BASE);
        a.pop(VMCTX);
        a.pop(Gpr::RBP);
        a.ret();
    }

    // -- traps ---------------------------------------------------------------

    /// Records that the instruction starting here traps with `kind`.
    fn trap_here(&mut self, kind: TrapKind) {
        self.traps.push((self.a.offset(), kind as u8));
    }

    /// The out-of-line `ud2` for `kind`, placed after the function.
    fn trap_label(&mut self, kind: TrapKind) -> Label {
        if let Some((_, l)) = self.trap_stubs.iter().find(|(k, _)| *k == kind) {
            return *l;
        }
        let l = self.a.new_label();
        self.trap_stubs.push((kind, l));
        l
    }

    // -- the operand stack -----------------------------------------------------

    fn push(&mut self, ty: Ty, loc: Loc) {
        self.stack.push(Val { ty, loc });
        self.max_depth = self.max_depth.max(self.stack.len());
    }

    fn pop(&mut self) -> Step<Val> {
        match self.stack.pop() {
            Some(v) => Ok(v),
            None => Err(Stop::Invalid(anyhow::anyhow!("operand stack underflow"))),
        }
    }

    fn peek(&self) -> Step<Val> {
        match self.stack.last() {
            Some(v) => Ok(*v),
            None => Err(Stop::Invalid(anyhow::anyhow!("operand stack underflow"))),
        }
    }

    /// Marks a popped value's register free.
    fn free(&mut self, v: Val) {
        match v.loc {
            Loc::Gpr(r) => self.free_gpr(r),
            Loc::Xmm(x) => self.free_xmm(x),
            _ => {}
        }
    }

    fn free_gpr(&mut self, r: Gpr) {
        self.free_gprs |= 1 << r.0;
    }

    fn free_xmm(&mut self, x: Xmm) {
        self.free_xmms |= 1 << x.0;
    }

    /// A free integer register, spilling the deepest value held in one if
    /// none is free.
    fn alloc_gpr(&mut self) -> Step<Gpr> {
        if self.free_gprs == 0 {
            let Some(d) = self.stack.iter().position(|v| matches!(v.loc, Loc::Gpr(_))) else {
                return decline("integer register pressure");
            };
            self.spill(d);
        }
        let r = Gpr(self.free_gprs.trailing_zeros() as u8);
        self.free_gprs &= !(1 << r.0);
        Ok(r)
    }

    fn alloc_xmm(&mut self) -> Step<Xmm> {
        if self.free_xmms == 0 {
            let Some(d) = self.stack.iter().position(|v| matches!(v.loc, Loc::Xmm(_))) else {
                return decline("float register pressure");
            };
            self.spill(d);
        }
        let x = Xmm(self.free_xmms.trailing_zeros() as u8);
        self.free_xmms &= !(1 << x.0);
        Ok(x)
    }

    /// Makes `r` free, spilling the stack value held in it, and takes it.
    fn take_gpr(&mut self, r: Gpr) -> Step {
        if let Some(d) = self.stack.iter().position(|v| v.loc == Loc::Gpr(r)) {
            self.spill(d);
        }
        if self.free_gprs & 1 << r.0 == 0 {
            return decline("fixed register in use");
        }
        self.free_gprs &= !(1 << r.0);
        Ok(())
    }

    /// Stores the value at depth `d` to its slot.
    fn spill(&mut self, d: usize) {
        let v = self.stack[d];
        if v.loc == Loc::Slot(d as u32) {
            return;
        }
        self.store_val(v, self.slot_mem(d));
        self.free(v);
        self.stack[d].loc = Loc::Slot(d as u32);
    }

    /// Frees every register the operand stack holds (before a call).
    fn spill_registers(&mut self) {
        for d in 0..self.stack.len() {
            if matches!(self.stack[d].loc, Loc::Gpr(_) | Loc::Xmm(_)) {
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

    fn slot_mem(&self, depth: usize) -> Mem {
        local_mem(self.locals.len() + depth)
    }

    /// Stores `v` (any location) to `m` with its type's width.
    fn store_val(&mut self, v: Val, m: Mem) {
        match v.loc {
            Loc::Gpr(r) => self.a.store(v.ty.width(), m, r),
            Loc::Xmm(x) => self.a.movs_store(v.ty.is_double(), m, x),
            Loc::Imm(bits) => match v.ty.width() {
                Width::W32 => self.a.store_imm(Width::W32, m, bits as u32 as i32),
                Width::W64 => match i32::try_from(bits as i64) {
                    Ok(imm) => self.a.store_imm(Width::W64, m, imm),
                    Err(_) => {
                        self.a.mov_imm(SCRATCH, bits);
                        self.a.store(Width::W64, m, SCRATCH);
                    }
                },
            },
            Loc::Slot(d) => {
                let from = self.slot_mem(d as usize);
                if from.disp != m.disp || from.base != m.base || m.index.is_some() {
                    self.a.load(Width::W64, SCRATCH, from);
                    self.a.store(v.ty.width(), m, SCRATCH);
                }
            }
        }
    }

    /// A register holding integer value `v`, owned by the caller (i32
    /// values are kept zero-extended to 64 bits).
    fn gpr_of(&mut self, v: Val) -> Step<Gpr> {
        Ok(match v.loc {
            Loc::Gpr(r) => r,
            Loc::Imm(bits) => {
                let r = self.alloc_gpr()?;
                self.a.mov_imm(r, bits);
                r
            }
            Loc::Slot(d) => {
                let r = self.alloc_gpr()?;
                let m = self.slot_mem(d as usize);
                self.a.load(v.ty.width(), r, m);
                r
            }
            Loc::Xmm(_) => return decline("integer value in a float register"),
        })
    }

    /// A register holding float value `v`, owned by the caller.
    fn xmm_of(&mut self, v: Val) -> Step<Xmm> {
        Ok(match v.loc {
            Loc::Xmm(x) => x,
            Loc::Imm(bits) => {
                let x = self.alloc_xmm()?;
                self.load_float_bits(x, v.ty, bits);
                x
            }
            Loc::Slot(d) => {
                let x = self.alloc_xmm()?;
                let m = self.slot_mem(d as usize);
                self.a.movs_load(v.ty.is_double(), x, m);
                x
            }
            Loc::Gpr(_) => return decline("float value in an integer register"),
        })
    }

    fn load_float_bits(&mut self, x: Xmm, ty: Ty, bits: u64) {
        if bits == 0 {
            self.a.bits(asm::Bits::Xor, x, x);
        } else {
            self.a.mov_imm(SCRATCH, bits);
            self.a.gpr_to_xmm(ty.width(), x, SCRATCH);
        }
    }

    /// Loads value `v` into the argument register `r` (before a call, when
    /// no operand is in a register).
    fn load_into(&mut self, r: Gpr, v: Val) {
        match v.loc {
            Loc::Imm(bits) => self.a.mov_imm(r, bits),
            Loc::Slot(d) => {
                let m = self.slot_mem(d as usize);
                self.a.load(v.ty.width(), r, m);
            }
            Loc::Gpr(from) => {
                if from != r {
                    self.a.mov_rr(Width::W64, r, from);
                }
            }
            Loc::Xmm(x) => self.a.xmm_to_gpr(v.ty.width(), r, x),
        }
    }

    /// Loads float value `v` into `x` (as `load_into`).
    fn load_into_xmm(&mut self, x: Xmm, v: Val) {
        match v.loc {
            Loc::Imm(bits) => self.load_float_bits(x, v.ty, bits),
            Loc::Slot(d) => {
                let m = self.slot_mem(d as usize);
                self.a.movs_load(v.ty.is_double(), x, m);
            }
            Loc::Xmm(from) => {
                if from != x {
                    self.a.movaps(x, from);
                }
            }
            Loc::Gpr(r) => self.a.gpr_to_xmm(v.ty.width(), x, r),
        }
    }

    // -- operators -----------------------------------------------------------

    fn operator(&mut self, op: &Operator<'_>) -> Step {
        if self.control_operator(op)?
            || self.numeric_operator(op)?
            || self.memory_operator(op)?
            || self.call_operator(op)?
            || self.variable_operator(op)?
        {
            return Ok(());
        }
        decline("operator")
    }

    /// Locals and globals.
    fn variable_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        match *op {
            Operator::LocalGet { local_index } => {
                let ty = self.local_type(local_index)?;
                let m = local_mem(local_index as usize);
                let loc = if ty.is_float() {
                    let x = self.alloc_xmm()?;
                    self.a.movs_load(ty.is_double(), x, m);
                    Loc::Xmm(x)
                } else {
                    let r = self.alloc_gpr()?;
                    self.a.load(ty.width(), r, m);
                    Loc::Gpr(r)
                };
                self.push(ty, loc);
            }
            Operator::LocalSet { local_index } => {
                self.local_type(local_index)?;
                let v = self.pop()?;
                self.store_val(v, local_mem(local_index as usize));
                self.free(v);
            }
            Operator::LocalTee { local_index } => {
                self.local_type(local_index)?;
                let v = self.peek()?;
                self.store_val(v, local_mem(local_index as usize));
            }
            Operator::GlobalGet { global_index } => self.global_get(global_index)?,
            Operator::GlobalSet { global_index } => {
                let v = self.pop()?;
                self.global_cell(global_index);
                self.store_val(v, Mem::at(SCRATCH2, 0));
                self.free(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn local_type(&self, index: u32) -> Step<Ty> {
        match self.locals.get(index as usize) {
            Some(t) => Ok(*t),
            None => Err(Stop::Invalid(anyhow::anyhow!("local {index} out of range"))),
        }
    }

    /// Leaves the address of global `index`'s cell in r10.
    fn global_cell(&mut self, index: u32) {
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(VMCTX, vmctx::GLOBALS));
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(SCRATCH2, index as i32 * 8));
    }

    fn global_get(&mut self, index: u32) -> Step {
        let Some(global) = self.env.module.globals.get(index as usize) else {
            return Err(Stop::Invalid(anyhow::anyhow!(
                "global {index} out of range"
            )));
        };
        let ty = Ty::of(global.ty)?;
        // An immutable global with a constant initialiser is that constant.
        if let (false, Some(crate::module::ConstInit::Value(bits))) = (global.mutable, global.init)
        {
            let bits = match ty.width() {
                Width::W32 => bits & 0xFFFF_FFFF,
                Width::W64 => bits,
            };
            self.push(ty, Loc::Imm(bits));
            return Ok(());
        }
        self.global_cell(index);
        let loc = if ty.is_float() {
            let x = self.alloc_xmm()?;
            self.a.movs_load(ty.is_double(), x, Mem::at(SCRATCH2, 0));
            Loc::Xmm(x)
        } else {
            let r = self.alloc_gpr()?;
            self.a.load(ty.width(), r, Mem::at(SCRATCH2, 0));
            Loc::Gpr(r)
        };
        self.push(ty, loc);
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

/// Slot `k` of the frame (locals first, then operand-stack depths).
fn local_mem(k: usize) -> Mem {
    Mem::at(Gpr::RBP, -(PUSHED + 8 * k as i32))
}

/// Signatures the baseline compiler can call and be called with: at most
/// one result (Cranelift returns more through memory of its own layout).
fn check_signature(results: &[Ty]) -> Step {
    if results.len() > 1 {
        return decline("multiple results");
    }
    Ok(())
}

/// Where an argument goes in Cranelift's System V convention.
#[derive(Clone, Copy)]
enum ArgPlace {
    Int(Gpr),
    Float(Xmm),
    /// The k-th 8-byte stack slot (at the caller's rsp).
    Stack(usize),
}

/// The places of `params`, in order: integers in rsi, rdx, rcx, r8, r9
/// (rdi is the vmctx), floats in xmm0-7, the rest on the stack, 8 bytes
/// each, in parameter order.
fn arg_places(params: &[Ty]) -> impl Iterator<Item = ArgPlace> + '_ {
    let (mut ints, mut floats, mut stack) = (0, 0, 0);
    params.iter().map(move |ty| match ty.is_float() {
        true if floats < FLOAT_ARGS => {
            floats += 1;
            ArgPlace::Float(Xmm(floats as u8 - 1))
        }
        false if ints < INT_ARGS.len() => {
            ints += 1;
            ArgPlace::Int(INT_ARGS[ints - 1])
        }
        _ => {
            stack += 1;
            ArgPlace::Stack(stack - 1)
        }
    })
}
