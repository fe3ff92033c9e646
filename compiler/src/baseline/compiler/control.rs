//! Structured control flow: blocks, loops, `if`/`else`, branches (with
//! `br_table` as a jump table), `return`, `unreachable`, `select`, `drop`.
//!
//! Every label is entered with the whole operand stack in its slots (see the
//! module header), so a branch only has to copy the values it carries into
//! the slots its target expects them in.

use kiln_runtime::abi::TrapKind;
use wasmparser::{BlockType, Operator};

use super::{Compiler, Step, decline, invalid, value_type};
use crate::baseline::masm::{IntCc, Label, Loc, MacroAssembler, Reg, Ty};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum FrameKind {
    Function,
    Block,
    Loop,
    If { else_label: Label },
    Else,
}

/// What a conditional branch tests.
enum Test {
    /// An i32 in a register.
    NonZero(Reg),
    /// `lhs cc rhs`, never made a 0/1 value.
    Compare {
        ty: Ty,
        cc: IntCc,
        lhs: Reg,
        rhs: Loc,
    },
}

pub(super) struct Frame {
    kind: FrameKind,
    /// Where a branch to this frame goes: the end (the loop's start for a
    /// loop, the epilogue for the function).
    label: Label,
    /// Operand-stack height at entry.
    height: usize,
    results: Vec<Ty>,
    /// Whether some branch goes to `label` (so the end is reachable).
    branched: bool,
}

impl Frame {
    pub(super) fn function(epilogue: Label, results: Vec<Ty>) -> Frame {
        Frame {
            kind: FrameKind::Function,
            label: epilogue,
            height: 0,
            results,
            branched: false,
        }
    }

    /// How many values a branch to this frame carries.
    fn arity(&self) -> usize {
        match self.kind {
            FrameKind::Loop => 0,
            _ => self.results.len(),
        }
    }
}

impl<M: MacroAssembler> Compiler<'_, '_, M> {
    fn block_results(&self, ty: BlockType) -> Step<Vec<Ty>> {
        match ty {
            BlockType::Empty => Ok(vec![]),
            BlockType::Type(t) => Ok(vec![value_type(t)?]),
            BlockType::FuncType(index) => {
                let Some(f) = self.env.module.types.get(index as usize) else {
                    return invalid(format!("type {index} out of range"));
                };
                if !f.params().is_empty() {
                    return decline("block parameters");
                }
                f.results().iter().map(|t| value_type(*t)).collect()
            }
        }
    }

    fn frame(&self, depth: u32) -> Step<usize> {
        match (self.control.len()).checked_sub(depth as usize + 1) {
            Some(i) => Ok(i),
            None => invalid(format!("branch depth {depth} out of range")),
        }
    }

    pub(super) fn control_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                let at = self.m.trap();
                self.traps.push((at, TrapKind::Unreachable as u8));
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                let results = self.block_results(blockty)?;
                self.spill_all();
                let label = self.m.new_label();
                self.enter(FrameKind::Block, label, results);
            }
            Operator::Loop { blockty } => {
                let results = self.block_results(blockty)?;
                self.spill_all();
                let label = self.m.new_label();
                self.m.bind(label);
                self.enter(FrameKind::Loop, label, results);
            }
            Operator::If { blockty } => {
                let results = self.block_results(blockty)?;
                let test = self.pop_test()?;
                let else_label = self.m.new_label();
                self.branch_on(test, false, else_label);
                let label = self.m.new_label();
                self.enter(FrameKind::If { else_label }, label, results);
            }
            Operator::Else => self.enter_else()?,
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => {
                let target = self.frame(relative_depth)?;
                self.spill_all();
                self.branch_moves(target);
                let label = self.control[target].label;
                self.m.jump(label);
                self.control[target].branched = true;
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let target = self.frame(relative_depth)?;
                let test = self.pop_test()?;
                let label = self.control[target].label;
                if self.needs_moves(target) {
                    let skip = self.m.new_label();
                    self.branch_on(test, false, skip);
                    self.branch_moves(target);
                    self.m.jump(label);
                    self.m.bind(skip);
                } else {
                    self.branch_on(test, true, label);
                }
                self.control[target].branched = true;
            }
            Operator::BrTable { ref targets } => {
                let mut depths = Vec::with_capacity(targets.len() as usize + 1);
                for t in targets.targets() {
                    depths.push(self.frame(t?)?);
                }
                depths.push(self.frame(targets.default())?);
                self.br_table(&depths)?;
            }
            Operator::Return => {
                // Returning: nothing else on the stack matters.
                self.branch_moves(0);
                let label = self.control[0].label;
                self.m.jump(label);
                self.control[0].branched = true;
                self.reachable = false;
            }
            Operator::Drop => {
                let v = self.pop()?;
                self.free(v);
            }
            Operator::Select | Operator::TypedSelect { .. } => self.select()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Pops the condition of `br_if` or `if` (an i32, or the operands of
    /// the pending comparison) into registers, with the rest of the
    /// operand stack in its slots.
    fn pop_test(&mut self) -> Step<Test> {
        let Some((ty, cc)) = self.pending_compare.take() else {
            let cond = self.pop()?;
            self.spill_all();
            return Ok(Test::NonZero(self.read_gpr(cond)?));
        };
        let (rhs, _) = self.rhs(ty)?;
        let a = self.pop()?;
        if a.ty != ty {
            return invalid("operand type");
        }
        self.spill_all();
        let lhs = self.read_gpr(a)?;
        Ok(Test::Compare { ty, cc, lhs, rhs })
    }

    /// Branches to `label` when `test` comes out `when`; frees its registers.
    fn branch_on(&mut self, test: Test, when: bool, label: Label) {
        match test {
            Test::NonZero(r) => {
                self.m.branch(r, when, label);
                self.free_gpr(r);
            }
            Test::Compare { ty, cc, lhs, rhs } => {
                let cc = if when { cc } else { cc.inverse() };
                self.m.compare_branch(cc, ty, lhs, rhs, label);
                self.free_gpr(lhs);
                if let Loc::Reg(r) = rhs {
                    self.free_gpr(r);
                }
            }
        }
    }

    fn enter(&mut self, kind: FrameKind, label: Label, results: Vec<Ty>) {
        self.control.push(Frame {
            kind,
            label,
            height: self.stack.len(),
            results,
            branched: false,
        });
    }

    /// Whether a branch to frame `target` must move values first.
    fn needs_moves(&self, target: usize) -> bool {
        let frame = &self.control[target];
        match frame.kind {
            FrameKind::Function => !frame.results.is_empty(),
            _ => frame.arity() > 0 && self.stack.len() - frame.arity() != frame.height,
        }
    }

    /// Copies the values a branch to frame `target` carries to where the
    /// target expects them: the result registers for the function, the
    /// slots above the frame's entry height otherwise (the operand stack is
    /// all in slots or constants then).
    fn branch_moves(&mut self, target: usize) {
        let frame = &self.control[target];
        let arity = frame.arity();
        let from = self.stack.len() - arity;
        if frame.kind == FrameKind::Function {
            if let Some(&v) = self.stack.last()
                && arity == 1
            {
                match v.ty.is_float() {
                    true => self.m.load_float(v.ty, M::FLOAT_RESULT, v.loc),
                    false => self.m.load(v.ty, M::RESULT, v.loc),
                }
            }
            return;
        }
        let to = frame.height;
        if from == to {
            return;
        }
        for k in 0..arity {
            let v = self.stack[from + k];
            let slot = self.slot(to + k);
            self.m.store_slot(v.ty, slot, v.loc);
        }
    }

    fn br_table(&mut self, targets: &[usize]) -> Step {
        let index = self.pop()?;
        self.spill_all();
        let r = self.gpr_of(index)?;
        // Targets that need moves go through a stub that makes them.
        let mut stubs: Vec<(usize, Label)> = Vec::new();
        let mut dest = Vec::with_capacity(targets.len());
        for &t in targets {
            let label = if self.needs_moves(t) {
                match stubs.iter().find(|(f, _)| *f == t) {
                    Some((_, l)) => *l,
                    None => {
                        let l = self.m.new_label();
                        stubs.push((t, l));
                        l
                    }
                }
            } else {
                self.control[t].label
            };
            dest.push(label);
            self.control[t].branched = true;
        }
        let Some((default, cases)) = dest.split_last() else {
            return invalid("br_table without a default");
        };
        if u32::try_from(cases.len()).is_err() {
            return decline("huge br_table");
        }
        self.m.jump_table(r, cases, *default);
        self.free_gpr(r);
        for (t, stub) in stubs {
            self.m.bind(stub);
            self.branch_moves(t);
            let label = self.control[t].label;
            self.m.jump(label);
        }
        self.reachable = false;
        Ok(())
    }

    pub(super) fn enter_else(&mut self) -> Step {
        let Some(frame) = self.control.last() else {
            return invalid("else outside a block");
        };
        let FrameKind::If { else_label } = frame.kind else {
            return invalid("else without if");
        };
        let (label, height) = (frame.label, frame.height);
        if self.reachable {
            self.spill_all();
            self.m.jump(label);
            if let Some(f) = self.control.last_mut() {
                f.branched = true;
            }
        }
        self.m.bind(else_label);
        if let Some(f) = self.control.last_mut() {
            f.kind = FrameKind::Else;
        }
        self.drop_above(height);
        self.reachable = true;
        Ok(())
    }

    /// Drops operand-stack values above `height` (unreachable leftovers).
    fn drop_above(&mut self, height: usize) {
        while self.stack.len() > height {
            if let Some(v) = self.stack.pop() {
                self.free(v);
            }
        }
    }

    pub(super) fn end(&mut self) -> Step {
        let fallthrough = self.reachable;
        if self.control.len() == 1 {
            // The function's end: the results go to rax / xmm0.
            if fallthrough {
                self.branch_moves(0);
            }
            let Some(frame) = self.control.pop() else {
                return invalid("end outside a block");
            };
            if fallthrough || frame.branched {
                self.m.bind(frame.label);
                self.unpin_locals();
                self.m.epilogue();
            }
            self.drop_above(0);
            self.reachable = false;
            return Ok(());
        }
        let Some(frame) = self.control.pop() else {
            return invalid("end outside a block");
        };
        if fallthrough {
            self.spill_all();
        }
        let reachable = match frame.kind {
            FrameKind::If { else_label } => {
                // No else: the condition's false edge comes here.
                self.m.bind(else_label);
                true
            }
            FrameKind::Loop => fallthrough,
            _ => fallthrough || frame.branched,
        };
        if frame.kind != FrameKind::Loop {
            self.m.bind(frame.label);
        }
        self.drop_above(frame.height);
        for (k, ty) in frame.results.iter().enumerate() {
            let slot = self.slot(frame.height + k);
            self.push(*ty, Loc::Slot(slot));
        }
        self.reachable = reachable;
        Ok(())
    }

    fn select(&mut self) -> Step {
        let cond = self.pop()?;
        let b = self.pop()?;
        let a = self.pop()?;
        // The condition and the value not kept are only read: a pinned
        // local's register serves as it is.
        let rc = self.read_gpr(cond)?;
        if a.ty.is_float() {
            let fa = self.fpr_of(a)?;
            let fb = self.fpr_of(b)?;
            self.m.select_float(a.ty, rc, fa, fb);
            self.free_fpr(fb);
            self.push(a.ty, Loc::FReg(fa));
        } else {
            let ra = self.gpr_of(a)?;
            let rb = self.read_gpr(b)?;
            self.m.select(a.ty, rc, ra, rb);
            self.free_gpr(rb);
            self.push(a.ty, Loc::Reg(ra));
        }
        self.free_gpr(rc);
        Ok(())
    }
}
