//! Spec-test scripts (`.wast`) through the real pipeline: every module is
//! compiled to an object, all of a script's objects are linked into one
//! firmware with the encoded script, and the driver inside the firmware
//! (`kiln_runtime::wast`) runs it on the board: one boot per script.
//!
//! Directives about modules that must not compile (`assert_invalid`,
//! `assert_malformed`) are decided here, on the host.

mod convert;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use kiln_runtime::abi::{self, TrapKind};
use kiln_runtime::wast::script::{self, Command, Encoder, Expect};
use rayon::prelude::*;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, Wat};

use crate::CodegenOptions;
use crate::board::{self, Board};
use crate::firmware::{self, Manifest};

/// Outcome of one script.
#[derive(Default, Debug)]
pub struct Report {
    pub passed: u32,
    pub failed: u32,
    /// One line per failure: `FILE:LINE: message`.
    pub failures: Vec<String>,
}

impl Report {
    fn fail(&mut self, file: &str, line: u32, message: impl std::fmt::Display) {
        self.failed += 1;
        self.failures.push(format!("{file}:{line}: {message}"));
    }
}

/// What a directive turns into before the modules are compiled.
enum Step {
    /// Instantiate module `module` (index into the script's modules).
    Module {
        line: u32,
        module: usize,
        name: String,
    },
    /// A command for the firmware that names no module.
    Command(Command<'static>),
    Unlinkable {
        line: u32,
        module: usize,
    },
    Uninstantiable {
        line: u32,
        module: usize,
        trap: u8,
    },
    /// The module must be rejected (invalid or malformed).
    Reject {
        line: u32,
        module: Result<Vec<u8>, String>,
        what: &'static str,
    },
    /// A directive Kiln cannot run, reported as a failure.
    Unsupported {
        line: u32,
        message: String,
    },
}

/// Runs one `.wast` file on `board`.
pub fn run_file(
    path: &Path,
    board: &Board,
    codegen: &CodegenOptions,
    timeout: Duration,
) -> Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The suite tests names made of any Unicode, confusing or not.
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let wast: Wast<'_> = parser::parse(&buf).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let line_of = |span: wast::token::Span| span.linecol_in(&text).0 as u32 + 1;

    // 1. Directives to steps; module binaries collected for compilation.
    let mut modules: Vec<Result<Vec<u8>, String>> = Vec::new();
    let mut definitions: HashMap<String, usize> = HashMap::new();
    let mut steps = Vec::new();
    let mut add = |m: Result<Vec<u8>, String>| {
        modules.push(m);
        modules.len() - 1
    };
    for directive in wast.directives {
        let line = line_of(directive.span());
        match directive {
            WastDirective::Module(mut m) => {
                let name = m.name().map(|id| id.name().to_string()).unwrap_or_default();
                let module = add(encode(&mut m));
                steps.push(Step::Module { line, module, name });
            }
            WastDirective::ModuleDefinition(mut m) => {
                let module = add(encode(&mut m));
                if let Some(id) = m.name() {
                    definitions.insert(id.name().to_string(), module);
                }
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => match module.and_then(|m| definitions.get(m.name()).copied()) {
                Some(module) => steps.push(Step::Module {
                    line,
                    module,
                    name: instance.map(|i| i.name().to_string()).unwrap_or_default(),
                }),
                None => steps.push(Step::Unsupported {
                    line,
                    message: "module instance of an unknown definition".into(),
                }),
            },
            WastDirective::Register { name, module, .. } => {
                steps.push(Step::Command(Command::Register {
                    line,
                    as_name: leak(name.as_bytes()),
                    instance: leak(module.map(|m| m.name()).unwrap_or("").as_bytes()),
                }))
            }
            WastDirective::Invoke(invoke) => {
                steps.push(convert::invoke(line, &invoke, Expect::Nothing))
            }
            WastDirective::AssertReturn { exec, results, .. } => match convert::results(&results) {
                Ok(patterns) => steps.push(convert::execute(
                    line,
                    exec,
                    Expect::Return(patterns),
                    &mut add,
                )),
                Err(message) => steps.push(Step::Unsupported { line, message }),
            },
            WastDirective::AssertTrap { exec, message, .. } => match convert::trap_kind(message) {
                Some(kind) => match exec {
                    WastExecute::Wat(mut wat) => {
                        let module = add(encode_wat(&mut wat));
                        steps.push(Step::Uninstantiable {
                            line,
                            module,
                            trap: kind as u8,
                        });
                    }
                    exec => steps.push(convert::execute(
                        line,
                        exec,
                        Expect::Trap(kind as u8),
                        &mut add,
                    )),
                },
                None => steps.push(Step::Unsupported {
                    line,
                    message: format!("unknown trap message \"{message}\""),
                }),
            },
            WastDirective::AssertExhaustion { call, .. } => {
                steps.push(convert::invoke(line, &call, Expect::Exhaustion))
            }
            WastDirective::AssertUnlinkable { mut module, .. } => {
                let module = add(encode_wat(&mut module));
                steps.push(Step::Unlinkable { line, module });
            }
            WastDirective::AssertInvalid { mut module, .. } => steps.push(Step::Reject {
                line,
                module: encode(&mut module),
                what: "an invalid",
            }),
            WastDirective::AssertMalformed { mut module, .. } => steps.push(Step::Reject {
                line,
                module: encode(&mut module),
                what: "a malformed",
            }),
            other => steps.push(Step::Unsupported {
                line,
                message: format!("directive not supported: {other:?}")
                    .chars()
                    .take(80)
                    .collect(),
            }),
        }
    }

    // 2. Compile every module that must instantiate, in parallel.
    let target = board.compile_target.clone();
    let objects: Vec<Result<PathBuf, String>> = modules
        .par_iter()
        .enumerate()
        .map(|(k, m)| match m {
            Ok(bytes) => {
                firmware::compile_cached(bytes, &target, &module_symbol(k), codegen, &|_, _| {})
                    .map_err(|e| format!("{e:#}"))
            }
            Err(e) => Err(e.clone()),
        })
        .collect();

    // 3. Steps to the script; host-side verdicts into the report.
    let mut report = Report::default();
    let mut encoder = Encoder::new();
    let mut assertions = 0u32;
    let ready = |k: usize, line: u32, report: &mut Report| -> Option<u32> {
        match &objects[k] {
            Ok(_) => Some(k as u32),
            Err(e) => {
                report.fail(&file, line, format!("module failed to compile: {e}"));
                None
            }
        }
    };
    for step in steps {
        match step {
            Step::Module { line, module, name } => {
                let module = ready(module, line, &mut report).unwrap_or(script::NO_MODULE);
                encoder.push(&Command::Module {
                    line,
                    module,
                    name: leak(name.as_bytes()),
                });
            }
            Step::Command(c) => {
                assertions += is_assertion(&c) as u32;
                encoder.push(&c);
            }
            Step::Unlinkable { line, module } => {
                if let Some(module) = ready(module, line, &mut report) {
                    assertions += 1;
                    encoder.push(&Command::Unlinkable { line, module });
                }
            }
            Step::Uninstantiable { line, module, trap } => {
                if let Some(module) = ready(module, line, &mut report) {
                    assertions += 1;
                    encoder.push(&Command::Uninstantiable { line, module, trap });
                }
            }
            Step::Reject { line, module, what } => match module {
                Err(_) => report.passed += 1,
                Ok(bytes) => match crate::module::ModuleInfo::parse(&bytes) {
                    Err(_) => report.passed += 1,
                    Ok(_) => report.fail(
                        &file,
                        line,
                        format!("expected {what} module, but it was accepted"),
                    ),
                },
            },
            Step::Unsupported { line, message } => report.fail(&file, line, message),
        }
    }
    if encoder.is_empty() {
        return Ok(report);
    }

    // 4. One firmware for the script; run it and read its report.
    let linked: Vec<(usize, PathBuf)> = objects
        .into_iter()
        .enumerate()
        .filter_map(|(k, o)| o.ok().map(|p| (k, p)))
        .collect();
    let max_index = linked.iter().map(|(k, _)| *k + 1).max().unwrap_or(0);
    // Module indexes in the script are positions in the manifest: modules
    // that failed to compile keep their slot, pointing at the first object.
    let symbols: Vec<String> = (0..max_index)
        .map(|k| {
            if linked.iter().any(|(i, _)| *i == k) {
                module_symbol(k)
            } else {
                module_symbol(linked[0].0)
            }
        })
        .collect();
    let manifest = Manifest {
        mode: abi::app_mode::WAST,
        flags: 0,
        modules: symbols,
        args: Vec::new(),
        env: Vec::new(),
        folders: Vec::new(),
        files: false,
        script: encoder.finish(),
        deadline_ms: 0,
    };
    let paths: Vec<PathBuf> = linked.into_iter().map(|(_, p)| p).collect();
    let firmware = firmware::link_cached(board, &paths, &manifest)?;
    let outcome = board::run::run(
        board,
        &firmware,
        &board::run::Invocation {
            capture: true,
            timeout: Some(timeout),
            ..Default::default()
        },
    )?;
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    let mut summary = None;
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix(kiln_runtime::wast::PREFIX) else {
            continue;
        };
        if let Some(failure) = rest.strip_prefix("FAIL line ") {
            report.failures.push(format!("{file}:{failure}"));
        } else if let Some((p, f)) = rest.split_once(" passed, ") {
            let f = f.trim_end_matches(" failed");
            summary = p.parse::<u32>().ok().zip(f.parse::<u32>().ok());
        }
    }
    match summary {
        Some((p, f)) => {
            report.passed += p;
            report.failed += f;
        }
        None => {
            let why = if outcome.timed_out {
                format!("timed out after {}s", timeout.as_secs())
            } else {
                let stderr = String::from_utf8_lossy(&outcome.stderr);
                let last = stderr.lines().last().unwrap_or("").to_string();
                format!("exit status {}: {last}", outcome.status)
            };
            report.failed += assertions;
            report.failures.push(format!("{file}: the firmware stopped before its report ({why}); {assertions} assertions counted as failed"));
        }
    }
    Ok(report)
}

/// Descriptor symbol of the script's `k`th module.
fn module_symbol(k: usize) -> String {
    format!("kiln_m{k}")
}

fn is_assertion(c: &Command<'_>) -> bool {
    match c {
        Command::Invoke { expect, .. } | Command::Get { expect, .. } => *expect != Expect::Nothing,
        Command::Unlinkable { .. } | Command::Uninstantiable { .. } => true,
        Command::Module { .. } | Command::Register { .. } => false,
    }
}

fn encode(m: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    m.encode().map_err(|e| e.to_string())
}

fn encode_wat(m: &mut Wat<'_>) -> Result<Vec<u8>, String> {
    m.encode().map_err(|e| e.to_string())
}

/// Strings in script commands live as long as the run; scripts are small.
fn leak(bytes: &[u8]) -> &'static [u8] {
    Box::leak(bytes.to_vec().into_boxed_slice())
}

/// The trap kind a spec message names.
pub fn trap_kind_of(message: &str) -> Option<TrapKind> {
    convert::trap_kind(message)
}
