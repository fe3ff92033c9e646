//! Conversions from the `wast` crate's directives to script commands:
//! arguments, expected results and trap messages.

use kiln_runtime::abi::{TrapKind, valtype};
use kiln_runtime::wast::script::{Command, Expect, Pattern, Value};
use wast::core::{
    AbstractHeapType, HeapType, NanPattern, V128Const, V128Pattern, WastArgCore, WastRetCore,
};
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

/// A `v128` result: exact bits, or float lanes of which some are NaN
/// patterns.
fn v128_pattern(v: &V128Pattern) -> Pattern {
    // Float lanes as their bits; integer shapes are exact as a whole.
    let (ty, width, lanes): (u8, u32, Vec<NanPattern<u128>>) = match v {
        V128Pattern::F32x4(l) => (
            valtype::F32,
            32,
            l.iter().map(|p| lane_bits(p, |f| f.bits.into())).collect(),
        ),
        V128Pattern::F64x2(l) => (
            valtype::F64,
            64,
            l.iter().map(|p| lane_bits(p, |f| f.bits.into())).collect(),
        ),
        V128Pattern::I8x16(l) => return exact_v128(V128Const::I8x16(*l)),
        V128Pattern::I16x8(l) => return exact_v128(V128Const::I16x8(*l)),
        V128Pattern::I32x4(l) => return exact_v128(V128Const::I32x4(*l)),
        V128Pattern::I64x2(l) => return exact_v128(V128Const::I64x2(*l)),
    };
    let (mut bits, mut canonical, mut arithmetic) = (0u128, 0u8, 0u8);
    for (i, lane) in lanes.iter().enumerate() {
        match lane {
            NanPattern::Value(b) => bits |= b << (i as u32 * width),
            NanPattern::CanonicalNan => canonical |= 1 << i,
            NanPattern::ArithmeticNan => arithmetic |= 1 << i,
        }
    }
    if canonical == 0 && arithmetic == 0 {
        return Pattern::Exact(Value {
            ty: valtype::V128,
            bits,
        });
    }
    Pattern::Lanes {
        ty,
        bits,
        canonical,
        arithmetic,
    }
}

fn exact_v128(v: V128Const) -> Pattern {
    Pattern::Exact(Value {
        ty: valtype::V128,
        bits: u128::from_le_bytes(v.to_le_bytes()),
    })
}

/// A float lane pattern with the lane's value as bits.
fn lane_bits<T>(p: &NanPattern<T>, bits: impl Fn(&T) -> u128) -> NanPattern<u128> {
    match p {
        NanPattern::Value(f) => NanPattern::Value(bits(f)),
        NanPattern::CanonicalNan => NanPattern::CanonicalNan,
        NanPattern::ArithmeticNan => NanPattern::ArithmeticNan,
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
