//! The spec-test driver that runs inside a firmware: executes the encoded
//! script of one `.wast` file against the modules linked beside it and
//! reports over the console, one line per failure and a summary:
//!
//! ```text
//! kiln-wast: FAIL line 123: expected i32 5, got i32 4
//! kiln-wast: 812 passed, 1 failed
//! ```
//!
//! Only assertions are counted; a module, register or action directive that
//! fails is reported and counted as a failure as well.

pub mod script;
mod spectest;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::abi::{self, AppManifest, ModuleDescriptor, TrapKind, valtype};
use crate::board::{Board, Stream};
use crate::console::Console;
use crate::instance::{Bytes, Extern, Instance, InstantiateError, Resolve};
use script::{Command, Decoder, Expect, Pattern, Value};
use spectest::Spectest;

/// Prefix of every line the driver prints.
pub const PREFIX: &str = "kiln-wast: ";

/// Runs the script in `manifest` and returns the exit status (0 when every
/// assertion passed, 1 otherwise).
pub fn run_script<B: Board>(board: &mut B, manifest: &'static AppManifest) -> u32 {
    // SAFETY: the manifest is static data written by `kiln wast`.
    let script = unsafe { manifest.script.as_slice() };
    let modules = unsafe { manifest.modules.as_slice() };
    let stack_limit = board.stack_limit();
    let mut driver = Driver {
        board,
        modules,
        stack_limit,
        instances: Vec::new(),
        named: Vec::new(),
        registered: Vec::new(),
        current: None,
        spectest: Spectest::new(),
        passed: 0,
        failed: 0,
    };
    let outcome = Decoder::new(script).and_then(|mut decoder| {
        while let Some(command) = decoder.next_command()? {
            driver.run(&command);
        }
        Ok(())
    });
    let (passed, failed) = (driver.passed, driver.failed);
    let mut out = Console::new(driver.board, Stream::Stdout);
    if outcome.is_err() {
        let _ = writeln!(
            out,
            "{PREFIX}error: the test script in this firmware is corrupt"
        );
        return abi::exit_status::LOAD_ERROR;
    }
    let _ = writeln!(out, "{PREFIX}{passed} passed, {failed} failed");
    (failed != 0) as u32
}

struct Driver<'a, B: Board> {
    board: &'a mut B,
    modules: &'static [*const ModuleDescriptor],
    stack_limit: usize,
    /// Every instance made so far; kept alive for the whole script because
    /// later instances may import from them.
    #[allow(clippy::vec_box)] // instances must not move: compiled code points into them
    instances: Vec<Box<Instance>>,
    /// `$name` → index into `instances`.
    named: Vec<(&'static [u8], usize)>,
    /// `register` name → index into `instances`.
    registered: Vec<(&'static [u8], usize)>,
    current: Option<usize>,
    spectest: Spectest,
    passed: u32,
    failed: u32,
}

/// Imports of a test module: `spectest` and registered instances.
struct Imports<'d> {
    spectest: &'d mut Spectest,
    registered: &'d [(&'static [u8], usize)],
    instances: &'d [Box<Instance>],
}

impl Resolve for Imports<'_> {
    fn resolve(&mut self, module: &[u8], name: &[u8]) -> Option<Extern> {
        if let Some((_, index)) = self.registered.iter().rev().find(|(n, _)| *n == module) {
            return self.instances[*index].export(name);
        }
        if module == b"spectest" {
            return self.spectest.export(name);
        }
        None
    }
}

impl<B: Board> Driver<'_, B> {
    fn fail(&mut self, line: u32, message: core::fmt::Arguments<'_>) {
        self.failed += 1;
        let _ = writeln!(
            Console::new(self.board, Stream::Stdout),
            "{PREFIX}FAIL line {line}: {message}"
        );
    }

    fn instantiate(&mut self, module: u32) -> Result<Box<Instance>, InstantiateError> {
        let Some(&descriptor) = self.modules.get(module as usize) else {
            return Err(InstantiateError::BadDescriptor { found_version: 0 });
        };
        // SAFETY: module pointers in the manifest are static descriptors.
        let descriptor: &'static ModuleDescriptor = unsafe { &*descriptor };
        let mut imports = Imports {
            spectest: &mut self.spectest,
            registered: &self.registered,
            instances: &self.instances,
        };
        Instance::new(
            descriptor,
            &mut imports,
            core::ptr::null_mut(),
            self.stack_limit,
        )
    }

    /// The instance named `name`, or the current one when `name` is empty.
    fn instance(&self, name: &[u8]) -> Option<usize> {
        if name.is_empty() {
            return self.current;
        }
        self.named
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, i)| *i)
    }

    fn run(&mut self, command: &Command<'static>) {
        match command {
            Command::Module {
                module: script::NO_MODULE,
                ..
            } => self.current = None,
            Command::Module { line, module, name } => match self.instantiate(*module) {
                Ok(instance) => {
                    self.instances.push(instance);
                    let index = self.instances.len() - 1;
                    self.current = Some(index);
                    if !name.is_empty() {
                        self.named.push((name, index));
                    }
                }
                Err(e) => {
                    self.current = None;
                    self.fail(*line, format_args!("module failed to instantiate: {e}"));
                }
            },
            Command::Register {
                line,
                as_name,
                instance,
            } => match self.instance(instance) {
                Some(index) => self.registered.push((as_name, index)),
                None => self.fail(
                    *line,
                    format_args!("register: no instance {}", Bytes(instance)),
                ),
            },
            Command::Invoke {
                line,
                instance,
                func,
                args,
                expect,
            } => self.invoke(*line, instance, func, args, expect),
            Command::Get {
                line,
                instance,
                global,
                expect,
            } => self.get(*line, instance, global, expect),
            Command::Unlinkable { line, module } => match self.instantiate(*module) {
                Err(InstantiateError::Link { .. }) => self.passed += 1,
                Err(e) => self.fail(*line, format_args!("expected a link error, got: {e}")),
                Ok(_) => self.fail(
                    *line,
                    format_args!("expected a link error, but the module instantiated"),
                ),
            },
            Command::Uninstantiable { line, module, trap } => match self.instantiate(*module) {
                Err(InstantiateError::Trap(t)) if t.kind as u8 == *trap => self.passed += 1,
                Err(e) => self.fail(
                    *line,
                    format_args!("expected trap \"{}\", got: {e}", trap_message(*trap)),
                ),
                Ok(_) => self.fail(
                    *line,
                    format_args!(
                        "expected trap \"{}\", but the module instantiated",
                        trap_message(*trap)
                    ),
                ),
            },
        }
    }

    fn invoke(&mut self, line: u32, instance: &[u8], func: &[u8], args: &[Value], expect: &Expect) {
        let Some(index) = self.instance(instance) else {
            return self.fail(
                line,
                format_args!("invoke {}: no such instance", Bytes(func)),
            );
        };
        let Some(f) = self.instances[index].export_func(func) else {
            return self.fail(
                line,
                format_args!("no exported function \"{}\"", Bytes(func)),
            );
        };
        if f.params.len() != args.len() {
            return self.fail(
                line,
                format_args!(
                    "\"{}\" takes {} arguments, the script gives {}",
                    Bytes(func),
                    f.params.len(),
                    args.len()
                ),
            );
        }
        let count = abi::slots_of(f.params).max(abi::slots_of(f.results)).max(1);
        let mut values = alloc::vec![0u64; count];
        // Each value fills its slots from the low 64 bits up.
        let mut at = 0;
        for (&ty, arg) in f.params.iter().zip(args) {
            for (k, slot) in values[at..at + abi::value_slots(ty)].iter_mut().enumerate() {
                *slot = (arg.bits >> (64 * k)) as u64;
            }
            at += abi::value_slots(ty);
        }
        let outcome = self.instances[index].call(&f, &mut values);
        let mut at = 0;
        let results: Vec<(u8, u128)> = f
            .results
            .iter()
            .map(|&ty| {
                let slots = &values[at..at + abi::value_slots(ty)];
                at += slots.len();
                let bits = slots
                    .iter()
                    .enumerate()
                    .fold(0u128, |acc, (k, s)| acc | u128::from(*s) << (64 * k));
                (ty, bits)
            })
            .collect();
        self.check(line, outcome.map(|()| results).map_err(|t| t.kind), expect);
    }

    fn get(&mut self, line: u32, instance: &[u8], global: &[u8], expect: &Expect) {
        let value = self
            .instance(instance)
            .and_then(|i| self.instances[i].export(global));
        match value {
            Some(Extern::Global { cell, ty, .. }) => {
                // SAFETY: exported global cells live as long as their instance.
                let bits = unsafe { (*cell).value() };
                self.check(line, Ok(alloc::vec![(ty, bits)]), expect)
            }
            _ => self.fail(
                line,
                format_args!("no exported global \"{}\"", Bytes(global)),
            ),
        }
    }

    fn check(&mut self, line: u32, outcome: Result<Vec<(u8, u128)>, TrapKind>, expect: &Expect) {
        match (expect, outcome) {
            (Expect::Nothing, Ok(_)) => {}
            (Expect::Nothing, Err(kind)) => {
                self.fail(line, format_args!("unexpected trap: {}", kind.message()))
            }
            (Expect::Return(patterns), Ok(results)) => {
                let ok = patterns.len() == results.len()
                    && patterns
                        .iter()
                        .zip(&results)
                        .all(|(p, (ty, bits))| matches(p, *ty, *bits));
                if ok {
                    self.passed += 1;
                } else {
                    self.fail(
                        line,
                        format_args!("expected {}, got {}", Patterns(patterns), Results(&results)),
                    );
                }
            }
            (Expect::Return(patterns), Err(kind)) => self.fail(
                line,
                format_args!(
                    "expected {}, got trap: {}",
                    Patterns(patterns),
                    kind.message()
                ),
            ),
            (Expect::Trap(want), Err(kind)) if kind as u8 == *want => self.passed += 1,
            (Expect::Exhaustion, Err(TrapKind::StackOverflow)) => self.passed += 1,
            (Expect::Trap(want), outcome) => self.fail(
                line,
                format_args!(
                    "expected trap \"{}\", got {}",
                    trap_message(*want),
                    Outcome(&outcome)
                ),
            ),
            (Expect::Exhaustion, outcome) => self.fail(
                line,
                format_args!("expected stack exhaustion, got {}", Outcome(&outcome)),
            ),
        }
    }
}

fn trap_message(code: u8) -> &'static str {
    TrapKind::from_u8(code).map_or("unknown", TrapKind::message)
}

/// Whether float `bits` of type `ty` (`F32` or `F64`) are a canonical NaN
/// (`canonical`) or an arithmetic NaN.
fn is_nan(ty: u8, bits: u64, canonical: bool) -> bool {
    match (ty, canonical) {
        (valtype::F32, true) => bits as u32 & 0x7fff_ffff == 0x7fc0_0000,
        (valtype::F32, false) => bits as u32 & 0x7fc0_0000 == 0x7fc0_0000,
        (_, true) => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        (_, false) => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
    }
}

/// Does a result of type `ty` with `bits` match `pattern`?
fn matches(pattern: &Pattern, ty: u8, bits: u128) -> bool {
    match *pattern {
        Pattern::Exact(v) => {
            v.ty == ty
                && match ty {
                    valtype::I32 | valtype::F32 => v.bits as u32 == bits as u32,
                    valtype::V128 => v.bits == bits,
                    _ => v.bits as u64 == bits as u64,
                }
        }
        Pattern::CanonicalNan { ty: want } => ty == want && is_nan(ty, bits as u64, true),
        Pattern::ArithmeticNan { ty: want } => ty == want && is_nan(ty, bits as u64, false),
        Pattern::RefNull { ty: want } => (want == 0 || ty == want) && bits == 0,
        Pattern::RefNonNull { ty: want } => ty == want && bits != 0,
        Pattern::Lanes {
            ty: lane_ty,
            bits: want,
            canonical,
            arithmetic,
        } => {
            let width = if lane_ty == valtype::F32 { 32 } else { 64 };
            let mask = (1u128 << width) - 1;
            ty == valtype::V128
                && (0..128 / width).all(|i| {
                    let lane = (bits >> (i * width)) & mask;
                    if canonical & (1 << i) != 0 {
                        is_nan(lane_ty, lane as u64, true)
                    } else if arithmetic & (1 << i) != 0 {
                        is_nan(lane_ty, lane as u64, false)
                    } else {
                        lane == (want >> (i * width)) & mask
                    }
                })
        }
    }
}

/// Writes a value as `i32 5`, `f32 0x7fc00000`, `ref.null`, `ref.extern 3`,
/// `v128 0x...` (the 16 bytes as one little-endian number).
fn write_value(f: &mut core::fmt::Formatter<'_>, ty: u8, bits: u128) -> core::fmt::Result {
    if ty == valtype::V128 {
        return write!(f, "v128 {bits:#034x}");
    }
    let bits = bits as u64;
    match ty {
        valtype::I32 => write!(f, "i32 {}", bits as u32 as i32),
        valtype::I64 => write!(f, "i64 {}", bits as i64),
        valtype::F32 => write!(f, "f32 {:#010x}", bits as u32),
        valtype::F64 => write!(f, "f64 {bits:#018x}"),
        _ if bits == 0 => write!(f, "{} null", valtype::name(ty)),
        valtype::EXTERNREF => write!(f, "ref.extern {}", bits - 1),
        _ => write!(f, "{} {bits:#x}", valtype::name(ty)),
    }
}

struct Patterns<'a>(&'a [Pattern]);

impl core::fmt::Display for Patterns<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("(")?;
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match p {
                Pattern::Exact(v) => write_value(f, v.ty, v.bits)?,
                Pattern::CanonicalNan { ty } => write!(f, "{} nan:canonical", valtype::name(*ty))?,
                Pattern::ArithmeticNan { ty } => {
                    write!(f, "{} nan:arithmetic", valtype::name(*ty))?
                }
                Pattern::RefNull { ty: 0 } => f.write_str("ref.null")?,
                Pattern::RefNull { ty } => write!(f, "{} null", valtype::name(*ty))?,
                Pattern::RefNonNull { ty } => write!(f, "non-null {}", valtype::name(*ty))?,
                Pattern::Lanes {
                    ty,
                    bits,
                    canonical,
                    arithmetic,
                } => write!(
                    f,
                    "v128 {bits:#034x} with {} NaN lanes (canonical {canonical:#b}, arithmetic {arithmetic:#b})",
                    valtype::name(*ty)
                )?,
            }
        }
        f.write_str(")")
    }
}

struct Results<'a>(&'a [(u8, u128)]);

impl core::fmt::Display for Results<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("(")?;
        for (i, (ty, bits)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_value(f, *ty, *bits)?;
        }
        f.write_str(")")
    }
}

struct Outcome<'a>(&'a Result<Vec<(u8, u128)>, TrapKind>);

impl core::fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Ok(results) => write!(f, "{}", Results(results)),
            Err(kind) => write!(f, "trap: {}", kind.message()),
        }
    }
}
