//! A loop vectorizer for straight-line loops over one lane width: runs a
//! vector's worth of iterations at a time (two with `f64x2`, four with
//! `f32x4` or `i32x4`), in front of the unchanged scalar loop, which
//! finishes the last iterations and takes over whenever a run-time check
//! fails.
//!
//! Wasm built without `-msimd128` says nothing about vectors, so the loops
//! that compilers such as gcc vectorize at -O2 (a matrix product's row
//! update, a stencil's sweep) stay scalar under Cranelift. The loops taken
//! are innermost `loop`s whose body is one basic block of loads, stores,
//! arithmetic, comparisons and `select`s on values of one size (`f64`
//! data, or `f32` and `i32` data together: an `f32` comparison gives an
//! `i32`; the data is told apart from the `i32`s that address it by how
//! they are used, and a counter used as data is its value when the trip
//! started plus the lane's steps) on addresses that move by a constant
//! per iteration, ending in `br_if 0` on a counter (`plan`). A comparison
//! becomes a lane mask, which a `select` uses as it is (`bitselect`) and
//! a value shifts down to Wasm's 0 or 1. `i32` lanes may live in memory
//! as 8- or 16-bit elements (`load8_s`, `load16_u`, `store16` ...): four
//! of them are loaded widened (`sload16x4`) and stored as the lanes' low
//! bytes, packed by one shuffle. Such a body is evaluated symbolically for as
//! many consecutive iterations as a vector has lanes; the stores of all of
//! them (whichever statement they come from, so that a body LLVM unrolled
//! three times still groups up) must form runs of adjacent elements, one
//! per lane, and each run's values are packed into vector trees: adjacent
//! loads become one vector load, equal values a splat, anything else lanes
//! joined by a shuffle (a recurrence: a value loaded by one iteration and
//! used by the next, as stencils keep one).
//!
//! The vector loop is exact, not merely close (`emit`):
//! - a trip runs all its loads before its stores, so the plan refuses
//!   accesses that the reordering could change: a load overlapping a store
//!   made before it in the same trip, or two stores that overlap. Accesses
//!   whose addresses differ by locals are checked at run time instead: the
//!   byte ranges the vector part touches, per group of accesses, must not
//!   overlap a stored group's;
//! - it runs only when every access of the vector part lies within the
//!   memory (so no access traps early: the scalar loop reaches a trap in
//!   its own order) and no address wraps around 2^32;
//! - it stops at least one iteration early, so that the scalar loop runs
//!   its body at least once and leaves every local, temporaries included,
//!   as the original loop would;
//! - vector arithmetic rounds lane by lane as the scalar operations do,
//!   and nothing is reassociated but wrapping `i32` addition: a sum into
//!   an `i32` local (`s = s + a[i] - b[i]`) is kept as a vector of partial
//!   sums, added up when the vector loop ends; a float sum, whose rounding
//!   depends on the order, stays scalar.
//!
//! A loop of fewer than 17 iterations goes to the scalar loop after one
//! compare: the checks would cost more than the vectors save.
//!
//! On x86_64 and aarch64 128-bit vectors are part of the baseline ISA. A
//! riscv64 core may lack the V extension, and scalar modules must keep
//! running there, so riscv64 code (compiled with V enabled, as it is by
//! default) also tests `vmctx.features` when it enters the loop.

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
    /// parameters whose locals are `$a $b $i $j` (i32), `$x $y` (f64) and
    /// `$f $g` (f32).
    fn plan_of(body: &str) -> Option<Plan> {
        let text = format!(
            "(module (memory 1) (func (local $a i32) (local $b i32) (local $i i32) \
             (local $j i32) (local $x f64) (local $y f64) (local $f f32) (local $g f32) \
             {body}))"
        );
        let wasm = wat::parse_str(&text).expect("valid text");
        for payload in Parser::new(0).parse_all(&wasm) {
            if let Payload::CodeSectionEntry(func) = payload.expect("valid module") {
                let types = declared_locals(&func);
                let mut ops = func.get_operators_reader().expect("operators");
                while !matches!(ops.read().expect("operator"), Operator::Loop { .. }) {}
                return plan_loop(&ops, &types);
            }
        }
        panic!("no function")
    }

    /// The types of a function body's declared locals, in order.
    fn declared_locals(func: &wasmparser::FunctionBody<'_>) -> Vec<ValType> {
        let mut types = Vec::new();
        for local in func.get_locals_reader().expect("locals") {
            let (count, ty) = local.expect("local");
            types.extend(std::iter::repeat_n(ty, count as usize));
        }
        types
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

    /// `a[i + k] = a[i] + f` on f32: four iterations per trip, so
    /// distances of one to three elements are refused, four taken.
    #[test]
    fn f32_loops_take_four_lanes() {
        let shift = |k: u32| {
            format!(
                "(loop $l (f32.store offset={} {A_I} (f32.add (f32.load {A_I}) (local.get $f))) \
                   (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) \
                                     (local.get $j))))",
                4 * k
            )
        };
        for k in 1..4 {
            assert!(plan_of(&shift(k)).is_none(), "{}", shift(k));
        }
        let plan = plan_of(&shift(4)).expect("vectorized");
        assert_eq!(plan.lanes(), 4);
        assert_eq!(plan.stores.len(), 1);
        assert_eq!(plan.stores[0].values.len(), 4);
        // f32 and f64 data in one loop: lanes of two widths.
        let mixed = counted(A_I, "(f64.promote_f32 (local.get $f))");
        assert!(plan_of(&mixed).is_none());
        let mixed = format!(
            "(loop $l (f32.store {A_I} (local.get $f)) (f64.store {B_I} (local.get $x)) \
               (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) \
                                 (local.get $j))))"
        );
        assert!(plan_of(&mixed).is_none());
    }

    /// i32 data: an invariant local is the same in every lane, an
    /// induction its value at the trip's start plus the lane's steps; a
    /// local that changes otherwise (doubled per iteration) is refused.
    #[test]
    fn i32_data_takes_invariants_and_inductions() {
        let store = |value: &str, more: &str| {
            format!(
                "(loop $l (i32.store {A_I} {value}) {more} \
                   (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) \
                                     (local.get $j))))"
            )
        };
        let invariant = store(&format!("(i32.add (i32.load {B_I}) (local.get $j))"), "");
        let plan = plan_of(&invariant).expect("vectorized");
        assert_eq!(plan.lanes(), 4);
        let induction = store(&format!("(i32.add (i32.load {B_I}) (local.get $i))"), "");
        assert!(plan_of(&induction).is_some(), "{induction}");
        assert!(plan_of(&store("(local.get $i)", "")).is_some());
        let doubled = store(
            "(local.get $b)",
            "(local.set $b (i32.shl (local.get $b) (i32.const 1)))",
        );
        assert!(plan_of(&doubled).is_none(), "{doubled}");
    }

    /// tests/wast/vectorize.wast checks answers, on every board; this
    /// checks that its loops are the cases it claims: which ones the
    /// vectorizer takes and which it refuses.
    #[test]
    fn the_script_s_loops_are_taken_or_refused_as_intended() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/wast/vectorize.wast");
        let script = std::fs::read_to_string(path).expect("reading the script");
        let start = script.find("(module\n").expect("a module");
        let (module, _) = script[start..].split_once("\n)\n").expect("its end");
        let wasm = wat::parse_str(format!("{module})")).expect("valid text");
        let mut names = std::collections::HashMap::new();
        let mut signatures: Vec<Vec<ValType>> = Vec::new();
        let mut funcs: Vec<u32> = Vec::new();
        let mut planned = Vec::new();
        let mut index = 0;
        // The type and function sections come before the code.
        for payload in Parser::new(0).parse_all(&wasm) {
            match payload.expect("valid module") {
                Payload::TypeSection(section) => {
                    for ty in section.into_iter_err_on_gc_types() {
                        signatures.push(ty.expect("type").params().to_vec());
                    }
                }
                Payload::FunctionSection(section) => {
                    funcs = section
                        .into_iter()
                        .map(|t| t.expect("type index"))
                        .collect();
                }
                Payload::ExportSection(exports) => {
                    for e in exports {
                        let e = e.expect("export");
                        names.insert(e.index, e.name.to_string());
                    }
                }
                Payload::CodeSectionEntry(func) => {
                    // A function's locals: its parameters, then the
                    // declared ones.
                    let mut types = signatures[funcs[index as usize] as usize].clone();
                    types.extend(declared_locals(&func));
                    let mut ops = func.get_operators_reader().expect("operators");
                    let mut taken = false;
                    while !ops.eof() {
                        if matches!(ops.read().expect("operator"), Operator::Loop { .. }) {
                            taken |= plan_loop(&ops, &types).is_some();
                        }
                    }
                    planned.push((index, taken));
                    index += 1;
                }
                _ => {}
            }
        }
        let taken: Vec<&str> = planned
            .iter()
            .filter(|(_, t)| *t)
            .map(|(i, _)| names[i].as_str())
            .collect();
        assert_eq!(
            taken,
            [
                "axpy",
                "unrolled",
                "smooth",
                "shift",
                "shift_up",
                "negative_constant",
                "shift_same2",
                "axpy32",
                "unrolled32",
                "smooth32",
                "shift32",
                "shift_up32",
                "negative_constant32",
                "shift_same32_4",
                "axpyi",
                "mixi",
                "splati",
                "smoothi",
                "shift_samei_4",
                "cmpf32",
                "cmpi",
                "selectf32",
                "selecti",
                "selectmixed",
                "widen16",
                "widen16b",
                "mixed16",
                "bytes",
                "shift16_4",
                "sumi",
                "sum_down",
                "dot",
                "complex",
                "pairs64",
                "pairs32",
                "evens",
                "thirds",
                "const16",
                "const17",
                "const20down",
                "iota",
                "iota_mix",
            ]
        );
    }
}
