//! Which locals live in registers: before compiling a function, one scan
//! of its operators weighs each integer local's `local.get`, `local.set`
//! and `local.tee` (a use inside `n` nested loops counts 4^n), and the
//! heaviest get the architecture's callee-saved registers
//! ([`MacroAssembler::PINNED`]: 3 on x86_64, 7 on aarch64, 8 on riscv64)
//! for the whole body. No block boundary or call moves them, so a pinned
//! local is read in place where a slot costs a load, and written with a
//! move where a slot costs a store; code built at -O0 reads its frame
//! pointer local for nearly every access to its variables. The callers'
//! values of those registers wait in the pinned locals' own slots.

use wasmparser::{FunctionBody, Operator};

use super::{Compiler, Step, Ty};
use crate::baseline::masm::{Loc, MacroAssembler, Reg};

/// Below this weight a declared local's register costs more (a save, the
/// zeroing, a restore) than its uses save.
const MIN_WEIGHT: u64 = 4;
/// A parameter's register also costs a load from the slot the prologue
/// stored it to, and a move: twice a declared local's fixed cost.
const MIN_PARAM_WEIGHT: u64 = 2 * MIN_WEIGHT;
/// Loops nested deeper than this weigh no more.
const MAX_LOOP_DEPTH: u32 = 6;

/// The locals to pin, each with its register: at most `regs.len()`, the
/// heaviest first. Locals `0..params` are the parameters.
pub(super) fn choose(
    locals: &[Ty],
    params: usize,
    body: &FunctionBody<'_>,
    regs: &[Reg],
) -> Step<Vec<(u32, Reg)>> {
    if regs.is_empty() {
        return Ok(Vec::new());
    }
    let mut weight = vec![0u64; locals.len()];
    // Whether each open block is a loop.
    let mut blocks: Vec<bool> = Vec::new();
    let mut loop_depth = 0u32;
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        match ops.read()? {
            Operator::Block { .. } | Operator::If { .. } => blocks.push(false),
            Operator::Loop { .. } => {
                blocks.push(true);
                loop_depth += 1;
            }
            Operator::End => {
                let closes_loop = blocks.pop() == Some(true);
                loop_depth -= u32::from(closes_loop);
            }
            Operator::LocalGet { local_index }
            | Operator::LocalSet { local_index }
            | Operator::LocalTee { local_index } => {
                if let Some(w) = weight.get_mut(local_index as usize) {
                    *w += 1 << (2 * loop_depth.min(MAX_LOOP_DEPTH));
                }
            }
            _ => {}
        }
    }
    let mut candidates: Vec<u32> = (0..locals.len() as u32)
        .filter(|&k| {
            let least = if (k as usize) < params {
                MIN_PARAM_WEIGHT
            } else {
                MIN_WEIGHT
            };
            !locals[k as usize].is_float() && weight[k as usize] >= least
        })
        .collect();
    // Heaviest first; among equals the lower index, so the choice is stable.
    candidates.sort_by_key(|&k| (std::cmp::Reverse(weight[k as usize]), k));
    Ok(candidates.into_iter().zip(regs.iter().copied()).collect())
}

impl<M: MacroAssembler> Compiler<'_, '_, M> {
    /// After the prologue (parameters in slots `0..params`): chooses the
    /// pinned locals, zeroes the declared locals left in slots, saves each
    /// pinned register's value in its local's slot and moves the local's
    /// first value into it.
    pub(super) fn pin_locals(&mut self, body: &FunctionBody<'_>, params: usize) -> Step {
        let regs = if self.env.pin_locals { M::PINNED } else { &[] };
        self.pins = choose(&self.locals, params, body, regs)?;
        // A pinned local's slot gets the caller's register, not a zero.
        let mut run = params;
        for k in params..=self.locals.len() {
            if k == self.locals.len() || self.pinned_register(k as u32).is_some() {
                self.m.zero_slots(run, k);
                run = k + 1;
            }
        }
        for i in 0..self.pins.len() {
            let (k, r) = self.pins[i];
            if (k as usize) < params {
                // At the parameter's own width: an i32's slot holds 4 bytes.
                let t = self.alloc_gpr()?;
                self.m.load(self.locals[k as usize], t, Loc::Slot(k));
                self.m.store_slot(Ty::I64, k, Loc::Reg(r));
                self.m.load(Ty::I64, r, Loc::Reg(t));
                self.free_gpr(t);
            } else {
                self.m.store_slot(Ty::I64, k, Loc::Reg(r));
                self.m.load(Ty::I64, r, Loc::Imm(0));
            }
        }
        Ok(())
    }

    /// Before the epilogue: gives the pinned registers their callers' values back.
    pub(super) fn unpin_locals(&mut self) {
        for &(k, r) in &self.pins {
            self.m.load(Ty::I64, r, Loc::Slot(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(wat: &str, locals: &[Ty], params: usize, regs: &[Reg]) -> Vec<(u32, Reg)> {
        let module = wat::parse_str(wat).expect("valid module");
        for payload in wasmparser::Parser::new(0).parse_all(&module) {
            if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
                return match choose(locals, params, &body, regs) {
                    Ok(c) => c,
                    Err(_) => panic!("scan failed"),
                };
            }
        }
        panic!("no function")
    }

    #[test]
    fn loop_uses_outweigh_straight_line_ones() {
        // Local 0: six uses outside loops; local 1: two inside one (weight 8).
        let wat = r#"(module (func (local i32 i32)
            local.get 0 local.get 0 local.get 0 local.get 0 local.get 0 local.set 0
            (loop local.get 1 local.set 1)))"#;
        let regs = [Reg(3), Reg(12)];
        let locals = [Ty::I32, Ty::I32];
        assert_eq!(chosen(wat, &locals, 0, &regs), [(1, Reg(3)), (0, Reg(12))]);
        assert_eq!(chosen(wat, &locals, 0, &regs[..1]), [(1, Reg(3))]);
    }

    #[test]
    fn floats_and_light_locals_stay_in_slots() {
        let wat = r#"(module (func (local f64 i64 i32)
            (loop local.get 0 drop local.get 0 drop local.get 2 drop)
            local.get 1 drop local.get 1 drop local.get 1 drop))"#;
        // f64 local 0 is never pinned; local 1 weighs 3, under MIN_WEIGHT.
        let locals = [Ty::F64, Ty::I64, Ty::I32];
        assert_eq!(chosen(wat, &locals, 0, &[Reg(3), Reg(12)]), [(2, Reg(3))]);
        assert_eq!(chosen(wat, &locals, 0, &[]), []);
    }

    #[test]
    fn parameters_need_twice_the_weight() {
        // Both weigh 4: enough for the declared local 1, not for parameter 0.
        let wat = r#"(module (func (param i64) (local i64)
            local.get 0 local.get 0 local.get 0 local.set 0
            local.get 1 local.get 1 local.get 1 local.set 1))"#;
        let locals = [Ty::I64, Ty::I64];
        assert_eq!(chosen(wat, &locals, 1, &[Reg(3), Reg(12)]), [(1, Reg(3))]);
        assert_eq!(chosen(wat, &locals, 0, &[Reg(3), Reg(12)]).len(), 2);
    }
}
