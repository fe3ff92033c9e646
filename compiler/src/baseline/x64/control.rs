//! Structured control flow: blocks, loops, `if`/`else`, branches (with
//! `br_table` as a jump table), `return`, `unreachable`, `select`, `drop`.
//!
//! Every label is entered with the whole operand stack in its slots (see the
//! module header), so a branch only has to copy the values it carries into
//! the slots its target expects them in.

use kiln_runtime::abi::TrapKind;
use wasmparser::{BlockType, Operator};

use super::asm::{Cond, Gpr, Label, Mem, Width, Xmm};
use super::{Compiler, Loc, SCRATCH, Step, Stop, Ty, decline};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum FrameKind {
    Function,
    Block,
    Loop,
    If { else_label: Label },
    Else,
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

impl Compiler<'_, '_> {
    fn block_results(&self, ty: BlockType) -> Step<Vec<Ty>> {
        match ty {
            BlockType::Empty => Ok(vec![]),
            BlockType::Type(t) => Ok(vec![Ty::of(t)?]),
            BlockType::FuncType(index) => {
                let Some(f) = self.env.module.types.get(index as usize) else {
                    return Err(Stop::Invalid(anyhow::anyhow!("type {index} out of range")));
                };
                if !f.params().is_empty() {
                    return decline("block parameters");
                }
                f.results().iter().map(|t| Ty::of(*t)).collect()
            }
        }
    }

    fn frame(&self, depth: u32) -> Step<usize> {
        match (self.control.len()).checked_sub(depth as usize + 1) {
            Some(i) => Ok(i),
            None => Err(Stop::Invalid(anyhow::anyhow!(
                "branch depth {depth} out of range"
            ))),
        }
    }

    pub(super) fn control_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.trap_here(TrapKind::Unreachable);
                self.a.ud2();
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                let results = self.block_results(blockty)?;
                self.spill_all();
                let label = self.a.new_label();
                self.enter(FrameKind::Block, label, results);
            }
            Operator::Loop { blockty } => {
                let results = self.block_results(blockty)?;
                self.spill_all();
                let label = self.a.new_label();
                self.a.bind(label);
                self.enter(FrameKind::Loop, label, results);
            }
            Operator::If { blockty } => {
                let results = self.block_results(blockty)?;
                let cond = self.pop()?;
                self.spill_all();
                let r = self.gpr_of(cond)?;
                self.a.test_rr(Width::W32, r, r);
                self.free_gpr(r);
                let else_label = self.a.new_label();
                self.a.jcc(Cond::E, else_label);
                let label = self.a.new_label();
                self.enter(FrameKind::If { else_label }, label, results);
            }
            Operator::Else => self.enter_else()?,
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => {
                let target = self.frame(relative_depth)?;
                self.spill_all();
                self.branch_moves(target);
                let label = self.control[target].label;
                self.a.jmp(label);
                self.control[target].branched = true;
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let target = self.frame(relative_depth)?;
                let cond = self.pop()?;
                self.spill_all();
                let r = self.gpr_of(cond)?;
                self.a.test_rr(Width::W32, r, r);
                self.free_gpr(r);
                let label = self.control[target].label;
                if self.needs_moves(target) {
                    let skip = self.a.new_label();
                    self.a.jcc(Cond::E, skip);
                    self.branch_moves(target);
                    self.a.jmp(label);
                    self.a.bind(skip);
                } else {
                    self.a.jcc(Cond::Ne, label);
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
                self.a.jmp(label);
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
    /// slots above the frame's entry height otherwise. The operand stack is
    /// all in slots (or constants) here.
    fn branch_moves(&mut self, target: usize) {
        let frame = &self.control[target];
        let arity = frame.arity();
        let from = self.stack.len() - arity;
        if frame.kind == FrameKind::Function {
            if let Some(&v) = self.stack.last()
                && arity == 1
            {
                match v.ty.is_float() {
                    true => self.load_into_xmm(Xmm(0), v),
                    false => self.load_into(Gpr::RAX, v),
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
            let m = self.slot_mem(to + k);
            self.store_val(v, m);
        }
    }

    fn br_table(&mut self, targets: &[usize]) -> Step {
        let index = self.pop()?;
        self.spill_all();
        let r = self.gpr_of(index)?;
        self.free_gpr(r);
        // Targets that need moves go through a stub that makes them.
        let mut stubs: Vec<(usize, Label)> = Vec::new();
        let mut dest = Vec::with_capacity(targets.len());
        for &t in targets {
            let label = if self.needs_moves(t) {
                match stubs.iter().find(|(f, _)| *f == t) {
                    Some((_, l)) => *l,
                    None => {
                        let l = self.a.new_label();
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
        let (default, cases) = dest
            .split_last()
            .ok_or_else(|| Stop::Invalid(anyhow::anyhow!("br_table without a default")))?;
        let Ok(n) = i32::try_from(cases.len()) else {
            return decline("huge br_table");
        };
        // Out of range (unsigned): the default.
        self.a.alu_ri(super::Alu::Cmp, Width::W32, r, n);
        self.a.jcc(Cond::Ae, *default);
        let table = self.a.new_label();
        self.a.lea_label(SCRATCH, table);
        self.a
            .load_sx(Width::W64, r, Mem::indexed(SCRATCH, r, 2, 0), 4);
        self.a.alu_rr(super::Alu::Add, Width::W64, r, SCRATCH);
        self.a.jmp_reg(r);
        self.a.bind(table);
        let base = self.a.offset();
        for label in cases {
            self.a.table_entry(*label, base);
        }
        for (t, stub) in stubs {
            self.a.bind(stub);
            self.branch_moves(t);
            let label = self.control[t].label;
            self.a.jmp(label);
        }
        self.reachable = false;
        Ok(())
    }

    pub(super) fn enter_else(&mut self) -> Step {
        let Some(frame) = self.control.last() else {
            return Err(Stop::Invalid(anyhow::anyhow!("else outside a block")));
        };
        let FrameKind::If { else_label } = frame.kind else {
            return Err(Stop::Invalid(anyhow::anyhow!("else without if")));
        };
        let (label, height) = (frame.label, frame.height);
        if self.reachable {
            self.spill_all();
            self.a.jmp(label);
            if let Some(f) = self.control.last_mut() {
                f.branched = true;
            }
        }
        self.a.bind(else_label);
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
                return Err(Stop::Invalid(anyhow::anyhow!("end outside a block")));
            };
            if fallthrough || frame.branched {
                self.a.bind(frame.label);
                self.epilogue();
            }
            self.drop_above(0);
            self.reachable = false;
            return Ok(());
        }
        let Some(frame) = self.control.pop() else {
            return Err(Stop::Invalid(anyhow::anyhow!("end outside a block")));
        };
        if fallthrough {
            self.spill_all();
        }
        let reachable = match frame.kind {
            FrameKind::If { else_label } => {
                // No else: the condition's false edge comes here.
                self.a.bind(else_label);
                true
            }
            FrameKind::Loop => fallthrough,
            _ => fallthrough || frame.branched,
        };
        if frame.kind != FrameKind::Loop {
            self.a.bind(frame.label);
        }
        self.drop_above(frame.height);
        for (k, ty) in frame.results.iter().enumerate() {
            self.push(*ty, Loc::Slot((frame.height + k) as u32));
        }
        self.reachable = reachable;
        Ok(())
    }

    fn select(&mut self) -> Step {
        let cond = self.pop()?;
        let b = self.pop()?;
        let a = self.pop()?;
        let rc = self.gpr_of(cond)?;
        if a.ty.is_float() {
            let xa = self.xmm_of(a)?;
            let xb = self.xmm_of(b)?;
            self.a.test_rr(Width::W32, rc, rc);
            let keep = self.a.new_label();
            self.a.jcc(Cond::Ne, keep);
            self.a.movaps(xa, xb);
            self.a.bind(keep);
            self.free_xmm(xb);
            self.free_gpr(rc);
            self.push(a.ty, Loc::Xmm(xa));
        } else {
            let ra = self.gpr_of(a)?;
            let rb = self.gpr_of(b)?;
            self.a.test_rr(Width::W32, rc, rc);
            self.a.cmov(Cond::E, Width::W64, ra, rb);
            self.free_gpr(rb);
            self.free_gpr(rc);
            self.push(a.ty, Loc::Gpr(ra));
        }
        Ok(())
    }
}
