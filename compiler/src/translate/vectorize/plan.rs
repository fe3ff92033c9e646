//! Which loops the vectorizer takes: one symbolic pass over the body for
//! each of two consecutive iterations, then the checks that make running
//! them as one `f64x2` iteration exact (see `mod.rs` for the shape).

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
    Div,
    Min,
    Max,
}

/// An `f64` value of one iteration of the pair.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) enum Node {
    /// An `f64` local as it was when the pair started.
    Local(u32),
    Const(u64),
    /// `f64.load` of the group's base + `k` + `offset` (see [`Group`]).
    Load {
        group: usize,
        k: i64,
        offset: u64,
    },
    Unary(Unary, NodeId),
    Binary(Binary, NodeId, NodeId),
}

/// Accesses whose i32 address is `k + Σ coef · local` with the same
/// locals and coefficients: their distances are the differences of their
/// `k + offset`, whatever the locals hold.
#[derive(Debug)]
pub(super) struct Group {
    pub terms: Vec<(u32, i32)>,
    /// Bytes its addresses advance per iteration.
    pub delta: i64,
    /// The smallest `k` of its accesses (both iterations of the pair).
    pub kmin: i64,
    /// The largest `k - kmin + offset + 8` of its accesses.
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

/// An `f64` local read before it is written: the next iteration reads
/// what this one wrote (`lanes`: the values written by each iteration).
#[derive(Debug)]
pub(super) struct Recurrence {
    pub local: u32,
    pub lanes: [NodeId; 2],
}

/// Two stores 8 bytes apart, from either iteration, written as one.
#[derive(Debug)]
pub(super) struct StorePair {
    pub group: usize,
    pub k: i64,
    pub offset: u64,
    pub values: [NodeId; 2],
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

/// How to run a loop two iterations at a time.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(super) inductions: Vec<Induction>,
    pub(super) control: Control,
    pub(super) groups: Vec<Group>,
    pub(super) nodes: Vec<Node>,
    pub(super) recurrences: Vec<Recurrence>,
    pub(super) stores: Vec<StorePair>,
}

/// Steps past which the distances are not worth tracking.
const MAX_DELTA: i64 = 1 << 20;
/// `f64` accesses only, for now.
const SIZE: i64 = 8;

/// An i32 value `konst + Σ coef · local` (wrapping), the locals as they
/// were when the pair started. Terms sorted by local, no zero coefficient.
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
    Float(NodeId),
    /// `a != 0`: the loop condition.
    NonZero(Affine),
}

#[derive(Clone, Copy, PartialEq)]
enum AccessKind {
    Load,
    Store,
}

/// An access of the pair's first iteration, in program order.
struct Access {
    kind: AccessKind,
    group: usize,
    at: i64,
}

/// The symbolic state of the two passes.
struct Builder<'a> {
    local_types: &'a [ValType],
    nodes: Vec<Node>,
    leaves: HashMap<Node, NodeId>,
    groups: Vec<Group>,
    /// Per group, the `k`s and `offset`s seen (for `kmin` and `end`).
    extents: Vec<Vec<(i64, u64)>>,
    locals: HashMap<u32, Sym>,
    read_first: HashSet<u32>,
    written: HashSet<u32>,
    accesses: Vec<Access>,
    stores: [Vec<(usize, i64, u64, NodeId)>; 2],
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
        nodes: Vec::new(),
        leaves: HashMap::new(),
        groups: Vec::new(),
        extents: Vec::new(),
        locals: HashMap::new(),
        read_first: HashSet::new(),
        written: HashSet::new(),
        accesses: Vec::new(),
        stores: [Vec::new(), Vec::new()],
        lane: 0,
    };
    let condition = b.iteration(stmts)?;
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
            Sym::Float(end) if read_first => recurring.push((local, *end)),
            _ if !read_first => {} // a temporary: written before it is read
            _ => return None,
        }
    }
    inductions.sort_by_key(|i| i.local);
    recurring.sort_unstable();
    let step_of = |local: u32| inductions.iter().find(|i| i.local == local).map(|i| i.step);

    let cond = match condition {
        Sym::Int(a) | Sym::NonZero(a) => a,
        Sym::Float(_) => return None,
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

    // A recurrence whose value depends on a recurrence is sequential.
    let recurrent_leaves: Vec<NodeId> = recurring
        .iter()
        .filter_map(|(local, _)| b.leaves.get(&Node::Local(*local)).copied())
        .collect();
    if recurring
        .iter()
        .any(|(_, end)| b.depends_on(*end, &recurrent_leaves))
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
    if !b.independent() {
        return None;
    }

    // The second iteration, from where the first left the locals.
    b.lane = 1;
    b.iteration(stmts)?;
    let recurrences = recurring
        .iter()
        .map(|&(local, first)| match b.locals.get(&local) {
            Some(Sym::Float(second)) => Some(Recurrence {
                local,
                lanes: [first, *second],
            }),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;

    for (g, extent) in b.groups.iter_mut().zip(&b.extents) {
        g.kmin = extent.iter().map(|&(k, _)| k).min()?;
        g.end = extent
            .iter()
            .map(|&(k, offset)| k - g.kmin + offset as i64 + SIZE)
            .max()?;
        // The vector loop's accesses take `rel` as their offset.
        if g.end > i64::from(i32::MAX) {
            return None;
        }
    }
    let stores = b.pair_stores()?;
    Some(Plan {
        inductions,
        control,
        groups: b.groups,
        nodes: b.nodes,
        recurrences,
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
                Operator::I32Add | Operator::I32Sub | Operator::I32Mul | Operator::I32Shl => {
                    let (Sym::Int(r), Sym::Int(l)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    let v = match *op {
                        Operator::I32Add => l.add(&r),
                        Operator::I32Sub => l.add(&r.scale(-1)),
                        Operator::I32Mul => match (l.as_constant(), r.as_constant()) {
                            (_, Some(c)) => l.scale(c),
                            (Some(c), _) => r.scale(c),
                            _ => return None,
                        },
                        _ => l.scale(1i32.wrapping_shl(r.as_constant()? as u32 & 31)),
                    };
                    stack.push(Sym::Int(v));
                }
                Operator::I32Ne => {
                    let (Sym::Int(r), Sym::Int(l)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    stack.push(Sym::NonZero(l.add(&r.scale(-1))));
                }
                Operator::F64Const { value } => {
                    let n = self.leaf(Node::Const(value.bits()));
                    stack.push(Sym::Float(n));
                }
                Operator::F64Sqrt | Operator::F64Abs | Operator::F64Neg => {
                    let Sym::Float(a) = stack.pop()? else {
                        return None;
                    };
                    let u = match *op {
                        Operator::F64Sqrt => Unary::Sqrt,
                        Operator::F64Abs => Unary::Abs,
                        _ => Unary::Neg,
                    };
                    let n = self.node(Node::Unary(u, a));
                    stack.push(Sym::Float(n));
                }
                Operator::F64Add
                | Operator::F64Sub
                | Operator::F64Mul
                | Operator::F64Div
                | Operator::F64Min
                | Operator::F64Max => {
                    let (Sym::Float(r), Sym::Float(l)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    let bin = match *op {
                        Operator::F64Add => Binary::Add,
                        Operator::F64Sub => Binary::Sub,
                        Operator::F64Mul => Binary::Mul,
                        Operator::F64Div => Binary::Div,
                        Operator::F64Min => Binary::Min,
                        _ => Binary::Max,
                    };
                    let n = self.node(Node::Binary(bin, l, r));
                    stack.push(Sym::Float(n));
                }
                Operator::F64Load { memarg } => {
                    let Sym::Int(addr) = stack.pop()? else {
                        return None;
                    };
                    let (group, k) = self.access(AccessKind::Load, &addr, memarg.offset);
                    let n = self.node(Node::Load {
                        group,
                        k,
                        offset: memarg.offset,
                    });
                    stack.push(Sym::Float(n));
                }
                Operator::F64Store { memarg } => {
                    let (Sym::Float(value), Sym::Int(addr)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    let (group, k) = self.access(AccessKind::Store, &addr, memarg.offset);
                    self.groups[group].stored = true;
                    self.stores[self.lane].push((group, k, memarg.offset, value));
                }
                _ => return None,
            }
        }
        let condition = stack.pop()?;
        stack.is_empty().then_some(condition)
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
            ValType::F64 => Some(Sym::Float(self.leaf(Node::Local(local)))),
            _ => None,
        }
    }

    fn write(&mut self, local: u32, v: Sym) -> Option<()> {
        let fits = matches!(
            (self.local_types.get(local as usize)?, &v),
            (ValType::I32, Sym::Int(_)) | (ValType::F64, Sym::Float(_))
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

    /// A node that is the same value wherever it appears (hash-consed).
    fn leaf(&mut self, node: Node) -> NodeId {
        if let Some(&id) = self.leaves.get(&node) {
            return id;
        }
        let id = self.node(node.clone());
        self.leaves.insert(node, id);
        id
    }

    fn node(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Records an access; its group and `k`.
    fn access(&mut self, kind: AccessKind, addr: &Affine, offset: u64) -> (usize, i64) {
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
        self.extents[group].push((k, offset));
        if self.lane == 0 {
            self.accesses.push(Access {
                kind,
                group,
                at: k + offset as i64,
            });
        }
        (group, k)
    }

    fn depends_on(&self, node: NodeId, leaves: &[NodeId]) -> bool {
        if leaves.contains(&node) {
            return true;
        }
        match self.nodes[node] {
            Node::Unary(_, a) => self.depends_on(a, leaves),
            Node::Binary(_, a, b) => self.depends_on(a, leaves) || self.depends_on(b, leaves),
            _ => false,
        }
    }

    /// Checks the first iteration's accesses against each other across
    /// iterations (same group: exact distances). The vector loop runs a
    /// pair's loads before its stores and the pairs in order, so only
    /// accesses of one pair, at most one iteration apart, can be reordered:
    /// a load may not overlap a store made before it (in the same
    /// iteration, or by the pair's first iteration for its second), and
    /// stores may not overlap each other at all.
    fn independent(&self) -> bool {
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
                // when |d + t delta| < SIZE.
                let Some((lo, hi)) = overlaps(a.at - s.at, delta) else {
                    continue;
                };
                let at = |t: i64| lo <= t && t <= hi;
                let conflict = match a.kind {
                    AccessKind::Load => at(1) || (at(0) && ai > si),
                    AccessKind::Store => at(1) || at(-1) || (at(0) && ai != si),
                };
                if conflict {
                    return false;
                }
            }
        }
        true
    }

    /// Pairs each store with one 8 bytes further in its group (from either
    /// iteration); every store must find one.
    fn pair_stores(&self) -> Option<Vec<StorePair>> {
        let mut all: Vec<(usize, i64, i64, u64, NodeId)> = self
            .stores
            .iter()
            .flatten()
            .map(|&(g, k, offset, v)| (g, k + offset as i64, k, offset, v))
            .collect();
        all.sort_unstable_by_key(|&(g, at, ..)| (g, at));
        let mut pairs = Vec::new();
        let mut rest = all.as_slice();
        while let [first, second, tail @ ..] = rest {
            if first.0 != second.0 || second.1 != first.1 + SIZE {
                return None;
            }
            pairs.push(StorePair {
                group: first.0,
                k: first.2,
                offset: first.3,
                values: [first.4, second.4],
            });
            rest = tail;
        }
        (rest.is_empty() && !pairs.is_empty()).then_some(pairs)
    }
}

/// The range of `t` with |d + t·delta| < SIZE, if any (`delta == 0`:
/// every `t` when |d| < SIZE, reported as a wide range).
fn overlaps(d: i64, delta: i64) -> Option<(i64, i64)> {
    if delta == 0 {
        return (d.abs() < SIZE).then_some((-(1 << 40), 1 << 40));
    }
    let (d, delta) = if delta < 0 { (-d, -delta) } else { (d, delta) };
    // -SIZE < d + t·delta < SIZE
    let lo = (-SIZE - d).div_euclid(delta) + 1;
    let hi = -((d - SIZE).div_euclid(delta)) - 1;
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_ranges() {
        assert_eq!(overlaps(0, 24), Some((0, 0)));
        assert_eq!(overlaps(8, 24), None);
        assert_eq!(overlaps(-8_000_008, 8), Some((1_000_001, 1_000_001)));
        assert_eq!(overlaps(4, 8), Some((-1, 0)));
        assert_eq!(overlaps(0, -8), Some((0, 0)));
        assert_eq!(overlaps(8, -8), Some((1, 1)));
        assert!(overlaps(0, 0).is_some());
        assert_eq!(overlaps(8, 0), None);
    }
}
