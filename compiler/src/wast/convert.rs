//! Conversions from the `wast` crate's directives to script commands:
//! arguments, expected results and trap messages.

use kiln_runtime::abi::{TrapKind, valtype};
use kiln_runtime::wast::script::{Command, Expect, Pattern, Value};
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
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
            bits: *v as u32 as u64,
        },
        WastArgCore::I64(v) => Value {
            ty: valtype::I64,
            bits: *v as u64,
        },
        WastArgCore::F32(f) => Value {
            ty: valtype::F32,
            bits: f.bits as u64,
        },
        WastArgCore::F64(f) => Value {
            ty: valtype::F64,
            bits: f.bits,
        },
        WastArgCore::RefNull(ty) => Value {
            ty: heap_type(ty),
            bits: 0,
        },
        // Host references are opaque non-zero values: n + 1 (0 is null).
        WastArgCore::RefExtern(n) => Value {
            ty: valtype::EXTERNREF,
            bits: *n as u64 + 1,
        },
        other => return Err(format!("unsupported argument {other:?} (SIMD or GC)")),
    })
}

fn pattern(r: &WastRet<'_>) -> Result<Pattern, String> {
    let WastRet::Core(core) = r else {
        return Err("component-model result".into());
    };
    Ok(match core {
        WastRetCore::I32(v) => Pattern::Exact(Value {
            ty: valtype::I32,
            bits: *v as u32 as u64,
        }),
        WastRetCore::I64(v) => Pattern::Exact(Value {
            ty: valtype::I64,
            bits: *v as u64,
        }),
        WastRetCore::F32(NanPattern::Value(f)) => Pattern::Exact(Value {
            ty: valtype::F32,
            bits: f.bits as u64,
        }),
        WastRetCore::F32(NanPattern::CanonicalNan) => Pattern::CanonicalNan { ty: valtype::F32 },
        WastRetCore::F32(NanPattern::ArithmeticNan) => Pattern::ArithmeticNan { ty: valtype::F32 },
        WastRetCore::F64(NanPattern::Value(f)) => Pattern::Exact(Value {
            ty: valtype::F64,
            bits: f.bits,
        }),
        WastRetCore::F64(NanPattern::CanonicalNan) => Pattern::CanonicalNan { ty: valtype::F64 },
        WastRetCore::F64(NanPattern::ArithmeticNan) => Pattern::ArithmeticNan { ty: valtype::F64 },
        WastRetCore::RefNull(ty) => Pattern::RefNull {
            ty: ty.as_ref().map_or(0, heap_type),
        },
        WastRetCore::RefExtern(Some(n)) => Pattern::Exact(Value {
            ty: valtype::EXTERNREF,
            bits: *n as u64 + 1,
        }),
        WastRetCore::RefExtern(None) => Pattern::RefNonNull {
            ty: valtype::EXTERNREF,
        },
        WastRetCore::RefFunc(_) => Pattern::RefNonNull {
            ty: valtype::FUNCREF,
        },
        other => return Err(format!("unsupported result {other:?} (SIMD or GC)")),
    })
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
