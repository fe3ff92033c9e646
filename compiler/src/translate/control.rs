//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, branches,
//! `return`, `unreachable`, plus the stack shufflers `drop` and `select`.
//!
//! Each frame records where `end` continues (`dest`, whose block parameters
//! are the results), the loop header for loops, and the operand-stack height
//! below the block's parameters. Code after an unconditional branch is
//! skipped until a label that some branch reaches.

use anyhow::Result;
use cranelift_codegen::ir::{BlockArg, InstBuilder, JumpTableData, Value};
use kiln_runtime::abi::TrapKind;
use std::collections::HashMap;
use wasmparser::{BlockType, Operator, ValType};

use super::{FuncTranslator, Label, environ};

pub(crate) enum FrameKind {
    Function,
    Block,
    Loop { header: Label },
    If { else_block: Label, else_seen: bool },
}

pub(crate) struct Frame {
    pub kind: FrameKind,
    /// Where `end` continues; its parameters are the results.
    pub dest: Label,
    pub params: usize,
    pub results: usize,
    /// Operand-stack height below the block's parameters.
    pub height: usize,
    /// Whether some branch (or the fallthrough) reaches `dest`.
    pub dest_reached: bool,
}

impl Frame {
    pub fn function(exit: Label, results: usize) -> Frame {
        Frame {
            kind: FrameKind::Function,
            dest: exit,
            params: 0,
            results,
            height: 0,
            dest_reached: false,
        }
    }

    /// The block a branch to this frame jumps to, and how many values it takes.
    fn branch_target(&self) -> (Label, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.params),
            _ => (self.dest, self.results),
        }
    }
}

pub(crate) fn args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

impl FuncTranslator<'_, '_> {
    fn block_type(&self, ty: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![t]),
            BlockType::FuncType(index) => {
                let f = &self.env.module.types[index as usize];
                (f.params().to_vec(), f.results().to_vec())
            }
        }
    }

    fn new_block(&mut self, types: &[ValType]) -> Label {
        let block = self.b.create_block();
        for ty in types {
            self.b.append_block_param(block, environ::clif_type(*ty));
        }
        block
    }

    /// Jumps to `target` with the top `count` operands (left on the stack).
    fn jump_with_top(&mut self, target: Label, count: usize) {
        let values = args(&self.stack[self.stack.len() - count..]);
        self.b.ins().jump(target, &values);
    }

    fn frame_mut(&mut self, depth: u32) -> &mut Frame {
        let i = self.control.len() - 1 - depth as usize;
        &mut self.control[i]
    }

    /// Records a branch to the frame `depth` levels out (a branch to a loop
    /// goes to its header, not to the code after it).
    fn mark_branched(&mut self, depth: u32) {
        let frame = self.frame_mut(depth);
        if !matches!(frame.kind, FrameKind::Loop { .. }) {
            frame.dest_reached = true;
        }
    }

    pub(crate) fn control_operator(&mut self, op: &Operator<'_>) -> Result<bool> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => self.trap(TrapKind::Unreachable),
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } | Operator::TypedSelectMulti { .. } => {
                let (a, b, c) = self.pop3();
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }
            Operator::Block { blockty } => {
                let (params, results) = self.block_type(blockty);
                let dest = self.new_block(&results);
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    dest,
                    params: params.len(),
                    results: results.len(),
                    height: self.stack.len() - params.len(),
                    dest_reached: false,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_type(blockty);
                let header = self.new_block(&params);
                let dest = self.new_block(&results);
                self.jump_with_top(header, params.len());
                let height = self.stack.len() - params.len();
                self.stack.truncate(height);
                self.b.switch_to_block(header);
                self.known.clear();
                self.stack.extend_from_slice(self.b.block_params(header));
                self.control.push(Frame {
                    kind: FrameKind::Loop { header },
                    dest,
                    params: params.len(),
                    results: results.len(),
                    height,
                    dest_reached: false,
                });
            }
            Operator::If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_type(blockty);
                let then_block = self.new_block(&params);
                let else_block = self.new_block(&params);
                let dest = self.new_block(&results);
                let height = self.stack.len() - params.len();
                let values = args(&self.stack[height..]);
                let (cond, swap) = self.branch_condition(cond);
                let (yes, no) = match swap {
                    false => (then_block, else_block),
                    true => (else_block, then_block),
                };
                self.b.ins().brif(cond, yes, &values, no, &values);
                self.stack.truncate(height);
                self.b.seal_block(then_block);
                self.b.seal_block(else_block);
                self.b.switch_to_block(then_block);
                self.stack
                    .extend_from_slice(self.b.block_params(then_block));
                self.control.push(Frame {
                    kind: FrameKind::If {
                        else_block,
                        else_seen: false,
                    },
                    dest,
                    params: params.len(),
                    results: results.len(),
                    height,
                    dest_reached: false,
                });
            }
            Operator::Else => {
                let (dest, results) = {
                    let f = self.frame_mut(0);
                    (f.dest, f.results)
                };
                self.jump_with_top(dest, results);
                self.frame_mut(0).dest_reached = true;
                self.enter_else();
            }
            Operator::End => {
                let (dest, results) = {
                    let f = self.frame_mut(0);
                    (f.dest, f.results)
                };
                self.jump_with_top(dest, results);
                self.frame_mut(0).dest_reached = true;
                self.end_frame();
            }
            Operator::Br { relative_depth } => {
                self.branch(relative_depth);
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                let (target, count) = self.frame_mut(relative_depth).branch_target();
                self.mark_branched(relative_depth);
                let values = args(&self.stack[self.stack.len() - count..]);
                let next = self.b.create_block();
                match self.branch_condition(cond) {
                    (cond, false) => self.b.ins().brif(cond, target, &values, next, &[]),
                    (cond, true) => self.b.ins().brif(cond, next, &[], target, &values),
                };
                self.b.seal_block(next);
                self.b.switch_to_block(next);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop();
                let depths: Vec<u32> = targets.targets().collect::<Result<_, _>>()?;
                self.branch_table(index, &depths, targets.default());
                self.reachable = false;
            }
            Operator::Return => {
                let results = self.control[0].results;
                let values = self.stack[self.stack.len() - results..].to_vec();
                self.b.ins().return_(&values);
                self.reachable = false;
            }
            Operator::Call { function_index } => self.call(function_index)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn branch(&mut self, depth: u32) {
        let (target, count) = self.frame_mut(depth).branch_target();
        self.mark_branched(depth);
        self.jump_with_top(target, count);
    }

    fn branch_table(&mut self, index: Value, depths: &[u32], default: u32) {
        let count = self.frame_mut(default).branch_target().1;
        for &d in depths.iter().chain([&default]) {
            self.mark_branched(d);
        }
        let values = args(&self.stack[self.stack.len() - count..]);
        // br_table cannot pass block arguments: with values to pass, each
        // distinct target gets an edge block that forwards them.
        let mut edges: HashMap<u32, Label> = HashMap::new();
        let mut edge = |t: &mut Self, depth: u32| -> Label {
            let target = t.frame_mut(depth).branch_target().0;
            if count == 0 {
                return target;
            }
            *edges.entry(depth).or_insert_with(|| t.b.create_block())
        };
        let default_block = edge(self, default);
        let table: Vec<Label> = depths.iter().map(|d| edge(self, *d)).collect();
        let pool = &mut self.b.func.dfg.value_lists;
        let default_call =
            cranelift_codegen::ir::BlockCall::new(default_block, std::iter::empty(), pool);
        let calls: Vec<_> = table
            .iter()
            .map(|b| cranelift_codegen::ir::BlockCall::new(*b, std::iter::empty(), pool))
            .collect();
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(default_call, &calls));
        self.b.ins().br_table(index, jt);
        for (depth, block) in edges {
            let target = self.frame_mut(depth).branch_target().0;
            self.b.seal_block(block);
            self.b.switch_to_block(block);
            self.b.ins().jump(target, &values);
        }
    }

    /// Switches to the `else` arm of the innermost `if`.
    fn enter_else(&mut self) {
        let frame = self.control.last_mut().expect("validated: else inside if");
        let FrameKind::If {
            else_block,
            else_seen,
        } = &mut frame.kind
        else {
            unreachable!("validated: else inside if");
        };
        *else_seen = true;
        let else_block = *else_block;
        let height = frame.height;
        self.stack.truncate(height);
        self.b.switch_to_block(else_block);
        self.known.clear();
        self.stack
            .extend_from_slice(self.b.block_params(else_block));
        self.reachable = true;
    }

    /// Closes the innermost frame after its fallthrough was handled.
    fn end_frame(&mut self) {
        let mut frame = self.control.pop().expect("validated: end matches a block");
        match frame.kind {
            FrameKind::Loop { header } => self.b.seal_block(header),
            // An `if` without `else`: the else path forwards the params.
            FrameKind::If {
                else_block,
                else_seen: false,
            } => {
                self.b.switch_to_block(else_block);
                let params = self.b.block_params(else_block).to_vec();
                self.b.ins().jump(frame.dest, &args(&params));
                frame.dest_reached = true;
            }
            _ => {}
        }
        self.stack.truncate(frame.height);
        if frame.dest_reached {
            self.b.switch_to_block(frame.dest);
            self.known.clear();
            self.b.seal_block(frame.dest);
            self.stack
                .extend_from_slice(self.b.block_params(frame.dest));
            self.reachable = true;
        } else {
            self.reachable = false;
        }
    }

    /// Handles an operator in unreachable code: only the structure matters.
    pub(crate) fn unreachable_operator(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.unreachable_depth += 1;
            }
            Operator::Else if self.unreachable_depth == 0 => self.enter_else(),
            Operator::End if self.unreachable_depth > 0 => self.unreachable_depth -= 1,
            Operator::End => self.end_frame(),
            _ => {}
        }
        Ok(())
    }
}
