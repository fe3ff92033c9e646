//! Constants kept in registers across small loops (riscv64 and aarch64).
//!
//! Cranelift rematerialises every integer constant in each block that uses
//! it, so that no register is held for it across blocks. On x86_64 that is
//! free (constants are immediates), but riscv64 and aarch64 build a
//! constant the instruction cannot encode in front of each use, inside the
//! loop: sieve's inner loop (`flags[i] = 0; i += p; while i < 8193`) spends
//! four of its ten riscv64 instructions on `lui; addi` for the array's
//! address 3744 and the bound 8193, and one more on `li a4, 0` for the
//! stored zero (neither backend stores the zero register).
//!
//! Here the constants that cost an instruction at each use in an innermost
//! loop without calls enter the loop as block parameters of its header:
//! each edge from outside passes the constant (built there, once), and
//! each edge around the loop passes the parameter back as `p + 0`, which
//! Cranelift folds to `p` only after its constant-phi removal has run. The
//! register is then held across that loop only, and nothing is built
//! inside it. Loops with calls are left alone (the value would live in a
//! callee-saved register or a spill slot), and so are large loops, where
//! another held register may cost a spill. Multiplies count too (neither
//! target has a multiply immediate: a hash loop's `h * 16777619` built
//! `lui; addi` each iteration), except by the constants the e-graph turns
//! into shifts, negations, copies or zero, which it must still see; and
//! uses in values nothing uses (translation leaves some behind) do not.
//!
//! Two other ways were measured and lost: an opaque pure value (`k << (sp
//! << 6)`) left to Cranelift's loop-invariant code motion, which in this
//! version forgets the loop of the blocks it visits after an exit block
//! the header dominates (rust-json's string escaping loop, `if i != len`
//! at its head, built the constant on every iteration); and an add that
//! may trap, which stays where it is put but costs an add and a branch per
//! constant on every entry to the loop.

use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::dominator_tree::DominatorTree;
use cranelift_codegen::entity::EntitySet;
use cranelift_codegen::flowgraph::ControlFlowGraph;
use cranelift_codegen::ir::{
    Block, Function, Inst, InstBuilder, InstructionData, MemFlagsData, Opcode, Type, Value,
    ValueDef,
};
use cranelift_codegen::loop_analysis::{Loop, LoopAnalysis};
use std::collections::{HashMap, HashSet};

use super::anchors::Encoding;

/// Loops of more instructions are left alone.
const MAX_LOOP_INSTS: usize = 200;
/// At most this many constants are held per loop.
const MAX_CONSTANTS: usize = 6;

/// Rewrites the costly constants of `func`'s small innermost loops.
pub fn keep_loop_constants(func: &mut Function, target: Encoding) {
    if !has_back_edge(func) {
        return;
    }
    let cfg = ControlFlowGraph::with_function(func);
    let domtree = DominatorTree::with_function(func, &cfg);
    let mut loops = LoopAnalysis::new();
    loops.compute(func, &cfg, &domtree);

    let mut blocks: HashMap<Loop, Vec<Block>> = HashMap::new();
    for block in func.layout.blocks() {
        if let Some(lp) = loops.innermost_loop(block) {
            blocks.entry(lp).or_default().push(block);
        }
    }
    // A loop that is some other loop's parent is not innermost.
    let parents: HashSet<Loop> = loops.loops().filter_map(|l| loops.loop_parent(l)).collect();
    let mut used: Option<EntitySet<Value>> = None;
    for lp in loops.loops() {
        let Some(body) = blocks.get(&lp) else {
            continue;
        };
        if parents.contains(&lp) {
            continue;
        }
        let Some(mut uses) = costly_uses(func, body, target) else {
            continue;
        };
        if uses.is_empty() {
            continue;
        }
        // Translation leaves unused values behind (an address `x + C` that
        // `anchors` rewrote); Cranelift drops them, and a constant held
        // for one would be built before the loop for nothing.
        let used = used.get_or_insert_with(|| used_values(func));
        uses.retain(|u| {
            let results = func.dfg.inst_results(u.inst);
            results.is_empty() || results.iter().any(|&r| used.contains(r))
        });
        if uses.is_empty() {
            continue;
        }
        // The most used, the first seen on a tie.
        let mut counts: Vec<(Held, usize)> = Vec::new();
        for u in &uses {
            match counts.iter_mut().find(|(h, _)| *h == u.held) {
                Some((_, n)) => *n += 1,
                None => counts.push((u.held, 1)),
            }
        }
        counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        counts.truncate(MAX_CONSTANTS);
        let header = loops.loop_header(lp);
        let preds: Vec<(Block, Inst)> = cfg
            .pred_iter(header)
            .map(|pred| (pred.block, pred.inst))
            .collect();
        // A jump table may be shared between branches: leave those loops.
        if preds
            .iter()
            .any(|&(_, inst)| !matches!(func.dfg.insts[inst].opcode(), Opcode::Jump | Opcode::Brif))
        {
            continue;
        }
        let params: Vec<Value> = counts
            .iter()
            .map(|&(h, _)| func.dfg.append_block_param(header, holder_type(h.ty)))
            .collect();
        for &(block, inst) in &preds {
            let mut cursor = FuncCursor::new(func).at_inst(inst);
            let args: Vec<Value> = match loops.is_in_loop(block, lp) {
                // Around the loop: the parameter again, as a value
                // Cranelift's constant-phi removal does not see through.
                true => params
                    .iter()
                    .map(|&p| cursor.ins().iadd_imm_s(p, 0))
                    .collect(),
                // Into the loop: built here, where a base is defined (its
                // definition dominates the header, so every edge into it).
                false => counts
                    .iter()
                    .map(|&(h, _)| {
                        let k = cursor.ins().iconst(holder_type(h.ty), wide(h.ty, h.k));
                        match h.base {
                            Some(base) => cursor.ins().iadd(base, k),
                            None => k,
                        }
                    })
                    .collect(),
            };
            let dfg = &mut cursor.func.dfg;
            for dest in dfg.insts[inst]
                .branch_destination_mut(&mut dfg.jump_tables, &mut dfg.exception_tables)
            {
                if dest.block(&dfg.value_lists) == header {
                    for &arg in &args {
                        dest.append_argument(arg, &mut dfg.value_lists);
                    }
                }
            }
        }
        // Floats are held as their bits, moved over at the loop's top.
        let first = func.layout.first_inst(header);
        let mut held: HashMap<Held, Value> = HashMap::new();
        for (&(h, _), &param) in counts.iter().zip(&params) {
            let value = match (h.ty.is_float(), first) {
                (true, Some(first)) => FuncCursor::new(func).at_inst(first).ins().bitcast(
                    h.ty,
                    MemFlagsData::new(),
                    param,
                ),
                _ => param,
            };
            held.insert(h, value);
        }
        for u in uses {
            let Some(&value) = held.get(&u.held) else {
                continue;
            };
            match u.held.base {
                // `base + k` becomes `held + 0`, which Cranelift folds.
                Some(_) => {
                    let zero = FuncCursor::new(func)
                        .at_inst(u.inst)
                        .ins()
                        .iconst(u.held.ty, 0);
                    let args = func.dfg.inst_args_mut(u.inst);
                    args[u.arg] = zero;
                    args[1 - u.arg] = value;
                }
                None => func.dfg.inst_args_mut(u.inst)[u.arg] = value,
            }
        }
    }
}

/// The type of the block parameter that holds a constant of type `ty`.
fn holder_type(ty: Type) -> Type {
    match ty.is_float() {
        true => ty.as_int(),
        false => ty,
    }
}

/// The immediate of a `holder_type(ty)` constant with the bits `k`
/// (Cranelift keeps a narrow constant's bits zero-extended).
fn wide(ty: Type, k: i64) -> i64 {
    match ty.bits() {
        64 => k,
        n => k & ((1i64 << n) - 1),
    }
}

/// The constant `arg` is, of its own type: an `iconst`, or an extended
/// one (riscv64 compares extend both operands to 64 bits), or the bits of
/// a float constant.
fn constant_of(func: &Function, arg: Value) -> Option<i64> {
    if let Some(k) = super::iconst_value(&func.dfg, arg) {
        return Some(sign_extend(k, func.dfg.value_type(arg)));
    }
    let def = func.dfg.value_def(arg).inst()?;
    let (opcode, inner) = match func.dfg.insts[def] {
        InstructionData::UnaryIeee64 { imm, .. } => return Some(imm.bits() as i64),
        InstructionData::UnaryIeee32 { imm, .. } => return Some(i64::from(imm.bits())),
        InstructionData::Unary { opcode, arg } => (opcode, arg),
        _ => return None,
    };
    let inner_ty = func.dfg.value_type(inner);
    let k = sign_extend(super::iconst_value(&func.dfg, inner)?, inner_ty);
    match opcode {
        Opcode::Sextend => Some(k),
        Opcode::Uextend if inner_ty.bits() < 64 => Some(wide(inner_ty, k)),
        _ => None,
    }
}

/// Whether some branch goes to a block at or before its own: every loop
/// has one, so functions without are skipped before the analyses.
fn has_back_edge(func: &Function) -> bool {
    let mut seen = EntitySet::with_capacity(func.dfg.num_blocks());
    for block in func.layout.blocks() {
        seen.insert(block);
        let Some(last) = func.layout.last_inst(block) else {
            continue;
        };
        let table = &func.dfg.jump_tables;
        let exceptions = &func.dfg.exception_tables;
        for dest in func.dfg.insts[last].branch_destination(table, exceptions) {
            if seen.contains(dest.block(&func.dfg.value_lists)) {
                return true;
            }
        }
    }
    false
}

/// What a loop holds in one block parameter: the constant `k` of type
/// `ty`, or with `base`, the sum of a value defined before the loop and
/// `k` (an array's address added to the memory's base: the whole sum is
/// invariant, and a held constant alone would leave the add in the loop).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Held {
    ty: Type,
    k: i64,
    base: Option<Value>,
}

/// A use of a held value: argument `arg` of `inst`.
struct Use {
    inst: Inst,
    arg: usize,
    held: Held,
}

/// The uses of constants in `body` that cost an instruction each time
/// they run, in order. `None` when the loop calls or is too large.
fn costly_uses(func: &Function, body: &[Block], target: Encoding) -> Option<Vec<Use>> {
    let in_loop = |v: Value| {
        let block = match func.dfg.value_def(v) {
            ValueDef::Result(inst, _) => func.layout.inst_block(inst),
            ValueDef::Param(block, _) => Some(block),
            _ => None,
        };
        block.is_none_or(|b| body.contains(&b))
    };
    let mut uses = Vec::new();
    let mut size = 0;
    for &block in body {
        // The condition of the block's closing `brif`, if any.
        let branch_condition =
            func.layout
                .last_inst(block)
                .and_then(|last| match func.dfg.insts[last] {
                    InstructionData::Brif { arg, .. } => Some(arg),
                    _ => None,
                });
        for inst in func.layout.block_insts(block) {
            size += 1;
            let opcode = func.dfg.insts[inst].opcode();
            if size > MAX_LOOP_INSTS || opcode.is_call() {
                return None;
            }
            let args = func.dfg.inst_args(inst);
            for (i, &arg) in args.iter().enumerate() {
                let Some(k) = constant_of(func, arg) else {
                    continue;
                };
                let ty = func.dfg.value_type(arg);
                let costly = match opcode {
                    // Neither backend stores the zero register.
                    Opcode::Store | Opcode::Istore8 | Opcode::Istore16 | Opcode::Istore32 => i == 0,
                    Opcode::Iadd | Opcode::Isub => !target.add_immediate(k),
                    Opcode::Icmp => {
                        let branches = branch_condition == Some(func.dfg.first_result(inst));
                        !target.compare_immediate(k, branches)
                    }
                    // aarch64's logical immediates take most masks.
                    Opcode::Bor | Opcode::Bxor => {
                        target == Encoding::Riscv64 && !target.add_immediate(k)
                    }
                    // Masks of 16 and 32 low bits are `zext.h` and `zext.w`.
                    Opcode::Band => {
                        target == Encoding::Riscv64
                            && !target.add_immediate(k)
                            && k != 0xffff
                            && k != 0xffff_ffff
                            && k != -1
                    }
                    // Neither has a multiply immediate; the e-graph turns
                    // multiplies by 0, 1, -1 and powers of two into other
                    // operations only while it sees the constant.
                    Opcode::Imul => {
                        let magnitude = k.unsigned_abs();
                        magnitude > 1 && !magnitude.is_power_of_two()
                    }
                    // No float operation takes an immediate.
                    Opcode::Fadd
                    | Opcode::Fsub
                    | Opcode::Fmul
                    | Opcode::Fdiv
                    | Opcode::Fmin
                    | Opcode::Fmax
                    | Opcode::Fma
                    | Opcode::Fcmp => true,
                    _ => false,
                };
                let scalar = ty.is_int() || ty.is_float();
                if !costly || !scalar || ty.bits() > 64 {
                    continue;
                }
                let other = args.get(1 - i.min(1)).copied().filter(|_| args.len() == 2);
                let base = match (opcode, other) {
                    (Opcode::Iadd, Some(x)) if !in_loop(x) => Some(x),
                    _ => None,
                };
                uses.push(Use {
                    inst,
                    arg: i,
                    held: Held { ty, k, base },
                });
            }
        }
    }
    Some(uses)
}

/// The values some instruction of `func` uses (block arguments included),
/// through aliases: the frontend and the passes before this one leave
/// them for Cranelift to resolve.
fn used_values(func: &Function) -> EntitySet<Value> {
    let mut used = EntitySet::with_capacity(func.dfg.num_values());
    for block in func.layout.blocks() {
        for inst in func.layout.block_insts(block) {
            for &arg in func.dfg.inst_args(inst) {
                used.insert(func.dfg.resolve_aliases(arg));
            }
        }
        // Only a block's closing branch passes block arguments.
        if let Some(last) = func.layout.last_inst(block) {
            for arg in func.dfg.inst_values(last) {
                used.insert(func.dfg.resolve_aliases(arg));
            }
        }
    }
    used
}

/// `bits` as the signed value of type `ty`.
fn sign_extend(bits: i64, ty: Type) -> i64 {
    let shift = 64 - ty.bits().min(64);
    (bits << shift) >> shift
}

impl Encoding {
    /// Whether `k` (or `-k`) fits an add's immediate.
    fn add_immediate(self, k: i64) -> bool {
        match self {
            Encoding::Riscv64 => (-2048..=2047).contains(&k),
            Encoding::Aarch64 => {
                let imm12 = |k: i64| (0..4096).contains(&k) || (k & 0xfff == 0 && k < 1 << 24);
                k >= 0 && imm12(k) || k < 0 && k > i64::MIN && imm12(-k)
            }
        }
    }

    /// Whether a comparison with `k` needs no register for it; `branches`
    /// when the result is a branch condition (riscv64 branches compare two
    /// registers, or one with zero).
    fn compare_immediate(self, k: i64, branches: bool) -> bool {
        match self {
            Encoding::Riscv64 if branches => k == 0,
            _ => self.add_immediate(k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::ir::{AbiParam, Signature, condcodes::IntCC, types};
    use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
    use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

    /// `for (i = p; i < 8193; i += 1) mem[i + 3744] = 0`, with a call in
    /// the loop when `call` is set.
    fn sieve_loop(call: bool) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        sig.params.push(AbiParam::new(types::I32));
        let mut func = Function::with_name_signature(Default::default(), sig.clone());
        let mut fbc = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fbc);
        let callee = b.import_signature(sig);
        let (entry, header, exit) = (b.create_block(), b.create_block(), b.create_block());
        b.append_block_params_for_function_params(entry);
        b.append_block_param(header, types::I32);
        b.switch_to_block(entry);
        let (base, p) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        b.ins().jump(header, &[p.into()]);
        b.switch_to_block(header);
        let i = b.block_params(header)[0];
        let index = b.ins().iadd_imm_s(i, 3744);
        let index = b.ins().uextend(types::I64, index);
        let address = b.ins().iadd(base, index);
        let zero = b.ins().iconst(types::I32, 0);
        b.ins().istore8(MemFlagsData::trusted(), zero, address, 0);
        if call {
            let f = b.ins().iconst(types::I64, 0x1000);
            b.ins().call_indirect(callee, f, &[base, i]);
        }
        let next = b.ins().iadd_imm_s(i, 1);
        let more = b.ins().icmp_imm_u(IntCC::UnsignedLessThan, next, 8193);
        close_loop(b, more, header, next, exit);
        func
    }

    /// Ends the loop with `brif more, header(next), exit`, and the function
    /// with `exit`, which returns.
    fn close_loop(mut b: FunctionBuilder, more: Value, header: Block, next: Value, exit: Block) {
        b.ins().brif(more, header, &[next.into()], exit, &[]);
        b.switch_to_block(exit);
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(TargetFrontendConfig {
            default_call_conv: CallConv::SystemV,
            pointer_width: target_lexicon::PointerWidth::U64,
            page_size_align_log2: 12,
        });
    }

    /// The constant arguments left in the loop (its header), but for the
    /// zero added to each held constant on the way around.
    fn constants_in_loop(func: &Function, header: Block) -> Vec<i64> {
        let params = func.dfg.block_params(header);
        func.layout
            .block_insts(header)
            .filter(|&inst| {
                !func
                    .dfg
                    .inst_args(inst)
                    .iter()
                    .any(|a| params[1..].contains(a))
            })
            .flat_map(|inst| func.dfg.inst_args(inst).to_vec())
            .filter_map(|v| constant_of(func, v))
            .collect()
    }

    /// The constants the entry block passes to the loop's header.
    fn passed_in(func: &Function) -> Vec<i64> {
        let entry = func.layout.entry_block().expect("entry");
        let jump = func.layout.last_inst(entry).expect("jump");
        let dests = func.dfg.insts[jump]
            .branch_destination(&func.dfg.jump_tables, &func.dfg.exception_tables);
        dests[0]
            .args(&func.dfg.value_lists)
            .filter_map(|arg| arg.as_value())
            .filter_map(|v| constant_of(func, v))
            .collect()
    }

    #[test]
    fn a_small_loop_holds_its_costly_constants() {
        let mut func = sieve_loop(false);
        let header = func.layout.blocks().nth(1).expect("header");
        assert_eq!(constants_in_loop(&func, header), vec![3744, 0, 1, 8193]);
        keep_loop_constants(&mut func, Encoding::Riscv64);
        // `i + 1` keeps its immediate; the rest enter as block parameters,
        // each once, and go around the loop unchanged.
        assert_eq!(constants_in_loop(&func, header), vec![1]);
        assert_eq!(passed_in(&func), vec![3744, 0, 8193]);
        assert_eq!(func.dfg.block_params(header).len(), 4);
        let mut func = sieve_loop(false);
        keep_loop_constants(&mut func, Encoding::Aarch64);
        // 3744 is an add immediate on aarch64; 8193 is not.
        assert_eq!(constants_in_loop(&func, header), vec![3744, 1]);
        assert_eq!(passed_in(&func), vec![0, 8193]);
    }

    /// `do { h = h * k0 * k1 * ... } while (h != 0)`, a multiply for each
    /// constant of `ks`.
    fn multiply_loop(ks: &[i64]) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I32));
        let mut func = Function::with_name_signature(Default::default(), sig);
        let mut fbc = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fbc);
        let (entry, header, exit) = (b.create_block(), b.create_block(), b.create_block());
        b.append_block_params_for_function_params(entry);
        b.append_block_param(header, types::I32);
        b.switch_to_block(entry);
        let h = b.block_params(entry)[0];
        b.ins().jump(header, &[h.into()]);
        b.switch_to_block(header);
        let mut h = b.block_params(header)[0];
        for &k in ks {
            let k = b.ins().iconst(types::I32, k);
            h = b.ins().imul(h, k);
        }
        let more = b.ins().icmp_imm_u(IntCC::NotEqual, h, 0);
        close_loop(b, more, header, h, exit);
        func
    }

    #[test]
    fn multiplies_hold_constants_the_e_graph_would_not_fold() {
        for target in [Encoding::Riscv64, Encoding::Aarch64] {
            let mut func = multiply_loop(&[16777619, 8, -1, 3, 1, -8, 0]);
            let header = func.layout.blocks().nth(1).expect("header");
            keep_loop_constants(&mut func, target);
            // Neither target multiplies by an immediate, but powers of two,
            // 1, -1 and 0 become shifts, copies, negations and zeros.
            assert_eq!(constants_in_loop(&func, header), vec![8, -1, 1, -8, 0, 0]);
            assert_eq!(passed_in(&func), vec![16777619, 3]);
        }
    }

    #[test]
    fn a_constant_of_an_unused_value_is_not_held() {
        let mut func = sieve_loop(false);
        let header = func.layout.blocks().nth(1).expect("header");
        let i = func.dfg.block_params(header)[0];
        let first = func.layout.first_inst(header).expect("an instruction");
        let mut cursor = FuncCursor::new(&mut func).at_inst(first);
        let k = cursor.ins().iconst(types::I32, 99_999);
        cursor.ins().iadd(i, k);
        keep_loop_constants(&mut func, Encoding::Riscv64);
        assert_eq!(passed_in(&func), vec![3744, 0, 8193]);
    }

    #[test]
    fn a_value_used_through_an_alias_is_used() {
        // The loop's `i + 3744`, rebuilt as a pass before this one does:
        // a new instruction, and the old result an alias of its result.
        let mut func = sieve_loop(false);
        let header = func.layout.blocks().nth(1).expect("header");
        let add = func
            .layout
            .block_insts(header)
            .find(|&inst| func.dfg.insts[inst].opcode() == Opcode::Iadd)
            .expect("i + 3744");
        let [i, k] = func.dfg.inst_args(add) else {
            panic!("iadd has two arguments");
        };
        let (i, k) = (*i, *k);
        let old = func.dfg.first_result(add);
        let mut cursor = FuncCursor::new(&mut func).at_inst(add);
        let new = cursor.ins().iadd(i, k);
        cursor.func.dfg.clear_results(add);
        cursor.func.layout.remove_inst(add);
        cursor.func.dfg.change_to_alias(old, new);
        keep_loop_constants(&mut func, Encoding::Riscv64);
        assert_eq!(passed_in(&func), vec![3744, 0, 8193]);
    }

    #[test]
    fn a_loop_that_calls_keeps_its_constants_in_place() {
        let mut func = sieve_loop(true);
        let header = func.layout.blocks().nth(1).expect("header");
        let before = constants_in_loop(&func, header);
        keep_loop_constants(&mut func, Encoding::Riscv64);
        assert_eq!(constants_in_loop(&func, header), before);
    }

    #[test]
    fn immediates_follow_each_encoding() {
        let rv = Encoding::Riscv64;
        assert!(rv.add_immediate(2047) && rv.add_immediate(-2048));
        assert!(!rv.add_immediate(2048) && !rv.add_immediate(3744));
        assert!(rv.compare_immediate(5, false) && !rv.compare_immediate(5, true));
        assert!(rv.compare_immediate(0, true));
        let a64 = Encoding::Aarch64;
        assert!(a64.add_immediate(3744) && a64.add_immediate(-4095));
        assert!(a64.add_immediate(4096) && a64.add_immediate(0xfff000));
        assert!(!a64.add_immediate(8193) && !a64.add_immediate(1 << 24));
        assert!(!a64.add_immediate(i64::MIN));
        assert_eq!(sign_extend(0xffff_ffff, types::I32), -1);
        assert_eq!(sign_extend(0xffff_ffff, types::I64), 0xffff_ffff);
    }
}
