//! Conversions from the `wast` crate's directives to script commands:
//! arguments, expected results and trap messages.

use kiln_runtime::abi::{TrapKind, valtype};
use kiln_runtime::wast::script::{Command, Expect, Pattern, Value};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastExecute, WastInvoke, WastRet};

use super::{Step, leak};

fn heap_type(ty: &HeapType<'_>) -> u8 {
    match ty {
        HeapType::Abstract {
            ty: AbstractHeapType::Extern,
            ..
        } => valtype::EXTERNREF,
        _ => valtype::FUNCREF,
    }
}

fn arg(a: &WastArg<'_>) -> Result<Value, String> {
    let WastArg::Core(core) = a else {
        return Err("component-model argument".into());
    };
    Ok(match core {
        WastArgCore::I32(v) => Value {
            ty: valtype::I32,
            bits: u128::from(*v as u32),
        },
        WastArgCore::I64(v) => Value {
            ty: valtype::I64,
            bits: *v as u64 as u128,
        },
        WastArgCore::F32(f) => Value {
            ty: valtype::F32,
            bits: u128::from(f.bits),
        },
        WastArgCore::F64(f) => Value {
            ty: valtype::F64,
            bits: u128::from(f.bits),
        },
        WastArgCore::RefNull(ty) => Value {
            ty: heap_type(ty),
            bits: 0,
        },
        // Host references are opaque non-zero values: n + 1 (0 is null).
        WastArgCore::RefExtern(n) => Value {
            ty: valtype::EXTERNREF,
            bits: *n as u128 + 1,
        },
        WastArgCore::V128(v) => Value {
            ty: valtype::V128,
            bits: u128::from_le_bytes(v.to_le_bytes()),
        },
        other => return Err(format!("unsupported argument {other:?} (GC)")),
    })
}

fn pattern(r: &WastRet<'_>) -> Result<Pattern, String> {
    let WastRet::Core(core) = r else {
        return Err("component-model result".into());
    };
    Ok(match core {
        WastRetCore::I32(v) => Pattern::Exact(Value {
            ty: valtype::I32,
            bits: u128::from(*v as u32),
        }),
        WastRetCore::I64(v) => Pattern::Exact(Value {
            ty: valtype::I64,
            bits: *v as u64 as u128,
        }),
        WastRetCore::F32(NanPattern::Value(f)) => Pattern::Exact(Value {
            ty: valtype::F32,
            bits: u128::from(f.bits),
        }),
        WastRetCore::F32(NanPattern::CanonicalNan) => Pattern::CanonicalNan { ty: valtype::F32 },
        WastRetCore::F32(NanPattern::ArithmeticNan) => Pattern::ArithmeticNan { ty: valtype::F32 },
        WastRetCore::F64(NanPattern::Value(f)) => Pattern::Exact(Value {
            ty: valtype::F64,
            bits: u128::from(f.bits),
        }),
        WastRetCore::F64(NanPattern::CanonicalNan) => Pattern::CanonicalNan { ty: valtype::F64 },
        WastRetCore::F64(NanPattern::ArithmeticNan) => Pattern::ArithmeticNan { ty: valtype::F64 },
        WastRetCore::RefNull(ty) => Pattern::RefNull {
            ty: ty.as_ref().map_or(0, heap_type),
        },
        WastRetCore::RefExtern(Some(n)) => Pattern::Exact(Value {
            ty: valtype::EXTERNREF,
            bits: *n as u128 + 1,
        }),
        WastRetCore::RefExtern(None) => Pattern::RefNonNull {
            ty: valtype::EXTERNREF,
        },
        WastRetCore::RefFunc(_) => Pattern::RefNonNull {
            ty: valtype::FUNCREF,
        },
        WastRetCore::V128(v) => v128_pattern(v),
        other => return Err(format!("unsupported result {other:?} (GC)")),
    })
}

/// A `v128` result: exact bits, or float lanes with NaN patterns.
fn v128_pattern(v: &V128Pattern) -> Pattern {
    let exact = |bits: u128| {
        Pattern::Exact(Value {
            ty: valtype::V128,
            bits,
        })
    };
    let from_lanes = |lanes: &[u128], width: u32| {
        lanes
            .iter()
            .enumerate()
            .fold(0u128, |acc, (i, l)| acc | l << (i as u32 * width))
    };
    // Float lanes: each a value or a NaN pattern.
    let (ty, lanes, width): (u8, Vec<(u128, u8)>, u32) = match v {
        V128Pattern::I8x16(l) => {
            let lanes: Vec<u128> = l.iter().map(|x| u128::from(*x as u8)).collect();
            return exact(from_lanes(&lanes, 8));
        }
        V128Pattern::I16x8(l) => {
            let lanes: Vec<u128> = l.iter().map(|x| u128::from(*x as u16)).collect();
            return exact(from_lanes(&lanes, 16));
        }
        V128Pattern::I32x4(l) => {
            let lanes: Vec<u128> = l.iter().map(|x| u128::from(*x as u32)).collect();
            return exact(from_lanes(&lanes, 32));
        }
        V128Pattern::I64x2(l) => {
            let lanes: Vec<u128> = l.iter().map(|x| u128::from(*x as u64)).collect();
            return exact(from_lanes(&lanes, 64));
        }
        V128Pattern::F32x4(l) => (
            valtype::F32,
            l.iter()
                .map(|p| nan_lane(p, |f| u128::from(f.bits)))
                .collect(),
            32,
        ),
        V128Pattern::F64x2(l) => (
            valtype::F64,
            l.iter()
                .map(|p| nan_lane(p, |f| u128::from(f.bits)))
                .collect(),
            64,
        ),
    };
    let bits: Vec<u128> = lanes.iter().map(|(b, _)| *b).collect();
    let bits = from_lanes(&bits, width);
    let mask = |kind: u8| {
        lanes
            .iter()
            .enumerate()
            .filter(|(_, (_, k))| *k == kind)
            .fold(0u8, |acc, (i, _)| acc | 1 << i)
    };
    let (canonical, arithmetic) = (mask(1), mask(2));
    if canonical == 0 && arithmetic == 0 {
        return exact(bits);
    }
    Pattern::Lanes {
        ty,
        bits,
        canonical,
        arithmetic,
    }
}

/// One float lane of a `v128` pattern: (bits, 0 exact / 1 canonical NaN /
/// 2 arithmetic NaN).
fn nan_lane<T>(p: &NanPattern<T>, bits: impl Fn(&T) -> u128) -> (u128, u8) {
    match p {
        NanPattern::Value(f) => (bits(f), 0),
        NanPattern::CanonicalNan => (0, 1),
        NanPattern::ArithmeticNan => (0, 2),
    }
}

pub(super) fn results(results: &[WastRet<'_>]) -> Result<Vec<Pattern>, String> {
    results.iter().map(pattern).collect()
}

pub(super) fn invoke(line: u32, invoke: &WastInvoke<'_>, expect: Expect) -> Step {
    let args: Result<Vec<Value>, String> = invoke.args.iter().map(arg).collect();
    match args {
        Ok(args) => Step::Command(Command::Invoke {
            line,
            instance: leak(invoke.module.map(|m| m.name()).unwrap_or("").as_bytes()),
            func: leak(invoke.name.as_bytes()),
            args,
            expect,
        }),
        Err(message) => Step::Unsupported { line, message },
    }
}

pub(super) fn execute(
    line: u32,
    exec: WastExecute<'_>,
    expect: Expect,
    add: &mut dyn FnMut(Result<Vec<u8>, String>) -> usize,
) -> Step {
    match exec {
        WastExecute::Invoke(i) => invoke(line, &i, expect),
        WastExecute::Get { module, global, .. } => Step::Command(Command::Get {
            line,
            instance: leak(module.map(|m| m.name()).unwrap_or("").as_bytes()),
            global: leak(global.as_bytes()),
            expect,
        }),
        WastExecute::Wat(mut wat) => {
            let module = add(wat.encode().map_err(|e| e.to_string()));
            Step::Module {
                line,
                module,
                name: String::new(),
            }
        }
    }
}

/// The trap kind of a spec-suite trap message.
pub(super) fn trap_kind(message: &str) -> Option<TrapKind> {
    const KINDS: &[(&str, TrapKind)] = &[
        ("out of bounds memory access", TrapKind::MemoryOutOfBounds),
        ("out of bounds table access", TrapKind::TableOutOfBounds),
        ("undefined element", TrapKind::UndefinedElement),
        ("uninitialized element", TrapKind::UninitializedElement),
        (
            "indirect call type mismatch",
            TrapKind::IndirectCallTypeMismatch,
        ),
        ("integer overflow", TrapKind::IntegerOverflow),
        ("integer divide by zero", TrapKind::IntegerDivideByZero),
        (
            "invalid conversion to integer",
            TrapKind::InvalidConversionToInteger,
        ),
        ("unreachable", TrapKind::Unreachable),
        ("call stack exhausted", TrapKind::StackOverflow),
    ];
    KINDS
        .iter()
        .find(|(m, _)| message.starts_with(m))
        .map(|(_, k)| *k)
}
