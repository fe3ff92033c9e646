//! Which functions may grow linear memory while they run.
//!
//! With explicit bounds checks `memory.grow` may move the memory and
//! change its length, so compiled code reloads base and length after every
//! call, and in every iteration of a loop (Cranelift cannot move those
//! loads across the back edge). A function that can reach no
//! `memory.grow` (none in its body, none in the functions it calls) loads
//! them once at entry instead. An AOT compiler sees the whole call graph:
//! - a direct call reaches its callee;
//! - WASI and `bench` host functions never grow memory or call back;
//! - any other import, and any `call_indirect`, may run foreign code or
//!   this module's escaping functions (exported, in a table, `ref.func`):
//!   it may grow memory if the memory is shared (imported or exported) or
//!   if one of the escaping functions may.
//!
//! In the functions that may grow, [`loop_makes_call`] finds the loops
//! without calls, before which the translator loads base and length for
//! the loop's own loads to repeat (`memory.rs`).

use rayon::prelude::*;
use wasmparser::{Operator, OperatorsReader};

use crate::module::ModuleInfo;
use kiln_runtime::abi::extern_kind;

/// What one function body does that matters here.
#[derive(Default)]
struct Body {
    grows: bool,
    callees: Vec<u32>,
    /// `call_indirect`, or a call to an import that is not a host function.
    calls_foreign: bool,
}

/// Per function index: whether a call to it may grow linear memory.
pub fn may_grow(module: &ModuleInfo<'_>) -> Vec<bool> {
    let imported = module.num_imported_funcs as usize;
    let host: Vec<bool> = module
        .imports
        .iter()
        .filter(|i| i.kind == extern_kind::FUNC)
        .map(|i| crate::emit::descriptor::host_symbol(i).is_some())
        .collect();
    let bodies: Vec<Body> = module
        .bodies
        .par_iter()
        .map(|body| {
            scan(body, &host).unwrap_or(Body {
                grows: true,
                ..Body::default()
            })
        })
        .collect();

    let shared = module.memories.iter().any(|m| m.imported)
        || module.exports.iter().any(|e| e.kind == extern_kind::MEMORY);
    let mut grows = vec![false; module.funcs.len()];
    let mut callers: Vec<Vec<u32>> = vec![Vec::new(); module.funcs.len()];
    // What grows as soon as foreign code may: the imports that are not host
    // functions (foreign code themselves) and the functions that call
    // foreign code.
    let mut foreign_callers: Vec<u32> = (0..host.len() as u32)
        .filter(|&i| !host[i as usize])
        .collect();
    let mut work = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let f = (imported + i) as u32;
        for &callee in &body.callees {
            callers[callee as usize].push(f);
        }
        if body.calls_foreign {
            foreign_callers.push(f);
        }
        if body.grows {
            work.push(f);
        }
    }
    // Foreign code may grow a shared memory itself.
    let mut foreign_grows = shared;
    if foreign_grows {
        work.extend(&foreign_callers);
    }
    while let Some(f) = work.pop() {
        if std::mem::replace(&mut grows[f as usize], true) {
            continue;
        }
        work.extend(&callers[f as usize]);
        // Foreign code, or a table, may call this one back.
        if module.escaping[f as usize] && !foreign_grows {
            foreign_grows = true;
            work.extend(&foreign_callers);
        }
    }
    grows
}

/// Whether the loop whose body `ops` is positioned at makes a call of any
/// kind before its `end` (true for a body that does not parse). Direct
/// calls to `inlined` functions do not count.
pub(crate) fn loop_makes_call(mut ops: OperatorsReader<'_>, inlined: &[bool]) -> bool {
    let mut depth = 0u32;
    while let Ok(op) = ops.read() {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => depth += 1,
            Operator::End if depth == 0 => return false,
            Operator::End => depth -= 1,
            Operator::Call { function_index }
                if inlined.get(function_index as usize) == Some(&true) => {}
            ref op if super::inline::makes_call(op) => return true,
            _ => {}
        }
    }
    true
}

fn scan(body: &wasmparser::FunctionBody<'_>, host: &[bool]) -> wasmparser::Result<Body> {
    let mut out = Body::default();
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        match ops.read()? {
            Operator::MemoryGrow { .. } => out.grows = true,
            Operator::Call { function_index } => match host.get(function_index as usize) {
                Some(true) => {}
                Some(false) => out.calls_foreign = true,
                None => out.callees.push(function_index),
            },
            Operator::CallIndirect { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCallRef { .. } => out.calls_foreign = true,
            _ => {}
        }
    }
    out.callees.sort_unstable();
    out.callees.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grows(wat: &str) -> Vec<bool> {
        let wasm = wat::parse_str(wat).expect("test module");
        let module = ModuleInfo::parse(&wasm).expect("valid module");
        may_grow(&module)
    }

    #[test]
    fn through_direct_calls_only() {
        let g = grows(
            r#"(module (memory 1)
                 (func $grow (drop (memory.grow (i32.const 1))))
                 (func $caller (call $grow))
                 (func $leaf (drop (i32.load (i32.const 0))))
                 (func $calls_leaf (call $leaf)))"#,
        );
        assert_eq!(g, [true, true, false, false]);
    }

    #[test]
    fn host_functions_do_not_grow_others_may() {
        let g = grows(
            r#"(module
                 (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                 (import "env" "other" (func $other))
                 (memory (export "memory") 1)
                 (func $a (call $exit (i32.const 0)))
                 (func $b (call $other)))"#,
        );
        // The memory is exported: foreign code may grow it.
        assert_eq!(g, [false, true, false, true]);
        let g = grows(
            r#"(module
                 (import "env" "other" (func $other))
                 (memory 1)
                 (func $b (call $other)))"#,
        );
        // Private memory, and nothing of this module grows it.
        assert_eq!(g, [false, false]);
    }

    #[test]
    fn indirect_calls_reach_escaping_functions() {
        let g = grows(
            r#"(module (memory 1) (table 1 funcref)
                 (elem (i32.const 0) $grow)
                 (func $grow (drop (memory.grow (i32.const 1))))
                 (func $indirect (call_indirect (i32.const 0)))
                 (func $plain (nop)))"#,
        );
        assert_eq!(g, [true, true, false]);
        let g = grows(
            r#"(module (memory 1) (table 1 funcref)
                 (elem (i32.const 0) $plain)
                 (func $grow (drop (memory.grow (i32.const 1))))
                 (func $indirect (call_indirect (i32.const 0)))
                 (func $plain (nop)))"#,
        );
        assert_eq!(g, [true, false, false]);
    }

    /// `loop_makes_call` at each `loop` of function 0, in order, with
    /// function 1 inlined or not.
    fn loops_inlining(wat: &str, inlined: bool) -> Vec<bool> {
        let wasm = wat::parse_str(wat).expect("test module");
        let module = ModuleInfo::parse(&wasm).expect("valid module");
        let mut ops = module.bodies[0].get_operators_reader().expect("body");
        let mut out = Vec::new();
        while !ops.eof() {
            if let Operator::Loop { .. } = ops.read().expect("operator") {
                out.push(loop_makes_call(ops.clone(), &[false, inlined]));
            }
        }
        out
    }

    fn loops(wat: &str) -> Vec<bool> {
        loops_inlining(wat, false)
    }

    #[test]
    fn calls_to_inlined_functions_are_not_calls() {
        let wat = r#"(module
                 (func $f (loop $l (call $leaf) (br_if $l (i32.const 0))))
                 (func $leaf))"#;
        assert_eq!(loops_inlining(wat, true), [false]);
        assert_eq!(loops_inlining(wat, false), [true]);
    }

    #[test]
    fn loops_with_calls_inside_only() {
        let l = loops(
            r#"(module (memory 1)
                 (func $f
                   (loop $outer
                     (block (loop $inner (br_if $inner (i32.const 0))))
                     (drop (memory.grow (i32.const 0)))
                     (br_if $outer (i32.const 0)))
                   (loop $after (br_if $after (i32.const 0)))
                   (call $f)))"#,
        );
        assert_eq!(l, [true, false, false]);
    }

    #[test]
    fn foreign_code_may_call_back_into_an_export_that_grows() {
        let g = grows(
            r#"(module
                 (import "env" "callback" (func $cb))
                 (memory 1)
                 (func $grow (export "grow") (drop (memory.grow (i32.const 1))))
                 (func $calls_out (call $cb)))"#,
        );
        assert_eq!(g, [true, true, true]);
    }
}
