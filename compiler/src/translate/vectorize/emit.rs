//! The vector loop placed in front of a planned scalar loop: the checks
//! that choose it, its body, and the hand-over to the scalar loop.

use cranelift_codegen::ir::{
    Block, ConstantData, InstBuilder, Type, Value,
    condcodes::IntCC,
    types::{F32, F32X4, F64, F64X2, I8X16, I32, I32X4, I64, I64X2},
};
use cranelift_frontend::Variable;
use std::collections::HashMap;

use super::plan::{Binary, Compare, Elem, Ext, Node, NodeId, Plan, Unary};
use crate::translate::environ::{POINTER, vmctx};
use crate::translate::{FuncTranslator, Vectorize, iconst_value};
use kiln_runtime::abi::FEATURE_VECTOR;

/// The fewest iterations after the first worth the vector loop's checks
/// (about 40 instructions): measured on a row update of n doubles
/// (`y[i] += a * x[i]`, 9 instructions per iteration) entered many times,
/// the vector loop broke even at n = 16.
const MIN_ITERATIONS: i64 = 16;

/// At most this many accesses get a pointer of their own (see `anchors`).
const MAX_ANCHORS: usize = 8;

/// The loop body's state while it is being written.
struct Body<'p> {
    plan: &'p Plan,
    /// Per group, the native address of its base in this trip.
    pointers: Vec<Value>,
    /// Accesses at offsets from a group's base that the target's vector
    /// accesses cannot encode (any but 0 on riscv64, large ones on
    /// aarch64) get a pointer of their own that advances per trip: one add
    /// per trip instead of rebuilding the offset (`lui; addi; add` on
    /// riscv64, where Cranelift rematerializes constants in every block).
    /// Only the pointers the body uses become loop variables.
    anchors: HashMap<(usize, i64), Variable>,
    /// The anchors used in this trip, and their values.
    anchored: Vec<((usize, i64), Value)>,
    /// Per recurrence, the vector whose last lane is the local's value.
    carried: Vec<Value>,
    /// The scalar values of the locals the body only reads and of its
    /// constants.
    leaves: HashMap<NodeId, Value>,
    packed: HashMap<Vec<NodeId>, Value>,
    /// An `i32x4` of zeros, made in the preheader.
    zeros: Value,
    /// Vectors loaded by `window`, per (group, offset past its base).
    windows: HashMap<(usize, i64), Value>,
    /// Per packed condition, its lanes as a mask (all ones where true).
    masks: HashMap<Vec<NodeId>, Value>,
    scalars: HashMap<NodeId, Value>,
    /// Where a node's value already is: (vector, lane).
    lanes: HashMap<NodeId, (Value, u8)>,
}

impl FuncTranslator<'_, '_> {
    /// Writes the vector loop for `plan` at the current position, which is
    /// just before the scalar loop's `loop`, and leaves the builder in a
    /// block that falls into it with the locals where the vector loop
    /// stopped (or untouched, when the checks chose the scalar loop).
    pub(crate) fn vector_loop(&mut self, plan: &Plan) {
        // A trip count known here that the vector loop would never take
        // (a loop over ten columns, say): no code, not even the compare.
        if let Some(c0) = self.constant_affine(plan.control.konst, &plan.control.terms) {
            let step = i64::from(plan.control.step);
            let distance = i64::from(match step > 0 {
                true => c0.wrapping_neg() as u32,
                false => c0 as u32,
            });
            if distance < MIN_ITERATIONS * step.abs() || distance % step.abs() != 0 {
                return;
            }
        }
        let vector = self.b.create_block();
        let done = self.b.create_block();
        let scalar = self.b.create_block();
        let lanes = plan.lanes() as i64;
        let (ok, trips, pointers) = self.entry_checks(plan, scalar);

        // The scalars the vector code starts from: the locals the body
        // only reads, its constants, the recurrences' first values, the
        // sums' old values. Where the core is tested at run time, they are
        // made opaque in the preheader (`opaque`), so that no vector
        // instruction runs before the test.
        let mut leaves: Vec<(NodeId, Value)> = Vec::new();
        for (id, node) in plan.nodes.iter().enumerate() {
            let v = match *node {
                Node::Local(local)
                    if !plan.recurrences.iter().any(|r| r.local == local)
                        && !plan.reductions.iter().any(|r| r.local == local) =>
                {
                    self.local_value(local)
                }
                Node::Const(ty, bits) => match ty {
                    Elem::I32 => self.b.ins().iconst(I32, i64::from(bits as u32)),
                    Elem::F32 => self.b.ins().f32const(f32::from_bits(bits as u32)),
                    Elem::F64 => self.b.ins().f64const(f64::from_bits(bits)),
                },
                _ => continue,
            };
            leaves.push((id, v));
        }
        let firsts: Vec<Value> = plan
            .recurrences
            .iter()
            .map(|r| self.local_value(r.local))
            .collect();
        let mut far: Vec<(usize, i64)> = Vec::new();
        if let Some(encoding) = self.env.anchor_offsets {
            let loads = (0..plan.nodes.len())
                .filter_map(|n| plan.load_at(n))
                .map(|(group, rel, _)| (group, rel));
            let stores = plan
                .stores
                .iter()
                .map(|s| (s.group, plan.groups[s.group].rel(s.k, s.offset)));
            // rel < 2^31 (checked by the plan).
            far = loads
                .chain(stores)
                .filter(|&(_, rel)| !encoding.vector_fits(rel as i32))
                .collect();
            far.sort_unstable();
            far.dedup();
            far.truncate(MAX_ANCHORS);
        }
        let starts: Vec<(u32, Value)> = plan
            .inductions
            .iter()
            .map(|i| (i.local, self.local_value(i.local)))
            .collect();
        let preheader = self.b.create_block();
        let sums: Vec<Value> = plan
            .reductions
            .iter()
            .map(|r| self.local_value(r.local))
            .collect();
        let carried_inputs = leaves.len()..leaves.len() + firsts.len();
        let sum_inputs = carried_inputs.end..carried_inputs.end + sums.len();
        // The last input is a zero for the zero vector, which must not be
        // hoisted above the test of the core either.
        let zero = self.b.ins().iconst(I32, 0);
        let mut inputs: Vec<Value> = leaves
            .iter()
            .map(|&(_, v)| v)
            .chain(firsts)
            .chain(sums)
            .chain([zero])
            .collect();
        let zero_at = sum_inputs.end;
        self.b.ins().brif(ok, preheader, &[], scalar, &[]);

        self.b.switch_to_block(preheader);
        self.b.seal_block(preheader);
        if self.env.vectorize == Vectorize::WhenPresent {
            self.opaque(&mut inputs);
        }
        let anchors: HashMap<(usize, i64), Variable> = far
            .iter()
            .map(|&(group, rel)| {
                let var = self.b.declare_var(POINTER);
                let p = self.b.ins().iadd_imm_s(pointers[group], rel);
                self.b.def_var(var, p);
                ((group, rel), var)
            })
            .collect();
        let count = self.b.declare_var(I64);
        self.b.def_var(count, trips);
        let pointer_vars: Vec<Variable> = pointers
            .iter()
            .map(|&p| {
                let var = self.b.declare_var(POINTER);
                self.b.def_var(var, p);
                var
            })
            .collect();
        let carried_vars: Vec<Variable> = inputs[carried_inputs.clone()]
            .iter()
            .zip(&plan.recurrences)
            .map(|(&first, r)| {
                let (_, vector_type) = types(plan.types[r.lanes[0]]);
                let v = self.b.ins().splat(vector_type, first);
                let var = self.b.declare_var(vector_type);
                self.b.def_var(var, v);
                var
            })
            .collect();
        let zeros = self.b.ins().splat(I32X4, inputs[zero_at]);
        // A sum's vector of partial sums starts as the old value in lane
        // 0 and zeros.
        let sum_vars: Vec<Variable> = inputs[sum_inputs]
            .iter()
            .map(|&old| {
                let v = self.b.ins().insertlane(zeros, old, 0);
                let var = self.b.declare_var(I32X4);
                self.b.def_var(var, v);
                var
            })
            .collect();
        let mut leaves: HashMap<NodeId, Value> = leaves
            .iter()
            .zip(&inputs)
            .map(|(&(id, _), &v)| (id, v))
            .collect();
        // An induction used as data: its value when each trip starts.
        let induction_vars: Vec<(NodeId, Variable, i64)> = plan
            .inductions
            .iter()
            .filter_map(|i| {
                let id = plan.nodes.iter().position(|n| *n == Node::Local(i.local))?;
                let var = self.b.declare_var(I32);
                self.b.def_var(var, leaves[&id]);
                Some((id, var, i64::from(i.step) * lanes))
            })
            .collect();
        self.b.ins().jump(vector, &[]);

        // Per trip all loads (while packing), then the stores.
        self.b.switch_to_block(vector);
        let inductions_now: Vec<Value> = induction_vars
            .iter()
            .map(|&(id, var, _)| {
                let v = self.b.use_var(var);
                leaves.insert(id, v);
                v
            })
            .collect();
        let mut body = Body {
            plan,
            pointers: pointer_vars.iter().map(|&v| self.b.use_var(v)).collect(),
            anchors,
            anchored: Vec::new(),
            carried: carried_vars.iter().map(|&v| self.b.use_var(v)).collect(),
            leaves,
            packed: HashMap::new(),
            masks: HashMap::new(),
            windows: HashMap::new(),
            zeros,
            scalars: HashMap::new(),
            lanes: HashMap::new(),
        };
        let next_carried: Vec<Value> = plan
            .recurrences
            .iter()
            .map(|r| self.pack(&mut body, &r.lanes))
            .collect();
        let stores: Vec<(usize, i64, Value)> = plan
            .stores
            .iter()
            .map(|s| {
                let v = self.pack(&mut body, &s.values);
                let v = self.narrow(v, s.bytes);
                (s.group, plan.groups[s.group].rel(s.k, s.offset), v)
            })
            .collect();
        let mut sums = Vec::new();
        for (r, var) in plan.reductions.iter().zip(&sum_vars) {
            let mut acc = self.b.use_var(*var);
            for (negated, nodes) in &r.packs {
                let v = self.pack(&mut body, nodes);
                acc = match negated {
                    true => self.b.ins().isub(acc, v),
                    false => self.b.ins().iadd(acc, v),
                };
            }
            sums.push(acc);
        }
        for (group, rel, v) in stores {
            let (p, offset) = self.address(&mut body, group, rel);
            self.b.ins().store(self.flags.heap, v, p, offset);
        }
        for (var, v) in sum_vars.iter().zip(sums) {
            self.b.def_var(*var, v);
        }
        let n = self.b.use_var(count);
        let n = self.b.ins().iadd_imm_s(n, -1);
        self.b.def_var(count, n);
        for ((var, &p), g) in pointer_vars.iter().zip(&body.pointers).zip(&plan.groups) {
            let next = self.b.ins().iadd_imm_s(p, lanes * g.delta);
            self.b.def_var(*var, next);
        }
        for (&(_, var, per_trip), &v) in induction_vars.iter().zip(&inductions_now) {
            let next = self.b.ins().iadd_imm_s(v, per_trip);
            self.b.def_var(var, next);
        }
        for (var, v) in carried_vars.iter().zip(next_carried) {
            self.b.def_var(*var, v);
        }
        for ((group, rel), p) in core::mem::take(&mut body.anchored) {
            let next = self.b.ins().iadd_imm_s(p, lanes * plan.groups[group].delta);
            self.b.def_var(body.anchors[&(group, rel)], next);
        }
        self.b.ins().brif(n, vector, &[], done, &[]);
        self.b.seal_block(vector);

        // The locals as the scalar loop expects them after lanes·trips
        // iterations.
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        let trips32 = self.b.ins().ireduce(I32, trips);
        for ((local, start), induction) in starts.into_iter().zip(&plan.inductions) {
            let per_trip = induction.step.wrapping_mul(lanes as i32);
            let advance = self.b.ins().imul_imm_s(trips32, i64::from(per_trip));
            let v = self.b.ins().iadd(start, advance);
            self.b.def_var(self.locals[local as usize].0, v);
        }
        for (r, var) in plan.recurrences.iter().zip(&carried_vars) {
            let v = self.b.use_var(*var);
            let v = self.b.ins().extractlane(v, (lanes - 1) as u8);
            self.b.def_var(self.locals[r.local as usize].0, v);
        }
        for (r, var) in plan.reductions.iter().zip(&sum_vars) {
            let partial = self.b.use_var(*var);
            let mut sum = self.b.ins().extractlane(partial, 0);
            for lane in 1..lanes as u8 {
                let v = self.b.ins().extractlane(partial, lane);
                sum = self.b.ins().iadd(sum, v);
            }
            self.b.def_var(self.locals[r.local as usize].0, sum);
        }
        self.b.ins().jump(scalar, &[]);

        self.b.switch_to_block(scalar);
        self.b.seal_block(scalar);
        self.known.clear();
    }

    /// The checks that choose the vector loop, up to its preheader: a
    /// short trip count branches to `scalar` at once; the rest is `ok`.
    /// Also the number of trips and each group's native base address.
    fn entry_checks(&mut self, plan: &Plan, scalar: Block) -> (Value, Value, Vec<Value>) {
        let lanes = plan.lanes() as i64;
        // Trip count: the condition's value is c0 + n·step in iteration
        // n = 0, 1, ..., and the loop ends at the first that is zero: after
        // n1 = -c0 / step more iterations than the first, when that
        // divides exactly.
        let control = &plan.control;
        let c0 = self.affine_value(control.konst, &control.terms);
        let distance = match control.step > 0 {
            true => self.b.ins().ineg(c0),
            false => c0,
        };
        let distance = self.b.ins().uextend(I64, distance);
        let step = i64::from(control.step).abs();
        // A short loop goes straight to the scalar loop: the checks below
        // cost more than vectors save on a few iterations (n1 >= k exactly
        // when distance >= k·step).
        let long = self.b.ins().icmp_imm_u(
            IntCC::UnsignedGreaterThanOrEqual,
            distance,
            MIN_ITERATIONS * step,
        );
        let checks = self.b.create_block();
        self.b.ins().brif(long, checks, &[], scalar, &[]);
        self.b.switch_to_block(checks);
        self.b.seal_block(checks);
        let step_value = self.b.ins().iconst(I64, step);
        let more = self.b.ins().udiv(distance, step_value);
        let covered = self.b.ins().imul_imm_s(more, step);
        let mut ok = self.b.ins().icmp(IntCC::Equal, covered, distance);
        // Trips of `lanes` iterations leave at least one iteration to the
        // scalar loop, which then sets every local as the loop would have.
        let trips = self
            .b
            .ins()
            .ushr_imm_u(more, i64::from(lanes.trailing_zeros()));
        if self.env.vectorize == Vectorize::WhenPresent {
            let features = self.hoisted_load(self.vmctx, vmctx::FEATURES);
            let vector = self.b.ins().band_imm_u(features, FEATURE_VECTOR as i64);
            let present = self.b.ins().icmp_imm_u(IntCC::NotEqual, vector, 0);
            ok = self.b.ins().band(ok, present);
        }

        // Every access of the vector part within the memory, every
        // group's address progression free of i32 wrapping, and the
        // groups that are stored to apart from all others.
        let length = self.memory_length();
        let base = self.memory_base();
        let last = self.b.ins().iadd_imm_s(trips, -1);
        let last = self.b.ins().imul_imm_s(last, lanes);
        let mut ranges = Vec::new();
        let mut pointers = Vec::new();
        for g in &plan.groups {
            // kmin is one of the accesses' i32 constants.
            let start = self.affine_value(g.kmin as i32, &g.terms);
            let start = self.b.ins().uextend(I64, start);
            let span = self.b.ins().imul_imm_s(last, g.delta);
            let (lo, hi) = match g.delta < 0 {
                true => (self.b.ins().iadd(start, span), start),
                false => (start, self.b.ins().iadd(start, span)),
            };
            let hi = self.b.ins().iadd_imm_s(hi, g.end);
            let above = self
                .b
                .ins()
                .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, lo, 0);
            let within = self
                .b
                .ins()
                .icmp(IntCC::UnsignedLessThanOrEqual, hi, length);
            let fits = self.b.ins().band(above, within);
            ok = self.b.ins().band(ok, fits);
            ranges.push((lo, hi));
            pointers.push(self.b.ins().iadd(base, start));
        }
        for (i, gi) in plan.groups.iter().enumerate() {
            for (j, gj) in plan.groups.iter().enumerate().skip(i + 1) {
                if !gi.stored && !gj.stored {
                    continue;
                }
                let (lo_i, hi_i) = ranges[i];
                let (lo_j, hi_j) = ranges[j];
                let before = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, hi_i, lo_j);
                let after = self.b.ins().icmp(IntCC::SignedLessThanOrEqual, hi_j, lo_i);
                let apart = self.b.ins().bor(before, after);
                ok = self.b.ins().band(ok, apart);
            }
        }
        (ok, trips, pointers)
    }

    /// The scalars the vector code starts from, made opaque where the core
    /// is tested at run time: Cranelift hoists pure code out of loops as
    /// far as its operands allow (out of an outer loop, above the test),
    /// folds a splat of a constant into a constant-pool load (a vector
    /// instruction), and renames a block parameter that only ever receives
    /// one value to that value. So every input is or-ed with a zero derived
    /// from a load of `vmctx.features` here, which is not movable (not
    /// read-only) and, through an address of its own, not merged with the
    /// test's load: no vector instruction can be placed above this block.
    fn opaque(&mut self, inputs: &mut [Value]) {
        let at = self
            .b
            .ins()
            .iadd_imm_s(self.vmctx, i64::from(vmctx::FEATURES));
        let features = self.b.ins().load(POINTER, self.flags.runtime, at, 0);
        // The features never have bit 63 set: zero, unknown to Cranelift.
        let zero64 = self.b.ins().ushr_imm_u(features, 63);
        let zero32 = self.b.ins().ireduce(I32, zero64);
        for v in inputs {
            let ty = self.b.func.dfg.value_type(*v);
            *v = match ty {
                I32 => self.b.ins().bor(*v, zero32),
                F32 => {
                    let bits = self.reshape(I32, *v);
                    let bits = self.b.ins().bor(bits, zero32);
                    self.reshape(F32, bits)
                }
                _ => {
                    let bits = self.reshape(I64, *v);
                    let bits = self.b.ins().bor(bits, zero64);
                    self.reshape(ty, bits)
                }
            };
        }
    }

    /// `konst + Σ coef · local` if every local holds a constant here.
    fn constant_affine(&mut self, konst: i32, terms: &[(u32, i32)]) -> Option<i32> {
        let mut sum = konst;
        for &(local, coef) in terms {
            let v = self.local_value(local);
            let c = iconst_value(&self.b.func.dfg, v)?;
            sum = sum.wrapping_add((c as i32).wrapping_mul(coef));
        }
        Some(sum)
    }

    /// `konst + Σ coef · local` as an i32, wrapping.
    fn affine_value(&mut self, konst: i32, terms: &[(u32, i32)]) -> Value {
        let mut v = self.b.ins().iconst(I32, i64::from(konst));
        for &(local, coef) in terms {
            let l = self.local_value(local);
            let term = self.b.ins().imul_imm_s(l, i64::from(coef));
            v = self.b.ins().iadd(v, term);
        }
        v
    }

    fn local_value(&mut self, local: u32) -> Value {
        self.b.use_var(self.locals[local as usize].0)
    }

    /// The vector of `nodes` (one per lane).
    fn pack(&mut self, body: &mut Body<'_>, nodes: &[NodeId]) -> Value {
        if let Some(&v) = body.packed.get(nodes) {
            return v;
        }
        let plan = body.plan;
        // `as_data` writes `x + 0` so that an induction's lanes (`i + 0`,
        // `i + 4` ...) line up as one addition of a constant vector; in
        // any other lanes the `+ 0` is only in the way (a recurrence's
        // first lane, an invariant in every lane).
        let adds_constant = |n: NodeId| match plan.nodes[n] {
            Node::Binary(Binary::Add, _, c) => matches!(plan.nodes[c], Node::Const(..)),
            _ => false,
        };
        let all_zero = nodes.iter().all(|&n| plan.plus_zero(n).is_some());
        if all_zero || !nodes.iter().all(|&n| adds_constant(n)) {
            let stripped: Vec<NodeId> = nodes
                .iter()
                .map(|&n| plan.plus_zero(n).unwrap_or(n))
                .collect();
            if stripped != nodes {
                let v = self.pack(body, &stripped);
                body.packed.insert(nodes.to_vec(), v);
                return v;
            }
        }
        let (_, vector_type) = types(plan.types[nodes[0]]);
        let first = &plan.nodes[nodes[0]];
        let all = |f: &dyn Fn(&Node) -> bool| nodes.iter().all(|&n| f(&plan.nodes[n]));
        let v = match first {
            _ if nodes.iter().all(|&n| n == nodes[0]) => {
                let s = self.scalar(body, nodes[0]);
                self.b.ins().splat(vector_type, s)
            }
            Node::Unary(op, _) if all(&|n| matches!(n, Node::Unary(o, _) if o == op)) => {
                let a = self.operands(body, nodes, 0);
                let a = self.pack(body, &a);
                self.lane_unary(*op, a)
            }
            // A constant vector; where the core is tested at run time it
            // is built from the opaque scalars instead (`gather`), since
            // Cranelift would hoist a `vconst` above the test.
            Node::Const(..)
                if self.env.vectorize != Vectorize::WhenPresent
                    && all(&|n| matches!(n, Node::Const(..))) =>
            {
                let mut bytes = Vec::with_capacity(16);
                for &n in nodes {
                    if let Node::Const(ty, bits) = plan.nodes[n] {
                        bytes.extend_from_slice(&bits.to_le_bytes()[..ty.size() as usize]);
                    }
                }
                let c = self.b.func.dfg.constants.insert(ConstantData::from(bytes));
                self.b.ins().vconst(vector_type, c)
            }
            Node::Binary(op, ..) if all(&|n| matches!(n, Node::Binary(o, ..) if o == op)) => {
                let a = self.operands(body, nodes, 0);
                let b = self.operands(body, nodes, 1);
                let a = self.pack(body, &a);
                // A shift takes one amount for all lanes: the planner only
                // takes constant amounts, the same in every lane.
                let b = match op {
                    Binary::Shl | Binary::ShrS | Binary::ShrU => self.scalar(body, b[0]),
                    _ => self.pack(body, &b),
                };
                self.lane_binary(*op, a, b)
            }
            Node::Compare(..) if same_compare(plan, nodes).is_some() => {
                // Wasm's 1 for true: the mask's sign bit.
                let mask = self.mask(body, nodes);
                self.b.ins().ushr_imm_u(mask, 31)
            }
            Node::Select(..) if all(&|n| matches!(n, Node::Select(..))) => {
                let conditions = self.operands(body, nodes, 0);
                let mask = self.mask(body, &conditions);
                let a = self.operands(body, nodes, 1);
                let b = self.operands(body, nodes, 2);
                let a = self.pack(body, &a);
                let b = self.pack(body, &b);
                let mask = self.reshape(vector_type, mask);
                self.b.ins().bitselect(mask, a, b)
            }
            Node::Load {
                group,
                k,
                offset,
                ext,
            } if contiguous(plan, nodes) => {
                let rel = plan.groups[*group].rel(*k, *offset);
                let (p, offset) = self.address(body, *group, rel);
                let heap = self.flags.heap;
                match ext {
                    Ext::Full => self.b.ins().load(vector_type, heap, p, offset),
                    Ext::U16 => self.b.ins().uload16x4(heap, p, offset),
                    Ext::S16 => self.b.ins().sload16x4(heap, p, offset),
                    // Four bytes, widened twice.
                    Ext::U8 | Ext::S8 => {
                        let bytes = self.b.ins().load(I32, heap, p, offset);
                        let v = self.b.ins().scalar_to_vector(I32X4, bytes);
                        let v = self.reshape(I8X16, v);
                        let signed = *ext == Ext::S8;
                        let widen = |t: &mut Self, v| match signed {
                            true => t.b.ins().swiden_low(v),
                            false => t.b.ins().uwiden_low(v),
                        };
                        let v = widen(self, v);
                        widen(self, v)
                    }
                }
            }
            // Loads not already in a vector's lanes.
            Node::Load { .. }
                if !nodes.iter().all(|n| body.lanes.contains_key(n))
                    && let Some(v) = self.window(body, nodes) =>
            {
                v
            }
            _ => {
                let sources: Vec<(Value, u8)> =
                    nodes.iter().map(|&n| self.source(body, n)).collect();
                self.gather(vector_type, &sources)
            }
        };
        body.packed.insert(nodes.to_vec(), v);
        for (lane, &n) in nodes.iter().enumerate() {
            body.lanes.entry(n).or_insert((v, lane as u8));
        }
        v
    }

    /// The `i32` lanes of `nodes` as a mask: all ones where the value is
    /// non-zero (a comparison gives its mask directly), for `bitselect`.
    fn mask(&mut self, body: &mut Body<'_>, nodes: &[NodeId]) -> Value {
        if let Some(&m) = body.masks.get(nodes) {
            return m;
        }
        let m = match same_compare(body.plan, nodes) {
            Some(cmp) => {
                let a = self.operands(body, nodes, 0);
                let b = self.operands(body, nodes, 1);
                let a = self.pack(body, &a);
                let b = self.pack(body, &b);
                self.compare(cmp, a, b)
            }
            None => {
                let v = self.pack(body, nodes);
                self.b.ins().icmp(IntCC::NotEqual, v, body.zeros)
            }
        };
        body.masks.insert(nodes.to_vec(), m);
        m
    }

    /// What a store of `bytes` per lane writes of the `i32x4` `v`: the
    /// lanes' low bytes, packed (`store16`: 8 bytes, `store8`: 4), else
    /// `v` itself.
    fn narrow(&mut self, v: Value, bytes: i64) -> Value {
        let lane = self.b.func.dfg.value_type(v).lane_type().bytes() as i64;
        if bytes == lane {
            return v;
        }
        let starts: Vec<u8> = (0..16 / bytes)
            .map(|element| (element * lane % 16) as u8)
            .collect();
        let packed = self.shuffle(I8X16, v, v, byte_mask(bytes as u8, &starts));
        // The packed bytes are the low 8 (`store16`) or 4 (`store8`).
        let wide = if bytes == 2 { I64X2 } else { I32X4 };
        let wide = self.reshape(wide, packed);
        self.b.ins().extractlane(wide, 0)
    }

    /// The address of the access `rel` bytes past `group`'s base in this
    /// trip: (pointer, offset to encode).
    fn address(&mut self, body: &mut Body<'_>, group: usize, rel: i64) -> (Value, i32) {
        if let Some(&(_, p)) = body.anchored.iter().find(|(key, _)| *key == (group, rel)) {
            return (p, 0);
        }
        match body.anchors.get(&(group, rel)) {
            Some(&var) => {
                let p = self.b.use_var(var);
                body.anchored.push(((group, rel), p));
                (p, 0)
            }
            // rel < 2^31 (checked by the plan).
            None => (body.pointers[group], rel as i32),
        }
    }

    /// Operand `i` of each of `nodes` (operations of one kind).
    fn operands(&self, body: &Body<'_>, nodes: &[NodeId], i: usize) -> Vec<NodeId> {
        nodes
            .iter()
            .map(|&n| body.plan.nodes[n].operands()[i])
            .collect()
    }

    /// Full-width loads of one group that lie within 32 bytes (a strided
    /// access, `b[2 * i]` say): one or two vector loads inside the bytes
    /// the trip's checks cover (`0..end` past the group's base), and one
    /// shuffle that picks the lanes. `None` for other loads.
    fn window(&mut self, body: &mut Body<'_>, nodes: &[NodeId]) -> Option<Value> {
        let plan = body.plan;
        let mut at = Vec::with_capacity(nodes.len());
        for &n in nodes {
            match plan.load_at(n)? {
                (group, rel, Ext::Full) => at.push((group, rel)),
                _ => return None,
            }
        }
        let group = at[0].0;
        let size = plan.size;
        let lo = at.iter().map(|&(_, rel)| rel).min()?;
        let hi = at.iter().map(|&(_, rel)| rel + size).max()?;
        let end = plan.groups[group].end;
        if at.iter().any(|&(g, _)| g != group) || hi - lo > 32 {
            return None;
        }
        let vectors = if hi - lo <= 16 { 1 } else { 2 };
        // Where the vectors start: 16-byte steps from the group's base
        // first, so that interleaved arrays (`b[2i]`, `b[2i + 1]`) share
        // their loads.
        let span = 16 * vectors;
        let start = [lo - lo.rem_euclid(16), lo, end - span]
            .into_iter()
            .find(|&start| {
                start >= 0 && start <= lo && hi <= start + span && start + span <= end
            })?;
        let (_, vector_type) = types(plan.types[nodes[0]]);
        let mut loaded = Vec::new();
        for i in 0..vectors {
            let rel = start + 16 * i;
            let v = match body.windows.get(&(group, rel)) {
                Some(&v) => v,
                None => {
                    let (p, offset) = self.address(body, group, rel);
                    let v = self.b.ins().load(I8X16, self.flags.heap, p, offset);
                    body.windows.insert((group, rel), v);
                    v
                }
            };
            loaded.push(v);
        }
        let starts: Vec<u8> = at.iter().map(|&(_, rel)| (rel - start) as u8).collect();
        let second = *loaded.last()?;
        Some(self.shuffle(
            vector_type,
            loaded[0],
            second,
            byte_mask(size as u8, &starts),
        ))
    }

    /// A vector with node `n`'s value in the returned lane.
    fn source(&mut self, body: &mut Body<'_>, n: NodeId) -> (Value, u8) {
        if let Some(&at) = body.lanes.get(&n) {
            return at;
        }
        if let Node::Local(local) = body.plan.nodes[n]
            && let Some(r) = body.plan.recurrences.iter().position(|r| r.local == local)
        {
            return (body.carried[r], (body.plan.lanes() - 1) as u8);
        }
        let s = self.scalar(body, n);
        let (_, vector_type) = types(body.plan.types[n]);
        (self.b.ins().splat(vector_type, s), 0)
    }

    /// The vector whose lane i is `sources[i]` (a lane of a vector): one
    /// shuffle when they come from at most two vectors (a recurrence's
    /// previous vector and this trip's), else lane by lane.
    fn gather(&mut self, vector_type: Type, sources: &[(Value, u8)]) -> Value {
        if sources
            .iter()
            .zip(0..)
            .all(|(&(v, l), i)| v == sources[0].0 && l == i)
        {
            return sources[0].0;
        }
        let mut vectors: Vec<Value> = Vec::new();
        for &(v, _) in sources {
            if !vectors.contains(&v) {
                vectors.push(v);
            }
        }
        if vectors.len() <= 2 {
            let size = vector_type.lane_type().bytes() as u8;
            let starts: Vec<u8> = sources
                .iter()
                .map(|&(v, l)| {
                    let base = if v == vectors[0] { 0 } else { 16 };
                    base + l * size
                })
                .collect();
            let (a, b) = (vectors[0], *vectors.last().unwrap_or(&vectors[0]));
            return self.shuffle(vector_type, a, b, byte_mask(size, &starts));
        }
        let mut out = self.b.ins().extractlane(sources[0].0, sources[0].1);
        out = self.b.ins().splat(vector_type, out);
        for (lane, &(v, l)) in sources.iter().enumerate().skip(1) {
            let x = self.b.ins().extractlane(v, l);
            out = self.b.ins().insertlane(out, x, lane as u8);
        }
        out
    }

    /// Cranelift's byte shuffle of `a` and `b` (bytes 16.. are `b`'s).
    fn shuffle(&mut self, ty: Type, a: Value, b: Value, mask: [u8; 16]) -> Value {
        let mask = self
            .b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(&mask[..]));
        let a = self.reshape(I8X16, a);
        let b = self.reshape(I8X16, b);
        let v = self.b.ins().shuffle(a, b, mask);
        self.reshape(ty, v)
    }

    /// Node `n` as a scalar (for lanes that do not pack).
    fn scalar(&mut self, body: &mut Body<'_>, n: NodeId) -> Value {
        if let Some(&v) = body.scalars.get(&n) {
            return v;
        }
        let v = if let Some(&(vector, lane)) = body.lanes.get(&n) {
            self.b.ins().extractlane(vector, lane)
        } else if let Some(&v) = body.leaves.get(&n) {
            v
        } else {
            match body.plan.nodes[n] {
                Node::Local(_) | Node::Const(..) => {
                    // A recurrence (the other leaves are in `leaves`).
                    let (vector, lane) = self.source(body, n);
                    self.b.ins().extractlane(vector, lane)
                }
                Node::Load {
                    group,
                    k,
                    offset,
                    ext,
                } => {
                    let rel = body.plan.groups[group].rel(k, offset);
                    let (lane_type, _) = types(body.plan.types[n]);
                    let (p, offset) = self.address(body, group, rel);
                    let heap = self.flags.heap;
                    match ext {
                        Ext::Full => self.b.ins().load(lane_type, heap, p, offset),
                        Ext::S8 => self.b.ins().sload8(I32, heap, p, offset),
                        Ext::U8 => self.b.ins().uload8(I32, heap, p, offset),
                        Ext::S16 => self.b.ins().sload16(I32, heap, p, offset),
                        Ext::U16 => self.b.ins().uload16(I32, heap, p, offset),
                    }
                }
                Node::Compare(cmp, a, b) => {
                    let a = self.scalar(body, a);
                    let b = self.scalar(body, b);
                    let bit = self.compare(cmp, a, b);
                    self.b.ins().uextend(I32, bit)
                }
                Node::Select(c, a, b) => {
                    let c = self.scalar(body, c);
                    let a = self.scalar(body, a);
                    let b = self.scalar(body, b);
                    self.b.ins().select(c, a, b)
                }
                Node::Unary(op, a) => {
                    let a = self.scalar(body, a);
                    self.lane_unary(op, a)
                }
                Node::Binary(..) if let Some(x) = body.plan.plus_zero(n) => self.scalar(body, x),
                Node::Binary(op, a, b) => {
                    let a = self.scalar(body, a);
                    let b = self.scalar(body, b);
                    self.lane_binary(op, a, b)
                }
            }
        };
        body.scalars.insert(n, v);
        v
    }

    /// A comparison's mask (vectors) or `i8` 0/1 (scalars).
    fn compare(&mut self, cmp: Compare, a: Value, b: Value) -> Value {
        match cmp {
            Compare::Int(cc) => self.b.ins().icmp(cc, a, b),
            Compare::Float(cc) => self.b.ins().fcmp(cc, a, b),
        }
    }

    fn lane_unary(&mut self, op: Unary, a: Value) -> Value {
        match op {
            Unary::Sqrt => self.b.ins().sqrt(a),
            Unary::Abs => self.b.ins().fabs(a),
            Unary::Neg => self.b.ins().fneg(a),
        }
    }

    fn lane_binary(&mut self, op: Binary, a: Value, b: Value) -> Value {
        let float = self.b.func.dfg.value_type(a).lane_type().is_float();
        let ins = self.b.ins();
        match (op, float) {
            (Binary::Add, true) => ins.fadd(a, b),
            (Binary::Sub, true) => ins.fsub(a, b),
            (Binary::Mul, true) => ins.fmul(a, b),
            (Binary::Div, _) => ins.fdiv(a, b),
            (Binary::Min, _) => ins.fmin(a, b),
            (Binary::Max, _) => ins.fmax(a, b),
            (Binary::Add, false) => ins.iadd(a, b),
            (Binary::Sub, false) => ins.isub(a, b),
            (Binary::Mul, false) => ins.imul(a, b),
            (Binary::And, _) => ins.band(a, b),
            (Binary::Or, _) => ins.bor(a, b),
            (Binary::Xor, _) => ins.bxor(a, b),
            (Binary::Shl, _) => ins.ishl(a, b),
            (Binary::ShrS, _) => ins.sshr(a, b),
            (Binary::ShrU, _) => ins.ushr(a, b),
        }
    }
}

/// Whether `nodes` load adjacent elements of one group, in order.
fn contiguous(plan: &Plan, nodes: &[NodeId]) -> bool {
    let Some((group, rel, ext)) = plan.load_at(nodes[0]) else {
        return false;
    };
    let bytes = ext.bytes(plan.types[nodes[0]]);
    nodes
        .iter()
        .zip(0..)
        .all(|(&n, i)| plan.load_at(n) == Some((group, rel + i * bytes, ext)))
}

/// The comparison every one of `nodes` makes, if they all make the same.
fn same_compare(plan: &Plan, nodes: &[NodeId]) -> Option<Compare> {
    let Node::Compare(cmp, ..) = plan.nodes[nodes[0]] else {
        return None;
    };
    nodes
        .iter()
        .all(|&n| matches!(plan.nodes[n], Node::Compare(c, ..) if c == cmp))
        .then_some(cmp)
}

/// A byte-shuffle mask whose lane `i` (of `size` bytes) copies the bytes
/// from `starts[i]` on (0-15: the first vector, 16-31: the second).
fn byte_mask(size: u8, starts: &[u8]) -> [u8; 16] {
    let mut mask = [0u8; 16];
    for (lane, &start) in starts.iter().enumerate() {
        for byte in 0..size {
            mask[lane * usize::from(size) + usize::from(byte)] = start + byte;
        }
    }
    mask
}

/// The lane type and the vector type of a loop's elements.
fn types(elem: Elem) -> (Type, Type) {
    match elem {
        Elem::I32 => (I32, I32X4),
        Elem::F32 => (F32, F32X4),
        Elem::F64 => (F64, F64X2),
    }
}
