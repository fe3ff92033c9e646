//! Compilation targets: the triples users name, the triple Cranelift needs for
//! them, and the ISA flags Kiln compiles with on each architecture.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use target_lexicon::{Architecture, Triple};

use crate::profile::Profile;

/// The triples `kiln compile --target` accepts.
pub const SUPPORTED: &[&str] = &[
    "x86_64-unknown-linux-gnu",
    "x86_64-unknown-none",
    "aarch64-unknown-linux-gnu",
    "aarch64-unknown-none",
    "riscv64gc-unknown-linux-gnu",
    "riscv64gc-unknown-none-elf",
];

/// Code generation options that change the machine code (and so take part
/// in the compile cache key).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct CodegenOptions {
    /// Cranelift optimisation level: "none", "speed" or "speed_and_size".
    /// "none" is the fast tier (see [`Tier::Fast`]).
    pub opt_level: String,
    /// Run Cranelift's IR verifier on every function (slow; for debugging).
    pub verify: bool,
    /// Extra ISA flags (`name` or `name=value`), e.g. `has_avx`; `native`
    /// stands for this machine's CPU, `baseline` for none (see
    /// [`resolve_isa_flags`]).
    pub isa_flags: Vec<String>,
    /// Kiln optimisations left out, from `KILN_DISABLE` (comma-separated
    /// names from [`OPTIMIZATIONS`]), to measure what each one gives.
    pub disable: Vec<String>,
    /// Guard regions instead of explicit bounds checks: `None` takes the
    /// target's default (guard regions on Linux, explicit checks on bare
    /// metal); a board with an MMU mapping of its own asks for them
    /// (`bounds-checks = "guard"` in its board.toml).
    pub guard_regions: Option<bool>,
    /// Profile-guided tiers (`--profile`): only the functions the profile
    /// saw run get `opt_level`, every other function the fast tier. `None`:
    /// every function gets `opt_level`.
    pub profile: Option<Profile>,
}

/// The optimisations `KILN_DISABLE` can leave out (docs/performance.md):
/// `guard`: guard regions instead of explicit bounds checks on Linux
/// targets; `inline`: inlining of small leaf functions into direct callers;
/// `known`: forwarding of known linear-memory contents in straight-line
/// code; `checks`: explicit bounds checks left out where an earlier check
/// on the path already covers the access; `sext`: guard-region addresses
/// `x + C` computed as `sext(x) + C`; `pin`: the fast tier's most used
/// integer locals in callee-saved registers; `align`: functions placed so
/// that their loops span the fewest fetch windows (emit/layout.rs);
/// `cmp64`: on riscv64, i32 comparisons made on sign-extended operands
/// (translate/numeric.rs); `anchor`: on riscv64 and aarch64, access
/// offsets the load or store cannot encode moved into the address
/// (translate/anchors.rs); `vector`: straight-line `f64`, `f32` and `i32`
/// loops run a vector's worth of iterations at a time
/// (translate/vectorize); `grow`: with explicit checks, functions that
/// cannot grow memory load its base and length once (translate/growth.rs);
/// `loopconst`: on riscv64 and aarch64, constants that cost an instruction
/// at each use built once before small loops (translate/loop_constants.rs);
/// `divide`: `i32` division and remainder by a constant as one 64-bit
/// multiply (translate/constant_division.rs); `sload`: on riscv64, `i32`
/// loads that are extended or branched on loaded extended
/// (translate/extended_loads.rs); `globals`: on riscv64 with guard
/// regions, accesses at constant addresses beyond 2 KiB through a shared
/// `base | 4096 * k` (translate/anchors.rs).
pub const OPTIMIZATIONS: &[&str] = &[
    "guard",
    "inline",
    "known",
    "checks",
    "sext",
    "pin",
    "align",
    "cmp64",
    "anchor",
    "vector",
    "grow",
    "loopconst",
    "divide",
    "sload",
    "globals",
];

impl Default for CodegenOptions {
    fn default() -> Self {
        let disable = std::env::var("KILN_DISABLE")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        CodegenOptions {
            opt_level: "speed".to_string(),
            verify: false,
            isa_flags: Vec::new(),
            disable,
            guard_regions: None,
            profile: None,
        }
    }
}

impl CodegenOptions {
    /// Whether optimisation `name` (one of [`OPTIMIZATIONS`]) is on.
    pub fn enabled(&self, name: &str) -> bool {
        !self.disable.iter().any(|d| d == name)
    }
}

/// How compiled code keeps linear-memory accesses in bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundsChecks {
    /// Every access compares its end with the memory's current length and
    /// traps past it. Works on any core; the memory may move when it grows.
    Explicit,
    /// No checks: the runtime places each memory at the start of a
    /// reservation of 4 GiB plus a guard region that never moves, mapping
    /// only the bytes the memory has. An access outside faults, and the
    /// fault handler finds the access in the trap table. Needs a board with
    /// virtual memory (`kiln_runtime::board::VirtualMemory`).
    Guard,
}

/// A resolved compilation target.
#[derive(Clone)]
pub struct Target {
    /// The triple as the user gave it.
    pub name: String,
    /// Cranelift at the chosen optimisation level.
    pub isa: Arc<dyn isa::TargetIsa>,
    /// Cranelift for the fast tier (see [`Tier::Fast`]).
    pub fast_isa: Arc<dyn isa::TargetIsa>,
    pub bounds_checks: BoundsChecks,
    pub options: CodegenOptions,
    /// The ISA flags beyond Kiln's baseline, `native` resolved.
    pub isa_flags: Vec<String>,
}

impl Target {
    /// The host this compiler runs on, as a `kiln compile --target` name.
    pub fn host_name() -> &'static str {
        if cfg!(target_arch = "aarch64") {
            "aarch64-unknown-linux-gnu"
        } else if cfg!(target_arch = "riscv64") {
            "riscv64gc-unknown-linux-gnu"
        } else {
            "x86_64-unknown-linux-gnu"
        }
    }

    pub fn new(name: &str, options: &CodegenOptions) -> Result<Target> {
        if let Some(bad) = options
            .disable
            .iter()
            .find(|d| !OPTIMIZATIONS.contains(&d.as_str()))
        {
            bail!(
                "KILN_DISABLE: unknown optimisation `{bad}`; known: {}",
                OPTIMIZATIONS.join(", ")
            );
        }
        if !SUPPORTED.contains(&name) {
            bail!(
                "unsupported target `{name}`; supported targets: {}",
                SUPPORTED.join(", ")
            );
        }
        // Cranelift needs an explicit object format for bare-metal triples.
        let cranelift_name = match name {
            "x86_64-unknown-none" => "x86_64-unknown-none-elf",
            "aarch64-unknown-none" => "aarch64-unknown-none-elf",
            other => other,
        };
        let triple = Triple::from_str(cranelift_name)
            .map_err(|e| anyhow::anyhow!("bad target triple `{name}`: {e}"))?;

        let isa_flags = resolve_isa_flags(&options.isa_flags, &triple.architecture)?;
        let build = |level, fast| build_isa(&triple, name, options, &isa_flags, level, fast);
        let fast_isa: Arc<dyn isa::TargetIsa> = build("none", true)?;
        let isa = match options.opt_level.as_str() {
            "none" => fast_isa.clone(),
            level => build(level, false)?,
        };
        Ok(Target {
            name: name.to_string(),
            isa,
            fast_isa,
            bounds_checks: match (options.enabled("guard"), options.guard_regions) {
                (false, _) | (_, Some(false)) => BoundsChecks::Explicit,
                (true, Some(true)) => BoundsChecks::Guard,
                (true, None) => bounds_checks(&triple),
            },
            options: options.clone(),
            isa_flags,
        })
    }

    /// The descriptor flags naming the CPU features the code may use beyond
    /// the baseline, for the runtime to check (`abi::CPU_FEATURE_FLAGS`).
    pub fn cpu_feature_flags(&self) -> u32 {
        kiln_runtime::abi::CPU_FEATURE_FLAGS
            .iter()
            .filter(|(name, _)| self.isa_flags.iter().any(|f| f == name))
            .map(|(_, bit)| bit)
            .sum()
    }

    pub fn pointer_bytes(&self) -> u8 {
        self.isa.pointer_bytes()
    }
}

/// Which code generator compiles a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// Cranelift at the chosen optimisation level: the best code.
    Optimized,
    /// The cheapest compile: Cranelift without its mid-end optimisations
    /// and with its single-pass register allocator, about half of the
    /// optimised compile's CPU time for code about twice as slow. For code
    /// that runs little: the functions a profile did not see, or everything
    /// with `--opt-level none`.
    Fast,
}

/// Cranelift configured for `triple` with Kiln's flags; `fast_regalloc`
/// picks the single-pass register allocator.
fn build_isa(
    triple: &Triple,
    name: &str,
    options: &CodegenOptions,
    isa_flags: &[String],
    opt_level: &str,
    fast_regalloc: bool,
) -> Result<OwnedTargetIsa> {
    let mut shared = settings::builder();
    let set = |b: &mut settings::Builder, k: &str, v: &str| {
        b.set(k, v)
            .with_context(|| format!("setting Cranelift flag {k}={v}"))
    };
    set(&mut shared, "opt_level", opt_level)?;
    if fast_regalloc {
        set(&mut shared, "regalloc_algorithm", "single_pass")?;
    }
    set(
        &mut shared,
        "enable_verifier",
        if options.verify { "true" } else { "false" },
    )?;
    // Kiln's objects are linked statically at fixed addresses.
    set(&mut shared, "is_pic", "false")?;
    // Traps resume through a saved context, not by unwinding.
    set(&mut shared, "unwind_info", "false")?;
    // Multi-value functions may return more values than registers.
    set(&mut shared, "enable_multi_ret_implicit_sret", "true")?;
    // Wasm's float semantics; NaN bits are free, so no canonicalisation.
    set(&mut shared, "enable_nan_canonicalization", "false")?;
    // Frames larger than the guard are still checked against the stack
    // limit in the prologue; no probing needed.
    set(&mut shared, "enable_probestack", "false")?;
    // Basic-block offsets and edges, to place functions by their loops.
    if options.enabled("align") {
        set(&mut shared, "machine_code_cfg_info", "true")?;
    }
    let shared = settings::Flags::new(shared);

    let mut builder = isa::lookup(triple.clone())
        .with_context(|| format!("Cranelift has no backend for `{name}`"))?;
    for flag in default_isa_flags(&triple.architecture) {
        builder
            .enable(flag)
            .with_context(|| format!("enabling ISA flag {flag} for {name}"))?;
    }
    for flag in isa_flags {
        let result = match flag.split_once('=') {
            Some((k, v)) => builder.set(k, v),
            None => builder.enable(flag),
        };
        result.with_context(|| format!("bad ISA flag `{flag}` for {name}"))?;
    }
    let isa: OwnedTargetIsa = builder
        .finish(shared)
        .with_context(|| format!("configuring Cranelift for {name}"))?;
    Ok(isa)
}

/// The ISA flags `flags` stand for on a target of architecture `arch`:
/// `native` becomes the features of the CPU this compiler runs on that
/// Cranelift can use (on an x86_64 host: AVX, AVX2, FMA, BMI1/2, LZCNT,
/// AVX-512, as Wasmtime's default does; on other hosts none, since std
/// cannot detect riscv64's bit-manipulation extensions and Cranelift uses
/// aarch64's only for atomics), which needs a target of this machine's
/// architecture; `baseline` stands for nothing beyond Kiln's baseline.
pub fn resolve_isa_flags(flags: &[String], arch: &Architecture) -> Result<Vec<String>> {
    let mut resolved: Vec<String> = Vec::new();
    for flag in flags {
        let named: Vec<&str> = match flag.as_str() {
            "baseline" => Vec::new(),
            "native" => {
                let host = Triple::host().architecture;
                if host != *arch {
                    bail!(
                        "ISA flag `native` names this machine's CPU ({host}), but the target is {arch}"
                    );
                }
                native_isa_flags()
            }
            other => vec![other],
        };
        for name in named {
            if !resolved.iter().any(|r| r == name) {
                resolved.push(name.to_string());
            }
        }
    }
    Ok(resolved)
}

/// The features of this machine's CPU, as Cranelift flags, that Kiln's
/// baseline does not already assume: the runtime's own detection, so that
/// what is compiled here is what the runtime accepts here.
fn native_isa_flags() -> Vec<&'static str> {
    if cfg!(target_arch = "x86_64") {
        kiln_runtime::cpu::available().collect()
    } else {
        Vec::new()
    }
}

/// Linux targets (the host board, a process) can reserve address space for
/// guard regions; a bare-metal target may be a core without an MMU, so it
/// keeps explicit checks unless a board asks for guard regions (every QEMU
/// board does, through its board.toml).
fn bounds_checks(triple: &Triple) -> BoundsChecks {
    match triple.operating_system {
        target_lexicon::OperatingSystem::Linux => BoundsChecks::Guard,
        _ => BoundsChecks::Explicit,
    }
}

/// The ISA baseline Kiln assumes per architecture. x86_64: x86-64-v2 (SSE4.2,
/// POPCNT: every x86_64 CPU since 2009, and QEMU's `-cpu max`), which also
/// lets Cranelift round floats inline instead of calling libm. aarch64:
/// ARMv8.0 (SIMD through NEON, always present). riscv64: RV64GC (the `C`
/// part is Zca + Zcd) plus V with VLEN >= 128 for Wasm SIMD: Cranelift
/// emits vector instructions only for `v128` code (the flags change nothing
/// in scalar code), so a module without SIMD still runs on a core without V.
fn default_isa_flags(arch: &Architecture) -> &'static [&'static str] {
    match arch {
        Architecture::X86_64 => &[
            "has_sse3",
            "has_ssse3",
            "has_sse41",
            "has_sse42",
            "has_popcnt",
        ],
        Architecture::Riscv64(_) => &["has_zca", "has_zcd", "has_v", "has_zvl128b"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_target_builds() {
        for name in SUPPORTED {
            let t = Target::new(name, &CodegenOptions::default()).unwrap();
            assert_eq!(t.pointer_bytes(), 8, "{name}");
        }
    }

    #[test]
    fn unknown_target_is_refused_with_the_list() {
        let err = Target::new("mips-unknown-none", &CodegenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("unsupported target `mips-unknown-none`"),
            "{err}"
        );
        assert!(err.contains("riscv64gc-unknown-none-elf"), "{err}");
    }

    /// `native` resolves to this machine's features (and is refused for a
    /// foreign architecture); the descriptor names the checked ones.
    #[test]
    fn native_isa_flags_are_this_machine_s() {
        let native = CodegenOptions {
            isa_flags: vec!["native".into(), "baseline".into()],
            ..CodegenOptions::default()
        };
        let t = Target::new(Target::host_name(), &native).expect("host target");
        assert_eq!(t.isa_flags, native_isa_flags());
        for (name, bit) in kiln_runtime::abi::CPU_FEATURE_FLAGS {
            let named = t.isa_flags.iter().any(|f| f == name);
            assert_eq!(t.cpu_feature_flags() & bit != 0, named, "{name}");
        }
        let foreign = if cfg!(target_arch = "aarch64") {
            "riscv64gc-unknown-none-elf"
        } else {
            "aarch64-unknown-none"
        };
        let err = Target::new(foreign, &native)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.starts_with("ISA flag `native` names this machine's CPU"),
            "{err}"
        );
    }
}
