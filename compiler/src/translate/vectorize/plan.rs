//! Which loops the vectorizer takes: one symbolic pass over the body for
//! each of the consecutive iterations one vector holds (two `f64`, four
//! `f32` or `i32`), then the checks that make running them as one trip
//! exact (see `mod.rs` for the shape).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use std::collections::{HashMap, HashSet};
use wasmparser::{Operator, ValType};

pub(super) type NodeId = usize;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Unary {
    Sqrt,
    Abs,
    Neg,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Binary {
    Add,
    Sub,
    Mul,
    /// Floats only.
    Div,
    Min,
    Max,
    /// Integers only; shifts by a constant.
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
}

/// A comparison of two data values, giving an `i32` 0 or 1.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Compare {
    Int(IntCC),
    Float(FloatCC),
}

/// The type of a data value. The values of one loop all have the same
/// size, so that every vector has as many lanes (`f32` compared into an
/// `i32` mask, say).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Elem {
    I32,
    F32,
    F64,
}

impl Elem {
    pub fn size(self) -> i64 {
        match self {
            Elem::I32 | Elem::F32 => 4,
            Elem::F64 => 8,
        }
    }
}

/// How a loaded value is kept in memory: in its type's full width, or in
/// the low bytes of an `i32` (Wasm's `i32.load8_s`, `i32.load16_u` ...).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum Ext {
    Full,
    S8,
    U8,
    S16,
    U16,
}

impl Ext {
    /// Bytes in memory of a value of type `ty`.
    pub fn bytes(self, ty: Elem) -> i64 {
        match self {
            Ext::Full => ty.size(),
            Ext::S8 | Ext::U8 => 1,
            Ext::S16 | Ext::U16 => 2,
        }
    }
}

/// A value of one iteration of the trip.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) enum Node {
    /// A local as it was when the trip started.
    Local(u32),
    /// The constant's bits.
    Const(Elem, u64),
    /// A load of the group's base + `k` + `offset` (see [`Group`]).
    Load {
        group: usize,
        k: i64,
        offset: u64,
        ext: Ext,
    },
    Unary(Unary, NodeId),
    Binary(Binary, NodeId, NodeId),
    /// 1 where the comparison holds, else 0 (an `i32`).
    Compare(Compare, NodeId, NodeId),
    /// Wasm's `select`: the second or third operand as the first (an
    /// `i32`) is non-zero or zero.
    Select(NodeId, NodeId, NodeId),
}

impl Node {
    /// The operands of an operation.
    pub fn operands(&self) -> Vec<NodeId> {
        match *self {
            Node::Unary(_, a) => vec![a],
            Node::Binary(_, a, b) | Node::Compare(_, a, b) => vec![a, b],
            Node::Select(c, a, b) => vec![c, a, b],
            Node::Local(_) | Node::Const(..) | Node::Load { .. } => Vec::new(),
        }
    }
}

/// Accesses whose i32 address is `k + Σ coef · local` with the same
/// locals and coefficients: their distances are the differences of their
/// `k + offset`, whatever the locals hold.
#[derive(Debug)]
pub(super) struct Group {
    pub terms: Vec<(u32, i32)>,
    /// Bytes its addresses advance per iteration.
    pub delta: i64,
    /// The smallest `k` of its accesses (all iterations of the trip).
    pub kmin: i64,
    /// The largest `k - kmin + offset + size` of its accesses.
    pub end: i64,
    pub stored: bool,
}

impl Group {
    /// Where an access lies past the group's base (`kmin`).
    pub fn rel(&self, k: i64, offset: u64) -> i64 {
        k - self.kmin + offset as i64
    }
}

/// An i32 local that changes by a constant per iteration.
#[derive(Debug)]
pub(super) struct Induction {
    pub local: u32,
    pub step: i32,
}

/// A float local read before it is written: the next iteration reads
/// what this one wrote (`lanes`: the values written by each iteration).
#[derive(Debug)]
pub(super) struct Recurrence {
    pub local: u32,
    pub lanes: Vec<NodeId>,
}

/// A term of a sum: whether it is subtracted, and its value.
type Term = (bool, NodeId);

/// An i32 local that the body only adds to (a sum: `s = s + a[i] - b[i]`).
/// Wrapping addition is associative and commutative, so the trip adds
/// every iteration's terms into a vector of partial sums in whatever
/// order packs best, and the loop's exit adds up its lanes.
#[derive(Debug)]
pub(super) struct Reduction {
    pub local: u32,
    /// Vectors of terms added (`false`) or subtracted (`true`) per trip.
    pub packs: Vec<(bool, Vec<NodeId>)>,
}

/// One store per lane, adjacent elements from any iterations of the trip,
/// written as one vector; `k` and `offset` are the first's. Elements of
/// `bytes` less than the lane's size are the lanes' low bytes (`store8`,
/// `store16`).
#[derive(Debug)]
pub(super) struct StoreRun {
    pub group: usize,
    pub k: i64,
    pub offset: u64,
    pub bytes: i64,
    pub values: Vec<NodeId>,
}

/// The loop runs on while `konst + Σ coef · local`, evaluated with the
/// locals as they were when the iteration started, is not zero; that
/// value changes by `step` per iteration.
#[derive(Debug)]
pub(super) struct Control {
    pub terms: Vec<(u32, i32)>,
    pub konst: i32,
    pub step: i32,
}

/// How to run a loop a vector's worth of iterations at a time.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Bytes per lane, the same for every value.
    pub(super) size: i64,
    /// Per node, its type.
    pub(super) types: Vec<Elem>,
    pub(super) inductions: Vec<Induction>,
    pub(super) control: Control,
    pub(super) groups: Vec<Group>,
    pub(super) nodes: Vec<Node>,
    pub(super) recurrences: Vec<Recurrence>,
    pub(super) reductions: Vec<Reduction>,
    pub(super) stores: Vec<StoreRun>,
}

impl Plan {
    /// Iterations per trip: elements per 128-bit vector.
    pub fn lanes(&self) -> usize {
        lanes_for(self.size)
    }

    /// Where node `n` loads from, if it is a load: (group, bytes past the
    /// group's base in the trip, how it is kept in memory).
    pub(super) fn load_at(&self, n: NodeId) -> Option<(usize, i64, Ext)> {
        match self.nodes[n] {
            Node::Load {
                group,
                k,
                offset,
                ext,
            } => Some((group, self.groups[group].rel(k, offset), ext)),
            _ => None,
        }
    }

    /// `x` when node `n` is `x + 0`, as `as_data` writes an `i32` value.
    pub(super) fn plus_zero(&self, n: NodeId) -> Option<NodeId> {
        match self.nodes[n] {
            Node::Binary(Binary::Add, x, c)
                if matches!(self.nodes[c], Node::Const(Elem::I32, 0)) =>
            {
                Some(x)
            }
            _ => None,
        }
    }
}

/// Elements of `size` bytes per 128-bit vector.
fn lanes_for(size: i64) -> usize {
    (16 / size) as usize
}

/// Steps past which the distances are not worth tracking.
const MAX_DELTA: i64 = 1 << 20;

/// An i32 value `konst + Σ coef · local` (wrapping), the locals as they
/// were when the trip started. Terms sorted by local, no zero coefficient.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Affine {
    konst: i32,
    terms: Vec<(u32, i32)>,
}

impl Affine {
    fn constant(konst: i32) -> Affine {
        Affine {
            konst,
            terms: Vec::new(),
        }
    }

    fn local(local: u32) -> Affine {
        Affine {
            konst: 0,
            terms: vec![(local, 1)],
        }
    }

    fn as_constant(&self) -> Option<i32> {
        self.terms.is_empty().then_some(self.konst)
    }

    fn add(&self, other: &Affine) -> Affine {
        let mut terms = self.terms.clone();
        for &(local, coef) in &other.terms {
            match terms.iter_mut().find(|(l, _)| *l == local) {
                Some((_, c)) => *c = c.wrapping_add(coef),
                None => terms.push((local, coef)),
            }
        }
        terms.retain(|(_, c)| *c != 0);
        terms.sort_unstable();
        Affine {
            konst: self.konst.wrapping_add(other.konst),
            terms,
        }
    }

    fn scale(&self, by: i32) -> Affine {
        let mut terms: Vec<_> = self
            .terms
            .iter()
            .map(|&(l, c)| (l, c.wrapping_mul(by)))
            .filter(|(_, c)| *c != 0)
            .collect();
        terms.sort_unstable();
        Affine {
            konst: self.konst.wrapping_mul(by),
            terms,
        }
    }
}

#[derive(Clone)]
enum Sym {
    Int(Affine),
    /// A value of the loop's element type (its data, as opposed to the
    /// integers that address it).
    Data(NodeId),
    /// `a != 0`: the loop condition.
    NonZero(Affine),
}

#[derive(Clone, Copy, PartialEq)]
enum AccessKind {
    Load,
    Store,
}

/// An access of the trip's first iteration, in program order.
struct Access {
    kind: AccessKind,
    group: usize,
    at: i64,
    bytes: i64,
}

/// A store of one iteration of the trip.
#[derive(Clone, Copy)]
struct Stored {
    group: usize,
    k: i64,
    offset: u64,
    bytes: i64,
    value: NodeId,
}

impl Stored {
    /// Its address past the group's locals (`k + offset`).
    fn at(&self) -> i64 {
        self.k + self.offset as i64
    }
}

/// The symbolic state of the passes.
struct Builder<'a> {
    local_types: &'a [ValType],
    /// The data's lane size, from the first data value seen.
    size: Option<i64>,
    /// i32 locals read as data (an invariant, an i32 recurrence or sum,
    /// or an induction; never a local that changes otherwise).
    data_locals: HashSet<u32>,
    nodes: Vec<Node>,
    types: Vec<Elem>,
    leaves: HashMap<Node, NodeId>,
    groups: Vec<Group>,
    /// Per group, the `k`s, `offset`s and sizes seen (for `kmin` and
    /// `end`).
    extents: Vec<Vec<(i64, u64, i64)>>,
    locals: HashMap<u32, Sym>,
    read_first: HashSet<u32>,
    written: HashSet<u32>,
    accesses: Vec<Access>,
    /// Per iteration of the trip, its stores.
    stores: Vec<Vec<Stored>>,
    lane: usize,
}

/// The vectorizer's plan for `loop` whose body (after the `loop`
/// operator, up to and including its `end`) is `body`, or `None` when it
/// does not have the shape or the pairing fails.
pub(crate) fn plan(body: &[Operator<'_>], local_types: &[ValType]) -> Option<Plan> {
    let [
        stmts @ ..,
        Operator::BrIf { relative_depth: 0 },
        Operator::End,
    ] = body
    else {
        return None;
    };
    let mut b = Builder {
        local_types,
        size: None,
        data_locals: HashSet::new(),
        nodes: Vec::new(),
        types: Vec::new(),
        leaves: HashMap::new(),
        groups: Vec::new(),
        extents: Vec::new(),
        locals: HashMap::new(),
        read_first: HashSet::new(),
        written: HashSet::new(),
        accesses: Vec::new(),
        stores: vec![Vec::new()],
        lane: 0,
    };
    let condition = b.iteration(stmts)?;
    let size = b.size?;
    let lanes = lanes_for(size);
    let ends: HashMap<u32, Sym> = b.locals.clone();

    // What each local written in the body is.
    let mut inductions = Vec::new();
    let mut recurring = Vec::new();
    for &local in &b.written {
        let read_first = b.read_first.contains(&local);
        match ends.get(&local)? {
            Sym::Int(a) if a.terms == [(local, 1)] && a.konst != 0 => inductions.push(Induction {
                local,
                step: a.konst,
            }),
            Sym::Data(end) if read_first => recurring.push((local, *end)),
            Sym::Data(_) if b.data_locals.contains(&local) => return None,
            _ if !read_first => {} // a temporary: written before it is read
            _ => return None,
        }
    }
    inductions.sort_by_key(|i| i.local);
    recurring.sort_unstable();
    // An i32 local used as data holds one value per lane: an invariant, a
    // recurrence, or an induction (its value when the trip started, plus
    // the lane's steps, which `as_data` wrote as a constant).
    if b.data_locals.iter().any(|l| {
        b.written.contains(l)
            && !recurring.iter().any(|(r, _)| r == l)
            && !inductions.iter().any(|i| i.local == *l)
    }) {
        return None;
    }
    let step_of = |local: u32| inductions.iter().find(|i| i.local == local).map(|i| i.step);

    let cond = match condition {
        Sym::Int(a) | Sym::NonZero(a) => a,
        Sym::Data(_) => return None,
    };
    let mut step: i32 = 0;
    for &(local, coef) in &cond.terms {
        match step_of(local) {
            Some(s) => step = step.wrapping_add(coef.wrapping_mul(s)),
            None if b.written.contains(&local) => return None,
            None => {}
        }
    }
    if step == 0 {
        return None;
    }
    let control = Control {
        terms: cond.terms,
        konst: cond.konst,
        step,
    };

    // Sums: i32 locals whose new value is the old one plus terms that do
    // not depend on it.
    let mut sums: Vec<(u32, NodeId, Vec<Term>)> = Vec::new();
    recurring.retain(|&(local, end)| {
        let Some(&leaf) = b.leaves.get(&Node::Local(local)) else {
            return true;
        };
        if b.types[leaf] != Elem::I32 {
            return true;
        }
        match b.sum_terms(end, leaf) {
            Some(terms) => {
                sums.push((local, leaf, terms));
                false
            }
            None => true,
        }
    });
    // A recurrence whose value depends on a recurrence is sequential; a
    // sum's old value may only feed its new one.
    let recurrent_leaves: Vec<NodeId> = recurring
        .iter()
        .filter_map(|(local, _)| b.leaves.get(&Node::Local(*local)).copied())
        .collect();
    let sum_leaves: Vec<NodeId> = sums.iter().map(|&(_, leaf, _)| leaf).collect();
    let all_leaves: Vec<NodeId> = recurrent_leaves
        .iter()
        .chain(&sum_leaves)
        .copied()
        .collect();
    if recurring
        .iter()
        .any(|(_, end)| b.depends_on(*end, &all_leaves))
        || sums
            .iter()
            .any(|(_, _, terms)| terms.iter().any(|&(_, t)| b.depends_on(t, &all_leaves)))
        || b.stores[0]
            .iter()
            .any(|st| b.depends_on(st.value, &sum_leaves))
    {
        return None;
    }

    // Address steps: every term is an induction (moves) or a local the
    // body never writes (fixed); temporaries were substituted.
    for g in &mut b.groups {
        let mut delta: i32 = 0;
        for &(local, coef) in &g.terms {
            if let Some(step) = step_of(local) {
                delta = delta.wrapping_add(coef.wrapping_mul(step));
            } else if b.written.contains(&local) {
                return None;
            }
        }
        g.delta = i64::from(delta);
        if g.delta.abs() >= MAX_DELTA {
            return None;
        }
    }
    if !b.independent(size) {
        return None;
    }

    // The other iterations, each from where the one before left the
    // locals.
    let mut recurrences: Vec<Recurrence> = recurring
        .iter()
        .map(|&(local, first)| Recurrence {
            local,
            lanes: vec![first],
        })
        .collect();
    let mut sum_terms: Vec<Vec<Vec<Term>>> = sums
        .iter()
        .map(|(_, _, terms)| vec![terms.clone()])
        .collect();
    for lane in 1..lanes {
        b.lane = lane;
        b.stores.push(Vec::new());
        // Each lane sums its own terms: from the old value, not the
        // previous lane's.
        for &(local, leaf, _) in &sums {
            b.locals.insert(local, Sym::Data(leaf));
        }
        b.iteration(stmts)?;
        for r in &mut recurrences {
            match b.locals.get(&r.local) {
                Some(Sym::Data(v)) => r.lanes.push(*v),
                _ => return None,
            }
        }
        for ((local, leaf, _), terms) in sums.iter().zip(&mut sum_terms) {
            let Some(Sym::Data(end)) = b.locals.get(local) else {
                return None;
            };
            terms.push(b.sum_terms(*end, *leaf)?);
        }
    }
    let reductions: Vec<Reduction> = sums
        .iter()
        .zip(sum_terms)
        .map(|(&(local, ..), terms)| Reduction {
            local,
            packs: b.pack_terms(&terms, lanes),
        })
        .collect();

    for (g, extent) in b.groups.iter_mut().zip(&b.extents) {
        g.kmin = extent.iter().map(|&(k, ..)| k).min()?;
        g.end = extent
            .iter()
            .map(|&(k, offset, bytes)| k - g.kmin + offset as i64 + bytes)
            .max()?;
        // The vector loop's accesses take `rel` as their offset.
        if g.end > i64::from(i32::MAX) {
            return None;
        }
    }
    let stores = b.store_runs(size)?;
    // Nothing to write: a loop that only reads, or reads into a local
    // that is not a sum.
    if stores.is_empty() && reductions.is_empty() {
        return None;
    }
    Some(Plan {
        size,
        types: b.types,
        inductions,
        control,
        groups: b.groups,
        nodes: b.nodes,
        recurrences,
        reductions,
        stores,
    })
}

impl Builder<'_> {
    /// One symbolic pass over the body; the loop condition.
    fn iteration(&mut self, stmts: &[Operator<'_>]) -> Option<Sym> {
        let mut stack: Vec<Sym> = Vec::new();
        for op in stmts {
            match *op {
                Operator::Nop => {}
                Operator::LocalGet { local_index } => {
                    let v = self.read(local_index)?;
                    stack.push(v);
                }
                Operator::LocalSet { local_index } => {
                    let v = stack.pop()?;
                    self.write(local_index, v)?;
                }
                Operator::LocalTee { local_index } => {
                    let v = stack.last()?.clone();
                    self.write(local_index, v)?;
                }
                Operator::I32Const { value } => stack.push(Sym::Int(Affine::constant(value))),
                Operator::I32Add
                | Operator::I32Sub
                | Operator::I32Mul
                | Operator::I32Shl
                | Operator::I32And
                | Operator::I32Or
                | Operator::I32Xor
                | Operator::I32ShrS
                | Operator::I32ShrU => {
                    let (r, l) = (stack.pop()?, stack.pop()?);
                    let v = match (&l, &r) {
                        (Sym::Int(l), Sym::Int(r)) => match affine(op, l, r) {
                            Some(a) => Sym::Int(a),
                            None => self.int_data(op, Sym::Int(l.clone()), Sym::Int(r.clone()))?,
                        },
                        _ => self.int_data(op, l, r)?,
                    };
                    stack.push(v);
                }
                Operator::I32Ne if matches!(stack.as_slice(), [.., Sym::Int(_), Sym::Int(_)]) => {
                    let (Sym::Int(r), Sym::Int(l)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    stack.push(Sym::NonZero(l.add(&r.scale(-1))));
                }
                Operator::I32Eqz => {
                    let a = stack.pop()?;
                    let a = self.as_data(a)?;
                    let zero = self.leaf(Node::Const(Elem::I32, 0));
                    let n = self.typed(
                        Node::Compare(Compare::Int(IntCC::Equal), a, zero),
                        Elem::I32,
                    );
                    stack.push(Sym::Data(n));
                }
                Operator::I32Eq
                | Operator::I32Ne
                | Operator::I32LtS
                | Operator::I32LtU
                | Operator::I32GtS
                | Operator::I32GtU
                | Operator::I32LeS
                | Operator::I32LeU
                | Operator::I32GeS
                | Operator::I32GeU => {
                    let (r, l) = (stack.pop()?, stack.pop()?);
                    // Two address-like values: a loop condition the plan
                    // does not know.
                    if matches!((&l, &r), (Sym::Int(_), Sym::Int(_))) {
                        return None;
                    }
                    let (l, r) = (self.as_data(l)?, self.as_data(r)?);
                    let n = self.typed(Node::Compare(Compare::Int(int_cc(op)?), l, r), Elem::I32);
                    stack.push(Sym::Data(n));
                }
                Operator::F32Eq
                | Operator::F32Ne
                | Operator::F32Lt
                | Operator::F32Gt
                | Operator::F32Le
                | Operator::F32Ge
                | Operator::F64Eq
                | Operator::F64Ne
                | Operator::F64Lt
                | Operator::F64Gt
                | Operator::F64Le
                | Operator::F64Ge => {
                    let (Sym::Data(r), Sym::Data(l)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    // An f64 comparison gives a 4-byte i32 from 8-byte
                    // lanes: refused here.
                    self.data(Elem::I32)?;
                    let n = self.typed(
                        Node::Compare(Compare::Float(float_cc(op)?), l, r),
                        Elem::I32,
                    );
                    stack.push(Sym::Data(n));
                }
                Operator::Select | Operator::TypedSelect { .. } => {
                    let (c, b, a) = (stack.pop()?, stack.pop()?, stack.pop()?);
                    if let (Sym::Int(_), Sym::Int(_), Sym::Int(_)) = (&c, &a, &b) {
                        return None;
                    }
                    let c = self.as_data(c)?;
                    let (a, b) = (self.as_data(a)?, self.as_data(b)?);
                    let ty = self.types[a];
                    let n = self.typed(Node::Select(c, a, b), ty);
                    stack.push(Sym::Data(n));
                }
                Operator::F32Const { value } => {
                    self.data(Elem::F32)?;
                    let n = self.leaf(Node::Const(Elem::F32, u64::from(value.bits())));
                    stack.push(Sym::Data(n));
                }
                Operator::F64Const { value } => {
                    self.data(Elem::F64)?;
                    let n = self.leaf(Node::Const(Elem::F64, value.bits()));
                    stack.push(Sym::Data(n));
                }
                Operator::F32Sqrt | Operator::F32Abs | Operator::F32Neg => {
                    self.unary(&mut stack, op, Elem::F32)?;
                }
                Operator::F64Sqrt | Operator::F64Abs | Operator::F64Neg => {
                    self.unary(&mut stack, op, Elem::F64)?;
                }
                Operator::F32Add
                | Operator::F32Sub
                | Operator::F32Mul
                | Operator::F32Div
                | Operator::F32Min
                | Operator::F32Max => {
                    self.binary(&mut stack, op, Elem::F32)?;
                }
                Operator::F64Add
                | Operator::F64Sub
                | Operator::F64Mul
                | Operator::F64Div
                | Operator::F64Min
                | Operator::F64Max => {
                    self.binary(&mut stack, op, Elem::F64)?;
                }
                Operator::I32Load { memarg }
                | Operator::I32Load8S { memarg }
                | Operator::I32Load8U { memarg }
                | Operator::I32Load16S { memarg }
                | Operator::I32Load16U { memarg }
                | Operator::F32Load { memarg }
                | Operator::F64Load { memarg } => {
                    let (ty, ext) = match op {
                        Operator::I32Load { .. } => (Elem::I32, Ext::Full),
                        Operator::I32Load8S { .. } => (Elem::I32, Ext::S8),
                        Operator::I32Load8U { .. } => (Elem::I32, Ext::U8),
                        Operator::I32Load16S { .. } => (Elem::I32, Ext::S16),
                        Operator::I32Load16U { .. } => (Elem::I32, Ext::U16),
                        Operator::F32Load { .. } => (Elem::F32, Ext::Full),
                        _ => (Elem::F64, Ext::Full),
                    };
                    self.data(ty)?;
                    let Sym::Int(addr) = stack.pop()? else {
                        return None;
                    };
                    let bytes = ext.bytes(ty);
                    let (group, k) = self.access(AccessKind::Load, &addr, memarg.offset, bytes);
                    let load = Node::Load {
                        group,
                        k,
                        offset: memarg.offset,
                        ext,
                    };
                    let n = self.typed(load, ty);
                    stack.push(Sym::Data(n));
                }
                Operator::I32Store { memarg }
                | Operator::I32Store8 { memarg }
                | Operator::I32Store16 { memarg }
                | Operator::F32Store { memarg }
                | Operator::F64Store { memarg } => {
                    let (ty, bytes) = match op {
                        Operator::I32Store { .. } => (Elem::I32, 4),
                        Operator::I32Store8 { .. } => (Elem::I32, 1),
                        Operator::I32Store16 { .. } => (Elem::I32, 2),
                        Operator::F32Store { .. } => (Elem::F32, 4),
                        _ => (Elem::F64, 8),
                    };
                    self.data(ty)?;
                    let value = stack.pop()?;
                    let value = self.as_data(value)?;
                    let Sym::Int(addr) = stack.pop()? else {
                        return None;
                    };
                    let (group, k) = self.access(AccessKind::Store, &addr, memarg.offset, bytes);
                    self.groups[group].stored = true;
                    self.stores[self.lane].push(Stored {
                        group,
                        k,
                        offset: memarg.offset,
                        bytes,
                        value,
                    });
                }
                _ => return None,
            }
        }
        let condition = stack.pop()?;
        stack.is_empty().then_some(condition)
    }

    /// An i32 operation with a data operand: both operands as data (shift
    /// amounts must be constants, which every lane shares).
    fn int_data(&mut self, op: &Operator<'_>, l: Sym, r: Sym) -> Option<Sym> {
        self.data(Elem::I32)?;
        let bin = match *op {
            Operator::I32Add => Binary::Add,
            Operator::I32Sub => Binary::Sub,
            Operator::I32Mul => Binary::Mul,
            Operator::I32And => Binary::And,
            Operator::I32Or => Binary::Or,
            Operator::I32Xor => Binary::Xor,
            Operator::I32Shl => Binary::Shl,
            Operator::I32ShrS => Binary::ShrS,
            _ => Binary::ShrU,
        };
        if matches!(bin, Binary::Shl | Binary::ShrS | Binary::ShrU)
            && !matches!(&r, Sym::Int(a) if a.as_constant().is_some())
        {
            return None;
        }
        let l = self.as_data(l)?;
        let r = self.as_data(r)?;
        Some(Sym::Data(self.typed(Node::Binary(bin, l, r), Elem::I32)))
    }

    /// `v` as a data node: data, or an i32 value `konst + Σ coef · local`
    /// written out as operations on the locals as they were when the trip
    /// started (checked later to be the same in every lane, or an
    /// induction). The constant is added even when it is 0, so that every
    /// lane of an induction (`i + 0`, `i + 4` ...) has the same shape.
    fn as_data(&mut self, v: Sym) -> Option<NodeId> {
        let a = match v {
            Sym::Data(n) => return Some(n),
            Sym::Int(a) => a,
            Sym::NonZero(_) => return None,
        };
        self.data(Elem::I32)?;
        let mut sum: Option<NodeId> = None;
        for &(local, coef) in &a.terms {
            self.data_locals.insert(local);
            let mut term = self.leaf(Node::Local(local));
            if coef != 1 {
                let c = self.leaf(Node::Const(Elem::I32, u64::from(coef as u32)));
                term = self.typed(Node::Binary(Binary::Mul, term, c), Elem::I32);
            }
            sum = Some(match sum {
                Some(s) => self.typed(Node::Binary(Binary::Add, s, term), Elem::I32),
                None => term,
            });
        }
        let konst = self.leaf(Node::Const(Elem::I32, u64::from(a.konst as u32)));
        Some(match sum {
            None => konst,
            Some(s) => self.typed(Node::Binary(Binary::Add, s, konst), Elem::I32),
        })
    }

    /// Notes a data value of type `elem`: `None` when the values so far
    /// had another size.
    fn data(&mut self, elem: Elem) -> Option<()> {
        match self.size {
            Some(size) if size != elem.size() => None,
            _ => {
                self.size = Some(elem.size());
                Some(())
            }
        }
    }

    fn unary(&mut self, stack: &mut Vec<Sym>, op: &Operator<'_>, ty: Elem) -> Option<()> {
        self.data(ty)?;
        let Sym::Data(a) = stack.pop()? else {
            return None;
        };
        let u = match *op {
            Operator::F32Sqrt | Operator::F64Sqrt => Unary::Sqrt,
            Operator::F32Abs | Operator::F64Abs => Unary::Abs,
            _ => Unary::Neg,
        };
        let n = self.typed(Node::Unary(u, a), ty);
        stack.push(Sym::Data(n));
        Some(())
    }

    fn binary(&mut self, stack: &mut Vec<Sym>, op: &Operator<'_>, ty: Elem) -> Option<()> {
        self.data(ty)?;
        let (Sym::Data(r), Sym::Data(l)) = (stack.pop()?, stack.pop()?) else {
            return None;
        };
        let bin = match *op {
            Operator::F32Add | Operator::F64Add => Binary::Add,
            Operator::F32Sub | Operator::F64Sub => Binary::Sub,
            Operator::F32Mul | Operator::F64Mul => Binary::Mul,
            Operator::F32Div | Operator::F64Div => Binary::Div,
            Operator::F32Min | Operator::F64Min => Binary::Min,
            _ => Binary::Max,
        };
        let n = self.typed(Node::Binary(bin, l, r), ty);
        stack.push(Sym::Data(n));
        Some(())
    }

    fn read(&mut self, local: u32) -> Option<Sym> {
        if let Some(v) = self.locals.get(&local) {
            return Some(v.clone());
        }
        if self.lane == 0 {
            self.read_first.insert(local);
        }
        match self.local_types.get(local as usize)? {
            ValType::I32 => Some(Sym::Int(Affine::local(local))),
            ValType::F32 => {
                self.data(Elem::F32)?;
                Some(Sym::Data(self.leaf(Node::Local(local))))
            }
            ValType::F64 => {
                self.data(Elem::F64)?;
                Some(Sym::Data(self.leaf(Node::Local(local))))
            }
            _ => None,
        }
    }

    fn write(&mut self, local: u32, v: Sym) -> Option<()> {
        let fits = matches!(
            (self.local_types.get(local as usize)?, &v),
            (ValType::I32, Sym::Int(_) | Sym::Data(_))
                | (ValType::F32 | ValType::F64, Sym::Data(_))
        );
        if !fits {
            return None;
        }
        if self.lane == 0 {
            self.written.insert(local);
        }
        self.locals.insert(local, v);
        Some(())
    }

    /// A node that is the same value wherever it appears (hash-consed):
    /// a local as the trip found it, or a constant.
    fn leaf(&mut self, node: Node) -> NodeId {
        if let Some(&id) = self.leaves.get(&node) {
            return id;
        }
        let ty = match node {
            Node::Const(ty, _) => ty,
            Node::Local(local) => match self.local_types.get(local as usize) {
                Some(ValType::F32) => Elem::F32,
                Some(ValType::F64) => Elem::F64,
                _ => Elem::I32,
            },
            _ => unreachable!("leaves are locals and constants"),
        };
        let id = self.typed(node.clone(), ty);
        self.leaves.insert(node, id);
        id
    }

    fn typed(&mut self, node: Node, ty: Elem) -> NodeId {
        self.nodes.push(node);
        self.types.push(ty);
        self.nodes.len() - 1
    }

    /// Records an access; its group and `k`.
    fn access(&mut self, kind: AccessKind, addr: &Affine, offset: u64, bytes: i64) -> (usize, i64) {
        let group = match self.groups.iter().position(|g| g.terms == addr.terms) {
            Some(g) => g,
            None => {
                self.groups.push(Group {
                    terms: addr.terms.clone(),
                    delta: 0,
                    kmin: 0,
                    end: 0,
                    stored: false,
                });
                self.extents.push(Vec::new());
                self.groups.len() - 1
            }
        };
        let k = i64::from(addr.konst);
        self.extents[group].push((k, offset, bytes));
        if self.lane == 0 {
            self.accesses.push(Access {
                kind,
                group,
                at: k + offset as i64,
                bytes,
            });
        }
        (group, k)
    }

    fn depends_on(&self, node: NodeId, leaves: &[NodeId]) -> bool {
        if leaves.contains(&node) {
            return true;
        }
        self.nodes[node]
            .operands()
            .into_iter()
            .any(|a| self.depends_on(a, leaves))
    }

    /// The terms of `end` as `leaf` plus a sum of terms that do not
    /// depend on it (`true`: subtracted), through i32 additions and
    /// subtractions; `None` when it is not such a sum.
    fn sum_terms(&self, end: NodeId, leaf: NodeId) -> Option<Vec<Term>> {
        let mut terms = Vec::new();
        let mut leaf_signs = Vec::new();
        let mut todo = vec![(false, end)];
        while let Some((negated, n)) = todo.pop() {
            match self.nodes[n] {
                _ if n == leaf => leaf_signs.push(negated),
                Node::Binary(Binary::Add, a, c) if self.types[n] == Elem::I32 => {
                    todo.push((negated, c));
                    todo.push((negated, a));
                }
                Node::Binary(Binary::Sub, a, c) if self.types[n] == Elem::I32 => {
                    todo.push((!negated, c));
                    todo.push((negated, a));
                }
                _ if self.depends_on(n, &[leaf]) => return None,
                Node::Const(_, 0) => {}
                _ => terms.push((negated, n)),
            }
        }
        (leaf_signs == [false]).then_some(terms)
    }

    /// Groups the terms of a trip (per lane, from [`Self::sum_terms`])
    /// into vectors of `lanes` terms of one sign: adjacent loads of one
    /// group together (one vector load), other terms with the same term
    /// of the other lanes (alike operations), zeros to fill.
    fn pack_terms(&mut self, lanes_terms: &[Vec<Term>], lanes: usize) -> Vec<(bool, Vec<NodeId>)> {
        // Sorted by (sign, loads first, group or position, ext or lane,
        // address).
        let key = |lane: usize, position: usize, &(negated, n): &Term| match self.nodes[n] {
            Node::Load {
                group,
                k,
                offset,
                ext,
            } => (negated, 0, group, ext as i64, k + offset as i64),
            _ => (negated, 1, position, lane as i64, 0),
        };
        let mut keyed: Vec<_> = lanes_terms
            .iter()
            .enumerate()
            .flat_map(|(lane, terms)| {
                terms
                    .iter()
                    .enumerate()
                    .map(move |(position, t)| (key(lane, position, t), t.1))
            })
            .collect();
        keyed.sort_unstable_by_key(|&(key, _)| key);
        let zero = self.leaf(Node::Const(Elem::I32, 0));
        let mut packs = Vec::new();
        for negated in [false, true] {
            let terms: Vec<NodeId> = keyed
                .iter()
                .filter(|(key, _)| key.0 == negated)
                .map(|&(_, n)| n)
                .collect();
            for chunk in terms.chunks(lanes) {
                let mut nodes = chunk.to_vec();
                nodes.resize(lanes, zero);
                packs.push((negated, nodes));
            }
        }
        packs
    }

    /// Checks the first iteration's accesses against each other across
    /// iterations (same group: exact distances). The vector loop runs a
    /// trip's loads before its stores and the trips in order, so only
    /// accesses of one trip, fewer than `lanes` iterations apart, can be
    /// reordered: a load may not overlap a store made before it (in the
    /// same iteration, or by an earlier iteration of the trip), and stores
    /// may not overlap each other at all.
    fn independent(&self, size: i64) -> bool {
        let within = lanes_for(size) as i64 - 1;
        for (si, s) in self.accesses.iter().enumerate() {
            if s.kind != AccessKind::Store {
                continue;
            }
            let delta = self.groups[s.group].delta;
            for (ai, a) in self.accesses.iter().enumerate() {
                if a.group != s.group {
                    continue;
                }
                // `a` in iteration i and `s` in iteration i - t overlap
                // when -a.bytes < d + t delta < s.bytes.
                let Some((lo, hi)) = overlaps(a.at - s.at, delta, a.bytes, s.bytes) else {
                    continue;
                };
                let ahead = lo.max(1) <= hi.min(within);
                let behind = lo.max(-within) <= hi.min(-1);
                let same = lo <= 0 && 0 <= hi;
                let conflict = match a.kind {
                    AccessKind::Load => ahead || (same && ai > si),
                    AccessKind::Store => ahead || behind || (same && ai != si),
                };
                if conflict {
                    return false;
                }
            }
        }
        true
    }

    /// Groups the stores of all iterations into runs of `lanes` adjacent
    /// elements of one group; every store must be in one.
    fn store_runs(&self, size: i64) -> Option<Vec<StoreRun>> {
        let lanes = lanes_for(size);
        let mut all: Vec<Stored> = self.stores.iter().flatten().copied().collect();
        all.sort_unstable_by_key(|s| (s.group, s.at()));
        let mut runs = Vec::new();
        for run in all.chunks(lanes) {
            let first = run[0];
            let adjacent = run.len() == lanes
                && run.iter().zip(0..).all(|(s, i)| {
                    s.group == first.group
                        && s.bytes == first.bytes
                        && s.at() == first.at() + i * first.bytes
                });
            if !adjacent {
                return None;
            }
            runs.push(StoreRun {
                group: first.group,
                k: first.k,
                offset: first.offset,
                bytes: first.bytes,
                values: run.iter().map(|s| s.value).collect(),
            });
        }
        Some(runs)
    }
}

/// The condition of an i32 comparison.
fn int_cc(op: &Operator<'_>) -> Option<IntCC> {
    Some(match *op {
        Operator::I32Eq => IntCC::Equal,
        Operator::I32Ne => IntCC::NotEqual,
        Operator::I32LtS => IntCC::SignedLessThan,
        Operator::I32LtU => IntCC::UnsignedLessThan,
        Operator::I32GtS => IntCC::SignedGreaterThan,
        Operator::I32GtU => IntCC::UnsignedGreaterThan,
        Operator::I32LeS => IntCC::SignedLessThanOrEqual,
        Operator::I32LeU => IntCC::UnsignedLessThanOrEqual,
        Operator::I32GeS => IntCC::SignedGreaterThanOrEqual,
        Operator::I32GeU => IntCC::UnsignedGreaterThanOrEqual,
        _ => return None,
    })
}

/// The condition of a float comparison (`ne` is true for NaNs, as
/// Cranelift's `NotEqual`; the others false).
fn float_cc(op: &Operator<'_>) -> Option<FloatCC> {
    Some(match *op {
        Operator::F32Eq | Operator::F64Eq => FloatCC::Equal,
        Operator::F32Ne | Operator::F64Ne => FloatCC::NotEqual,
        Operator::F32Lt | Operator::F64Lt => FloatCC::LessThan,
        Operator::F32Gt | Operator::F64Gt => FloatCC::GreaterThan,
        Operator::F32Le | Operator::F64Le => FloatCC::LessThanOrEqual,
        Operator::F32Ge | Operator::F64Ge => FloatCC::GreaterThanOrEqual,
        _ => return None,
    })
}

/// An i32 operation on address-like values, if it stays affine.
fn affine(op: &Operator<'_>, l: &Affine, r: &Affine) -> Option<Affine> {
    match *op {
        Operator::I32Add => Some(l.add(r)),
        Operator::I32Sub => Some(l.add(&r.scale(-1))),
        Operator::I32Mul => match (l.as_constant(), r.as_constant()) {
            (_, Some(c)) => Some(l.scale(c)),
            (Some(c), _) => Some(r.scale(c)),
            _ => None,
        },
        Operator::I32Shl => Some(l.scale(1i32.wrapping_shl(r.as_constant()? as u32 & 31))),
        _ => {
            let (a, b) = (l.as_constant()?, r.as_constant()?);
            Some(Affine::constant(match *op {
                Operator::I32And => a & b,
                Operator::I32Or => a | b,
                Operator::I32Xor => a ^ b,
                Operator::I32ShrS => a.wrapping_shr(b as u32),
                _ => ((a as u32).wrapping_shr(b as u32)) as i32,
            }))
        }
    }
}

/// The range of `t` with -below < d + t·delta < above, if any (`delta ==
/// 0`: every `t` when -below < d < above, reported as a wide range). An
/// access of `below` bytes at distance d + t·delta from one of `above`
/// bytes overlaps it exactly then.
fn overlaps(d: i64, delta: i64, below: i64, above: i64) -> Option<(i64, i64)> {
    if delta == 0 {
        return (-below < d && d < above).then_some((-(1 << 40), 1 << 40));
    }
    // Negated: -above < -d + t·(-delta) < below.
    let (d, delta, below, above) = match delta < 0 {
        true => (-d, -delta, above, below),
        false => (d, delta, below, above),
    };
    let lo = (-below - d).div_euclid(delta) + 1;
    let hi = -((d - above).div_euclid(delta)) - 1;
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_ranges() {
        assert_eq!(overlaps(0, 24, 8, 8), Some((0, 0)));
        assert_eq!(overlaps(8, 24, 8, 8), None);
        assert_eq!(overlaps(-8_000_008, 8, 8, 8), Some((1_000_001, 1_000_001)));
        assert_eq!(overlaps(4, 8, 8, 8), Some((-1, 0)));
        assert_eq!(overlaps(0, -8, 8, 8), Some((0, 0)));
        assert_eq!(overlaps(8, -8, 8, 8), Some((1, 1)));
        assert!(overlaps(0, 0, 8, 8).is_some());
        assert_eq!(overlaps(8, 0, 8, 8), None);
        // f32 elements four bytes apart per iteration: only t = 0.
        assert_eq!(overlaps(0, 4, 4, 4), Some((0, 0)));
        assert_eq!(overlaps(-8, 4, 4, 4), Some((2, 2)));
        // A 2-byte load 2 bytes past a 4-byte store (d = 2): inside it
        // only at t = 0, and the store of the next iteration (t = -1, 4
        // bytes on) misses it.
        assert_eq!(overlaps(2, 4, 2, 4), Some((0, 0)));
        // A 4-byte load at d = -2 from a 2-byte store: overlaps at t = 0.
        assert_eq!(overlaps(-2, 4, 4, 2), Some((0, 0)));
        assert_eq!(overlaps(-2, -4, 4, 2), Some((0, 0)));
        // 1-byte accesses a byte apart per iteration, the load 3 bytes
        // ahead: the store three iterations later.
        assert_eq!(overlaps(3, -1, 1, 1), Some((3, 3)));
        assert_eq!(overlaps(3, 1, 1, 1), Some((-3, -3)));
    }
}
