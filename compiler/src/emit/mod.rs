//! From a parsed module to a relocatable object: declares one symbol per
//! function, translates and compiles the defined functions in parallel,
//! adds the import adapters and export trampolines, and writes the module
//! descriptor.
//!
//! Symbol layout: `FuncId(i)` is Wasm function `i` (its import adapter for
//! imports), so relocations from translated code name functions by index.
//! Only the descriptor symbol is global; everything else is local, so any
//! number of modules can be linked into one firmware.

pub mod blob;
pub mod descriptor;
mod layout;
mod trampoline;

use std::collections::HashMap;

use anyhow::{Context as _, Result, anyhow};
use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{FuncId, Linkage, Module, ModuleReloc};
use cranelift_object::{ObjectBuilder, ObjectModule};
use rayon::prelude::*;

use crate::module::ModuleInfo;
use crate::target::{Target, Tier};
use crate::translate::{self, ModuleEnv, Vectorize, anchors::Encoding, environ};
use descriptor::FuncCode;

/// Machine code of one function, ready to be defined in the object.
struct Compiled {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
    traps: Vec<(u32, u8)>,
    /// Where in a fetch window the code would rather start (offset modulo
    /// `alignment`), for its loops (see layout.rs), and the alignment the
    /// code itself needs then.
    start: Option<u32>,
    start_alignment: u64,
}

/// Statistics of one compilation.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub functions: usize,
    pub code_bytes: usize,
}

/// Compiles `module` for `target`; returns the object file and statistics.
pub fn emit_object(
    module: &ModuleInfo<'_>,
    wasm_sha256: [u8; 32],
    target: &Target,
    name: &str,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<u8>, Stats)> {
    let isa = target.isa.clone();
    let builder = ObjectBuilder::new(isa.clone(), name, cranelift_module::default_libcall_names())
        .context("creating the object")?;
    let mut object = ObjectModule::new(builder);
    let (riscv64, encoding) = match isa.triple().architecture {
        target_lexicon::Architecture::Riscv64(_) => (true, Some(Encoding::Riscv64)),
        target_lexicon::Architecture::Aarch64(_) => (false, Some(Encoding::Aarch64)),
        _ => (false, None),
    };
    // Small leaf functions are inlined into direct callers (see
    // translate/inline.rs).
    let candidates = match target.options.enabled("inline") {
        true => translate::inline::candidates(module),
        false => vec![false; module.funcs.len()],
    };
    let env = ModuleEnv {
        module,
        call_conv: isa.default_call_conv(),
        frontend_config: isa.frontend_config(),
        bounds_checks: target.bounds_checks,
        forward_memory: target.options.enabled("known"),
        elide_checks: target.options.enabled("checks"),
        signed_index: target.options.enabled("sext"),
        wide_compares: riscv64 && target.options.enabled("cmp64"),
        anchor_offsets: encoding.filter(|_| target.options.enabled("anchor")),
        anchor_globals: target.options.enabled("globals"),
        pin_locals: target.options.enabled("pin"),
        vectorize: match target.options.enabled("vector") {
            true => vectorize(isa.as_ref()),
            false => Vectorize::Off,
        },
        isa_flags: &target.isa_flags,
        // An inlined body's loads would move into callers that may grow.
        memory_fixed: match target.bounds_checks {
            crate::target::BoundsChecks::Explicit if target.options.enabled("grow") => {
                let grows = translate::growth::may_grow(module);
                grows
                    .iter()
                    .zip(&candidates)
                    .map(|(g, c)| !g && !c)
                    .collect()
            }
            _ => Vec::new(),
        },
        inline_candidates: candidates,
    };

    let tier = tiers(target, &wasm_sha256)?;
    let loop_constants = encoding.filter(|_| target.options.enabled("loopconst"));
    let divisions = target.options.enabled("divide");
    let extended_loads = riscv64 && target.options.enabled("sload");

    // FuncId(i) = Wasm function i.
    let mut ids = Vec::with_capacity(module.funcs.len());
    for i in 0..module.funcs.len() as u32 {
        let sig = environ::wasm_signature(module.func_type(i), env.call_conv);
        let symbol = if module.is_imported_func(i) {
            format!("{name}.import{i}")
        } else {
            format!("{name}.f{i}")
        };
        let id = object.declare_function(&symbol, Linkage::Local, &sig)?;
        debug_assert_eq!(id.as_u32(), i);
        ids.push(id);
    }

    let timer = Timer::new();
    let translate = |fbc: &mut FunctionBuilderContext, index: u32| {
        let body = &module.bodies[(index - module.num_imported_funcs) as usize];
        guarded(|| translate::translate_function(&env, index, body, fbc))
            .with_context(|| function_label(module, index))
    };

    // The candidates are translated first, for their callers to inline.
    let inlined: Vec<Option<ir::Function>> = (0..module.funcs.len() as u32)
        .into_par_iter()
        .map_init(FunctionBuilderContext::new, |fbc, index| {
            env.inline_candidates[index as usize]
                .then(|| translate(fbc, index))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let inliner = translate::inline::Inliner { bodies: &inlined };
    timer.lap("translate inline candidates (parallel)");

    // Defined functions, in parallel, largest first so that no big
    // function starts last and leaves the other cores idle at the end.
    let defined: Vec<u32> = (module.num_imported_funcs..module.funcs.len() as u32).collect();
    let body_size = |index: u32| {
        let r = module.bodies[(index - module.num_imported_funcs) as usize].range();
        r.end - r.start
    };
    let mut order = defined.clone();
    order.sort_by_key(|&i| std::cmp::Reverse(body_size(i)));
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = defined.len();
    let passes = std::sync::Mutex::new(PassStats::default());
    // The fast tier's own code generator, where it covers the target.
    let baseline = crate::baseline::backend(target);
    let declined = Declined::default();
    // `KILN_CLIF=N` prints function N's IR as translated (for compiler work).
    let dump_clif: Option<u32> = std::env::var("KILN_CLIF").ok().and_then(|v| v.parse().ok());
    let mut compiled: Vec<(u32, Compiled)> = order
        .par_iter()
        .map_init(
            || (FunctionBuilderContext::new(), Context::new()),
            |(fbc, ctx), &index| {
                let started = std::time::Instant::now();
                if let (Some(backend), Tier::Fast) = (baseline, tier(index)) {
                    let body = &module.bodies[(index - module.num_imported_funcs) as usize];
                    let code = guarded(|| crate::baseline::compile(backend, &env, index, body))
                        .with_context(|| function_label(module, index))?;
                    match code {
                        Ok(code) => {
                            declined.record(None);
                            progress(
                                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                                total,
                            );
                            return Ok((index, from_baseline(code, &*isa)));
                        }
                        Err(why) => declined.record(Some(why)),
                    }
                }
                let func = match &inlined[index as usize] {
                    Some(f) => f.clone(),
                    None => translate(fbc, index)?,
                };
                let translated = started.elapsed();
                if dump_clif == Some(index) {
                    eprintln!("{}", func.display());
                }
                // Inlining pays only where the code runs often.
                let out = match tier(index) {
                    Tier::Optimized => compile(
                        ctx,
                        func,
                        &*isa,
                        FuncId::from_u32(index),
                        Some(Optimize {
                            inliner: &inliner,
                            loop_constants,
                            divisions,
                            extended_loads,
                        }),
                    ),
                    Tier::Fast => {
                        compile(ctx, func, &*target.fast_isa, FuncId::from_u32(index), None)
                    }
                }
                .with_context(|| function_label(module, index));
                if timer.enabled {
                    let times = cranelift_codegen::timing::take_current();
                    if let Ok(mut p) = passes.lock() {
                        p.record(
                            index,
                            body_size(index) as usize,
                            translated,
                            started.elapsed(),
                            &times,
                        );
                    }
                }
                progress(
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                    total,
                );
                out.map(|c| (index, c))
            },
        )
        .collect::<Result<_>>()?;
    compiled.sort_unstable_by_key(|(index, _)| *index);
    drop(inlined);
    let compiled: Vec<Compiled> = compiled.into_iter().map(|(_, c)| c).collect();
    timer.lap("translate+codegen (parallel)");
    if let (true, Ok(p)) = (timer.enabled, passes.lock()) {
        p.print(module);
        declined.print();
    }

    let mut funcs: Vec<FuncCode> = Vec::with_capacity(module.funcs.len());
    let mut fbc = FunctionBuilderContext::new();
    let mut ctx = Context::new();
    let mut stats = Stats::default();
    let mut text = layout::Text::new(&*isa);
    // Import adapters.
    for i in 0..module.num_imported_funcs {
        let func = trampoline::import_adapter(&env, i, &mut fbc)?;
        let c = compile(&mut ctx, func, &*isa, ids[i as usize], None)?;
        funcs.push(define(
            &mut object,
            &mut text,
            ids[i as usize],
            c,
            &mut stats,
        )?);
    }
    for (index, c) in defined.iter().zip(compiled) {
        funcs.push(define(
            &mut object,
            &mut text,
            ids[*index as usize],
            c,
            &mut stats,
        )?);
    }
    timer.lap("define functions");

    // Export trampolines.
    let mut trampolines = HashMap::new();
    for export in module
        .exports
        .iter()
        .filter(|e| e.kind == kiln_runtime::abi::extern_kind::FUNC)
    {
        if trampolines.contains_key(&export.index) {
            continue;
        }
        let sig = environ::array_call_signature(env.call_conv);
        let id = object.declare_function(
            &format!("{name}.export{}", export.index),
            Linkage::Local,
            &sig,
        )?;
        let func = trampoline::export_trampoline(&env, export.index, &mut fbc)?;
        let c = compile(&mut ctx, func, &*isa, id, None)?;
        define(&mut object, &mut text, id, c, &mut stats)?;
        trampolines.insert(export.index, id);
    }
    text.finish(&mut object)?;

    // The descriptor.
    let blob = descriptor::build(&descriptor::Inputs {
        module,
        name,
        wasm_sha256,
        funcs: &funcs,
        trampolines: &trampolines,
        explicit_bounds_checks: target.bounds_checks == crate::target::BoundsChecks::Explicit,
        cpu_feature_flags: target.cpu_feature_flags(),
    });
    blob.define(&mut object, name)?;
    timer.lap("trampolines+descriptor");

    let product = object.finish();
    let bytes = product
        .emit()
        .map_err(|e| anyhow!("writing the object: {e}"))?;
    timer.lap("write object");
    stats.functions = module.funcs.len();
    Ok((bytes, stats))
}

/// The tier of each function: with a profile, the optimising tier for the
/// functions it saw and the fast tier for the rest; without one, the tier of
/// the optimisation level.
fn tiers<'p>(
    target: &'p Target,
    wasm_sha256: &[u8; 32],
) -> Result<impl Fn(u32) -> Tier + Sync + 'p> {
    let all = match target.options.opt_level.as_str() {
        "none" => Tier::Fast,
        _ => Tier::Optimized,
    };
    let hot = match (&target.options.profile, all) {
        (Some(profile), Tier::Optimized) => Some(profile.functions_of(wasm_sha256)?),
        _ => None,
    };
    Ok(move |index: u32| match hot {
        Some(hot) if hot.binary_search(&index).is_err() => Tier::Fast,
        _ => all,
    })
}

/// Where the loop vectorizer may run: x86_64 and aarch64 have 128-bit
/// vectors in their baseline; riscv64 code needs V (and VLEN >= 128)
/// enabled for Cranelift, and then tests the core at run time, since a
/// core without V must still run scalar modules.
fn vectorize(isa: &dyn cranelift_codegen::isa::TargetIsa) -> Vectorize {
    let flag = |name: &str| {
        isa.isa_flags()
            .iter()
            .any(|v| v.name == name && v.as_bool() == Some(true))
    };
    match isa.triple().architecture {
        target_lexicon::Architecture::X86_64 | target_lexicon::Architecture::Aarch64(_) => {
            Vectorize::On
        }
        target_lexicon::Architecture::Riscv64(_) if flag("has_v") && flag("has_zvl128b") => {
            Vectorize::WhenPresent
        }
        _ => Vectorize::Off,
    }
}

fn function_label(module: &ModuleInfo<'_>, index: u32) -> String {
    match module.func_names.get(&index) {
        Some(name) => format!("in function {index} ({name})"),
        None => format!("in function {index}"),
    }
}

/// Runs `f`, turning a panic inside it (an internal error in the translator
/// or in Cranelift) into an error, so that a bad function gets one line
/// naming it instead of a crash of the whole compiler.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(anyhow!(
            "internal compiler error: {}",
            crate::panic_message(&*payload)
        )),
    }
}

/// What the optimising tier does to a function before Cranelift's passes.
#[derive(Clone, Copy)]
struct Optimize<'a, 'i> {
    inliner: &'a translate::inline::Inliner<'i>,
    /// Where small loops keep their constants in registers.
    loop_constants: Option<Encoding>,
    /// `i32` divisions by constants become 64-bit multiplies.
    divisions: bool,
    /// `i32` loads that are extended are loaded extended (riscv64).
    extended_loads: bool,
}

/// Runs Cranelift on one function; `optimize` for the optimising tier.
fn compile(
    ctx: &mut Context,
    func: ir::Function,
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    id: FuncId,
    optimize: Option<Optimize<'_, '_>>,
) -> Result<Compiled> {
    guarded(|| compile_unguarded(ctx, func, isa, id, optimize))
}

fn compile_unguarded(
    ctx: &mut Context,
    func: ir::Function,
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    id: FuncId,
    optimize: Option<Optimize<'_, '_>>,
) -> Result<Compiled> {
    ctx.clear();
    ctx.func = func;
    if let Some(optimize) = optimize {
        ctx.inline(optimize.inliner)
            .map_err(|e| anyhow!("Cranelift failed to inline: {e:?}"))?;
        // Before the loop constants, which then hold the multipliers.
        if optimize.divisions {
            translate::constant_division::expand_constant_divisions(&mut ctx.func);
        }
        if optimize.extended_loads {
            translate::extended_loads::load_extended(&mut ctx.func);
        }
        // After inlining: a loop whose only calls were inlined has none left.
        if let Some(encoding) = optimize.loop_constants {
            translate::loop_constants::keep_loop_constants(&mut ctx.func, encoding);
        }
    }
    let code = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| anyhow!("Cranelift failed: {:?}", e.inner))?;
    // The backend's preferred function alignment (32 bytes on x86_64 and
    // aarch64), not just the minimum its code needs: packed at byte
    // alignment, where a hot loop falls relative to 32-byte fetch blocks
    // changed with every unrelated change to the firmware's layout, and a
    // matrix-multiply kernel ran 15 % slower or faster for it.
    let alignment =
        u64::from(code.buffer.alignment).max(u64::from(isa.function_alignment().preferred));
    let placement = layout::Placement::new(isa, code.buffer.alignment);
    let start = placement.and_then(|p| {
        p.best_start(
            &code.bb_starts,
            &code.bb_edges,
            code.buffer.data().len() as u32,
        )
    });
    let start_alignment = placement.map_or(alignment, |p| u64::from(p.step));
    let bytes = code.buffer.data().to_vec();
    let mut traps = Vec::new();
    for t in code.buffer.traps() {
        let kind =
            environ::trap_kind(t.code).ok_or_else(|| anyhow!("unknown trap code {}", t.code))?;
        traps.push((t.offset, kind as u8));
    }
    traps.sort_unstable();
    let code = ctx
        .compiled_code()
        .ok_or_else(|| anyhow!("no compiled code"))?;
    let relocs = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    Ok(Compiled {
        bytes,
        alignment,
        relocs,
        traps,
        start,
        start_alignment,
    })
}

/// Baseline machine code as the object wants it: its direct calls as
/// PC-relative relocations to the callees' symbols.
fn from_baseline(
    code: crate::baseline::MachineCode,
    isa: &dyn cranelift_codegen::isa::TargetIsa,
) -> Compiled {
    let relocs = code
        .calls
        .iter()
        .map(|&(offset, callee)| ModuleReloc {
            offset,
            kind: code.call_reloc,
            name: cranelift_module::ModuleRelocTarget::user(translate::NAMESPACE_FUNC, callee),
            addend: code.call_addend,
        })
        .collect();
    let alignment = u64::from(isa.function_alignment().preferred);
    Compiled {
        bytes: code.bytes,
        alignment,
        relocs,
        traps: code.traps,
        start: None,
        start_alignment: alignment,
    }
}

/// How many functions the baseline compiler took, and why it left the
/// others to Cranelift (`KILN_TIMINGS`).
#[derive(Default)]
struct Declined {
    compiled: std::sync::atomic::AtomicUsize,
    reasons: std::sync::Mutex<HashMap<&'static str, usize>>,
}

impl Declined {
    fn record(&self, why: Option<&'static str>) {
        match why {
            None => {
                self.compiled
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Some(why) => {
                if let Ok(mut r) = self.reasons.lock() {
                    *r.entry(why).or_default() += 1;
                }
            }
        }
    }

    fn print(&self) {
        let compiled = self.compiled.load(std::sync::atomic::Ordering::Relaxed);
        let Ok(reasons) = self.reasons.lock() else {
            return;
        };
        if compiled == 0 && reasons.is_empty() {
            return;
        }
        let mut reasons: Vec<_> = reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        let list: Vec<String> = reasons.iter().map(|(w, n)| format!("{w} {n}")).collect();
        eprintln!(
            "kiln: baseline compiler: {compiled} functions; left to Cranelift: {}",
            if list.is_empty() {
                "none".into()
            } else {
                list.join(", ")
            }
        );
    }
}

fn define(
    object: &mut ObjectModule,
    text: &mut layout::Text,
    id: FuncId,
    mut c: Compiled,
    stats: &mut Stats,
) -> Result<FuncCode> {
    stats.code_bytes += c.bytes.len();
    let code = FuncCode {
        id,
        len: c.bytes.len() as u32,
        traps: std::mem::take(&mut c.traps),
    };
    text.define(object, id, c)?;
    Ok(code)
}

/// CPU time per phase summed over the worker threads, and the functions
/// that took longest (`KILN_TIMINGS`): where compile time goes.
#[derive(Default)]
struct PassStats {
    translate: std::time::Duration,
    total: std::time::Duration,
    cranelift: cranelift_codegen::timing::PassTimes,
    /// (time, function index, body bytes), the slowest few.
    slowest: Vec<(std::time::Duration, u32, usize)>,
}

impl PassStats {
    fn record(
        &mut self,
        index: u32,
        bytes: usize,
        translate: std::time::Duration,
        total: std::time::Duration,
        cranelift: &cranelift_codegen::timing::PassTimes,
    ) {
        self.translate += translate;
        self.total += total;
        self.cranelift.add(cranelift);
        self.slowest.push((total, index, bytes));
        if self.slowest.len() > 64 {
            self.slowest.sort_unstable_by(|a, b| b.cmp(a));
            self.slowest.truncate(8);
        }
    }

    fn print(&self, module: &ModuleInfo<'_>) {
        eprintln!(
            "kiln: CPU time in functions: {:.3} s, of which Wasm to IR {:.3} s; Cranelift passes:",
            self.total.as_secs_f64(),
            self.translate.as_secs_f64()
        );
        eprint!("{}", self.cranelift);
        let mut slowest = self.slowest.clone();
        slowest.sort_unstable_by(|a, b| b.cmp(a));
        for (time, index, bytes) in slowest.iter().take(8) {
            eprintln!(
                "kiln:   {:.3} s  {} ({bytes} bytes of Wasm)",
                time.as_secs_f64(),
                function_label(module, *index)
            );
        }
    }
}

/// Phase timings on stderr when `KILN_TIMINGS` is set (for compile-time work).
struct Timer {
    start: std::cell::Cell<std::time::Instant>,
    enabled: bool,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            start: std::cell::Cell::new(std::time::Instant::now()),
            enabled: std::env::var_os("KILN_TIMINGS").is_some(),
        }
    }

    fn lap(&self, what: &str) {
        if self.enabled {
            let now = std::time::Instant::now();
            eprintln!(
                "kiln: {what}: {:.3} s",
                (now - self.start.get()).as_secs_f64()
            );
            self.start.set(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::guarded;
    use object::{Object as _, ObjectSection as _};

    #[test]
    fn a_panic_while_compiling_becomes_a_one_line_error() {
        let err = guarded::<()>(|| panic!("no rule matched\nsecond line"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("internal compiler error: no rule matched")
        );
    }

    /// An interpreter's dispatch loop in Wasm: a `br_table` over `cases`
    /// cases, each with a short `if` inside and a jump to the loop's end.
    fn dispatch_loop(cases: usize) -> String {
        let labels: Vec<String> = (0..cases).map(|i| format!("$c{i}")).collect();
        let mut wat = String::from(
            "(module (memory 1)
              (func (export \"run\") (param $op i32) (param $p i32) (result i32) (local $acc i32)
                (loop $top (block $done\n",
        );
        for label in &labels {
            wat += &format!("(block {label} ");
        }
        wat += &format!("(br_table {} (local.get $op)))\n", labels.join(" "));
        for i in 0..cases {
            let close = if i + 1 < cases { ")" } else { "" };
            wat += &format!(
                "(local.set $acc (i32.add (local.get $acc) (i32.load offset={o} (local.get $p))))
                 (if (i32.lt_s (local.get $acc) (i32.const {i}))
                   (then (local.set $acc (i32.mul (local.get $acc) (i32.const 3))))
                   (else (local.set $acc (i32.xor (local.get $acc) (local.get $op)))))
                 (i32.store offset={o} (local.get $p) (local.get $acc))
                 (br $done){close}\n",
                o = 4 * i
            );
        }
        wat += ")
                (local.set $op (i32.add (local.get $op) (i32.const 1)))
                (br_if $top (i32.lt_u (local.get $op) (i32.const 400))))
                (local.get $acc)))";
        wat
    }

    /// riscv64 branch veneers (`auipc t6, hi; jalr zero, lo(t6)`) in an
    /// object's code, found at every halfword (the code is compressed).
    fn riscv64_veneers(object: &[u8]) -> usize {
        let file = object::File::parse(object).expect("the object parses");
        let text = file.section_by_name(".text").expect("a .text section");
        let code = text.data().expect("the code");
        let word = |at: usize| {
            code.get(at..at + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        (0..code.len())
            .step_by(2)
            .filter(|&at| {
                word(at).is_some_and(|w| w & 0xfff == 0xf97)
                    && word(at + 4).is_some_and(|w| w & 0xf_ffff == 0xf_8067)
            })
            .count()
    }

    /// In a function much larger than a conditional branch's 4 KiB reach,
    /// short branches reach their targets directly. Cranelift 0.135 as
    /// published counted every pending jump (the jump table's entries too)
    /// into the size of the next island, so that in such a function an
    /// island followed nearly every instruction and branches hopped
    /// through veneers: this function had 2,841 of them, and 286 with
    /// `c.j` still used for every forward jump (see vendor/README.md).
    #[test]
    fn large_riscv64_functions_branch_without_veneers() {
        let wasm = wat::parse_str(dispatch_loop(300)).expect("the test module assembles");
        let options = crate::CompileOptions::new("riscv64gc-unknown-none-elf");
        let compiled = crate::compile(&wasm, &options, &|_, _| {}).expect("it compiles");
        let veneers = riscv64_veneers(&compiled.object);
        assert!(veneers <= 4, "{veneers} branch veneers");
    }
}
