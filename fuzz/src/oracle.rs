//! The reference: runs a module in wasmi and records, in order, what each
//! exported function returns (or how it traps) for deterministic arguments,
//! then the memory hash and every exported global. The record is what Kiln
//! must reproduce.

use arbitrary::Unstructured;
use kiln_runtime::abi::TrapKind;
use wasmi::errors::{ErrorKind, InstantiationError};
use wasmi::{Config, Engine, Linker, Module, Store, TrapCode, Val, ValType};

/// A value as the script states it: a number's bits, or a reference that is
/// compared only for being null.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
    /// A `v128`'s bits (lane 0 in the low bits).
    V128(u128),
    /// A reference of type funcref (`true`) or externref; `null` or not.
    Ref {
        func: bool,
        null: bool,
    },
}

/// How a call ended in the reference.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Return(Vec<Value>),
    /// A trap; the kinds Kiln may report for it (wasmi reports an index past
    /// the end of a table the same way for `call_indirect`, where the spec
    /// says "undefined element", and for `table.get`).
    Trap(Vec<TrapKind>),
}

/// One step of the record.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Instantiation (segments, start function) trapped with one of these.
    InstantiationTrap(Vec<TrapKind>),
    Invoke {
        export: String,
        args: Vec<Value>,
        outcome: Outcome,
    },
    /// The exported global `export` holds this value at the end.
    Global { export: String, value: Value },
}

/// Calls deeper than this end the record (wasmi's and Kiln's stack limits
/// differ, so only calls within both are compared).
const MAX_RECURSION: usize = 300;
/// Safety net besides the module's own fuel.
const WASMI_FUEL: u64 = 200_000_000;

/// Runs `wasm` in wasmi. Arguments come from `u`, then from a
/// stream seeded by the module (see [`Fallback`]). `None` when the module
/// cannot be compared at all (wasmi refuses it, or fails for a reason that
/// is not a Wasm trap).
pub fn record(wasm: &[u8], u: &mut Unstructured<'_>) -> Option<Vec<Step>> {
    let mut config = Config::default();
    config
        .set_max_recursion_depth(MAX_RECURSION)
        .consume_fuel(true)
        // Kiln compiles 128-bit SIMD, not relaxed SIMD (whose results are
        // implementation-defined): the generator never makes the latter.
        .wasm_simd(true)
        .wasm_relaxed_simd(false);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, wasm).ok()?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(WASMI_FUEL).ok()?;
    let linker = Linker::<()>::new(&engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(instance) => instance,
        Err(e) => return Some(vec![Step::InstantiationTrap(instantiation_trap(&e)?)]),
    };

    let mut fallback = Fallback::new(wasm);
    let mut steps = Vec::new();
    let exports: Vec<(String, wasmi::Extern)> = instance
        .exports(&store)
        .map(|e| (e.name().to_string(), e.into_extern()))
        .collect();
    for (name, ext) in &exports {
        if name == crate::MEMORY_HASH_EXPORT {
            continue;
        }
        let Some(func) = ext.into_func() else {
            continue;
        };
        let ty = func.ty(&store);
        let args: Vec<Val> = ty
            .params()
            .iter()
            .map(|t| argument(*t, u, &mut fallback))
            .collect();
        let mut results: Vec<Val> = ty
            .results()
            .iter()
            .map(|t| Val::default_for_ty(*t))
            .collect();
        let outcome = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Outcome::Return(results.iter().map(value).collect::<Option<_>>()?),
            Err(e) => match e.as_trap_code() {
                // Beyond this point the engines' limits, not Wasm, decide:
                // stop comparing (the steps so far still count).
                Some(TrapCode::StackOverflow | TrapCode::OutOfFuel) | None => return Some(steps),
                Some(code) => Outcome::Trap(trap_kinds(code)?),
            },
        };
        steps.push(Step::Invoke {
            export: name.clone(),
            args: args.iter().map(value).collect::<Option<_>>()?,
            outcome,
        });
    }
    if let Some(hash) = instance.get_func(&store, crate::MEMORY_HASH_EXPORT) {
        let mut result = [Val::I64(0)];
        hash.call(&mut store, &[], &mut result).ok()?;
        steps.push(Step::Invoke {
            export: crate::MEMORY_HASH_EXPORT.to_string(),
            args: Vec::new(),
            outcome: Outcome::Return(vec![value(&result[0])?]),
        });
    }
    for (name, ext) in &exports {
        if let Some(global) = ext.into_global() {
            steps.push(Step::Global {
                export: name.clone(),
                value: value(&global.get(&store))?,
            });
        }
    }
    Some(steps)
}

/// Argument bits once the fuzzer's bytes run out, which they usually have
/// after wasm-smith built the module (nearly every argument was 0): a
/// splitmix64 stream seeded by the module, so an input still replays
/// exactly, biased towards the values where code goes wrong.
struct Fallback(u64);

impl Fallback {
    fn new(wasm: &[u8]) -> Fallback {
        // FNV-1a of the module.
        Fallback(wasm.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        }))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `bits` wide: 0, -1, 1, the signed extremes, a small number, or any.
    fn bits(&mut self, bits: u32) -> u64 {
        let r = self.next();
        let mask = u64::MAX >> (64 - bits);
        let min = 1u64 << (bits - 1);
        match r % 8 {
            0 => 0,
            1 => mask,
            2 => 1,
            3 => min,
            4 => min - 1,
            5 => (r >> 8) % 64,
            _ => self.next() & mask,
        }
    }
}

/// A deterministic argument of type `ty`, from the fuzzer's bytes while
/// there are any, else from `fallback`. Float NaNs are replaced by the
/// canonical NaN: generated modules canonicalise the NaNs they make, so
/// every NaN bit pattern stays comparable.
fn argument(ty: ValType, u: &mut Unstructured<'_>, fallback: &mut Fallback) -> Val {
    let from_bytes = !u.is_empty();
    match ty {
        ValType::I32 if from_bytes => Val::I32(u.arbitrary().unwrap_or(0)),
        ValType::I32 => Val::I32(fallback.bits(32) as u32 as i32),
        ValType::I64 if from_bytes => Val::I64(u.arbitrary().unwrap_or(0)),
        ValType::I64 => Val::I64(fallback.bits(64) as i64),
        ValType::F32 => {
            let f: f32 = match from_bytes {
                true => u.arbitrary().unwrap_or(0.0),
                false => f32::from_bits(fallback.bits(32) as u32),
            };
            Val::F32(if f.is_nan() { f32::NAN } else { f }.into())
        }
        ValType::F64 => {
            let f: f64 = match from_bytes {
                true => u.arbitrary().unwrap_or(0.0),
                false => f64::from_bits(fallback.bits(64)),
            };
            Val::F64(if f.is_nan() { f64::NAN } else { f }.into())
        }
        // Any bits: a NaN lane with any payload stays comparable, since
        // every float operation that may change a payload is followed by a
        // canonicalisation (wasm-smith's, or `generate::instrument`'s).
        ValType::V128 => {
            let bits = match from_bytes {
                true => u.arbitrary::<u128>().unwrap_or(0),
                false => u128::from(fallback.bits(64)) << 64 | u128::from(fallback.bits(64)),
            };
            Val::V128(bits.into())
        }
        other => Val::default_for_ty(other),
    }
}

fn value(v: &Val) -> Option<Value> {
    Some(match v {
        Val::I32(x) => Value::I32(*x as u32),
        Val::I64(x) => Value::I64(*x as u64),
        Val::F32(x) => Value::F32(x.to_bits()),
        Val::F64(x) => Value::F64(x.to_bits()),
        Val::FuncRef(r) => Value::Ref {
            func: true,
            null: r.is_null(),
        },
        Val::ExternRef(r) => Value::Ref {
            func: false,
            null: r.is_null(),
        },
        Val::V128(x) => Value::V128(x.as_u128()),
    })
}

/// Kiln's trap kinds for a wasmi trap code; `None` for codes that are not
/// Wasm traps.
fn trap_kinds(code: TrapCode) -> Option<Vec<TrapKind>> {
    Some(match code {
        TrapCode::UnreachableCodeReached => vec![TrapKind::Unreachable],
        TrapCode::MemoryOutOfBounds => vec![TrapKind::MemoryOutOfBounds],
        TrapCode::TableOutOfBounds => vec![TrapKind::TableOutOfBounds, TrapKind::UndefinedElement],
        TrapCode::IndirectCallToNull => vec![TrapKind::UninitializedElement],
        TrapCode::IntegerDivisionByZero => vec![TrapKind::IntegerDivideByZero],
        TrapCode::IntegerOverflow => vec![TrapKind::IntegerOverflow],
        TrapCode::BadConversionToInteger => vec![TrapKind::InvalidConversionToInteger],
        TrapCode::BadSignature => vec![TrapKind::IndirectCallTypeMismatch],
        _ => return None,
    })
}

/// The trap of a failed instantiation: segments that do not fit, or a
/// start function that trapped. `None` for failures that are not traps.
fn instantiation_trap(e: &wasmi::Error) -> Option<Vec<TrapKind>> {
    if let ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) = e.kind()
    {
        return Some(vec![TrapKind::TableOutOfBounds]);
    }
    match e.as_trap_code()? {
        TrapCode::StackOverflow | TrapCode::OutOfFuel => None,
        code => trap_kinds(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_after_the_bytes_vary_and_replay() {
        let draw = || {
            let mut u = Unstructured::new(&[]);
            let mut fallback = Fallback::new(b"\0asm module");
            (0..64)
                .map(|_| match argument(ValType::I32, &mut u, &mut fallback) {
                    Val::I32(x) => x,
                    _ => unreachable!(),
                })
                .collect::<Vec<i32>>()
        };
        let values = draw();
        assert_eq!(values, draw(), "not deterministic");
        for edge in [0, -1, 1, i32::MIN, i32::MAX] {
            assert!(values.contains(&edge), "{edge} never drawn: {values:?}");
        }
        let distinct: std::collections::HashSet<_> = values.iter().collect();
        assert!(distinct.len() > 10, "{values:?}");
    }
}
