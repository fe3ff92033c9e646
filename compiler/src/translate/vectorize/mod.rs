//! A loop vectorizer for straight-line `f64` loops: runs two iterations
//! at a time with `f64x2` operations, in front of the unchanged scalar
//! loop, which finishes the last one or two iterations and takes over
//! whenever a run-time check fails.
//!
//! Wasm built without `-msimd128` says nothing about vectors, so the loops
//! that compilers such as gcc vectorize at -O2 (a matrix product's row
//! update, a stencil's sweep) stay scalar under Cranelift. The loops taken
//! are innermost `loop`s whose body is one basic block of `f64` loads,
//! stores and arithmetic on addresses that move by a constant per
//! iteration, ending in `br_if 0` on a counter (`plan`). Such a body is
//! evaluated symbolically for two consecutive iterations; the stores of
//! both (whichever statement they come from, so that a body LLVM unrolled
//! three times still pairs up) must form pairs 8 bytes apart, and each
//! pair's values are packed into `f64x2` trees: loads 8 bytes apart become
//! one vector load, equal values a splat, anything else two lanes joined
//! by a shuffle (a recurrence: a value loaded by one iteration and used by
//! the next, as stencils keep one).
//!
//! The vector loop is exact, not merely close (`emit`):
//! - a pair runs all its loads before its stores, so the plan refuses
//!   accesses that the reordering could change: a load overlapping a store
//!   made before it in the same pair, or two stores that overlap. Accesses
//!   whose addresses differ by locals are checked at run time instead: the
//!   byte ranges the vector part touches, per group of accesses, must not
//!   overlap a stored group's;
//! - it runs only when every access of the vector part lies within the
//!   memory (so no access traps early: the scalar loop reaches a trap in
//!   its own order) and no address wraps around 2^32;
//! - it stops at least one iteration early, so that the scalar loop runs
//!   its body at least once and leaves every local, temporaries included,
//!   as the original loop would;
//! - `f64x2` arithmetic rounds lane by lane as the scalar operations do,
//!   and nothing is reassociated (a sum into one local is a recurrence
//!   that depends on itself, which the plan refuses).
//!
//! On x86_64 and aarch64 `f64x2` is part of the baseline ISA. A riscv64
//! core may lack the V extension, and scalar modules must keep running
//! there, so riscv64 code (compiled with V enabled, as it is by default)
//! also tests `vmctx.features` when it enters the loop.

mod emit;
mod plan;

pub(crate) use plan::Plan;
use wasmparser::{Operator, OperatorsReader, ValType};

/// Longest loop body considered, in operators.
const MAX_BODY: usize = 400;

/// The plan for the `loop` whose body `ops` is positioned at (just after
/// the `loop` operator), or `None`.
pub(crate) fn plan_loop(ops: &OperatorsReader<'_>, local_types: &[ValType]) -> Option<Plan> {
    let mut reader = ops.clone();
    let mut body = Vec::new();
    while body.len() < MAX_BODY {
        let op = reader.read().ok()?;
        let end = matches!(op, Operator::End);
        if matches!(
            op,
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. }
        ) {
            return None;
        }
        body.push(op);
        if end {
            return plan::plan(&body, local_types);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmparser::{Parser, Payload};

    /// The plan for the first loop of `func`, a function without
    /// parameters whose locals are `$a $b $i $j` (i32) and `$x $y` (f64).
    fn plan_of(body: &str) -> Option<Plan> {
        let text = format!(
            "(module (memory 1) (func (local $a i32) (local $b i32) (local $i i32) \
             (local $j i32) (local $x f64) (local $y f64) {body}))"
        );
        let wasm = wat::parse_str(&text).expect("valid text");
        for payload in Parser::new(0).parse_all(&wasm) {
            if let Payload::CodeSectionEntry(func) = payload.expect("valid module") {
                let mut types = Vec::new();
                for local in func.get_locals_reader().expect("locals") {
                    let (count, ty) = local.expect("local");
                    types.extend(std::iter::repeat_n(ty, count as usize));
                }
                let mut ops = func.get_operators_reader().expect("operators");
                while !matches!(ops.read().expect("operator"), Operator::Loop { .. }) {}
                return plan_loop(&ops, &types);
            }
        }
        panic!("no function")
    }

    /// A loop storing `value` at `store` (an address, after any
    /// `offset=`), `$i` counting up by 8 to `$j`.
    fn counted(store: &str, value: &str) -> String {
        format!(
            "(loop $l (f64.store {store} {value}) \
               (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8))) \
                                 (local.get $j))))"
        )
    }

    const A_I: &str = "(i32.add (local.get $a) (local.get $i))";
    const B_I: &str = "(i32.add (local.get $b) (local.get $i))";

    #[test]
    fn takes_a_row_update_with_two_groups() {
        let value = format!("(f64.add (f64.mul (f64.load {A_I}) (local.get $x)) (f64.load {B_I}))");
        let plan = plan_of(&counted(A_I, &value)).expect("vectorized");
        assert_eq!(plan.groups.len(), 2);
        assert!(plan.groups.iter().all(|g| g.delta == 8));
        assert_eq!(plan.stores.len(), 1);
        assert_eq!(plan.control.step, 8);
        assert_eq!(plan.inductions.len(), 1);
    }

    #[test]
    fn refuses_a_load_of_the_previous_iteration_s_store() {
        // a[i + 1] = a[i] + x: the second iteration reads the first's store.
        let value = format!("(f64.add (f64.load {A_I}) (local.get $x))");
        let one = counted(&format!("offset=8 {A_I}"), &value);
        assert!(plan_of(&one).is_none(), "{one}");
        // a[i + 2] = a[i] + x: never within one pair.
        let two = counted(&format!("offset=16 {A_I}"), &value);
        assert!(plan_of(&two).is_some(), "{two}");
    }

    #[test]
    fn refuses_a_load_after_a_store_in_one_iteration() {
        let body = format!(
            "(loop $l (f64.store {A_I} (local.get $x)) \
               (f64.store {B_I} (f64.load {A_I})) \
               (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8))) \
                                 (local.get $j))))"
        );
        assert!(plan_of(&body).is_none());
    }

    #[test]
    fn refuses_reductions_and_other_operators() {
        // A sum into a local depends on itself.
        let sum = format!(
            "(loop $l (local.set $x (f64.add (local.get $x) (f64.load {A_I}))) \
               (f64.store {B_I} (local.get $x)) \
               (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8))) \
                                 (local.get $j))))"
        );
        assert!(plan_of(&sum).is_none());
        // Integer data, a branch inside the body, every iteration
        // storing to the same place.
        let int = counted(A_I, "(f64.convert_i32_s (local.get $i))");
        assert!(plan_of(&int).is_none());
        let nested = "(loop $l (block (br_if 0 (local.get $i))) (br_if $l (local.get $j)))";
        assert!(plan_of(nested).is_none());
        let same = counted("(local.get $a)", "(local.get $x)");
        assert!(plan_of(&same).is_none());
    }

    #[test]
    fn takes_a_recurrence_of_loaded_values() {
        // b[i] = prev + a[i]; prev = a[i], the condition a negative index
        // counting up to zero.
        let body = format!(
            "(loop $l (f64.store {B_I} (f64.add (local.get $x) \
                 (local.tee $y (f64.load {A_I})))) \
               (local.set $x (local.get $y)) \
               (br_if $l (local.tee $i (i32.add (local.get $i) (i32.const 8)))))"
        );
        let plan = plan_of(&body).expect("vectorized");
        assert_eq!(plan.recurrences.len(), 1);
        assert_eq!(plan.recurrences[0].local, 4);
    }
}
